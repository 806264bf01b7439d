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
use crate::module::{BufferMut, BufferRef};
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

pub(crate) fn dtype_name(d: Dtype) -> String {
    format!("{d:?}").to_lowercase()
}

pub(crate) fn to_safetensors<M: Module + ?Sized>(model: &M) -> Vec<u8> {
    let mut tensors: Vec<(String, Out)> = Vec::new();
    model.visit(&mut String::new(), &mut |name, values, dims| {
        tensors.push((
            name.to_owned(),
            Out {
                dtype: M::Elem::DTYPE,
                shape: dims.to_vec(),
                bytes: {
                    let mut bytes = Vec::new();
                    M::Elem::extend_le_bytes(values, &mut bytes);
                    bytes
                },
            },
        ));
    });
    model.visit_buffers(&mut String::new(), &mut |name, buffer| {
        let (dtype, shape, bytes) = match buffer {
            BufferRef::Values { values, dims } => {
                let mut bytes = Vec::new();
                M::Elem::extend_le_bytes(values, &mut bytes);
                (M::Elem::DTYPE, dims.to_vec(), bytes)
            }
            BufferRef::Count(n) => {
                let n = i64::try_from(n).expect("a count fits in an i64");
                (Dtype::I64, Vec::new(), n.to_le_bytes().to_vec())
            }
        };
        tensors.push((
            name.to_owned(),
            Out {
                dtype,
                shape,
                bytes,
            },
        ));
    });
    let views = tensors.iter().map(|(name, out)| (name.as_str(), out));
    safetensors::serialize(views, None)
        .expect("parameter names are unique and every buffer matches its shape")
}

/// How [`Module::load_safetensors_with`](crate::Module::load_safetensors_with) reads a file: the
/// key prefix of the part to load, and whether every parameter and every tensor must match.
///
/// ```
/// use shaped::LoadOptions;
/// let opts = LoadOptions::new().prefix("model.encoder.").strict(false);
/// assert_eq!(opts, LoadOptions { prefix: "model.encoder.".into(), strict: false });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadOptions {
    /// Only the file's tensors whose names start with this are read, with it stripped: a sub-model
    /// loads from `model.encoder.`; other tensors are ignored (not unexpected). Empty by default.
    pub prefix: String,
    /// Strict (the default): a parameter missing from the file, or a tensor of the file that the
    /// model does not have, is an error. Not strict: they are skipped and listed in the
    /// [`LoadReport`], as PyTorch's `load_state_dict(strict=False)`. A shape or element type that
    /// does not fit is an error either way.
    pub strict: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            prefix: String::new(),
            strict: true,
        }
    }
}

impl LoadOptions {
    /// Strict, without a prefix.
    ///
    /// ```
    /// use shaped::LoadOptions;
    /// let opts = LoadOptions::new();
    /// assert!(opts.strict && opts.prefix.is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads only the tensors under `prefix` (stripped of it); the others are ignored, even when
    /// strict.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{LoadOptions, Module, Tensor};
    ///
    /// #[derive(Module)]
    /// struct Net { head: Linear<2, 1>, tail: Linear<1, 1> }
    ///
    /// let net = Net { head: Linear::from_weights(Tensor::ones(), None), tail: Linear::zeros() };
    /// let mut head: Linear<2, 1> = Linear::from_weights(Tensor::zeros(), None);
    /// // `tail.weight` and `tail.bias` are not under `head.`: not unexpected.
    /// let report = head.load_safetensors_with(&net.to_safetensors(), &LoadOptions::new().prefix("head."))?;
    /// assert!(report.unexpected.is_empty());
    /// assert_eq!(head.weight.to_array(), [[1.0, 1.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Whether a missing or unexpected tensor is an error (`true`) or skipped and reported.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{ErrorKind, LoadOptions, Module, Tensor};
    /// let bytes = Linear::<2, 1>::from_weights(Tensor::ones(), None).to_safetensors();
    /// let mut layer: Linear<2, 1> = Linear::zeros(); // has a bias the file lacks
    /// let err = layer.load_safetensors_with(&bytes, &LoadOptions::new()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Missing);
    /// let report = layer.load_safetensors_with(&bytes, &LoadOptions::new().strict(false))?;
    /// assert_eq!(report.missing, ["bias"]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }
}

