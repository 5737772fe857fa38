//! Names in generated code: heck for case conversion plus keyword fixing (`type` becomes
//! `r#type`, `self` becomes `self_`), as prost-build's `ident.rs` does.

use heck::{ToSnakeCase, ToUpperCamelCase};

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop",
    "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "typeof",
    "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// An identifier for a field, function or module: snake_case, keyword-safe.
pub fn snake(name: &str) -> String {
    ident(&name.to_snake_case())
}

/// An identifier for a type: UpperCamelCase, keyword-safe. Names already in UpperCamelCase
/// (and without underscores) are kept as written, so `HTTPLog` stays `HTTPLog`.
pub fn camel(name: &str) -> String {
    ident(&camel_str(name))
}

fn camel_str(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.contains('_') { name.to_owned() } else { name.to_upper_camel_case() }
}

/// An enum variant: always UpperCamelCase (`IN_REVIEW` becomes `InReview`).
pub fn variant(name: &str) -> String {
    ident(&name.to_upper_camel_case())
}

/// Turns a string into an identifier, escaping keywords.
pub fn ident(s: &str) -> String {
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("_{s}") } else { s.to_owned() };
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if RUST_KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

/// The identifier without a raw prefix, for building other names from it.
pub fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("self"), "self_");
        assert_eq!(camel("Self"), "Self_");
        assert_eq!(snake("createdAt"), "created_at");
        assert_eq!(camel("user_profile"), "UserProfile");
        assert_eq!(camel("HTTPLog"), "HTTPLog");
        assert_eq!(variant("IN_REVIEW"), "InReview");
        assert_eq!(variant("ADMIN"), "Admin");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(bare("r#type"), "type");
    }
}
