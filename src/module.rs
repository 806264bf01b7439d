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
//!
//! # Frozen fields
//!
//! In a model generic over its tracking (`struct Net<T: Tracking<f32> = NoTape>`, see
//! [`Trainable`]), a field is put on the tape when its type uses `T`. A field whose type holds
//! parameters but does not use `T` would never get a gradient, so it must be marked
//! `#[module(frozen)]`; otherwise the model does not compile, with an error that names the field:
//!
//! ```text
//! error[E0277]: field `pos` holds parameters but its type does not use the tracking parameter `T`, so it would get no gradient: pass `T` to its type, or mark it `#[module(frozen)]`
//! ```
//!
//! A frozen field is a constant of the model (a fixed positional table, a mask, a pretrained
//! part): it is saved and loaded with the other parameters and listed by
//! [`frozen_params`](Module::frozen_params); it is cloned, not watched, when the model is put on a
//! tape (so its type is `Clone`), its gradient reads as zeros,
//! [`unused_params`](Module::unused_params) leaves it out, and no optimizer changes it, weight
//! decay and momentum included. Marking a field frozen whose type uses `T` does not compile
//! either. A field without parameters ([`Dropout`](crate::nn::Dropout)) needs no mark.
//!
//! ```
//! use shaped::nn::Linear;
//! use shaped::optim::{AdamW, Optimizer};
//! use shaped::{Module, NoTape, Rank1, Tensor, Tracking};
//!
//! #[derive(Module)]
//! struct Shifted<T: Tracking<f64> = NoTape> {
//!     #[module(frozen)]
//!     pos: Tensor<Rank1<2>, f64>, // a fixed offset added to the input
//!     head: Linear<2, 1, f64, T>,
//! }
//!
//! impl<T: Tracking<f64>> Shifted<T> {
//!     fn forward(&self, x: &Tensor<Rank1<2>, f64>) -> Tensor<Rank1<1>, f64, T> {
//!         self.head.forward(x.clone() + &self.pos)
//!     }
//! }
//!
//! let mut model = Shifted {
//!     pos: Tensor::from([1.0, -1.0]),
//!     head: Linear::from_weights(Tensor::from([[0.5, 0.5]]), None),
//! };
//! assert_eq!(model.frozen_params(), ["pos"]);
//! let x = Tensor::from([1.0, 2.0]); // x + pos = [2, 1]
//! let (loss, g) = model.value_and_grad(|m| m.forward(&x).sum());
//! assert_eq!(loss, 1.5); // w . (x + pos) = 0.5 * 2 + 0.5 * 1
//! assert_eq!(g.head.weight.to_array(), [[2.0, 1.0]]); // d/dw = x + pos
//! assert_eq!(g.pos.to_vec(), [0.0, 0.0]); // not on the tape: zeros
//!
//! let mut opt = AdamW::new(&model, 0.1).weight_decay(0.5);
//! opt.step(&mut model, &g);
//! assert_eq!(model.pos.to_vec(), [1.0, -1.0]); // not decayed, to the bit
//! // AdamW's first step: w (1 - lr wd) - lr g / (|g| + eps) = 0.5 * 0.95 - 0.1 (up to eps)
//! let w = model.head.weight.to_array()[0];
//! approx::assert_relative_eq!(w[..], [0.375, 0.375][..], epsilon = 1e-8);
//!
//! // Saved and loaded with the model.
//! let head = Linear::from_weights(Tensor::zeros(), None);
//! let mut back = Shifted { pos: Tensor::zeros(), head };
//! back.load_safetensors(&model.to_safetensors())?;
//! assert_eq!(back.pos.to_vec(), [1.0, -1.0]);
//! # Ok::<(), shaped::Error>(())
//! ```
//!
//! # Lists of blocks
//!
//! An array `[M; N]` or a `Vec<M>` of modules is a module, PyTorch's `nn.ModuleList`: the
//! parameters of every element in order, named by position (`blocks.0.w`, `blocks.1.w`, ...),
//! with gradients `[M::Grads; N]` or `Vec<M::Grads>`. As a field of a trainable model it is
//! written with `T` in its element type (`[Block<T>; 4]`, `Vec<Block<T>>`), and its
//! [`Forward`](crate::nn::Forward) runs the blocks in order, each on the previous one's output: a
//! stack of transformer blocks, the cells of an unrolled recurrence.
//!
//! A block's `Forward` takes an input of any tracking `X` that merges into its own, so that the
//! first block of a list on a tape takes an input off it:
//!
//! ```
//! use shaped::nn::Forward;
//! use shaped::{ErrorKind, Merge, Module, NoTape, Rank1, Tensor, Tracking};
//!
//! /// `x * w + 1`, elementwise.
//! #[derive(Module, Clone)]
//! struct Block<T: Tracking<f64> = NoTape> {
//!     w: Tensor<Rank1<2>, f64, T>,
//! }
//!
//! // `X` is `NoTape` (an input) or `T` (the previous block's output).
//! impl<T: Tracking<f64>, X: Tracking<f64> + Merge<f64, T, Output = T>> Forward<Tensor<Rank1<2>, f64, X>>
//!     for Block<T>
//! {
//!     type Output = Tensor<Rank1<2>, f64, T>;
//!     fn forward(&self, x: Tensor<Rank1<2>, f64, X>) -> Self::Output {
//!         x * &self.w + 1.0
//!     }
//! }
//!
//! #[derive(Module)]
//! struct Stack<T: Tracking<f64> = NoTape> {
//!     blocks: Vec<Block<T>>,
//! }
//!
//! let block = Block { w: Tensor::from([2.0, 3.0]) };
//! let model = Stack { blocks: vec![block.clone(), block.clone(), block] };
//! let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
//! assert_eq!(names, ["blocks.0.w", "blocks.1.w", "blocks.2.w"]);
//!
//! // Three blocks on x = [1, 1]: [3, 4], [7, 13], [15, 40].
//! let x = Tensor::from([1.0, 1.0]);
//! let (loss, grads) = model.value_and_grad(|m| m.blocks.forward(x.clone()).sum());
//! assert_eq!(loss, 55.0);
//! // d loss / d w of the last block is its input, [7, 13]; the gradients are a `Vec<BlockGrads>`.
//! let g: &Vec<BlockGrads> = &grads.blocks;
//! assert_eq!(g[2].w.to_vec(), [7.0, 13.0]);
//!
//! // A checkpoint of three blocks does not load into two: the names of the difference.
//! let mut two = Stack { blocks: vec![Block { w: Tensor::zeros() }; 2] };
//! let err = two.load_safetensors(&model.to_safetensors()).unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Unexpected);
//! assert_eq!(err.to_string(), "the file has a tensor `blocks.2.w` that the model does not (1 unexpected in all)");
//! ```

