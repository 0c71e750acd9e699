//! The two kernel regimes compute the same thing.
//!
//! Each network here is declared twice with one layer list: normally, so
//! that large enough products run on matrixmultiply (see
//! `staticnet::kernels::uses_gemm`), and `#[static_kernels]`, so that none
//! does. With the same parameters, forward outputs, parameter gradients and
//! input gradients must agree at batch sizes on both sides of the
//! threshold. A counting allocator confirms which regime ran: matrixmultiply
//! allocates a packing buffer per call, the static regime never allocates.
//!
//! Below, the dense kernels themselves (`static_dense` and `gemm_dense`) are
//! checked against each other and a naive product on odd shapes.

mod support;

use core::cell::Cell;
use core::marker::PhantomData;
use proptest::prelude::*;
use staticnet::architecture::{dense_layers, Architecture};
use staticnet::kernels::{gemm_dense, static_dense, uses_gemm, uses_gemm_forward};
use staticnet::{Network, Scalar, Tape};
use std::alloc::{GlobalAlloc, Layout, System};
use support::cases::{case_at, config, Case, PROPTEST_INPUT, PROPTEST_UPSTREAM};
use support::{
    calls, check_close, check_within, flat, reference, rows, zeroed, Tolerance, WithBatch,
    F32_UNIT_ROUNDOFF, F64_UNIT_ROUNDOFF,
};

