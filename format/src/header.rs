//! The safetensors container: an 8-byte little-endian header length, a
//! JSON header, then the tensors' bytes.
//!
//! The header maps each tensor name to
//! `{"dtype": "F32", "shape": [16, 2], "data_offsets": [begin, end]}`,
//! offsets relative to the start of the data; an optional
//! `"__metadata__"` maps strings to strings. As the format's reference
//! implementation does, a header is accepted only if the tensors tile the
//! data exactly: sorted by offset, each starts where the previous one
//! ends, the first at 0 and the last at the end of the file, and each is
//! exactly as long as its shape and dtype say. So every byte of a valid
//! file belongs to exactly one tensor.

use super::dtype::Dtype;
use super::json::{self, Json};

/// The largest header accepted (the reference implementation's limit).
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// One tensor of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    /// Its name.
    pub name: String,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape (empty for a scalar).
    pub shape: Vec<usize>,
    /// Where its bytes start in the file.
    pub start: usize,
    /// Where its bytes end in the file.
    pub end: usize,
}

/// A file's header, checked against the file's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The tensors, in the order the header lists them.
    pub tensors: Vec<TensorInfo>,
    /// The `__metadata__` entries, in the order written.
    pub metadata: Vec<(String, String)>,
}

/// Why a file is not a valid safetensors file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// The file ends before `what` does.
    Truncated {
        /// What is cut off: the length prefix, the header or the data.
        what: &'static str,
        /// Bytes the file would need.
        needed: u64,
        /// Bytes it has.
        available: u64,
    },
    /// The header length is beyond [`MAX_HEADER_LEN`].
    TooLarge {
        /// The length in the file.
        len: u64,
    },
    /// The header is not UTF-8 JSON, or not a JSON object; `offset` is
    /// into the header text.
    Json {
        /// Byte offset into the header.
        offset: usize,
        /// What is wrong there.
        message: String,
    },
    /// A tensor entry is malformed or does not fit the data.
    Tensor {
        /// The tensor.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The data section is not tiled exactly by the tensors.
    Layout {
        /// What is wrong.
        message: String,
    },
}

/// Reads and checks the header of `file`.
pub fn parse(file: &[u8]) -> Result<Header, HeaderError> {
    let available = file.len() as u64;
    if file.len() < 8 {
        return Err(HeaderError::Truncated {
            what: "the 8-byte header length",
            needed: 8,
            available,
        });
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&file[..8]);
    let header_len = u64::from_le_bytes(len_bytes);
    if header_len > MAX_HEADER_LEN {
        return Err(HeaderError::TooLarge { len: header_len });
    }
    let data_start = 8 + header_len as usize;
    if file.len() < data_start {
        return Err(HeaderError::Truncated {
            what: "the JSON header",
            needed: data_start as u64,
            available,
        });
    }
    let text = core::str::from_utf8(&file[8..data_start]).map_err(|e| HeaderError::Json {
        offset: e.valid_up_to(),
        message: "the header is not valid UTF-8".to_string(),
    })?;
    let json = json::parse(text).map_err(|e| HeaderError::Json {
        offset: e.offset,
        message: e.message,
    })?;
    let Json::Object(members) = json else {
        return Err(HeaderError::Json {
            offset: text.len() - text.trim_start().len(),
            message: format!("the header is {}, expected an object", json.kind()),
        });
    };

    let mut tensors = Vec::with_capacity(members.len());
    let mut metadata = Vec::new();
    for (name, value) in members {
        if name == "__metadata__" {
            metadata = read_metadata(value)?;
        } else {
            tensors.push(read_tensor(name, value, data_start)?);
        }
    }
    check_layout(&tensors, data_start, file.len())?;
    Ok(Header { tensors, metadata })
}

fn read_metadata(value: Json<'_>) -> Result<Vec<(String, String)>, HeaderError> {
    let bad = |message: String| HeaderError::Tensor {
        name: "__metadata__".to_string(),
        message,
    };
    let Json::Object(entries) = value else {
        return Err(bad(format!(
            "is {}, expected an object of strings",
            value.kind()
        )));
    };
    entries
        .into_iter()
        .map(|(key, value)| match value {
            Json::String(s) => Ok((key, s)),
            other => Err(bad(format!(
                "entry \"{key}\" is {}, expected a string",
                other.kind()
            ))),
        })
        .collect()
}