use core::fmt;

use crate::io::{LoadOptions, LoadReport};
use crate::{Element, Error, Grads, NoTape, Rank0, Shape, Tape, Tensor};

/// The visitor of [`Module::visit`]: `f(name, values, dims)`.
pub type Visit<'a, E> = dyn FnMut(&str, &[E], &[usize]) + 'a;
/// The visitor of [`Module::visit_mut`]: `f(name, values, dims)`.
pub type VisitMut<'a, E> = dyn FnMut(&str, &mut [E], &[usize]) + 'a;
/// The visitor of [`Module::zip_mut`]: `f(mine, theirs)`.
pub type ZipMut<'a, E> = dyn FnMut(&mut [E], &[E]) + 'a;
/// The visitor of [`Module::visit_buffers`]: `f(name, buffer)`.
pub type VisitBuffers<'a, E> = dyn FnMut(&str, BufferRef<'_, E>) + 'a;
/// The visitor of [`Module::visit_buffers_mut`]: `f(name, buffer)`.
pub type VisitBuffersMut<'a, E> = dyn FnMut(&str, BufferMut<'_, E>) + 'a;

/// One buffer of a layer, as [`Module::visit_buffers`] shows it: state that is saved and loaded
/// with the parameters but is not trained (PyTorch's `register_buffer`), such as the running
/// statistics of [`BatchNorm1d`](crate::nn::BatchNorm1d).
///
/// ```
/// use shaped::module::BufferRef;
/// use shaped::nn::BatchNorm1d;
/// use shaped::Module;
/// let bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
/// let mut seen = Vec::new();
/// bn.visit_buffers(&mut String::new(), &mut |name, b| match b {
///     BufferRef::Values { values, .. } => seen.push(format!("{name}: {values:?}")),
///     BufferRef::Count(n) => seen.push(format!("{name}: {n}")),
/// });
/// // a fresh layer: mean 0, variance 1, no batch seen
/// assert_eq!(seen, ["running_mean: [0.0, 0.0]", "running_var: [1.0, 1.0]", "num_batches_tracked: 0"]);
/// ```
#[derive(Debug)]
pub enum BufferRef<'a, E> {
    /// Values of the element type with their dimensions (`running_mean`), stored as the parameters.
    Values {
        /// The values, row-major.
        values: &'a [E],
        /// The dimensions.
        dims: &'a [usize],
    },
    /// A count (`num_batches_tracked`), stored as an `i64` scalar as in PyTorch.
    Count(u64),
}

/// One buffer of a layer, mutable, as [`Module::visit_buffers_mut`] shows it (loading).
///
/// ```
/// use shaped::module::BufferMut;
/// use shaped::nn::BatchNorm1d;
/// use shaped::Module;
/// let mut bn: BatchNorm1d<2, f64> = BatchNorm1d::new();
/// bn.visit_buffers_mut(&mut String::new(), &mut |name, b| match b {
///     BufferMut::Values { values, .. } if name == "running_mean" => values.copy_from_slice(&[0.5, -0.5]),
///     BufferMut::Count(n) => *n = 10,
///     BufferMut::Values { .. } => {}
/// });
/// assert_eq!(bn.running_mean().to_vec(), vec![0.5, -0.5]);
/// assert_eq!(bn.num_batches_tracked(), 10);
/// ```
#[derive(Debug)]
pub enum BufferMut<'a, E> {
    /// Values of the element type with their dimensions.
    Values {
        /// The values, row-major.
        values: &'a mut [E],
        /// The dimensions.
        dims: &'a [usize],
    },
    /// A count, stored as an `i64` scalar.
    Count(&'a mut u64),
}

/// The name and dimensions of one parameter tensor.
///
/// ```
/// use shaped::nn::Linear;
/// use shaped::{Module, ParamInfo};
/// let layer: Linear<3, 2> = Linear::zeros();
/// let first: &ParamInfo = &layer.params()[0];
/// assert_eq!((first.name.as_str(), first.dims.as_slice()), ("weight", &[2, 3][..]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamInfo {
    /// The path of the field, segments joined with `.` (`l1.weight`), as in a PyTorch `state_dict`.
    pub name: String,
    /// The dimensions.
    pub dims: Vec<usize>,
}

