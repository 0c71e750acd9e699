//! Seeded data, shared by every library.

/// Deterministic inputs in [-1, 1) (the generator of benches/workloads.rs).
pub fn inputs<const N: usize, const B: usize>(seed: u64) -> Box<[[f32; N]; B]> {
    let mut state = seed;
    let mut x = Box::new([[0.0f32; N]; B]);
    for v in x.as_flattened_mut() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *v = ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0;
    }
    x
}

/// W6 steps through this many fixed samples in turn (as
/// benches/workloads.rs does): on a single sample the network soon fits it
/// exactly, its gradients become zero and its momentum decays into
/// subnormal numbers, a state no real training is in.
pub const W6_SAMPLES: usize = 64;

/// Class labels in 0..10 for the classification workloads.
pub fn labels<const B: usize>(seed: u64) -> Box<[usize; B]> {
    let x = inputs::<1, B>(seed);
    Box::new(core::array::from_fn(|i| {
        ((x[i][0] + 1.0) * 5.0) as usize % 10
    }))
}
