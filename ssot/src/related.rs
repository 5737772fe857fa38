//! [`Related`]: how a generated model holds an included relation.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

/// An included relation: the related row (`Related<User>`) or rows (`Related<Vec<Comment>>`),
/// owned, dereferencing to `T`, serialized exactly as `T`.
///
/// Generated models hold relations through this type rather than `Box<T>` or `Vec<T>`: it keeps
/// `T` behind a trait object, so the compiler's drop check stops here instead of walking from
/// one model into the next. With `Box`/`Vec`, a chain of models that refer to each other
/// (`M0 → M1 → … → M99`) exceeds rustc's recursion limit (error E0320); with `Related` any
/// schema shape compiles, and a rule such as `author.manager.id == auth.id` can still be
/// evaluated on a row loaded two levels deep.
///
/// ```
/// use ssot::Related;
/// let names: Related<Vec<String>> = vec!["a".to_owned()].into();
/// assert_eq!(names.len(), 1);
/// assert_eq!(serde_json::to_string(&names).unwrap(), r#"["a"]"#);
/// ```
pub struct Related<T> {
    value: Box<dyn Erased>,
    _type: PhantomData<fn() -> T>,
}

/// What `Related` needs of the value it holds (every generated model and list of them has it).
trait Erased: Any + Send + Sync {
    fn clone_boxed(&self) -> Box<dyn Erased>;
    fn eq_dyn(&self, other: &dyn Any) -> bool;
    fn fmt_dyn(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

impl<T: Any + Clone + PartialEq + fmt::Debug + Send + Sync> Erased for T {
    fn clone_boxed(&self) -> Box<dyn Erased> {
        Box::new(self.clone())
    }
    fn eq_dyn(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<T>() == Some(self)
    }
    fn fmt_dyn(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl<T: Any + Clone + PartialEq + fmt::Debug + Send + Sync> Related<T> {
    pub fn new(value: T) -> Self {
        Related { value: Box::new(value), _type: PhantomData }
    }

    /// The value, moved out.
    pub fn into_inner(self) -> T {
        let any: Box<dyn Any> = self.value;
        *any.downcast::<T>().unwrap_or_else(|_| unreachable!("Related<T> holds a T"))
    }
}

impl<T: 'static> Deref for Related<T> {
    type Target = T;
    fn deref(&self) -> &T {
        let any: &dyn Any = &*self.value;
        any.downcast_ref().unwrap_or_else(|| unreachable!("Related<T> holds a T"))
    }
}

impl<T: 'static> DerefMut for Related<T> {
    fn deref_mut(&mut self) -> &mut T {
        let any: &mut dyn Any = &mut *self.value;
        any.downcast_mut().unwrap_or_else(|| unreachable!("Related<T> holds a T"))
    }
}

impl<T: Any + Clone + PartialEq + fmt::Debug + Send + Sync> From<T> for Related<T> {
    fn from(value: T) -> Self {
        Related::new(value)
    }
}

impl<T> Clone for Related<T> {
    fn clone(&self) -> Self {
        Related { value: self.value.clone_boxed(), _type: PhantomData }
    }
}

impl<T> PartialEq for Related<T> {
    fn eq(&self, other: &Self) -> bool {
        let other: &dyn Any = &*other.value;
        self.value.eq_dyn(other)
    }
}

impl<T> fmt::Debug for Related<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt_dyn(f)
    }
}

impl<T: Serialize + 'static> Serialize for Related<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de> + Any + Clone + PartialEq + fmt::Debug + Send + Sync> Deserialize<'de> for Related<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Related::new)
    }
}

#[cfg(test)]
mod tests {
    use super::Related;

    #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        id: i32,
        next: Option<Related<Vec<Row>>>,
    }

    #[test]
    fn behaves_as_the_value_it_holds() {
        let json = r#"{"id":1,"next":[{"id":2,"next":null}]}"#;
        let mut row: Row = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&row).unwrap(), json);
        let copy = row.clone();
        assert_eq!(row, copy);
        row.next.as_mut().unwrap()[0].id = 3;
        assert_ne!(row, copy, "a clone is deep");
        assert_eq!(format!("{:?}", copy.next.unwrap()), "[Row { id: 2, next: None }]");
        assert_eq!(Related::new(5).into_inner(), 5);
    }
}
