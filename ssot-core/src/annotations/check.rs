//! Name resolution and type checking of policy expressions against the schema and the
//! `[auth.claims]` of the config. Produces the resolved [`Expr`] every generator compiles.

use super::expr::{CmpOp, Quant, RawExpr, RawLit};
use crate::config::Claim;
use crate::diagnostics::{Diagnostic, Span, did_you_mean};
pub use crate::ir::policy::{Base, Expr, Hop, Operand, ValueType};
use crate::ir::{Arity, FieldType, Ir, Model, ScalarType};

pub struct Checker<'a, 'd> {
    pub ir: &'a Ir,
    pub claims: &'a [Claim],
    pub diags: &'d mut Vec<Diagnostic>,
    /// Names what is being checked, e.g. "@@policy(read)", for messages.
    pub context: String,
}

enum Side {
    Resolved(Operand),
    /// A bare name that is no field: an enum value if the other side is an enum.
    Bare(String, Span),
    List(Vec<ListItem>),
}

enum ListItem {
    Lit(Operand),
    Bare(String, Span),
}

fn side_enum(side: &Side) -> Option<String> {
    match side {
        Side::Resolved(o) => match operand_type(o)?.base {
            Base::Enum { enum_name } => Some(enum_name),
            Base::Scalar(_) => None,
        },
        _ => None,
    }
}

