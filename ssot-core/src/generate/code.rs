//! A small indentation-aware text writer for generated source.
//!
//! Generators write formatted text directly instead of building token trees and formatting
//! them afterwards: a 100-model schema yields megabytes of code, and parsing and re-printing
//! that costs far more than writing it well the first time.

use std::fmt::Write as _;

#[derive(Default)]
pub struct Code {
    buf: String,
    indent: usize,
    /// Docs as `#[doc = "..."]` attributes rather than `///` comments (for proc macros, whose
    /// output editors show from the attribute's value).
    doc_attributes: bool,
}

impl Code {
    pub fn new() -> Self {
        Code { buf: String::with_capacity(64 * 1024), indent: 0, doc_attributes: false }
    }

    /// A writer that prints docs as `#[doc = "..."]` attributes.
    pub fn with_doc_attributes() -> Self {
        Code { doc_attributes: true, ..Code::new() }
    }

    /// One line at the current indentation (an empty `s` gives an empty line).
    pub fn line(&mut self, s: impl AsRef<str>) -> &mut Self {
        let s = s.as_ref();
        if !s.is_empty() {
            for _ in 0..self.indent {
                self.buf.push_str("    ");
            }
            self.buf.push_str(s);
        }
        self.buf.push('\n');
        self
    }

    /// A line that opens a block (`... {`); what follows is indented.
    pub fn open(&mut self, s: impl AsRef<str>) -> &mut Self {
        self.line(s);
        self.indent += 1;
        self
    }

    /// A line that closes a block, one level out.
    pub fn close(&mut self, s: impl AsRef<str>) -> &mut Self {
        self.indent = self.indent.saturating_sub(1);
        self.line(s)
    }

    /// `/// text` doc lines; nothing for `None`.
    pub fn doc(&mut self, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            for l in text.lines() {
                if self.doc_attributes {
                    let l = format!("#[doc = {}]", rust_str(&format!(" {l}")));
                    self.line(l);
                } else if l.is_empty() {
                    self.line("///");
                } else {
                    let l = format!("/// {l}");
                    self.line(l);
                }
            }
        }
        self
    }

    /// Appends already formatted text, re-indented to the current level.
    pub fn block(&mut self, text: &str) -> &mut Self {
        for l in text.lines() {
            self.line(l);
        }
        self
    }

    pub fn finish(self) -> String {
        self.buf
    }
}

/// A raw Rust string literal for `s` (`r#"..."#` with as many `#` as it needs).
pub fn rust_raw_str(s: &str) -> String {
    let mut hashes = 1;
    while s.contains(&format!("\"{}", "#".repeat(hashes))) {
        hashes += 1;
    }
    let h = "#".repeat(hashes);
    format!("r{h}\"{s}\"{h}")
}

/// A Rust string literal for `s`.
pub fn rust_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_blocks_and_escapes_strings() {
        let mut c = Code::new();
        c.doc(Some("A thing.\n\nMore.")).open("struct A {").line("x: u8,").close("}");
        assert_eq!(c.finish(), "/// A thing.\n///\n/// More.\nstruct A {\n    x: u8,\n}\n");
        let mut c = Code::with_doc_attributes();
        c.doc(Some("A \"thing\".\n\nMore."));
        assert_eq!(c.finish(), "#[doc = \" A \\\"thing\\\".\"]\n#[doc = \" \"]\n#[doc = \" More.\"]\n");
        assert_eq!(rust_str("a\"b\\c\nd\u{1}é"), "\"a\\\"b\\\\c\\nd\\u{1}é\"");
    }
}
