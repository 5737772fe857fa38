//! The surface syntax of annotation lines: `@name`, `@@name(arg, key: value, ...)`.
//! Values are strings, numbers, identifiers and lists of those. Policy expressions are strings
//! whose contents [`super::expr`] parses, with positions mapped back into the file.

use crate::diagnostics::{Diagnostic, Span};

#[derive(Debug, Clone)]
pub struct RawAnnotation {
    /// `true` for `@@name` (model level).
    pub model_level: bool,
    pub name: String,
    /// Span of `@name` / `@@name`.
    pub name_span: Span,
    /// Span of the whole annotation including its arguments.
    pub span: Span,
    pub args: Vec<RawArg>,
}

#[derive(Debug, Clone)]
pub struct RawArg {
    pub name: Option<(String, Span)>,
    pub value: RawValue,
}

impl RawArg {
    pub fn span(&self) -> Span {
        match &self.name {
            Some((_, s)) => Span::new(s.file, s.start, self.value.span().end),
            None => self.value.span(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum RawValue {
    /// A string literal; `map[i]` is the file offset of byte `i` of `value` (one extra entry
    /// for the end), so errors inside it point at the right column even after escapes.
    Str {
        value: String,
        map: Vec<usize>,
        span: Span,
    },
    Number {
        text: String,
        span: Span,
    },
    Ident {
        name: String,
        span: Span,
    },
    List {
        items: Vec<RawValue>,
        span: Span,
    },
}

impl RawValue {
    pub fn span(&self) -> Span {
        match self {
            RawValue::Str { span, .. } | RawValue::Number { span, .. } | RawValue::Ident { span, .. } | RawValue::List { span, .. } => {
                *span
            }
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            RawValue::Str { .. } => "a string",
            RawValue::Number { .. } => "a number",
            RawValue::Ident { name, .. } if name == "true" || name == "false" => "a boolean",
            RawValue::Ident { .. } => "an identifier",
            RawValue::List { .. } => "a list",
        }
    }
}

/// Parses the annotations on one doc line. `text` starts at file offset `base`.
pub fn parse_line(text: &str, base: usize, file: usize, out: &mut Vec<RawAnnotation>, diags: &mut Vec<Diagnostic>) {
    let mut p = Parser { src: text, pos: 0, base, file };
    loop {
        p.skip_ws();
        if p.eof() {
            return;
        }
        if !p.peek_is('@') {
            let rest = p.src[p.pos..].trim_end();
            diags.push(
                Diagnostic::error(format!("unexpected text `{rest}` after an annotation"), p.span(p.pos, p.pos + rest.len()))
                    .with_label("an annotation line holds annotations only; put prose on its own `///` line"),
            );
            return;
        }
        match p.annotation() {
            Ok(a) => out.push(a),
            Err(d) => {
                diags.push(d);
                return;
            }
        }
    }
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    base: usize,
    file: usize,
}

type PResult<T> = Result<T, Diagnostic>;

impl Parser<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, self.base + start, self.base + end)
    }

    fn eof(&self) -> bool {
        self.pos >= self.src.len()
    }

    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn peek_is(&self, c: char) -> bool {
        self.peek() == Some(c)
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if !c.is_whitespace() {
                break;
            }
            self.pos += c.len_utf8();
        }
    }

    fn error_here(&self, msg: impl Into<String>) -> Diagnostic {
        let end = self.peek().map_or(self.pos, |c| self.pos + c.len_utf8());
        Diagnostic::error(msg, self.span(self.pos, end.max(self.pos)))
    }

    fn ident(&mut self) -> Option<(String, Span)> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || c == '_' {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        (self.pos > start && !self.src[start..].starts_with(|c: char| c.is_ascii_digit()))
            .then(|| (self.src[start..self.pos].to_owned(), self.span(start, self.pos)))
    }

