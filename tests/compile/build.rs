//! Generates the Rust items of every fixture (and of examples/blog) into OUT_DIR, plus sample
//! JSON rows built from the IR, so the tests can round-trip them through the generated types.

use ssot_core::ir::{Field, FieldType, Ir, ScalarType};
use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let fixtures = manifest.join("../fixtures");
    println!("cargo:rerun-if-changed={}", fixtures.display());
    println!("cargo:rerun-if-changed={}", manifest.join("../../examples/blog").display());
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    cases.push(("blog".into(), manifest.join("../../examples/blog")));
    cases.sort();

    let mut modules = String::new();
    // Every fixture's schema document, as the generated Rust embeds it.
    let mut schemas = String::from("pub static SCHEMAS: &[(&str, &ssot::schema::Source)] = &[\n");
    let mut samples = String::from("pub const SAMPLES: &[(&str, &str, &str)] = &[\n");
    // Output fields a response may leave out: those masked by @readable.
    let mut absent = String::from("pub const MAY_BE_ABSENT: &[(&str, &str, &str)] = &[\n");
    let mut dispatch = String::from(
        "#[allow(deprecated)]\npub fn roundtrip(fixture: &str, model: &str, json: &str) -> Result<String, String> {\n    match (fixture, model) {\n",
    );
    // Parses (and for inputs validates) a value with the generated types; returns what they
    // serialize it to.
    let mut check = String::from(
        "#[allow(deprecated)]\npub fn check(fixture: &str, model: &str, kind: &str, json: &str) -> Result<String, String> {\n    match (fixture, model, kind) {\n",
    );
    for (name, dir) in &cases {
        let project = ssot_core::Project::discover(dir, None, None).unwrap_or_else(|e| panic!("{name}: {e}"));
        let loaded = project.load().unwrap_or_else(|e| panic!("{name}: {e}"));
        let files = ssot_core::generate::rust::generate(&loaded.ir, &project.config);
        std::fs::write(out.join(format!("{name}.rs")), files.values().next().unwrap()).unwrap();
        writeln!(modules, "#[allow(dead_code, clippy::all)]\npub mod {name} {{ include!(concat!(env!(\"OUT_DIR\"), \"/{name}.rs\")); }}")
            .unwrap();
        writeln!(schemas, "    (\"{name}\", &{name}::SCHEMA),").unwrap();
        for m in loaded.ir.api_models() {
            let ty = ssot_core::names::camel(&m.name);
            writeln!(
                dispatch,
                "        ({name:?}, {:?}) => serde_json::from_str::<{name}::{ty}>(json).map_err(|e| e.to_string()).and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string())),",
                m.name
            )
            .unwrap();
            writeln!(check, "        ({name:?}, {:?}, \"model\") => serde_json::from_str::<{name}::{ty}>(json).map_err(|e| e.to_string()).and_then(|v| serde_json::to_string(&v).map_err(|e| e.to_string())),", m.name).unwrap();
            if m.kind == ssot_core::ir::ModelKind::Model {
                for (kind, suffix) in [("create", "CreateInput"), ("update", "UpdateInput")] {
                    writeln!(
                        check,
                        "        ({name:?}, {:?}, {kind:?}) => serde_json::from_str::<{name}::{ty}{suffix}>(json).map_err(|e| e.to_string()).and_then(|v| {{ v.validate().map_err(|e| e.to_string())?; serde_json::to_string(&v).map_err(|e| e.to_string()) }}),",
                        m.name
                    )
                    .unwrap();
                }
            }
            for f in m.fields.iter().filter(|f| f.annotations.readable.is_some()) {
                writeln!(absent, "    ({name:?}, {:?}, {:?}),", m.name, f.name).unwrap();
            }
            for full in [true, false] {
                let json = object(&loaded.ir, m.fields.iter().filter(|f| f.is_data() && f.annotations.in_output()), full);
                writeln!(samples, "    ({name:?}, {:?}, {:?}),", m.name, json).unwrap();
            }
        }
    }
    // The synthetic benchmark schema: a ring of 100 models, each with a to-one relation to the
    // previous and a to-many one to the next (it once overflowed rustc's drop check, E0320).
    let config = ssot_core::config::Config::default();
    let mut sources = ssot_core::diagnostics::Sources::new();
    sources.add("synthetic.prisma", ssot_core::synthetic::schema(100));
    let ir = ssot_core::analyze(sources, &config, &out).expect("the synthetic schema is valid").ir;
    std::fs::write(out.join("synthetic_100.rs"), ssot_core::generate::rust::items(&ir, &config)).unwrap();
    modules.push_str(
        "#[allow(dead_code, clippy::all)]\npub mod synthetic_100 { include!(concat!(env!(\"OUT_DIR\"), \"/synthetic_100.rs\")); }\n",
    );
    // Users' own attributes (`[rust.type_attributes]`, `[rust.field_attributes]`): the blog with
    // utoipa's ToSchema on its create input and an example on one field.
    let mut project = ssot_core::Project::discover(&manifest.join("../../examples/blog"), None, None).unwrap();
    let attr =
        |path: &str, attribute: &str| ssot_core::config::RustAttribute { path: path.into(), attribute: attribute.into(), span: None };
    project.config.type_attributes.push(attr("PostCreateInput", "#[derive(::utoipa::ToSchema)]"));
    project.config.type_attributes.push(attr("Role", "#[derive(::utoipa::ToSchema)]"));
    project.config.field_attributes.push(attr("PostCreateInput.slug", "#[schema(example = \"hello-world\")]"));
    let ir = project.load().expect("the blog schema with attributes").ir;
    std::fs::write(out.join("blog_attributes.rs"), ssot_core::generate::rust::items(&ir, &project.config)).unwrap();
    modules.push_str(
        "#[allow(dead_code, clippy::all)]\npub mod blog_attributes { include!(concat!(env!(\"OUT_DIR\"), \"/blog_attributes.rs\")); }\n",
    );
    samples.push_str("];\n");
    schemas.push_str("];\n");
    absent.push_str("];\n");
    dispatch.push_str("        _ => Err(format!(\"no model {model} in {fixture}\")),\n    }\n}\n");
    check.push_str("        _ => Err(format!(\"no {kind} of {model} in {fixture}\")),\n    }\n}\n");
    std::fs::write(out.join("fixtures.rs"), format!("{modules}\n{schemas}\n{samples}\n{absent}\n{dispatch}\n{check}")).unwrap();
}

