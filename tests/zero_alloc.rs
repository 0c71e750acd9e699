//! Zero allocation is a test, not a claim: a counting global allocator
//! around `forward`, `backward`, `backward_with_input_grad`, `infer` and
//! `predict`.
//!
//! Networks declared `#[static_kernels]` must never allocate, at any batch.
//! Without the attribute, every shape that [`uses_gemm`] keeps in the static
//! regime must not allocate either; shapes it sends to matrixmultiply do
//! allocate (its packing buffer), which shows that the counter sees
//! allocations made inside the library.

use staticnet::architecture::{dense_layers, Architecture};
use staticnet::kernels::{uses_gemm, uses_gemm_forward, GEMM_MIN_BATCH, GEMM_MIN_MACS};
use staticnet::{Network, Scalar, Tape};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

/// The system allocator, counting every allocation made by each thread.
struct CountingAllocator;

thread_local! {
    // Per thread, so that tests running in parallel never see each other's
    // allocations. A `const` `Cell` has no destructor and needs no lazy
    // set-up, so touching it from inside the allocator is safe.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with` rather than `with`: never panic inside the allocator, even
    // while a thread is being torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; counting touches only a thread-local integer.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: the caller's guarantees about `layout` are passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: `ptr` came from this allocator, that is from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `realloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How many allocations this thread made while running `f`.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// How many dense layers of `A` run their backward products on
/// matrixmultiply at this batch: the same decision the generated code makes
/// (`#[static_kernels]` disallows the matrixmultiply regime).
fn gemm_layers<A: Architecture>(batch: usize) -> usize {
    dense_layers::<A>()
        .filter(|d| uses_gemm(batch, d.inputs, d.outputs, !A::STATIC_KERNELS))
        .count()
}

/// How many dense layers of `A` run their forward product (and inference)
/// on matrixmultiply at this batch.
fn gemm_forward_layers<A: Architecture, T: Scalar>(batch: usize) -> usize {
    dense_layers::<A>()
        .filter(|d| uses_gemm_forward::<T>(batch, d.inputs, d.outputs, !A::STATIC_KERNELS))
        .count()
}

/// Allocations made by one call of each operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    forward: usize,
    backward: usize,
    backward_with_input_grad: usize,
    infer: usize,
    predict: usize,
}

/// `B` rows of a fixed pattern in [-1, 1], built on the heap (a batch of
/// 784-wide rows does not belong on a test thread's stack).
fn rows<T: Scalar, const W: usize, const B: usize>(salt: usize) -> Box<[[T; W]; B]> {
    let mut rows: Box<[[T; W]; B]> = vec![[T::ZERO; W]; B]
        .into_boxed_slice()
        .try_into()
        .expect("the vector has exactly B rows");
    for (i, v) in rows.as_flattened_mut().iter_mut().enumerate() {
        *v = T::from_f64(((i * 31 + salt * 7) % 19) as f64 / 9.0 - 1.0);
    }
    rows
}

/// Counts the allocations of each operation on a network of shape `A` at
/// batch `B`. Everything is created and every operation run once before
/// counting, so one-time set-up would not be mistaken for per-call cost.
fn measure<A, T, const IN: usize, const OUT: usize, const B: usize>() -> Counts
where
    A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
    T: Scalar,
{
    let net = Network::<A, T>::boxed_seeded(7);
    let mut grads = Network::<A, T>::boxed_zeroed();
    let mut tape = Tape::<A, T, B>::boxed();
    let input = rows::<T, IN, B>(1);
    let grad_output = rows::<T, OUT, B>(2);
    let mut grad_input = rows::<T, IN, B>(3);
    let mut output = rows::<T, OUT, B>(4);

    let mut counts = Counts::default();
    for _warm_up_then_count in 0..2 {
        counts = Counts {
            forward: allocations_during(|| {
                black_box(net.forward(&input, &mut tape));
            }),
            backward: allocations_during(|| {
                net.backward(&mut tape, &grad_output, &mut grads)
                    .expect("the tape was filled");
            }),
            backward_with_input_grad: allocations_during(|| {
                net.backward_with_input_grad(&mut tape, &grad_output, &mut grads, &mut grad_input)
                    .expect("the tape was filled");
            }),
            infer: allocations_during(|| net.infer(&input, &mut output)),
            predict: allocations_during(|| {
                black_box(net.predict(&input[0]));
            }),
        };
    }
    black_box((&grads, &grad_input, &output));
    counts
}