/// A tree of parameter tensors: a tensor, a layer, or a struct with `#[derive(Module)]`.
///
/// Implement it with the derive; the methods are the visitors that the derive generates, and the
/// provided methods build on them.
///
/// ```
/// use shaped::nn::Linear;
/// use shaped::{Module, NoTape, Rank1, Tensor, Tracking};
///
/// #[derive(Module)]
/// struct Net<T: Tracking<f32> = NoTape> {
///     hidden: Linear<2, 3, f32, T>,
///     scale: Tensor<Rank1<3>, f32, T>,
/// }
///
/// let net = Net { hidden: Linear::zeros(), scale: Tensor::ones() };
/// assert_eq!(net.param_count(), 2 * 3 + 3 + 3);
/// let names: Vec<String> = net.params().into_iter().map(|p| p.name).collect();
/// assert_eq!(names, ["hidden.weight", "hidden.bias", "scale"]);
/// ```
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

    /// Whether this type holds parameters: [`Yes`] for a tensor and anything with one in it,
    /// [`No`] for a layer without any ([`Dropout`](crate::nn::Dropout)). The derive uses it to
    /// reject a parameter field that would be frozen by mistake. Written by the derive.
    #[doc(hidden)]
    type HoldsParams: Flag;

    /// Calls `f(name, values, dims)` for every parameter tensor, in field order. `path` is the prefix
    /// of the names (empty at the root); it is restored before returning.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, Tensor};
    /// let layer = Linear::from_weights(Tensor::from([[1.0, 2.0]]), Some(Tensor::from([3.0])));
    /// let mut sums = Vec::new();
    /// layer.visit(&mut String::from("fc"), &mut |name, values, dims| {
    ///     sums.push((name.to_owned(), dims.to_vec(), values.iter().sum::<f64>()));
    /// });
    /// assert_eq!(sums, [("fc.weight".into(), vec![1, 2], 3.0), ("fc.bias".into(), vec![1], 3.0)]);
    /// ```
    fn visit(&self, path: &mut String, f: &mut Visit<'_, Self::Elem>);

    /// Like [`visit`](Module::visit), with the values mutable (loading, in-place updates).
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, Tensor};
    /// let mut layer = Linear::from_weights(Tensor::from([[1.0, 2.0]]), Some(Tensor::from([3.0])));
    /// // halve every parameter in place
    /// layer.visit_mut(&mut String::new(), &mut |_, values, _| values.iter_mut().for_each(|v| *v /= 2.0));
    /// assert_eq!(layer.weight.to_array(), [[0.5, 1.0]]);
    /// assert_eq!(layer.bias.unwrap().to_vec(), vec![1.5]);
    /// ```
    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, Self::Elem>);

    /// Walks this tree and `other` (of the gradient type) together, calling `f(mine, theirs)` for each
    /// pair of tensors. Optimizers update parameters with it; on gradients it accumulates.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, Tensor};
    /// let mut layer = Linear::from_weights(Tensor::from([[1.0, 2.0]]), Some(Tensor::from([0.0])));
    /// let x = Tensor::from([3.0, 4.0]);
    /// let (_, g) = layer.value_and_grad(|l| l.forward(x.clone()).sum()); // d/dW = x, d/db = 1
    /// // one step of gradient descent by hand, learning rate 0.5: p -= 0.5 g
    /// layer.zip_mut(&g, &mut |p, g| p.iter_mut().zip(g).for_each(|(p, g)| *p -= 0.5 * g));
    /// assert_eq!(layer.weight.to_array(), [[-0.5, 0.0]]);
    /// assert_eq!(layer.bias.unwrap().to_vec(), vec![-0.5]);
    /// ```
    fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, Self::Elem>);

    /// Reads this model's gradients out of a backward pass's [`Grads`], one typed tensor per parameter:
    /// zeros for a parameter the loss did not depend on, and for a frozen part of the model (a field
    /// marked `#[module(frozen)]`, which is not put on the tape: see
    /// [`frozen_params`](Module::frozen_params)). Only a
    /// trainable model has gradients to read: on a model that is not generic over its tracking, this
    /// does not compile.
    ///
    /// # Panics
    /// If the model was not watched ([`Tape::watch`]) on the tape that computed `grads`: a trained
    /// parameter must never read as a silent zero. [`value_and_grad`](Module::value_and_grad) does the watching and
    /// the reading in one call.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, Tape, Tensor};
    /// let layer = Linear::from_weights(Tensor::from([[1.0, -1.0]]), Some(Tensor::from([0.0])));
    /// let tape = Tape::new();
    /// let m = tape.watch(&layer);
    /// // loss = (W x + b)^2 with x = [2, 1]: W x = 1, so d/dW = 2 (W x) x = [4, 2], d/db = 2
    /// let loss = m.forward(Tensor::from([2.0, 1.0])).powi(2).sum();
    /// let g = layer.grads(&loss.backward());
    /// assert_eq!(g.weight.to_array(), [[4.0, 2.0]]);
    /// assert_eq!(g.bias.unwrap().to_vec(), vec![2.0]);
    /// ```
    #[must_use]
    fn grads(&self, grads: &Grads<Self::Elem>) -> Self::Grads
    where
        Self: Trainable,
    {
        self.read_grads(grads, true)
    }

    /// Runs `f` on this model put on a fresh tape, and returns the loss it computes and the model's
    /// gradients: watching, `backward` and reading the gradients in one call, as JAX's
    /// `value_and_grad`. Only a trainable model (generic over its tracking: [`Trainable`]) has
    /// gradients: on another, this does not compile.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// use shaped::{Module, Rank1, Tensor};
    ///
    /// let layer: Linear<2, 1, f64> = Linear::new(&mut StdRng::seed_from_u64(3));
    /// let x = Tensor::from([1.0, 2.0]);
    /// // loss = sum(W x + b): d/dW = x, d/db = 1
    /// let (loss, grads) = layer.value_and_grad(|l| l.forward(x.clone()).sum());
    /// assert_eq!(loss, layer.forward(x).sum().item());
    /// assert_eq!(grads.weight.to_array(), [[1.0, 2.0]]);
    /// assert_eq!(grads.bias.unwrap().to_vec(), vec![1.0]);
    /// ```
    fn value_and_grad(
        &self,
        f: impl FnOnce(&<Self as Trainable>::Tracked) -> Tensor<Rank0, Self::Elem, Tape<Self::Elem>>,
    ) -> (Self::Elem, Self::Grads)
    where
        Self: Trainable + Sized,
    {
        let tape = Tape::new();
        let loss = {
            let tracked = self.track(&tape);
            f(&tracked)
        };
        let grads = loss.backward();
        (loss.item(), self.grads(&grads))
    }

    /// [`grads`](Module::grads), where `trained` says whether this part of the model was put on the
    /// tape with the model (a field that uses the tracking parameter): then a parameter that was not
    /// watched panics; otherwise it reads as zeros. Written by the derive.
    #[doc(hidden)]
    fn read_grads(&self, grads: &Grads<Self::Elem>, trained: bool) -> Self::Grads;

    /// Appends to `out` the names of this part's trained parameters that received no gradient (see
    /// [`unused_params`](Module::unused_params)). Written by the derive.
    #[doc(hidden)]
    fn unused_into(
        &self,
        grads: &Grads<Self::Elem>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    );

    /// The names (as in [`params`](Module::params)) of the parameters that the loss did not depend on,
    /// in field order: trained parameters whose gradient is zero because no path led from them to
    /// the loss (PyTorch's `DistributedDataParallel` reports the same under
    /// `find_unused_parameters`). Frozen parts of the model are not listed.
    ///
    /// # Panics
    /// If the model was not watched on the tape that computed `grads`, as [`grads`](Module::grads)
    /// does.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// use shaped::{Module, Rank1, Tensor, Tracking, NoTape};
    ///
    /// #[derive(Module)]
    /// struct TwoHeads<T: Tracking<f32> = NoTape> {
    ///     body: Linear<2, 4, f32, T>,
    ///     left: Linear<4, 1, f32, T>,
    ///     right: Linear<4, 1, f32, T>,
    /// }
    ///
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let model = TwoHeads { body: Linear::new(&mut rng), left: Linear::new(&mut rng), right: Linear::new(&mut rng) };
    /// let x: Tensor<Rank1<2>> = Tensor::ones();
    /// // The loss uses the left head only.
    /// let tape = shaped::Tape::new();
    /// let m = tape.watch(&model);
    /// let grads = m.left.forward(m.body.forward(x)).sum().backward();
    /// assert_eq!(model.unused_params(&grads), ["right.weight", "right.bias"]);
    /// ```
    #[must_use]
    fn unused_params(&self, grads: &Grads<Self::Elem>) -> Vec<String>
    where
        Self: Trainable,
    {
        let mut out = Vec::new();
        self.unused_into(grads, true, &mut String::new(), &mut out);
        out
    }

    /// Appends to `out` the names of this part's frozen parameters: all of them when `frozen`,
    /// otherwise those under a field marked `#[module(frozen)]` (see
    /// [`frozen_params`](Module::frozen_params)). Written by the derive; a part without fields of
    /// its own keeps this default.
    #[doc(hidden)]
    fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>) {
        if frozen {
            self.visit(path, &mut |name, _, _| out.push(name.to_owned()));
        }
    }

    /// The names (as in [`params`](Module::params)) of the parameters that are frozen in the
    /// model, in field order: those under a field marked `#[module(frozen)]`. They are saved and
    /// loaded with the others (as PyTorch's buffers and parameters with `requires_grad = False`),
    /// are not put on the tape, have zero gradients, are never listed by
    /// [`unused_params`](Module::unused_params), and no optimizer ever changes them.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, NoTape, Rank1, Tensor, Tracking};
    ///
    /// #[derive(Module)]
    /// struct Tuned<T: Tracking<f32> = NoTape> {
    ///     #[module(frozen)]
    ///     backbone: Linear<2, 2>,
    ///     head: Linear<2, 1, f32, T>,
    /// }
    ///
    /// let model = Tuned { backbone: Linear::zeros(), head: Linear::zeros() };
    /// assert_eq!(model.frozen_params(), ["backbone.weight", "backbone.bias"]);
    /// assert_eq!(model.param_count(), 2 * 2 + 2 + 2 + 1); // still parameters of the model
    /// ```
    #[must_use]
    fn frozen_params(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.frozen_into(false, &mut String::new(), &mut out);
        out
    }

    /// Gradients of this model's shape, all zeros (a start for accumulating over several batches).
    ///
    /// ```
    /// use shaped::nn::{Linear, LinearGrads};
    /// use shaped::{Module, Tensor};
    /// let layer: Linear<3, 2> = Linear::from_weights(Tensor::ones(), Some(Tensor::ones()));
    /// let g: LinearGrads<3, 2> = layer.zeros_like();
    /// assert_eq!(g.weight.to_array(), [[0.0; 3]; 2]);
    /// assert_eq!(g.bias.unwrap().to_vec(), vec![0.0; 2]);
    /// ```
    #[must_use]
    fn zeros_like(&self) -> Self::Grads;

    /// Calls `f(name, buffer)` for every buffer (state that is saved and loaded but not trained:
    /// [`BatchNorm1d`](crate::nn::BatchNorm1d)'s `running_mean`, `running_var` and
    /// `num_batches_tracked`), in field order, named like the parameters. Optimizers never see
    /// buffers and gradients do not carry them. None by default; the derive visits every field.
    ///
    /// ```
    /// use shaped::nn::{BatchNorm1d, Linear};
    /// use shaped::{Module, NoTape, Tracking};
    ///
    /// #[derive(Module)]
    /// struct Net<T: Tracking<f32> = NoTape> {
    ///     fc: Linear<3, 4, f32, T>,
    ///     bn: BatchNorm1d<4, f32, T>,
    /// }
    ///
    /// let net = Net { fc: Linear::zeros(), bn: BatchNorm1d::new() };
    /// let mut names = Vec::new();
    /// net.visit_buffers(&mut String::new(), &mut |name, _| names.push(name.to_owned()));
    /// // the linear layer has none
    /// assert_eq!(names, ["bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]);
    /// ```
    fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, Self::Elem>) {
        let _ = (path, f);
    }

    /// Like [`visit_buffers`](Module::visit_buffers), with the buffers mutable (loading).
    ///
    /// ```
    /// use shaped::module::BufferMut;
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::Module;
    /// let mut bn: BatchNorm1d<3, f64> = BatchNorm1d::new();
    /// bn.visit_buffers_mut(&mut String::new(), &mut |name, b| {
    ///     if let (BufferMut::Values { values, .. }, "running_var") = (b, name) {
    ///         values.fill(4.0);
    ///     }
    /// });
    /// assert_eq!(bn.running_var().to_vec(), vec![4.0; 3]);
    /// ```
    fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, Self::Elem>) {
        let _ = (path, f);
    }

    /// Sets the training flag of every layer of the model that behaves differently in training
    /// and in evaluation ([`Dropout`](crate::nn::Dropout), [`BatchNorm1d`](crate::nn::BatchNorm1d));
    /// the derive passes it to every field. Call it through [`train`](Module::train) and
    /// [`eval`](Module::eval).
    ///
    /// ```
    /// use shaped::nn::{BatchNorm1d, Dropout};
    /// use shaped::Module;
    ///
    /// #[derive(Module)]
    /// struct Net {
    ///     bn: BatchNorm1d<4>,
    ///     drop: Dropout,
    /// }
    ///
    /// let mut net = Net { bn: BatchNorm1d::new(), drop: Dropout::new(0.5, 0) };
    /// net.set_training(false); // what `eval` does
    /// assert!(!net.bn.is_training() && !net.drop.is_training());
    /// ```
    fn set_training(&mut self, training: bool) {
        let _ = training;
    }

    /// Puts the model in training mode (PyTorch's `model.train()`, the mode layers start in):
    /// dropout drops, batch normalization uses and updates the batch's statistics.
    ///
    /// ```
    /// use shaped::nn::Dropout;
    /// use shaped::{Module, Rank1, Tensor};
    ///
    /// #[derive(Module)]
    /// struct Net { drop: Dropout<f64> }
    ///
    /// let mut net = Net { drop: Dropout::new(0.5, 7) };
    /// let x: Tensor<Rank1<1000>, f64> = Tensor::ones();
    /// net.eval();
    /// assert_eq!(net.drop.forward(x.clone()), x); // evaluation: the identity
    /// net.train();
    /// assert_ne!(net.drop.forward(x.clone()), x); // training: about half are zeros
    /// ```
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Puts the model in evaluation mode (PyTorch's `model.eval()`): dropout is the identity, batch
    /// normalization uses its running statistics and leaves them as they are. See
    /// [`train`](Module::train).
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Module, Tensor};
    /// let mut bn: BatchNorm1d<1, f64> = BatchNorm1d::new();
    /// bn.eval();
    /// assert!(!bn.is_training());
    /// // evaluation: the running statistics (mean 0, variance 1), so the input comes back
    /// // (up to eps = 1e-5), and they are not updated
    /// let y = bn.forward(Tensor::from([[2.0], [4.0]]));
    /// assert!((y[[1, 0]] - 4.0).abs() < 1e-4);
    /// assert_eq!(bn.num_batches_tracked(), 0);
    /// ```
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// The buffers' names and dimensions (a count's are empty), in field order: what
    /// [`visit_buffers`](Module::visit_buffers) visits.
    ///
    /// ```
    /// use shaped::nn::BatchNorm1d;
    /// use shaped::{Module, ParamInfo};
    /// let bn: BatchNorm1d<4> = BatchNorm1d::new();
    /// let info = |name: &str, dims: &[usize]| ParamInfo { name: name.into(), dims: dims.to_vec() };
    /// assert_eq!(
    ///     bn.buffers(),
    ///     [info("running_mean", &[4]), info("running_var", &[4]), info("num_batches_tracked", &[])]
    /// );
    /// ```
    #[must_use]
    fn buffers(&self) -> Vec<ParamInfo> {
        let mut out = Vec::new();
        self.visit_buffers(&mut String::new(), &mut |name, b| {
            let dims = match b {
                BufferRef::Values { dims, .. } => dims.to_vec(),
                BufferRef::Count(_) => Vec::new(),
            };
            out.push(ParamInfo {
                name: name.to_owned(),
                dims,
            });
        });
        out
    }

    /// The number of scalar parameters (buffers not counted).
    ///
    /// ```
    /// use shaped::nn::{BatchNorm1d, Linear};
    /// use shaped::{Module, Tensor};
    /// let layer: Linear<3, 2> = Linear::from_weights(Tensor::ones(), Some(Tensor::zeros()));
    /// assert_eq!(layer.param_count(), 3 * 2 + 2);
    /// assert_eq!(BatchNorm1d::<4>::new().param_count(), 4 + 4); // weight and bias
    /// ```
    #[must_use]
    fn param_count(&self) -> usize {
        let mut n = 0;
        self.visit(&mut String::new(), &mut |_, v, _| n += v.len());
        n
    }

    /// The parameter tensors' names and dimensions, in field order (buffers are in
    /// [`buffers`](Module::buffers)).
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, ParamInfo, Tensor};
    /// let layer: Linear<3, 2> = Linear::from_weights(Tensor::ones(), Some(Tensor::zeros()));
    /// let info = |name: &str, dims: &[usize]| ParamInfo { name: name.into(), dims: dims.to_vec() };
    /// assert_eq!(layer.params(), [info("weight", &[2, 3]), info("bias", &[2])]);
    /// ```
    #[must_use]
    fn params(&self) -> Vec<ParamInfo> {
        let mut out = Vec::new();
        self.visit(&mut String::new(), &mut |name, _, dims| {
            out.push(ParamInfo {
                name: name.to_owned(),
                dims: dims.to_vec(),
            });
        });
        out
    }

    /// The parameters and the buffers in the safetensors format, each tensor named by its field
    /// path (a PyTorch `state_dict`).
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{Module, Rank1, Tensor};
    /// let layer: Linear<2, 1, f64> = Linear::from_weights(Tensor::from([[1.0, 2.0]]), Some(Tensor::from([3.0])));
    /// let bytes = layer.to_safetensors();
    /// let bias: Tensor<Rank1<1>, f64> = Tensor::from_safetensors(&bytes, "bias")?;
    /// assert_eq!(bias.to_vec(), vec![3.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    fn to_safetensors(&self) -> Vec<u8> {
        crate::io::to_safetensors(self)
    }

    /// Replaces the parameters and the buffers with those in a safetensors buffer. All or nothing: on
    /// any error the model is left exactly as it was. Tensors stored as `f16` or `bf16` are converted
    /// to the model's element type.
    ///
    /// # Errors
    /// The buffer is not safetensors ([`ErrorKind::Format`](crate::ErrorKind::Format)); otherwise
    /// every problem at once, the first one's kind: a parameter or buffer is missing
    /// ([`Missing`](crate::ErrorKind::Missing)); the buffer has a tensor the model does not
    /// ([`Unexpected`](crate::ErrorKind::Unexpected)); a tensor has another shape
    /// ([`Shape`](crate::ErrorKind::Shape)) or element type ([`Dtype`](crate::ErrorKind::Dtype);
    /// a count such as `num_batches_tracked` must be a non-negative `i64` scalar). Each message
    /// names the tensor and both shapes or types; several are joined in one message.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{ErrorKind, Module, Tensor};
    /// let saved: Linear<2, 1, f64> = Linear::from_weights(Tensor::from([[1.0, 2.0]]), Some(Tensor::from([3.0])));
    /// let bytes = saved.to_safetensors();
    ///
    /// let mut layer: Linear<2, 1, f64> = Linear::zeros();
    /// layer.load_safetensors(&bytes)?;
    /// assert_eq!(layer.weight.to_array(), [[1.0, 2.0]]);
    ///
    /// // Another shape: an error, and the layer is left as it was.
    /// let mut wide: Linear<3, 1, f64> = Linear::zeros();
    /// let err = wide.load_safetensors(&bytes).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Shape);
    /// assert_eq!(err.to_string(), "tensor `weight` has shape [1, 2] in the file, the model needs [1, 3]");
    /// assert_eq!(wide.weight.to_array(), [[0.0; 3]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn load_safetensors(&mut self, bytes: &[u8]) -> Result<(), Error> {
        crate::io::load_safetensors(self, bytes, &LoadOptions::new()).map(|_| ())
    }

    /// [`load_safetensors`](Module::load_safetensors) with options: a key prefix (a sub-model of a
    /// larger checkpoint, `model.encoder.`), and a non-strict mode that skips missing and unexpected
    /// tensors and returns their names. All or nothing as well.
    ///
    /// # Errors
    /// As [`load_safetensors`](Module::load_safetensors); when not strict, only shapes, element
    /// types and the format can fail.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{LoadOptions, Module, Rank1, Tensor};
    ///
    /// #[derive(Module)]
    /// struct Net { encoder: Linear<2, 2, f64>, head: Linear<2, 1, f64> }
    ///
    /// let net = Net { encoder: Linear::from_weights(Tensor::ones(), None), head: Linear::zeros() };
    /// let bytes = net.to_safetensors();
    /// // The encoder alone, from the whole model's file.
    /// let mut encoder: Linear<2, 2, f64> = Linear::zeros();
    /// let report = encoder.load_safetensors_with(&bytes, &LoadOptions::new().prefix("encoder.").strict(false))?;
    /// assert_eq!(report.missing, ["bias"]); // the saved encoder had no bias
    /// assert_eq!(encoder.weight, Tensor::ones());
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn load_safetensors_with(
        &mut self,
        bytes: &[u8],
        options: &LoadOptions,
    ) -> Result<LoadReport, Error> {
        crate::io::load_safetensors(self, bytes, options)
    }

    /// Writes the parameters and the buffers to a safetensors file (see
    /// [`to_safetensors`](Module::to_safetensors)).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be written.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{ErrorKind, Module, Tensor};
    /// let layer: Linear<2, 1> = Linear::from_weights(Tensor::from([[1.0, 2.0]]), None);
    /// let path = std::env::temp_dir().join("shaped_doc_module_save.safetensors");
    /// layer.save(&path)?;
    /// let mut back: Linear<2, 1> = Linear::from_weights(Tensor::zeros(), None);
    /// back.load(&path)?;
    /// assert_eq!(back.weight.to_array(), [[1.0, 2.0]]);
    /// # std::fs::remove_file(&path).unwrap();
    /// let err = layer.save("no/such/dir/layer.safetensors").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Io);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error>
    where
        Self: Sized,
    {
        crate::io::write_file(path.as_ref(), &self.to_safetensors())
    }

    /// Replaces the parameters and the buffers with those of a safetensors file, all or nothing (see
    /// [`load_safetensors`](Module::load_safetensors)).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read, and every error of
    /// [`load_safetensors`](Module::load_safetensors).
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{ErrorKind, Module};
    /// let mut layer: Linear<2, 1> = Linear::zeros();
    /// let err = layer.load("no/such/file.safetensors").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Io);
    /// ```
    fn load(&mut self, path: impl AsRef<std::path::Path>) -> Result<(), Error>
    where
        Self: Sized,
    {
        let bytes = crate::io::read_file(path.as_ref())?;
        self.load_safetensors(&bytes)
    }

    /// [`load`](Module::load) with options (see
    /// [`load_safetensors_with`](Module::load_safetensors_with)).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read, and every error of
    /// `load_safetensors_with`.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::{LoadOptions, Module, Tensor};
    /// let saved: Linear<2, 1> = Linear::from_weights(Tensor::from([[1.0, 2.0]]), None);
    /// let path = std::env::temp_dir().join("shaped_doc_module_load_with.safetensors");
    /// saved.save(&path)?;
    /// let mut layer: Linear<2, 1> = Linear::zeros(); // with a bias, which the file lacks
    /// let report = layer.load_with(&path, &LoadOptions::new().strict(false))?;
    /// assert_eq!(report.missing, ["bias"]);
    /// assert_eq!(layer.weight.to_array(), [[1.0, 2.0]]);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn load_with(
        &mut self,
        path: impl AsRef<std::path::Path>,
        options: &LoadOptions,
    ) -> Result<LoadReport, Error>
    where
        Self: Sized,
    {
        let bytes = crate::io::read_file(path.as_ref())?;
        self.load_safetensors_with(&bytes, options)
    }
}

