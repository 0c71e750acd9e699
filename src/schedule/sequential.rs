//! One schedule until a milestone, then another: warmup then decay,
//! `torch.optim.lr_scheduler.SequentialLR`.

use super::{LinearLr, Schedule};

/// `first` for steps `t < milestone`, then `then` counted from the
/// milestone: `then.lr(γ₀, t − milestone)`.
///
/// This is PyTorch's `SequentialLR` with two schedulers and one milestone:
/// at the milestone PyTorch restarts the next scheduler at its own step 0
/// (from the base rate), whatever rate the first one had reached. More
/// phases nest: `Sequential::new(a, m₁, Sequential::new(b, m₂ − m₁, c))` is
/// `SequentialLR([a, b, c], milestones=[m₁, m₂])`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sequential<A, B> {
    /// The schedule before the milestone.
    pub first: A,
    /// The step at which `then` takes over (at its own step 0).
    pub milestone: u64,
    /// The schedule from the milestone on.
    pub then: B,
}

impl<A: Schedule, B: Schedule> Sequential<A, B> {
    /// `first` until `milestone`, then `then` from its step 0.
    pub fn new(first: A, milestone: u64, then: B) -> Self {
        Self {
            first,
            milestone,
            then,
        }
    }
}

impl<B: Schedule> Sequential<LinearLr, B> {
    /// A linear warmup, then `then` from the step the warmup completes
    /// (`warmup.total_iters()`), the usual `SequentialLR([LinearLR(..),
    /// decay], milestones=[total_iters])`.
    pub fn warmup(warmup: LinearLr, then: B) -> Self {
        Self::new(warmup, warmup.total_iters(), then)
    }
}

impl<A: Schedule, B: Schedule> Schedule for Sequential<A, B> {
    fn lr(&self, base_lr: f64, t: u64) -> f64 {
        if t < self.milestone {
            self.first.lr(base_lr, t)
        } else {
            self.then.lr(base_lr, t - self.milestone)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{Constant, ExponentialLr};

    #[test]
    fn the_second_schedule_restarts_at_the_milestone() {
        let warmup = LinearLr::new(0.5, 1.0, 2).unwrap();
        let decay = ExponentialLr::new(0.5).unwrap();
        let s = Sequential::new(warmup, 3, decay);
        let rates: [f64; 6] = core::array::from_fn(|t| s.lr(8.0, t as u64));
        // Warmup 4, 6, then 8 held for one step, then decay from its step 0.
        assert_eq!(rates, [4.0, 6.0, 8.0, 8.0, 4.0, 2.0]);
        let w = Sequential::warmup(warmup, decay);
        assert_eq!(w.milestone, 2);
        assert_eq!([w.lr(8.0, 1), w.lr(8.0, 2), w.lr(8.0, 3)], [6.0, 8.0, 4.0]);
    }

    #[test]
    fn milestone_zero_is_the_second_schedule_alone() {
        let s = Sequential::new(Constant, 0, ExponentialLr::new(0.5).unwrap());
        assert_eq!(s.lr(2.0, 0), 2.0);
        assert_eq!(s.lr(2.0, 1), 1.0);
    }
}
