//! Checkpoints in serde's data model (feature `serde`): parameters,
//! optimizer state and step count as plain data that any serde format
//! (JSON, bincode, MessagePack, …) can carry.
//!
//! [`Checkpoint`] is a plain struct with public fields: values are stored
//! as `f64` (exact for `f32` too), next to the network's shape, so a
//! checkpoint for another network, scalar type or optimizer is refused
//! with the same errors as the byte format. As with the byte format, a run
//! restored from a checkpoint continues bit-identically, and a refused
//! checkpoint changes nothing.
//!
//! ```
//! use staticnet::io::serde::Checkpoint;
//! use staticnet::optim::{Adam, AdamConfig};
//!
//! staticnet::network! { pub struct Net(2 -> 1) { Dense<4>, Tanh, Dense<1> } }
//!
//! let net: Net = Net::seeded(1);
//! let adam = Adam::new(AdamConfig::default()).unwrap();
//! let checkpoint = Checkpoint::capture(&net, &adam);
//! // `checkpoint` implements Serialize and Deserialize.
//! let mut restored: Net = Net::zeroed();
//! let mut adam2 = Adam::new(AdamConfig::default()).unwrap();
//! checkpoint.restore(&mut restored, &mut adam2).unwrap();
//! assert!(restored == net);
//! ```

use super::bytes::{CheckpointState, FormatError, ShapeField};
use super::fingerprint::layers_hash;
use crate::architecture::Architecture;
use crate::{Network, Scalar};
use serde::{Deserialize, Serialize};
use std::string::{String, ToString};
use std::vec::Vec;

/// A network's parameters and its optimizer's complete state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The network's declared name (informative only).
    pub network: String,
    /// `"f32"` or `"f64"`.
    pub scalar: String,
    /// Input width.
    pub input: u64,
    /// Output width.
    pub output: u64,
    /// Hash of the layer list (see [`super::layers_hash`]).
    pub layers_hash: u64,
    /// The parameters, in storage order.
    pub params: Vec<f64>,
    /// The optimizer's tag (`"Adam"`, `"SGD"`, …).
    pub optimizer: String,
    /// Its hyperparameters, as the byte format records them.
    pub config: Vec<f64>,
    /// Updates applied so far.
    pub step: u64,
    /// Its state buffers, each as long as `params`.
    pub buffers: Vec<Vec<f64>>,
}

impl Checkpoint {
    /// Captures `net` and `opt`.
    pub fn capture<A, T, O>(net: &Network<A, T>, opt: &O) -> Checkpoint
    where
        A: Architecture,
        T: Scalar,
        O: CheckpointState<T, A::ParamLen>,
    {
        let to_f64 = |s: &[T]| s.iter().map(|v| v.to_f64()).collect::<Vec<f64>>();
        let mut config = std::vec![0.0; O::CONFIG_LEN];
        opt.config_values(&mut config);
        Checkpoint {
            network: A::NAME.to_string(),
            scalar: T::NAME.to_string(),
            input: A::INPUT as u64,
            output: A::OUTPUT as u64,
            layers_hash: layers_hash::<A>(),
            params: to_f64(net.params()),
            optimizer: O::TAG.to_string(),
            config,
            step: opt.steps(),
            buffers: (0..O::BUFFERS).map(|i| to_f64(opt.buffer(i))).collect(),
        }
    }

    /// Writes the checkpoint into `net` and `opt`, after checking all of
    /// it: on error both are exactly as they were.
    ///
    /// # Errors
    ///
    /// [`FormatError::Scalar`], [`FormatError::Shape`] (naming the width,
    /// parameter count or layer list that differs),
    /// [`FormatError::Optimizer`], [`FormatError::OptimizerLayout`], or
    /// [`FormatError::Config`] for a hyperparameter outside its domain.
    pub fn restore<A, T, O>(&self, net: &mut Network<A, T>, opt: &mut O) -> Result<(), FormatError>
    where
        A: Architecture,
        T: Scalar,
        O: CheckpointState<T, A::ParamLen>,
    {
        if self.scalar != T::NAME {
            return Err(FormatError::Scalar {
                found: if self.scalar == "f32" {
                    "f32"
                } else if self.scalar == "f64" {
                    "f64"
                } else {
                    "unknown"
                },
                expected: T::NAME,
            });
        }
        let shape = [
            (ShapeField::InputWidth, self.input, A::INPUT as u64),
            (ShapeField::OutputWidth, self.output, A::OUTPUT as u64),
            (
                ShapeField::ParamCount,
                self.params.len() as u64,
                A::PARAMS as u64,
            ),
            (ShapeField::Layers, self.layers_hash, layers_hash::<A>()),
        ];
        for (field, found, expected) in shape {
            if found != expected {
                return Err(FormatError::Shape {
                    field,
                    found,
                    expected,
                });
            }
        }
        if self.optimizer != O::TAG {
            let mut found = [0u8; 8];
            for (f, b) in found.iter_mut().zip(self.optimizer.bytes()) {
                *f = b;
            }
            return Err(FormatError::Optimizer {
                found,
                expected: O::TAG,
            });
        }
        let layout = [
            ("hyperparameters", self.config.len(), O::CONFIG_LEN),
            ("state buffers", self.buffers.len(), O::BUFFERS),
        ];
        for (field, found, expected) in layout {
            if found != expected {
                return Err(FormatError::OptimizerLayout {
                    field,
                    found: found as u32,
                    expected: expected as u32,
                });
            }
        }
        if let Some(b) = self.buffers.iter().find(|b| b.len() != A::PARAMS) {
            return Err(FormatError::Shape {
                field: ShapeField::ParamCount,
                found: b.len() as u64,
                expected: A::PARAMS as u64,
            });
        }
        let config = O::config_from_values(&self.config).map_err(FormatError::Config)?;
        // Everything checked: write.
        for (p, v) in net.params_mut().iter_mut().zip(&self.params) {
            *p = T::from_f64(*v);
        }
        for (i, values) in self.buffers.iter().enumerate() {
            for (p, v) in opt.buffer_mut(i).iter_mut().zip(values) {
                *p = T::from_f64(*v);
            }
        }
        opt.restore(config, self.step);
        Ok(())
    }
}