/// The system allocator, counting the allocations of each thread (tests run
/// on several threads at once).
struct CountingAllocator;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the
// thread-local counter needs no allocation, and `try_with` tolerates a
// thread whose locals are already gone.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// How many allocations this thread makes while running `f`.
fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Declares a network and its `#[static_kernels]` twin from one layer list.
macro_rules! twins {
    ($(#[doc = $doc:literal])* $name:ident, $twin:ident ($in:tt -> $out:tt) { $($body:tt)* }) => {
        staticnet::network! {
            $(#[doc = $doc])*
            pub struct $name($in -> $out) { $($body)* }

            /// The same network, declared `#[static_kernels]`.
            #[static_kernels]
            pub struct $twin($in -> $out) { $($body)* }
        }
    };
}

twins! {
    /// Products of 64·96 and 96·96 multiply-adds per row run on
    /// matrixmultiply from batch 8 (the smallest batch it is used for);
    /// the 96·10 output layer only from batch 35 (32768 / 960 = 34.1).
    Wide, WideStatic (64 -> 10) {
        Dense<96>, Tanh,
        Residual { Dense<96>, Relu, Dense<96, bias = false> },
        Softplus,
        Dense<10>,
    }
}

twins! {
    /// 40·40 = 1600 multiply-adds per row: matrixmultiply from batch 21
    /// (32768 / 1600 = 20.5).
    Square, SquareStatic (40 -> 40) {
        Dense<40>, Sigmoid,
        Dense<40>, Elu(0.5),
        Dense<40, bias = false>,
    }
}

twins! {
    /// A product with a single input (k = 1) on matrixmultiply from batch 16
    /// (32768 / 2048), and 2048 -> 3 from batch 8.
    Thin, ThinStatic (1 -> 3) {
        Dense<2048>, LeakyRelu(0.1),
        Dense<3, bias = false>,
    }
}

/// `f64` agreement of the regimes: `|a − b| ≤ 1e-12 · max(1, |a|, |b|)`.
/// The two differ only in summation order (matrixmultiply blocks the sums
/// and may fuse multiply-adds), ~1e-16 relative per operation.
const F64_TOL: Tolerance = Tolerance {
    rel: 1e-12,
    abs: 1e-12,
};

/// `f32` agreement of the gradients: `|a − b| ≤ 3e-5 · max(1, |a|, |b|)`,
/// about 500 units of `f32` roundoff (2⁻²⁴).
///
/// Gradients here are sums over up to 35 rows of products through up to
/// 96 inputs, three layers deep, and the two regimes order those sums
/// differently; the worst difference measured over some 3000 cases was
/// 4.2e-6. (Outputs are held to a bound computed for each case, see
/// `reference::forward_bounded`.)
const F32_GRAD_TOL: Tolerance = Tolerance {
    rel: 3e-5,
    abs: 3e-5,
};

/// Cases per network, batch size and scalar: the nets are large, so few.
const CASES: u32 = 4;

/// How the outputs of the two regimes are compared.
#[derive(Clone, Copy)]
enum OutputCheck {
    /// A fixed criterion.
    Tolerance(Tolerance),
    /// Twice the rounding error bound of one pass at this unit roundoff
    /// (each regime may err by the bound, in opposite directions).
    RoundingBound(f64),
}

/// Runs a network `N` and its `#[static_kernels]` twin `S` on one case in
/// scalar `T` and compares everything they produce.
struct RegimesAgree<'a, N, S, T> {
    case: &'a Case,
    outputs: OutputCheck,
    grads: Tolerance,
    nets: PhantomData<(N, S, T)>,
}

impl<N: Architecture, S: Architecture, T: Scalar> WithBatch for RegimesAgree<'_, N, S, T> {
    type Output = Result<(), TestCaseError>;

    fn run<const B: usize>(self) -> Self::Output {
        assert_eq!(N::LAYERS, S::LAYERS, "the twins must have one layer list");
        assert!(!N::STATIC_KERNELS && S::STATIC_KERNELS);
        let case = self.case;
        let built = case.weights.build::<N>();
        let mut normal = Network::<N, T>::boxed_zeroed();
        for (p, v) in normal.params_mut().iter_mut().zip(built.params()) {
            *p = T::from_f64(*v);
        }
        let mut fixed = Network::<S, T>::boxed_zeroed();
        fixed.params_mut().copy_from_slice(normal.params());

        let x_normal: [N::Input<T>; B] = rows(&case.input);
        let x_fixed: [S::Input<T>; B] = rows(&case.input);
        let mut tape_normal = Tape::<N, T, B>::boxed();
        let mut tape_fixed = Tape::<S, T, B>::boxed();
        let allocs_normal = allocations_during(|| {
            calls::forward(&normal, &x_normal, &mut tape_normal);
        });
        let allocs_fixed = allocations_during(|| {
            calls::forward(&fixed, &x_fixed, &mut tape_fixed);
        });
        let on_gemm = dense_layers::<N>()
            .filter(|d| uses_gemm_forward::<T>(B, d.inputs, d.outputs, true))
            .count();
        prop_assert_eq!(allocs_fixed, 0, "#[static_kernels] forward allocated");
        prop_assert_eq!(
            allocs_normal > 0,
            on_gemm > 0,
            "{} of the products should run on matrixmultiply, which allocates; \
             the forward pass made {} allocations",
            on_gemm,
            allocs_normal
        );

        let y_normal = flat(tape_normal.output());
        let y_fixed = flat(tape_fixed.output());
        match self.outputs {
            OutputCheck::Tolerance(tol) => check_close("forward", &y_normal, &y_fixed, tol)?,
            OutputCheck::RoundingBound(u) => {
                let params: Vec<f64> = normal.params().iter().map(|p| p.to_f64()).collect();
                let input = flat(&x_normal);
                let bounded = reference::forward_bounded(
                    N::LAYERS,
                    &params,
                    N::INPUT,
                    &input,
                    u,
                    N::FAST_MATH,
                );
                let Some((_, bound)) = bounded else {
                    return Err(TestCaseError::reject("an activation input is near a jump"));
                };
                let twice: Vec<f64> = bound.iter().map(|b| 2.0 * b).collect();
                check_within("forward", &y_normal, &y_fixed, &twice)?;
            }
        }
        let mut inferred_normal: [N::Output<T>; B] = zeroed();
        let mut inferred_fixed: [S::Output<T>; B] = zeroed();
        calls::infer(&normal, &x_normal, &mut inferred_normal);
        calls::infer(&fixed, &x_fixed, &mut inferred_fixed);
        prop_assert_eq!(
            flat(&inferred_normal),
            y_normal,
            "infer differs from forward"
        );
        prop_assert_eq!(flat(&inferred_fixed), y_fixed, "infer differs from forward");

        let r_normal: [N::Output<T>; B] = rows(&case.upstream);
        let r_fixed: [S::Output<T>; B] = rows(&case.upstream);
        let mut grads_normal = Network::<N, T>::boxed_zeroed();
        let mut grads_fixed = Network::<S, T>::boxed_zeroed();
        let mut input_grad_normal: [N::Input<T>; B] = zeroed();
        let mut input_grad_fixed: [S::Input<T>; B] = zeroed();
        let mut result_normal = Ok(());
        let mut result_fixed = Ok(());
        let allocs_normal = allocations_during(|| {
            result_normal = calls::backward_with_input_grad(
                &normal,
                &mut tape_normal,
                &r_normal,
                &mut grads_normal,
                &mut input_grad_normal,
            );
        });
        let allocs_fixed = allocations_during(|| {
            result_fixed = calls::backward_with_input_grad(
                &fixed,
                &mut tape_fixed,
                &r_fixed,
                &mut grads_fixed,
                &mut input_grad_fixed,
            );
        });
        let fail = |e: staticnet::Error| TestCaseError::fail(e.to_string());
        result_normal.map_err(fail)?;
        result_fixed.map_err(fail)?;
        prop_assert_eq!(allocs_fixed, 0, "#[static_kernels] backward allocated");
        let on_gemm_backward = dense_layers::<N>()
            .filter(|d| uses_gemm(B, d.inputs, d.outputs, true))
            .count();
        prop_assert_eq!(
            allocs_normal > 0,
            on_gemm_backward > 0,
            "{} of the layers should run their backward products on \
             matrixmultiply; it made {} allocations",
            on_gemm_backward,
            allocs_normal
        );
        let to_f64 = |v: &[T]| v.iter().map(|p| p.to_f64()).collect::<Vec<_>>();
        check_close(
            "parameter gradient",
            &to_f64(grads_normal.params()),
            &to_f64(grads_fixed.params()),
            self.grads,
        )?;
        check_close(
            "input gradient",
            &flat(&input_grad_normal),
            &flat(&input_grad_fixed),
            self.grads,
        )
    }
}

