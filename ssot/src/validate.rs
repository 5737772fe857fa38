//! Checks behind the generated `validate()` methods. Each rule means what the generated Zod
//! schema means: lengths count UTF-16 code units (JavaScript's `string.length`), `email` and
//! `uuid` follow Zod 4's patterns, `url` is the WHATWG URL parser.

use regex::Regex;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use std::fmt;
use std::sync::LazyLock;

/// One broken rule, with the JSON path of the field (`title`, `tags.2`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    pub path: String,
    /// The rule's name: `email`, `minLength`, ...
    pub rule: &'static str,
    pub message: String,
}

/// Every violation of one value, in field order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", v.path, v.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for Violations {}

/// A number that `min`/`max` rules can bound.
pub trait Bounded {
    fn cmp_f64(&self, bound: f64) -> Option<std::cmp::Ordering>;
}

impl Bounded for i32 {
    fn cmp_f64(&self, bound: f64) -> Option<std::cmp::Ordering> {
        f64::from(*self).partial_cmp(&bound)
    }
}

impl Bounded for i64 {
    fn cmp_f64(&self, bound: f64) -> Option<std::cmp::Ordering> {
        // Exact for every i64: compare in i128 when the bound is integral.
        if bound.fract() == 0.0 && bound.abs() < 1e30 {
            Some(i128::from(*self).cmp(&(bound as i128)))
        } else {
            (*self as f64).partial_cmp(&bound)
        }
    }
}

impl Bounded for f64 {
    fn cmp_f64(&self, bound: f64) -> Option<std::cmp::Ordering> {
        self.partial_cmp(&bound)
    }
}

impl Bounded for Decimal {
    fn cmp_f64(&self, bound: f64) -> Option<std::cmp::Ordering> {
        // The bound as written in the schema (the shortest decimal of the f64), compared
        // exactly, as the generated Zod schema compares decimal strings.
        bound.to_string().parse::<Decimal>().ok().or_else(|| Decimal::from_f64(bound)).map(|b| self.cmp(&b))
    }
}

/// Collects violations while a generated `validate()` walks its fields.
#[derive(Debug, Default)]
pub struct Collector {
    found: Vec<Violation>,
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@([A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$").expect("valid pattern"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}|00000000-0000-0000-0000-000000000000|[fF]{8}-[fF]{4}-[fF]{4}-[fF]{4}-[fF]{12})$")
        .expect("valid pattern")
});

/// Zod 4's email check (its lookaheads spelled out: no leading dot, no `..`).
pub fn is_email(s: &str) -> bool {
    !s.starts_with('.') && !s.contains("..") && EMAIL.is_match(s)
}

/// Zod 4's uuid check: RFC 9562 versions 1-8 with the variant bits, plus nil and max.
pub fn is_uuid(s: &str) -> bool {
    UUID.is_match(s)
}

/// A URL the WHATWG parser accepts (what `new URL(s)` accepts).
pub fn is_url(s: &str) -> bool {
    url::Url::parse(s).is_ok()
}

/// JavaScript's `string.length`.
pub fn js_length(s: &str) -> usize {
    s.encode_utf16().count()
}

impl Collector {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, path: &str, rule: &'static str, message: String) {
        self.found.push(Violation { path: path.to_owned(), rule, message });
    }

    pub fn email(&mut self, path: &str, v: &str) {
        if !is_email(v) {
            self.push(path, "email", "must be an email address".into());
        }
    }

    pub fn url(&mut self, path: &str, v: &str) {
        if !is_url(v) {
            self.push(path, "url", "must be a URL".into());
        }
    }

    pub fn uuid(&mut self, path: &str, v: &str) {
        if !is_uuid(v) {
            self.push(path, "uuid", "must be a UUID".into());
        }
    }

    pub fn regex(&mut self, path: &str, v: &str, re: &Regex) {
        if !re.is_match(v) {
            self.push(path, "regex", format!("must match /{}/", re.as_str()));
        }
    }

    /// [`Collector::regex`] with the message the Zod schema gives: `must match <literal>`,
    /// the pattern as a JavaScript literal (`/^[a-z]+$/u`).
    pub fn regex_literal(&mut self, path: &str, v: &str, re: &Regex, literal: &str) {
        if !re.is_match(v) {
            self.push(path, "regex", format!("must match {literal}"));
        }
    }

    pub fn min_length(&mut self, path: &str, v: &str, n: usize) {
        if js_length(v) < n {
            self.push(path, "minLength", format!("must be at least {n} characters"));
        }
    }

    pub fn max_length(&mut self, path: &str, v: &str, n: usize) {
        if js_length(v) > n {
            self.push(path, "maxLength", format!("must be at most {n} characters"));
        }
    }

    pub fn non_empty(&mut self, path: &str, len: usize) {
        if len == 0 {
            self.push(path, "nonEmpty", "must not be empty".into());
        }
    }

    pub fn min(&mut self, path: &str, v: &impl Bounded, n: f64) {
        if !matches!(v.cmp_f64(n), Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)) {
            self.push(path, "min", format!("must be at least {n}"));
        }
    }

    pub fn max(&mut self, path: &str, v: &impl Bounded, n: f64) {
        if !matches!(v.cmp_f64(n), Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)) {
            self.push(path, "max", format!("must be at most {n}"));
        }
    }

    pub fn finish(self) -> Result<(), Violations> {
        if self.found.is_empty() { Ok(()) } else { Err(Violations(self.found)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_like_zod() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "o'neil@x.io"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [".a@b.co", "a..b@c.co", "a.@b.co", "a@b", "a@-b.co", "a@b.c", "", "a b@c.co"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn uuid_like_zod() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(!is_uuid("123e4567-e89b-92d3-a456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
    }

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(js_length("é"), 1);
        assert_eq!(js_length("😀"), 2);
        let mut c = Collector::new();
        c.max_length("t", "😀", 1);
        c.min("n", &5i32, 6.0);
        c.max("big", &9_007_199_254_740_993i64, 9_007_199_254_740_992.0);
        let v = c.finish().unwrap_err();
        assert_eq!(v.0.iter().map(|v| v.rule).collect::<Vec<_>>(), ["maxLength", "min", "max"]);
    }
}
