//! Checkpoints: parameters, optimizer state and step count, so a run can
//! stop and resume bit-identically.
//!
//! ```
//! use staticnet::io::bytes;
//! use staticnet::optim::{Adam, AdamConfig};
//!
//! staticnet::network! { pub struct Net(2 -> 1) { Dense<4>, Tanh, Dense<1> } }
//! type Opt = Adam<f32, <NetArch as staticnet::Architecture>::ParamLen>;
//!
//! let net: Net = Net::seeded(1);
//! let opt: Opt = Adam::new(AdamConfig::default()).unwrap();
//! let mut buf = [0u8; bytes::checkpoint_len::<NetArch, f32, Opt>()];
//! bytes::save_checkpoint(&net, &opt, &mut buf).unwrap();
//!
//! let mut resumed_net: Net = Net::zeroed();
//! let mut resumed_opt: Opt = Adam::new(AdamConfig { lr: 0.5, ..AdamConfig::default() }).unwrap();
//! bytes::load_checkpoint(&mut resumed_net, &mut resumed_opt, &buf).unwrap();
//! assert_eq!((resumed_net, resumed_opt), (net, opt));
//! ```

use super::scalars::{read_le, write_le};
use super::{
    framed, output, read_u32, read_u64, seal, write_header, Content, FormatError, Header,
    HEADER_LEN,
};
use crate::architecture::Architecture;
use crate::optim::{
    Adagrad, AdagradConfig, Adam, AdamConfig, AdamMoments, AdamW, AdamWConfig, Optimizer, RmsProp,
    RmsPropConfig, Sgd, SgdConfig,
};
use crate::{Error, Network, Scalar};
use generic_array::typenum::U0;
use generic_array::{ArrayLength, GenericArray};

/// The most hyperparameters an optimizer may record.
pub const MAX_CONFIG_LEN: usize = 16;

/// Bytes of the optimizer section before its hyperparameters: tag, step
/// and the two counts.
const OPTIMIZER_HEADER_LEN: usize = 24;

/// An optimizer whose complete state can be written to a checkpoint and
/// restored from one.
///
/// Implemented for every optimizer of [`crate::optim`]. The state is the
/// hyperparameters (restoring a checkpoint restores them too, as
/// PyTorch's `load_state_dict` does), the step count and `BUFFERS`
/// buffers of `N` scalars.
pub trait CheckpointState<T: Scalar, N: ArrayLength>: Optimizer<T, N> {
    /// The optimizer's name in a checkpoint: ASCII, at most 8 bytes.
    const TAG: &'static str;
    /// Number of hyperparameters recorded (at most [`MAX_CONFIG_LEN`]).
    const CONFIG_LEN: usize;
    /// Number of state buffers of `N` scalars.
    const BUFFERS: usize;
    /// The hyperparameters.
    type Config;

    /// Writes the hyperparameters as `f64` into `out` (`CONFIG_LEN` long);
    /// a flag is 0 or 1.
    fn config_values(&self, out: &mut [f64]);
    /// The hyperparameters written by [`CheckpointState::config_values`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a value outside its domain.
    fn config_from_values(values: &[f64]) -> Result<Self::Config, Error>;
    /// State buffer `i` (`i < BUFFERS`).
    fn buffer(&self, i: usize) -> &GenericArray<T, N>;
    /// State buffer `i`, mutable.
    fn buffer_mut(&mut self, i: usize) -> &mut GenericArray<T, N>;
    /// Replaces the hyperparameters and the step count.
    fn restore(&mut self, config: Self::Config, step: u64);
}

/// Bytes [`save_checkpoint`] writes for a network of architecture `A` over
/// `T` trained by `O`.
pub const fn checkpoint_len<A, T, O>() -> usize
where
    A: Architecture,
    T: Scalar,
    O: CheckpointState<T, A::ParamLen>,
{
    HEADER_LEN
        + OPTIMIZER_HEADER_LEN
        + 8 * O::CONFIG_LEN
        + (1 + O::BUFFERS) * A::PARAMS * core::mem::size_of::<T>()
        + super::CHECKSUM_LEN
}