/// A model whose parameters can be put on a tape: [`Tape::watch`] returns [`Self::Tracked`], the same
/// model with its trained parameters on the tape, so that every op applied to them is recorded.
///
/// `#[derive(Module)]` implements it for a struct that is generic over its tracking (a type
/// parameter `T: Tracking<E>`, passed on to its layers and tensors); `Module` is then implemented for
/// the struct with `T = NoTape`, the model you store, save and update. A field whose type does not
/// use `T` is not put on the tape: if it holds parameters it must be marked `#[module(frozen)]` (see
/// [`Module::frozen_params`]), or the model does not compile, as its parameters would silently get
/// no gradient; a field without parameters ([`Dropout`](crate::nn::Dropout)) needs no mark.
///
/// ```
/// use shaped::nn::{Labels, Linear, cross_entropy};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, NoTape, Rank1, Rank2, Tensor, Tracking};
///
/// #[derive(Module)]
/// struct Scorer<T: Tracking<f32> = NoTape> {
///     layer: Linear<3, 2, f32, T>,
///     scale: Tensor<Rank1<2>, f32, T>,
/// }
///
/// impl<T: Tracking<f32>> Scorer<T> {
///     fn forward(&self, x: Tensor<Rank2<4, 3>>) -> Tensor<Rank2<4, 2>, f32, T> {
///         // `scale` is a parameter: `scale * scale` is recorded like any other op on it.
///         self.layer.forward(x) * (&self.scale * &self.scale).broadcast_to::<Rank2<4, 2>>()
///     }
/// }
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Scorer { layer: Linear::new(&mut rng), scale: Tensor::ones() };
/// let x: Tensor<Rank2<4, 3>> = Tensor::ones();
/// let labels = Labels::new([0, 1, 0, 1])?;
/// let (loss, grads) = model.value_and_grad(|m| cross_entropy(&m.forward(x.clone()), &labels));
/// assert!(loss > 0.0);
/// let _: &Tensor<Rank2<2, 3>> = &grads.layer.weight; // the gradients have the model's types
/// // Inference: the stored model (`T = NoTape`) records nothing.
/// let _: Tensor<Rank2<4, 2>> = model.forward(x);
/// # Ok::<(), shaped::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not trainable: it is not generic over its tracking",
    label = "a model without a tracking parameter has nothing to train",
    note = "make the model generic over its tracking and pass it to every trained part: \
            `struct Model<T: Tracking<f32> = NoTape> {{ l1: Linear<4, 8, f32, T>, w: Tensor<Rank1<8>, f32, T> }}`"
)]
pub trait Trainable: Module {
    /// The same model with its trained parameters on a tape (the tracking parameter set to
    /// `Tape<Elem>`); a tensor's is `Tensor<S, E, Tape<E>>`.
    type Tracked;

