//! Reader of the golden files produced by PyTorch (`scripts/golden_*.py`).
//!
//! Format: one record per line, `key n v1 v2 … vn`, where `key` has no
//! spaces (by convention `/`-separated, like `adam/amsgrad/f64/step3`),
//! `n` is the number of values and each value is a float in Python's
//! `repr` (shortest round-trip form, so f64 values are exact). Lines
//! starting with `#` are comments (the generator records the torch version
//! there).

#![allow(dead_code)]

use std::collections::BTreeMap;

/// The records of one golden file.
pub struct Golden {
    path: String,
    records: BTreeMap<String, Vec<f64>>,
}

impl Golden {
    /// Loads `tests/golden/<name>` (relative to the crate root).
    pub fn load(name: &str) -> Golden {
        let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read golden file {path}: {e}"));
        let mut records = BTreeMap::new();
        for (lineno, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_ascii_whitespace();
            let key = parts.next().expect("non-empty line has a key").to_string();
            let n: usize = parts
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{path}:{}: missing count", lineno + 1));
            let values: Vec<f64> = parts
                .map(|v| {
                    parse_float(v).unwrap_or_else(|| panic!("{path}:{}: bad value {v}", lineno + 1))
                })
                .collect();
            assert_eq!(
                values.len(),
                n,
                "{path}:{}: count mismatch for {key}",
                lineno + 1
            );
            assert!(
                records.insert(key.clone(), values).is_none(),
                "{path}: duplicate key {key}"
            );
        }
        Golden { path, records }
    }

    /// The values of `key`; panics naming the file if it is missing.
    pub fn get(&self, key: &str) -> &[f64] {
        self.records
            .get(key)
            .unwrap_or_else(|| panic!("{}: no record {key}", self.path))
    }

    /// The single value of `key`.
    pub fn scalar(&self, key: &str) -> f64 {
        let v = self.get(key);
        assert_eq!(v.len(), 1, "{}: {key} is not a scalar", self.path);
        v[0]
    }

    /// Every key starting with `prefix`.
    pub fn keys_with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.records
            .keys()
            .filter(move |k| k.starts_with(prefix))
            .map(String::as_str)
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

/// Largest relative deviation `|a − b| / max(|b|, floor)` over two slices.
pub fn max_rel_dev(actual: &[f64], expected: &[f64], floor: f64) -> f64 {
    assert_eq!(actual.len(), expected.len(), "length mismatch");
    actual
        .iter()
        .zip(expected)
        .map(|(a, e)| {
            if a == e {
                0.0
            } else {
                (a - e).abs() / e.abs().max(floor)
            }
        })
        .fold(0.0, f64::max)
}
