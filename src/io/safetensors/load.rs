//! Loading a network's parameters from safetensors.

use super::format::dtype::Dtype;
use super::{SafetensorsError, TensorNames, TensorView, Tensors};
use crate::architecture::{dense_layers, Architecture, DenseLayout};
use crate::{Network, Scalar};
use std::path::Path;

/// How [`load_with`] reads a file.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions<'a> {
    /// The tensor names; `None` for [`TensorNames::sequential`].
    pub names: Option<&'a TensorNames>,
    /// Refuse a file with tensors no layer uses (as PyTorch's
    /// `load_state_dict(strict=True)`); when `false` they are listed in
    /// [`LoadReport::unused`]. Default `true`.
    pub strict: bool,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        LoadOptions {
            names: None,
            strict: true,
        }
    }
}

/// What a successful load found besides the parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Tensors of the file no layer uses (non-strict loading), in the
    /// order the file lists them.
    pub unused: Vec<String>,
    /// Tensors whose dtype is not the network's scalar type, and so were
    /// converted: from F16 and BF16 exactly, from F64 into `f32` by
    /// rounding to nearest.
    pub converted: Vec<(String, Dtype)>,
}

/// Loads `net`'s parameters from the safetensors `bytes`, with PyTorch's
/// `nn.Sequential` names, strictly.
///
/// # Errors
///
/// See [`load_with`]; `net` is untouched on error.
pub fn load<A: Architecture, T: Scalar>(
    net: &mut Network<A, T>,
    bytes: &[u8],
) -> Result<LoadReport, SafetensorsError> {
    load_with(net, bytes, &LoadOptions::default())
}

/// Loads `net`'s parameters from the safetensors `bytes`.
///
/// Each weight is PyTorch's `[out, in]` matrix and is transposed into
/// storage order; `F32`, `F64`, `F16` and `BF16` tensors are converted to
/// the network's scalar type.
///
/// # Errors
///
/// The first problem found, naming the tensor: an invalid file
/// ([`SafetensorsError::Truncated`], [`SafetensorsError::Header`], …),
/// names that do not fit the network, then layer by layer
/// [`SafetensorsError::MissingTensor`], [`SafetensorsError::WrongDtype`]
/// and [`SafetensorsError::WrongShape`], and, when strict,
/// [`SafetensorsError::UnexpectedTensors`]. Everything is checked before
/// anything is written, so `net` is untouched on error.
pub fn load_with<A: Architecture, T: Scalar>(
    net: &mut Network<A, T>,
    bytes: &[u8],
    options: &LoadOptions<'_>,
) -> Result<LoadReport, SafetensorsError> {
    let file = Tensors::parse(bytes)?;
    let default_names;
    let names = match options.names {
        Some(names) => names,
        None => {
            default_names = TensorNames::sequential::<A>();
            &default_names
        }
    };
    names.check::<A>()?;

    // Find and check every tensor first.
    let mut used = vec![false; file.len()];
    let mut plan: Vec<(&DenseLayout, TensorView<'_>, Option<TensorView<'_>>)> = Vec::new();
    for (layout, layer) in dense_layers::<A>().zip(names.layers()) {
        let weight = find(
            &file,
            &mut used,
            &layer.weight,
            &[layout.outputs, layout.inputs],
        )?;
        let bias = match &layer.bias {
            Some(name) => Some(find(&file, &mut used, name, &[layout.outputs])?),
            None => None,
        };
        plan.push((layout, weight, bias));
    }
    let unused: Vec<String> = file
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(t, _)| t.name.to_string())
        .collect();
    if options.strict && !unused.is_empty() {
        return Err(SafetensorsError::UnexpectedTensors { names: unused });
    }

    // Nothing can fail from here on.
    let own = if core::mem::size_of::<T>() == 4 {
        Dtype::F32
    } else {
        Dtype::F64
    };
    let mut converted = Vec::new();
    let params = net.params_mut();
    for (layout, weight, bias) in plan {
        for o in 0..layout.outputs {
            for i in 0..layout.inputs {
                if let Some(v) = weight.value(o * layout.inputs + i) {
                    params[layout.weight_index(o, i)] = v;
                }
            }
        }
        if weight.dtype != own {
            converted.push((weight.name.to_string(), weight.dtype));
        }
        if let (Some(bias), Some(offset)) = (bias, layout.bias_offset) {
            for (o, p) in params[offset..offset + layout.outputs]
                .iter_mut()
                .enumerate()
            {
                if let Some(v) = bias.value(o) {
                    *p = v;
                }
            }
            if bias.dtype != own {
                converted.push((bias.name.to_string(), bias.dtype));
            }
        }
    }
    Ok(LoadReport { unused, converted })
}

/// The tensor `name`, checked to be a float tensor of shape `expected`,
/// and marked used.
fn find<'f>(
    file: &'f Tensors<'_>,
    used: &mut [bool],
    name: &str,
    expected: &[usize],
) -> Result<TensorView<'f>, SafetensorsError> {
    let Some(i) = file.position(name) else {
        return Err(SafetensorsError::MissingTensor {
            name: name.to_string(),
            expected_shape: expected.to_vec(),
        });
    };
    let t = file.view(i);
    if !t.dtype.is_float() {
        return Err(SafetensorsError::WrongDtype {
            name: name.to_string(),
            found: t.dtype.name(),
        });
    }
    if t.shape != expected {
        return Err(SafetensorsError::WrongShape {
            name: name.to_string(),
            expected: expected.to_vec(),
            found: t.shape.to_vec(),
        });
    }
    used[i] = true;
    Ok(t)
}

/// [`load`] from the file at `path`.
///
/// # Errors
///
/// [`SafetensorsError::Io`] if the file cannot be read, otherwise as
/// [`load`].
pub fn load_file<A: Architecture, T: Scalar>(
    net: &mut Network<A, T>,
    path: impl AsRef<Path>,
) -> Result<LoadReport, SafetensorsError> {
    load_file_with(net, path, &LoadOptions::default())
}

/// [`load_with`] from the file at `path`.
///
/// # Errors
///
/// [`SafetensorsError::Io`] if the file cannot be read, otherwise as
/// [`load_with`].
pub fn load_file_with<A: Architecture, T: Scalar>(
    net: &mut Network<A, T>,
    path: impl AsRef<Path>,
    options: &LoadOptions<'_>,
) -> Result<LoadReport, SafetensorsError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    load_with(net, &bytes, options)
}

pub(super) fn io_error(path: &Path, e: std::io::Error) -> SafetensorsError {
    SafetensorsError::Io {
        path: path.to_path_buf(),
        kind: e.kind(),
        message: e.to_string(),
    }
}
