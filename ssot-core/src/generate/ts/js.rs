//! A small TypeScript syntax tree for the code the generator writes, printed into [`Doc`]s the
//! way prettier's estree printer builds its docs: call arguments (with the last object, array or
//! arrow function hugged), member chains, object literals, arrow functions, assignments and
//! properties (prettier's assignment layouts), parameter lists, type arguments and imports.
//!
//! Only the shapes the generator emits are modelled; each follows the corresponding function of
//! prettier (`printCallArguments`, `printMemberChain`, `printArrowFunction`, `chooseLayout`,
//! `printFunctionParameters`, `printTypeParameters`, `printModuleSpecifiers`), and the output is
//! checked against prettier itself by the tests of `tests/ts` (the property test with random
//! identifiers of 1 to 80 characters).

use super::doc::*;

/// An expression.
#[derive(Clone, Debug)]
pub enum E {
    /// An identifier, a number, `this`, `true`: printed as is, never broken.
    Id(String),
    /// A string literal, quoted.
    Str(String),
    Member(Box<E>, String),
    Call(Box<E>, Vec<E>),
    /// `new Name(args)`.
    New(String, Vec<E>),
    /// An object literal; `expanded` keeps it broken (prettier keeps objects that have a line
    /// break after `{` in the source broken).
    Obj(Vec<P>, bool),
    Arr(Vec<E>),
    Arrow(Box<Arrow>),
    /// `expr as Type`.
    As(Box<E>, T),
    Await(Box<E>),
    Spread(Box<E>),
    /// `test ? yes : no`.
    Cond(Box<E>, Box<E>, Box<E>),
}

/// A property of an object literal.
#[derive(Clone, Debug)]
pub enum P {
    /// `key: value` (the key as printed: `ts_key` quotes it when it must).
    Kv(String, E),
    /// `name`.
    Shorthand(String),
    /// `name(params): Ret { body }`, with the body's statements already printed.
    Method(String, Vec<Param>, Option<T>, Doc),
    /// A property after its doc comment.
    Commented(Doc, Box<P>),
}

#[derive(Clone, Debug)]
pub struct Arrow {
    pub params: Vec<Param>,
    pub ret: Option<T>,
    pub body: Body,
}

#[derive(Clone, Debug)]
pub enum Body {
    Expr(E),
    /// A block, with its statements already printed (each followed by a hard line but the last).
    Block(Doc),
}

/// A parameter: `name?: Type = default`.
#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub optional: bool,
    pub ty: Option<T>,
    pub default: Option<E>,
}

/// A type.
#[derive(Clone, Debug)]
pub enum T {
    /// `Name` or `Name<args>`.
    Ref(String, Vec<T>),
    /// `T[]`.
    Array(Box<T>),
    /// `{ key: T; other?: U }`.
    Object(Vec<(String, bool, T)>),
    /// `(params) => Ret`.
    Fn(Vec<Param>, Box<T>),
}

pub fn id(s: impl Into<String>) -> E {
    E::Id(s.into())
}

/// A string literal of `s` (JSON escapes are valid TypeScript escapes), in double quotes unless
/// `s` holds more double quotes than single ones, as prettier chooses.
/// `const <name>: <ty> = <value>;` of a JSON value, printed (a template's settings).
pub fn json_const(name: &str, ty: &str, value: &serde_json::Value) -> String {
    render(&const_decl(false, name, Some(&self::ty(ty)), &json(value)))
}

/// A JSON value as a TypeScript expression (plugin options, settings).
pub fn json(v: &serde_json::Value) -> E {
    match v {
        serde_json::Value::String(s) => str_lit(s),
        serde_json::Value::Array(items) => E::Arr(items.iter().map(json).collect()),
        serde_json::Value::Object(map) => E::Obj(map.iter().map(|(k, v)| P::Kv(crate::names::ts_key(k), json(v))).collect(), false),
        other => id(other.to_string()),
    }
}

