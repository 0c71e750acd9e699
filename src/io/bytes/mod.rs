//! A plain little-endian byte format for parameters and checkpoints, in
//! memory the caller owns (`no_std`, no allocator).
//!
//! ```
//! use staticnet::io::bytes;
//!
//! staticnet::network! {
//!     pub struct W1(2 -> 1) { Dense<16>, Tanh, Dense<16>, Tanh, Dense<1> }
//! }
//!
//! let net: W1 = W1::seeded(1);
//! let mut buf = [0u8; bytes::params_len::<W1Arch, f32>()];
//! bytes::save(&net, &mut buf).unwrap();
//!
//! // Later, or on another device (for example from `include_bytes!`):
//! let mut restored: W1 = W1::zeroed();
//! bytes::load(&mut restored, &buf).unwrap();
//! assert_eq!(restored, net);
//!
//! // A file for another shape is refused, and the network is left alone.
//! staticnet::network! { pub struct Other(2 -> 1) { Dense<8>, Tanh, Dense<1> } }
//! let mut other: Other = Other::seeded(2);
//! let before = other.clone();
//! assert!(bytes::load(&mut other, &buf).is_err());
//! assert_eq!(other, before);
//! ```
//!
//! # Layout (version 1)
//!
//! Every integer and scalar is little-endian.
//!
//! | offset | bytes | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `SNET` |
//! | 4 | 2 | format version (1) |
//! | 6 | 1 | content: 1 = parameters, 2 = checkpoint |
//! | 7 | 1 | scalar width: 4 = `f32`, 8 = `f64` |
//! | 8 | 4 | input width |
//! | 12 | 4 | output width |
//! | 16 | 8 | parameter count `P` |
//! | 24 | 8 | [`layers_hash`] of the network |
//! | 32 | | content (below) |
//! | end − 8 | 8 | FNV-1a 64 checksum of every byte before it |
//!
//! Parameters: the `P` scalars of [`Network::params`], in storage order.
//!
//! Checkpoint: the optimizer section, then the parameters, then the
//! optimizer's state buffers of `P` scalars each:
//!
//! | offset | bytes | field |
//! | --- | --- | --- |
//! | 32 | 8 | optimizer tag, ASCII, zero-padded ([`CheckpointState::TAG`]) |
//! | 40 | 8 | step count |
//! | 48 | 4 | number of hyperparameters `k` |
//! | 52 | 4 | number of state buffers `m` |
//! | 56 | 8·k | hyperparameters as `f64` (a flag is 0 or 1) |
//! | 56 + 8k | `P`·s | parameters |
//! | | `m`·`P`·s | state buffers |
//!
//! A reader first checks the header against its own length and the
//! checksum, then the shape against the network's, and only then writes:
//! any error leaves the network and the optimizer as they were.

mod checkpoint;
mod error;
pub(crate) mod scalars;

pub use checkpoint::{
    checkpoint_len, load_checkpoint, save_checkpoint, CheckpointState, MAX_CONFIG_LEN,
};
pub use error::{Content, FormatError, ShapeField};

use super::fingerprint::{layers_hash, Fnv1a};
use crate::architecture::Architecture;
use crate::{Network, Scalar};
use scalars::{read_le, write_le};

/// The first four bytes of every file.
pub const MAGIC: [u8; 4] = *b"SNET";
/// The format version written, and the newest one read.
pub const VERSION: u16 = 1;
/// Bytes before the content.
pub const HEADER_LEN: usize = 32;
/// Bytes of the trailing checksum.
pub const CHECKSUM_LEN: usize = 8;

/// Bytes [`save`] writes for a network of architecture `A` over `T`.
pub const fn params_len<A: Architecture, T: Scalar>() -> usize {
    HEADER_LEN + A::PARAMS * core::mem::size_of::<T>() + CHECKSUM_LEN
}

/// Writes `net`'s parameters into `out`; returns the number of bytes
/// written ([`params_len`]).
///
/// # Errors
///
/// [`FormatError::BufferTooSmall`] if `out` is shorter than
/// [`params_len`]; nothing is written then.
pub fn save<A: Architecture, T: Scalar>(
    net: &Network<A, T>,
    out: &mut [u8],
) -> Result<usize, FormatError> {
    let len = params_len::<A, T>();
    let out = output(out, len)?;
    write_header::<A, T>(out, Content::Parameters);
    write_le(net.params(), &mut out[HEADER_LEN..len - CHECKSUM_LEN]);
    seal(out);
    Ok(len)
}

