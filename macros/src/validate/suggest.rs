//! "Did you mean" suggestions for misspelled layer names.

/// Every layer name, for "did you mean" suggestions.
const ALL_LAYERS: &[&str] = &[
    "Dense",
    "Residual",
    "Identity",
    "Linear",
    "BinaryStep",
    "Sigmoid",
    "Tanh",
    "Relu",
    "Softplus",
    "LeakyRelu",
    "Elu",
];

/// The closest known layer name, if it is close enough to be a typo.
pub(super) fn suggestion(written: &str) -> Option<&'static str> {
    let lower = written.to_ascii_lowercase();
    ALL_LAYERS
        .iter()
        .map(|&c| (c, edit_distance(&lower, &c.to_ascii_lowercase())))
        .filter(|&(_, d)| d <= 2)
        .min_by_key(|&(_, d)| d)
        .map(|(c, _)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_only() {
        assert_eq!(suggestion("Relux"), Some("Relu"));
        assert_eq!(suggestion("sigmoid"), Some("Sigmoid"));
        assert_eq!(suggestion("Conv2d"), None);
    }
}