fn read_tensor(
    name: String,
    value: Json<'_>,
    data_start: usize,
) -> Result<TensorInfo, HeaderError> {
    let bad = |message: String| HeaderError::Tensor {
        name: name.clone(),
        message,
    };
    let Json::Object(fields) = value else {
        return Err(bad(format!(
            "entry is {}, expected an object with dtype, shape and data_offsets",
            value.kind()
        )));
    };
    let (mut dtype, mut shape, mut offsets) = (None, None, None);
    for (key, value) in fields {
        match key.as_str() {
            "dtype" => dtype = Some(value),
            "shape" => shape = Some(value),
            "data_offsets" => offsets = Some(value),
            _ => return Err(bad(format!("unknown field \"{key}\""))),
        }
    }
    let dtype = match dtype {
        Some(Json::String(s)) => {
            Dtype::from_name(&s).ok_or_else(|| bad(format!("unknown dtype \"{s}\"")))?
        }
        Some(other) => return Err(bad(format!("dtype is {}, expected a string", other.kind()))),
        None => return Err(bad("has no dtype".to_string())),
    };
    let shape = match shape {
        Some(Json::Array(dims)) => dims
            .iter()
            .map(|d| {
                d.as_u64()
                    .and_then(|d| usize::try_from(d).ok())
                    .ok_or_else(|| bad("shape holds a value that is not a size".to_string()))
            })
            .collect::<Result<Vec<usize>, _>>()?,
        Some(other) => return Err(bad(format!("shape is {}, expected an array", other.kind()))),
        None => return Err(bad("has no shape".to_string())),
    };
    let (begin, end) = match offsets.as_ref() {
        Some(Json::Array(pair)) if pair.len() == 2 => match (pair[0].as_u64(), pair[1].as_u64()) {
            (Some(b), Some(e)) if b <= e => (b, e),
            _ => {
                return Err(bad(
                    "data_offsets must be two sizes [begin, end] with begin <= end".to_string(),
                ))
            }
        },
        Some(_) => {
            return Err(bad(
                "data_offsets must be two sizes [begin, end] with begin <= end".to_string(),
            ))
        }
        None => return Err(bad("has no data_offsets".to_string())),
    };
    let elements = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .and_then(|n| n.checked_mul(dtype.size()));
    let span = end - begin;
    if elements.map(|n| n as u64) != Some(span) {
        let what = match elements {
            Some(n) => format!("{n} bytes"),
            None => "more bytes than can be addressed".to_string(),
        };
        return Err(bad(format!(
            "shape {shape:?} of {} needs {what}, but data_offsets [{begin}, {end}] span {span}",
            dtype.name()
        )));
    }
    let to_file = |offset: u64| {
        usize::try_from(offset)
            .ok()
            .and_then(|o| o.checked_add(data_start))
    };
    let (Some(start), Some(end)) = (to_file(begin), to_file(end)) else {
        return Err(bad(
            "data_offsets are beyond what can be addressed".to_string()
        ));
    };
    Ok(TensorInfo {
        name,
        dtype,
        shape,
        start,
        end,
    })
}

