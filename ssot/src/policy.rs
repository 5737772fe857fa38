//! Evaluation of compiled `@@policy` and `@readable`/`@writable` expressions.
//!
//! Generated `can_read`/`can_create`/... functions build [`Value`]s from the row and the
//! principal and combine comparisons with Kleene logic: a relation that was not loaded makes a
//! comparison *unknown* (`None`), and unknown is treated as denied at the end — fail closed.
//!
//! `null` compares like a value: `x == null` is true when `x` is null, `x != 5` is true when `x`
//! is null, ordering comparisons with null are false, `null in [..]` is false and
//! `null not in [..]` is true. An anonymous caller's claims are all null.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::cmp::Ordering;

/// A value in a policy expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Decimal(Decimal),
    Str(&'a str),
    DateTime(DateTime<Utc>),
    /// An enum value, by its schema name.
    Enum(&'static str),
    List(Vec<Value<'a>>),
    /// Json and Bytes: only ever compared with null.
    Opaque,
}

/// A value that may be unknown (a relation that was not loaded).
pub type Known<'a> = Option<Value<'a>>;

/// Converts a field or claim into a [`Value`].
pub trait ToValue {
    fn to_value(&self) -> Value<'_>;
}

macro_rules! to_value {
    ($($t:ty => |$x:ident| $e:expr),* $(,)?) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value<'_> {
                let $x = self;
                $e
            }
        }
    )*};
}

to_value! {
    String => |x| Value::Str(x),
    str => |x| Value::Str(x),
    i32 => |x| Value::Int(i64::from(*x)),
    i64 => |x| Value::Int(*x),
    f64 => |x| Value::Float(*x),
    bool => |x| Value::Bool(*x),
    Decimal => |x| Value::Decimal(*x),
    DateTime<Utc> => |x| Value::DateTime(*x),
    serde_json::Value => |_x| Value::Opaque,
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, ToValue::to_value)
    }
}

impl<T: ToValue> ToValue for Vec<T> {
    fn to_value(&self) -> Value<'_> {
        Value::List(self.iter().map(ToValue::to_value).collect())
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value<'_> {
        (**self).to_value()
    }
}

/// A comparison operator of the policy language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

fn num_cmp(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Decimal(x), Decimal(y)) => Some(x.cmp(y)),
        (Int(x), Decimal(y)) => Some(rust_decimal::Decimal::from(*x).cmp(y)),
        (Decimal(x), Int(y)) => Some(x.cmp(&rust_decimal::Decimal::from(*y))),
        (Decimal(x), Float(y)) => match rust_decimal::Decimal::from_f64(*y) {
            Some(y) => Some(x.cmp(&y)),
            None => x.to_f64()?.partial_cmp(y),
        },
        (Float(_), Decimal(_)) => num_cmp(b, a).map(Ordering::reverse),
        (Int(x), Float(y)) => (*x as f64).partial_cmp(y),
        (Float(x), Int(y)) => x.partial_cmp(&(*y as f64)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        _ => None,
    }
}

