//! The library's error type.

use core::fmt;

/// Everything that can go wrong when a call is given input it cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `backward` was called on a tape that no forward pass has filled.
    EmptyTape {
        /// The network's declared name.
        network: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::EmptyTape { network } => write!(
                f,
                "backward on an empty tape of `{network}`: run `forward` with this tape first"
            ),
        }
    }
}

impl core::error::Error for Error {}