/// Writes `net`'s parameters and `opt`'s complete state into `out`;
/// returns the number of bytes written ([`checkpoint_len`]).
///
/// # Errors
///
/// [`FormatError::BufferTooSmall`] if `out` is shorter than
/// [`checkpoint_len`]; nothing is written then.
pub fn save_checkpoint<A, T, O>(
    net: &Network<A, T>,
    opt: &O,
    out: &mut [u8],
) -> Result<usize, FormatError>
where
    A: Architecture,
    T: Scalar,
    O: CheckpointState<T, A::ParamLen>,
{
    const { assert!(O::CONFIG_LEN <= MAX_CONFIG_LEN && O::TAG.len() <= 8) };
    let len = checkpoint_len::<A, T, O>();
    let out = output(out, len)?;
    write_header::<A, T>(out, Content::Checkpoint);

    let mut tag = [0u8; 8];
    tag[..O::TAG.len()].copy_from_slice(O::TAG.as_bytes());
    out[32..40].copy_from_slice(&tag);
    out[40..48].copy_from_slice(&opt.steps().to_le_bytes());
    out[48..52].copy_from_slice(&(O::CONFIG_LEN as u32).to_le_bytes());
    out[52..56].copy_from_slice(&(O::BUFFERS as u32).to_le_bytes());
    let mut config = [0.0f64; MAX_CONFIG_LEN];
    opt.config_values(&mut config[..O::CONFIG_LEN]);
    let mut at = HEADER_LEN + OPTIMIZER_HEADER_LEN;
    for v in &config[..O::CONFIG_LEN] {
        out[at..at + 8].copy_from_slice(&v.to_le_bytes());
        at += 8;
    }

    let buffer_len = A::PARAMS * core::mem::size_of::<T>();
    write_le(net.params(), &mut out[at..at + buffer_len]);
    for i in 0..O::BUFFERS {
        at += buffer_len;
        write_le(opt.buffer(i).as_slice(), &mut out[at..at + buffer_len]);
    }
    seal(out);
    Ok(len)
}

/// Restores `net` and `opt` from a checkpoint written by
/// [`save_checkpoint`]: parameters, hyperparameters, step count and every
/// state buffer.
///
/// # Errors
///
/// Any [`FormatError`] about the buffer or the network (as
/// [`load`](super::load)), a checkpoint of another optimizer, or an
/// invalid stored hyperparameter; `net` and `opt` are untouched then.
pub fn load_checkpoint<A, T, O>(
    net: &mut Network<A, T>,
    opt: &mut O,
    bytes: &[u8],
) -> Result<(), FormatError>
where
    A: Architecture,
    T: Scalar,
    O: CheckpointState<T, A::ParamLen>,
{
    const { assert!(O::CONFIG_LEN <= MAX_CONFIG_LEN && O::TAG.len() <= 8) };
    let header = Header::parse(bytes, Content::Checkpoint)?;
    let sections_start = HEADER_LEN + OPTIMIZER_HEADER_LEN;
    if bytes.len() < sections_start {
        return Err(FormatError::Truncated {
            needed: sections_start,
            available: bytes.len(),
        });
    }
    let config_len = read_u32(bytes, 48);
    let buffers = read_u32(bytes, 52);
    let body_len = header
        .params_bytes()
        .zip((buffers as usize).checked_add(1))
        .and_then(|(p, copies)| p.checked_mul(copies))
        .zip((config_len as usize).checked_mul(8))
        .and_then(|(b, config)| b.checked_add(config))
        .and_then(|b| b.checked_add(OPTIMIZER_HEADER_LEN))
        .ok_or(FormatError::Truncated {
            needed: usize::MAX,
            available: bytes.len(),
        })?;
    let body = framed(bytes, body_len)?;
    header.check_network::<A, T>()?;

    let mut expected_tag = [0u8; 8];
    expected_tag[..O::TAG.len()].copy_from_slice(O::TAG.as_bytes());
    let mut found_tag = [0u8; 8];
    found_tag.copy_from_slice(&body[..8]);
    if found_tag != expected_tag {
        return Err(FormatError::Optimizer {
            found: found_tag,
            expected: O::TAG,
        });
    }
    let layout = [
        ("hyperparameters", config_len, O::CONFIG_LEN),
        ("state buffers", buffers, O::BUFFERS),
    ];
    for (field, found, expected) in layout {
        if found as usize != expected {
            return Err(FormatError::OptimizerLayout {
                field,
                found,
                expected: expected as u32,
            });
        }
    }
    let step = read_u64(body, 8);
    let mut values = [0.0f64; MAX_CONFIG_LEN];
    let mut at = OPTIMIZER_HEADER_LEN;
    for v in &mut values[..O::CONFIG_LEN] {
        *v = f64::from_bits(read_u64(body, at));
        at += 8;
    }
    let config = O::config_from_values(&values[..O::CONFIG_LEN]).map_err(FormatError::Config)?;

    // Everything is checked: from here on nothing can fail.
    let buffer_len = A::PARAMS * core::mem::size_of::<T>();
    read_le(&body[at..at + buffer_len], net.params_mut());
    for i in 0..O::BUFFERS {
        at += buffer_len;
        read_le(&body[at..at + buffer_len], opt.buffer_mut(i).as_mut_slice());
    }
    opt.restore(config, step);
    Ok(())
}