    /// Puts the trained parameters on `tape`, sharing their data. Call it as
    /// [`tape.watch(&model)`](Tape::watch).
    ///
    /// ```
    /// use shaped::{Tape, Tensor, Trainable};
    /// let w = Tensor::from([2.0, 3.0]);
    /// let tape = Tape::new();
    /// let wt = w.track(&tape); // the same as `tape.watch(&w)`
    /// assert!(wt.shares_data(&w));
    /// let grads = (&wt * &wt).sum().backward();
    /// assert_eq!(grads.get(&wt).to_vec(), vec![4.0, 6.0]); // d(w^2)/dw = 2w
    /// ```
    #[must_use]
    fn track(&self, tape: &Tape<Self::Elem>) -> Self::Tracked;
}

impl<S: Shape, E: Element> Trainable for Tensor<S, E, NoTape> {
    type Tracked = Tensor<S, E, Tape<E>>;

    fn track(&self, tape: &Tape<E>) -> Self::Tracked {
        tape.watch_tensor(self)
    }
}

impl<M: Trainable> Trainable for Option<M> {
    type Tracked = Option<M::Tracked>;

    fn track(&self, tape: &Tape<M::Elem>) -> Self::Tracked {
        self.as_ref().map(|m| m.track(tape))
    }
}

