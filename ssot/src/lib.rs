#![doc = include_str!("../README.md")]

#[cfg(feature = "macros")]
pub use ssot_macros::ssot;

/// Without the `macros` feature, `ssot!` says how to turn it on.
#[cfg(not(feature = "macros"))]
#[macro_export]
macro_rules! ssot {
    ($($t:tt)*) => {
        ::core::compile_error!(
            "ssot!(\"schema.prisma\") needs the `macros` feature of the ssot crate: ssot = { version = \"0.1\", features = [\"macros\"] } (or generate in build.rs and use ssot::include_ssot!())"
        );
    };
}

/// Includes the items `ssot_build` wrote to `$OUT_DIR/ssot.rs`: `ssot::include_ssot!();`.
#[macro_export]
macro_rules! include_ssot {
    () => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/ssot.rs"));
    };
    ($($t:tt)+) => {
        ::core::compile_error!("include_ssot!() takes no arguments; configure the build in build.rs or ssot.toml");
    };
}

/// The `INPUTS` of the generated items: each model's input checks ([`schema::check`]) with the
/// `server` feature, none without it (the checks instantiate serde for every input type, which a
/// crate that serves nothing need not compile).
#[cfg(feature = "server")]
#[doc(hidden)]
#[macro_export]
macro_rules! __inputs {
    ($($model:literal => $create:ident, $update:ident;)*) => {
        &[$($crate::schema::Inputs {
            model: $model,
            create: |v| $crate::schema::check(v, $create::validate),
            update: |v| $crate::schema::check(v, $update::validate),
        }),*]
    };
}

#[cfg(not(feature = "server"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __inputs {
    ($($model:literal => $create:ident, $update:ident;)*) => {
        &[]
    };
}

pub mod hooks;
pub mod meta;
pub mod policy;
mod related;
pub mod rules;
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
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
