//! Checked policy expressions: names resolved against the schema and the claims, every operand
//! typed. The checker in `crate::annotations::check` produces them; the TypeScript policy
//! runtime (as JSON), the SQL compilers and the Rust items are generated from them.

use super::ScalarType;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CmpOp {
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "in")]
    In,
    #[serde(rename = "not in")]
    NotIn,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
        }
    }

    pub fn is_ordering(self) -> bool {
        matches!(self, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quant {
    Some,
    Every,
    None,
}

/// The type of a value in an expression.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueType {
    pub base: Base,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub list: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub nullable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Base {
    Scalar(ScalarType),
    Enum { enum_name: String },
}

impl Base {
    pub fn describe(&self) -> String {
        match self {
            Base::Scalar(s) => s.as_str().to_owned(),
            Base::Enum { enum_name } => format!("enum {enum_name}"),
        }
    }

    pub fn compatible(&self, other: &Base) -> bool {
        match (self, other) {
            (Base::Scalar(a), Base::Scalar(b)) => a == b || (a.is_numeric() && b.is_numeric()),
            (a, b) => a == b,
        }
    }
}

impl ValueType {
    pub fn describe(&self) -> String {
        let mut s = self.base.describe();
        if self.list {
            s.push_str("[]");
        }
        if self.nullable {
            s.push('?');
        }
        s
    }
}

/// A step through a to-one relation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hop {
    /// The relation field.
    pub field: String,
    /// The model it leads to.
    pub model: String,
    /// The relation may be null.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// A resolved value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Operand {
    Null,
    Bool {
        value: bool,
    },
    Int {
        value: i64,
    },
    Float {
        value: f64,
    },
    String {
        value: String,
    },
    Enum {
        enum_name: String,
        value: String,
    },
    List {
        items: Vec<Operand>,
    },
    /// A field of the row, possibly through to-one relations.
    Field {
        hops: Vec<Hop>,
        field: String,
        ty: ValueType,
    },
    /// The principal itself (`auth == null` tests for anonymous callers).
    Auth,
    /// `auth.<claim>`: null when the caller is anonymous.
    Claim {
        name: String,
        ty: ValueType,
    },
}

/// A resolved condition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Expr {
    Bool {
        value: bool,
    },
    /// A Boolean field or claim used as a condition (null counts as false).
    Truthy {
        operand: Operand,
    },
    Compare {
        op: CmpOp,
        left: Operand,
        right: Operand,
    },
    Not {
        expr: Box<Expr>,
    },
    And {
        exprs: Vec<Expr>,
    },
    Or {
        exprs: Vec<Expr>,
    },
    /// `relation.some|every|none(body)` over a to-many relation reached through `hops`.
    Quant {
        quant: Quant,
        hops: Vec<Hop>,
        relation: String,
        model: String,
        body: Box<Expr>,
    },
}

impl Expr {
    /// Visits every operand (for generators that need to know which relations a rule reads).
    pub fn walk_operands(&self, f: &mut impl FnMut(&Operand)) {
        match self {
            Expr::Bool { .. } => {}
            Expr::Truthy { operand } => f(operand),
            Expr::Compare { left, right, .. } => {
                f(left);
                f(right);
            }
            Expr::Not { expr } => expr.walk_operands(f),
            Expr::And { exprs } | Expr::Or { exprs } => exprs.iter().for_each(|e| e.walk_operands(f)),
            Expr::Quant { body, .. } => body.walk_operands(f),
        }
    }
}
