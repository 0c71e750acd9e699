//! Neural networks whose shape is part of their type.
//!
//! Declare a network once with [`network!`]; the macro checks every width at
//! compile time and generates statically sized forward and backward code
//! that never allocates, in `f32` or `f64`, with or without `std`.
//!
//! ```
//! staticnet::network! {
//!     /// A small classifier.
//!     pub struct Mlp(64 -> 10) {
//!         Dense<128>, Relu,
//!         Dense<64>, LeakyRelu(0.01),
//!         Residual { Dense<64>, Tanh, Dense<64> },
//!         Relu,
//!         Dense<10>,
//!     }
//! }
//!
//! let net: Mlp = Mlp::seeded(42);               // PyTorch's nn.Linear init
//! let mut grads: Mlp = Mlp::zeroed();           // same shape, for gradients
//! let mut tape: MlpTape<f32, 4> = MlpTape::new(); // activations for batch 4
//!
//! let input = [[0.5f32; 64]; 4];
//! let output = *net.forward(&input, &mut tape);
//! assert_eq!(output.len(), 4);
//!
//! // Gradient of the loss w.r.t. each output row, e.g. from a loss function.
//! let grad_output = [[0.1f32; 10]; 4];
//! net.backward(&mut tape, &grad_output, &mut grads).unwrap();
//!
//! // Inference without a tape gives the same numbers.
//! let mut again = [[0.0f32; 10]; 4];
//! net.infer(&input, &mut again);
//! assert_eq!(again, output);
//! ```
//!
//! # What the macro generates
//!
//! For `pub struct Mlp(64 -> 10) { ... }`:
//!
//! - `pub enum MlpArch {}`: the shape, implementing [`Architecture`].
//! - `pub type Mlp<T = f32> = Network<MlpArch, T>`: the parameters (one
//!   contiguous buffer) with every method of [`Network`].
//! - `pub type MlpTape<T = f32, const B: usize = 1> = Tape<MlpArch, T, B>`:
//!   the activation cache for a batch of `B`.
//! - `MlpLayers<'a, T>` / `MlpLayersMut<'a, T>`: one typed view
//!   ([`DenseRef`] / [`DenseMut`]) per dense layer, as fields `dense0`,
//!   `dense1`, … in declaration order, returned by
//!   [`Network::layers`] and [`Network::layers_mut`].
//!
//! For deployment, [`bf16::Bf16Network`] holds a trained `f32` network's
//! weights in bf16 (half the bytes) and runs inference only.
//!
//! # Features
//!
//! - `std` (default): heap constructors, and the matrixmultiply regime for
//!   large products (see [`kernels`]). Without it the crate is `no_std` and
//!   needs no allocator.
//! - `safetensors`: load and save parameters as safetensors with PyTorch's
//!   names and layout (`io::safetensors`).
//! - `serde`: checkpoints in serde's data model (`io::serde::Checkpoint`).
#![cfg_attr(not(any(feature = "std", test)), no_std)]
#![warn(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod activation;
mod aligned;
pub mod architecture;
pub mod bf16;
pub mod clip;
mod error;
pub mod fastmath;
pub mod init;
pub mod io;
pub mod kernels;
pub mod loss;
mod network;
pub mod optim;
mod scalar;
pub mod schedule;
pub mod simd;
mod tape;
pub mod train;
pub mod view;
mod zeroable;

pub use aligned::{CacheAligned, CACHE_LINE};
pub use architecture::{Architecture, Layer, Row};
pub use error::Error;
pub use init::Init;
pub use network::Network;
pub use scalar::Scalar;
pub use tape::Tape;
pub use view::{DenseMut, DenseRef};
pub use zeroable::Zeroable;

/// Declares one or more networks.
///
/// ```text
/// network! {
///     /// docs
///     #[static_kernels]            // optional: never use matrixmultiply
///     #[fast_math]                 // optional: approximate f32 sigmoid, tanh,
///                                  // softplus, ELU; fused multiply-adds in
///                                  // kernels and approximations where the
///                                  // CPU has FMA
///     pub struct Name(IN -> OUT) {
///         Dense<N>,                 // N outputs, with bias
///         Dense<N, bias = false>,   // without bias
///         Relu, Tanh, Sigmoid, Identity, BinaryStep,
///         LeakyRelu(0.01), Elu(1.0), Softplus(beta = 1.0, threshold = 20.0),
///         Residual { Dense<N>, Tanh, Dense<N> },   // y = x + f(x)
///     }
/// }
/// ```
///
/// See the [crate documentation](crate) for what it generates.
#[macro_export]
macro_rules! network {
    ($($declarations:tt)*) => {
        $crate::__private::network_impl! { $crate; $($declarations)* }
    };
}

/// What the generated code names. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::activation;
    pub use crate::architecture::{ActivationKind, Architecture, DenseLayout, Layer};
    pub use crate::bf16::view as bf16_view;
    pub use crate::fallback::Fallback;
    pub use crate::kernels::bf16_dense::forward_into as bf16_dense_forward;
    pub use crate::kernels::static_dense::{Activated, Plain, Recorded, ThroughActivation};
    pub use crate::kernels::{dense_backward, dense_forward};
    pub use crate::residual::{add_in_place, add_into};
    pub use crate::view::{matrix, split_dense_mut, vector, DenseMut, DenseRef};
    pub use crate::{CacheAligned, Network, Scalar, Tape};
    pub use core;
    pub use generic_array::GenericArray;
    pub use staticnet_macros::network_impl;
    pub use typenum;
}

mod fallback;
mod residual;

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
