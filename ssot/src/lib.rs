#![doc = include_str!("../README.md")]

pub use ssot_macros::{include_ssot, ssot};

pub mod meta;
pub mod policy;
mod related;
pub mod schema;
pub mod validate;
pub mod wire;

pub use chrono::{DateTime, Utc};
pub use related::Related;
pub use rust_decimal::Decimal;
pub use serde_json::Value as Json;

/// What generated code needs, re-exported so users depend on `ssot` alone.
#[doc(hidden)]
pub mod __private {
    pub use chrono;
    pub use regex;
    pub use rust_decimal;
    pub use serde;
    pub use serde_json;
    pub use serde_with;
}