pub fn str_lit(s: &str) -> E {
    let json = serde_json::to_string(s).unwrap_or_default();
    if s.matches('"').count() <= s.matches('\'').count() {
        return E::Str(json);
    }
    let mut out = String::with_capacity(json.len() + 2);
    out.push('\'');
    let mut chars = json[1..json.len() - 1].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            '\'' => out.push_str("\\'"),
            c => out.push(c),
        }
    }
    out.push('\'');
    E::Str(out)
}

pub fn member(object: E, name: impl Into<String>) -> E {
    E::Member(Box::new(object), name.into())
}

pub fn call(callee: E, args: Vec<E>) -> E {
    E::Call(Box::new(callee), args)
}

/// `a.b.c` from `"a.b.c"`.
pub fn path(dotted: &str) -> E {
    let mut parts = dotted.split('.');
    let mut e = id(parts.next().unwrap_or_default());
    for p in parts {
        e = member(e, p);
    }
    e
}

/// `a.b.c(args)`.
pub fn call_path(dotted: &str, args: Vec<E>) -> E {
    call(path(dotted), args)
}

pub fn arrow(params: Vec<Param>, ret: Option<T>, body: Body) -> E {
    E::Arrow(Box::new(Arrow { params, ret, body }))
}

pub fn param(name: impl Into<String>, ty: Option<T>) -> Param {
    Param { name: name.into(), optional: false, ty, default: None }
}

pub fn ty(name: impl Into<String>) -> T {
    T::Ref(name.into(), Vec::new())
}

pub fn ty_args(name: impl Into<String>, args: Vec<T>) -> T {
    T::Ref(name.into(), args)
}

fn comma_line() -> Doc {
    concat([",".into(), line()])
}

pub fn expr(e: &E) -> Doc {
    print_expr(e, false)
}

fn print_expr(e: &E, expand_last_arg: bool) -> Doc {
    match e {
        E::Id(s) | E::Str(s) => Doc::text(s.as_str()),
        E::Member(..) => {
            let (root, ops) = flatten(e);
            let mut parts = vec![expr(root)];
            for op in ops {
                parts.push(op_doc(op));
            }
            concat(parts)
        }
        E::Call(callee, args) => {
            if matches!(**callee, E::Member(..)) {
                member_chain(e)
            } else {
                concat([expr(callee), arguments(args)])
            }
        }
        E::New(name, args) => concat([Doc::text(format!("new {name}")), arguments(args)]),
        E::Obj(props, expanded) => object(props, *expanded),
        E::Arr(items) => array(items),
        E::Arrow(a) => arrow_doc(a, expand_last_arg),
        E::As(inner, t) => concat([expr(inner), " as ".into(), type_doc(t)]),
        E::Await(inner) => concat(["await ".into(), expr(inner)]),
        E::Spread(inner) => concat(["...".into(), expr(inner)]),
        // prettier's `printTernary`: the branches aligned two columns past their `? ` / `: `.
        E::Cond(test, yes, no) => {
            group(concat([expr(test), indent(concat([line(), "? ".into(), indent(expr(yes)), line(), ": ".into(), indent(expr(no))]))]))
        }
    }
}

fn object(props: &[P], expanded: bool) -> Doc {
    if props.is_empty() {
        return "{}".into();
    }
    let printed: Vec<Doc> = props.iter().map(prop).collect();
    group_with(
        concat(["{".into(), indent(concat([line(), join(comma_line(), printed)])), if_break(",", ""), line(), "}".into()]),
        expanded,
        None,
    )
}

fn prop(p: &P) -> Doc {
    match p {
        P::Kv(key, value) => assignment(Doc::text(key.as_str()), ":", value, Some(key)),
        P::Shorthand(name) => Doc::text(name.as_str()),
        P::Method(name, params, ret, body) => concat([Doc::text(name.as_str()), signature(params, ret.as_ref()), " ".into(), block(body)]),
        P::Commented(comment, p) => concat([comment.clone(), hardline(), prop(p)]),
    }
}

/// `{ statements }` (empty: `{}`).
pub fn block(body: &Doc) -> Doc {
    if matches!(body, Doc::Concat(parts) if parts.is_empty()) {
        return "{}".into();
    }
    concat(["{".into(), indent(concat([hardline(), body.clone()])), hardline(), "}".into()])
}