/// What a load skipped (only a non-strict one skips anything): the model's parameters that the file
/// does not have, and the file's tensors (under the prefix, without it) that the model does not.
///
/// ```
/// use shaped::nn::Linear;
/// use shaped::{LoadOptions, Module, Rank1, Tensor};
/// let bytes = Linear::<2, 1>::zeros().to_safetensors(); // `weight` and `bias`
/// let mut t: Tensor<Rank1<1>> = Tensor::ones(); // a lone tensor is named ``
/// let report = t.load_safetensors_with(&bytes, &LoadOptions::new().strict(false))?;
/// assert_eq!(report.missing, [""]);
/// assert_eq!(report.unexpected, ["bias", "weight"]); // sorted
/// # Ok::<(), shaped::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Parameters left as they were, by name.
    pub missing: Vec<String>,
    /// Tensors of the file that were not read, by name.
    pub unexpected: Vec<String>,
}

/// A tensor's values in the file converted to `E`: from its own type, or from `f16`/`bf16`.
fn decode<E: Element>(view: &safetensors::tensor::TensorView<'_>) -> Option<Vec<E>> {
    let bytes = view.data();
    if view.dtype() == E::DTYPE {
        return Some(E::from_le_slice(bytes));
    }
    let halves = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]));
    match view.dtype() {
        Dtype::F16 => Some(
            halves
                .map(|h| E::from_f64_lossy(f64::from(f16_to_f32(h))))
                .collect(),
        ),
        Dtype::BF16 => Some(
            halves
                .map(|h| E::from_f64_lossy(f64::from(f32::from_bits(u32::from(h) << 16))))
                .collect(),
        ),
        _ => None,
    }
}

