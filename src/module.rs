//! [`Module`]: a model's parameters as a typed tree, with gradients of the same shape.
//!
//! A model is a plain struct of tensors and layers with `#[derive(Module)]`. The derive writes a second
//! struct, `<Name>Grads`, with the same fields and the same types, and implements [`Module`] for both.
//! From there come the parameter list, save and load, and the optimizers: an optimizer's `step` takes
//! the model and gradients *of that model's type*, so gradients of another model, or a missing one, do
//! not compile.
//!
//! ```
//! use shaped::nn::Linear;
//! use shaped::{Module, Rank1, Tensor};
//!
//! #[derive(Module)]
//! struct Scorer {
//!     embed: Linear<4, 8>,
//!     scale: Tensor<Rank1<8>>,
//!     #[module(skip)]
//!     name: String,
//! }
//!
//! let mut rng = shaped::rand::rngs::StdRng::seed_from_u64(0);
//! # use shaped::rand::SeedableRng;
//! let model = Scorer { embed: Linear::new(&mut rng), scale: Tensor::ones(), name: "demo".into() };
//! assert_eq!(model.param_count(), 4 * 8 + 8 + 8);
//! let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
//! assert_eq!(names, ["embed.weight", "embed.bias", "scale"]);
//!
//! // The gradients mirror the model: same field names, same tensor types.
//! let g: ScorerGrads = model.zeros_like();
//! let w: &Tensor<shaped::Rank2<8, 4>> = &g.embed.weight;
//! assert_eq!(w.sum().item(), 0.0);
//! ```

use core::fmt;

use crate::{Element, Error, Grads, NoTape, Shape, Tensor};

/// The visitor of [`Module::visit`]: `f(name, values, dims)`.
pub type Visit<'a, E> = dyn FnMut(&str, &[E], &'static [usize]) + 'a;
/// The visitor of [`Module::visit_mut`]: `f(name, values, dims)`.
pub type VisitMut<'a, E> = dyn FnMut(&str, &mut [E], &'static [usize]) + 'a;
/// The visitor of [`Module::zip_mut`]: `f(mine, theirs)`.
pub type ZipMut<'a, E> = dyn FnMut(&mut [E], &[E]) + 'a;

/// The name and dimensions of one parameter tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    /// The path of the field, segments joined with `.` (`l1.weight`), as in a PyTorch `state_dict`.
    pub name: String,
    /// The dimensions.
    pub dims: &'static [usize],
}

/// A tree of parameter tensors: a tensor, a layer, or a struct with `#[derive(Module)]`.
///
/// Implement it with the derive; the methods are the visitors that the derive generates, and the
/// provided methods build on them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a `Module`",
    label = "neither a tensor nor a module with parameters (a layer, a struct with `#[derive(Module)]`)",
    note = "a field without parameters (an activation, a setting) is marked `#[module(skip)]`"
)]
pub trait Module: Send + Sync + 'static {
    /// The element type of every parameter.
    type Elem: Element;

    /// The gradients: the same tree with the same tensor types (`LinearGrads` for `Linear`,
    /// `<Name>Grads` for a derived struct, the tensor type itself for a tensor).
    type Grads: Module<Elem = Self::Elem, Grads = Self::Grads> + Clone + fmt::Debug;

    /// Calls `f(name, values, dims)` for every parameter tensor, in field order. `path` is the prefix
    /// of the names (empty at the root); it is restored before returning.
    fn visit(&self, path: &mut String, f: &mut Visit<'_, Self::Elem>);

    /// Like [`visit`](Module::visit), with the values mutable (loading, in-place updates).
    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, Self::Elem>);

    /// Walks this tree and `other` (of the gradient type) together, calling `f(mine, theirs)` for each
    /// pair of tensors. Optimizers update parameters with it; on gradients it accumulates.
    fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, Self::Elem>);

    /// Reads this model's gradients out of a backward pass's [`Grads`], one typed tensor per parameter
    /// (zeros for a parameter the loss did not use).
    #[must_use]
    fn grads(&self, grads: &Grads<Self::Elem>) -> Self::Grads;

    /// Gradients of this model's shape, all zeros (a start for accumulating over several batches).
    #[must_use]
    fn zeros_like(&self) -> Self::Grads;

    /// The number of scalar parameters.
    #[must_use]
    fn param_count(&self) -> usize {
        let mut n = 0;
        self.visit(&mut String::new(), &mut |_, v, _| n += v.len());
        n
    }

    /// The parameter tensors' names and dimensions, in field order.
    #[must_use]
    fn params(&self) -> Vec<ParamInfo> {
        let mut out = Vec::new();
        self.visit(&mut String::new(), &mut |name, _, dims| {
            out.push(ParamInfo {
                name: name.to_owned(),
                dims,
            });
        });
        out
    }

    /// The parameters in the safetensors format, each tensor named by its field path.
    #[must_use]
    fn to_safetensors(&self) -> Vec<u8> {
        crate::io::to_safetensors(self)
    }

    /// Replaces the parameters with those in a safetensors buffer. All or nothing: on any error the
    /// model is left exactly as it was.
    ///
    /// # Errors
    /// The buffer is not safetensors ([`ErrorKind::Format`](crate::ErrorKind::Format)); a parameter
    /// is missing ([`Missing`](crate::ErrorKind::Missing)); the buffer has a tensor the model does not
    /// ([`Unexpected`](crate::ErrorKind::Unexpected)); a tensor has another shape
    /// ([`Shape`](crate::ErrorKind::Shape)) or element type ([`Dtype`](crate::ErrorKind::Dtype)).
    /// Each message names the tensor and both shapes or types.
    fn load_safetensors(&mut self, bytes: &[u8]) -> Result<(), Error> {
        crate::io::load_safetensors(self, bytes)
    }

    /// Writes the parameters to a safetensors file.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be written.
    fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error>
    where
        Self: Sized,
    {
        crate::io::write_file(path.as_ref(), &self.to_safetensors())
    }

    /// Replaces the parameters with those of a safetensors file, all or nothing (see
    /// [`load_safetensors`](Module::load_safetensors)).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read, and every error of
    /// [`load_safetensors`](Module::load_safetensors).
    fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), Error>
    where
        Self: Sized,
    {
        let bytes = crate::io::read_file(path.as_ref())?;
        self.load_safetensors(&bytes)
    }
}

