//! The safetensors container, read without any dependency.
//!
//! These three files are also compiled into the macro crate (which reads
//! weights at compile time and cannot depend on this crate), as identical
//! copies under `macros/src/weights/format/`; a test keeps the copies equal.

pub mod dtype;
pub mod header;
pub mod json;
