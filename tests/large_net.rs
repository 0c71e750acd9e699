//! A W5-sized network (256 -> 512 -> 512 -> 10, about 400k parameters),
//! its gradients and a batch-256 tape, created and trained on a 2 MiB
//! stack: the heap and in-place constructors never pass them through it.
//!
//! Each scenario runs on the test harness's thread and again on a thread
//! spawned with exactly 2 MiB of stack, since `RUST_MIN_STACK` can change
//! the harness's default.

use staticnet::architecture::dense_layers;
use staticnet::init::SplitMix64;
use staticnet::Init;
use std::mem::{size_of, MaybeUninit};
use std::thread;

staticnet::network! {
    /// W5's network.
    pub struct Wide(256 -> 10) {
        Dense<512>, Relu,
        Dense<512>, Relu,
        Dense<10>,
    }
}

const BATCH: usize = 256;

/// The default stack of a test thread.
const STACK: usize = 2 << 20;

// The test means something only if these could not live on the stack.
const _: () = assert!(Wide::<f32>::PARAMS == 256 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10);
const _: () = assert!(2 * size_of::<Wide>() + size_of::<WideTape<f32, BATCH>>() > STACK);

/// Runs `f` on a fresh thread with a 2 MiB stack, passing on its panic.
fn on_2mib_thread(f: fn()) {
    let handle = thread::Builder::new()
        .name("2 MiB stack".into())
        .stack_size(STACK)
        .spawn(f)
        .expect("spawning a thread");
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

/// A batch of inputs in [-1, 1], on the heap (256 KiB).
fn inputs() -> Box<[[f32; 256]; BATCH]> {
    let mut rows: Box<[[f32; 256]; BATCH]> = vec![[0.0; 256]; BATCH]
        .into_boxed_slice()
        .try_into()
        .expect("exactly BATCH rows");
    for (i, v) in rows.as_flattened_mut().iter_mut().enumerate() {
        *v = ((i * 29) % 41) as f32 / 20.0 - 1.0;
    }
    rows
}

/// One forward and backward pass at batch 256, checking what comes out.
fn train_step(net: &Wide, grads: &mut Wide, tape: &mut WideTape<f32, BATCH>) {
    let input = inputs();
    let output = *net.forward(&input, tape);
    let flat = output.as_flattened();
    assert!(flat.iter().all(|v| v.is_finite()), "non-finite output");
    assert!(flat.iter().any(|&v| v != 0.0), "all outputs are zero");

    // Batch 256 runs on matrixmultiply, one row on the static kernels: the
    // two regimes must agree up to f32 rounding of 512-term sums.
    let single = net.predict(&input[0]);
    for (a, b) in output[0].iter().zip(&single) {
        assert!(
            (a - b).abs() <= 1e-5 * (1.0 + a.abs()),
            "batch {a} vs single row {b}"
        );
    }

    let mut grad_output = [[0.0f32; 10]; BATCH];
    for (i, v) in grad_output.as_flattened_mut().iter_mut().enumerate() {
        *v = ((i * 7) % 11) as f32 / 50.0 - 0.1;
    }
    grads.fill_zero();
    net.backward(tape, &grad_output, grads)
        .expect("the tape was filled");

    let g = grads.params();
    assert!(g.iter().all(|v| v.is_finite()), "non-finite gradient");
    for layer in dense_layers::<WideArch>() {
        let weights = &g[layer.weight_offset..layer.weight_offset + layer.inputs * layer.outputs];
        assert!(
            weights.iter().any(|&v| v != 0.0),
            "zero weight gradient in {layer:?}"
        );
        let bias = layer.bias_offset.expect("every layer has a bias");
        assert!(
            g[bias..bias + layer.outputs].iter().any(|&v| v != 0.0),
            "zero bias gradient in {layer:?}"
        );
    }
    // The last bias's gradient is the column sum of grad_output, summed in
    // the same order, so it matches exactly.
    let last = dense_layers::<WideArch>()
        .last()
        .expect("three dense layers");
    let bias = last.bias_offset.expect("the last layer has a bias");
    for (o, &got) in g[bias..bias + 10].iter().enumerate() {
        let expected = grad_output.iter().fold(0.0f32, |s, row| s + row[o]);
        assert_eq!(got, expected, "bias gradient {o}");
    }
}

/// Network, gradients and tape on the heap.
fn boxed_scenario() {
    let net = Wide::boxed_seeded(5);
    let mut grads = Wide::boxed_zeroed();
    assert!(grads.params().iter().all(|&v| v == 0.0));
    let mut tape = WideTape::<f32, BATCH>::boxed();
    assert!(!tape.is_filled());
    train_step(&net, &mut grads, &mut tape);
}

/// Network, gradients and tape built in memory the caller provides (here
/// boxed, as a firmware user would provide a static or a linker section).
fn in_place_scenario() {
    let mut net_slot = Box::<Wide>::new_uninit();
    let net = Wide::zero_in(&mut net_slot);
    assert!(net.params().iter().all(|&v| v == 0.0));
    // What `seeded(5)` does, but without building the value by return.
    net.init(Init::PyTorchDefault, &mut SplitMix64::new(5));
    assert!(*net == *Wide::boxed_seeded(5));

    let mut grads_slot: Box<MaybeUninit<Wide>> = Box::new_uninit();
    let grads = Wide::zero_in(&mut grads_slot);
    let mut tape_slot: Box<MaybeUninit<WideTape<f32, BATCH>>> = Box::new_uninit();
    let tape = WideTape::new_in(&mut tape_slot);
    assert!(!tape.is_filled());
    assert!(tape.output().as_flattened().iter().all(|&v| v == 0.0));

    train_step(net, grads, tape);
}

#[test]
fn boxed_on_the_test_thread() {
    boxed_scenario();
}

#[test]
fn boxed_on_an_explicit_2mib_thread() {
    on_2mib_thread(boxed_scenario);
}

#[test]
fn in_place_on_the_test_thread() {
    in_place_scenario();
}

#[test]
fn in_place_on_an_explicit_2mib_thread() {
    on_2mib_thread(in_place_scenario);
}