/// Stamps out, for a pair of twins, one `f64` and one `f32` test per batch
/// size, and a check that the batch sizes straddle the threshold.
macro_rules! regime_tests {
    ($name:ident, $normal:ty, $fixed:ty, [$(($batch_name:ident, $batch:literal)),*]) => {
        mod $name {
            use super::*;

            /// At least one listed batch size runs every product on the
            /// static kernels, and at least one runs some on matrixmultiply.
            #[test]
            fn batches_straddle_the_threshold() {
                let on_gemm = |b: usize| {
                    dense_layers::<$normal>()
                        .filter(|d| uses_gemm(b, d.inputs, d.outputs, true))
                        .count()
                };
                let counts = [$(on_gemm($batch)),*];
                assert!(counts.contains(&0), "{counts:?}");
                assert!(counts.iter().any(|&n| n > 0), "{counts:?}");
            }

            $(
                mod $batch_name {
                    use super::*;

                    proptest! {
                        #![proptest_config(config(CASES))]

                        #[test]
                        fn f64_regimes_agree(case in case_at::<$normal>($batch)) {
                            RegimesAgree::<$normal, $fixed, f64> {
                                case: &case,
                                outputs: OutputCheck::Tolerance(F64_TOL),
                                grads: F64_TOL,
                                nets: PhantomData,
                            }
                            .run::<$batch>()?;
                        }

                        #[test]
                        fn f32_regimes_agree(case in case_at::<$normal>($batch)) {
                            RegimesAgree::<$normal, $fixed, f32> {
                                case: &case,
                                outputs: OutputCheck::RoundingBound(F32_UNIT_ROUNDOFF),
                                grads: F32_GRAD_TOL,
                                nets: PhantomData,
                            }
                            .run::<$batch>()?;
                        }
                    }
                }
            )*
        }
    };
}

regime_tests!(
    wide,
    WideArch,
    WideStaticArch,
    [(b1, 1), (b7, 7), (b8, 8), (b34, 34), (b35, 35)]
);
regime_tests!(
    square,
    SquareArch,
    SquareStaticArch,
    [(b8, 8), (b20, 20), (b21, 21)]
);
regime_tests!(
    thin,
    ThinArch,
    ThinStaticArch,
    [(b7, 7), (b8, 8), (b15, 15), (b16, 16)]
);

// ---------------------------------------------------------------------------
// The dense kernels, directly.

/// Weights and biases of the kernel cases.
const PROPTEST_WEIGHT: core::ops::Range<f64> = -1.0..1.0;

/// Cases per kernel shape and scalar.
const KERNEL_CASES: u32 = 16;

/// Operands of one dense layer `B × IN -> OUT`, forward and backward, all
/// row-major and flat.
#[derive(Clone, Debug)]
struct KernelCase {
    x: Vec<f64>,
    /// Stored `[in][out]`, as the kernels take it.
    w: Vec<f64>,
    bias: Option<Vec<f64>>,
    dy: Vec<f64>,
    /// What the weight-gradient buffer holds before the call.
    dw: Vec<f64>,
    /// What the bias-gradient buffer holds before the call.
    db: Vec<f64>,
}

fn kernel_case(batch: usize, inputs: usize, outputs: usize) -> impl Strategy<Value = KernelCase> {
    use proptest::collection::vec;
    (
        vec(PROPTEST_INPUT, batch * inputs),
        vec(PROPTEST_WEIGHT, inputs * outputs),
        proptest::option::of(vec(PROPTEST_WEIGHT, outputs)),
        vec(PROPTEST_UPSTREAM, batch * outputs),
        vec(PROPTEST_WEIGHT, inputs * outputs),
        vec(PROPTEST_WEIGHT, outputs),
    )
        .prop_map(|(x, w, bias, dy, dw, db)| KernelCase {
            x,
            w,
            bias,
            dy,
            dw,
            db,
        })
}

