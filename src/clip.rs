//! Gradient clipping: `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`.
//!
//! Limits must be finite and ≥ 0 ([`Clip::validate`](crate::train::Clip::validate)
//! checks them, and [`train_step`](crate::train::train_step) refuses a bad
//! one); with a negative limit these functions do what PyTorch's do, which
//! is rarely what anyone wants (a negative `max_norm` flips every sign).
//!
//! Both work on the gradient buffer (a [`Network`](crate::Network) used as
//! gradients, through `params_mut()`, or any slice), in place.

use crate::Scalar;

/// Which norm [`clip_grad_norm`] measures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum Norm {
    /// The Euclidean norm `√Σg²` (PyTorch's default `norm_type=2`).
    #[default]
    L2,
    /// The largest magnitude `max |g|` (`norm_type=inf`).
    Inf,
}

/// The norm of all gradients taken as one vector, accumulated in `f64`.
pub fn grad_norm<T: Scalar>(grads: &[T], norm: Norm) -> f64 {
    match norm {
        Norm::L2 => {
            let mut sum = 0.0f64;
            for g in grads {
                let v = g.to_f64();
                sum += v * v;
            }
            libm::sqrt(sum)
        }
        Norm::Inf => grads
            .iter()
            .fold(0.0f64, |m, g| m.max(libm::fabs(g.to_f64()))),
    }
}

/// Rescales all gradients together so their `norm` is at most `max_norm`,
/// and returns the norm before clipping.
///
/// As in PyTorch: `coef = max_norm / (total + 1e-6)`, clamped to at most 1,
/// and every gradient is multiplied by `coef` (so a norm slightly below
/// `max_norm` is still scaled by a factor just under 1, exactly as PyTorch
/// does). A non-finite total is returned as is and the gradients are left
/// unchanged, so the caller's non-finite check still sees them.
pub fn clip_grad_norm<T: Scalar>(grads: &mut [T], max_norm: f64, norm: Norm) -> f64 {
    let total = grad_norm(grads, norm);
    if !total.is_finite() {
        return total;
    }
    let coef = max_norm / (total + 1e-6);
    if coef < 1.0 {
        let c = T::from_f64(coef);
        grads.iter_mut().for_each(|g| *g *= c);
    }
    total
}

/// Clamps every gradient to `[−clip, clip]` (NaN stays NaN).
pub fn clip_grad_value<T: Scalar>(grads: &mut [T], clip: f64) {
    let hi = T::from_f64(clip);
    let lo = -hi;
    for g in grads {
        if *g > hi {
            *g = hi;
        } else if *g < lo {
            *g = lo;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_clipping_scales_everything_by_one_factor() {
        let mut g = [3.0f64, 4.0];
        let total = clip_grad_norm(&mut g, 1.0, Norm::L2);
        assert_eq!(total, 5.0);
        let coef = 1.0 / (5.0 + 1e-6);
        assert_eq!(g, [3.0 * coef, 4.0 * coef]);
        // Below the limit: untouched.
        let mut g = [0.3f32, 0.4];
        assert!((clip_grad_norm(&mut g, 1.0, Norm::L2) - 0.5).abs() < 1e-7);
        assert_eq!(g, [0.3, 0.4]);
    }

    #[test]
    fn inf_norm_is_the_largest_magnitude() {
        let mut g = [1.0f64, -8.0, 2.0];
        assert_eq!(clip_grad_norm(&mut g, 2.0, Norm::Inf), 8.0);
        let coef = 2.0 / (8.0 + 1e-6);
        assert_eq!(g, [coef, -8.0 * coef, 2.0 * coef]);
    }

    #[test]
    fn non_finite_gradients_are_reported_not_hidden() {
        let mut g = [1.0f64, f64::NAN];
        assert!(clip_grad_norm(&mut g, 1.0, Norm::L2).is_nan());
        assert_eq!(g[0], 1.0);
    }

    #[test]
    fn value_clipping_clamps() {
        let mut g = [-5.0f32, 0.5, 7.0];
        clip_grad_value(&mut g, 1.0);
        assert_eq!(g, [-1.0, 0.5, 1.0]);
    }
}