/// Asserts that `A` at batch `B` is in the static regime, then that none of
/// its operations allocates.
fn assert_allocation_free<A, T, const IN: usize, const OUT: usize, const B: usize>()
where
    A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
    T: Scalar,
{
    assert_eq!(
        gemm_layers::<A>(B),
        0,
        "{} at batch {B} is not in the static regime",
        A::NAME
    );
    let counts = measure::<A, T, IN, OUT, B>();
    assert_eq!(
        counts,
        Counts::default(),
        "{} ({}) at batch {B} allocated",
        A::NAME,
        T::NAME
    );
}

/// Asserts that `A` at batch `B` uses matrixmultiply somewhere, then that
/// the counter sees the allocations this costs.
fn assert_gemm_allocations_counted<A, T, const IN: usize, const OUT: usize, const B: usize>()
where
    A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
    T: Scalar,
{
    assert!(
        gemm_layers::<A>(B) > 0,
        "{} at batch {B} is not in the matrixmultiply regime",
        A::NAME
    );
    let c = measure::<A, T, IN, OUT, B>();
    assert!(
        c.backward > 0 && c.backward_with_input_grad > 0,
        "{} ({}) at batch {B}: matrixmultiply's allocations were not counted: {c:?}",
        A::NAME,
        T::NAME
    );
    // The forward product stays static where that kernel is as fast.
    let forward_on_gemm = gemm_forward_layers::<A, T>(B) > 0;
    assert_eq!(
        (c.forward > 0, c.infer > 0),
        (forward_on_gemm, forward_on_gemm),
        "{} ({}) at batch {B}: forward and inference should allocate exactly \
         when a forward product runs on matrixmultiply: {c:?}",
        A::NAME,
        T::NAME
    );
    // `predict` runs one row, and batch 1 is always in the static regime.
    assert_eq!(c.predict, 0, "{} ({}) predict allocated", A::NAME, T::NAME);
}

staticnet::network! {
    /// W2 (784 -> 128 -> 64 -> 10) with the static regime forced.
    #[static_kernels]
    pub struct StaticMnist(784 -> 10) {
        Dense<128>, Relu,
        Dense<64>, Relu,
        Dense<10>,
    }

    /// A residual net with the static regime forced. It starts with a
    /// residual block, so its input gradient is copied out at the end of
    /// backward rather than written by the first dense layer.
    #[static_kernels]
    pub struct StaticResidual(64 -> 10) {
        Residual { Dense<64>, Tanh, Dense<64> },
        Dense<128>, Elu(1.0),
        Dense<128, bias = false>, LeakyRelu(0.01),
        Residual {
            Dense<128>, Softplus(beta = 1.0, threshold = 20.0),
            Residual { Dense<128>, Sigmoid, Dense<128> },
        },
        Relu,
        Dense<64>, Identity,
        Dense<10>,
    }

    /// W2 with the default kernel selection.
    pub struct Mnist(784 -> 10) {
        Dense<128>, Relu,
        Dense<64>, Relu,
        Dense<10>,
    }

    /// The crate documentation's example, default kernel selection.
    pub struct Mlp(64 -> 10) {
        Dense<128>, Relu,
        Dense<64>, LeakyRelu(0.01),
        Residual { Dense<64>, Tanh, Dense<64> },
        Relu,
        Dense<10>,
    }

    /// W1 (2 -> 16 -> 16 -> 1), default kernel selection.
    pub struct Tiny(2 -> 1) {
        Dense<16>, Tanh,
        Dense<16>, Tanh,
        Dense<1>,
    }
}

/// Tiny's largest product is its 16 x 16 layer: the first batch at which it
/// reaches matrixmultiply's thresholds.
const TINY_FIRST_GEMM_BATCH: usize = {
    let by_size = GEMM_MIN_MACS.div_ceil(16 * 16);
    if by_size > GEMM_MIN_BATCH {
        by_size
    } else {
        GEMM_MIN_BATCH
    }
};

#[test]
fn static_kernels_mnist_never_allocates() {
    // Without the attribute this shape would use matrixmultiply at batch 32,
    // so the attribute is what keeps it allocation-free.
    assert!(uses_gemm(32, 784, 128, true));
    assert_allocation_free::<StaticMnistArch, f32, _, _, 1>();
    assert_allocation_free::<StaticMnistArch, f32, _, _, 32>();
    assert_allocation_free::<StaticMnistArch, f64, _, _, 1>();
    assert_allocation_free::<StaticMnistArch, f64, _, _, 32>();
    assert_allocation_free::<StaticMnistArch, f32, _, _, 256>();
}

#[test]
fn static_kernels_residual_net_never_allocates() {
    assert!(uses_gemm(32, 128, 128, true));
    assert_allocation_free::<StaticResidualArch, f32, _, _, 1>();
    assert_allocation_free::<StaticResidualArch, f32, _, _, 32>();
    assert_allocation_free::<StaticResidualArch, f64, _, _, 1>();
    assert_allocation_free::<StaticResidualArch, f64, _, _, 32>();
}

