//! The safetensors container, read without any dependency.
//!
//! `json.rs`, `header.rs` and `dtype.rs` are identical copies of the
//! runtime crate's `src/io/safetensors/format/`: this crate cannot depend
//! on the runtime crate (the runtime depends on it), and a test in the
//! runtime crate keeps the copies equal. The macro uses only part of them.
#![allow(dead_code)]

pub mod dtype;
pub mod header;
pub mod json;