/// Reads parameters written by [`save`] into `net`.
///
/// # Errors
///
/// Any [`FormatError`] about the buffer (truncated, damaged, not this
/// format, a checkpoint) or about the network it was saved from (another
/// scalar type, input or output width, parameter count or layer list);
/// `net` is untouched then.
pub fn load<A: Architecture, T: Scalar>(
    net: &mut Network<A, T>,
    bytes: &[u8],
) -> Result<(), FormatError> {
    let header = Header::parse(bytes, Content::Parameters)?;
    let body_len = header.params_bytes().ok_or(FormatError::Truncated {
        needed: usize::MAX,
        available: bytes.len(),
    })?;
    let body = framed(bytes, body_len)?;
    header.check_network::<A, T>()?;
    read_le(body, net.params_mut());
    Ok(())
}

/// `out[..len]`, or the error saying it is too small.
fn output(out: &mut [u8], len: usize) -> Result<&mut [u8], FormatError> {
    let available = out.len();
    out.get_mut(..len).ok_or(FormatError::BufferTooSmall {
        needed: len,
        available,
    })
}

/// Writes the 32-byte header of a file for `A` over `T`.
fn write_header<A: Architecture, T: Scalar>(out: &mut [u8], content: Content) {
    out[0..4].copy_from_slice(&MAGIC);
    out[4..6].copy_from_slice(&VERSION.to_le_bytes());
    out[6] = content.code();
    out[7] = core::mem::size_of::<T>() as u8;
    // Widths are at most 2²⁴ (the macro's limit), so they fit in 32 bits.
    out[8..12].copy_from_slice(&(A::INPUT as u32).to_le_bytes());
    out[12..16].copy_from_slice(&(A::OUTPUT as u32).to_le_bytes());
    out[16..24].copy_from_slice(&(A::PARAMS as u64).to_le_bytes());
    out[24..32].copy_from_slice(&layers_hash::<A>().to_le_bytes());
}

/// Writes the checksum into the last 8 bytes of `file`.
fn seal(file: &mut [u8]) {
    let end = file.len() - CHECKSUM_LEN;
    let sum = Fnv1a::new().bytes(&file[..end]).finish();
    file[end..].copy_from_slice(&sum.to_le_bytes());
}

/// The content of `bytes` once its length is `HEADER_LEN + body_len +
/// CHECKSUM_LEN` exactly and its checksum matches.
fn framed(bytes: &[u8], body_len: usize) -> Result<&[u8], FormatError> {
    let expected = HEADER_LEN
        .checked_add(body_len)
        .and_then(|n| n.checked_add(CHECKSUM_LEN))
        .unwrap_or(usize::MAX);
    if bytes.len() < expected {
        return Err(FormatError::Truncated {
            needed: expected,
            available: bytes.len(),
        });
    }
    if bytes.len() > expected {
        return Err(FormatError::TrailingBytes {
            expected,
            available: bytes.len(),
        });
    }
    let end = expected - CHECKSUM_LEN;
    let stored = read_u64(bytes, end);
    let computed = Fnv1a::new().bytes(&bytes[..end]).finish();
    if stored != computed {
        return Err(FormatError::Checksum { stored, computed });
    }
    Ok(&bytes[HEADER_LEN..end])
}

/// The fixed header, as read from a file.
#[derive(Clone, Copy, Debug)]
struct Header {
    scalar_size: usize,
    input: u32,
    output: u32,
    params: u64,
    layers: u64,
}

