//! The report: the medians read back from criterion's `estimates.json`
//! files and the allocation counts, printed as markdown tables.

use crate::alloc::Allocs;
use std::path::PathBuf;

const PEERS: [&str; 3] = ["candle", "dfdx", "burn"];

/// Table rows: (label, criterion group, staticnet function id).
const ROWS: [(&str, &str, &str); 10] = [
    ("W1", "W1", "staticnet"),
    ("W1 (fast_math)", "W1", "staticnet_fast_math"),
    ("W2", "W2", "staticnet"),
    ("W2 (bf16 weights)", "W2", "staticnet_bf16"),
    ("W3", "W3", "staticnet"),
    ("W3 (bf16 weights)", "W3", "staticnet_bf16"),
    ("W4", "W4", "staticnet"),
    ("W5", "W5", "staticnet"),
    ("W6", "W6", "staticnet"),
    ("W6 (fast_math)", "W6", "staticnet_fast_math"),
];

/// Where criterion writes its results (the same rule criterion follows).
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(dir) => PathBuf::from(dir).join("target").join("criterion"),
        None => PathBuf::from("target").join("criterion"),
    }
}

/// Median time per call in ns, from `<group>/<id>/new/estimates.json`.
fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn fmt_time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.3} ms", ns / 1e6)
    }
}

fn fmt_bytes(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

pub fn print_tables(allocs: &Allocs) {
    let na = || "n/a".to_string();

    println!();
    println!("## Median time per call (one thread)");
    println!();
    let mut header = String::from("| workload | staticnet |");
    let mut rule = String::from("| --- | ---: |");
    for p in PEERS {
        header.push_str(&format!(" {p} |"));
        rule.push_str(" ---: |");
    }
    for p in PEERS {
        header.push_str(&format!(" staticnet / {p} |"));
        rule.push_str(" ---: |");
    }
    println!("{header}");
    println!("{rule}");
    for (label, group, own) in ROWS {
        let mine = median_ns(group, own);
        let mut line = format!("| {label} | {} |", mine.map(fmt_time).unwrap_or_else(na));
        let peers: Vec<Option<f64>> = PEERS.iter().map(|p| median_ns(group, p)).collect();
        for t in &peers {
            line.push_str(&format!(" {} |", t.map(fmt_time).unwrap_or_else(na)));
        }
        for t in &peers {
            let ratio = match (mine, t) {
                (Some(m), Some(t)) if m > 0.0 => format!("{:.1}x", t / m),
                _ => na(),
            };
            line.push_str(&format!(" {ratio} |"));
        }
        println!("{line}");
    }
    println!();
    println!(
        "Ratios are speedups: peer median / staticnet median (above 1x: staticnet is faster)."
    );

    println!();
    println!("## Heap allocations per call (count, bytes requested)");
    println!();
    let mut header = String::from("| workload | staticnet |");
    let mut rule = String::from("| --- | ---: |");
    for p in PEERS {
        header.push_str(&format!(" {p} |"));
        rule.push_str(" ---: |");
    }
    println!("{header}");
    println!("{rule}");
    let fmt_allocs = |group: &str, id: &str| -> String {
        match allocs.get(&(group.to_string(), id.to_string())) {
            Some(a) if a.calls == 0 => "0".to_string(),
            Some(a) => format!("{} ({})", a.calls, fmt_bytes(a.bytes)),
            None => na(),
        }
    };
    for (label, group, own) in ROWS {
        let mut line = format!("| {label} | {} |", fmt_allocs(group, own));
        for p in PEERS {
            line.push_str(&format!(" {} |", fmt_allocs(group, p)));
        }
        println!("{line}");
    }
    println!();
    println!("Counted with a counting global allocator over one extra, un-timed call per cell (alloc, alloc_zeroed and realloc calls).");
}
