//! Parameters to and from safetensors, with PyTorch's names and layout
//! (feature `safetensors`).
//!
//! ```
//! use staticnet::io::safetensors;
//!
//! staticnet::network! {
//!     pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
//! }
//!
//! // A file written by scripts/export_torch.py from a trained nn.Sequential.
//! let mut net: W1 = W1::zeroed();
//! safetensors::load_file(&mut net, "tests/fixtures/w1.safetensors").unwrap();
//!
//! // And back, for `model.load_state_dict(safetensors.torch.load_file(..))`.
//! let bytes = safetensors::save(&net);
//! let mut again: W1 = W1::zeroed();
//! safetensors::load(&mut again, &bytes).unwrap();
//! assert_eq!(again, net);
//! ```
//!
//! # Names
//!
//! By default ([`TensorNames::sequential`]) a network is PyTorch's
//! `nn.Sequential` of the same layers, one module per entry of the
//! declaration, activations included:
//!
//! ```text
//! Dense<16>, Tanh, Dense<16>, Tanh, Dense<1>
//! nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
//! "0.weight" [16, 2], "0.bias" [16], "2.weight" [16, 16], "2.bias" [16], "4.weight" [1, 16], "4.bias" [1]
//! ```
//!
//! A `Residual { ... }` block is this module, its body an `nn.Sequential`
//! of the block's layers, so the dense layers inside a block at index `i`
//! are `"i.body.0.weight"`, `"i.body.2.weight"`, … (and nested blocks
//! nest: `"i.body.j.body.0.weight"`):
//!
//! ```python
//! class Residual(nn.Module):
//!     def __init__(self, *layers):
//!         super().__init__()
//!         self.body = nn.Sequential(*layers)
//!
//!     def forward(self, x):
//!         return x + self.body(x)
//! ```
//!
//! Activations map to `nn.Identity`, `nn.Sigmoid`, `nn.Tanh`, `nn.ReLU`,
//! `nn.Softplus(beta, threshold)`, `nn.LeakyReLU(slope)` and
//! `nn.ELU(alpha)`; `BinaryStep` has no PyTorch module and takes its index
//! like any other. Other module trees are covered by
//! [`TensorNames::modules`] (one module path per dense layer) and
//! [`TensorNames::map`] (any renaming), passed in [`LoadOptions`] or to
//! [`save_with`].
//!
//! # Errors
//!
//! Every way a file can be wrong is a [`SafetensorsError`] naming the
//! tensor and what was expected, and a failed load leaves the network
//! exactly as it was.

mod error;
pub(crate) mod format;
mod load;
mod names;
mod read;
mod save;

pub use error::SafetensorsError;
pub use format::dtype::Dtype;
pub use load::{load, load_file, load_file_with, load_with, LoadOptions, LoadReport};
pub use names::{LayerNames, TensorNames};
pub use read::{TensorView, Tensors};
pub use save::{save, save_file, save_with};
