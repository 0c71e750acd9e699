//! What the property tests share: the pool of networks, the reference
//! implementation, the strategies, and the glue that turns drawn values
//! into the fixed-size arrays of a network's API.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

pub mod calls;
pub mod cases;
pub mod nets;
pub mod reference;

use proptest::test_runner::TestCaseError;
use staticnet::{Row, Scalar, Zeroable};

/// Unit roundoff of `f64`, 2⁻⁵³: the largest relative error of one rounding.
pub const F64_UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// Unit roundoff of `f32`, 2⁻²⁴.
pub const F32_UNIT_ROUNDOFF: f64 = f32::EPSILON as f64 / 2.0;

/// The batch sizes the tests instantiate ([`with_batch`]): one row, a
/// block of the static kernels' row blocks (2), a block and a remainder,
/// two blocks and a remainder, and the first batch matrixmultiply serves.
/// Every size is compiled for every test network at three instruction-set
/// levels, so the list is what the test build's time grows with.
pub const BATCHES: [usize; 5] = [1, 2, 3, 5, 8];

/// Code generic over a compile-time batch size, run for a batch size known
/// only at run time through [`with_batch`].
pub trait WithBatch {
    /// What the run returns.
    type Output;
    /// Runs with batch size `B`.
    fn run<const B: usize>(self) -> Self::Output;
}

/// Runs `job` with `B = batch`; `batch` must be one of [`BATCHES`].
pub fn with_batch<W: WithBatch>(batch: usize, job: W) -> W::Output {
    match batch {
        1 => job.run::<1>(),
        2 => job.run::<2>(),
        3 => job.run::<3>(),
        5 => job.run::<5>(),
        8 => job.run::<8>(),
        _ => panic!("batch {batch} is not one of {BATCHES:?}"),
    }
}

/// The all-zero value of a type the library marks [`Zeroable`], such as a
/// batch `[A::Input<T>; B]`, which generic code cannot spell as a literal.
pub fn zeroed<Z: Zeroable>() -> Z {
    // SAFETY: `Zeroable`'s contract is exactly that all-zero bytes are a
    // valid, fully initialised value of the type.
    unsafe { core::mem::zeroed() }
}

/// A batch of `B` rows from `flat` (rows back to back), converted to `T`.
pub fn rows<T: Scalar, R: Row<T>, const B: usize>(flat: &[f64]) -> [R; B] {
    assert_eq!(
        flat.len(),
        B * R::WIDTH,
        "wrong number of values for the batch"
    );
    let mut batch: [R; B] = zeroed();
    for (row, values) in batch.iter_mut().zip(flat.chunks(R::WIDTH)) {
        for (dst, src) in row.as_mut().iter_mut().zip(values) {
            *dst = T::from_f64(*src);
        }
    }
    batch
}

/// The rows of a batch back to back, as `f64`.
pub fn flat<T: Scalar, R: Row<T>>(rows: &[R]) -> Vec<f64> {
    rows.iter()
        .flat_map(|row| row.as_ref().iter().map(|v| v.to_f64()))
        .collect()
}

/// An explicit closeness criterion: `|a − b| ≤ max(abs, rel · max(|a|, |b|))`,
/// so `rel` applies to large values and `abs` is the floor for values near
/// zero.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Relative part.
    pub rel: f64,
    /// Absolute floor.
    pub abs: f64,
}

impl Tolerance {
    /// Whether `a` and `b` agree (never for a NaN).
    pub fn allows(self, a: f64, b: f64) -> bool {
        (a - b).abs() <= self.abs.max(self.rel * a.abs().max(b.abs()))
    }
}

/// Fails the test case at the first element where `actual` and `expected`
/// disagree, naming `what` and the index.
pub fn check_close(
    what: &str,
    actual: &[f64],
    expected: &[f64],
    tol: Tolerance,
) -> Result<(), TestCaseError> {
    if actual.len() != expected.len() {
        return Err(TestCaseError::fail(format!(
            "{what}: {} values, expected {}",
            actual.len(),
            expected.len()
        )));
    }
    match actual
        .iter()
        .zip(expected)
        .position(|(a, e)| !tol.allows(*a, *e))
    {
        None => Ok(()),
        Some(i) => Err(TestCaseError::fail(format!(
            "{what}[{i}] = {:e}, expected {:e} (difference {:e}, {tol:?})",
            actual[i],
            expected[i],
            (actual[i] - expected[i]).abs()
        ))),
    }
}

/// Fails the test case at the first element where `actual` is farther from
/// `expected` than that element's `bound`.
pub fn check_within(
    what: &str,
    actual: &[f64],
    expected: &[f64],
    bound: &[f64],
) -> Result<(), TestCaseError> {
    assert_eq!(expected.len(), bound.len(), "one bound per value");
    if actual.len() != expected.len() {
        return Err(TestCaseError::fail(format!(
            "{what}: {} values, expected {}",
            actual.len(),
            expected.len()
        )));
    }
    // `<=` is false for a NaN, so a NaN anywhere counts as a mismatch.
    let agrees = |i: usize| (actual[i] - expected[i]).abs() <= bound[i];
    match (0..actual.len()).find(|&i| !agrees(i)) {
        None => Ok(()),
        Some(i) => Err(TestCaseError::fail(format!(
            "{what}[{i}] = {:e}, expected {:e} (difference {:e}, bound {:e})",
            actual[i],
            expected[i],
            (actual[i] - expected[i]).abs(),
            bound[i]
        ))),
    }
}
