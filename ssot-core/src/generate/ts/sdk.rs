//! The SDK: a client class per model over a `Transport`, `DataClient`, and the hybrid
//! HTTP + WebSocket client of trees with realtime models.

use super::doc;
use super::js::{self, E, P, T, id, param, ty, ty_args};
use super::*;

/// The hybrid client of trees with `@@realtime` models (after the `Channels` interface).
const HYBRID: &str = r#"/**
 * A {@link DataClient} whose queries and mutations go over HTTP and whose subscriptions go over
 * the WebSocket gateway (one socket, opened at the first subscription, shared by all).
 */
export interface HybridDataClient extends DataClient {
  readonly realtime: WebSocketTransport;
  subscribe<C extends keyof Channels>(
    channel: C,
    handler: (e: RealtimeEvent<Channels[C]["row"]>) => void,
    filter?: Channels[C]["filter"],
    /** Events may have been missed (a reconnect, a server that lost some): refetch. */
    onResync?: () => void,
  ): () => void;
}

/** A {@link HybridDataClient}: HTTP for calls, WebSocket for subscriptions, one token for both. */
export function createHybridClient(
  options: HttpTransportOptions & ClientOptions & { realtime: WebSocketTransportOptions },
): HybridDataClient {
  const realtime = new WebSocketTransport({ token: options.token, ...options.realtime });
  return {
    ...createHttpClient(options),
    realtime,
    subscribe: (channel, handler, filter, onResync) =>
      realtime.subscribe(channel, handler, filter, onResync),
  };
}
"#;

/// The id segments of a row's path in a template literal over `id` (`${encodeURIComponent(String(id))}`,
/// or one segment per field of a compound id): what the SDK's clients and the plugins' SDK
/// functions put after `/api/<path>/`.
pub(crate) fn id_path(m: &Model) -> String {
    match m.id_fields().as_slice() {
        [_] => "${encodeURIComponent(String(id))}".to_owned(),
        many => many.iter().map(|f| format!("${{encodeURIComponent(String(id.{f}))}}")).collect::<Vec<_>>().join("/"),
    }
}