/// Checks that the tensors tile `data_start..file_len` exactly.
fn check_layout(
    tensors: &[TensorInfo],
    data_start: usize,
    file_len: usize,
) -> Result<(), HeaderError> {
    let mut order: Vec<&TensorInfo> = tensors.iter().collect();
    order.sort_by_key(|t| (t.start, t.end));
    let mut at = data_start;
    for t in order {
        if t.start != at {
            let message = if t.start < at {
                format!(
                    "its bytes overlap another tensor's (it starts at data offset {})",
                    t.start - data_start
                )
            } else {
                format!(
                    "{} bytes before it belong to no tensor (it starts at data offset {})",
                    t.start - at,
                    t.start - data_start
                )
            };
            return Err(HeaderError::Tensor {
                name: t.name.clone(),
                message,
            });
        }
        at = t.end;
    }
    if at > file_len {
        return Err(HeaderError::Truncated {
            what: "the tensor data",
            needed: at as u64,
            available: file_len as u64,
        });
    }
    if at < file_len {
        return Err(HeaderError::Layout {
            message: format!(
                "{} bytes after the last tensor belong to no tensor",
                file_len - at
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'h>(header: &'h Header, name: &str) -> &'h TensorInfo {
        header.tensors.iter().find(|t| t.name == name).unwrap()
    }

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut f = (header.len() as u64).to_le_bytes().to_vec();
        f.extend_from_slice(header.as_bytes());
        f.extend_from_slice(data);
        f
    }

    #[test]
    fn reads_a_valid_file() {
        let h = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]},"a":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]}}"#;
        let f = file(h, &[0; 12]);
        let header = parse(&f).unwrap();
        assert_eq!(
            header.metadata,
            vec![("format".to_string(), "pt".to_string())]
        );
        let a = get(&header, "a");
        assert_eq!((a.dtype, a.shape.clone()), (Dtype::F32, vec![2, 1]));
        assert_eq!((a.start, a.end), (8 + h.len(), 16 + h.len()));
        assert_eq!(get(&header, "b").dtype, Dtype::F16);
    }

    #[test]
    fn scalars_and_empty_tensors_are_fine() {
        let h = r#"{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]}}"#;
        let header = parse(&file(h, &[0; 8])).unwrap();
        assert_eq!(header.tensors.len(), 2);
    }

    fn tensor_error(header: &str, data_len: usize) -> String {
        match parse(&file(header, &vec![0; data_len])) {
            Err(HeaderError::Tensor { name, message }) => format!("{name}: {message}"),
            other => panic!("{header}: {other:?}"),
        }
    }

    #[test]
    fn refuses_inconsistent_tensors() {
        let size = tensor_error(
            r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            8,
        );
        assert!(size.contains("needs 12 bytes"), "{size}");
        let gap = tensor_error(
            r#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        );
        assert!(gap.contains("4 bytes before it"), "{gap}");
        let overlap = tensor_error(
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            8,
        );
        assert!(overlap.starts_with("b: its bytes overlap"), "{overlap}");
        let dtype = tensor_error(
            r#"{"a":{"dtype":"F31","shape":[],"data_offsets":[0,4]}}"#,
            4,
        );
        assert!(dtype.contains("unknown dtype \"F31\""), "{dtype}");
        let field = tensor_error(
            r#"{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4],"x":1}}"#,
            4,
        );
        assert!(field.contains("unknown field \"x\""), "{field}");
        let huge = tensor_error(
            r#"{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
            8,
        );
        assert!(huge.contains("more bytes than can be addressed"), "{huge}");
    }

    #[test]
    fn refuses_files_cut_short_or_padded() {
        let h = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
        assert!(matches!(
            parse(&file(h, &[0; 7])),
            Err(HeaderError::Truncated { what: "the tensor data", needed, .. }) if needed == (16 + h.len()) as u64
        ));
        assert!(matches!(
            parse(&file(h, &[0; 9])),
            Err(HeaderError::Layout { .. })
        ));
        assert!(matches!(
            parse(&file(h, &[])[..20]),
            Err(HeaderError::Truncated {
                what: "the JSON header",
                ..
            })
        ));
        assert!(matches!(
            parse(&[1, 0, 0]),
            Err(HeaderError::Truncated { needed: 8, .. })
        ));
        assert!(matches!(
            parse(&u64::MAX.to_le_bytes()),
            Err(HeaderError::TooLarge { len: u64::MAX })
        ));
    }

    #[test]
    fn refuses_headers_that_are_not_json_objects() {
        assert!(matches!(
            parse(&file("[1] ", &[])),
            Err(HeaderError::Json { offset: 0, .. })
        ));
        assert!(matches!(
            parse(&file("{\"a\" ", &[])),
            Err(HeaderError::Json { offset: 5, .. })
        ));
        let mut bad_utf8 = file("{\"\u{e9}\":1}", &[]);
        bad_utf8[10] = 0xff;
        assert!(matches!(
            parse(&bad_utf8),
            Err(HeaderError::Json { offset: 2, .. })
        ));
    }
}
