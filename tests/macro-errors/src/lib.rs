//! No code: see tests/ui.rs.
