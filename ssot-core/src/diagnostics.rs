//! Located diagnostics: every error about the user's input points at a file, a line and a
//! column, shows the line and puts a caret under the span. Errors are collected, never thrown
//! one at a time, so a user sees all of them in one run.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config as TermConfig};
use std::fmt;

/// One input file as the user wrote it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path shown in messages (as given, relative paths stay relative).
    pub name: String,
    /// The file's text.
    pub text: String,
}

/// The set of input files a run reads; a [`Span`] names one of them by index.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its index for [`Span::file`].
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> usize {
        self.files.push(SourceFile { name: name.into(), text: text.into() });
        self.files.len() - 1
    }

    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    pub fn get(&self, file: usize) -> &SourceFile {
        &self.files[file]
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, file: usize, offset: usize) -> (usize, usize) {
        let text = &self.files[file].text;
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A byte range in one of the [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub file: usize,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: usize, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem with the input.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub span: Option<Span>,
    /// Text shown under the caret ("did you mean ...").
    pub label: Option<String>,
    /// Extra lines after the snippet.
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>, span: Span) -> Self {
        Diagnostic { severity: Severity::Error, message: message.into(), span: Some(span), label: None, notes: Vec::new() }
    }

    pub fn warning(message: impl Into<String>, span: Span) -> Self {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(message, span) }
    }

    /// An error that belongs to no place in a file (a missing schema, say).
    pub fn global(message: impl Into<String>) -> Self {
        Diagnostic { span: None, ..Diagnostic::error(message, Span::default()) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// All diagnostics of a run together with the sources they point into, so they can be rendered
/// anywhere (cargo output, `compile_error!`, the CLI's stderr).
#[derive(Clone)]
pub struct Report {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error)
    }

    /// `file:line:column` of a diagnostic, if it has a place.
    pub fn location(&self, d: &Diagnostic) -> Option<String> {
        let span = d.span?;
        let (line, col) = self.sources.line_col(span.file, span.start);
        Some(format!("{}:{line}:{col}", self.sources.get(span.file).name))
    }

    /// One line per diagnostic: `file:line:column: message (label; notes)`, for outputs that
    /// take single lines (cargo's `cargo::error=` and `cargo::warning=`).
    pub fn short_lines(&self) -> Vec<(Severity, String)> {
        self.diagnostics
            .iter()
            .map(|d| {
                let mut line = match self.location(d) {
                    Some(at) => format!("{at}: {}", d.message),
                    None => d.message.clone(),
                };
                let extra: Vec<&str> =
                    d.label.iter().chain(&d.notes).map(String::as_str).filter(|t| !t.is_empty() && !d.message.contains(t)).collect();
                if !extra.is_empty() {
                    line = format!("{line} ({})", extra.join("; "));
                }
                (d.severity, line.replace(['\n', '\r'], " "))
            })
            .collect()
    }

    /// Renders every diagnostic as plain text: a headline, then `--> file:line:column`, the
    /// source line and a caret under the span.
    pub fn render(&self) -> String {
        let mut files = SimpleFiles::new();
        for f in self.sources.files() {
            files.add(f.name.clone(), f.text.clone());
        }
        let config = TermConfig::default();
        let mut out = String::new();
        for d in &self.diagnostics {
            let mut cs = match d.severity {
                Severity::Error => CsDiagnostic::error(),
                Severity::Warning => CsDiagnostic::warning(),
            }
            .with_message(&d.message)
            .with_notes(d.notes.clone());
            if let Some(span) = d.span {
                let mut label = Label::primary(span.file, span.start..span.end.max(span.start));
                if let Some(text) = &d.label {
                    label = label.with_message(text);
                }
                cs = cs.with_labels(vec![label]);
            }
            let mut buf = String::new();
            if term::emit_to_string(&mut buf, &config, &files, &cs).is_err() {
                // A span outside its file would be our bug; still say what is wrong.
                buf = format!("{}: {}\n", severity_word(d.severity), d.message);
            }
            out.push_str(&buf);
        }
        let errors = self.errors().count();
        if errors > 1 {
            out.push_str(&format!("error: aborting due to {errors} previous errors\n"));
        }
        out
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl fmt::Debug for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

/// Suggests the closest of `candidates` to `name`, for "did you mean" hints.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&name.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
