//! What a firmware user writes: networks and tapes in `static`s, built from
//! the `ZERO` and `EMPTY` constants, with no allocator, no lock and no
//! `std` type in sight.
//!
//! Not possible yet: a `const` network filled with trained weights at
//! compile time. `ZERO` is the only constant constructor, so a `static` net
//! is either read as zeros or filled at start-up (`init`, or copied weights)
//! through the singleton pattern below.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};
use staticnet::init::SplitMix64;
use staticnet::{Error, Init};

staticnet::network! {
    /// A small controller with a residual block.
    pub struct Small(4 -> 2) {
        Dense<8>, Tanh,
        Residual { Dense<8>, Relu, Dense<8> },
        Dense<2>,
    }
}

static NET: Small = Small::ZERO;
static NET_F64: Small<f64> = Small::ZERO;
static ENSEMBLE: [Small; 3] = [Small::ZERO; 3];
static TAPE: SmallTape<f32, 1> = SmallTape::EMPTY;
static BATCH_TAPE: SmallTape<f64, 16> = SmallTape::EMPTY;
const TEMPLATE: Small = Small::ZERO;
const EMPTY_TAPE: SmallTape<f32, 4> = SmallTape::EMPTY;

#[test]
fn zero_constant_has_all_zero_params() {
    let net: Small = Small::ZERO;
    assert_eq!(net.params().len(), Small::<f32>::PARAMS);
    // +0.0 exactly, not merely equal to zero (-0.0 would pass `== 0.0`).
    assert!(net.params().iter().all(|v| v.to_bits() == 0));
    assert!(Small::<f64>::ZERO.params().iter().all(|v| v.to_bits() == 0));
    assert!(net == Small::zeroed());
}

#[test]
fn static_zero_net_is_readable() {
    assert!(NET.params().iter().all(|&v| v == 0.0));
    let layers = NET.layers();
    assert_eq!(layers.dense0.weight_matrix(), [[0.0; 4]; 8]);
    assert_eq!(layers.dense2.bias(), Some(&[0.0; 8]));
    // Every layer of a zero network outputs zero: tanh(0) = relu(0) = 0.
    assert_eq!(NET.predict(&[1.0, -2.0, 3.0, -4.0]), [0.0; 2]);
    let mut out = [[1.0f64; 2]; 3];
    NET_F64.infer(&[[0.5; 4]; 3], &mut out);
    assert_eq!(out, [[0.0; 2]; 3]);
    for member in &ENSEMBLE {
        assert_eq!(member.predict(&[0.25; 4]), [0.0; 2]);
    }
}

#[test]
fn static_empty_tape_is_empty() {
    assert!(!TAPE.is_filled());
    assert_eq!(TAPE.output(), &[[0.0; 2]; 1]);
    assert!(!BATCH_TAPE.is_filled());
    assert_eq!(BATCH_TAPE.output(), &[[0.0; 2]; 16]);
}

#[test]
fn const_items_give_fresh_copies() {
    let mut net = TEMPLATE;
    net.init(Init::XavierUniform, &mut SplitMix64::new(3));
    assert!(net.params().iter().any(|&v| v != 0.0));
    assert!(TEMPLATE.params().iter().all(|&v| v == 0.0));

    let mut tape = EMPTY_TAPE;
    let mut grads = TEMPLATE;
    let grad_output = [[1.0; 2]; 4];
    assert_eq!(
        net.backward(&mut tape, &grad_output, &mut grads),
        Err(Error::EmptyTape { network: "Small" })
    );
    net.forward(&[[0.5; 4]; 4], &mut tape);
    assert!(net.backward(&mut tape, &grad_output, &mut grads).is_ok());
    assert!(grads.params().iter().any(|&v| v != 0.0));
    assert!(!EMPTY_TAPE.is_filled());
}

/// A value in a `static`, handed out mutably exactly once: the core-only
/// way firmware owns a singleton without a lock.
struct Slot<T> {
    taken: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is only reachable through the single `&mut` that
// `take` ever hands out, so it is never shared; `T: Send` lets that
// reference move to whichever thread took it.
unsafe impl<T: Send> Sync for Slot<T> {}

impl<T> Slot<T> {
    const fn new(value: T) -> Self {
        Self {
            taken: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// The value, the first time; `None` afterwards.
    #[allow(
        clippy::mut_from_ref,
        reason = "the `taken` flag makes the returned reference unique"
    )]
    fn take(&'static self) -> Option<&'static mut T> {
        if self.taken.swap(true, Ordering::AcqRel) {
            return None;
        }
        // SAFETY: the swap returns `false` to exactly one caller, so this
        // is the only reference ever made to the value.
        Some(unsafe { &mut *self.value.get() })
    }
}

static NET_SLOT: Slot<Small> = Slot::new(Small::ZERO);
static GRADS_SLOT: Slot<Small> = Slot::new(Small::ZERO);
static TAPE_SLOT: Slot<SmallTape<f32, 4>> = Slot::new(SmallTape::EMPTY);

/// Mean squared error of `net` on `(inputs, targets)`, and its gradient
/// with respect to the outputs.
fn mse(
    net: &Small,
    tape: &mut SmallTape<f32, 4>,
    inputs: &[[f32; 4]; 4],
    targets: &[[f32; 2]; 4],
) -> (f32, [[f32; 2]; 4]) {
    let outputs = net.forward(inputs, tape);
    let n = 8.0;
    let mut loss = 0.0;
    let mut grad = [[0.0; 2]; 4];
    for ((y, t), g) in outputs.iter().zip(targets).zip(&mut grad) {
        for j in 0..2 {
            let d = y[j] - t[j];
            loss += d * d / n;
            g[j] = 2.0 * d / n;
        }
    }
    (loss, grad)
}

#[test]
fn static_singleton_net_trains_in_place() {
    let net = NET_SLOT.take().expect("first take");
    let grads = GRADS_SLOT.take().expect("first take");
    let tape = TAPE_SLOT.take().expect("first take");
    assert!(NET_SLOT.take().is_none(), "a second take must be refused");

    // Start-up: weights are drawn into the static itself.
    net.init(Init::XavierUniform, &mut SplitMix64::new(9));
    let inputs = [
        [1.0, 0.0, 0.0, 0.5],
        [0.0, 1.0, 0.0, -0.5],
        [0.0, 0.0, 1.0, 0.25],
        [0.5, 0.5, 0.5, 0.0],
    ];
    let targets = [[0.5, -0.5], [-0.5, 0.5], [0.25, 0.0], [0.0, 0.25]];

    let (initial, _) = mse(net, tape, &inputs, &targets);
    let mut loss = initial;
    for _ in 0..200 {
        let (l, grad_output) = mse(net, tape, &inputs, &targets);
        loss = l;
        grads.fill_zero();
        net.backward(tape, &grad_output, grads)
            .expect("the tape was filled");
        for (p, g) in net.params_mut().iter_mut().zip(grads.params()) {
            *p -= 0.1 * g;
        }
    }
    assert!(loss < 0.1 * initial, "loss went from {initial} to {loss}");
}
