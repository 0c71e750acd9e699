//! What can be wrong with a buffer given to the byte format.

use core::fmt;

/// What a byte-format file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Content {
    /// A network's parameters ([`save`](super::save)).
    Parameters,
    /// Parameters, optimizer state and step count
    /// ([`save_checkpoint`](super::save_checkpoint)).
    Checkpoint,
    /// A content code this version does not know.
    Unknown(u8),
}

impl Content {
    pub(super) const fn code(self) -> u8 {
        match self {
            Content::Parameters => 1,
            Content::Checkpoint => 2,
            Content::Unknown(c) => c,
        }
    }

    pub(super) const fn from_code(code: u8) -> Self {
        match code {
            1 => Content::Parameters,
            2 => Content::Checkpoint,
            c => Content::Unknown(c),
        }
    }
}

impl fmt::Display for Content {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Content::Parameters => f.write_str("parameters"),
            Content::Checkpoint => f.write_str("a checkpoint"),
            Content::Unknown(c) => write!(f, "unknown content (code {c})"),
        }
    }
}

/// The part of a network's shape that a file disagrees with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeField {
    /// The input width.
    InputWidth,
    /// The output width.
    OutputWidth,
    /// The number of parameters.
    ParamCount,
    /// The layer list ([`layers_hash`](crate::io::layers_hash)): same
    /// widths and parameter count, but other layers, activations or
    /// activation arguments.
    Layers,
}

impl fmt::Display for ShapeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ShapeField::InputWidth => "input width",
            ShapeField::OutputWidth => "output width",
            ShapeField::ParamCount => "parameter count",
            ShapeField::Layers => "layer hash",
        })
    }
}

/// Why a buffer could not be written or read in the byte format.
///
/// A failed read changes nothing: the network (and optimizer) keep the
/// values they had.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum FormatError {
    /// The output buffer is too small for what is to be written; nothing
    /// was written.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes in the buffer.
        available: usize,
    },
    /// The input ends before the length its header implies.
    Truncated {
        /// Bytes the header implies (`usize::MAX` if it implies more than
        /// can be addressed).
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// The input goes on after the length its header implies.
    TrailingBytes {
        /// Bytes the header implies.
        expected: usize,
        /// Bytes given.
        available: usize,
    },
    /// The input does not start with the format's magic bytes `SNET`.
    NotStaticnet {
        /// The first four bytes given.
        found: [u8; 4],
    },
    /// The input was written by a later version of the format.
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
        /// The newest version this library reads.
        supported: u16,
    },
    /// The input holds other content than was asked for (parameters
    /// where a checkpoint was expected, or the reverse).
    WrongContent {
        /// What the file holds.
        found: Content,
        /// What the reader expected.
        expected: Content,
    },
    /// The input's scalar code is neither `f32` (4) nor `f64` (8).
    UnknownScalar {
        /// The code in the file.
        code: u8,
    },
    /// The stored checksum does not match the contents: the input was
    /// damaged after it was written.
    Checksum {
        /// The checksum in the file.
        stored: u64,
        /// The checksum of what was read.
        computed: u64,
    },
    /// The file holds scalars of another type than the network's.
    Scalar {
        /// The file's scalar type.
        found: &'static str,
        /// The network's scalar type.
        expected: &'static str,
    },
    /// The file was written for a network of another shape.
    Shape {
        /// What differs.
        field: ShapeField,
        /// The file's value.
        found: u64,
        /// The network's value.
        expected: u64,
    },
    /// The checkpoint holds the state of another optimizer.
    Optimizer {
        /// The optimizer tag in the file (ASCII, zero-padded).
        found: [u8; 8],
        /// The optimizer being restored.
        expected: &'static str,
    },
    /// The checkpoint's optimizer section has another number of
    /// hyperparameters or state buffers than the optimizer has.
    OptimizerLayout {
        /// `"hyperparameters"` or `"state buffers"`.
        field: &'static str,
        /// The file's count.
        found: u32,
        /// The optimizer's count.
        expected: u32,
    },
    /// A stored hyperparameter is outside its domain.
    Config(crate::Error),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::BufferTooSmall { needed, available } => write!(
                f,
                "output buffer holds {available} bytes, {needed} are needed; nothing was written"
            ),
            FormatError::Truncated { needed, available } => write!(
                f,
                "input is truncated: {available} bytes given, its header implies {needed}"
            ),
            FormatError::TrailingBytes {
                expected,
                available,
            } => write!(
                f,
                "input has {available} bytes, its header implies {expected}: trailing bytes"
            ),
            FormatError::NotStaticnet { found } => write!(
                f,
                "not a staticnet byte-format file: it starts with {found:02x?}, expected `SNET`"
            ),
            FormatError::UnsupportedVersion { found, supported } => write!(
                f,
                "format version {found} is newer than this library reads (up to {supported})"
            ),
            FormatError::WrongContent { found, expected } => {
                write!(f, "file holds {found}, expected {expected}")
            }
            FormatError::UnknownScalar { code } => {
                write!(f, "unknown scalar code {code}: expected 4 (f32) or 8 (f64)")
            }
            FormatError::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#018x}, computed {computed:#018x}): the file \
                 is damaged"
            ),
            FormatError::Scalar { found, expected } => write!(
                f,
                "file holds {found} parameters, the network is {expected}"
            ),
            FormatError::Shape {
                field: ShapeField::Layers,
                found,
                expected,
            } => write!(
                f,
                "file was saved from a network with other layers or activations (layer hash \
                 {found:#018x}, this network's is {expected:#018x})"
            ),
            FormatError::Shape {
                field,
                found,
                expected,
            } => write!(
                f,
                "file is for another network shape: {field} is {found} in the file, {expected} \
                 in the network"
            ),
            FormatError::Optimizer { found, expected } => {
                let len = found.iter().position(|&b| b == 0).unwrap_or(found.len());
                match core::str::from_utf8(&found[..len]) {
                    Ok(name) => write!(
                        f,
                        "checkpoint holds {name} state, the optimizer is {expected}"
                    ),
                    Err(_) => write!(
                        f,
                        "checkpoint holds the state of an unknown optimizer {found:02x?}, the \
                         optimizer is {expected}"
                    ),
                }
            }
            FormatError::OptimizerLayout {
                field,
                found,
                expected,
            } => write!(
                f,
                "checkpoint's optimizer has {found} {field}, this one has {expected}"
            ),
            FormatError::Config(e) => write!(f, "checkpoint holds an invalid setting: {e}"),
        }
    }
}

impl core::error::Error for FormatError {}
