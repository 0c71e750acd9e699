//! A training loop over a data set held in slices (std).

use super::step::{train_step, Clip, StepBuffers, StepOptions};
use crate::architecture::Architecture;
use crate::init::SplitMix64;
use crate::loss::{Loss, Reduction};
use crate::optim::Optimizer;
use crate::schedule::Schedule;
use crate::{Error, Network, Scalar};
use rand_core::Rng;
use std::boxed::Box;
use std::io::Write;
use std::time::Instant;
use std::vec::Vec;

/// Options of [`Trainer::fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitOptions {
    /// Passes over the training data.
    pub epochs: usize,
    /// Seed of the per-epoch shuffle.
    pub seed: u64,
    /// Shuffle the training data each epoch (default on).
    pub shuffle: bool,
    /// Gradient clipping, if any.
    pub clip: Option<Clip>,
    /// Draw a progress bar on stderr.
    pub progress: bool,
}

impl Default for FitOptions {
    fn default() -> Self {
        Self {
            epochs: 10,
            seed: 0,
            shuffle: true,
            clip: None,
            progress: false,
        }
    }
}

/// What one epoch did, for learning curves.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochStats {
    /// The epoch, from 1.
    pub epoch: usize,
    /// Training loss per row over the epoch (for a mean-reduced loss, the
    /// mean over every row; for a sum, the sum divided by the rows),
    /// measured during the epoch, before each batch's update.
    pub train_loss: f64,
    /// Fraction of training rows predicted correctly, for classification
    /// losses.
    pub train_accuracy: Option<f64>,
    /// Loss on the validation data after the epoch, if given.
    pub val_loss: Option<f64>,
    /// Accuracy on the validation data after the epoch.
    pub val_accuracy: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Wall-clock seconds of the epoch (training only).
    pub seconds: f64,
}

/// Loss and accuracy of a network on a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// The loss over the whole data set: the loss's mean over every row
    /// for a mean reduction, the sum per row for a sum.
    pub loss: f64,
    /// Fraction predicted correctly, for classification losses.
    pub accuracy: Option<f64>,
}

/// Trains a network over data sets in batches of `B`.
///
/// The last batch of an epoch is usually partial: it is padded, the padding
/// rows get zero loss gradient (so they change nothing), and its loss is
/// weighted by the rows it really has. Nothing is dropped.
///
/// All buffers (gradients, tape, the batch being assembled, the shuffle
/// order) are allocated when `fit` starts; the epoch loop allocates nothing
/// beyond the returned history.
pub struct Trainer<A: Architecture, T: Scalar, O, L, S, const B: usize> {
    /// The optimizer; its step count drives the schedule.
    pub optimizer: O,
    /// The loss.
    pub loss: L,
    /// The learning-rate schedule (over optimizer steps).
    pub schedule: S,
    /// Epochs, shuffle, clipping, progress.
    pub options: FitOptions,
    bufs: Box<StepBuffers<A, T, B>>,
}

