//! Compile-fail tests: every shape rule has a case in `ui-tests/` that must not compile, with the
//! compiler's message pinned in its `.stderr`, and `ui-tests/pass/` holds cases that must compile and
//! run. The pass cases also make trybuild *build* rather than only check, so that the rules enforced by
//! `const` assertions (reshape, broadcast) are exercised.
//!
//! The `.stderr` files were produced by the toolchain pinned in `rust-toolchain.toml`; regenerate them
//! with `TRYBUILD=overwrite cargo test --test ui` and read every one before committing it.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui-tests/pass/*.rs");
    t.compile_fail("ui-tests/*.rs");
}
