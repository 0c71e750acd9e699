//! What can be wrong when loading or saving safetensors.

use super::format::header::{HeaderError, MAX_HEADER_LEN};
use std::fmt;
use std::path::PathBuf;

/// Why a safetensors file could not be loaded or saved.
///
/// A failed load changes nothing: the network keeps the values it had.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// The file ends before `what` does.
    Truncated {
        /// What is cut off: the header length, the header or the data.
        what: &'static str,
        /// Bytes the file would need.
        needed: u64,
        /// Bytes it has.
        available: u64,
    },
    /// The header length in the first 8 bytes is beyond the limit the
    /// format sets (100 MB): the file is damaged or not safetensors.
    HeaderTooLarge {
        /// The length in the file.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// The header is not UTF-8 JSON, or not a JSON object.
    Header {
        /// Byte offset into the header (after the 8-byte length).
        offset: usize,
        /// What is wrong there.
        message: String,
    },
    /// A tensor's header entry is malformed or does not fit the data.
    TensorEntry {
        /// The tensor.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The data section holds bytes that belong to no tensor.
    Layout {
        /// What is wrong.
        message: String,
    },
    /// A tensor the network needs is not in the file.
    MissingTensor {
        /// The tensor's name.
        name: String,
        /// The shape it should have (PyTorch's: a weight is `[out, in]`).
        expected_shape: Vec<usize>,
    },
    /// Strict loading: the file has tensors no layer uses.
    UnexpectedTensors {
        /// Their names, in the order the file lists them.
        names: Vec<String>,
    },
    /// A tensor has another shape than its layer needs.
    WrongShape {
        /// The tensor's name.
        name: String,
        /// The shape the layer needs (`[out, in]` for a weight).
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A tensor's dtype is not one parameters are read from.
    WrongDtype {
        /// The tensor's name.
        name: String,
        /// Its dtype in the file.
        found: &'static str,
    },
    /// The tensor names given do not fit the network.
    Names {
        /// What does not fit.
        message: String,
    },
    /// Two parameters were given the same tensor name.
    DuplicateName {
        /// The name.
        name: String,
    },
    /// Reading or writing the file failed.
    Io {
        /// The file.
        path: PathBuf,
        /// The kind of failure.
        kind: std::io::ErrorKind,
        /// The system's message.
        message: String,
    },
}

impl From<HeaderError> for SafetensorsError {
    fn from(e: HeaderError) -> Self {
        match e {
            HeaderError::Truncated {
                what,
                needed,
                available,
            } => SafetensorsError::Truncated {
                what,
                needed,
                available,
            },
            HeaderError::TooLarge { len } => SafetensorsError::HeaderTooLarge {
                len,
                limit: MAX_HEADER_LEN,
            },
            HeaderError::Json { offset, message } => SafetensorsError::Header { offset, message },
            HeaderError::Tensor { name, message } => {
                SafetensorsError::TensorEntry { name, message }
            }
            HeaderError::Layout { message } => SafetensorsError::Layout { message },
        }
    }
}

impl fmt::Display for SafetensorsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SafetensorsError::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "file is truncated: {what} needs {needed} bytes, the file has {available}"
            ),
            SafetensorsError::HeaderTooLarge { len, limit } => write!(
                f,
                "header length {len} is beyond the format's limit of {limit} bytes: the file is \
                 damaged or not safetensors"
            ),
            SafetensorsError::Header { offset, message } => {
                write!(f, "corrupt header at byte {offset} of the JSON: {message}")
            }
            SafetensorsError::TensorEntry { name, message } => {
                write!(f, "corrupt header: tensor `{name}`: {message}")
            }
            SafetensorsError::Layout { message } => write!(f, "corrupt file: {message}"),
            SafetensorsError::MissingTensor {
                name,
                expected_shape,
            } => write!(
                f,
                "tensor `{name}` is missing; expected one of shape {expected_shape:?}"
            ),
            SafetensorsError::UnexpectedTensors { names } => write!(
                f,
                "tensors no layer uses: {}; load non-strictly to ignore them",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            SafetensorsError::WrongShape {
                name,
                expected,
                found,
            } => write!(
                f,
                "tensor `{name}` has shape {found:?}, expected {expected:?}"
            ),
            SafetensorsError::WrongDtype { name, found } => write!(
                f,
                "tensor `{name}` is {found}, expected F32, F64, F16 or BF16"
            ),
            SafetensorsError::Names { message } => write!(f, "tensor names: {message}"),
            SafetensorsError::DuplicateName { name } => write!(
                f,
                "tensor name `{name}` is given to two parameters; each needs its own"
            ),
            SafetensorsError::Io {
                path,
                kind: _,
                message,
            } => write!(f, "{}: {message}", path.display()),
        }
    }
}

impl std::error::Error for SafetensorsError {}
