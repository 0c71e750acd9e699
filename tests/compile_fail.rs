//! Every error message of `network!`, one case each in `tests/ui/`: the
//! declaration with the mistake, then code that uses the network, so each
//! `.stderr` also shows that the mistake does not cascade into errors at
//! the uses.
//!
//! The `.stderr` files are the compiler's exact output and are pinned to
//! Rust 1.95 (stable); another compiler version may word or lay out the
//! same errors differently. After a deliberate change to a message,
//! regenerate them with `TRYBUILD=overwrite cargo test --test
//! compile_fail` and read every changed file before committing it.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