/// A stored flag: exactly the bits of 0.0 or 1.0 (not −0.0, so that a
/// checkpoint read and written again is the same bytes).
fn flag(optimizer: &'static str, field: &'static str, v: f64) -> Result<bool, Error> {
    match v.to_bits() {
        0 => Ok(false),
        bits if bits == 1.0f64.to_bits() => Ok(true),
        _ => Err(Error::InvalidConfig {
            optimizer,
            field,
            expected: "0 or 1 (a flag)",
            value: v,
        }),
    }
}

fn flag_value(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

// Each `config_from_values` checks the values by building the optimizer
// over zero parameters: its constructor holds the validation, and a state
// of no scalars costs nothing.

impl<T: Scalar, N: ArrayLength> CheckpointState<T, N> for Sgd<T, N> {
    const TAG: &'static str = "SGD";
    const CONFIG_LEN: usize = 5;
    const BUFFERS: usize = 1;
    type Config = SgdConfig;

    fn config_values(&self, out: &mut [f64]) {
        let c = &self.config;
        out.copy_from_slice(&[
            c.lr,
            c.momentum,
            c.dampening,
            c.weight_decay,
            flag_value(c.nesterov),
        ]);
    }

    fn config_from_values(v: &[f64]) -> Result<SgdConfig, Error> {
        let config = SgdConfig {
            lr: v[0],
            momentum: v[1],
            dampening: v[2],
            weight_decay: v[3],
            nesterov: flag("SGD", "nesterov", v[4])?,
        };
        Sgd::<T, U0>::new(config).map(|_| config)
    }

    fn buffer(&self, _: usize) -> &GenericArray<T, N> {
        &self.momentum_buffer
    }

    fn buffer_mut(&mut self, _: usize) -> &mut GenericArray<T, N> {
        &mut self.momentum_buffer
    }

    fn restore(&mut self, config: SgdConfig, step: u64) {
        self.config = config;
        self.step = step;
    }
}

impl<T: Scalar, N: ArrayLength> CheckpointState<T, N> for Adagrad<T, N> {
    const TAG: &'static str = "Adagrad";
    const CONFIG_LEN: usize = 5;
    const BUFFERS: usize = 1;
    type Config = AdagradConfig;

    fn config_values(&self, out: &mut [f64]) {
        let c = &self.config;
        out.copy_from_slice(&[
            c.lr,
            c.lr_decay,
            c.weight_decay,
            c.initial_accumulator_value,
            c.eps,
        ]);
    }

    fn config_from_values(v: &[f64]) -> Result<AdagradConfig, Error> {
        let config = AdagradConfig {
            lr: v[0],
            lr_decay: v[1],
            weight_decay: v[2],
            initial_accumulator_value: v[3],
            eps: v[4],
        };
        Adagrad::<T, U0>::new(config).map(|_| config)
    }

    fn buffer(&self, _: usize) -> &GenericArray<T, N> {
        &self.sum
    }

    fn buffer_mut(&mut self, _: usize) -> &mut GenericArray<T, N> {
        &mut self.sum
    }

    fn restore(&mut self, config: AdagradConfig, step: u64) {
        self.config = config;
        self.step = step;
    }
}

impl<T: Scalar, N: ArrayLength> CheckpointState<T, N> for RmsProp<T, N> {
    const TAG: &'static str = "RMSprop";
    const CONFIG_LEN: usize = 6;
    const BUFFERS: usize = 3;
    type Config = RmsPropConfig;

    fn config_values(&self, out: &mut [f64]) {
        let c = &self.config;
        out.copy_from_slice(&[
            c.lr,
            c.alpha,
            c.eps,
            c.weight_decay,
            c.momentum,
            flag_value(c.centered),
        ]);
    }

    fn config_from_values(v: &[f64]) -> Result<RmsPropConfig, Error> {
        let config = RmsPropConfig {
            lr: v[0],
            alpha: v[1],
            eps: v[2],
            weight_decay: v[3],
            momentum: v[4],
            centered: flag("RMSprop", "centered", v[5])?,
        };
        RmsProp::<T, U0>::new(config).map(|_| config)
    }

    fn buffer(&self, i: usize) -> &GenericArray<T, N> {
        match i {
            0 => &self.square_avg,
            1 => &self.grad_avg,
            _ => &self.momentum_buffer,
        }
    }

    fn buffer_mut(&mut self, i: usize) -> &mut GenericArray<T, N> {
        match i {
            0 => &mut self.square_avg,
            1 => &mut self.grad_avg,
            _ => &mut self.momentum_buffer,
        }
    }

    fn restore(&mut self, config: RmsPropConfig, step: u64) {
        self.config = config;
        self.step = step;
    }
}

/// State buffer `i` of Adam and AdamW: first moments, second moments,
/// then AMSGrad's running maximum.
fn moment<T: Scalar, N: ArrayLength>(m: &AdamMoments<T, N>, i: usize) -> &GenericArray<T, N> {
    match i {
        0 => &m.exp_avg,
        1 => &m.exp_avg_sq,
        _ => &m.max_exp_avg_sq,
    }
}

/// [`moment`], mutable.
fn moment_mut<T: Scalar, N: ArrayLength>(
    m: &mut AdamMoments<T, N>,
    i: usize,
) -> &mut GenericArray<T, N> {
    match i {
        0 => &mut m.exp_avg,
        1 => &mut m.exp_avg_sq,
        _ => &mut m.max_exp_avg_sq,
    }
}

/// The hyperparameters shared by Adam and AdamW, as stored.
fn adam_values(lr: f64, betas: (f64, f64), eps: f64, wd: f64, amsgrad: bool) -> [f64; 6] {
    [lr, betas.0, betas.1, eps, wd, flag_value(amsgrad)]
}

impl<T: Scalar, N: ArrayLength> CheckpointState<T, N> for Adam<T, N> {
    const TAG: &'static str = "Adam";
    const CONFIG_LEN: usize = 6;
    const BUFFERS: usize = 3;
    type Config = AdamConfig;

    fn config_values(&self, out: &mut [f64]) {
        let c = &self.config;
        out.copy_from_slice(&adam_values(
            c.lr,
            c.betas,
            c.eps,
            c.weight_decay,
            c.amsgrad,
        ));
    }

    fn config_from_values(v: &[f64]) -> Result<AdamConfig, Error> {
        let config = AdamConfig {
            lr: v[0],
            betas: (v[1], v[2]),
            eps: v[3],
            weight_decay: v[4],
            amsgrad: flag("Adam", "amsgrad", v[5])?,
        };
        Adam::<T, U0>::new(config).map(|_| config)
    }

    fn buffer(&self, i: usize) -> &GenericArray<T, N> {
        moment(&self.moments, i)
    }

    fn buffer_mut(&mut self, i: usize) -> &mut GenericArray<T, N> {
        moment_mut(&mut self.moments, i)
    }

    fn restore(&mut self, config: AdamConfig, step: u64) {
        self.config = config;
        self.step = step;
    }
}

impl<T: Scalar, N: ArrayLength> CheckpointState<T, N> for AdamW<T, N> {
    const TAG: &'static str = "AdamW";
    const CONFIG_LEN: usize = 6;
    const BUFFERS: usize = 3;
    type Config = AdamWConfig;

    fn config_values(&self, out: &mut [f64]) {
        let c = &self.config;
        out.copy_from_slice(&adam_values(
            c.lr,
            c.betas,
            c.eps,
            c.weight_decay,
            c.amsgrad,
        ));
    }

    fn config_from_values(v: &[f64]) -> Result<AdamWConfig, Error> {
        let config = AdamWConfig {
            lr: v[0],
            betas: (v[1], v[2]),
            eps: v[3],
            weight_decay: v[4],
            amsgrad: flag("AdamW", "amsgrad", v[5])?,
        };
        AdamW::<T, U0>::new(config).map(|_| config)
    }

    fn buffer(&self, i: usize) -> &GenericArray<T, N> {
        moment(&self.moments, i)
    }

    fn buffer_mut(&mut self, i: usize) -> &mut GenericArray<T, N> {
        moment_mut(&mut self.moments, i)
    }

    fn restore(&mut self, config: AdamWConfig, step: u64) {
        self.config = config;
        self.step = step;
    }
}