impl<A, T, O, L, S, const B: usize> Trainer<A, T, O, L, S, B>
where
    A: Architecture,
    T: Scalar,
    O: Optimizer<T, A::ParamLen>,
    L: Loss<T>,
    S: Schedule,
{
    /// A trainer; the batch size is the type's `B`
    /// (`Trainer::<_, _, _, _, _, 32>::new(..)`).
    pub fn new(optimizer: O, loss: L, schedule: S, options: FitOptions) -> Self {
        Self {
            optimizer,
            loss,
            schedule,
            options,
            bufs: StepBuffers::boxed(),
        }
    }

    /// Runs `options.epochs` epochs over `(inputs, targets)`, evaluating on
    /// `validation` after each; returns the history.
    ///
    /// # Errors
    ///
    /// [`Error::DatasetShape`] for mismatched or empty data (checked before
    /// anything changes); a refused step ([`Error::NonFiniteLoss`],
    /// [`Error::NonFiniteGradient`]) or a loss error stops training, with
    /// the network and optimizer as they were after the last good step.
    #[allow(clippy::type_complexity)]
    pub fn fit<const IN: usize, const OUT: usize>(
        &mut self,
        net: &mut Network<A, T>,
        inputs: &[[T; IN]],
        targets: &[L::Target<OUT>],
        validation: Option<(&[[T; IN]], &[L::Target<OUT>])>,
    ) -> Result<Vec<EpochStats>, Error>
    where
        A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
        L::Target<OUT>: Default,
    {
        check_shape(inputs.len(), targets.len())?;
        if let Some((vx, vy)) = validation {
            check_shape(vx.len(), vy.len())?;
        }
        let n = inputs.len();
        let mut order: Vec<usize> = (0..n).collect();
        let mut batch = Batch::<T, L::Target<OUT>, IN, OUT, B>::new();
        let mut history = Vec::with_capacity(self.options.epochs);
        let mut rng = SplitMix64::new(self.options.seed);

        for epoch in 1..=self.options.epochs {
            let start = Instant::now();
            if self.options.shuffle {
                shuffle(&mut order, &mut rng);
            }
            let (mut loss_sum, mut rows_seen, mut correct, mut judged) =
                (0.0, 0usize, 0usize, 0usize);
            let mut lr = self.optimizer.lr();
            let batches = n.div_ceil(B);
            for (bi, chunk) in order.chunks(B).enumerate() {
                for (slot, &i) in chunk.iter().enumerate() {
                    batch.x[slot] = inputs[i];
                    batch.y[slot] = targets[i];
                }
                lr = self
                    .schedule
                    .lr(self.optimizer.lr(), self.optimizer.steps());
                let options = StepOptions {
                    lr,
                    clip: self.options.clip,
                };
                let rows = chunk.len();
                let value = train_step(
                    net,
                    &mut self.optimizer,
                    &self.loss,
                    &mut self.bufs,
                    &batch.x,
                    &batch.y,
                    rows,
                    &options,
                )?;
                let weight = self.loss_weight(rows);
                loss_sum += value.to_f64() * weight;
                rows_seen += rows;
                let out = self.bufs.tape.output();
                for (pred, target) in out[..rows].iter().zip(&batch.y[..rows]) {
                    if let Some(ok) = self.loss.is_correct(pred, target) {
                        judged += 1;
                        correct += usize::from(ok);
                    }
                }
                if self.options.progress {
                    progress(
                        epoch,
                        self.options.epochs,
                        bi + 1,
                        batches,
                        loss_sum / rows_seen as f64,
                    );
                }
            }
            let seconds = start.elapsed().as_secs_f64();
            let (val_loss, val_accuracy) = match validation {
                Some((vx, vy)) => {
                    let e = self.evaluate_with(net, vx, vy, &mut batch)?;
                    (Some(e.loss), e.accuracy)
                }
                None => (None, None),
            };
            history.push(EpochStats {
                epoch,
                train_loss: loss_sum / rows_seen as f64,
                train_accuracy: (judged > 0).then(|| correct as f64 / judged as f64),
                val_loss,
                val_accuracy,
                lr,
                seconds,
            });
        }
        if self.options.progress {
            eprintln!();
        }
        Ok(history)
    }

    /// Loss and accuracy of `net` on a data set, in batches of `B`, without
    /// changing anything.
    ///
    /// # Errors
    ///
    /// [`Error::DatasetShape`] for mismatched or empty data, or a loss error.
    pub fn evaluate<const IN: usize, const OUT: usize>(
        &mut self,
        net: &Network<A, T>,
        inputs: &[[T; IN]],
        targets: &[L::Target<OUT>],
    ) -> Result<Evaluation, Error>
    where
        A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
        L::Target<OUT>: Default,
    {
        check_shape(inputs.len(), targets.len())?;
        self.evaluate_with(net, inputs, targets, &mut Batch::new())
    }

    /// [`Trainer::evaluate`] with the batch buffers given, so the epoch
    /// loop can evaluate without allocating.
    fn evaluate_with<const IN: usize, const OUT: usize>(
        &mut self,
        net: &Network<A, T>,
        inputs: &[[T; IN]],
        targets: &[L::Target<OUT>],
        batch: &mut Batch<T, L::Target<OUT>, IN, OUT, B>,
    ) -> Result<Evaluation, Error>
    where
        A: Architecture<Input<T> = [T; IN], Output<T> = [T; OUT]>,
    {
        let (mut loss_sum, mut rows_seen, mut correct, mut judged) = (0.0, 0usize, 0usize, 0usize);
        for (xs, ys) in inputs.chunks(B).zip(targets.chunks(B)) {
            let rows = xs.len();
            batch.x[..rows].copy_from_slice(xs);
            batch.y[..rows].copy_from_slice(ys);
            net.infer(&batch.x, &mut batch.out);
            let (out, batch_y) = (&batch.out, &batch.y);
            let value = self.loss.value_and_grad_rows(out, batch_y, rows, None)?;
            loss_sum += value.to_f64() * self.loss_weight(rows);
            rows_seen += rows;
            for (pred, target) in out[..rows].iter().zip(&batch_y[..rows]) {
                if let Some(ok) = self.loss.is_correct(pred, target) {
                    judged += 1;
                    correct += usize::from(ok);
                }
            }
        }
        Ok(Evaluation {
            loss: loss_sum / rows_seen as f64,
            accuracy: (judged > 0).then(|| correct as f64 / judged as f64),
        })
    }

    /// How much a batch's loss counts toward the epoch's: a mean counts by
    /// its rows (the epoch loss is then the mean over all rows), a sum once
    /// (the epoch loss is then a sum too, divided by the row count below,
    /// so it reads as the sum per row).
    fn loss_weight(&self, rows: usize) -> f64 {
        match self.loss.reduction() {
            Reduction::Mean => rows as f64,
            Reduction::Sum => 1.0,
        }
    }
}