impl<'a> Checker<'a, '_> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Checks `raw` as a condition on rows of `model`.
    pub fn condition(&mut self, model: &'a Model, raw: &RawExpr) -> Option<Expr> {
        match raw {
            RawExpr::Lit(RawLit::Bool(b), _) => Some(Expr::Bool { value: *b }),
            RawExpr::Lit(_, span) | RawExpr::List(_, span) => {
                self.err(
                    Diagnostic::error(format!("expected a condition in {}, found a value", self.context), *span)
                        .with_label("compare it with something, e.g. `field == value`"),
                );
                None
            }
            RawExpr::Not(inner, _) => Some(Expr::Not { expr: Box::new(self.condition(model, inner)?) }),
            RawExpr::And(xs) => {
                let exprs: Vec<_> = xs.iter().map(|x| self.condition(model, x)).collect();
                Some(Expr::And { exprs: exprs.into_iter().collect::<Option<_>>()? })
            }
            RawExpr::Or(xs) => {
                let exprs: Vec<_> = xs.iter().map(|x| self.condition(model, x)).collect();
                Some(Expr::Or { exprs: exprs.into_iter().collect::<Option<_>>()? })
            }
            RawExpr::Quant { path, quant, body, .. } => self.quantifier(model, path, *quant, body),
            RawExpr::Path(_) => {
                let span = raw.span();
                let operand = self.operand(model, raw)?;
                match operand_type(&operand) {
                    Some(ValueType { base: Base::Scalar(ScalarType::Boolean), list: false, .. }) => Some(Expr::Truthy { operand }),
                    other => {
                        let what = other.map_or("the principal".to_owned(), |t| t.describe());
                        self.err(
                            Diagnostic::error(format!("`{}` is {what}, not a condition", path_text(raw)), span)
                                .with_label("compare it, e.g. `auth != null` or `field == value`"),
                        );
                        None
                    }
                }
            }
            RawExpr::Cmp { op, op_span, lhs, rhs } => self.compare(model, *op, *op_span, lhs, rhs),
        }
    }

    fn quantifier(&mut self, model: &'a Model, path: &[(String, Span)], quant: Quant, body: &RawExpr) -> Option<Expr> {
        let (hops, last, target) = self.walk_hops(model, path)?;
        let (name, span) = &path[path.len() - 1];
        match &last.ty {
            FieldType::Relation(r) if r.is_to_many() => {
                let related = self.ir.model(&r.model)?;
                let body = self.condition(related, body)?;
                Some(Expr::Quant { quant, hops, relation: name.clone(), model: related.name.clone(), body: Box::new(body) })
            }
            FieldType::Relation(_) => {
                let q = format!("{quant:?}").to_lowercase();
                self.err(
                    Diagnostic::error(format!("`{name}` is a to-one relation; `.{q}(...)` needs a to-many relation"), *span)
                        .with_label(format!("compare its fields directly, e.g. `{name}.id == ...`")),
                );
                None
            }
            _ => {
                self.err(Diagnostic::error(
                    format!("`{name}` on model `{}` is not a relation; quantifiers need a to-many relation", target.name),
                    *span,
                ));
                None
            }
        }
    }

    /// Follows every segment but the last through to-one relations; returns the hops, the last
    /// field and the model that holds it.
    fn walk_hops(&mut self, model: &'a Model, path: &[(String, Span)]) -> Option<(Vec<Hop>, &'a crate::ir::Field, &'a Model)> {
        let mut current = model;
        let mut hops = Vec::new();
        for (i, (name, span)) in path.iter().enumerate() {
            let Some(field) = current.field(name).filter(|f| !f.ignored) else {
                self.unknown_name(current, name, *span, None);
                return None;
            };
            if i == path.len() - 1 {
                return Some((hops, field, current));
            }
            match &field.ty {
                FieldType::Relation(r) if !r.is_to_many() => {
                    hops.push(Hop { field: name.clone(), model: r.model.clone(), optional: field.arity == Arity::Optional });
                    current = self.ir.model(&r.model)?;
                }
                FieldType::Relation(_) => {
                    self.err(
                        Diagnostic::error(format!("`{name}` is a to-many relation and cannot be followed with `.`"), *span)
                            .with_label(format!("use a quantifier: `{name}.some(...)`, `{name}.every(...)` or `{name}.none(...)`")),
                    );
                    return None;
                }
                _ => {
                    self.err(Diagnostic::error(format!("`{name}` is not a relation, so it has no fields"), *span));
                    return None;
                }
            }
        }
        None
    }

    fn compare(&mut self, model: &'a Model, op: CmpOp, op_span: Span, lhs: &RawExpr, rhs: &RawExpr) -> Option<Expr> {
        let l = self.side(model, lhs);
        let r = self.side(model, rhs);
        let (l, r) = (l?, r?);
        let l_enum = side_enum(&l);
        let r_enum = side_enum(&r);
        let l = self.finish(model, l, r_enum.as_deref());
        let r = self.finish(model, r, l_enum.as_deref());
        let (l, r) = (l?, r?);
        self.check_types(op, op_span, lhs, rhs, &l, &r)?;
        Some(Expr::Compare { op, left: l, right: r })
    }

    /// Resolves bare names (and bare names in lists) as values of `expected_enum`.
    fn finish(&mut self, model: &Model, side: Side, expected_enum: Option<&str>) -> Option<Operand> {
        let values = |ir: &Ir, e: Option<&str>| -> Vec<String> {
            e.and_then(|e| ir.enum_(e)).map(|e| e.values.iter().map(|v| v.name.clone()).collect()).unwrap_or_default()
        };
        match side {
            Side::Bare(name, span) => {
                let vals = values(self.ir, expected_enum);
                if let (Some(e), true) = (expected_enum, vals.contains(&name)) {
                    return Some(Operand::Enum { enum_name: e.to_owned(), value: name });
                }
                match expected_enum {
                    Some(e) => {
                        let mut d =
                            Diagnostic::error(format!("`{name}` is neither a field of `{}` nor a value of enum `{e}`", model.name), span)
                                .with_note(format!("`{e}` values: {}", vals.join(", ")));
                        let fields = model.fields.iter().map(|f| f.name.as_str());
                        if let Some(h) = did_you_mean(&name, vals.iter().map(String::as_str).chain(fields)) {
                            d.message =
                                format!("`{name}` is neither a field of `{}` nor a value of enum `{e}` — did you mean `{h}`?", model.name);
                            d = d.with_label(format!("did you mean `{h}`?"));
                        }
                        self.err(d);
                    }
                    None => self.unknown_name(model, &name, span, None),
                }
                None
            }
            Side::List(items) => {
                let vals = values(self.ir, expected_enum);
                let mut out = Vec::new();
                for item in items {
                    match item {
                        ListItem::Lit(o) => out.push(o),
                        ListItem::Bare(name, s) => match expected_enum {
                            Some(e) if vals.contains(&name) => out.push(Operand::Enum { enum_name: e.to_owned(), value: name }),
                            Some(e) => {
                                let mut d = Diagnostic::error(format!("`{name}` is not a value of enum `{e}`"), s)
                                    .with_note(format!("`{e}` values: {}", vals.join(", ")));
                                if let Some(h) = did_you_mean(&name, vals.iter().map(String::as_str)) {
                                    d = d.with_label(format!("did you mean `{h}`?"));
                                }
                                self.err(d);
                                return None;
                            }
                            None => {
                                self.err(
                                    Diagnostic::error(format!("`{name}` is not a value here: the left side is not an enum"), s)
                                        .with_label("quote strings: 'text'"),
                                );
                                return None;
                            }
                        },
                    }
                }
                Some(Operand::List { items: out })
            }
            Side::Resolved(o) => Some(o),
        }
    }

    fn check_types(&mut self, op: CmpOp, op_span: Span, lraw: &RawExpr, rraw: &RawExpr, l: &Operand, r: &Operand) -> Option<()> {
        let lt = operand_type(l);
        let rt = operand_type(r);
        let opname = op.as_str();
        let mismatch = |this: &mut Self, msg: String, label: &str| {
            let span = Span::new(op_span.file, lraw.span().start.min(op_span.start), rraw.span().end.max(op_span.end));
            this.err(Diagnostic::error(msg, span).with_label(label.to_owned()));
            None
        };
        match op {
            CmpOp::Eq | CmpOp::Ne => match (l, r, &lt, &rt) {
                (Operand::Null, Operand::Null, ..) => {
                    mismatch(self, "comparing `null` with `null`".into(), "compare a field or `auth` with null")
                }
                (Operand::Auth, Operand::Null, ..) | (Operand::Null, Operand::Auth, ..) => Some(()),
                (Operand::Auth, ..) | (_, Operand::Auth, ..) => mismatch(
                    self,
                    format!("`auth` can only be compared with `null` in {}", self.context),
                    "compare a claim instead, e.g. `auth.id == ownerId`",
                ),
                (Operand::Null, _, _, Some(t)) | (_, Operand::Null, Some(t), _) => {
                    if t.nullable {
                        Some(())
                    } else {
                        let side = if matches!(l, Operand::Null) { rraw } else { lraw };
                        mismatch(
                            self,
                            format!("`{}` is {}, never null", path_text(side), t.describe()),
                            "this comparison is always the same",
                        )
                    }
                }
                (Operand::List { .. }, ..) | (_, Operand::List { .. }, ..) => {
                    mismatch(self, format!("a list cannot be compared with `{opname}`"), "use `in` or `not in`")
                }
                (_, _, Some(a), Some(b)) => self.same_kind(a, b, opname, &mismatch),
                _ => Some(()),
            },
            _ if op.is_ordering() => match (&lt, &rt) {
                (Some(a), Some(b)) if !a.list && !b.list => {
                    self.same_kind(a, b, opname, &mismatch)?;
                    match &a.base {
                        Base::Scalar(s) if s.is_numeric() || matches!(s, ScalarType::String | ScalarType::DateTime) => Some(()),
                        other => mismatch(
                            self,
                            format!("`{opname}` needs numbers, strings or dates, not {}", other.describe()),
                            "use `==` or `!=`",
                        ),
                    }
                }
                _ => mismatch(self, format!("`{opname}` compares two single values"), "null, auth and lists have no order"),
            },
            _ => {
                // in / not in
                let Some(a) = lt.filter(|a| !a.list) else {
                    return mismatch(self, format!("the left side of `{opname}` must be a single value"), "e.g. `role in [ADMIN, EDITOR]`");
                };
                match (r, rt) {
                    (Operand::List { items }, _) => {
                        for item in items {
                            if let Some(t) = operand_type(item)
                                && !a.base.compatible(&t.base)
                            {
                                return mismatch(
                                    self,
                                    format!("list item of type {} in a list compared with {}", t.describe(), a.describe()),
                                    "every item must have the left side's type",
                                );
                            }
                        }
                        Some(())
                    }
                    (_, Some(b)) if b.list => {
                        if a.base.compatible(&b.base) {
                            Some(())
                        } else {
                            mismatch(
                                self,
                                format!("mismatched types: {} `{opname}` {}", a.describe(), b.describe()),
                                "the list holds another type",
                            )
                        }
                    }
                    _ => mismatch(self, format!("the right side of `{opname}` must be a list"), "e.g. `[1, 2]` or a list field"),
                }
            }
        }
    }

    fn same_kind(
        &mut self,
        a: &ValueType,
        b: &ValueType,
        opname: &str,
        mismatch: &dyn Fn(&mut Self, String, &str) -> Option<()>,
    ) -> Option<()> {
        if a.list || b.list {
            return mismatch(self, format!("a list cannot be compared with `{opname}`"), "use `in` or `not in`");
        }
        if matches!(a.base, Base::Scalar(ScalarType::Json | ScalarType::Bytes))
            || matches!(b.base, Base::Scalar(ScalarType::Json | ScalarType::Bytes))
        {
            return mismatch(
                self,
                format!(
                    "{} values cannot be compared in policies",
                    if matches!(a.base, Base::Scalar(ScalarType::Json)) || matches!(b.base, Base::Scalar(ScalarType::Json)) {
                        "Json"
                    } else {
                        "Bytes"
                    }
                ),
                "only `== null` and `!= null` work on them",
            );
        }
        if a.base.compatible(&b.base) {
            Some(())
        } else {
            mismatch(self, format!("mismatched types: {} {opname} {}", a.describe(), b.describe()), "both sides must have the same type")
        }
    }

    fn side(&mut self, model: &'a Model, raw: &RawExpr) -> Option<Side> {
        if let RawExpr::Path(segs) = raw
            && segs.len() == 1
            && segs[0].0 != "auth"
            && model.field(&segs[0].0).is_none()
        {
            return Some(Side::Bare(segs[0].0.clone(), segs[0].1));
        }
        if let RawExpr::List(items, _) = raw {
            // Bare names in the list are resolved against the other side in `finish`.
            let mut out = Vec::new();
            for item in items {
                match item {
                    RawExpr::Path(segs) if segs.len() == 1 => out.push(ListItem::Bare(segs[0].0.clone(), segs[0].1)),
                    RawExpr::Lit(RawLit::Null, s) => {
                        self.err(Diagnostic::error("`null` cannot be a list item", *s).with_label("test for null with `== null`"));
                        return None;
                    }
                    RawExpr::Lit(lit, _) => out.push(ListItem::Lit(literal(lit))),
                    other => {
                        self.err(Diagnostic::error("list items must be literals or enum values", other.span()));
                        return None;
                    }
                }
            }
            return Some(Side::List(out));
        }
        self.operand(model, raw).map(Side::Resolved)
    }

    fn operand(&mut self, model: &'a Model, raw: &RawExpr) -> Option<Operand> {
        match raw {
            RawExpr::Lit(lit, _) => Some(literal(lit)),
            RawExpr::Path(segs) => self.path(model, segs),
            RawExpr::Quant { span, .. } => {
                self.err(
                    Diagnostic::error("a quantifier is a condition, not a value", *span).with_label("use it on its own or with `&&`/`||`"),
                );
                None
            }
            other => {
                self.err(
                    Diagnostic::error("expected a value here, found a condition", other.span())
                        .with_label("put conditions in parentheses and combine them with `&&` or `||`"),
                );
                None
            }
        }
    }

    fn path(&mut self, model: &'a Model, segs: &[(String, Span)]) -> Option<Operand> {
        if segs[0].0 == "auth" {
            return match segs.len() {
                1 => Some(Operand::Auth),
                2 => {
                    let (name, span) = &segs[1];
                    match self.claims.iter().find(|c| &c.name == name) {
                        Some(c) => Some(Operand::Claim { name: c.name.clone(), ty: claim_type(self.ir, c)? }),
                        None => {
                            let hint = did_you_mean(name, self.claims.iter().map(|c| c.name.as_str()));
                            let mut d = Diagnostic::error(format!("unknown claim `auth.{name}` in {}", self.context), *span);
                            d = match hint {
                                Some(h) => d.with_label(format!("did you mean `auth.{h}`?")),
                                None => d.with_label("declare it under [auth.claims] in ssot.toml"),
                            };
                            d = d.with_note(format!(
                                "declared claims: {}",
                                self.claims.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                            ));
                            self.err(d);
                            None
                        }
                    }
                }
                _ => {
                    self.err(Diagnostic::error("claims have no fields", segs[2].1));
                    None
                }
            };
        }
        let (hops, field, _) = self.walk_hops(model, segs)?;
        let (name, span) = &segs[segs.len() - 1];
        let ty = |base| ValueType { base, list: field.is_list(), nullable: field.is_optional() };
        match &field.ty {
            FieldType::Scalar(s) => Some(Operand::Field { hops, field: name.clone(), ty: ty(Base::Scalar(*s)) }),
            FieldType::Enum(e) => Some(Operand::Field { hops, field: name.clone(), ty: ty(Base::Enum { enum_name: e.clone() }) }),
            FieldType::Relation(r) => {
                let hint = match (r.fields.first(), r.references.first()) {
                    (Some(fk), Some(rf)) => format!("compare one of its fields, e.g. `{name}.{rf}`, or the foreign key `{fk}`"),
                    _ => format!("compare one of its fields, e.g. `{name}.id`, or use `{name}.some(...)` on a to-many relation"),
                };
                self.err(Diagnostic::error(format!("relation `{name}` used as a value in {}", self.context), *span).with_label(hint));
                None
            }
            FieldType::Composite(_) | FieldType::Unsupported(_) => {
                self.err(Diagnostic::error(format!("`{name}` cannot be used in a policy: its type has no comparison"), *span));
                None
            }
        }
    }

    fn unknown_name(&mut self, model: &Model, name: &str, span: Span, enum_values: Option<&[String]>) {
        let fields = model.fields.iter().filter(|f| !f.ignored).map(|f| f.name.as_str());
        let candidates: Vec<&str> = fields.chain(enum_values.into_iter().flatten().map(String::as_str)).chain(["auth"]).collect();
        let mut d =
            Diagnostic::error(format!("unknown field `{name}` in {} — model `{}` has no such field", self.context, model.name), span);
        if let Some(h) = did_you_mean(name, candidates.iter().copied()) {
            d.message = format!("unknown field `{name}` in {} — did you mean `{h}`?", self.context);
            d = d.with_label(format!("did you mean `{h}`?"));
        }
        self.err(d);
    }
}

