//! Names in generated code: heck for case conversion plus keyword fixing (`type` becomes
//! `r#type`, `self` becomes `self_`), as prost-build's `ident.rs` does.

use heck::{ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

const RUST_KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop",
    "match", "mod", "move", "mut", "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// An identifier for a field, function or module: snake_case, keyword-safe.
pub fn snake(name: &str) -> Ident {
    ident(&name.to_snake_case())
}

/// An identifier for a type or variant: UpperCamelCase, keyword-safe. Names already in
/// UpperCamelCase (and without underscores) are kept as written, so `HTTPLog` stays `HTTPLog`.
pub fn camel(name: &str) -> Ident {
    ident(&camel_str(name))
}

pub fn camel_str(name: &str) -> String {
    if name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.contains('_') {
        name.to_owned()
    } else {
        name.to_upper_camel_case()
    }
}

/// Turns a string into an identifier, escaping keywords.
pub fn ident(s: &str) -> Ident {
    let s = if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) { format!("_{s}") } else { s.to_owned() };
    if NOT_RAW.contains(&s.as_str()) {
        Ident::new(&format!("{s}_"), Span::call_site())
    } else if RUST_KEYWORDS.contains(&s.as_str()) {
        Ident::new_raw(&s, Span::call_site())
    } else {
        Ident::new(&s, Span::call_site())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_escaped() {
        assert_eq!(snake("type").to_string(), "r#type");
        assert_eq!(snake("self").to_string(), "self_");
        assert_eq!(camel("Self").to_string(), "Self_");
        assert_eq!(snake("createdAt").to_string(), "created_at");
        assert_eq!(camel("user_profile").to_string(), "UserProfile");
        assert_eq!(camel("HTTPLog").to_string(), "HTTPLog");
        assert_eq!(camel("ADMIN").to_string(), "ADMIN");
        assert_eq!(snake("2fa").to_string(), "_2fa");
    }
}
