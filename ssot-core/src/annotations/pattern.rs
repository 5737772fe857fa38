//! `@validate(regex: ...)` patterns must mean the same in Rust's `regex` and in JavaScript's
//! `RegExp` with the `u` flag (what the generated Zod schemas use).
//!
//! Syntax only one side knows is rejected when the schema is read. Where both know the syntax
//! but differ in meaning — `\d`, `\w` and `\b` are Unicode-aware in Rust and ASCII in
//! JavaScript — the Rust side gets the JavaScript meaning: [`for_rust`] rewrites them.

/// Why a pattern cannot be a validation rule.
#[derive(Debug, Clone, PartialEq)]
pub enum PatternError {
    /// Valid, but with no equivalent on the other side.
    Unportable(String),
    /// Not a regular expression (the regex crate's message).
    Invalid(String),
}

/// Checks that a pattern is valid and means the same in Rust and JavaScript.
pub fn check(pattern: &str) -> Result<(), PatternError> {
    match regex::Regex::new(pattern) {
        Ok(_) if unsupported(pattern).is_some() || regex::Regex::new(&for_rust(pattern)).is_err() => {
            Err(PatternError::Unportable(unsupported(pattern).unwrap_or_else(|| "it has no JavaScript equivalent".into())))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            let last = text.lines().last().unwrap_or("invalid pattern").trim();
            Err(PatternError::Invalid(last.strip_prefix("error: ").unwrap_or(last).to_owned()))
        }
    }
}

/// Why a pattern cannot be used on both sides, if it cannot.
pub fn unsupported(pattern: &str) -> Option<String> {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let next = bytes.get(i + 1).copied().unwrap_or(b' ');
                let msg = match next {
                    b'A' | b'z' | b'Z' => Some(format!("`\\{}` is not known to JavaScript; use `^` and `$`", next as char)),
                    b'Q' | b'E' => Some("`\\Q...\\E` is not known to JavaScript; escape each character".to_owned()),
                    b'p' | b'P' if bytes.get(i + 2) != Some(&b'{') => {
                        Some(format!("write `\\{}{{...}}` with braces: JavaScript needs them", next as char))
                    }
                    _ => None,
                };
                if msg.is_some() {
                    return msg;
                }
                i += 2;
                continue;
            }
            b'(' if bytes.get(i + 1) == Some(&b'?') => {
                let rest = &pattern[i + 2..];
                if rest.starts_with("P<") {
                    return Some("write named groups as `(?<name>...)`: JavaScript does not know `(?P<name>...)`".into());
                }
                if rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '-') {
                    return Some("inline flags like `(?i)` are not known to JavaScript".into());
                }
            }
            b'[' if pattern[i..].starts_with("[[:") => {
                return Some("POSIX classes like `[[:alpha:]]` are not known to JavaScript".into());
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The pattern with `\d`, `\w`, `\b` (and their negations) in their JavaScript meaning.
pub fn for_rust(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let replacement = match (next, in_class) {
                    ('d', false) => Some("[0-9]"),
                    ('d', true) => Some("0-9"),
                    ('w', false) => Some("[0-9A-Za-z_]"),
                    ('w', true) => Some("0-9A-Za-z_"),
                    ('D', _) => Some("[^0-9]"),
                    ('W', _) => Some("[^0-9A-Za-z_]"),
                    ('b', false) => Some("(?-u:\\b)"),
                    ('B', false) => Some("(?-u:\\B)"),
                    _ => None,
                };
                match replacement {
                    Some(r) => out.push_str(r),
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A `]` or `^]` right after the opening bracket is a literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_unicode_classes_to_ascii() {
        assert_eq!(for_rust(r"^\w+\d$"), "^[0-9A-Za-z_]+[0-9]$");
        assert_eq!(for_rust(r"[\w.-]+\b"), "[0-9A-Za-z_.-]+(?-u:\\b)");
        assert_eq!(for_rust(r"\D\\d"), r"[^0-9]\\d");
        let re = regex::Regex::new(&for_rust(r"^\w+$")).unwrap();
        assert!(re.is_match("abc_1"));
        assert!(!re.is_match("é"), "\\w must not match é, as in JavaScript");
        assert!(!regex::Regex::new(&for_rust(r"^\d$")).unwrap().is_match("٣"));
    }

    #[test]
    fn rejects_what_javascript_does_not_know() {
        assert!(unsupported(r"(?i)abc").is_some());
        assert!(unsupported(r"\Aabc\z").is_some());
        assert!(unsupported(r"(?P<x>a)").is_some());
        assert!(unsupported(r"[[:alpha:]]").is_some());
        assert!(unsupported(r"\pL").is_some());
        assert!(unsupported(r"^(?<x>a)\p{L}[a-z]*(?:b)$").is_none());
    }
}
