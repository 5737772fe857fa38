//! The schema front end: Prisma's own validator (published as `saola-psl`, Prisma 6 level)
//! behind one module, so it can be swapped. Everything that touches psl types lives here; the
//! rest of the crate sees only [`crate::ir`].
//!
//! Prisma 7 removed `url` from the `datasource` block, which the Prisma 6 validator rejects. We
//! insert a placeholder `url` property into such blocks before validation and map every
//! diagnostic span back through the insertion, so positions are those of the user's file.

use crate::diagnostics::{Diagnostic, Report, Sources, Span};
use crate::ir::*;
use psl::parser_database::{self as db, ScalarFieldType};
use psl::schema_ast::ast::{self, WithSpan};
use saola_psl as psl;

/// A doc-comment line (`/// ...`) with the span of its text after the slashes.
#[derive(Debug, Clone)]
pub struct DocLine {
    pub text: String,
    pub span: Span,
}

/// Doc comments of one model (and of each of its fields), in IR order.
#[derive(Debug, Clone, Default)]
pub struct ModelDocs {
    pub model: Vec<DocLine>,
    pub fields: Vec<Vec<DocLine>>,
}

/// The front end's output: the IR without annotations, and the doc lines annotations are parsed
/// from (indexed like `ir.models`), plus warnings Prisma gave.
pub struct Parsed {
    pub ir: Ir,
    pub docs: Vec<ModelDocs>,
    pub enum_docs: Vec<Vec<DocLine>>,
    pub composite_docs: Vec<Vec<DocLine>>,
    pub warnings: Vec<Diagnostic>,
}

/// One inserted run of text in a file, to map spans back to the user's text.
#[derive(Debug, Clone, Copy)]
struct Insertion {
    at: usize,
    len: usize,
}

const URL_PLACEHOLDER: &str = "url = env(\"SSOT_PRISMA7_NO_URL\")\n";

/// Validates the schema files in `sources` with Prisma's validator and lowers them to IR.
pub fn parse(sources: &Sources) -> Result<Parsed, Report> {
    let mut patched: Vec<(String, String)> = Vec::new();
    let mut insertions: Vec<Option<Insertion>> = Vec::new();
    for f in sources.files() {
        let (text, ins) = patch_datasource_url(&f.text);
        patched.push((f.name.clone(), text));
        insertions.push(ins);
    }
    let inputs: Vec<(String, psl::SourceFile)> = patched.iter().map(|(n, t)| (n.clone(), psl::SourceFile::from(t.as_str()))).collect();
    let schema = psl::validate_multi_file_without_extensions(&inputs);

    let map_span = |s: psl::diagnostics::Span| -> Span {
        let file = s.file_id.0 as usize;
        let back = |o: usize| match insertions.get(file).copied().flatten() {
            Some(ins) if o >= ins.at + ins.len => o - ins.len,
            Some(ins) if o > ins.at => ins.at,
            _ => o,
        };
        Span::new(file, back(s.start), back(s.end))
    };

    let mut diagnostics: Vec<Diagnostic> =
        schema.diagnostics.errors().iter().map(|e| Diagnostic::error(e.message(), map_span(e.span()))).collect();
    let warnings: Vec<Diagnostic> =
        schema.diagnostics.warnings().iter().map(|w| Diagnostic::warning(w.message(), map_span(w.span()))).collect();
    if schema.configuration.datasources.is_empty() && diagnostics.is_empty() {
        let d = Diagnostic::error("the schema has no `datasource` block", Span::new(0, 0, 0))
            .with_label("add one, e.g. `datasource db { provider = \"postgresql\" }`");
        diagnostics.push(if sources.files().is_empty() { Diagnostic { span: None, ..d } } else { d });
    }
    if !diagnostics.is_empty() {
        diagnostics.extend(warnings);
        return Err(Report { sources: sources.clone(), diagnostics });
    }

    let provider = schema.configuration.datasources[0].active_provider.to_string();
    let generators: Vec<Span> = schema.configuration.generators.iter().map(|g| map_span(g.span)).collect();
    let preview_features = schema
        .configuration
        .generators
        .iter()
        .find(|g| matches!(g.provider.value.as_deref(), Some("prisma-client" | "prisma-client-js")))
        .and_then(|g| g.preview_features)
        .map(|f| f.iter().map(|f| f.to_string()).collect())
        .unwrap_or_default();
    let lower = Lower { db: &schema.db, sources, map_span: &map_span };
    let mut parsed = lower.run(provider, warnings);
    parsed.ir.prisma_files = prisma7_files(sources, &generators);
    parsed.ir.preview_features = preview_features;
    Ok(parsed)
}

