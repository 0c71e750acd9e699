//! Any safetensors file, tensor by tensor.

use super::format::dtype::{float_at, Dtype};
use super::format::header::{self, Header};
use super::SafetensorsError;
use crate::Scalar;

/// A checked safetensors file: every tensor's entry is well formed and the
/// tensors tile the data exactly.
///
/// ```
/// use staticnet::io::safetensors::Tensors;
///
/// let bytes = std::fs::read("tests/fixtures/w1_io.safetensors").unwrap();
/// let file = Tensors::parse(&bytes).unwrap();
/// let inputs = file.get("inputs").unwrap();
/// assert_eq!(inputs.shape[1], 2);
/// let values: Vec<f32> = inputs.to_vec().unwrap();
/// assert_eq!(values.len(), inputs.shape[0] * 2);
/// ```
#[derive(Clone, Debug)]
pub struct Tensors<'a> {
    bytes: &'a [u8],
    header: Header,
}

/// One tensor of a [`Tensors`].
#[derive(Clone, Copy, Debug)]
pub struct TensorView<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its element type.
    pub dtype: Dtype,
    /// Its shape.
    pub shape: &'a [usize],
    /// Its bytes, little-endian.
    pub data: &'a [u8],
}

impl<'a> Tensors<'a> {
    /// Reads and checks the header of `bytes`.
    ///
    /// # Errors
    ///
    /// [`SafetensorsError::Truncated`], [`SafetensorsError::HeaderTooLarge`],
    /// [`SafetensorsError::Header`], [`SafetensorsError::TensorEntry`] or
    /// [`SafetensorsError::Layout`] for a file that is not valid.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, SafetensorsError> {
        let header = header::parse(bytes)?;
        Ok(Tensors { bytes, header })
    }

    /// The number of tensors.
    pub fn len(&self) -> usize {
        self.header.tensors.len()
    }

    /// Whether the file holds no tensor.
    pub fn is_empty(&self) -> bool {
        self.header.tensors.is_empty()
    }

    /// Every tensor, in the order the header lists them.
    pub fn iter(&self) -> impl Iterator<Item = TensorView<'_>> + '_ {
        (0..self.len()).map(|i| self.view(i))
    }

    /// The tensor called `name`.
    pub fn get(&self, name: &str) -> Option<TensorView<'_>> {
        self.position(name).map(|i| self.view(i))
    }

    /// The `__metadata__` entries.
    pub fn metadata(&self) -> &[(String, String)] {
        &self.header.metadata
    }

    pub(super) fn position(&self, name: &str) -> Option<usize> {
        self.header.tensors.iter().position(|t| t.name == name)
    }

    pub(super) fn view(&self, i: usize) -> TensorView<'_> {
        let t = &self.header.tensors[i];
        TensorView {
            name: &t.name,
            dtype: t.dtype,
            shape: &t.shape,
            data: &self.bytes[t.start..t.end],
        }
    }
}

impl TensorView<'_> {
    /// The number of elements.
    pub fn len(&self) -> usize {
        self.data.len() / self.dtype.size()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Element `i` (row-major) as `T`: exact from `F16`, `BF16` and `F32`
    /// (and from `F64` into `f64`), rounded to nearest from `F64` into
    /// `f32`. `None` for a dtype that is not a float.
    ///
    /// # Panics
    ///
    /// If `i` is not below [`TensorView::len`].
    pub fn value<T: Scalar>(&self, i: usize) -> Option<T> {
        float_at(self.dtype, self.data, i).map(T::from_f64)
    }

    /// Every element as `T`, converted as [`TensorView::value`].
    ///
    /// # Errors
    ///
    /// [`SafetensorsError::WrongDtype`] if the tensor is not F32, F64,
    /// F16 or BF16.
    pub fn to_vec<T: Scalar>(&self) -> Result<Vec<T>, SafetensorsError> {
        if !self.dtype.is_float() {
            return Err(SafetensorsError::WrongDtype {
                name: self.name.to_string(),
                found: self.dtype.name(),
            });
        }
        Ok((0..self.len()).filter_map(|i| self.value::<T>(i)).collect())
    }
}