fn array(items: &[E]) -> Doc {
    if items.is_empty() {
        return "[]".into();
    }
    let printed: Vec<Doc> = items.iter().map(expr).collect();
    // More than one element, all objects with more than one property: one per line.
    let objects = items.len() > 1 && items.iter().all(|x| matches!(x, E::Obj(p, _) if p.len() > 1));
    group_with(
        concat(["[".into(), indent(concat([softline(), join(comma_line(), printed), if_break(",", "")])), softline(), "]".into()]),
        objects,
        None,
    )
}

/// The parameter list and return type: `(a: A, b: B): R`.
pub fn signature(params: &[Param], ret: Option<&T>) -> Doc {
    let ret_doc = ret.map(|t| concat([": ".into(), type_doc(t)]));
    let hug = params.len() == 1 && params[0].default.is_none() && matches!(&params[0].ty, Some(T::Object(members)) if !members.is_empty());
    let list = if params.is_empty() {
        "()".into()
    } else if hug {
        concat(["(".into(), param_doc(&params[0]), ")".into()])
    } else {
        concat([
            "(".into(),
            indent(concat([softline(), join(comma_line(), params.iter().map(param_doc))])),
            if_break(",", ""),
            softline(),
            ")".into(),
        ])
    };
    group(concat([list, ret_doc.unwrap_or_else(|| concat([]))]))
}

fn param_doc(p: &Param) -> Doc {
    let mut parts: Vec<Doc> = vec![Doc::text(p.name.as_str())];
    if p.optional {
        parts.push("?".into());
    }
    if let Some(t) = &p.ty {
        parts.push(": ".into());
        parts.push(type_doc(t));
    }
    if let Some(d) = &p.default {
        parts.push(" = ".into());
        parts.push(expr(d));
    }
    concat(parts)
}

pub fn type_doc(t: &T) -> Doc {
    match t {
        T::Ref(name, args) if args.is_empty() => Doc::text(name.as_str()),
        T::Ref(name, args) => {
            // One simple or object argument is never broken around (prettier's `shouldHugType`).
            if let [one] = args.as_slice()
                && matches!(one, T::Ref(_, a) if a.is_empty()) | matches!(one, T::Object(_))
            {
                return concat([Doc::text(name.as_str()), "<".into(), type_doc(one), ">".into()]);
            }
            concat([
                Doc::text(name.as_str()),
                group(concat([
                    "<".into(),
                    indent(concat([softline(), join(comma_line(), args.iter().map(type_doc))])),
                    softline(),
                    ">".into(),
                ])),
            ])
        }
        T::Array(inner) => concat([type_doc(inner), "[]".into()]),
        T::Fn(params, ret) => group(concat([signature(params, None), " => ".into(), type_doc(ret)])),
        T::Object(members) => {
            let printed = members
                .iter()
                .map(|(k, opt, t)| group(concat([Doc::text(k.as_str()), if *opt { "?: " } else { ": " }.into(), type_doc(t)])));
            group(concat([
                "{".into(),
                indent(concat([line(), join(concat([";".into(), line()]), printed), if_break(";", "")])),
                line(),
                "}".into(),
            ]))
        }
    }
}

/// prettier's `printArrowFunction` (one arrow, not a chain).
fn arrow_doc(a: &Arrow, expand_last_arg: bool) -> Doc {
    let sig = group(group(signature(&a.params, a.ret.as_ref())));
    match &a.body {
        Body::Block(b) => group(concat([sig, " => ".into(), block(b)])),
        Body::Expr(e @ E::Obj(..)) => group(concat([sig, " => (".into(), expr(e), ")".into()])),
        Body::Expr(e @ (E::Arr(_) | E::Arrow(_))) => group(concat([sig, " => ".into(), expr(e)])),
        Body::Expr(e) => {
            let tail = if expand_last_arg { concat([if_break(",", ""), softline()]) } else { concat([]) };
            group(concat([sig, " =>".into(), group(concat([indent(concat([line(), expr(e)])), tail]))]))
        }
    }
}