/// Appends a segment to a parameter path, returning the length to truncate back to.
#[doc(hidden)]
pub fn push_segment(path: &mut String, segment: &str) -> usize {
    let len = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
    len
}

impl<S: Shape, E: Element> Module for Tensor<S, E, NoTape> {
    type Elem = E;
    type Grads = Tensor<S, E>;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
        f(path, self.as_slice(), S::DIMS);
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
        f(path, self.as_mut_slice(), S::DIMS);
    }

    fn zip_mut(&mut self, other: &Self, f: &mut ZipMut<'_, E>) {
        f(self.as_mut_slice(), other.as_slice());
    }

    fn grads(&self, grads: &Grads<E>) -> Self {
        grads.get(self)
    }

    fn zeros_like(&self) -> Self {
        Tensor::zeros()
    }
}

/// An optional part (a layer's bias): its parameters when present.
impl<M: Module> Module for Option<M> {
    type Elem = M::Elem;
    type Grads = Option<M::Grads>;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, M::Elem>) {
        if let Some(m) = self {
            m.visit(path, f);
        }
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, M::Elem>) {
        if let Some(m) = self {
            m.visit_mut(path, f);
        }
    }

    fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, M::Elem>) {
        if let (Some(m), Some(o)) = (self, other) {
            m.zip_mut(o, f);
        }
    }

    fn grads(&self, grads: &Grads<M::Elem>) -> Self::Grads {
        self.as_ref().map(|m| m.grads(grads))
    }

    fn zeros_like(&self) -> Self::Grads {
        self.as_ref().map(Module::zeros_like)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rank1, Rank2, Tape};

    #[test]
    fn a_tensor_is_a_module_of_one_parameter() {
        let mut w: Tensor<Rank2<2, 3>> = Tensor::ones();
        assert_eq!(w.param_count(), 6);
        assert_eq!(
            w.params(),
            vec![ParamInfo {
                name: String::new(),
                dims: &[2, 3]
            }]
        );
        let g: Tensor<Rank2<2, 3>> = Tensor::full(0.5);
        w.zip_mut(&g, &mut |p, g| {
            for (p, g) in p.iter_mut().zip(g) {
                *p -= g;
            }
        });
        assert_eq!(w.to_vec(), vec![0.5; 6]);
    }

    #[test]
    fn optional_parts_count_only_when_present() {
        let some: Option<Tensor<Rank1<4>>> = Some(Tensor::zeros());
        let none: Option<Tensor<Rank1<4>>> = None;
        assert_eq!(some.param_count(), 4);
        assert_eq!(none.param_count(), 0);
        assert!(none.zeros_like().is_none());
    }

    #[test]
    fn grads_read_the_tape_with_the_parameters_types() {
        let w: Tensor<Rank1<2>, f64> = Tensor::from([1.0, 2.0]);
        let tape = Tape::new();
        let g = (tape.input(&Tensor::from([3.0, 4.0])) * &w)
            .sum()
            .backward();
        let gw: Tensor<Rank1<2>, f64> = w.grads(&g);
        assert_eq!(gw.to_vec(), vec![3.0, 4.0]);
    }
}
