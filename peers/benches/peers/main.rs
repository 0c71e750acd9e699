//! The DESIGN.md workloads W1-W6 on staticnet and on peer Rust libraries
//! (candle, dfdx, burn with its ndarray backend), in one process, on one
//! thread.
//!
//! Every cell (workload x library) is one criterion benchmark: group `W1` ..
//! `W6`, function `staticnet`, `staticnet_fast_math` (W1 and W6 only),
//! `candle`, `dfdx`, `burn`. After criterion has run, the medians are read
//! back from criterion's `estimates.json` files and printed as one markdown
//! table with speedup factors, followed by a table of heap allocations per
//! call (a counting global allocator, one extra un-timed call per cell).
//!
//! Run: `cargo bench` in this directory.

mod alloc;
mod burn;
mod candle;
mod data;
mod dfdx;
mod report;
mod staticnet;

use crate::alloc::{count_allocations, Allocs};
use crate::data::{inputs, labels, W6_SAMPLES};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Criterion setup
// ---------------------------------------------------------------------------

/// One criterion group (one workload) and the allocation table it fills.
struct Workload<'c, 'a> {
    group: BenchmarkGroup<'c, WallTime>,
    name: &'static str,
    allocs: &'a mut Allocs,
}

impl<'c, 'a> Workload<'c, 'a> {
    fn new(c: &'c mut Criterion, allocs: &'a mut Allocs, name: &'static str, batch: u64) -> Self {
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(batch));
        Self {
            group,
            name,
            allocs,
        }
    }

    /// Benchmarks one cell, then counts the allocations of one more call.
    ///
    /// `f` runs a whole inference or training step and black-boxes its
    /// result. The counted call comes after criterion's warm-up and
    /// measurement (and one more un-counted call, in case a filter skipped
    /// the benchmark), so it sees the steady state: optimizer state
    /// allocated, caches filled.
    fn cell(&mut self, id: &str, mut f: impl FnMut()) {
        self.group.bench_function(id, |b| b.iter(&mut f));
        f();
        let count = count_allocations(&mut f);
        self.allocs
            .insert((self.name.to_string(), id.to_string()), count);
    }

    fn finish(self) {
        self.group.finish();
    }
}

// ---------------------------------------------------------------------------
// The workloads
// ---------------------------------------------------------------------------

fn w1(c: &mut Criterion, a: &mut Allocs) {
    let x = inputs::<2, 1>(11);
    let flat = x.as_flattened();
    let mut w = Workload::new(c, a, "W1", 1);
    w.cell("staticnet", staticnet::w1(&x));
    w.cell("staticnet_fast_math", staticnet::w1_fast(&x));
    w.cell("candle", candle::w1(flat));
    w.cell("dfdx", dfdx::w1(flat));
    w.cell("burn", burn::w1(flat));
    w.finish();
}

fn w2(c: &mut Criterion, a: &mut Allocs) {
    let x = inputs::<784, 1>(12);
    let flat = x.as_flattened();
    let mut w = Workload::new(c, a, "W2", 1);
    w.cell("staticnet", staticnet::mnist_infer::<1>(&x));
    w.cell("staticnet_bf16", staticnet::mnist_infer_bf16::<1>(&x));
    w.cell("candle", candle::mnist_infer(flat, 1));
    w.cell("dfdx", dfdx::mnist_infer::<1>(flat));
    w.cell("burn", burn::mnist_infer(flat));
    w.finish();
}

fn w3(c: &mut Criterion, a: &mut Allocs) {
    let x = inputs::<784, 64>(13);
    let flat = x.as_flattened();
    let mut w = Workload::new(c, a, "W3", 64);
    w.group.sampling_mode(SamplingMode::Flat);
    w.cell("staticnet", staticnet::mnist_infer::<64>(&x));
    w.cell("staticnet_bf16", staticnet::mnist_infer_bf16::<64>(&x));
    w.cell("candle", candle::mnist_infer(flat, 64));
    w.cell("dfdx", dfdx::mnist_infer::<64>(flat));
    w.cell("burn", burn::mnist_infer(flat));
    w.finish();
}

fn w4(c: &mut Criterion, a: &mut Allocs) {
    let x = inputs::<784, 32>(14);
    let y = labels::<32>(15);
    let flat = x.as_flattened();
    let mut w = Workload::new(c, a, "W4", 32);
    w.group.sampling_mode(SamplingMode::Flat);
    w.cell("staticnet", staticnet::w4(&x, &y));
    w.cell("candle", candle::w4(flat, &y[..]));
    w.cell("dfdx", dfdx::w4(flat, &y[..]));
    w.cell("burn", burn::w4(flat, &y[..]));
    w.finish();
}

fn w5(c: &mut Criterion, a: &mut Allocs) {
    let x = inputs::<256, 256>(18);
    let y = labels::<256>(19);
    let flat = x.as_flattened();
    let mut w = Workload::new(c, a, "W5", 256);
    w.group.sampling_mode(SamplingMode::Flat);
    w.group.sample_size(20);
    w.cell("staticnet", staticnet::w5(&x, &y));
    w.cell("candle", candle::w5(flat, &y[..]));
    w.cell("dfdx", dfdx::w5(flat, &y[..]));
    w.cell("burn", burn::w5(flat, &y[..]));
    w.finish();
}

fn w6(c: &mut Criterion, a: &mut Allocs) {
    let x = inputs::<8, W6_SAMPLES>(16);
    let y = inputs::<4, W6_SAMPLES>(17);
    let (xf, yf) = (x.as_flattened(), y.as_flattened());
    let mut w = Workload::new(c, a, "W6", 1);
    w.cell("staticnet", staticnet::w6(&x[..], &y[..]));
    w.cell("staticnet_fast_math", staticnet::w6_fast(&x[..], &y[..]));
    w.cell("candle", candle::w6(xf, yf));
    w.cell("dfdx", dfdx::w6(xf, yf));
    w.cell("burn", burn::w6(xf, yf));
    w.finish();
}

/// Threads of this process, from the kernel's view (Linux only).
fn process_threads() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

fn main() {
    // One thread for every library, set before any of them starts a pool:
    // rayon's global pool (dfdx's gemm calls, candle's parallel kernels) and
    // candle's own thread count read the first two; matrixmultiply's pool
    // (used only when its `threading` feature is on, which no crate here
    // enables) reads the third.
    std::env::set_var("RAYON_NUM_THREADS", "1");
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    std::env::set_var("MATMUL_NUM_THREADS", "1");
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build_global()
        .expect("the rayon global pool must not exist yet");

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
        .configure_from_args();
    let mut allocs = Allocs::new();
    w1(&mut c, &mut allocs);
    w2(&mut c, &mut allocs);
    w3(&mut c, &mut allocs);
    w4(&mut c, &mut allocs);
    w5(&mut c, &mut allocs);
    w6(&mut c, &mut allocs);
    c.final_summary();

    println!();
    println!(
        "threads: rayon global pool {}, candle {}, OS threads in this process {}",
        rayon::current_num_threads(),
        candle_core::utils::get_num_threads(),
        process_threads().map_or_else(|| "n/a".to_string(), |n| n.to_string()),
    );
    report::print_tables(&allocs);
}