fn literal(lit: &RawLit) -> Operand {
    match lit {
        RawLit::Null => Operand::Null,
        RawLit::Bool(b) => Operand::Bool { value: *b },
        RawLit::Int(i) => Operand::Int { value: *i },
        RawLit::Float(f) => Operand::Float { value: *f },
        RawLit::Str(s) => Operand::String { value: s.clone() },
    }
}

/// The type of an operand; `None` for `null`, `auth` and list literals.
pub fn operand_type(o: &Operand) -> Option<ValueType> {
    let scalar = |s| Some(ValueType { base: Base::Scalar(s), list: false, nullable: false });
    match o {
        Operand::Null | Operand::Auth | Operand::List { .. } => None,
        Operand::Bool { .. } => scalar(ScalarType::Boolean),
        Operand::Int { .. } => scalar(ScalarType::Int),
        Operand::Float { .. } => scalar(ScalarType::Float),
        Operand::String { .. } => scalar(ScalarType::String),
        Operand::Enum { enum_name, .. } => {
            Some(ValueType { base: Base::Enum { enum_name: enum_name.clone() }, list: false, nullable: false })
        }
        Operand::Field { ty, .. } | Operand::Claim { ty, .. } => Some(ty.clone()),
    }
}

/// The type a claim declares; claims are null for anonymous callers.
pub fn claim_type(ir: &Ir, c: &Claim) -> Option<ValueType> {
    let base = match ScalarType::from_name(&c.ty) {
        Some(s) => Base::Scalar(s),
        None if ir.enum_(&c.ty).is_some() => Base::Enum { enum_name: c.ty.clone() },
        None => return None,
    };
    Some(ValueType { base, list: c.list, nullable: true })
}

fn path_text(raw: &RawExpr) -> String {
    match raw {
        RawExpr::Path(segs) => segs.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join("."),
        RawExpr::Lit(RawLit::Null, _) => "null".into(),
        _ => "this value".into(),
    }
}
