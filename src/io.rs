//! Saving and loading parameters in the safetensors format (the format of Hugging Face and of
//! `safetensors.torch.save_file(model.state_dict(), ...)`).
//!
//! Tensors are named by field path (`l1.weight`), stored little-endian as `F32` or `F64`, row-major —
//! the same names and layout as a PyTorch `state_dict` of a module with the same attribute names, so a
//! file written by PyTorch loads here and the other way round.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use safetensors::{Dtype, SafeTensors, View};

use crate::error::{Error, ErrorKind, dims_str};
use crate::{Element, Module, Shape, Tensor};

/// One tensor on its way into a safetensors buffer.
pub(crate) struct Out {
    pub(crate) dtype: Dtype,
    pub(crate) shape: Vec<usize>,
    pub(crate) bytes: Vec<u8>,
}

impl View for &Out {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

pub(crate) fn dtype_of<E: Element>() -> Dtype {
    if E::NAME == "f32" {
        Dtype::F32
    } else {
        Dtype::F64
    }
}

pub(crate) fn dtype_name(d: Dtype) -> String {
    format!("{d:?}").to_lowercase()
}

pub(crate) fn to_le_bytes<E: Element>(values: &[E]) -> Vec<u8> {
    let mut out = Vec::with_capacity(size_of_val(values));
    for v in values {
        // Exact: an f32 converts to f64 and back without change.
        let x = v.to_f64().unwrap_or(f64::NAN);
        if E::NAME == "f32" {
            #[allow(clippy::cast_possible_truncation)]
            out.extend_from_slice(&(x as f32).to_le_bytes());
        } else {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

pub(crate) fn from_le_bytes<E: Element>(bytes: &[u8]) -> Vec<E> {
    if E::NAME == "f32" {
        bytes
            .chunks_exact(4)
            .map(|c| E::from_f64_lossy(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))))
            .collect()
    } else {
        bytes
            .chunks_exact(8)
            .map(|c| {
                E::from_f64_lossy(f64::from_le_bytes([
                    c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                ]))
            })
            .collect()
    }
}

pub(crate) fn to_safetensors<M: Module + ?Sized>(model: &M) -> Vec<u8> {
    let mut tensors: Vec<(String, Out)> = Vec::new();
    model.visit(&mut String::new(), &mut |name, values, dims| {
        tensors.push((
            name.to_owned(),
            Out {
                dtype: dtype_of::<M::Elem>(),
                shape: dims.to_vec(),
                bytes: to_le_bytes(values),
            },
        ));
    });
    let views = tensors.iter().map(|(name, out)| (name.as_str(), out));
    safetensors::serialize(views, None)
        .expect("parameter names are unique and every buffer matches its shape")
}

pub(crate) fn load_safetensors<M: Module + ?Sized>(
    model: &mut M,
    bytes: &[u8],
) -> Result<(), Error> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| format_error(bytes, &e))?;
    let mut stored: HashMap<String, safetensors::tensor::TensorView<'_>> =
        file.tensors().into_iter().collect();
    // Check everything before changing anything.
    let mut loaded: Vec<Vec<M::Elem>> = Vec::new();
    let mut error: Option<Error> = None;
    model.visit(&mut String::new(), &mut |name, _, dims| {
        if error.is_some() {
            return;
        }
        let Some(view) = stored.remove(name) else {
            error = Some(Error::new(
                ErrorKind::Missing,
                format!("tensor `{name}` is missing from the file"),
            ));
            return;
        };
        if view.dtype() != dtype_of::<M::Elem>() {
            error = Some(Error::new(
                ErrorKind::Dtype,
                format!(
                    "tensor `{name}` is {} in the file, the model needs {}",
                    dtype_name(view.dtype()),
                    M::Elem::NAME
                ),
            ));
            return;
        }
        if view.shape() != dims {
            error = Some(Error::new(
                ErrorKind::Shape,
                format!(
                    "tensor `{name}` has shape {} in the file, the model needs {}",
                    dims_str(view.shape()),
                    dims_str(dims)
                ),
            ));
            return;
        }
        let numel: usize = dims.iter().product();
        if view.data().len() != numel * size_of::<M::Elem>() {
            error = Some(Error::new(
                ErrorKind::Format,
                format!(
                    "tensor `{name}` holds {} bytes, its shape needs {}",
                    view.data().len(),
                    numel * size_of::<M::Elem>()
                ),
            ));
            return;
        }
        loaded.push(from_le_bytes(view.data()));
    });
    if let Some(e) = error {
        return Err(e);
    }
    if let Some(extra) = stored.keys().min() {
        return Err(Error::new(
            ErrorKind::Unexpected,
            format!(
                "the file has a tensor `{extra}` that the model does not ({} unexpected in all)",
                stored.len()
            ),
        ));
    }
    let mut next = loaded.into_iter();
    model.visit_mut(&mut String::new(), &mut |_, values, _| {
        let data = next.next().expect("one loaded tensor per parameter");
        values.copy_from_slice(&data);
    });
    Ok(())
}