impl Header {
    /// Reads the header and checks what does not depend on the network:
    /// magic, version, content and scalar code.
    fn parse(bytes: &[u8], expected: Content) -> Result<Self, FormatError> {
        if bytes.len() < HEADER_LEN {
            // A buffer too short to hold the magic is reported as not
            // this format only if what it has already differs.
            let n = bytes.len().min(4);
            if bytes[..n] != MAGIC[..n] {
                return Err(not_staticnet(bytes));
            }
            return Err(FormatError::Truncated {
                needed: HEADER_LEN,
                available: bytes.len(),
            });
        }
        if bytes[0..4] != MAGIC {
            return Err(not_staticnet(bytes));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(FormatError::UnsupportedVersion {
                found: version,
                supported: VERSION,
            });
        }
        let content = Content::from_code(bytes[6]);
        if content != expected {
            return Err(FormatError::WrongContent {
                found: content,
                expected,
            });
        }
        let scalar_size = match bytes[7] {
            4 => 4,
            8 => 8,
            code => return Err(FormatError::UnknownScalar { code }),
        };
        Ok(Header {
            scalar_size,
            input: read_u32(bytes, 8),
            output: read_u32(bytes, 12),
            params: read_u64(bytes, 16),
            layers: read_u64(bytes, 24),
        })
    }

    /// Bytes of one buffer of parameters, as the file describes it;
    /// `None` if that is more than can be addressed.
    fn params_bytes(&self) -> Option<usize> {
        usize::try_from(self.params)
            .ok()?
            .checked_mul(self.scalar_size)
    }

    /// Compares the file's scalar type and shape with the network's.
    fn check_network<A: Architecture, T: Scalar>(&self) -> Result<(), FormatError> {
        let size = core::mem::size_of::<T>();
        if self.scalar_size != size {
            return Err(FormatError::Scalar {
                found: if self.scalar_size == 4 { "f32" } else { "f64" },
                expected: T::NAME,
            });
        }
        let fields = [
            (
                ShapeField::InputWidth,
                u64::from(self.input),
                A::INPUT as u64,
            ),
            (
                ShapeField::OutputWidth,
                u64::from(self.output),
                A::OUTPUT as u64,
            ),
            (ShapeField::ParamCount, self.params, A::PARAMS as u64),
            (ShapeField::Layers, self.layers, layers_hash::<A>()),
        ];
        for (field, found, expected) in fields {
            if found != expected {
                return Err(FormatError::Shape {
                    field,
                    found,
                    expected,
                });
            }
        }
        Ok(())
    }
}

fn not_staticnet(bytes: &[u8]) -> FormatError {
    let mut found = [0u8; 4];
    let n = bytes.len().min(4);
    found[..n].copy_from_slice(&bytes[..n]);
    FormatError::NotStaticnet { found }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::network! {
        struct Tiny(2 -> 1) { Dense<3>, Tanh, Dense<1> }
    }

    #[test]
    fn layout_matches_the_documented_table() {
        let net: Tiny<f64> = Tiny::seeded(3);
        let mut buf = [0u8; params_len::<TinyArch, f64>()];
        assert_eq!(buf.len(), 32 + 13 * 8 + 8);
        assert_eq!(save(&net, &mut buf), Ok(buf.len()));
        assert_eq!(&buf[0..4], b"SNET");
        assert_eq!(buf[4..8], [1, 0, 1, 8]);
        assert_eq!(read_u32(&buf, 8), 2);
        assert_eq!(read_u32(&buf, 12), 1);
        assert_eq!(read_u64(&buf, 16), 13);
        assert_eq!(read_u64(&buf, 24), layers_hash::<TinyArch>());
        assert_eq!(&buf[32..40], &net.params()[0].to_le_bytes());
        let end = buf.len() - 8;
        assert_eq!(
            read_u64(&buf, end),
            Fnv1a::new().bytes(&buf[..end]).finish()
        );
    }

    #[test]
    fn a_short_buffer_is_refused_and_left_alone() {
        let net: Tiny = Tiny::seeded(3);
        let mut buf = [7u8; 40];
        assert_eq!(
            save(&net, &mut buf),
            Err(FormatError::BufferTooSmall {
                needed: 32 + 13 * 4 + 8,
                available: 40
            })
        );
        assert_eq!(buf, [7u8; 40]);
    }

    #[test]
    fn a_short_prefix_of_the_magic_is_truncated_not_foreign() {
        let mut net: Tiny = Tiny::zeroed();
        assert_eq!(
            load(&mut net, b"SN"),
            Err(FormatError::Truncated {
                needed: 32,
                available: 2
            })
        );
        assert_eq!(
            load(&mut net, b"PK"),
            Err(FormatError::NotStaticnet { found: *b"PK\0\0" })
        );
    }
}