/// Whether a [`Module`] type holds parameters, as a type: [`Yes`] or [`No`]
/// ([`Module::HoldsParams`]). `A::Or<B>` is `Yes` when either is.
#[doc(hidden)]
pub trait Flag {
    /// `Yes` when `Self` or `B` is.
    type Or<B: Flag>: Flag;
}

/// The type holds parameters (see [`Flag`]).
#[doc(hidden)]
#[derive(Debug)]
pub enum Yes {}

/// The type holds no parameters (see [`Flag`]).
#[doc(hidden)]
#[derive(Debug)]
pub enum No {}

impl Flag for Yes {
    type Or<B: Flag> = Yes;
}

impl Flag for No {
    type Or<B: Flag> = B;
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
    type HoldsParams = Yes;

    fn read_grads(&self, grads: &Grads<E>, trained: bool) -> Self {
        grads.of_param(self, trained)
    }

    fn unused_into(
        &self,
        grads: &Grads<E>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    ) {
        if grads.unused(self, trained) {
            out.push(path.clone());
        }
    }

    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>) {
        f(path, self.as_slice(), self.shape().as_ref());
    }

    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>) {
        let dims = self.shape();
        f(path, self.as_mut_slice(), dims.as_ref());
    }

    fn zip_mut(&mut self, other: &Self, f: &mut ZipMut<'_, E>) {
        f(self.as_mut_slice(), other.as_slice());
    }

    fn zeros_like(&self) -> Self {
        Tensor::zeros_with(self.typed_shape())
    }
}