/// A step of a member chain.
enum Op<'a> {
    Member(&'a str),
    Call(&'a [E]),
}

fn op_doc(op: Op) -> Doc {
    match op {
        Op::Member(name) => concat([".".into(), Doc::text(name)]),
        Op::Call(args) => arguments(args),
    }
}

/// The innermost object and the member accesses and calls applied to it, in order.
fn flatten(e: &E) -> (&E, Vec<Op<'_>>) {
    let mut ops = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            E::Member(obj, name) => {
                ops.push(Op::Member(name));
                cur = obj;
            }
            E::Call(callee, args) => {
                ops.push(Op::Call(args));
                cur = callee;
            }
            _ => break,
        }
    }
    ops.reverse();
    (cur, ops)
}

fn is_factory(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) || (!name.is_empty() && name.chars().all(|c| c == '_' || c == '$'))
}

/// prettier's member-chain groups: `(groups, merge_first_two)`. The first group holds the
/// root's own calls, then (for a root that is not a call) the member accesses that are followed
/// by another member access; every later group is one run of accesses ending in calls.
fn chain_groups<'a>(root: &'a E, ops: Vec<Op<'a>>) -> (Vec<Vec<Op<'a>>>, bool) {
    let is_member = |o: Option<&Op>| matches!(o, Some(Op::Member(_)));
    let mut i = 0;
    while matches!(ops.get(i), Some(Op::Call(_))) {
        i += 1;
    }
    if !matches!(root, E::Call(..)) {
        while is_member(ops.get(i)) && is_member(ops.get(i + 1)) {
            i += 1;
        }
    }
    let first_len = i + 1;
    let last_is_factory_member = matches!(i.checked_sub(1).and_then(|j| ops.get(j)), Some(Op::Member(n)) if is_factory(n));
    let mut ops = ops.into_iter();
    let first: Vec<Op> = ops.by_ref().take(i).collect();
    let mut groups = vec![first];
    let mut current = Vec::new();
    let mut seen_call = false;
    for op in ops {
        if seen_call && matches!(op, Op::Member(_)) {
            groups.push(std::mem::take(&mut current));
            seen_call = false;
        }
        if matches!(op, Op::Call(_)) {
            seen_call = true;
        }
        current.push(op);
    }
    if !current.is_empty() {
        groups.push(current);
    }
    let should_not_wrap =
        if first_len == 1 { matches!(root, E::Id(name) if name == "this" || is_factory(name)) } else { last_is_factory_member };
    let merge = groups.len() >= 2 && !groups[1].is_empty() && should_not_wrap;
    (groups, merge)
}

/// Is this call printed as a broken-or-not member chain (prettier's `member-chain` label)?
fn is_member_chain(e: &E) -> bool {
    let E::Call(callee, _) = e else { return false };
    if !matches!(**callee, E::Member(..)) {
        return false;
    }
    // More groups than the cutoff (2) need at least two calls after the root's own.
    let mut calls = 0;
    let mut cur = e;
    loop {
        match cur {
            E::Call(c, _) => {
                calls += 1;
                cur = c;
            }
            E::Member(o, _) => cur = o,
            _ => break,
        }
    }
    if calls < 2 {
        return false;
    }
    let (root, ops) = flatten(e);
    let (groups, merge) = chain_groups(root, ops);
    groups.len() > if merge { 3 } else { 2 }
}

/// prettier's `printMemberChain`.
fn member_chain(e: &E) -> Doc {
    let (root, ops) = flatten(e);
    let calls: Vec<&[E]> = ops.iter().filter_map(|o| if let Op::Call(a) = o { Some(*a) } else { None }).collect();
    let (groups, merge) = chain_groups(root, ops);
    let print_group = |g: &Vec<Op>| {
        concat(g.iter().map(|op| match op {
            Op::Member(n) => op_doc(Op::Member(n)),
            Op::Call(a) => op_doc(Op::Call(a)),
        }))
    };
    let mut printed: Vec<Doc> = groups.iter().map(print_group).collect();
    printed[0] = concat([expr(root), printed[0].clone()]);
    let one_line = concat(printed.clone());
    let cutoff = if merge { 3 } else { 2 };
    if groups.len() <= cutoff && !printed[cutoff.min(printed.len())..].iter().any(Doc::will_break) {
        return group(one_line);
    }
    let skip = if merge { 2 } else { 1 };
    let rest: Vec<Doc> = printed[skip..].to_vec();
    let mut expanded = vec![printed[0].clone()];
    if merge {
        expanded.push(printed[1].clone());
    }
    expanded.push(indent(concat([hardline(), join(hardline(), rest)])));
    let expanded = concat(expanded);
    let complex_args = calls.len() > 2 && calls.iter().any(|args| !args.iter().all(|a| is_simple_arg(a, 0)));
    if complex_args || printed[..printed.len() - 1].iter().any(Doc::will_break) {
        return group(expanded);
    }
    let prefix = if one_line.will_break() { Doc::BreakParent } else { concat([]) };
    concat([prefix, conditional_group(vec![one_line, expanded])])
}

