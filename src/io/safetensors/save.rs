//! Saving a network's parameters as safetensors, for PyTorch.

use super::load::io_error;
use super::{SafetensorsError, TensorNames};
use crate::architecture::{dense_layers, Architecture};
use crate::io::bytes::scalars::write_le;
use crate::{Network, Scalar};
use std::fmt::Write as _;
use std::path::Path;

/// `net`'s parameters as a safetensors file with PyTorch's `nn.Sequential`
/// names ([`TensorNames::sequential`]); `torch` reads it with
/// `model.load_state_dict(safetensors.torch.load_file(path))`.
///
/// Weights are written in PyTorch's `[out, in]` order, as `F32` or `F64`
/// after the network's scalar type.
pub fn save<A: Architecture, T: Scalar>(net: &Network<A, T>) -> Vec<u8> {
    encode(net, &TensorNames::sequential::<A>())
}

/// [`save`] with other tensor names.
///
/// # Errors
///
/// [`SafetensorsError::Names`] or [`SafetensorsError::DuplicateName`] if
/// `names` do not fit the network.
pub fn save_with<A: Architecture, T: Scalar>(
    net: &Network<A, T>,
    names: &TensorNames,
) -> Result<Vec<u8>, SafetensorsError> {
    names.check::<A>()?;
    Ok(encode(net, names))
}

/// [`save`] into the file at `path`.
///
/// # Errors
///
/// [`SafetensorsError::Io`] if the file cannot be written.
pub fn save_file<A: Architecture, T: Scalar>(
    net: &Network<A, T>,
    path: impl AsRef<Path>,
) -> Result<(), SafetensorsError> {
    let path = path.as_ref();
    std::fs::write(path, save(net)).map_err(|e| io_error(path, e))
}

/// The file for `names`, which fit `A`.
fn encode<A: Architecture, T: Scalar>(net: &Network<A, T>, names: &TensorNames) -> Vec<u8> {
    let size = core::mem::size_of::<T>();
    let dtype = if size == 4 { "F32" } else { "F64" };
    let params = net.params();

    // The data: each weight transposed to [out][in], then its bias.
    let mut data: Vec<T> = Vec::with_capacity(params.len());
    let mut header = String::from("{");
    let mut entry = |name: &str, shape: &[usize], begin: usize, end: usize| {
        if header.len() > 1 {
            header.push(',');
        }
        json_string(&mut header, name);
        let _ = write!(
            header,
            r#":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{},{}]}}"#,
            begin * size,
            end * size
        );
    };
    for (d, layer) in dense_layers::<A>().zip(names.layers()) {
        let begin = data.len();
        for o in 0..d.outputs {
            data.extend((0..d.inputs).map(|i| params[d.weight_index(o, i)]));
        }
        entry(&layer.weight, &[d.outputs, d.inputs], begin, data.len());
        if let (Some(offset), Some(name)) = (d.bias_offset, &layer.bias) {
            let begin = data.len();
            data.extend_from_slice(&params[offset..offset + d.outputs]);
            entry(name, &[d.outputs], begin, data.len());
        }
    }
    header.push('}');
    // Pad with spaces so the data starts 8-byte aligned, as the reference
    // implementation does.
    while (header.len()) % 8 != 0 {
        header.push(' ');
    }

    let mut file = Vec::with_capacity(8 + header.len() + data.len() * size);
    file.extend_from_slice(&(header.len() as u64).to_le_bytes());
    file.extend_from_slice(header.as_bytes());
    let start = file.len();
    file.resize(start + data.len() * size, 0);
    write_le(&data, &mut file[start..]);
    file
}

/// Appends `s` as a JSON string literal.
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::format::json;
    use super::*;

    #[test]
    fn names_are_escaped_into_valid_json() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#""a\"b\\c\u000ad\u0001é""#);
        assert_eq!(
            json::parse(&out).unwrap(),
            json::Json::String("a\"b\\c\nd\u{1}é".to_string())
        );
    }
}
