//! The safetensors container, read without any dependency: an 8-byte
//! little-endian header length, a JSON header naming each tensor's dtype,
//! shape and byte range, then the raw data.
//!
//! Shared by `staticnet` (its `safetensors` feature loads files at run
//! time) and `staticnet-macros` (`network_with_weights!` reads them at
//! compile time), so both read a file the same way. Not a public API of
//! its own: use it through `staticnet`.

pub mod dtype;
pub mod header;
pub mod json;