/// A JSON object in field order: every value canonical in the wire format, so serializing the
/// parsed row must give back the same bytes.
fn object<'a>(ir: &Ir, fields: impl Iterator<Item = &'a Field>, full: bool) -> String {
    let parts: Vec<String> = fields
        .map(|f| {
            let v = if f.is_list() {
                if full { format!("[{},{}]", value(ir, f, full, 0), value(ir, f, full, 1)) } else { "[]".into() }
            } else if f.is_optional() && !full {
                "null".into()
            } else {
                value(ir, f, full, 0)
            };
            format!("{}:{v}", serde_json::to_string(&f.name).unwrap())
        })
        .collect();
    format!("{{{}}}", parts.join(","))
}

fn value(ir: &Ir, f: &Field, full: bool, i: usize) -> String {
    match &f.ty {
        FieldType::Scalar(s) => match s {
            ScalarType::String => ["\"héllo \\\"wörld\\\" 😀\"", "\"\""][i].into(),
            ScalarType::Int => ["2147483647", "-2147483648"][i].into(),
            ScalarType::BigInt => ["\"9223372036854775807\"", "\"-9007199254740993\""][i].into(),
            ScalarType::Float => ["1.5", "-3"][i].into(),
            ScalarType::Decimal => ["\"12.50\"", "\"-0.001\""][i].into(),
            ScalarType::Boolean => ["true", "false"][i].into(),
            ScalarType::DateTime => ["\"2024-01-31T09:30:00.123Z\"", "\"1970-01-01T00:00:00.000Z\""][i].into(),
            ScalarType::Json => ["{\"a\":[1,null,\"x\"]}", "null"][i].into(),
            ScalarType::Bytes => ["\"AAECAw==\"", "\"\""][i].into(),
        },
        FieldType::Enum(e) => {
            let e = ir.enum_(e).unwrap();
            serde_json::to_string(&e.values[i % e.values.len()].name).unwrap()
        }
        FieldType::Composite(c) => object(ir, ir.composite_type(c).unwrap().fields.iter(), full),
        _ => unreachable!("only data fields"),
    }
}