/// prettier's `isSimpleCallArgument`.
fn is_simple_arg(e: &E, depth: usize) -> bool {
    match e {
        E::Id(_) | E::Str(_) => true,
        E::Obj(props, _) => props.iter().all(|p| match p {
            P::Kv(_, v) => is_simple_arg(v, depth),
            P::Shorthand(_) => true,
            P::Method(..) | P::Commented(..) => false,
        }),
        E::Arr(items) => items.iter().all(|x| is_simple_arg(x, depth)),
        E::Call(callee, args) => depth < 2 && is_simple_callee(callee, depth) && args.iter().all(|a| is_simple_arg(a, depth + 1)),
        E::New(_, args) => depth < 2 && args.iter().all(|a| is_simple_arg(a, depth + 1)),
        E::Member(obj, _) => is_simple_arg(obj, depth),
        E::Arrow(a) => matches!(a.body, Body::Block(_)) || matches!(&a.body, Body::Expr(b) if is_simple_arg(b, depth)),
        E::Await(x) | E::Spread(x) | E::As(x, _) => is_simple_arg(x, depth),
        E::Cond(..) => false,
    }
}

fn is_simple_callee(e: &E, depth: usize) -> bool {
    match e {
        E::Id(_) => true,
        E::Member(obj, _) => is_simple_callee(obj, depth),
        E::Call(..) => is_simple_arg(e, depth),
        _ => false,
    }
}

fn could_expand(e: &E) -> bool {
    match e {
        E::Obj(props, _) => !props.is_empty(),
        E::Arr(items) => !items.is_empty(),
        E::As(inner, _) => could_expand(inner),
        E::Arrow(a) => match &a.body {
            Body::Block(_) => true,
            Body::Expr(b) => a.ret.is_none() && matches!(b, E::Arrow(_) | E::Obj(..) | E::Arr(_) | E::As(..) | E::Call(..)),
        },
        _ => false,
    }
}

fn same_kind(a: &E, b: &E) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// prettier's `printCallArguments`.
pub fn arguments(args: &[E]) -> Doc {
    if args.is_empty() {
        return "()".into();
    }
    let printed: Vec<Doc> = args.iter().map(expr).collect();
    let all_broken = || {
        broken_group(concat(["(".into(), indent(concat([line(), join(comma_line(), printed.clone()), ",".into()])), line(), ")".into()]))
    };
    let n = args.len();
    let last = &args[n - 1];
    let group_last = could_expand(last)
        && (n < 2 || !same_kind(&args[n - 2], last))
        && !(n == 2 && matches!(args[0], E::Arrow(_)) && matches!(last, E::Arr(_)));
    if group_last {
        // Only an arrow function prints differently as a hugged last argument; anything else is
        // printed once (printing it again would double the work at every level of nesting).
        let expanded_last = if matches!(last, E::Arrow(_)) { print_expr(last, true) } else { printed[n - 1].clone() };
        let head: Vec<Doc> = printed[..n - 1].to_vec();
        if head.iter().any(Doc::will_break) {
            return concat([Doc::BreakParent, all_broken()]);
        }
        let with_last = |last_doc: Doc| {
            let mut items = head.clone();
            items.push(last_doc);
            concat(["(".into(), join(comma_line(), items), ")".into()])
        };
        let hugged = with_last(broken_group(expanded_last.clone()));
        let prefix = if printed.iter().any(Doc::will_break) { Doc::BreakParent } else { concat([]) };
        let states =
            if expanded_last.will_break() { vec![hugged, all_broken()] } else { vec![with_last(expanded_last), hugged, all_broken()] };
        return concat([prefix, conditional_group(states)]);
    }
    group(concat(["(".into(), indent(concat([softline(), join(comma_line(), printed)])), if_break(",", ""), softline(), ")".into()]))
}

