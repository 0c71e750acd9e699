//! The safetensors container, read without any dependency (the
//! `staticnet-format` crate, shared with the macro crate so that run-time
//! loading and compile-time baking read a file the same way).

pub use staticnet_format::{dtype, header};

#[cfg(test)]
pub use staticnet_format::json;