/// An IEEE half-precision value, exactly, as an `f32`.
fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match exp {
        // zero or subnormal: frac * 2^-24, exact in f32
        0 => {
            let v = frac as f32 * (-24_f32).exp2();
            return if sign == 0 { v } else { -v };
        }
        // infinity or NaN (the payload kept)
        0x1f => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// The size of one element of a tensor in the file.
fn elem_size(dtype: Dtype) -> usize {
    match dtype {
        Dtype::F16 | Dtype::BF16 => 2,
        Dtype::F64 => 8,
        _ => 4,
    }
}

pub(crate) fn load_safetensors<M: Module + ?Sized>(
    model: &mut M,
    bytes: &[u8],
    options: &LoadOptions,
) -> Result<LoadReport, Error> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| format_error(bytes, &e))?;
    let mut stored: HashMap<String, safetensors::tensor::TensorView<'_>> = file
        .tensors()
        .into_iter()
        .filter_map(|(name, view)| Some((name.strip_prefix(&options.prefix)?.to_owned(), view)))
        .collect();
    // Check everything before changing anything, and note every problem.
    let mut loaded: Vec<Option<Vec<M::Elem>>> = Vec::new();
    let mut problems: Vec<Error> = Vec::new();
    let mut report = LoadReport::default();
    let full = |name: &str| format!("{}{name}", options.prefix);
    // The parameters, then the buffers' values; counts apart.
    let mut wanted: Vec<(String, Vec<usize>)> = Vec::new();
    let mut counts: Vec<String> = Vec::new();
    model.visit(&mut String::new(), &mut |name, _, dims| {
        wanted.push((name.to_owned(), dims.to_vec()));
    });
    model.visit_buffers(&mut String::new(), &mut |name, b| match b {
        BufferRef::Values { dims, .. } => wanted.push((name.to_owned(), dims.to_vec())),
        BufferRef::Count(_) => counts.push(name.to_owned()),
    });
    for (name, dims) in &wanted {
        let (name, dims) = (name.as_str(), dims.as_slice());
        let Some(view) = stored.remove(name) else {
            loaded.push(None);
            if options.strict {
                problems.push(Error::new(
                    ErrorKind::Missing,
                    format!("tensor `{}` is missing from the file", full(name)),
                ));
            } else {
                report.missing.push(name.to_owned());
            }
            continue;
        };
        loaded.push(None);
        if view.shape() != dims {
            problems.push(Error::new(
                ErrorKind::Shape,
                format!(
                    "tensor `{}` has shape {} in the file, the model needs {}",
                    full(name),
                    dims_str(view.shape()),
                    dims_str(dims)
                ),
            ));
            continue;
        }
        let numel: usize = dims.iter().product();
        let Some(values) = decode::<M::Elem>(&view) else {
            problems.push(Error::new(
                ErrorKind::Dtype,
                format!(
                    "tensor `{}` is {} in the file, the model needs {}",
                    full(name),
                    dtype_name(view.dtype()),
                    M::Elem::NAME
                ),
            ));
            continue;
        };
        if values.len() != numel {
            problems.push(Error::new(
                ErrorKind::Format,
                format!(
                    "tensor `{}` holds {} bytes, its shape needs {}",
                    full(name),
                    view.data().len(),
                    numel * elem_size(view.dtype())
                ),
            ));
            continue;
        }
        *loaded.last_mut().expect("pushed above") = Some(values);
    }
    let mut loaded_counts: Vec<Option<u64>> = Vec::new();
    for name in &counts {
        loaded_counts.push(None);
        let Some(view) = stored.remove(name.as_str()) else {
            if options.strict {
                problems.push(Error::new(
                    ErrorKind::Missing,
                    format!("tensor `{}` is missing from the file", full(name)),
                ));
            } else {
                report.missing.push(name.clone());
            }
            continue;
        };
        let count = (view.dtype() == Dtype::I64 && view.shape().is_empty())
            .then(|| <[u8; 8]>::try_from(view.data()).ok())
            .flatten()
            .and_then(|b| u64::try_from(i64::from_le_bytes(b)).ok());
        match count {
            Some(n) => *loaded_counts.last_mut().expect("pushed above") = Some(n),
            None => problems.push(Error::new(
                ErrorKind::Dtype,
                format!(
                    "tensor `{}` is {} of shape {} in the file, the model needs a count: a \
                     non-negative i64 scalar",
                    full(name),
                    dtype_name(view.dtype()),
                    dims_str(view.shape())
                ),
            )),
        }
    }
    let mut unexpected: Vec<String> = stored.into_keys().collect();
    unexpected.sort();
    if options.strict && !unexpected.is_empty() {
        let message = if let [one] = unexpected.as_slice() {
            format!(
                "the file has a tensor `{}` that the model does not (1 unexpected in all)",
                full(one)
            )
        } else {
            let names: Vec<String> = unexpected
                .iter()
                .map(|n| format!("`{}`", full(n)))
                .collect();
            format!(
                "the file has {} tensors that the model does not: {}",
                unexpected.len(),
                names.join(", ")
            )
        };
        problems.push(Error::new(ErrorKind::Unexpected, message));
    } else {
        report.unexpected = unexpected;
    }
    if let Some(first) = problems.first() {
        if problems.len() == 1 {
            return Err(first.clone());
        }
        let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
        return Err(Error::new(
            first.kind(),
            format!(
                "cannot load the model: {} problems: {}",
                problems.len(),
                all.join("; ")
            ),
        ));
    }
    let mut next = loaded.into_iter();
    model.visit_mut(&mut String::new(), &mut |_, values, _| {
        if let Some(data) = next.next().expect("one entry per parameter") {
            values.copy_from_slice(&data);
        }
    });
    let mut next_count = loaded_counts.into_iter();
    model.visit_buffers_mut(&mut String::new(), &mut |_, b| match b {
        BufferMut::Values { values, .. } => {
            if let Some(data) = next.next().expect("one entry per buffer") {
                values.copy_from_slice(&data);
            }
        }
        BufferMut::Count(n) => {
            if let Some(v) = next_count.next().expect("one entry per count") {
                *n = v;
            }
        }
    });
    Ok(report)
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
    /// tensor `name`, [`ErrorKind::Dtype`] for an element type other than `E`, `f16` or `bf16`, [`ErrorKind::Shape`] when the
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
        let values = decode::<E>(&view).ok_or_else(|| {
            Error::new(
                ErrorKind::Dtype,
                format!(
                    "tensor `{name}` is {} in the file, the tensor needs {}",
                    dtype_name(view.dtype()),
                    E::NAME
                ),
            )
        })?;
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
        Tensor::from_vec_with(shape, values)
    }

    /// Reads the tensor called `name` from a safetensors file; see
    /// [`from_safetensors`](Tensor::from_safetensors).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read, and every error of `from_safetensors`.
    ///
    /// ```
    /// use shaped::{ErrorKind, Module, Rank1, Tensor};
    /// let path = std::env::temp_dir().join("shaped_doc_tensor_from_file.safetensors");
    /// Tensor::<Rank1<2>>::from([1.0, 2.0]).save(&path)?;
    /// let t = Tensor::<Rank1<2>>::from_file(&path, "")?;
    /// assert_eq!(t.to_vec(), vec![1.0, 2.0]);
    /// # std::fs::remove_file(&path).unwrap();
    /// let err = Tensor::<Rank1<2>>::from_file("no/such/file.safetensors", "").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Io);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>, name: &str) -> Result<Self, Error> {
        Self::from_safetensors(&read_file(path.as_ref())?, name)
    }
}