impl Gen<'_> {
    pub(super) fn model_client(&self, m: &Model) -> String {
        let name = ts_type(&m.name);
        let path = model_path(m);
        let stem = file_stem(&m.name);
        let writable = m.kind == ModelKind::Model && self.id_type(m).is_some();
        let mut contract_types = vec![name.clone(), format!("{name}Field"), format!("{name}Include"), format!("{name}Where")];
        let mut schemas = vec![format!("{name}Schema")];
        if writable {
            contract_types.extend([format!("{name}CreateInput"), format!("{name}Id"), format!("{name}UpdateInput")]);
        }
        contract_types.sort();
        schemas.sort();
        let mut sdk_types =
            vec!["ClientOptions".to_owned(), "ListParams".into(), "ListResult".into(), "Permissions".into(), "Transport".into()];
        sdk_types.push(if writable { "ModelClient".into() } else { "ReadClient".into() });
        sdk_types.sort();
        let imports = vec![
            import_line(true, &contract_types, &format!("../../contracts/{stem}.js")),
            import_line(false, &schemas, &format!("../../validators/{stem}.js")),
            import_line(false, &["filterQuery".into()], "../types.js"),
            import_line(true, &sdk_types, "../types.js"),
        ];
        let imports = merge_type_and_value(imports);
        let id_path = id_path(m);
        let doc = format!(
            "/** `/api/{path}`: {} */",
            m.documentation.as_deref().and_then(|d| d.lines().next()).unwrap_or("the API of this model.")
        );
        let t = |s: String| ty(s);
        let iface = if writable {
            let args = ["", "CreateInput", "UpdateInput", "Where", "Id", "Field", "Include"];
            ty_args("ModelClient", args.iter().map(|a| t(format!("{name}{a}"))).collect())
        } else {
            ty_args("ReadClient", ["", "Where", "Field", "Include"].iter().map(|a| t(format!("{name}{a}"))).collect())
        };
        let header = doc::concat([format!("export class {name}Client implements ").into(), js::type_doc(&iface), " {".into()]);
        let promise = |inner: T| ty_args("Promise", vec![inner]);
        let list_result = ty_args("ListResult", vec![t(name.clone())]);
        // `async name(params): Ret {` and the body's statements.
        let method = |name_: &str, params: Vec<js::Param>, ret: T, body: doc::Doc| {
            doc::concat([doc::Doc::text(name_), js::signature(&params, Some(&ret)), " ".into(), js::block(&body)])
        };
        let v = |text: &str| doc::verbatim(text);
        let opt = |mut p: js::Param| {
            p.optional = true;
            p
        };
        let mut members = vec![doc::verbatim(
            "constructor(\n  private readonly transport: Transport,\n  private readonly options: ClientOptions = {},\n) {}",
        )];
        let row_body = js::return_stmt(&E::Cond(
            Box::new(js::path("this.options.validateResponses")),
            Box::new(js::call_path(&format!("{name}Schema.parse"), vec![id("data")])),
            Box::new(id(format!("(data as {name})"))),
        ));
        members.push(method("private row", vec![param("data", Some(t("unknown".into())))], t(name.clone()), row_body));
        let mut list_params =
            param("params", Some(ty_args("ListParams", ["Where", "Field", "Include"].iter().map(|a| t(format!("{name}{a}"))).collect())));
        list_params.default = Some(E::Obj(vec![], false));
        members.push(method(
            "async list",
            vec![list_params],
            promise(list_result.clone()),
            v(&format!("const res = (await this.transport.request({{\n  method: \"GET\",\n  path: \"/api/{path}\",\n  query: {{\n    ...filterQuery(params.where),\n    orderBy: params.orderBy?.join(\",\"),\n    take: params.take,\n    skip: params.skip,\n    cursor: params.cursor,\n    include: params.include?.join(\",\"),\n  }},\n}})) as ListResult<unknown>;\nreturn {{ data: res.data.map((row) => this.row(row)), meta: res.meta }};")),
        ));
        members.push(method(
            "async count",
            vec![opt(param("where", Some(t(format!("{name}Where")))))],
            promise(t("number".into())),
            v(&format!("const res = (await this.transport.request({{\n  method: \"GET\",\n  path: \"/api/{path}/count\",\n  query: filterQuery(where),\n}})) as {{ count: number }};\nreturn res.count;")),
        ));
        if writable {
            let id_param = || param("id", Some(t(format!("{name}Id"))));
            let row_call = |method_: &str, path_: &str, extra: &str| {
                format!(
                    "return this.row(\n  await this.transport.request({{\n    method: \"{method_}\",\n    path: {path_},\n    {extra},\n  }}),\n);"
                )
            };
            let one_path = format!("`/api/{path}/{id_path}`");
            members.push(method(
                "async get",
                vec![id_param(), opt(param("include", Some(T::Array(Box::new(t(format!("{name}Include")))))))],
                promise(t(name.clone())),
                v(&row_call("GET", &one_path, "query: { include: include?.join(\",\") }")),
            ));
            members.push(method(
                "async create",
                vec![param("input", Some(t(format!("{name}CreateInput"))))],
                promise(t(name.clone())),
                v(&row_call("POST", &format!("\"/api/{path}\""), "body: input")),
            ));
            members.push(method(
                "async update",
                vec![id_param(), param("input", Some(t(format!("{name}UpdateInput"))))],
                promise(t(name.clone())),
                v(&row_call("PATCH", &one_path, "body: input")),
            ));
            members.push(method(
                "async delete",
                vec![id_param()],
                promise(t("void".into())),
                v(&format!("await this.transport.request({{\n  method: \"DELETE\",\n  path: {one_path},\n}});")),
            ));
        }
        let perms = |params: Vec<js::Param>, path_: &str| {
            method(
                "async permissions",
                params,
                promise(t("Permissions".into())),
                v(&format!("return (await this.transport.request({{\n  method: \"GET\",\n  path: {path_},\n}})) as Permissions;")),
            )
        };
        if writable {
            members.push(perms(
                vec![opt(param("id", Some(t(format!("{name}Id")))))],
                &format!("`/api/{path}${{id === undefined ? \"\" : `/{id_path}`}}/permissions`"),
            ));
        } else {
            members.push(perms(vec![], &format!("\"/api/{path}/permissions\"")));
        }
        if let Some(fields) = &m.annotations.search {
            members.push(doc::concat([
                doc::Doc::text(format!("/** Full-text search over {}. */", fields.join(", "))),
                doc::hardline(),
                method(
                    "async search",
                    vec![param("q", Some(t("string".into()))), opt(param("take", Some(t("number".into()))))],
                    promise(list_result),
                    v(&format!("const res = (await this.transport.request({{\n  method: \"GET\",\n  path: \"/api/{path}/search\",\n  query: {{ q, take }},\n}})) as ListResult<unknown>;\nreturn {{ data: res.data.map((row) => this.row(row)), meta: res.meta }};")),
                ),
            ]));
        }
        let class = doc::concat([
            doc.into(),
            doc::hardline(),
            header,
            doc::indent(doc::concat([doc::hardline(), doc::join(doc::concat([doc::hardline(), doc::hardline()]), members)])),
            doc::hardline(),
            "}".into(),
        ]);
        module(imports, vec![js::render(&class)])
    }

    pub(super) fn sdk_index(&self, models: &[&Model]) -> String {
        let mut imports = vec![
            "import { HttpTransport, type HttpTransportOptions } from \"./http.js\";".to_owned(),
            "import type { ClientOptions, Transport } from \"./types.js\";".to_owned(),
        ];
        // The transport too: the plugins' SDK functions (`./plugins/`) take it.
        let mut props = vec![
            "  /** The transport of every request (what the plugins' SDK functions take). */\n  readonly transport: Transport;".to_owned(),
        ];
        let mut inits = vec![P::Shorthand("transport".into())];
        let mut exports = vec!["export * from \"./http.js\";".to_owned(), "export * from \"./types.js\";".to_owned()];
        for m in models.iter().filter(|m| m.annotations.expose.api) {
            let name = ts_type(&m.name);
            let stem = file_stem(&m.name);
            let key = lower_first(&name);
            imports.push(import_line(false, &[format!("{name}Client")], &format!("./models/{stem}.js")));
            exports.push(format!("export * from \"./models/{stem}.js\";"));
            props.push(format!("  readonly {key}: {name}Client;"));
            inits.push(P::Kv(key, E::New(format!("{name}Client"), vec![id("transport"), id("options")])));
        }
        let iface = format!("/** Every model's client, over one transport. */\nexport interface DataClient {{\n{}\n}}", props.join("\n"));
        let mut options = param("options", Some(ty("ClientOptions")));
        options.default = Some(E::Obj(vec![], false));
        let create = format!(
            "/** A {{@link DataClient}} over any transport. */\n{}",
            js::render(&js::function(
                true,
                "createDataClient",
                &[param("transport", Some(ty("Transport"))), options],
                Some(&ty("DataClient")),
                &js::return_stmt(&E::Obj(inits, true)),
            ))
        );
        let http = format!(
            "/** A {{@link DataClient}} over HTTP. */\n{}",
            js::render(&js::function(
                true,
                "createHttpClient",
                &[param("options", Some(ty("HttpTransportOptions & ClientOptions")))],
                Some(&ty("DataClient")),
                &doc::verbatim("return createDataClient(new HttpTransport(options), options);"),
            ))
        );
        let mut blocks = vec![exports.join("\n"), iface, create, http];
        let channels: Vec<&&Model> = models.iter().filter(|m| m.annotations.expose.api && m.annotations.realtime.is_some()).collect();
        if server::has_realtime(self.ir) && !channels.is_empty() {
            imports.push("import { WebSocketTransport } from \"./realtime.js\";".into());
            imports.push("import type { RealtimeEvent, WebSocketTransportOptions } from \"./realtime.js\";".into());
            let mut rows = Vec::new();
            for m in &channels {
                let name = ts_type(&m.name);
                imports.push(import_line(
                    true,
                    &[name.clone(), format!("{name}Where")],
                    &format!("../contracts/{}.js", file_stem(&m.name)),
                ));
                let row = T::Object(vec![("row".into(), false, ty(name.clone())), ("filter".into(), false, ty(format!("{name}Where")))]);
                rows.push(doc::concat([format!("{}: ", lower_first(&name)).into(), js::type_doc(&row), ";".into()]));
            }
            blocks[0].push_str("\nexport * from \"./realtime.js\";");
            blocks.push(format!(
                "/** Channels of the realtime gateway: models with `@@realtime`, their rows and filters. */\n{}",
                js::render(&doc::concat([
                    "export interface Channels {".into(),
                    doc::indent(doc::concat([doc::hardline(), doc::join(doc::hardline(), rows)])),
                    doc::hardline(),
                    "}".into()
                ]))
            ));
            blocks.push(HYBRID.trim_end().to_owned());
        }
        module(imports, blocks)
    }
}
