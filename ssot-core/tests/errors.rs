//! Every bad input gives located errors: `tests/errors/*.prisma` (each with an optional
//! `.toml` config beside it) rendered and compared with a golden file.

mod common;

#[test]
fn error_corpus() {
    let cases = common::files_with_ext("tests/errors", "prisma");
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case.file_stem().unwrap().to_string_lossy().into_owned();
        let schema = std::fs::read_to_string(&case).unwrap();
        let config = std::fs::read_to_string(case.with_extension("toml")).ok();
        let rendered = common::check_text(&schema, config.as_deref()).unwrap_or_else(|| panic!("{name}: expected errors"));
        assert!(rendered.contains("schema.prisma:") || rendered.contains("ssot.toml:"), "{name}: no location in\n{rendered}");
        insta::assert_snapshot!(name, rendered);
    }
}

const DS: &str = "datasource db {\n  provider = \"postgresql\"\n}\n";

fn errors(schema: &str) -> String {
    common::check_text(&format!("{DS}{schema}"), None).unwrap_or_default()
}

#[test]
fn prisma7_datasource_without_url_keeps_positions() {
    // The url placeholder we insert must not shift the reported line and column.
    let text = format!("{DS}model A {{\n  id Int @id\n  b  Strin\n}}\n");
    let out = common::check_text(&text, None).unwrap();
    assert!(out.contains("schema.prisma:6:6"), "{out}");
    assert!(common::check_text(&format!("{DS}model A {{\n  id Int @id\n}}\n"), None).is_none());
    // A datasource that has a url is left alone.
    let with_url = "datasource db {\n  provider = \"sqlite\"\n  url = \"file:dev.db\"\n}\nmodel A {\n  id Int @id\n}\n";
    assert!(common::check_text(with_url, None).is_none());
}

#[test]
fn all_errors_are_reported_at_once() {
    let out = errors(
        "/// @@polcy(read: \"true\")\nmodel A {\n  id Int @id\n  /// @validat(email)\n  b String\n  /// @readable(\"nope == 1\")\n  c String\n}\n",
    );
    assert!(out.contains("did you mean `@@policy`"), "{out}");
    assert!(out.contains("did you mean `@validate`"), "{out}");
    assert!(out.contains("unknown field `nope`"), "{out}");
    assert!(out.contains("aborting due to 3 previous errors"), "{out}");
}

#[test]
fn policy_type_errors() {
    let model = |policy: &str| {
        errors(&format!(
            "enum Role {{\n  A\n  B\n}}\n/// @@policy(read: \"{policy}\")\nmodel M {{\n  id Int @id\n  n String?\n  r Role\n  l Int[]\n  j Json?\n  p M? @relation(\"x\", fields: [pid], references: [id])\n  pid Int? @unique\n  q M? @relation(\"x\")\n  others O[]\n}}\nmodel O {{\n  id Int @id\n  m M @relation(fields: [mid], references: [id])\n  mid Int\n}}\n"
        ))
    };
    for (policy, expected) in [
        ("id == 'x'", "mismatched types: Int == String"),
        ("id < true", "mismatched types: Int < Boolean"),
        ("r < A", "`<` needs numbers, strings or dates"),
        ("r == C", "`C` is neither a field of `M` nor a value of enum `Role`"),
        ("r in [A, C]", "`C` is not a value of enum `Role`"),
        ("id == null", "`id` is Int, never null"),
        ("l == 1", "a list cannot be compared"),
        ("id in 3", "the right side of `in` must be a list"),
        ("j == 1", "Json values cannot be compared"),
        ("p == 1", "relation `p` used as a value"),
        ("others.id == 1", "to-many relation and cannot be followed"),
        ("p.some(id == 1)", "is a to-one relation"),
        ("id", "`id` is Int, not a condition"),
        ("1", "expected a condition"),
        ("auth.nope == 1", "unknown claim `auth.nope`"),
        ("auth == 1", "`auth` can only be compared with `null`"),
        ("auth.id.x == 1", "claims have no fields"),
        ("id.x == 1", "`id` is not a relation"),
        ("n = 'a'", "use `==` to compare"),
        ("(id == 1", "expected `)`"),
        ("id == 1 id", "unexpected `id` after the end"),
    ] {
        let out = model(policy);
        assert!(out.contains(expected), "policy {policy:?}: expected {expected:?} in\n{out}");
    }
    // Well-typed policies pass.
    for ok in [
        "n == null || n != 'x'",
        "r in [A, B] && r not in [B]",
        "p.p.id == id && p.r == A",
        "others.some(mid == id) || others.every(id > 0) || others.none(id < 0)",
        "auth == null || auth.id == n",
        "1 in l && j == null",
        "!(id > 1.5) && id <= 10",
    ] {
        let out = model(ok);
        assert!(out.is_empty(), "policy {ok:?} rejected:\n{out}");
    }
}

#[test]
fn claim_types_are_checked_against_the_schema() {
    let out =
        common::check_text(&format!("{DS}model A {{\n  id Int @id\n}}\n"), Some("[auth.claims]\nid = \"Int\"\nrole = \"Rol\"\n")).unwrap();
    assert!(out.contains("unknown type `Rol` for claim `role`"), "{out}");
    assert!(out.contains("ssot.toml:3:8"), "{out}");
}
