//! Policy expressions (SPEC section 3): lexer and precedence-climbing parser producing an
//! untyped tree with file spans. Typing and name resolution happen in [`super::check`].
//!
//! ```text
//! expr := or;  or := and ("||" and)*;  and := not ("&&" not)*;  not := "!" not | cmp
//! cmp  := term (op term)?   op: == != < <= > >= in, not in
//! term := literal | path | "(" expr ")" | list | path "." quant "(" expr ")"
//! ```

use crate::diagnostics::{Diagnostic, Span};
pub use crate::ir::policy::{CmpOp, Quant};

#[derive(Debug, Clone, PartialEq)]
pub enum RawLit {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RawExpr {
    Lit(RawLit, Span),
    List(Vec<RawExpr>, Span),
    Path(Vec<(String, Span)>),
    Quant { path: Vec<(String, Span)>, quant: Quant, body: Box<RawExpr>, span: Span },
    Not(Box<RawExpr>, Span),
    And(Vec<RawExpr>),
    Or(Vec<RawExpr>),
    Cmp { op: CmpOp, op_span: Span, lhs: Box<RawExpr>, rhs: Box<RawExpr> },
}

impl RawExpr {
    pub fn span(&self) -> Span {
        match self {
            RawExpr::Lit(_, s) | RawExpr::List(_, s) | RawExpr::Not(_, s) => *s,
            RawExpr::Quant { span, .. } => *span,
            RawExpr::Path(segs) => join(segs[0].1, segs[segs.len() - 1].1),
            RawExpr::And(xs) | RawExpr::Or(xs) => join(xs[0].span(), xs[xs.len() - 1].span()),
            RawExpr::Cmp { lhs, rhs, .. } => join(lhs.span(), rhs.span()),
        }
    }
}

fn join(a: Span, b: Span) -> Span {
    Span::new(a.file, a.start.min(b.start), a.end.max(b.end))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(String),
    Sym(&'static str),
}

struct Lexed {
    tok: Tok,
    span: Span,
}

const SYMBOLS: [&str; 14] = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "[", "]", ","];

fn lex(src: &str, map: &[usize], file: usize) -> Result<Vec<Lexed>, Diagnostic> {
    let at = |i: usize| map.get(i).copied().unwrap_or_else(|| map.last().copied().unwrap_or(0));
    let span = |s: usize, e: usize| Span::new(file, at(s), if e > s { at(e - 1) + 1 } else { at(s) });
    let mut out = Vec::new();
    let bytes = src.as_bytes();
    let mut i = 0;
    while i < src.len() {
        let c = src[i..].chars().next().unwrap_or(' ');
        if c.is_whitespace() {
            i += c.len_utf8();
            continue;
        }
        let start = i;
        if c == '\'' || c == '"' {
            i += 1;
            let mut value = String::new();
            loop {
                let Some(ch) = src[i..].chars().next() else {
                    return Err(Diagnostic::error("unterminated string in expression", span(start, i)));
                };
                i += ch.len_utf8();
                if ch == c {
                    break;
                }
                if ch == '\\' {
                    if let Some(esc) = src[i..].chars().next() {
                        i += esc.len_utf8();
                        value.push(esc);
                    }
                    continue;
                }
                value.push(ch);
            }
            out.push(Lexed { tok: Tok::Str(value), span: span(start, i) });
        } else if c.is_ascii_digit() || (c == '-' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            i += 1;
            while i < src.len() && (bytes[i].is_ascii_digit() || (bytes[i] == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit))) {
                i += 1;
            }
            out.push(Lexed { tok: Tok::Num(src[start..i].to_owned()), span: span(start, i) });
        } else if c.is_alphabetic() || c == '_' {
            while let Some(ch) = src[i..].chars().next() {
                if ch.is_alphanumeric() || ch == '_' {
                    i += ch.len_utf8();
                } else {
                    break;
                }
            }
            out.push(Lexed { tok: Tok::Ident(src[start..i].to_owned()), span: span(start, i) });
        } else if c == '.' {
            i += 1;
            out.push(Lexed { tok: Tok::Sym("."), span: span(start, i) });
        } else if let Some(sym) = SYMBOLS.iter().find(|s| src[i..].starts_with(**s)) {
            i += sym.len();
            out.push(Lexed { tok: Tok::Sym(sym), span: span(start, i) });
        } else {
            let hint = match c {
                '=' => " (use `==` to compare)",
                '&' => " (use `&&`)",
                '|' => " (use `||`)",
                _ => "",
            };
            return Err(Diagnostic::error(format!("unexpected character `{c}` in expression{hint}"), span(start, i + c.len_utf8())));
        }
    }
    Ok(out)
}

