//! Error messages of the `ssot!` and `include_ssot!` macros, compared with `tests/ui/*.stderr`.
//! Re-bless with `TRYBUILD=overwrite cargo test -p ssot --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
