//! The `@zod` doc tags of zod-prisma-types (`/// @zod.string.min(1).max(10)`,
//! `/// @zod.number.int().gte(0)`) and prisma-zod-generator (`/// @zod.min(1)`, `/// @zod.email()`).
//! Their portable part — string lengths, email/url/uuid/regex, number bounds, non-empty lists —
//! becomes `@validate` rules, which Zod and the Rust validators then check alike. The rest is
//! TypeScript (`.custom.use(...)`, `.import([...])`, `.refine(...)`, `.transform(...)`) and is
//! reported as a warning and ignored.

use super::ValidateRule;
use super::pattern;
use crate::ir::{Field, FieldType, ScalarType};

/// What one `@zod` line means for a field.
#[derive(Debug, Default, PartialEq)]
pub struct Read {
    pub rules: Vec<ValidateRule>,
    /// The methods that were not read, as written (`refine(...)`).
    pub ignored: Vec<String>,
}

/// Reads the chain after `@zod.` for `field`.
pub fn read(chain: &str, field: &Field) -> Read {
    let mut out = Read::default();
    let mut calls = split(chain);
    // zod-prisma-types names the Zod type first (`string`, `number`, ...), without parentheses.
    if let Some((name, None)) = calls.first()
        && matches!(name.as_str(), "string" | "number" | "bigint" | "date" | "boolean" | "array")
    {
        calls.remove(0);
    }
    if let Some((name, _)) = calls.first()
        && matches!(name.as_str(), "custom" | "import")
    {
        out.ignored.push(chain.to_owned());
        return out;
    }
    let kind = Kind::of(field);
    for (name, args) in calls {
        let arg = args.as_deref().map(first_arg).unwrap_or_default();
        match rule(kind, &name, &arg) {
            Some(rules) => out.rules.extend(rules),
            None => out.ignored.push(match &args {
                Some(a) => format!("{name}({a})"),
                None => name,
            }),
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Int,
    Float,
    List,
    Other,
}

impl Kind {
    fn of(f: &Field) -> Kind {
        if f.is_list() {
            return Kind::List;
        }
        match &f.ty {
            FieldType::Scalar(ScalarType::String) => Kind::Str,
            FieldType::Scalar(ScalarType::Int | ScalarType::BigInt) => Kind::Int,
            FieldType::Scalar(ScalarType::Float | ScalarType::Decimal) => Kind::Float,
            _ => Kind::Other,
        }
    }
}

/// The first argument of a call: a number, a string, or a regex literal.
#[derive(Debug, Default, PartialEq)]
enum Arg {
    #[default]
    None,
    Number(f64),
    Regex(String),
    Other,
}

fn rule(kind: Kind, name: &str, arg: &Arg) -> Option<Vec<ValidateRule>> {
    use ValidateRule as R;
    let n = match arg {
        Arg::Number(n) => Some(*n),
        _ => None,
    };
    let len = n.filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v <= f64::from(u32::MAX)).map(|v| v as u32);
    let one = |r: R| Some(vec![r]);
    match (kind, name) {
        (Kind::Str, "min") => len.map(|l| vec![R::MinLength(l)]),
        (Kind::Str, "max") => len.map(|l| vec![R::MaxLength(l)]),
        (Kind::Str, "length") => len.map(|l| vec![R::MinLength(l), R::MaxLength(l)]),
        (Kind::Str, "nonempty") if *arg == Arg::None => one(R::MinLength(1)),
        (Kind::Str, "email") => one(R::Email),
        (Kind::Str, "url") => one(R::Url),
        (Kind::Str, "uuid") => one(R::Uuid),
        (Kind::Str, "regex") => match arg {
            Arg::Regex(p) if pattern::check(p).is_ok() => one(R::Regex(p.clone())),
            _ => None,
        },
        (Kind::Int | Kind::Float, "min" | "gte") => n.map(|v| vec![R::Min(v)]),
        (Kind::Int | Kind::Float, "max" | "lte") => n.map(|v| vec![R::Max(v)]),
        (Kind::Int | Kind::Float, "nonnegative") if *arg == Arg::None => one(R::Min(0.0)),
        (Kind::Int | Kind::Float, "nonpositive") if *arg == Arg::None => one(R::Max(0.0)),
        // Exclusive bounds are inclusive ones on integers; on other numbers they have no
        // `@validate` equivalent.
        (Kind::Int, "gt") => n.filter(|v| v.fract() == 0.0).map(|v| vec![R::Min(v + 1.0)]),
        (Kind::Int, "lt") => n.filter(|v| v.fract() == 0.0).map(|v| vec![R::Max(v - 1.0)]),
        (Kind::Int, "positive") if *arg == Arg::None => one(R::Min(1.0)),
        (Kind::Int, "negative") if *arg == Arg::None => one(R::Max(-1.0)),
        // Already true of the type: an Int is an integer, a JSON number is finite.
        (Kind::Int, "int") | (Kind::Int | Kind::Float, "finite") if *arg == Arg::None => Some(vec![]),
        (Kind::List, "nonempty") if *arg == Arg::None => one(R::NonEmpty),
        (Kind::List, "min") if n == Some(1.0) => one(R::NonEmpty),
        _ => None,
    }
}

/// `a.b(1, { message: "x" }).c()` → `[("a", None), ("b", Some("1, { message: \"x\" }")), ("c", Some(""))]`.
fn split(chain: &str) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    let bytes = chain.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let name = chain[start..i].to_owned();
        let mut args = None;
        if bytes.get(i) == Some(&b'(') {
            let open = i + 1;
            let close = matching_paren(chain, i).unwrap_or(chain.len());
            args = Some(chain[open..close.min(chain.len())].to_owned());
            i = close + 1;
        }
        if name.is_empty() && args.is_none() {
            // Not a call chain (trailing text): keep it whole as one ignored piece.
            out.push((chain[start..].trim().to_owned(), None));
            break;
        }
        out.push((name, args));
        match bytes.get(i) {
            Some(b'.') => i += 1,
            None => break,
            Some(_) => {
                out.push((chain[i..].trim().to_owned(), None));
                break;
            }
        }
    }
    out
}