#[derive(PartialEq)]
enum Layout {
    BreakAfterOperator,
    NeverBreakAfterOperator,
    Fluid,
}

fn is_member_expression_chain(e: &E) -> bool {
    match e {
        E::Member(obj, _) => matches!(**obj, E::Id(_)) || is_member_expression_chain(obj),
        _ => false,
    }
}

/// prettier's `isShortCallArgument`.
fn is_lone_short_argument(e: &E) -> bool {
    let threshold = PRINT_WIDTH / 4;
    match e {
        E::Id(s) | E::Str(s) => width(s) <= threshold,
        E::Call(callee, args) => args.is_empty() && matches!(&**callee, E::Id(s) if width(s) + 2 <= threshold),
        _ => false,
    }
}

fn is_poorly_breakable_chain(e: &E, deep: bool) -> bool {
    match e {
        E::Member(obj, _) => is_poorly_breakable_chain(obj, true),
        E::Call(callee, args) => {
            !is_member_chain(e)
                && (args.is_empty() || (args.len() == 1 && is_lone_short_argument(&args[0])))
                && is_poorly_breakable_chain(callee, true)
        }
        E::Id(_) => deep,
        _ => false,
    }
}

/// prettier's `chooseLayout` for the assignments and properties the generator writes.
fn choose_layout(right: &E, short_key: bool) -> Layout {
    // `shouldBreakAfterOperator`: string literals, member chains and poorly breakable calls
    // (looking through `await`), unless the key is very short.
    if !short_key {
        let mut inner = right;
        while let E::Await(x) = inner {
            inner = x;
        }
        if matches!(inner, E::Str(_)) || is_member_expression_chain(inner) || is_poorly_breakable_chain(inner, false) {
            return Layout::BreakAfterOperator;
        }
    }
    let literal = matches!(right, E::Id(s) if s == "true" || s == "false" || s.starts_with(|c: char| c.is_ascii_digit() || c == '`'));
    if short_key || literal {
        return Layout::NeverBreakAfterOperator;
    }
    Layout::Fluid
}

/// prettier's `printAssignment`: `left op right` (a property when `key` is given: very short
/// keys never break after the colon).
pub fn assignment(left: Doc, op: &'static str, right: &E, key: Option<&str>) -> Doc {
    let short_key = key.is_some_and(|k| width(k) < 2 + 3);
    let right_doc = expr(right);
    match choose_layout(right, short_key) {
        Layout::BreakAfterOperator => group(concat([group(left), op.into(), group(indent(concat([line(), right_doc])))])),
        Layout::NeverBreakAfterOperator => group(concat([group(left), op.into(), " ".into(), right_doc])),
        Layout::Fluid => {
            let id = group_id();
            group(concat([group(left), op.into(), group_with(indent(line()), false, Some(id)), indent_if_break(id, right_doc)]))
        }
    }
}

/// `[export ]const name[: Type] = value;`
pub fn const_decl(export: bool, name: &str, ann: Option<&T>, value: &E) -> Doc {
    let mut left = vec![Doc::text(name)];
    if let Some(t) = ann {
        left.push(": ".into());
        left.push(type_doc(t));
    }
    let decl = group(concat(["const ".into(), assignment(concat(left), " =", value, None), ";".into()]));
    if export { concat(["export ".into(), decl]) } else { decl }
}

/// `export type Name = Type;`
pub fn type_alias(name: &str, value: &T) -> Doc {
    let id = group_id();
    concat([
        "export ".into(),
        group(concat([
            group(Doc::text(format!("type {name}"))),
            " =".into(),
            group_with(indent(line()), false, Some(id)),
            indent_if_break(id, type_doc(value)),
        ])),
        ";".into(),
    ])
}

