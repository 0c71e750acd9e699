//! The library's error type.

use core::fmt;

/// Everything that can go wrong when a call is given input it cannot use.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// `backward` was called on a tape that no forward pass has filled.
    EmptyTape {
        /// The network's declared name.
        network: &'static str,
    },
    /// A loss was asked for no rows, or more rows than the batch has.
    RowsOutOfRange {
        /// The rows asked for.
        rows: usize,
        /// The batch size.
        batch: usize,
    },
    /// A class index target is not below the number of classes.
    ClassOutOfRange {
        /// The batch row.
        row: usize,
        /// The class index given.
        class: usize,
        /// The number of classes (the output width).
        classes: usize,
    },
    /// An optimizer, schedule or loss hyperparameter is out of its domain.
    InvalidConfig {
        /// The optimizer, schedule or loss.
        optimizer: &'static str,
        /// The field.
        field: &'static str,
        /// What the field must be.
        expected: &'static str,
        /// The value given.
        value: f64,
    },
    /// A data set's inputs and targets differ in length, or it is empty.
    DatasetShape {
        /// Number of input rows.
        inputs: usize,
        /// Number of targets.
        targets: usize,
    },
    /// A step was refused because the loss is NaN or infinite.
    NonFiniteLoss {
        /// The step that was refused (counting from 1).
        step: u64,
        /// The loss value.
        value: f64,
    },
    /// A step was refused because a gradient is NaN or infinite.
    NonFiniteGradient {
        /// The step that was refused (counting from 1).
        step: u64,
        /// Index of the first non-finite gradient in the parameter buffer.
        index: usize,
        /// Its value.
        value: f64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyTape { network } => write!(
                f,
                "backward on an empty tape of `{network}`: run `forward` with this tape first"
            ),
            Error::RowsOutOfRange { rows, batch } => write!(
                f,
                "asked for the loss over {rows} rows of a batch of {batch}; rows must be between 1 and {batch}"
            ),
            Error::ClassOutOfRange {
                row,
                class,
                classes,
            } => write!(
                f,
                "target class {class} in row {row} is out of range: expected an index below {classes}"
            ),
            Error::InvalidConfig {
                optimizer,
                field,
                expected,
                value,
            } => write!(f, "{optimizer}: `{field}` is {value}, expected {expected}"),
            Error::DatasetShape { inputs, targets } => write!(
                f,
                "data set has {inputs} input rows and {targets} targets; expected the same \
                 number, at least 1"
            ),
            Error::NonFiniteLoss { step, value } => write!(
                f,
                "step {step} refused: the loss is {value}; parameters and optimizer state are unchanged"
            ),
            Error::NonFiniteGradient { step, index, value } => write!(
                f,
                "step {step} refused: the gradient of parameter {index} is {value}; parameters and \
                 optimizer state are unchanged"
            ),
        }
    }
}

impl core::error::Error for Error {}