/// Parses an expression whose text is `src`; `map[i]` is the file offset of byte `i`.
pub fn parse(src: &str, map: &[usize], file: usize) -> Result<RawExpr, Diagnostic> {
    let toks = lex(src, map, file)?;
    let end = map.last().copied().unwrap_or(0);
    let mut p = ExprParser { toks, pos: 0, end: Span::new(file, end, end) };
    if p.toks.is_empty() {
        return Err(Diagnostic::error("empty policy expression", p.end).with_label("write a condition, e.g. `auth != null`"));
    }
    let e = p.or()?;
    if let Some(t) = p.toks.get(p.pos) {
        return Err(Diagnostic::error(format!("unexpected {} after the end of the expression", describe(&t.tok)), t.span)
            .with_label("expected `&&`, `||` or the end of the expression"));
    }
    Ok(e)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("`{s}`"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Num(n) => format!("number {n}"),
        Tok::Sym(s) => format!("`{s}`"),
    }
}

struct ExprParser {
    toks: Vec<Lexed>,
    pos: usize,
    end: Span,
}

impl ExprParser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn peek_span(&self) -> Span {
        self.toks.get(self.pos).map_or(self.end, |t| t.span)
    }

    fn eat(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, expected: &str) -> Diagnostic {
        let found = self.peek().map_or("the end of the expression".to_owned(), describe);
        Diagnostic::error(format!("expected {expected}, found {found}"), self.peek_span())
    }

    fn or(&mut self) -> Result<RawExpr, Diagnostic> {
        let mut xs = vec![self.and()?];
        while self.eat("||") {
            xs.push(self.and()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { RawExpr::Or(xs) })
    }

    fn and(&mut self) -> Result<RawExpr, Diagnostic> {
        let mut xs = vec![self.not()?];
        while self.eat("&&") {
            xs.push(self.not()?);
        }
        Ok(if xs.len() == 1 { xs.remove(0) } else { RawExpr::And(xs) })
    }

    fn not(&mut self) -> Result<RawExpr, Diagnostic> {
        let start = self.peek_span();
        if self.eat("!") {
            let inner = self.not()?;
            let span = join(start, inner.span());
            return Ok(RawExpr::Not(Box::new(inner), span));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<RawExpr, Diagnostic> {
        let lhs = self.term()?;
        let op_span = self.peek_span();
        let op = match self.peek() {
            Some(Tok::Sym("==")) => CmpOp::Eq,
            Some(Tok::Sym("!=")) => CmpOp::Ne,
            Some(Tok::Sym("<")) => CmpOp::Lt,
            Some(Tok::Sym("<=")) => CmpOp::Le,
            Some(Tok::Sym(">")) => CmpOp::Gt,
            Some(Tok::Sym(">=")) => CmpOp::Ge,
            Some(Tok::Ident(w)) if w == "in" => CmpOp::In,
            Some(Tok::Ident(w)) if w == "not" => {
                if matches!(self.toks.get(self.pos + 1).map(|t| &t.tok), Some(Tok::Ident(w)) if w == "in") {
                    self.pos += 1;
                    CmpOp::NotIn
                } else {
                    return Err(
                        Diagnostic::error("expected `in` after `not`", self.toks[self.pos].span).with_label("negate a condition with `!`")
                    );
                }
            }
            _ => return Ok(lhs),
        };
        let op_span = join(op_span, self.toks[self.pos].span);
        self.pos += 1;
        let rhs = self.term()?;
        Ok(RawExpr::Cmp { op, op_span, lhs: Box::new(lhs), rhs: Box::new(rhs) })
    }

    fn term(&mut self) -> Result<RawExpr, Diagnostic> {
        let Some(t) = self.toks.get(self.pos) else {
            return Err(self.unexpected("a value or condition"));
        };
        let span = t.span;
        match t.tok.clone() {
            Tok::Sym("(") => {
                self.pos += 1;
                let e = self.or()?;
                if !self.eat(")") {
                    return Err(self.unexpected("`)`"));
                }
                Ok(e)
            }
            Tok::Sym("[") => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.eat("]") {
                    items.push(self.term()?);
                    if !self.eat(",") && !matches!(self.peek(), Some(Tok::Sym("]"))) {
                        return Err(self.unexpected("`,` or `]`"));
                    }
                }
                let end = self.toks[self.pos - 1].span;
                Ok(RawExpr::List(items, join(span, end)))
            }
            Tok::Str(s) => {
                self.pos += 1;
                Ok(RawExpr::Lit(RawLit::Str(s), span))
            }
            Tok::Num(n) => {
                self.pos += 1;
                let lit = match n.parse::<i64>() {
                    Ok(i) => RawLit::Int(i),
                    Err(_) => match n.parse::<f64>() {
                        Ok(f) => RawLit::Float(f),
                        Err(_) => return Err(Diagnostic::error(format!("`{n}` is not a number"), span)),
                    },
                };
                Ok(RawExpr::Lit(lit, span))
            }
            Tok::Ident(w) if w == "true" || w == "false" => {
                self.pos += 1;
                Ok(RawExpr::Lit(RawLit::Bool(w == "true"), span))
            }
            Tok::Ident(w) if w == "null" => {
                self.pos += 1;
                Ok(RawExpr::Lit(RawLit::Null, span))
            }
            Tok::Ident(first) => {
                self.pos += 1;
                let mut path = vec![(first, span)];
                while self.eat(".") {
                    let Some(Lexed { tok: Tok::Ident(name), span }) = self.toks.get(self.pos) else {
                        return Err(self.unexpected("a field name after `.`"));
                    };
                    let (name, seg_span) = (name.clone(), *span);
                    self.pos += 1;
                    let quant = match name.as_str() {
                        "some" => Some(Quant::Some),
                        "every" => Some(Quant::Every),
                        "none" => Some(Quant::None),
                        _ => None,
                    };
                    if let (Some(quant), true) = (quant, matches!(self.peek(), Some(Tok::Sym("(")))) {
                        self.pos += 1;
                        let body = self.or()?;
                        if !self.eat(")") {
                            return Err(self.unexpected("`)` closing the quantifier"));
                        }
                        let end = self.toks[self.pos - 1].span;
                        return Ok(RawExpr::Quant { span: join(path[0].1, end), path, quant, body: Box::new(body) });
                    }
                    path.push((name, seg_span));
                }
                Ok(RawExpr::Path(path))
            }
            other => Err(Diagnostic::error(format!("expected a value or condition, found {}", describe(&other)), span)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<RawExpr, Diagnostic> {
        let map: Vec<usize> = (0..=s.len()).collect();
        parse(s, &map, 0)
    }

    fn shape(e: &RawExpr) -> String {
        match e {
            RawExpr::Lit(l, _) => format!("{l:?}"),
            RawExpr::List(xs, _) => format!("[{}]", xs.iter().map(shape).collect::<Vec<_>>().join(",")),
            RawExpr::Path(segs) => segs.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join("."),
            RawExpr::Quant { path, quant, body, .. } => {
                format!("{}.{quant:?}({})", path.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join("."), shape(body))
            }
            RawExpr::Not(x, _) => format!("!({})", shape(x)),
            RawExpr::And(xs) => format!("and({})", xs.iter().map(shape).collect::<Vec<_>>().join(", ")),
            RawExpr::Or(xs) => format!("or({})", xs.iter().map(shape).collect::<Vec<_>>().join(", ")),
            RawExpr::Cmp { op, lhs, rhs, .. } => format!("({} {} {})", shape(lhs), op.as_str(), shape(rhs)),
        }
    }

    #[test]
    fn precedence_and_binds_tighter_than_or() {
        let e = p("a == 1 || b == 2 && !c").unwrap();
        assert_eq!(shape(&e), "or((a == Int(1)), and((b == Int(2)), !(c)))");
    }

    #[test]
    fn not_applies_to_a_comparison() {
        assert_eq!(shape(&p("!a == b").unwrap()), "!((a == b))");
        assert_eq!(shape(&p("!(a || b)").unwrap()), "!(or(a, b))");
    }

    #[test]
    fn every_operator() {
        for (src, op) in [
            ("a == 1", "=="),
            ("a != 1", "!="),
            ("a < 1", "<"),
            ("a <= 1", "<="),
            ("a > 1", ">"),
            ("a >= 1", ">="),
            ("a in [1, 2]", "in"),
            ("a not in [1, 2]", "not in"),
        ] {
            let e = p(src).unwrap();
            let RawExpr::Cmp { op: got, .. } = e else { panic!("{src}") };
            assert_eq!(got.as_str(), op);
        }
    }

    #[test]
    fn literals_paths_and_quantifiers() {
        let e = p("author.role == ADMIN && comments.some(authorId == auth.id) && x == 'it''s' || y == -1.5").unwrap_err();
        assert!(e.message.contains("unexpected"), "{}", e.message);
        let e = p("author.role == ADMIN && comments.some(authorId == auth.id) && t == \"x\" && n >= -1.5 && z == null").unwrap();
        assert_eq!(
            shape(&e),
            "and((author.role == ADMIN), comments.Some((authorId == auth.id)), (t == Str(\"x\")), (n >= Float(-1.5)), (z == Null))"
        );
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = p("a = 1").unwrap_err();
        assert!(e.message.contains("use `==`"));
        assert_eq!(e.span.unwrap().start, 2);
        let e = p("a == ").unwrap_err();
        assert!(e.message.contains("expected a value"), "{}", e.message);
        let e = p("(a == 1").unwrap_err();
        assert!(e.message.contains("`)`"));
        let e = p("").unwrap_err();
        assert!(e.message.contains("empty"));
        let e = p("a not b").unwrap_err();
        assert!(e.message.contains("expected `in` after `not`"));
    }
}