/// The schema files without `generator` blocks and without datasource URL properties (Prisma 7
/// reads the URL from `prisma.config.ts`), named uniquely for one `prisma/schema/` folder.
fn prisma7_files(sources: &Sources, generators: &[Span]) -> Vec<crate::ir::PrismaFile> {
    let mut used = std::collections::BTreeSet::new();
    sources
        .files()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut cut: Vec<(usize, usize)> = generators.iter().filter(|s| s.file == i).map(|s| (s.start, s.end)).collect();
            cut.sort_unstable();
            let mut text = String::with_capacity(f.text.len());
            let mut at = 0;
            for (start, end) in cut {
                text.push_str(&f.text[at..start.max(at)]);
                at = end.max(at);
            }
            text.push_str(&f.text[at..]);
            let text = strip_datasource_urls(&text);
            let stem = std::path::Path::new(&f.name).file_stem().and_then(|s| s.to_str()).unwrap_or("schema").to_owned();
            let mut name = format!("{stem}.prisma");
            let mut n = 2;
            while !used.insert(name.clone()) {
                name = format!("{stem}_{n}.prisma");
                n += 1;
            }
            crate::ir::PrismaFile { name, text }
        })
        .collect()
}

/// Removes `url`, `directUrl` and `shadowDatabaseUrl` lines from `datasource` blocks.
fn strip_datasource_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut search = 0;
    let mut copied = 0;
    while let Some(pos) = find_keyword(text, "datasource", search) {
        let Some(open) = text[pos..].find('{').map(|i| pos + i) else { break };
        let Some(close) = find_block_end(text, open + 1) else { break };
        out.push_str(&text[copied..open + 1]);
        for line in text[open + 1..close].split_inclusive('\n') {
            let t = line.trim_start();
            let is_url = ["url", "directUrl", "shadowDatabaseUrl"]
                .iter()
                .any(|k| t.strip_prefix(k).is_some_and(|rest| rest.trim_start().starts_with('=')));
            if !is_url {
                out.push_str(line);
            }
        }
        copied = close;
        search = close;
    }
    out.push_str(&text[copied..]);
    out
}