/// The index of the `)` that closes the `(` at `open`, skipping strings and regex literals.
fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut depth = 0;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            q @ (b'"' | b'\'' | b'`' | b'/') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn first_arg(args: &str) -> Arg {
    let a = args.trim();
    if a.is_empty() {
        return Arg::None;
    }
    if let Some(body) = a.strip_prefix('/') {
        // `/pattern/flags`: the last unescaped `/`; flags change the meaning, so none allowed.
        let b = body.as_bytes();
        let mut i = 0;
        while i < b.len() && b[i] != b'/' {
            if b[i] == b'\\' {
                i += 1;
            }
            i += 1;
        }
        let rest = body.get(i + 1..).unwrap_or("").trim_start();
        let flags_end = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        return if flags_end == 0 && i < b.len() { Arg::Regex(body[..i].to_owned()) } else { Arg::Other };
    }
    let first = a.split(',').next().unwrap_or("").trim();
    match first.parse::<f64>() {
        Ok(n) if n.is_finite() => Arg::Number(n),
        _ => Arg::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Arity;

    fn field(ty: FieldType, arity: Arity) -> Field {
        Field {
            name: "f".into(),
            db_name: None,
            ty,
            arity,
            default: None,
            updated_at: false,
            unique: false,
            id: false,
            ignored: false,
            native_type: None,
            documentation: None,
            annotations: Default::default(),
            span: Default::default(),
        }
    }

    fn string() -> Field {
        field(FieldType::Scalar(ScalarType::String), Arity::Required)
    }

    #[test]
    fn zod_prisma_types_strings() {
        let r = read("string.min(1).max(10, { message: \"too long\" })", &string());
        assert_eq!(r, Read { rules: vec![ValidateRule::MinLength(1), ValidateRule::MaxLength(10)], ignored: vec![] });
        let r = read("string.email({ message: \"no\" }).url()", &string());
        assert_eq!(r.rules, vec![ValidateRule::Email, ValidateRule::Url]);
        assert_eq!(read("string.regex(/^[a-z]+$/)", &string()).rules, vec![ValidateRule::Regex("^[a-z]+$".into())]);
        assert_eq!(read("string.regex(/^[a-z]+$/i)", &string()).ignored, vec!["regex(/^[a-z]+$/i)"]);
        assert_eq!(read("string.length(5)", &string()).rules, vec![ValidateRule::MinLength(5), ValidateRule::MaxLength(5)]);
    }

    #[test]
    fn prisma_zod_generator_and_numbers() {
        assert_eq!(read("min(1)", &string()).rules, vec![ValidateRule::MinLength(1)]);
        assert_eq!(read("email()", &string()).rules, vec![ValidateRule::Email]);
        let int = field(FieldType::Scalar(ScalarType::Int), Arity::Required);
        assert_eq!(read("number.int().gte(0).lt(100)", &int).rules, vec![ValidateRule::Min(0.0), ValidateRule::Max(99.0)]);
        assert_eq!(read("positive()", &int).rules, vec![ValidateRule::Min(1.0)]);
        let float = field(FieldType::Scalar(ScalarType::Float), Arity::Required);
        let r = read("number.gt(0.5).max(2.5)", &float);
        assert_eq!(r, Read { rules: vec![ValidateRule::Max(2.5)], ignored: vec!["gt(0.5)".into()] });
        let list = field(FieldType::Scalar(ScalarType::String), Arity::List);
        assert_eq!(read("array.nonempty()", &list).rules, vec![ValidateRule::NonEmpty]);
    }

    #[test]
    fn typescript_only_parts_are_ignored() {
        assert_eq!(read("custom.use(z.string().refine((v) => v.length > 1))", &string()).rules, vec![]);
        assert_eq!(read("import([\"import { x } from 'y'\"])", &string()).ignored.len(), 1);
        let r = read("string.min(2).refine((v) => v !== \"x\").transform((v) => v.trim())", &string());
        assert_eq!(r.rules, vec![ValidateRule::MinLength(2)]);
        assert_eq!(r.ignored, vec!["refine((v) => v !== \"x\")", "transform((v) => v.trim())"]);
        // A rule that does not fit the field's type is not guessed at.
        let int = field(FieldType::Scalar(ScalarType::Int), Arity::Required);
        assert_eq!(read("string.email()", &int).ignored, vec!["email()"]);
    }
}