/// Why `bytes` are not safetensors, with the sizes found: the buffer is 8 bytes of header length,
/// the JSON header, then the data.
pub(crate) fn format_error(bytes: &[u8], e: &safetensors::SafeTensorError) -> Error {
    let len = bytes.len();
    let message = match bytes.first_chunk::<8>().map(|n| u64::from_le_bytes(*n)) {
        None => format!(
            "not a valid safetensors buffer: {len} bytes, fewer than the 8 that give the header's \
             length"
        ),
        Some(n) if n > (len - 8) as u64 => format!(
            "not a valid safetensors buffer: the header's length is {n} bytes, but {} bytes follow \
             it",
            len - 8
        ),
        Some(n) => format!(
            "not a valid safetensors buffer: {} (a header of {n} bytes in {len} bytes)",
            lower(&e.to_string())
        ),
    };
    Error::new(ErrorKind::Format, message)
}

pub(crate) fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(path, bytes).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot write {}: {}", path.display(), lower(&e.to_string())),
        )
    })
}

pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| {
        Error::new(
            ErrorKind::Io,
            format!("cannot read {}: {}", path.display(), lower(&e.to_string())),
        )
    })
}

/// Another library's error message, lowercased at the start like the crate's own.
fn lower(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_lowercase().chain(chars).collect())
}

impl<S: Shape, E: Element> Tensor<S, E> {
    /// Reads the tensor called `name` from a safetensors buffer (as written by
    /// [`Module::to_safetensors`], whose lone tensor is called `""`, or by PyTorch). Its sizes fill
    /// the shape's run-time dimensions; its static ones must match.
    ///
    /// # Errors
    /// [`ErrorKind::Format`] when the buffer is not safetensors, [`ErrorKind::Missing`] when it has no
    /// tensor `name`, [`ErrorKind::Dtype`] for another element type, [`ErrorKind::Shape`] when the
    /// sizes do not fit the shape type (naming both).
    ///
    /// ```
    /// use shaped::{Const, Module, Tensor};
    /// let rows: Tensor<(usize, Const<2>)> = Tensor::from_vec_with((3, Const), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
    /// let bytes = rows.to_safetensors();
    /// let back = Tensor::<(usize, Const<2>)>::from_safetensors(&bytes, "")?;
    /// assert_eq!(back, rows);
    /// let err = Tensor::<(usize, Const<3>)>::from_safetensors(&bytes, "").unwrap_err();
    /// assert_eq!(err.to_string(), "tensor `` has shape [3, 2] in the file, which does not fit the shape type (usize, Const<3>)");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_safetensors(bytes: &[u8], name: &str) -> Result<Self, Error> {
        let file = SafeTensors::deserialize(bytes).map_err(|e| format_error(bytes, &e))?;
        let view = file.tensor(name).map_err(|_| {
            Error::new(
                ErrorKind::Missing,
                format!("tensor `{name}` is missing from the file"),
            )
        })?;
        if view.dtype() != dtype_of::<E>() {
            return Err(Error::new(
                ErrorKind::Dtype,
                format!(
                    "tensor `{name}` is {} in the file, the tensor needs {}",
                    dtype_name(view.dtype()),
                    E::NAME
                ),
            ));
        }
        let shape = S::from_dims(view.shape()).ok_or_else(|| {
            Error::new(
                ErrorKind::Shape,
                format!(
                    "tensor `{name}` has shape {} in the file, which does not fit the shape type {}",
                    dims_str(view.shape()),
                    crate::tensor::shape_type_name::<S>()
                ),
            )
        })?;
        Tensor::from_vec_with(shape, from_le_bytes(view.data()))
    }

    /// Reads the tensor called `name` from a safetensors file; see
    /// [`from_safetensors`](Tensor::from_safetensors).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read, and every error of `from_safetensors`.
    pub fn from_file(path: impl AsRef<Path>, name: &str) -> Result<Self, Error> {
        Self::from_safetensors(&read_file(path.as_ref())?, name)
    }
}