/// Finds `datasource x { ... }` blocks without a `url` property and inserts a placeholder
/// before the closing brace.
fn patch_datasource_url(text: &str) -> (String, Option<Insertion>) {
    let mut search = 0;
    while let Some(pos) = find_keyword(text, "datasource", search) {
        search = pos + "datasource".len();
        let Some(open) = text[search..].find('{').map(|i| search + i) else { break };
        // The block has no nested braces; skip braces inside comments and strings.
        let Some(close) = find_block_end(text, open + 1) else { break };
        let body = &text[open + 1..close];
        let has_url = body.lines().any(|l| {
            let l = l.trim_start();
            l.strip_prefix("url").is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if !has_url {
            let at = close;
            let mut out = String::with_capacity(text.len() + URL_PLACEHOLDER.len());
            out.push_str(&text[..at]);
            out.push_str(URL_PLACEHOLDER);
            out.push_str(&text[at..]);
            return (out, Some(Insertion { at, len: URL_PLACEHOLDER.len() }));
        }
        search = close;
    }
    (text.to_owned(), None)
}

/// Position of `kw` at the start of a line (after indentation), from `from`.
fn find_keyword(text: &str, kw: &str, from: usize) -> Option<usize> {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed.starts_with(kw) && trimmed[kw.len()..].starts_with(char::is_whitespace) {
            return Some(offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    None
}

fn find_block_end(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut in_str = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'}' if !in_str => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

struct Lower<'a, F: Fn(psl::diagnostics::Span) -> Span> {
    db: &'a db::ParserDatabase,
    sources: &'a Sources,
    map_span: &'a F,
}

impl<'a, F: Fn(psl::diagnostics::Span) -> Span> Lower<'a, F> {
    fn run(&self, provider: String, warnings: Vec<Diagnostic>) -> Parsed {
        let mut ir = Ir {
            provider,
            models: Vec::new(),
            enums: Vec::new(),
            composite_types: Vec::new(),
            skipped: Vec::new(),
            prisma_files: Vec::new(),
            preview_features: Vec::new(),
        };
        let mut docs = Vec::new();
        let mut walkers: Vec<_> = self.db.walk_models().chain(self.db.walk_views()).collect();
        walkers.sort_by_key(|m| (m.file_id().0, m.ast_model().span().start));
        for m in walkers {
            let (model, model_docs) = self.model(m, &mut ir.skipped);
            ir.models.push(model);
            docs.push(model_docs);
        }
        let mut enum_docs = Vec::new();
        for e in self.db.walk_enums() {
            let span = (self.map_span)(e.ast_enum().span());
            let lines = doc_lines(self.sources, span);
            ir.enums.push(Enum {
                name: e.name().to_owned(),
                db_name: e.mapped_name().map(str::to_owned),
                schema: e.schema().map(|(s, _)| s.to_owned()),
                documentation: documentation(&lines),
                values: e
                    .values()
                    .map(|v| EnumValue {
                        name: v.name().to_owned(),
                        db_name: v.mapped_name().map(str::to_owned),
                        documentation: v.documentation().map(str::to_owned),
                    })
                    .collect(),
                span,
            });
            enum_docs.push(lines);
        }
        let mut composite_docs = Vec::new();
        for c in self.db.walk_composite_types() {
            let span = (self.map_span)(c.ast_composite_type().span);
            let lines = doc_lines(self.sources, span);
            let fields = c
                .fields()
                .map(|f| {
                    let fspan = (self.map_span)(f.ast_field().span());
                    let flines = doc_lines(self.sources, fspan);
                    Field {
                        name: f.name().to_owned(),
                        db_name: f.mapped_name().map(str::to_owned),
                        ty: self.scalar_field_type(f.r#type(), &f.ast_field().field_type),
                        arity: arity(f.arity()),
                        default: f.default_value().map(default_from_expr),
                        updated_at: false,
                        unique: false,
                        id: false,
                        ignored: false,
                        native_type: f.raw_native_type().map(native_type),
                        documentation: documentation(&flines),
                        annotations: Default::default(),
                        span: fspan,
                    }
                })
                .collect();
            // Annotations do not apply to composite types or their fields; their doc lines are
            // kept so stray annotations there are reported, not silently ignored.
            let mut all_lines = lines.clone();
            for f in c.fields() {
                all_lines.extend(doc_lines(self.sources, (self.map_span)(f.ast_field().span())));
            }
            ir.composite_types.push(CompositeType { name: c.name().to_owned(), documentation: documentation(&lines), fields, span });
            composite_docs.push(all_lines);
        }
        Parsed { ir, docs, enum_docs, composite_docs, warnings }
    }

    fn model(&self, m: db::walkers::ModelWalker<'_>, skipped: &mut Vec<Skipped>) -> (Model, ModelDocs) {
        let ast_model = m.ast_model();
        let span = (self.map_span)(ast_model.span());
        let model_docs = doc_lines(self.sources, span);
        let mut fields = Vec::new();
        let mut field_docs = Vec::new();
        for fid in ast_model.iter_fields().map(|(id, _)| id) {
            let walker = m.field(fid);
            let ast_field = walker.ast_field();
            let fspan = (self.map_span)(ast_field.span());
            let lines = doc_lines(self.sources, fspan);
            let field = match walker.refine() {
                Some(db::walkers::RefinedFieldWalker::Scalar(sf)) => {
                    let ty = self.scalar_field_type(sf.scalar_field_type(), &ast_field.field_type);
                    if let FieldType::Unsupported(t) = &ty {
                        skipped.push(Skipped {
                            item: format!("{}.{}", m.name(), sf.name()),
                            reason: format!("Unsupported(\"{t}\") fields get no API"),
                        });
                    } else if sf.is_ignored() {
                        skipped.push(Skipped { item: format!("{}.{}", m.name(), sf.name()), reason: "@ignore".into() });
                    }
                    Field {
                        name: sf.name().to_owned(),
                        db_name: sf.mapped_name().map(str::to_owned),
                        ty,
                        arity: arity(ast_field.arity),
                        default: sf.default_value().map(|d| default_from_expr(d.value())),
                        updated_at: sf.is_updated_at(),
                        unique: sf.is_unique(),
                        id: sf.is_single_pk() || sf.is_part_of_a_compound_pk(),
                        ignored: sf.is_ignored(),
                        native_type: sf.raw_native_type().map(native_type),
                        documentation: documentation(&lines),
                        annotations: Default::default(),
                        span: fspan,
                    }
                }
                Some(db::walkers::RefinedFieldWalker::Relation(rf)) => {
                    let related = rf.related_model();
                    let opposite = rf.opposite_relation_field();
                    let kind = if ast_field.arity.is_list() {
                        match opposite {
                            Some(o) if o.ast_field().arity.is_list() => RelationKind::ManyToMany,
                            _ => RelationKind::OneToMany,
                        }
                    } else {
                        match opposite {
                            Some(o) if o.ast_field().arity.is_list() => RelationKind::ManyToOne,
                            Some(_) => RelationKind::OneToOne,
                            None => RelationKind::ManyToOne,
                        }
                    };
                    let ignored = rf.is_ignored() || related.is_ignored();
                    if ignored && !m.is_ignored() {
                        skipped.push(Skipped {
                            item: format!("{}.{}", m.name(), rf.name()),
                            reason: if rf.is_ignored() {
                                "@ignore".into()
                            } else {
                                format!("relation to ignored model {}", related.name())
                            },
                        });
                    }
                    Field {
                        name: rf.name().to_owned(),
                        db_name: None,
                        ty: FieldType::Relation(Relation {
                            model: related.name().to_owned(),
                            name: rf.relation_name().to_string(),
                            kind,
                            fields: rf.fields().map(|fs| fs.map(|f| f.name().to_owned()).collect()).unwrap_or_default(),
                            references: rf.referenced_fields().map(|fs| fs.map(|f| f.name().to_owned()).collect()).unwrap_or_default(),
                            opposite: opposite.map(|o| o.name().to_owned()),
                            on_delete: rf.explicit_on_delete().map(|a| a.as_str().to_owned()),
                            on_update: rf.explicit_on_update().map(|a| a.as_str().to_owned()),
                        }),
                        arity: arity(ast_field.arity),
                        default: None,
                        updated_at: false,
                        unique: false,
                        id: false,
                        ignored,
                        native_type: None,
                        documentation: documentation(&lines),
                        annotations: Default::default(),
                        span: fspan,
                    }
                }
                None => continue,
            };
            fields.push(field);
            field_docs.push(lines);
        }
        let primary_key = m
            .primary_key()
            .map(|pk| PrimaryKey { fields: pk.fields().map(|f| f.name().to_owned()).collect(), name: pk.name().map(str::to_owned) });
        let uniques = m
            .indexes()
            .filter(|i| i.is_unique())
            .map(|i| Unique { fields: i.fields().map(|f| f.name().to_owned()).collect(), name: i.name().map(str::to_owned) })
            .collect();
        if m.is_ignored() {
            skipped.push(Skipped { item: m.name().to_owned(), reason: "@@ignore".into() });
        }
        let model = Model {
            name: m.name().to_owned(),
            kind: if ast_model.is_view() { ModelKind::View } else { ModelKind::Model },
            db_name: m.mapped_name().map(str::to_owned),
            schema: m.schema_name().map(str::to_owned),
            documentation: documentation(&model_docs),
            fields,
            primary_key,
            uniques,
            ignored: m.is_ignored(),
            annotations: Default::default(),
            span,
        };
        (model, ModelDocs { model: model_docs, fields: field_docs })
    }

    fn scalar_field_type(&self, t: ScalarFieldType, ast_type: &ast::FieldType) -> FieldType {
        match t {
            ScalarFieldType::BuiltInScalar(s) => FieldType::Scalar(scalar(s)),
            ScalarFieldType::Enum(id) => FieldType::Enum(self.db.walk(id).name().to_owned()),
            ScalarFieldType::CompositeType(id) => FieldType::Composite(self.db.walk(id).name().to_owned()),
            ScalarFieldType::Unsupported(_) | ScalarFieldType::Extension(_) => FieldType::Unsupported(match ast_type {
                ast::FieldType::Unsupported(s, _) => s.clone(),
                ast::FieldType::Supported(id) => id.name.clone(),
            }),
        }
    }
}

fn scalar(s: db::ScalarType) -> ScalarType {
    match s {
        db::ScalarType::Int => ScalarType::Int,
        db::ScalarType::BigInt => ScalarType::BigInt,
        db::ScalarType::Float => ScalarType::Float,
        db::ScalarType::Boolean => ScalarType::Boolean,
        db::ScalarType::String => ScalarType::String,
        db::ScalarType::DateTime => ScalarType::DateTime,
        db::ScalarType::Json => ScalarType::Json,
        db::ScalarType::Bytes => ScalarType::Bytes,
        db::ScalarType::Decimal => ScalarType::Decimal,
    }
}

fn arity(a: ast::FieldArity) -> Arity {
    match a {
        ast::FieldArity::Required => Arity::Required,
        ast::FieldArity::Optional => Arity::Optional,
        ast::FieldArity::List => Arity::List,
    }
}

fn native_type((_scope, name, args, _span): (&str, &str, &[String], psl::diagnostics::Span)) -> NativeType {
    NativeType { name: name.to_owned(), args: args.to_vec() }
}

fn default_from_expr(e: &ast::Expression) -> DefaultValue {
    let ast::Expression::Function(name, args, _) = e else { return DefaultValue::Value(literal(e)) };
    let first = args.arguments.first().map(|a| &a.value);
    // `uuid(7)`, `cuid(2)`, `nanoid(16)`: the version or length (Prisma has checked it).
    let number = match first {
        Some(ast::Expression::NumericValue(n, _)) => n.parse::<u32>().ok(),
        _ => None,
    };
    match name.as_str() {
        "autoincrement" => DefaultValue::Autoincrement,
        "now" => DefaultValue::Now,
        "uuid" => DefaultValue::Uuid(number),
        "cuid" => DefaultValue::Cuid(number),
        "ulid" => DefaultValue::Ulid,
        "nanoid" => DefaultValue::Nanoid(number),
        "auto" => DefaultValue::Auto,
        "sequence" => DefaultValue::Sequence,
        _ => DefaultValue::DbGenerated(match first {
            Some(ast::Expression::StringValue(s, _)) => Some(s.clone()),
            _ => None,
        }),
    }
}

fn literal(e: &ast::Expression) -> Literal {
    match e {
        ast::Expression::NumericValue(n, _) => match n.parse::<i64>() {
            Ok(i) => Literal::Int(i),
            Err(_) => n.parse::<f64>().map(Literal::Float).unwrap_or_else(|_| Literal::String(n.clone())),
        },
        ast::Expression::StringValue(s, _) => Literal::String(s.clone()),
        ast::Expression::ConstantValue(c, _) => match c.as_str() {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            _ => Literal::Ident(Ident { ident: c.clone() }),
        },
        ast::Expression::Array(items, _) => Literal::List(items.iter().map(literal).collect()),
        ast::Expression::Function(name, _, _) => Literal::Ident(Ident { ident: format!("{name}()") }),
    }
}

/// The `///` lines that document the item whose declaration starts at `decl.start`: the run of
/// comment lines right above it (blank lines and `//` comments may stand between) and a
/// trailing `///` on the declaration's own line.
pub fn doc_lines(sources: &Sources, decl: Span) -> Vec<DocLine> {
    let text = &sources.get(decl.file).text;
    let line_start = text[..decl.start].rfind('\n').map_or(0, |i| i + 1);
    let mut lines = Vec::new();
    let mut end = line_start;
    while end > 0 {
        let prev_end = end - 1; // the '\n' ending the previous line
        let start = text[..prev_end].rfind('\n').map_or(0, |i| i + 1);
        let line = &text[start..prev_end];
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("///") {
            let content_start = start + (line.len() - trimmed.len()) + 3;
            lines.push(doc_line(rest, content_start, decl.file));
        } else if !(trimmed.trim().is_empty() || trimmed.starts_with("//")) {
            break;
        }
        end = start;
    }
    lines.reverse();
    // A trailing `/// ...` on the declaration's first line.
    let line_end = text[decl.start..].find('\n').map_or(text.len(), |i| decl.start + i);
    let decl_line = &text[decl.start..line_end];
    if let Some(i) = find_trailing_doc(decl_line) {
        let content_start = decl.start + i + 3;
        lines.push(doc_line(&text[content_start..line_end], content_start, decl.file));
    }
    lines
}

fn doc_line(rest: &str, content_start: usize, file: usize) -> DocLine {
    let rest = rest.strip_suffix('\r').unwrap_or(rest);
    DocLine { text: rest.to_owned(), span: Span::new(file, content_start, content_start + rest.len()) }
}

/// Byte index of a `///` outside string literals in one line.
fn find_trailing_doc(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && line[i..].starts_with("///") => return Some(i),
            b'/' if !in_str && line[i..].starts_with("//") => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Documentation is every doc line that is not an ssot annotation or a `@zod` rule (the tags of
/// other tools, `@deprecated` among them, stay).
fn documentation(lines: &[DocLine]) -> Option<String> {
    use crate::annotations::lines::{Line, classify};
    let text: Vec<&str> = lines
        .iter()
        .filter(|l| matches!(classify(&l.text), Line::Doc | Line::Deprecated(_)))
        .map(|l| l.text.strip_prefix(' ').unwrap_or(&l.text).trim_end())
        .collect();
    let joined = text.join("\n");
    let trimmed = joined.trim_matches('\n');
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}
