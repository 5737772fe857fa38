//! The generated Rust of every fixture, compiled. See `build.rs` and `tests/`.

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

/// The `ssot!` macro expanding a fixture inline (relative to this crate's Cargo.toml).
#[allow(dead_code)]
pub mod inline_sqlite {
    ssot::ssot!("../fixtures/sqlite/schema.prisma");
}
