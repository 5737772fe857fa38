//! A document model with prettier's semantics, and its printer: the one place where the
//! TypeScript output is fitted to `printWidth`.
//!
//! The emitters describe code as [`Doc`]s (usually through the estree-like builders of
//! [`super::js`]); [`print`] lays them out the way prettier's `printDocToString` does: a group is
//! printed flat when its contents fit in the rest of the line (measured up to the next possible
//! line break after it), else broken; a conditional group tries its states in order; a hard line
//! breaks every group around it. The emitted text is then exactly what `prettier --check` wants,
//! for identifiers of any length.

use std::rc::Rc;
use unicode_width::UnicodeWidthStr;

/// Longest line prettier keeps on one line (`printWidth` in the generated `.prettierrc`).
pub const PRINT_WIDTH: usize = 100;

#[derive(Clone, Debug)]
pub enum Doc {
    /// Text without a line break (a literal of the generator: no allocation).
    Static(&'static str),
    Text(Rc<str>),
    Concat(Rc<[Doc]>),
    Group(Rc<Group>),
    Indent(Rc<Doc>),
    /// `indent(contents)` if the group `id` is broken, else `contents`.
    IndentIfBreak(usize, Rc<Doc>),
    Line(Line),
    /// `broken` if the enclosing group (or the group `id`) is broken, else `flat`.
    IfBreak {
        broken: Rc<Doc>,
        flat: Rc<Doc>,
        group: Option<usize>,
    },
    /// Breaks every enclosing group.
    BreakParent,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Line {
    /// A space, or a line break.
    Normal,
    /// Nothing, or a line break.
    Soft,
    /// Always a line break.
    Hard,
}

#[derive(Debug)]
pub struct Group {
    contents: Doc,
    /// `will_break` of the group, computed once.
    will_break: bool,
    /// Broken by a hard line inside, or asked for.
    broken: bool,
    id: Option<usize>,
    /// A conditional group: the states tried in order (`contents` is the first).
    states: Vec<Doc>,
}

impl Doc {
    pub fn text(s: impl Into<Rc<str>>) -> Doc {
        Doc::Text(s.into())
    }

    /// Does printing this doc force a line break (prettier's `willBreak`)?
    pub fn will_break(&self) -> bool {
        match self {
            Doc::Text(_) | Doc::Static(_) => false,
            Doc::Concat(parts) => parts.iter().any(Doc::will_break),
            Doc::Group(g) => g.will_break,
            Doc::Indent(d) | Doc::IndentIfBreak(_, d) => d.will_break(),
            Doc::Line(l) => *l == Line::Hard,
            Doc::IfBreak { broken, flat, .. } => broken.will_break() || flat.will_break(),
            Doc::BreakParent => true,
        }
    }

    /// Does a hard break inside break the group around this doc? (prettier's `propagateBreaks`:
    /// not through a conditional group, whose states handle breaks themselves.)
    fn propagates(&self) -> bool {
        match self {
            Doc::Text(_) | Doc::Static(_) => false,
            Doc::Concat(parts) => parts.iter().any(Doc::propagates),
            Doc::Group(g) => g.states.is_empty() && g.broken,
            Doc::Indent(d) | Doc::IndentIfBreak(_, d) => d.propagates(),
            Doc::Line(l) => *l == Line::Hard,
            Doc::IfBreak { broken, flat, .. } => broken.propagates() || flat.propagates(),
            Doc::BreakParent => true,
        }
    }
}

impl From<&'static str> for Doc {
    fn from(s: &'static str) -> Doc {
        Doc::Static(s)
    }
}

impl From<String> for Doc {
    fn from(s: String) -> Doc {
        Doc::text(s)
    }
}

pub fn concat(parts: impl IntoIterator<Item = Doc>) -> Doc {
    Doc::Concat(parts.into_iter().collect())
}

pub fn group(contents: Doc) -> Doc {
    group_with(contents, false, None)
}

/// A group that is broken from the start.
pub fn broken_group(contents: Doc) -> Doc {
    group_with(contents, true, None)
}

pub fn group_with(contents: Doc, broken: bool, id: Option<usize>) -> Doc {
    let broken = broken || contents.propagates();
    let will_break = broken || contents.will_break();
    Doc::Group(Rc::new(Group { contents, will_break, broken, id, states: Vec::new() }))
}

/// prettier's `conditionalGroup`: the first state that fits flat (or the last, broken).
pub fn conditional_group(states: Vec<Doc>) -> Doc {
    let contents = states[0].clone();
    let will_break = contents.will_break();
    Doc::Group(Rc::new(Group { contents, will_break, broken: false, id: None, states }))
}

pub fn indent(contents: Doc) -> Doc {
    Doc::Indent(Rc::new(contents))
}

pub fn indent_if_break(id: usize, contents: Doc) -> Doc {
    Doc::IndentIfBreak(id, Rc::new(contents))
}

pub fn if_break(broken: impl Into<Doc>, flat: impl Into<Doc>) -> Doc {
    Doc::IfBreak { broken: Rc::new(broken.into()), flat: Rc::new(flat.into()), group: None }
}

pub fn line() -> Doc {
    Doc::Line(Line::Normal)
}

pub fn softline() -> Doc {
    Doc::Line(Line::Soft)
}

pub fn hardline() -> Doc {
    Doc::Line(Line::Hard)
}

/// `items` separated by `sep`.
pub fn join(sep: Doc, items: impl IntoIterator<Item = Doc>) -> Doc {
    let mut parts = Vec::new();
    for (i, d) in items.into_iter().enumerate() {
        if i > 0 {
            parts.push(sep.clone());
        }
        parts.push(d);
    }
    concat(parts)
}

/// Text that may span lines (a fixed piece of code): its lines joined by hard lines, so that
/// they take the indentation of where the piece is placed.
pub fn verbatim(text: &str) -> Doc {
    join(hardline(), text.split('\n').map(Doc::text))
}

thread_local! {
    static NEXT_ID: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A fresh id for a group that [`if_break`]-like docs refer to.
pub fn group_id() -> usize {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// Display width as prettier counts it (East Asian wide characters count two).
pub fn width(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { UnicodeWidthStr::width(s) }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Flat,
    Break,
}

struct Cmd<'a> {
    indent: usize,
    mode: Mode,
    doc: &'a Doc,
}

/// Lays `doc` out at `PRINT_WIDTH`, as prettier's printer does.
pub fn print(doc: &Doc) -> String {
    let mut out = String::with_capacity(4096);
    let mut scratch = Vec::new();
    let mut pos = 0usize;
    let mut modes: std::collections::HashMap<usize, Mode> = Default::default();
    let mut cmds = vec![Cmd { indent: 0, mode: Mode::Break, doc }];
    let mut remeasure = false;
    while let Some(Cmd { indent: ind, mode, doc }) = cmds.pop() {
        match doc {
            Doc::Text(s) => {
                out.push_str(s);
                pos += width(s);
            }
            Doc::Static(s) => {
                out.push_str(s);
                pos += width(s);
            }
            Doc::Concat(parts) => {
                for p in parts.iter().rev() {
                    cmds.push(Cmd { indent: ind, mode, doc: p });
                }
            }
            Doc::Indent(d) => cmds.push(Cmd { indent: ind + 2, mode, doc: d }),
            Doc::IndentIfBreak(id, d) => {
                let broken = modes.get(id).copied().unwrap_or(Mode::Flat) == Mode::Break;
                cmds.push(Cmd { indent: if broken { ind + 2 } else { ind }, mode, doc: d });
            }
            Doc::BreakParent => {}
            Doc::IfBreak { broken, flat, group } => {
                let m = group.map_or(mode, |id| modes.get(&id).copied().unwrap_or(Mode::Flat));
                cmds.push(Cmd { indent: ind, mode, doc: if m == Mode::Break { broken } else { flat } });
            }
            Doc::Group(g) => {
                let chosen = match mode {
                    // After a hard line inside a flat group, the groups that follow are measured
                    // again (prettier's `shouldRemeasure`).
                    Mode::Flat if !remeasure => {
                        Cmd { indent: ind, mode: if g.broken { Mode::Break } else { Mode::Flat }, doc: &g.contents }
                    }
                    _ => {
                        remeasure = false;
                        let rem = PRINT_WIDTH as isize - pos as isize;
                        let next = Cmd { indent: ind, mode: Mode::Flat, doc: &g.contents };
                        if !g.broken && fits(&next, &cmds, rem, &modes, &mut scratch) {
                            next
                        } else if g.states.is_empty() {
                            Cmd { indent: ind, mode: Mode::Break, doc: &g.contents }
                        } else {
                            let last = g.states.last().unwrap_or(&g.contents);
                            let mut pick = Cmd { indent: ind, mode: Mode::Break, doc: last };
                            if !g.broken {
                                for state in &g.states[1..] {
                                    let c = Cmd { indent: ind, mode: Mode::Flat, doc: state };
                                    if fits(&c, &cmds, rem, &modes, &mut scratch) {
                                        pick = c;
                                        break;
                                    }
                                }
                            }
                            pick
                        }
                    }
                };
                if let Some(id) = g.id {
                    modes.insert(id, chosen.mode);
                }
                cmds.push(chosen);
            }
            Doc::Line(kind) => {
                if mode == Mode::Flat {
                    if *kind != Line::Hard {
                        if *kind == Line::Normal {
                            out.push(' ');
                            pos += 1;
                        }
                        continue;
                    }
                    remeasure = true;
                }
                let trimmed = out.trim_end_matches([' ', '\t']).len();
                out.truncate(trimmed);
                out.push('\n');
                for _ in 0..ind {
                    out.push(' ');
                }
                pos = ind;
            }
        }
    }
    out
}

/// prettier's `fits`: does `next`, followed by the rest of the commands up to their first line
/// break, fit in `width` columns?
fn fits<'a>(
    next: &Cmd<'a>,
    rest: &[Cmd<'a>],
    width: isize,
    modes: &std::collections::HashMap<usize, Mode>,
    stack: &mut Vec<(Mode, &'a Doc)>,
) -> bool {
    let mut width = width;
    let mut rest_idx = rest.len();
    stack.clear();
    stack.push((next.mode, next.doc));
    while width >= 0 {
        let Some((mode, doc)) = stack.pop() else {
            if rest_idx == 0 {
                return true;
            }
            rest_idx -= 1;
            stack.push((rest[rest_idx].mode, rest[rest_idx].doc));
            continue;
        };
        match doc {
            Doc::Text(s) => width -= self::width(s) as isize,
            Doc::Static(s) => width -= self::width(s) as isize,
            Doc::Concat(parts) => {
                for p in parts.iter().rev() {
                    stack.push((mode, p));
                }
            }
            Doc::Indent(d) | Doc::IndentIfBreak(_, d) => stack.push((mode, d)),
            Doc::Group(g) => {
                let m = if g.broken { Mode::Break } else { mode };
                let contents = if m == Mode::Break && !g.states.is_empty() { g.states.last().unwrap_or(&g.contents) } else { &g.contents };
                stack.push((m, contents));
            }
            Doc::IfBreak { broken, flat, group } => {
                let m = group.map_or(mode, |id| modes.get(&id).copied().unwrap_or(Mode::Flat));
                stack.push((mode, if m == Mode::Break { broken } else { flat }));
            }
            Doc::Line(kind) => {
                if mode == Mode::Break || *kind == Line::Hard {
                    return true;
                }
                if *kind == Line::Normal {
                    width -= 1;
                }
            }
            Doc::BreakParent => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(items: &[&str]) -> Doc {
        group(concat([
            "(".into(),
            indent(concat([softline(), join(concat([",".into(), line()]), items.iter().map(|s| Doc::text(*s)))])),
            if_break(",", ""),
            softline(),
            ")".into(),
        ]))
    }

    #[test]
    fn a_group_breaks_only_when_it_does_not_fit() {
        let short = concat(["f".into(), args(&["a", "b"]), ";".into()]);
        assert_eq!(print(&short), "f(a, b);");
        let long = "x".repeat(60);
        let doc = concat(["f".into(), args(&[&long, &long]), ";".into()]);
        assert_eq!(print(&doc), format!("f(\n  {long},\n  {long},\n);"));
    }

    #[test]
    fn the_rest_of_the_line_counts_when_fitting() {
        // `f(` and 96 columns fit; the closing `) {}` pushes the line past 100.
        let a = "a".repeat(96);
        let doc = concat(["f".into(), args(&[&a]), " {}".into()]);
        assert_eq!(print(&doc), format!("f(\n  {a},\n) {{}}"));
        let doc = concat(["f".into(), args(&[&a[..90]]), " {}".into()]);
        assert_eq!(print(&doc).lines().count(), 1);
    }

    #[test]
    fn hard_lines_break_the_groups_around_them() {
        let doc = group(concat(["{".into(), indent(concat([line(), "a: 1,".into(), hardline(), "b: 2".into()])), line(), "}".into()]));
        assert_eq!(print(&doc), "{\n  a: 1,\n  b: 2\n}");
    }

    #[test]
    fn widths_count_wide_characters_twice() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("日本"), 4);
    }
}