/// An optional part (a layer's bias): its parameters when present.
impl<M: Module> Module for Option<M> {
    type Elem = M::Elem;
    type Grads = Option<M::Grads>;
    type HoldsParams = M::HoldsParams;

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

    fn read_grads(&self, grads: &Grads<M::Elem>, trained: bool) -> Self::Grads {
        self.as_ref().map(|m| m.read_grads(grads, trained))
    }

    fn unused_into(
        &self,
        grads: &Grads<M::Elem>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    ) {
        if let Some(m) = self {
            m.unused_into(grads, trained, path, out);
        }
    }

    fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>) {
        if let Some(m) = self {
            m.frozen_into(frozen, path, out);
        }
    }

    fn zeros_like(&self) -> Self::Grads {
        self.as_ref().map(Module::zeros_like)
    }

    fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, M::Elem>) {
        if let Some(m) = self {
            m.visit_buffers(path, f);
        }
    }

    fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, M::Elem>) {
        if let Some(m) = self {
            m.visit_buffers_mut(path, f);
        }
    }

    fn set_training(&mut self, training: bool) {
        if let Some(m) = self {
            m.set_training(training);
        }
    }
}

/// Calls `f(item, path)` for every item, with the item's index pushed on `path` as a segment
/// (`0`, `1`, ...), as PyTorch names the elements of an `nn.ModuleList`.
fn each_indexed<I>(
    items: impl Iterator<Item = I>,
    path: &mut String,
    mut f: impl FnMut(I, &mut String),
) {
    for (i, item) in items.enumerate() {
        let len = push_segment(path, &i.to_string());
        f(item, path);
        path.truncate(len);
    }
}

