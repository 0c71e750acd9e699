//! Getting parameters in and out of a program.
//!
//! | need | where | needs |
//! | --- | --- | --- |
//! | save and restore parameters on a device, or ship them with [`include_bytes!`] | [`bytes`] | nothing (`no_std`, no allocator) |
//! | save and resume training: parameters, optimizer state and step count | [`bytes::save_checkpoint`], [`bytes::load_checkpoint`] | nothing |
//! | save and resume training in any serde format (JSON, …) | `serde::Checkpoint` | feature `serde` |
//! | exchange weights with PyTorch | `safetensors` module | feature `safetensors` |
//! | weights compiled into the program as constant data | [`network_with_weights!`](crate::network_with_weights) and [`BakedWeights`] | nothing |
//!
//! Every reader checks its whole input before it writes anything: when it
//! returns an error, the network (and optimizer) it was given are exactly
//! as they were.

mod baked;
pub mod bytes;
mod fingerprint;
#[cfg(feature = "safetensors")]
pub mod safetensors;
#[cfg(feature = "serde")]
pub mod serde;

pub use baked::BakedWeights;
pub use bytes::{CheckpointState, FormatError};
pub use fingerprint::layers_hash;

/// The proc macro behind [`network_with_weights!`](crate::network_with_weights).
#[doc(hidden)]
pub use staticnet_macros::network_with_weights_impl as __network_with_weights_impl;
