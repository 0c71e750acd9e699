//! The safetensors container, read the same way the runtime reads it (the
//! shared `staticnet-format` crate). The macro uses only part of it.

pub use staticnet_format::{dtype, header};