/// `f` on every element of an array, in order.
fn map_array<M, R, const N: usize>(items: &[M; N], f: impl FnMut(&M) -> R) -> [R; N] {
    items.each_ref().map(f)
}

/// `f` on every element of a vector, in order.
fn map_vec<M, R>(items: &[M], f: impl FnMut(&M) -> R) -> Vec<R> {
    items.iter().map(f).collect()
}

/// `Module` and `Trainable` for a list of modules of one type, `$ty` (an array or a `Vec` of `M`),
/// whose gradients and tracked form are `$grads` and `$tracked`, built element by element with
/// `$map`.
macro_rules! module_list {
    ($([$($g:tt)*] $ty:ty, $grads:ty, $tracked:ty, $map:ident;)*) => {$(
        /// A list of modules of one type (PyTorch's `nn.ModuleList`): the parameters of every
        /// element in order, named by position (`0.weight`, `1.weight`, ...); the gradients are
        /// the list of the elements' gradients.
        impl<M: Module, $($g)*> Module for $ty {
            type Elem = M::Elem;
            type Grads = $grads;
            type HoldsParams = M::HoldsParams;

            fn visit(&self, path: &mut String, f: &mut Visit<'_, M::Elem>) {
                each_indexed(self.iter(), path, |m, path| m.visit(path, f));
            }

            fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, M::Elem>) {
                each_indexed(self.iter_mut(), path, |m, path| m.visit_mut(path, f));
            }

            #[track_caller]
            fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, M::Elem>) {
                assert_eq!(
                    self.len(),
                    other.len(),
                    "a list of {} modules zipped with gradients of {}",
                    self.len(),
                    other.len()
                );
                for (m, o) in self.iter_mut().zip(other.iter()) {
                    m.zip_mut(o, f);
                }
            }

            fn read_grads(&self, grads: &Grads<M::Elem>, trained: bool) -> Self::Grads {
                $map(self, |m| m.read_grads(grads, trained))
            }

            fn unused_into(
                &self,
                grads: &Grads<M::Elem>,
                trained: bool,
                path: &mut String,
                out: &mut Vec<String>,
            ) {
                each_indexed(self.iter(), path, |m, path| m.unused_into(grads, trained, path, out));
            }

            fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>) {
                each_indexed(self.iter(), path, |m, path| m.frozen_into(frozen, path, out));
            }

            fn zeros_like(&self) -> Self::Grads {
                $map(self, Module::zeros_like)
            }

            fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, M::Elem>) {
                each_indexed(self.iter(), path, |m, path| m.visit_buffers(path, f));
            }

            fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, M::Elem>) {
                each_indexed(self.iter_mut(), path, |m, path| m.visit_buffers_mut(path, f));
            }

            fn set_training(&mut self, training: bool) {
                for m in self.iter_mut() {
                    m.set_training(training);
                }
            }
        }

        /// Every element put on the tape.
        impl<M: Trainable, $($g)*> Trainable for $ty {
            type Tracked = $tracked;

            fn track(&self, tape: &Tape<M::Elem>) -> Self::Tracked {
                $map(self, |m| m.track(tape))
            }
        }
    )*};
}

module_list! {
    [const N: usize] [M; N], [M::Grads; N], [M::Tracked; N], map_array;
    [] Vec<M>, Vec<M::Grads>, Vec<M::Tracked>, map_vec;
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
                dims: vec![2, 3]
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
        let wt = tape.watch(&w);
        let g = (tape.input(&Tensor::from([3.0, 4.0])) * &wt)
            .sum()
            .backward();
        let gw: Tensor<Rank1<2>, f64> = w.grads(&g);
        assert_eq!(gw.to_vec(), vec![3.0, 4.0]);
    }
}