/// The rows of one batch being assembled, and its outputs.
struct Batch<T: Scalar, Y, const IN: usize, const OUT: usize, const B: usize> {
    x: Box<[[T; IN]; B]>,
    y: Box<[Y; B]>,
    out: Box<[[T; OUT]; B]>,
}

impl<T: Scalar, Y: Copy + Default, const IN: usize, const OUT: usize, const B: usize>
    Batch<T, Y, IN, OUT, B>
{
    fn new() -> Self {
        Self {
            x: crate::zeroable::boxed_zeroed(),
            y: Box::new([Y::default(); B]),
            out: crate::zeroable::boxed_zeroed(),
        }
    }
}

fn check_shape(inputs: usize, targets: usize) -> Result<(), Error> {
    if inputs != targets || inputs == 0 {
        return Err(Error::DatasetShape { inputs, targets });
    }
    Ok(())
}

/// Fisher-Yates shuffle.
fn shuffle<R: Rng>(order: &mut [usize], rng: &mut R) {
    for i in (1..order.len()).rev() {
        // Multiply-shift: an unbiased-enough index in 0..=i without division.
        let j = ((rng.next_u64() as u128 * (i as u128 + 1)) >> 64) as usize;
        order.swap(i, j);
    }
}

/// Redraws the progress line; writes straight to stderr without building a
/// string, so the epoch loop stays allocation-free.
fn progress(epoch: usize, epochs: usize, batch: usize, batches: usize, loss: f64) {
    const FULL: &str = "##############################";
    const EMPTY: &str = "..............................";
    let filled = FULL.len() * batch / batches.max(1);
    let mut err = std::io::stderr().lock();
    // Progress output is best effort: a closed stderr must not stop training.
    let _ = write!(
        err,
        "\repoch {epoch}/{epochs} [{}{}] loss {loss:.5}",
        &FULL[..filled],
        &EMPTY[filled..]
    );
    let _ = err.flush();
}