fn abs(v: &[f64]) -> Vec<f64> {
    v.iter().map(|x| x.abs()).collect()
}

/// `γ(k)·magnitude` at unit roundoff `u`, plus the reference's own `f64`
/// rounding of the same sum: the most a result may be off from the naive
/// product computed in `f64` (exact inputs, any summation order).
fn sum_bound(k: usize, u: f64, magnitude: &[f64]) -> Vec<f64> {
    let g = reference::gamma(k, u) + reference::gamma(k, F64_UNIT_ROUNDOFF);
    magnitude.iter().map(|m| g * m).collect()
}

/// Both regimes' forward, weight-gradient and input-gradient kernels
/// against the naive product and against each other, within the rounding
/// error bound of each sum; outputs start as NaN, so a kernel that reads
/// what it should only write is caught.
fn check_kernels<T: Scalar, const B: usize, const IN: usize, const OUT: usize>(
    case: &KernelCase,
    u: f64,
) -> Result<(), TestCaseError> {
    let nan = T::from_f64(f64::NAN);
    let x: [[T; IN]; B] = rows(&case.x);
    let w: [[T; OUT]; IN] = rows(&case.w);
    let bias: Option<[T; OUT]> = case.bias.as_ref().map(|b| rows::<T, [T; OUT], 1>(b)[0]);
    let dy: [[T; OUT]; B] = rows(&case.dy);
    let dw_start: [[T; OUT]; IN] = rows(&case.dw);
    let db_start: [T; OUT] = rows::<T, [T; OUT], 1>(&case.db)[0];
    // The operands as the kernels see them, widened exactly.
    let (xf, wf, dyf) = (flat(&x), flat(&w), flat(&dy));
    let bf = bias.map(|b| flat(&[b]));
    let both = |bound: &[f64]| bound.iter().map(|b| 2.0 * b).collect::<Vec<_>>();

    // y = x·W + b: a sum of IN products and the bias.
    let expected = reference::matmul_bias(&xf, &wf, bf.as_deref(), IN, OUT);
    let abs_bias = bf.as_deref().map(abs);
    let magnitude = reference::matmul_bias(&abs(&xf), &abs(&wf), abs_bias.as_deref(), IN, OUT);
    let bound = sum_bound(IN + 1, u, &magnitude);
    let mut y_static = [[nan; OUT]; B];
    let mut y_gemm = [[nan; OUT]; B];
    static_dense::forward(&x, &w, bias.as_ref(), &mut y_static);
    gemm_dense::forward(&x, &w, bias.as_ref(), &mut y_gemm);
    check_within("static forward", &flat(&y_static), &expected, &bound)?;
    check_within("gemm forward", &flat(&y_gemm), &expected, &bound)?;
    check_within(
        "static vs gemm forward",
        &flat(&y_static),
        &flat(&y_gemm),
        &both(&bound),
    )?;

    // dw += xᵀ·dy: B products onto what was there.
    let start = flat(&dw_start);
    let sum = reference::weight_grad(&xf, &dyf, IN, OUT);
    let expected: Vec<f64> = start.iter().zip(&sum).map(|(s, g)| s + g).collect();
    let terms = reference::weight_grad(&abs(&xf), &abs(&dyf), IN, OUT);
    let magnitude: Vec<f64> = start.iter().zip(&terms).map(|(s, t)| s.abs() + t).collect();
    let bound = sum_bound(B + 1, u, &magnitude);
    let mut dw_static = dw_start;
    let mut dw_gemm = dw_start;
    static_dense::weight_grad::<T, IN, OUT, B, true, false>(&x, &dy, &mut dw_static);
    gemm_dense::weight_grad::<T, IN, OUT, B, true>(&x, &dy, &mut dw_gemm);
    check_within("static weight_grad", &flat(&dw_static), &expected, &bound)?;
    check_within("gemm weight_grad", &flat(&dw_gemm), &expected, &bound)?;
    check_within(
        "static vs gemm weight_grad",
        &flat(&dw_static),
        &flat(&dw_gemm),
        &both(&bound),
    )?;

    // dw = xᵀ·dy, overwriting a buffer of NaN (which must not be read):
    // exactly what accumulating onto zeros gives.
    let mut on_zeros_static = [[T::ZERO; OUT]; IN];
    let mut on_zeros_gemm = [[T::ZERO; OUT]; IN];
    static_dense::weight_grad::<T, IN, OUT, B, true, false>(&x, &dy, &mut on_zeros_static);
    gemm_dense::weight_grad::<T, IN, OUT, B, true>(&x, &dy, &mut on_zeros_gemm);
    let mut dw_static = [[nan; OUT]; IN];
    let mut dw_gemm = [[nan; OUT]; IN];
    static_dense::weight_grad::<T, IN, OUT, B, false, false>(&x, &dy, &mut dw_static);
    gemm_dense::weight_grad::<T, IN, OUT, B, false>(&x, &dy, &mut dw_gemm);
    check_within(
        "static weight_grad overwriting",
        &flat(&dw_static),
        &flat(&on_zeros_static),
        &vec![0.0; IN * OUT],
    )?;
    check_within(
        "gemm weight_grad overwriting",
        &flat(&dw_gemm),
        &flat(&on_zeros_gemm),
        &vec![0.0; IN * OUT],
    )?;

    // dx = dy·Wᵀ: OUT products, overwriting dx.
    let expected = reference::input_grad(&wf, &dyf, IN, OUT);
    let magnitude = reference::input_grad(&abs(&wf), &abs(&dyf), IN, OUT);
    let bound = sum_bound(OUT, u, &magnitude);
    let mut dx_static = [[nan; IN]; B];
    let mut dx_gemm = [[nan; IN]; B];
    static_dense::input_grad(&w, &dy, &mut dx_static);
    gemm_dense::input_grad(&w, &dy, &mut dx_gemm);
    check_within("static input_grad", &flat(&dx_static), &expected, &bound)?;
    check_within("gemm input_grad", &flat(&dx_gemm), &expected, &bound)?;
    check_within(
        "static vs gemm input_grad",
        &flat(&dx_static),
        &flat(&dx_gemm),
        &both(&bound),
    )?;

    // db += Σ_b dy[b] (one kernel, used by both regimes).
    let start = flat(&[db_start]);
    let mut expected = start.clone();
    let mut magnitude = abs(&start);
    for row in dyf.chunks(OUT) {
        for o in 0..OUT {
            expected[o] += row[o];
            magnitude[o] += row[o].abs();
        }
    }
    let mut db = db_start;
    static_dense::bias_grad::<T, OUT, B, true>(&dy, &mut db);
    check_within(
        "bias_grad",
        &flat(&[db]),
        &expected,
        &sum_bound(B + 1, u, &magnitude),
    )?;

    // db = Σ_b dy[b], overwriting NaN: what accumulating onto zeros gives.
    let mut on_zeros = [T::ZERO; OUT];
    static_dense::bias_grad::<T, OUT, B, true>(&dy, &mut on_zeros);
    let mut db = [nan; OUT];
    static_dense::bias_grad::<T, OUT, B, false>(&dy, &mut db);
    check_within(
        "bias_grad overwriting",
        &flat(&[db]),
        &flat(&[on_zeros]),
        &[0.0; OUT],
    )
}