/// `import [type] { a, b } from "x";` (one specifier is never broken).
pub fn import(type_only: bool, names: &[String], from: &str) -> Doc {
    let kw = if type_only { "import type " } else { "import " };
    let specifiers = match names {
        [one] => Doc::text(format!("{{ {one} }}")),
        _ => group(concat([
            "{".into(),
            indent(concat([line(), join(comma_line(), names.iter().map(|n| Doc::text(n.as_str())))])),
            if_break(",", ""),
            line(),
            "}".into(),
        ])),
    };
    concat([kw.into(), specifiers, Doc::text(format!(" from \"{from}\";"))])
}

/// `[export ]function name(params): Ret { body }`.
pub fn function(export: bool, name: &str, params: &[Param], ret: Option<&T>, body: &Doc) -> Doc {
    concat([Doc::text(format!("{}function {name}", if export { "export " } else { "" })), signature(params, ret), " ".into(), block(body)])
}

/// `expr;`
pub fn expr_stmt(e: &E) -> Doc {
    concat([expr(e), ";".into()])
}

/// `return expr;`
pub fn return_stmt(e: &E) -> Doc {
    concat(["return ".into(), expr(e), ";".into()])
}

/// Statements, one per line.
pub fn statements(items: impl IntoIterator<Item = Doc>) -> Doc {
    join(hardline(), items)
}

/// Prints a top-level piece of code.
pub fn render(d: &Doc) -> String {
    print(d)
}

/// Prints a piece of code placed `spaces` columns in (every line indented, the first too).
pub fn render_at(d: &Doc, spaces: usize) -> String {
    let mut doc = concat([hardline(), d.clone()]);
    for _ in 0..spaces / 2 {
        doc = indent(doc);
    }
    print(&doc).trim_start_matches('\n').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop_line(key: &str, value: E) -> String {
        render(&object(&[P::Kv(key.into(), value)], true))
    }

    #[test]
    fn string_literals_take_the_quote_prettier_takes() {
        let text = |s: &str| match str_lit(s) {
            E::Str(t) => t,
            _ => unreachable!(),
        };
        assert_eq!(text("plain"), r#""plain""#);
        assert_eq!(text(r#""Post""#), r#"'"Post"'"#);
        assert_eq!(text(r#"it's "x""#), r#"'it\'s "x"'"#);
        assert_eq!(text(r#"ON "Post" ('Post', 'id')"#), r#""ON \"Post\" ('Post', 'id')""#);
        assert_eq!(text("a\\b \"c\"\n"), r#"'a\\b "c"\n'"#);
    }

    #[test]
    fn poorly_breakable_values_move_to_the_next_line() {
        let k = "k".repeat(60);
        let schema = format!("{}Schema", "S".repeat(40));
        let out = prop_line(&k, call(member(id(&schema), "optional"), vec![]));
        assert_eq!(out, format!("{{\n  {k}:\n    {schema}.optional(),\n}}"));
    }

    #[test]
    fn long_member_chains_break_one_call_per_line() {
        let k = "k".repeat(80);
        let v = call(member(call(member(call(id("decimal"), vec![]), "nullable"), vec![]), "optional"), vec![]);
        assert_eq!(prop_line(&k, v), format!("{{\n  {k}: decimal()\n    .nullable()\n    .optional(),\n}}"));
    }

    #[test]
    fn a_last_object_argument_is_hugged() {
        let k = "k".repeat(70);
        let v = call(id("string"), vec![E::Obj(vec![P::Kv("minLength".into(), id("1")), P::Kv("maxLength".into(), id("1160"))], false)]);
        assert_eq!(prop_line(&k, v), format!("{{\n  {k}: string({{\n    minLength: 1,\n    maxLength: 1160,\n  }}),\n}}"));
    }

    #[test]
    fn one_import_specifier_never_breaks() {
        let name = "N".repeat(90);
        assert_eq!(render(&import(true, std::slice::from_ref(&name), "./x.js")), format!("import type {{ {name} }} from \"./x.js\";"));
    }
}