fn equal(a: &Value<'_>, b: &Value<'_>) -> bool {
    use Value::*;
    match (a, b) {
        (Null, Null) => true,
        (Null, _) | (_, Null) => false,
        (Bool(x), Bool(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Enum(x), Enum(y)) => x == y,
        (Enum(x), Str(y)) | (Str(y), Enum(x)) => x == y,
        (DateTime(x), DateTime(y)) => x == y,
        (List(x), List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| equal(a, b)),
        _ => num_cmp(a, b) == Some(Ordering::Equal),
    }
}

fn order(a: &Value<'_>, b: &Value<'_>) -> Option<Ordering> {
    use Value::*;
    match (a, b) {
        (Str(x), Str(y)) => Some(x.cmp(y)),
        (DateTime(x), DateTime(y)) => Some(x.cmp(y)),
        _ => num_cmp(a, b),
    }
}

/// Compares two values; `None` if either is unknown.
pub fn cmp(op: Op, a: Known<'_>, b: Known<'_>) -> Option<bool> {
    let (a, b) = (a?, b?);
    Some(match op {
        Op::Eq => equal(&a, &b),
        Op::Ne => !equal(&a, &b),
        Op::Lt => order(&a, &b) == Some(Ordering::Less),
        Op::Le => matches!(order(&a, &b), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order(&a, &b) == Some(Ordering::Greater),
        Op::Ge => matches!(order(&a, &b), Some(Ordering::Greater | Ordering::Equal)),
        Op::In | Op::NotIn => {
            let found = match &b {
                Value::List(items) if a != Value::Null => items.iter().any(|x| equal(&a, x)),
                _ => false,
            };
            if op == Op::In { found } else { !found }
        }
    })
}

/// A Boolean value as a condition: null is false.
pub fn truthy(v: Known<'_>) -> Option<bool> {
    Some(matches!(v?, Value::Bool(true)))
}

/// Kleene conjunction: false wins over unknown.
pub fn and(xs: &[Option<bool>]) -> Option<bool> {
    if xs.contains(&Some(false)) {
        Some(false)
    } else if xs.contains(&None) {
        None
    } else {
        Some(true)
    }
}

/// Kleene disjunction: true wins over unknown.
pub fn or(xs: &[Option<bool>]) -> Option<bool> {
    if xs.contains(&Some(true)) {
        Some(true)
    } else if xs.contains(&None) {
        None
    } else {
        Some(false)
    }
}

pub fn not(x: Option<bool>) -> Option<bool> {
    x.map(|b| !b)
}

/// `relation.some(...)`; `None` when the relation was not loaded.
pub fn some<T>(items: Option<&[T]>, f: impl Fn(&T) -> Option<bool>) -> Option<bool> {
    or(&items?.iter().map(f).collect::<Vec<_>>())
}

/// `relation.every(...)`.
pub fn every<T>(items: Option<&[T]>, f: impl Fn(&T) -> Option<bool>) -> Option<bool> {
    and(&items?.iter().map(f).collect::<Vec<_>>())
}

/// `relation.none(...)`.
pub fn none<T>(items: Option<&[T]>, f: impl Fn(&T) -> Option<bool>) -> Option<bool> {
    not(some(items, f))
}

/// The final verdict: only a known `true` allows.
pub fn allow(x: Option<bool>) -> bool {
    x == Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene_logic() {
        assert_eq!(and(&[Some(true), None]), None);
        assert_eq!(and(&[Some(false), None]), Some(false));
        assert_eq!(or(&[Some(true), None]), Some(true));
        assert_eq!(or(&[Some(false), None]), None);
        assert_eq!(not(None), None);
        assert!(!allow(None));
    }

    #[test]
    fn null_semantics() {
        let n = || Some(Value::Null);
        let five = || Some(Value::Int(5));
        assert_eq!(cmp(Op::Eq, n(), n()), Some(true));
        assert_eq!(cmp(Op::Ne, n(), five()), Some(true));
        assert_eq!(cmp(Op::Lt, n(), five()), Some(false));
        assert_eq!(cmp(Op::Ge, n(), five()), Some(false));
        let list = || Some(Value::List(vec![Value::Int(5)]));
        assert_eq!(cmp(Op::In, n(), list()), Some(false));
        assert_eq!(cmp(Op::NotIn, n(), list()), Some(true));
        assert_eq!(cmp(Op::In, five(), list()), Some(true));
        assert_eq!(cmp(Op::Eq, None, five()), None);
    }

    #[test]
    fn numbers_compare_across_types() {
        let d = Decimal::new(150, 2);
        assert_eq!(cmp(Op::Gt, Some(Value::Decimal(d)), Some(Value::Int(1))), Some(true));
        assert_eq!(cmp(Op::Eq, Some(Value::Float(1.5)), Some(Value::Decimal(d))), Some(true));
        assert_eq!(cmp(Op::Le, Some(Value::Int(2)), Some(Value::Float(1.5))), Some(false));
        assert_eq!(cmp(Op::Lt, Some(Value::Str("a")), Some(Value::Str("b"))), Some(true));
        assert_eq!(cmp(Op::Eq, Some(Value::Str("a")), Some(Value::Int(1))), Some(false));
    }

    #[test]
    fn quantifiers() {
        let xs = [1, 2, 3];
        assert_eq!(some(Some(&xs[..]), |x| Some(*x == 2)), Some(true));
        assert_eq!(every(Some(&xs[..]), |x| Some(*x > 0)), Some(true));
        assert_eq!(none(Some(&xs[..]), |x| Some(*x > 2)), Some(false));
        assert_eq!(every(Some(&[][..]), |_: &i32| Some(false)), Some(true));
        assert_eq!(some(None::<&[i32]>, |_| Some(true)), None);
    }
}