    fn annotation(&mut self) -> PResult<RawAnnotation> {
        let start = self.pos;
        self.pos += 1;
        let model_level = self.peek_is('@');
        if model_level {
            self.pos += 1;
        }
        let Some((name, _)) = self.ident() else {
            return Err(self.error_here("expected an annotation name after `@`"));
        };
        let name_span = self.span(start, self.pos);
        let mut args = Vec::new();
        if self.peek_is('(') {
            self.pos += 1;
            loop {
                self.skip_ws();
                if self.peek_is(')') {
                    self.pos += 1;
                    break;
                }
                args.push(self.arg()?);
                self.skip_ws();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {}
                    _ => return Err(self.error_here("expected `,` or `)` in the argument list")),
                }
            }
        }
        Ok(RawAnnotation { model_level, name, name_span, span: self.span(start, self.pos), args })
    }

    fn arg(&mut self) -> PResult<RawArg> {
        let save = self.pos;
        if let Some((name, span)) = self.ident() {
            self.skip_ws();
            if self.peek_is(':') {
                self.pos += 1;
                let value = self.value()?;
                return Ok(RawArg { name: Some((name, span)), value });
            }
        }
        self.pos = save;
        Ok(RawArg { name: None, value: self.value()? })
    }

    fn value(&mut self) -> PResult<RawValue> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some(q @ ('"' | '\'')) => self.string(q),
            Some('[') => {
                self.pos += 1;
                let mut items = Vec::new();
                loop {
                    self.skip_ws();
                    if self.peek_is(']') {
                        self.pos += 1;
                        break;
                    }
                    items.push(self.value()?);
                    self.skip_ws();
                    match self.peek() {
                        Some(',') => self.pos += 1,
                        Some(']') => {}
                        _ => return Err(self.error_here("expected `,` or `]` in the list")),
                    }
                }
                Ok(RawValue::List { items, span: self.span(start, self.pos) })
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == '.' => {
                self.pos += 1;
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                Ok(RawValue::Number { text: self.src[start..self.pos].to_owned(), span: self.span(start, self.pos) })
            }
            _ => match self.ident() {
                Some((name, span)) => Ok(RawValue::Ident { name, span }),
                None => {
                    let found = self.peek().map_or("end of line".to_owned(), |c| format!("`{c}`"));
                    Err(self.error_here(format!("expected a value (a string, number, name or list), found {found}")))
                }
            },
        }
    }

    fn string(&mut self, quote: char) -> PResult<RawValue> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut map = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(Diagnostic::error("unterminated string", self.span(start, self.pos)));
            };
            if c == quote {
                map.push(self.base + self.pos);
                self.pos += 1;
                break;
            }
            let at = self.base + self.pos;
            let c = if c == '\\' {
                self.pos += 1;
                let Some(esc) = self.peek() else {
                    return Err(Diagnostic::error("unterminated string", self.span(start, self.pos)));
                };
                match esc {
                    'n' => '\n',
                    't' => '\t',
                    '"' | '\'' | '\\' => esc,
                    // Any other backslash stays, so `"^\d+$"` is the pattern it looks like.
                    _ => {
                        map.push(at);
                        value.push('\\');
                        esc
                    }
                }
            } else {
                c
            };
            self.pos += self.peek().map_or(0, char::len_utf8);
            for _ in 0..c.len_utf8() {
                map.push(at);
            }
            value.push(c);
        }
        Ok(RawValue::Str { value, map, span: self.span(start, self.pos) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (Vec<RawAnnotation>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut diags = Vec::new();
        parse_line(s, 100, 0, &mut out, &mut diags);
        (out, diags)
    }

    #[test]
    fn parses_names_args_and_lists() {
        let (a, d) = parse(r#" @@policy(read: "a == 'x'", all: "true") @@realtime(events: [created, deleted])"#);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(a.len(), 2);
        assert!(a[0].model_level);
        assert_eq!(a[0].name, "policy");
        assert_eq!(a[0].args.len(), 2);
        assert_eq!(a[0].args[0].name.as_ref().unwrap().0, "read");
        match &a[0].args[0].value {
            RawValue::Str { value, map, .. } => {
                assert_eq!(value, "a == 'x'");
                assert_eq!(map.len(), value.len() + 1);
            }
            v => panic!("{v:?}"),
        }
        match &a[1].args[0].value {
            RawValue::List { items, .. } => assert_eq!(items.len(), 2),
            v => panic!("{v:?}"),
        }
    }

    #[test]
    fn string_escape_offsets_point_into_the_file() {
        let (a, _) = parse(r#"@readable("x == \"y\"")"#);
        let RawValue::Str { value, map, .. } = &a[0].args[0].value else { panic!() };
        assert_eq!(value, "x == \"y\"");
        // `y` is value byte 6; in the line it is at byte 18 (after `\"`).
        assert_eq!(map[6], 100 + 18);
    }

    #[test]
    fn unknown_escapes_keep_their_backslash() {
        let (a, _) = parse(r#"@validate(regex: "^\d+\\x$")"#);
        let RawValue::Str { value, map, .. } = &a[0].args[0].value else { panic!() };
        assert_eq!(value, r"^\d+\x$");
        assert_eq!(map.len(), value.len() + 1);
    }

    #[test]
    fn trailing_prose_is_an_error() {
        let (_, d) = parse("@readOnly because the server sets it");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("unexpected text"));
        assert_eq!(d[0].span.unwrap().start, 110);
    }

    #[test]
    fn unterminated_argument_list() {
        let (_, d) = parse("@validate(minLength: 3");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("expected `,` or `)`"), "{}", d[0].message);
    }
}