#[test]
fn default_selection_never_allocates_in_the_static_regime() {
    // Below the minimum batch, even Mnist's 784 x 128 layer stays static.
    assert_allocation_free::<MnistArch, f32, _, _, 1>();
    assert_allocation_free::<MnistArch, f64, _, _, { GEMM_MIN_BATCH - 1 }>();
    assert_allocation_free::<MlpArch, f32, _, _, 1>();
    assert_allocation_free::<MlpArch, f32, _, _, { GEMM_MIN_BATCH - 1 }>();
    assert_allocation_free::<MlpArch, f64, _, _, { GEMM_MIN_BATCH - 1 }>();
    // Above it, Tiny's products stay too small up to the last static batch.
    assert_allocation_free::<TinyArch, f32, _, _, 1>();
    assert_allocation_free::<TinyArch, f32, _, _, 32>();
    assert_allocation_free::<TinyArch, f64, _, _, { TINY_FIRST_GEMM_BATCH - 1 }>();
}

#[test]
fn gemm_regime_allocations_are_counted() {
    assert_gemm_allocations_counted::<MnistArch, f32, _, _, 32>();
    assert_gemm_allocations_counted::<MnistArch, f64, _, _, 32>();
    assert_gemm_allocations_counted::<MlpArch, f32, _, _, GEMM_MIN_BATCH>();
    assert_gemm_allocations_counted::<TinyArch, f32, _, _, TINY_FIRST_GEMM_BATCH>();
}

staticnet::network! {
    /// A classifier for the training-loop check.
    #[static_kernels]
    struct Classifier(6 -> 3) { Dense<16>, Relu, Dense<3> }
}

/// The training loop allocates its buffers once, when `fit` starts, and the
/// optimizer step and loss never allocate: so the number of allocations of
/// a whole `fit` call does not grow with the number of epochs (validation
/// included; the partial last batch included).
#[test]
fn the_training_loop_does_not_allocate_per_epoch() {
    use staticnet::loss::CrossEntropy;
    use staticnet::optim::{Adam, AdamConfig};
    use staticnet::schedule::Constant;
    use staticnet::train::{FitOptions, Trainer};

    let xs: Vec<[f32; 6]> = (0..50)
        .map(|i| core::array::from_fn(|j| ((i * 7 + j * 3) % 11) as f32 / 11.0 - 0.5))
        .collect();
    let ys: Vec<usize> = (0..50).map(|i| i % 3).collect();
    let fit_allocations = |epochs: usize| {
        let mut net: Classifier = Classifier::seeded(1);
        let adam = Adam::new(AdamConfig::default()).unwrap();
        let options = FitOptions {
            epochs,
            ..FitOptions::default()
        };
        let mut trainer =
            Trainer::<_, _, _, _, _, 16>::new(adam, CrossEntropy::default(), Constant, options);
        allocations_during(|| {
            black_box(
                trainer
                    .fit(&mut net, &xs, &ys, Some((&xs[..20], &ys[..20])))
                    .unwrap(),
            );
        })
    };
    let one = fit_allocations(1);
    let many = fit_allocations(6);
    assert!(one > 0, "the counter must see fit's set-up allocations");
    assert_eq!(
        one, many,
        "allocations grew with epochs: {one} for 1 epoch, {many} for 6"
    );
}

#[test]
fn bf16_inference_never_allocates() {
    fn check<A, const IN: usize, const OUT: usize, const B: usize>()
    where
        A: Architecture<Input<f32> = [f32; IN], Output<f32> = [f32; OUT]>,
    {
        let net = Network::<A, f32>::boxed_seeded(4);
        let packed = staticnet::bf16::Bf16Network::boxed_from_network(&net);
        let input = rows::<f32, IN, B>(3);
        let mut output = Box::new([[0.0f32; OUT]; B]);
        let infer = allocations_during(|| packed.infer(black_box(&input), &mut output));
        let predict = allocations_during(|| {
            black_box(packed.predict(black_box(&input[0])));
        });
        assert_eq!((infer, predict), (0, 0), "{} bf16 at batch {B}", A::NAME);
        assert!(output.as_flattened().iter().any(|v| *v != 0.0));
    }
    // Batch 32 would send Mnist's `f32` products to matrixmultiply; bf16
    // layers are always summed in place.
    check::<MnistArch, 784, 10, 1>();
    check::<MnistArch, 784, 10, 32>();
    check::<StaticResidualArch, 64, 10, 3>();
}
