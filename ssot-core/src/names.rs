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
    let n = camel_str(name);
    // `Principal` and `Auth` are the generated claims struct and `Option<Principal>`: a model of
    // that name becomes `PrincipalModel` (and `PrincipalModelCreateInput`, ...).
    if matches!(n.as_str(), "Principal" | "Auth") { format!("{n}Model") } else { ident(&n) }
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

/// The URL segment of a model's collection: kebab-case plural (`Post` → `posts`,
/// `UserProfile` → `user-profiles`, `Category` → `categories`).
pub fn collection_path(model: &str) -> String {
    let kebab = heck::ToKebabCase::to_kebab_case(model);
    // Only the last word is a noun to inflect (`UserProfile` → `user-profiles`); already plural
    // and uncountable words stay (`Impersonations`, `SiteSettings`, `Statistics`, `Media`).
    match kebab.rsplit_once('-') {
        Some((head, last)) => format!("{head}-{}", plural(last)),
        None => plural(&kebab),
    }
}

/// The URL segment of a model's routes under `/api/`: `@@expose(path: "...")`, else the plural.
pub fn model_path(m: &crate::ir::Model) -> String {
    m.annotations.expose.path.clone().unwrap_or_else(|| collection_path(&m.name))
}

/// A file name for a model or type: kebab-case (`UserProfile` → `user-profile`).
pub fn file_stem(name: &str) -> String {
    heck::ToKebabCase::to_kebab_case(name)
}

fn plural(word: &str) -> String {
    pluralizer::pluralize(word, 2, false)
}

/// A TypeScript property key: bare when it is an identifier, quoted otherwise.
pub fn ts_key(name: &str) -> String {
    let ident = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident { name.to_owned() } else { serde_json::to_string(name).unwrap_or_default() }
}

/// A TypeScript type or value name: UpperCamelCase, with a `_` appended where the name, or a
/// name the generator derives from it, would clash with a global, an imported name or one of the
/// tree's own helpers.
pub fn ts_type(name: &str) -> String {
    let n = camel_str(name);
    if TS_RESERVED.contains(&n.as_str()) { format!("{n}_") } else { n }
}

/// Model and enum names that get a `_`: globals the generated code uses or shadows; TypeScript's
/// utility types; imported names (`Prisma`); the tree's helpers (`Transport`, `ListParams`, ...);
/// and names whose derived names are helpers: `Model` → `ModelClient`, `Data` → `DataClient`,
/// `Read` → `ReadClient`, `Query` → `useQuery`, `Mutation` → `useMutation`, `System` →
/// `systemRoutes`, `Enum` → `EnumFilter`, ... Tested by the `names` fixture.
const TS_RESERVED: &[&str] = &[
    // globals
    "Array",
    "BigInt",
    "Blob",
    "Boolean",
    "Buffer",
    "Date",
    "Error",
    "Event",
    "File",
    "Function",
    "Headers",
    "Intl",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "Record",
    "Reflect",
    "RegExp",
    "Request",
    "Response",
    "Set",
    "String",
    "Symbol",
    "URL",
    "Uint8Array",
    "WebSocket",
    // TypeScript utility types
    "Awaited",
    "Exclude",
    "Extract",
    "NonNullable",
    "Omit",
    "Parameters",
    "Partial",
    "Pick",
    "Readonly",
    "Required",
    "ReturnType",
    // imported names
    "Prisma",
    "PrismaClient",
    "Z",
    // helpers of the tree, and model names whose derived names are helpers
    "ApiError",
    "ApiRequest",
    "Auth",
    "Binding",
    "CacheEvent",
    "ClientOptions",
    "Data",
    "DataClient",
    "Engine",
    "Enum",
    "FilterOp",
    "Handler",
    "HttpTransport",
    "HttpTransportOptions",
    "HybridData",
    "HybridDataClient",
    "JsonValue",
    "ListParams",
    "ListResult",
    "Model",
    "ModelClient",
    "Mutation",
    "Number",
    "Ordered",
    "OrderedString",
    "Principal",
    "Query",
    "QueryClient",
    "Read",
    "ReadClient",
    "Realtime",
    "RealtimeError",
    "RealtimeEvent",
    "Route",
    "Services",
    "SsotProvider",
    "System",
    "Transport",
    "WebSocketLike",
    "WebSocketConstructor",
    "WebSocketTransport",
    "WebSocketTransportOptions",
];

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
        assert_eq!(collection_path("Post"), "posts");
        assert_eq!(collection_path("UserProfile"), "user-profiles");
        assert_eq!(collection_path("Category"), "categories");
        assert_eq!(collection_path("Day"), "days");
        assert_eq!(collection_path("Address"), "addresses");
        // Already plural, uncountable and irregular words (issue 9: `impersonationses`).
        for (model, path) in [
            ("Impersonations", "impersonations"),
            ("SiteSettings", "site-settings"),
            ("Statistics", "statistics"),
            ("jwks", "jwks"),
            ("Media", "media"),
            ("Person", "people"),
            ("ChildProfile", "child-profiles"),
            ("Status", "statuses"),
            ("ApiKey", "api-keys"),
        ] {
            assert_eq!(collection_path(model), path, "{model}");
        }
        assert_eq!(ts_key("createdAt"), "createdAt");
        assert_eq!(ts_key("my-field"), "\"my-field\"");
        assert_eq!(ts_type("String"), "String_");
    }
}
