//! Nothing to see here: this crate is a benchmark harness. The work is in
//! `benches/peers.rs`; `README.md` says what it runs and how.