/// One module per shape `B × IN -> OUT`, testing both scalars.
macro_rules! kernel_tests {
    ($($name:ident: $batch:literal x $inputs:literal -> $outputs:literal;)*) => {$(
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(config(KERNEL_CASES))]

                #[test]
                fn f64_kernels_agree(case in kernel_case($batch, $inputs, $outputs)) {
                    check_kernels::<f64, $batch, $inputs, $outputs>(&case, F64_UNIT_ROUNDOFF)?;
                }

                #[test]
                fn f32_kernels_agree(case in kernel_case($batch, $inputs, $outputs)) {
                    check_kernels::<f32, $batch, $inputs, $outputs>(&case, F32_UNIT_ROUNDOFF)?;
                }
            }
        }
    )*};
}

// Odd sizes leave remainders in every blocking the kernels do; the ones
// are degenerate products (a single row, input or output).
kernel_tests! {
    kernel_1x1_to_1: 1 x 1 -> 1;
    kernel_2x1_to_3: 2 x 1 -> 3;
    kernel_1x5_to_1: 1 x 5 -> 1;
    kernel_3x7_to_2: 3 x 7 -> 2;
    kernel_9x1_to_37: 9 x 1 -> 37;
    kernel_5x33_to_1: 5 x 33 -> 1;
    kernel_8x17_to_19: 8 x 17 -> 19;
    kernel_13x31_to_29: 13 x 31 -> 29;
    kernel_16x64_to_64: 16 x 64 -> 64;
    kernel_33x47_to_65: 33 x 47 -> 65;
}
