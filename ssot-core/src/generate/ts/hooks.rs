//! React hooks: TanStack Query v5 queries, mutations and a realtime subscription per model.

use super::doc::{self, Doc, verbatim};
use super::js::{self, Body, E, P, T, call, id, param, str_lit, ty, ty_args};
use super::lower_first;
use crate::generate::HEADER;
use crate::ir::*;
use crate::names::{file_stem, ts_key, ts_type};

/// TanStack Query v5 hooks of one model: list, count, one row, create, update, delete, and a
/// subscription that keeps the cache current from realtime events.
pub(super) fn hooks(m: &Model, realtime: bool) -> String {
    let name = ts_type(&m.name);
    let var = lower_first(&name);
    let stem = file_stem(&m.name);
    let writable = m.kind == ModelKind::Model;
    let has_id = !m.id_fields().is_empty() && writable;
    let live = realtime && m.annotations.realtime.is_some();
    let mut types = vec![format!("{name}Field"), format!("{name}Include"), format!("{name}Where")];
    if has_id {
        types.push(name.clone());
    }
    if writable {
        types.push(format!("{name}CreateInput"));
        types.push(format!("{name}UpdateInput"));
    }
    if has_id {
        types.push(format!("{name}Id"));
    }
    types.sort();
    let mut react_query = vec!["useQuery"];
    if writable {
        react_query.insert(0, "useMutation");
        react_query.push("useQueryClient");
    } else if live {
        react_query.push("useQueryClient");
    }
    let mut sdk_types = vec!["ListParams".to_owned()];
    if live {
        sdk_types.insert(0, "HybridDataClient".into());
        sdk_types.push("RealtimeEvent".into());
    }
    let mut imports =
        vec![super::import_line(false, &react_query.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(), "@tanstack/react-query")];
    if live {
        imports.push("import { useEffect, useRef } from \"react\";".into());
    }
    imports.push(super::import_line(true, &types, &format!("../contracts/{stem}.js")));
    imports.push(super::import_line(true, &sdk_types, "../sdk/index.js"));
    if live {
        imports.push("import { applyEvent, resync } from \"./cache.js\";".into());
    }
    imports.push("import { useDataClient } from \"./context.js\";".into());

    let mut s = format!(
        "// {HEADER}\n\n// TanStack Query hooks of {name}: queries and mutations through the client of `SsotProvider`{}.\n{}\n\n",
        if live { ", live\n// cache updates from the realtime gateway" } else { "" },
        imports.join("\n"),
    );
    let t = |s: String| ty(s);
    let tn = |suffix: &str| ty(format!("{name}{suffix}"));
    let as_const = |items: Vec<E>| E::As(Box::new(E::Arr(items)), ty("const"));
    let key_tuple = |op: &str, rest: &[&str]| {
        let mut items = vec![str_lit(&var), str_lit(op)];
        items.extend(rest.iter().map(|r| id(*r)));
        js::return_stmt(&as_const(items))
    };
    let with_default = |mut p: js::Param, d: E| {
        p.default = Some(d);
        p
    };
    let list_params = || with_default(param("params", Some(tn("ListParams"))), E::Obj(vec![], false));
    let where_param = || with_default(param("where", Some(tn("Where"))), E::Obj(vec![], false));
    let include_param = || with_default(param("include", Some(T::Array(Box::new(tn("Include"))))), E::Arr(vec![]));
    let id_param = || param("id", Some(tn("Id")));
    let opt_id_param = || js::Param { optional: true, ..id_param() };
    let mut blocks =
        vec![js::type_alias(&format!("{name}ListParams"), &ty_args("ListParams", vec![tn("Where"), tn("Field"), tn("Include")]))];
    let mut keys = vec![
        P::Kv("all".into(), as_const(vec![str_lit(&var)])),
        P::Method("list".into(), vec![list_params()], None, key_tuple("list", &["params"])),
        P::Method("count".into(), vec![where_param()], None, key_tuple("count", &["where"])),
    ];
    if has_id {
        keys.push(P::Method("one".into(), vec![id_param(), include_param()], None, key_tuple("one", &["id", "include"])));
        keys.push(P::Method("permissions".into(), vec![opt_id_param()], None, key_tuple("permissions", &["id ?? null"])));
    } else {
        keys.push(P::Method("permissions".into(), vec![], None, key_tuple("permissions", &[])));
    }
    blocks.push(doc::concat([
        Doc::text(format!("/** Stable query keys of {name}; mutations invalidate `{var}Keys.all`. */")),
        doc::hardline(),
        js::const_decl(true, &format!("{var}Keys"), None, &E::Obj(keys, true)),
    ]));
    if has_id {
        let ids = m.id_fields();
        let body = if ids.len() == 1 {
            js::path(&format!("row.{}", ids[0]))
        } else {
            E::Obj(ids.iter().map(|f| P::Kv(ts_key(f), js::path(&format!("row.{f}")))).collect(), true)
        };
        blocks.push(doc::concat([
            Doc::text(format!("/** The id of a {name} row, as `{var}Keys.one` takes it. */")),
            doc::hardline(),
            js::const_decl(
                true,
                &format!("{var}IdOf"),
                None,
                &js::arrow(vec![param("row", Some(t(name.clone())))], Some(tn("Id")), Body::Expr(body)),
            ),
        ]));
    }
    let client_var = verbatim("const client = useDataClient();");
    let qc_var = verbatim("const qc = useQueryClient();");
    let no_params = |body: E| js::arrow(vec![], None, Body::Expr(body));
    let query_hook = |doc_: String, fname: String, params: Vec<js::Param>, key: E, query: E| {
        let call_ =
            call(id("useQuery"), vec![E::Obj(vec![P::Kv("queryKey".into(), key), P::Kv("queryFn".into(), no_params(query))], true)]);
        doc::concat([
            Doc::text(doc_),
            doc::hardline(),
            js::function(true, &fname, &params, None, &js::statements([client_var.clone(), js::return_stmt(&call_)])),
        ])
    };
    blocks.push(query_hook(
        format!("/** A page of {name} rows. */"),
        format!("use{name}List"),
        vec![list_params()],
        js::call_path(&format!("{var}Keys.list"), vec![id("params")]),
        js::call_path(&format!("client.{var}.list"), vec![id("params")]),
    ));
    blocks.push(query_hook(
        format!("/** The number of {name} rows matching `where`. */"),
        format!("use{name}Count"),
        vec![where_param()],
        js::call_path(&format!("{var}Keys.count"), vec![id("where")]),
        js::call_path(&format!("client.{var}.count"), vec![id("where")]),
    ));
    if has_id {
        blocks.push(query_hook(
            format!("/** One {name} row. */"),
            format!("use{name}"),
            vec![id_param(), include_param()],
            js::call_path(&format!("{var}Keys.one"), vec![id("id"), id("include")]),
            js::call_path(&format!("client.{var}.get"), vec![id("id"), id("include")]),
        ));
    }
    // Models with an id also answer for one row.
    let (params, args, of_row) =
        if has_id { (vec![opt_id_param()], vec![id("id")], ", or with the row `id` names") } else { (vec![], vec![], "") };
    blocks.push(query_hook(
        format!("/** What the caller may do with {name} rows{of_row}. */"),
        format!("use{name}Permissions"),
        params,
        js::call_path(&format!("{var}Keys.permissions"), args.clone()),
        js::call_path(&format!("client.{var}.permissions"), args),
    ));
    let invalidate = P::Kv(
        "onSuccess".into(),
        no_params(js::call_path(
            "qc.invalidateQueries",
            vec![E::Obj(vec![P::Kv("queryKey".into(), js::path(&format!("{var}Keys.all")))], false)],
        )),
    );
    let mutation_hook = |fname: String, mutation: P| {
        let call_ = call(id("useMutation"), vec![E::Obj(vec![mutation, invalidate.clone()], true)]);
        js::function(true, &fname, &[], None, &js::statements([client_var.clone(), qc_var.clone(), js::return_stmt(&call_)]))
    };
    if writable {
        blocks.push(mutation_hook(
            format!("useCreate{name}"),
            P::Kv(
                "mutationFn".into(),
                js::arrow(
                    vec![param("input", Some(tn("CreateInput")))],
                    None,
                    Body::Expr(js::call_path(&format!("client.{var}.create"), vec![id("input")])),
                ),
            ),
        ));
    }
    if has_id {
        let v = param("v", Some(T::Object(vec![("id".into(), false, tn("Id")), ("input".into(), false, tn("UpdateInput"))])));
        let update = js::return_stmt(&js::call_path(&format!("client.{var}.update"), vec![js::path("v.id"), js::path("v.input")]));
        blocks.push(mutation_hook(format!("useUpdate{name}"), P::Method("mutationFn".into(), vec![v], None, update)));
        blocks.push(mutation_hook(
            format!("useDelete{name}"),
            P::Kv(
                "mutationFn".into(),
                js::arrow(vec![id_param()], None, Body::Expr(js::call_path(&format!("client.{var}.delete"), vec![id("id")]))),
            ),
        ));
    }
    if live && has_id {
        let on_event = js::Param {
            optional: true,
            ..param("onEvent", Some(T::Fn(vec![param("e", Some(ty_args("RealtimeEvent", vec![t(name.clone())])))], Box::new(ty("void")))))
        };
        let filter = js::Param { optional: true, ..param("filter", Some(tn("Where"))) };
        let handler = js::arrow(
            vec![param("e", None)],
            None,
            Body::Block(js::statements([
                js::expr_stmt(&call(id("applyEvent"), vec![id("qc"), str_lit(&var), id(format!("{var}IdOf")), id("e")])),
                verbatim("handler.current?.(e);"),
            ])),
        );
        let resync = js::arrow(vec![], None, Body::Expr(call(id("resync"), vec![id("qc"), str_lit(&var)])));
        let subscribe = js::call_path("(client as HybridDataClient).subscribe", vec![str_lit(&var), handler, id("where"), resync]);
        let effect = js::statements([
            verbatim("if (!(\"subscribe\" in client)) return undefined;"),
            js::const_decl(false, "where", None, &E::As(Box::new(js::call_path("JSON.parse", vec![id("key")])), tn("Where"))),
            js::return_stmt(&subscribe),
        ]);
        let body = js::statements([
            client_var.clone(),
            qc_var.clone(),
            verbatim("const handler = useRef(onEvent);\nhandler.current = onEvent;\nconst key = JSON.stringify(filter ?? {});"),
            doc::concat(["useEffect(() => ".into(), js::block(&effect), ", [client, qc, key]);".into()]),
        ]);
        blocks.push(doc::concat([
            verbatim(&format!("/**\n * While mounted, subscribes to {name} changes (with a `HybridDataClient`) and applies them to\n * the cached {name} queries (refetched after a reconnect); `onEvent` sees every event too.\n */")),
            doc::hardline(),
            js::function(true, &format!("use{name}Subscription"), &[filter, on_event], Some(&ty("void")), &body),
        ]));
    }
    let blank = doc::concat([doc::hardline(), doc::hardline()]);
    s.push_str(&js::render(&doc::join(blank, blocks)));
    s.push('\n');
    s
}
