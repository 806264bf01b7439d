//! Layers in sequence without a struct: a tuple of layers is a model, PyTorch's `nn.Sequential`.
//!
//! See [`Forward`].

use core::fmt;
use core::marker::PhantomData;

use crate::module::{Visit, VisitBuffers, VisitBuffersMut, VisitMut, ZipMut, push_segment};
use crate::nn::{
    AvgPool2d, BatchNorm1d, Conv1d, Conv2d, Dropout, Embedding, Flatten, FlattenShape, LayerNorm,
    LayerNormNoAffine, Linear, MaxPool2d, NoParams, ReLU, Sigmoid, Softmax, Tanh,
};
use crate::ops::Merged;
use crate::{
    Const, ConvShape, Dim, Element, Grads, Indices, LinearShape, Merge, Module, NoTape, NonScalar,
    Pool2dShape, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, ReduceAxis, Shape, Tape, Tensor,
    Tracking, Trainable,
};

/// A layer's forward pass as a trait, so that a sequence of layers can run them in order: `x` in,
/// [`Output`](Forward::Output) out. Implemented by [`Linear`], [`LayerNorm`],
/// [`LayerNormNoAffine`], [`BatchNorm1d`], [`Dropout`], [`Embedding`] (ids in), the activation
/// layers [`ReLU`], [`Sigmoid`], [`Tanh`] and [`Softmax`], by [`Conv1d`], [`Conv2d`],
/// [`MaxPool2d`], [`AvgPool2d`] and [`Flatten`] wrapped in [`Out`] with their output shape (see
/// below), by tuples of them, and by arrays `[M; N]` and vectors `Vec<M>` of blocks of one type
/// (see [Lists of blocks](crate::module#lists-of-blocks)); each layer also has the same `forward`
/// as an inherent method.
/// [`Bilinear`](crate::nn::Bilinear) (two inputs) and
/// [`MultiheadAttention`](crate::nn::MultiheadAttention) (query, key and value) do not implement
/// it: a sequence passes one tensor from layer to layer, so call their `forward` from a model's
/// own.
///
/// # Convolutions, poolings and `Flatten`
/// Their output sizes are arithmetic on the input's (`(H + 2 padding - dilation (kernel - 1) - 1) /
/// stride + 1` for a convolution, `C H W` for [`Flatten`]), which stable Rust cannot compute in a
/// type: their `forward` takes the output type from the caller, who writes it on a binding. In a sequence there is no binding between two
/// layers, so the layer's type carries it: [`Out<L, O>`](Out) is the layer `L` with the output
/// shape `O` of one sample, without the batch axis (`Out<Conv2d<1, 8, 3>, Rank3<8, 26, 26>>`,
/// `Out<Flatten, Rank1<1352>>`). The batch axis is the input's, static or run-time, so one model
/// takes both. The layer's own shape rule and `const` assertion check the written shape as they
/// check a binding; see [`Out`] for a CNN as a tuple.
///
/// # Tuples of layers
/// `(Linear<4, 8>, ReLU, Linear<8, 3>)` is a [`Module`] whose parameters are named by position as
/// in `nn.Sequential` (`0.weight`, `0.bias`, `2.weight`, `2.bias`: an activation takes a position
/// and has no parameters), whose gradients are the tuple of its layers' gradients
/// (`(LinearGrads, NoParams, LinearGrads)`, typed as any model's), and whose [`Forward`] runs the
/// layers in order. [`train`](Module::train) and [`eval`](Module::eval) reach every layer, and a
/// tuple can be a field of a derived model or a layer of another tuple.
///
/// # Lists of blocks
/// An array `[M; N]` or a `Vec<M>` runs its blocks in order, each on the previous one's output:
/// the first takes the input `X` to `Y` (onto the tape, for blocks on one) and every other one `Y`
/// to `Y`, so `[Linear<8, 8>; 3]` is three layers in sequence. A list of no blocks returns its
/// input, and panics if its type is not the output's. A list is a layer of a tuple as any module
/// is, its parameters under its position (`1.0.weight`, `1.1.weight`):
///
/// ```
/// use shaped::nn::{Forward, Linear, ReLU};
/// use shaped::{Module, Tensor};
///
/// // x -> 2x, then three times x -> x + 1, then ReLU.
/// let step = || Linear::from_weights(Tensor::from([[1.0]]), Some(Tensor::from([1.0])));
/// let model = (Linear::from_weights(Tensor::from([[2.0]]), None), [step(), step(), step()], ReLU);
/// let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
/// assert_eq!(names[..3], ["0.weight", "1.0.weight", "1.0.bias"]);
/// assert_eq!(model.forward(Tensor::from([[1.0], [-4.0]])).to_vec(), vec![5.0, 0.0]);
/// ```
///
/// ```
/// use shaped::nn::{Dropout, Forward, LayerNorm, LayerNormNoAffine, Linear, ReLU};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, NoTape, Rank2, Tape, Tensor};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut mlp = (Linear::<4, 8>::new(&mut rng), ReLU, Dropout::new(0.1, 1), LayerNorm::<8>::new(), Linear::<8, 3>::new(&mut rng));
/// let names: Vec<String> = mlp.params().into_iter().map(|p| p.name).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "3.weight", "3.bias", "4.weight", "4.bias"]);
///
/// let x: Tensor<Rank2<2, 4>> = Tensor::ones();
/// let (_, grads) = mlp.value_and_grad(|m| m.forward(x.clone()).sum());
/// let _: &Tensor<Rank2<3, 8>> = &grads.4.weight; // typed: the last layer's weight gradient
/// mlp.eval();
/// let y: Tensor<Rank2<2, 3>> = mlp.forward(x);
/// # let _ = y;
///
/// // A layer without parameters takes a position too: each row normalized to mean 0.
/// let normed = (Linear::<4, 3>::new(&mut rng), LayerNormNoAffine::<3>::new());
/// assert!(normed.params().iter().all(|p| p.name.starts_with("0.")));
/// let z = normed.forward(Tensor::<Rank2<2, 4>>::from_fn(|[i, j]| (i * 4 + j) as f32));
/// for row in z.to_array() {
///     assert!(row.iter().sum::<f32>().abs() < 1e-5);
/// }
/// ```
///
/// The first element of a tuple is a layer with a [`Module`] impl (a layer with parameters,
/// [`Dropout`](crate::nn::Dropout), a nested tuple): it fixes the element type; the layers without
/// parameters, the activations [`ReLU`], [`Sigmoid`], [`Tanh`] and [`Softmax`] and the poolings
/// and [`Flatten`] in an [`Out`], can stand anywhere after it. Tuples of 2 to 8 layers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take a `{X}` as its input",
    label = "no `Forward` for this input",
    note = "in a sequence, each layer's input is the previous layer's output: check the widths",
    note = "a convolution, a pooling or `Flatten` stands in a sequence as `Out<layer, output shape of one sample>`"
)]
pub trait Forward<X> {
    /// The output for an input `X`.
    type Output;
    /// Runs the layer (or the sequence) on `x`.
    ///
    /// ```
    /// use shaped::nn::{Forward, Linear, ReLU};
    /// use shaped::Tensor;
    /// // relu(x) + relu(1 - x): a Linear to [x, 1 - x], ReLU, and a Linear summing the two.
    /// let model = (
    ///     Linear::from_weights(Tensor::from([[1.0], [-1.0]]), Some(Tensor::from([0.0, 1.0]))),
    ///     ReLU,
    ///     Linear::from_weights(Tensor::from([[1.0, 1.0]]), None),
    /// );
    /// // x = 3: 3 + 0; x = 0.5: 0.5 + 0.5; x = -1: 0 + 2
    /// let y = model.forward(Tensor::from([[3.0], [0.5], [-1.0]]));
    /// assert_eq!(y.to_vec(), vec![3.0, 1.0, 2.0]);
    /// ```
    fn forward(&self, x: X) -> Self::Output;
}

/// A layer with the output shape of one sample written in its type: how a convolution, a pooling or
/// [`Flatten`] stands in a tuple of layers (see [`Forward`]). `O` is the output without its batch
/// axis, `Rank3<C, H, W>` for [`Conv2d`], [`MaxPool2d`] and [`AvgPool2d`], `Rank2<C, L>` for
/// [`Conv1d`], `Rank1<F>` for [`Flatten`]; the batch axis is the input's, so the same layer takes a
/// static batch (`Rank4<N, ..>` gives `Rank4<N, ..>`) and a run-time one (`(usize, ..)` gives
/// `(usize, Const<..>, ..)`).
///
/// The layer runs its own `forward` with that output type: a shape its rule rejects (channels,
/// batch, a flattened width) does not compile, and wrong output sizes fail the layer's `const`
/// assertion at `cargo build`, as they do on a binding. The parameters are the layer's, under the
/// same names (`0.weight`, not `0.layer.weight`), and so are the gradients (`Conv2dGrads`).
///
/// ```
/// use shaped::nn::{Conv2d, Flatten, Forward, Linear, MaxPool2d, Out, ReLU};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Const, Module, Rank1, Rank2, Rank3, Rank4, Tensor};
///
/// // nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(36, 10))
/// // on 1 x 8 x 8 images: the convolution gives 4 x 6 x 6, the pooling 4 x 3 x 3, 36 features.
/// type Cnn = (
///     Out<Conv2d<1, 4, 3>, Rank3<4, 6, 6>>,
///     ReLU,
///     Out<MaxPool2d<2>, Rank3<4, 3, 3>>,
///     Out<Flatten, Rank1<36>>,
///     Linear<36, 10>,
/// );
/// let mut rng = StdRng::seed_from_u64(0);
/// let model: Cnn = (
///     Out::new(Conv2d::new(&mut rng)),
///     ReLU,
///     Out::new(MaxPool2d),
///     Out::new(Flatten),
///     Linear::new(&mut rng),
/// );
/// let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "4.weight", "4.bias"]);
///
/// let x: Tensor<Rank4<2, 1, 8, 8>> = Tensor::ones();
/// let y: Tensor<Rank2<2, 10>> = model.forward(x.clone());
/// // The same model on a batch whose size is known at run time only.
/// let xr: Tensor<(usize, Const<1>, Const<8>, Const<8>)> = x.reshape();
/// let yr: Tensor<(usize, Const<10>)> = model.forward(xr);
/// assert_eq!(yr.to_vec(), y.to_vec());
///
/// let (_, grads) = model.value_and_grad(|m| m.forward(x.clone()).sum());
/// let _: &Tensor<Rank4<4, 1, 3, 3>> = &grads.0.weight; // the convolution's, typed
/// ```
pub struct Out<L, O> {
    /// The layer.
    pub layer: L,
    sample: PhantomData<fn() -> O>,
}

impl<L, O> Out<L, O> {
    /// `layer`, with the output shape `O` of one sample (usually inferred from the model's type).
    ///
    /// ```
    /// use shaped::nn::{Forward, MaxPool2d, Out};
    /// use shaped::{Rank3, Rank4, Tensor};
    /// // A 2 x 2 max pooling whose output per image is 1 x 1 x 2: the maxima of [[1, 5], [3, 4]]
    /// // and of [[2, 0], [8, 6]].
    /// let pool: Out<MaxPool2d<2>, Rank3<1, 1, 2>> = Out::new(MaxPool2d);
    /// let x: Tensor<Rank4<1, 1, 2, 4>> = Tensor::from([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 6.0]]]]);
    /// assert_eq!(pool.forward(x).to_vec(), vec![5.0, 8.0]);
    /// ```
    #[must_use]
    pub const fn new(layer: L) -> Self {
        Self {
            layer,
            sample: PhantomData,
        }
    }
}

impl<L: Clone, O> Clone for Out<L, O> {
    fn clone(&self) -> Self {
        Self::new(self.layer.clone())
    }
}

impl<L: Copy, O> Copy for Out<L, O> {}

impl<L: Default, O> Default for Out<L, O> {
    fn default() -> Self {
        Self::new(L::default())
    }
}

impl<L: fmt::Debug, O> fmt::Debug for Out<L, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Out")
            .field("layer", &self.layer)
            .field("sample", &format_args!("{}", core::any::type_name::<O>()))
            .finish()
    }
}

/// The layer's parameters under the layer's own names.
impl<L: Module, O: Shape> Module for Out<L, O> {
    type Elem = L::Elem;
    type Grads = L::Grads;
    type HoldsParams = L::HoldsParams;

    fn visit(&self, path: &mut String, f: &mut Visit<'_, L::Elem>) {
        self.layer.visit(path, f);
    }
    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, L::Elem>) {
        self.layer.visit_mut(path, f);
    }
    fn zip_mut(&mut self, other: &L::Grads, f: &mut ZipMut<'_, L::Elem>) {
        self.layer.zip_mut(other, f);
    }
    fn read_grads(&self, grads: &Grads<L::Elem>, trained: bool) -> L::Grads {
        self.layer.read_grads(grads, trained)
    }
    fn unused_into(
        &self,
        grads: &Grads<L::Elem>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    ) {
        self.layer.unused_into(grads, trained, path, out);
    }
    fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>) {
        self.layer.frozen_into(frozen, path, out);
    }
    fn zeros_like(&self) -> L::Grads {
        self.layer.zeros_like()
    }
    fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, L::Elem>) {
        self.layer.visit_buffers(path, f);
    }
    fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, L::Elem>) {
        self.layer.visit_buffers_mut(path, f);
    }
    fn set_training(&mut self, training: bool) {
        self.layer.set_training(training);
    }
}

impl<L: Trainable, O: Shape> Trainable for Out<L, O> {
    type Tracked = Out<L::Tracked, O>;
    fn track(&self, tape: &Tape<L::Elem>) -> Self::Tracked {
        Out::new(self.layer.track(tape))
    }
}

/// The output shape of an [`Out`] layer: `Self`, the output of one sample, with the batch axis of
/// the input `X` in front. A static input gives a static output, a tuple input (a run-time batch) a
/// tuple output. A sample written as a tuple of dimensions, some of them run-time (`(Const<8>,
/// usize)` for a convolution over sequences of any length), gives a tuple.
///
/// ```
/// use shaped::nn::SampleShape;
/// use shaped::{Const, Rank3, Rank4};
/// let _: <Rank3<8, 4, 4> as SampleShape<Rank4<16, 1, 8, 8>>>::Output = Rank4::<16, 8, 4, 4>;
/// type Runtime = (usize, Const<1>, Const<8>, Const<8>);
/// let _: <Rank3<8, 4, 4> as SampleShape<Runtime>>::Output = (5_usize, Const::<8>, Const::<4>, Const::<4>);
/// let _: <(Const<8>, usize) as SampleShape<(usize, Const<2>, usize)>>::Output = (5_usize, Const::<8>, 30_usize);
/// let _: <(Const<8>, usize) as SampleShape<Rank3<4, 2, 30>>>::Output = (Const::<4>, Const::<8>, 30_usize);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{X}` has no batch axis to give outputs of shape `{Self}`",
    label = "`Out` keeps the input's first axis, the batch, and writes the rest",
    note = "the output shape of one sample is a `Rank1`, `Rank2` or `Rank3`, after an input of rank 1 to 6"
)]
pub trait SampleShape<X: Shape>: Shape {
    /// `Self` with the input's batch axis in front.
    type Output: Shape;
}

/// [`SampleShape`] for a sample `$Sample<$p..>` after a static input `$Rank<N, ..>` and after a tuple
/// input `(B, ..)`.
macro_rules! sample_shape {
    ($Sample:ident [$($p:ident),+] => $Batched:ident; static $Rank:ident [$($d:ident),*]) => {
        #[diagnostic::do_not_recommend]
        impl<const N: usize, $(const $d: usize,)* $(const $p: usize,)+> SampleShape<$Rank<N $(, $d)*>>
            for $Sample<$($p),+>
        {
            type Output = $Batched<N, $($p),+>;
        }
    };
    ($Sample:ident [$($p:ident),+] => $Batched:ident; tuple ($($d:ident),*)) => {
        #[diagnostic::do_not_recommend]
        impl<B: Dim, $($d: Dim,)* $(const $p: usize,)+> SampleShape<(B, $($d,)*)> for $Sample<$($p),+> {
            type Output = (B, $(Const<$p>,)+);
        }
    };
}

/// [`SampleShape`] for a sample `$Sample<$p..>` after every input of rank 1 to 6.
macro_rules! sample_shapes {
    ($($Sample:ident [$($p:ident),+] => $Batched:ident;)*) => {$(
        sample_shape!($Sample [$($p),+] => $Batched; static Rank1 []);
        sample_shape!($Sample [$($p),+] => $Batched; static Rank2 [D1]);
        sample_shape!($Sample [$($p),+] => $Batched; static Rank3 [D1, D2]);
        sample_shape!($Sample [$($p),+] => $Batched; static Rank4 [D1, D2, D3]);
        sample_shape!($Sample [$($p),+] => $Batched; static Rank5 [D1, D2, D3, D4]);
        sample_shape!($Sample [$($p),+] => $Batched; static Rank6 [D1, D2, D3, D4, D5]);
        sample_shape!($Sample [$($p),+] => $Batched; tuple ());
        sample_shape!($Sample [$($p),+] => $Batched; tuple (D1));
        sample_shape!($Sample [$($p),+] => $Batched; tuple (D1, D2));
        sample_shape!($Sample [$($p),+] => $Batched; tuple (D1, D2, D3));
        sample_shape!($Sample [$($p),+] => $Batched; tuple (D1, D2, D3, D4));
        sample_shape!($Sample [$($p),+] => $Batched; tuple (D1, D2, D3, D4, D5));
    )*};
}

sample_shapes! {
    Rank1 [P1] => Rank2;
    Rank2 [P1, P2] => Rank3;
    Rank3 [P1, P2, P3] => Rank4;
}

/// [`SampleShape`] for a sample written as a tuple of dimensions `($p..)`, some of them run-time
/// (`(Const<8>, usize)`, a convolution's output over a sequence of run-time length): after a static
/// input `$Rank<N, ..>` and after a tuple input `(B, ..)`.
macro_rules! tuple_sample_shape {
    ([$($p:ident),+]; static $Rank:ident [$($d:ident),*]) => {
        #[diagnostic::do_not_recommend]
        impl<const N: usize, $(const $d: usize,)* $($p: Dim,)+> SampleShape<$Rank<N $(, $d)*>>
            for ($($p,)+)
        {
            type Output = (Const<N>, $($p,)+);
        }
    };
    ([$($p:ident),+]; tuple ($($d:ident),*)) => {
        #[diagnostic::do_not_recommend]
        impl<B: Dim, $($d: Dim,)* $($p: Dim,)+> SampleShape<(B, $($d,)*)> for ($($p,)+) {
            type Output = (B, $($p,)+);
        }
    };
}

/// [`SampleShape`] for a sample written as a tuple of dimensions, after every input of rank 1 to 6.
macro_rules! tuple_sample_shapes {
    ($([$($p:ident),+];)*) => {$(
        tuple_sample_shape!([$($p),+]; static Rank1 []);
        tuple_sample_shape!([$($p),+]; static Rank2 [D1]);
        tuple_sample_shape!([$($p),+]; static Rank3 [D1, D2]);
        tuple_sample_shape!([$($p),+]; static Rank4 [D1, D2, D3]);
        tuple_sample_shape!([$($p),+]; static Rank5 [D1, D2, D3, D4]);
        tuple_sample_shape!([$($p),+]; static Rank6 [D1, D2, D3, D4, D5]);
        tuple_sample_shape!([$($p),+]; tuple ());
        tuple_sample_shape!([$($p),+]; tuple (D1));
        tuple_sample_shape!([$($p),+]; tuple (D1, D2));
        tuple_sample_shape!([$($p),+]; tuple (D1, D2, D3));
        tuple_sample_shape!([$($p),+]; tuple (D1, D2, D3, D4));
        tuple_sample_shape!([$($p),+]; tuple (D1, D2, D3, D4, D5));
    )*};
}

tuple_sample_shapes! {
    [P1];
    [P1, P2];
    [P1, P2, P3];
}

/// One element of a sequence after the first: a [`Module`] of the sequence's element type, or an
/// activation without parameters. Implemented by the crate; not for use outside it.
#[doc(hidden)]
pub trait Layer<E: Element>: Send + Sync + 'static {
    type Grads: Module<Elem = E, Grads = Self::Grads> + Clone + core::fmt::Debug;
    type HoldsParams: crate::module::Flag;
    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>);
    fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>);
    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, E>);
    fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, E>);
    fn read_grads(&self, grads: &Grads<E>, trained: bool) -> Self::Grads;
    fn unused_into(
        &self,
        grads: &Grads<E>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    );
    fn zeros_like(&self) -> Self::Grads;
    fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, E>);
    fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, E>);
    fn set_training(&mut self, training: bool);
}

/// [`Layer`] with a tape: what the element becomes when its sequence is watched.
#[doc(hidden)]
pub trait TrainLayer<E: Element>: Layer<E> {
    type Tracked;
    fn track(&self, tape: &Tape<E>) -> Self::Tracked;
}

impl<M: Module> Layer<M::Elem> for M {
    type Grads = M::Grads;
    type HoldsParams = M::HoldsParams;
    fn visit(&self, path: &mut String, f: &mut Visit<'_, M::Elem>) {
        Module::visit(self, path, f);
    }
    fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>) {
        Module::frozen_into(self, frozen, path, out);
    }
    fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, M::Elem>) {
        Module::visit_mut(self, path, f);
    }
    fn zip_mut(&mut self, other: &M::Grads, f: &mut ZipMut<'_, M::Elem>) {
        Module::zip_mut(self, other, f);
    }
    fn read_grads(&self, grads: &Grads<M::Elem>, trained: bool) -> M::Grads {
        Module::read_grads(self, grads, trained)
    }
    fn unused_into(
        &self,
        grads: &Grads<M::Elem>,
        trained: bool,
        path: &mut String,
        out: &mut Vec<String>,
    ) {
        Module::unused_into(self, grads, trained, path, out);
    }
    fn zeros_like(&self) -> M::Grads {
        Module::zeros_like(self)
    }
    fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, M::Elem>) {
        Module::visit_buffers(self, path, f);
    }
    fn visit_buffers_mut(&mut self, path: &mut String, f: &mut VisitBuffersMut<'_, M::Elem>) {
        Module::visit_buffers_mut(self, path, f);
    }
    fn set_training(&mut self, training: bool) {
        Module::set_training(self, training);
    }
}

impl<M: Trainable> TrainLayer<M::Elem> for M {
    type Tracked = M::Tracked;
    fn track(&self, tape: &Tape<M::Elem>) -> M::Tracked {
        Trainable::track(self, tape)
    }
}

/// [`Layer`] and [`TrainLayer`] for layers without parameters, of any element type: they can stand
/// anywhere after a sequence's first layer.
macro_rules! no_params_layers {
    ($([$($g:tt)*] $ty:ty),* $(,)?) => {$(
        impl<E: Element, $($g)*> Layer<E> for $ty {
            type Grads = NoParams<E>;
            type HoldsParams = crate::module::No;
            fn visit(&self, _: &mut String, _: &mut Visit<'_, E>) {}
            fn frozen_into(&self, _: bool, _: &mut String, _: &mut Vec<String>) {}
            fn visit_mut(&mut self, _: &mut String, _: &mut VisitMut<'_, E>) {}
            fn zip_mut(&mut self, _: &NoParams<E>, _: &mut ZipMut<'_, E>) {}
            fn read_grads(&self, _: &Grads<E>, _: bool) -> NoParams<E> {
                NoParams::default()
            }
            fn unused_into(&self, _: &Grads<E>, _: bool, _: &mut String, _: &mut Vec<String>) {}
            fn zeros_like(&self) -> NoParams<E> {
                NoParams::default()
            }
            fn visit_buffers(&self, _: &mut String, _: &mut VisitBuffers<'_, E>) {}
            fn visit_buffers_mut(&mut self, _: &mut String, _: &mut VisitBuffersMut<'_, E>) {}
            fn set_training(&mut self, _: bool) {}
        }

        impl<E: Element, $($g)*> TrainLayer<E> for $ty {
            type Tracked = Self;
            fn track(&self, _: &Tape<E>) -> Self {
                *self
            }
        }
    )*};
}

no_params_layers! {
    [] ReLU,
    [] Sigmoid,
    [] Tanh,
    [const AX: usize] Softmax<AX>,
    [const K: usize, const S: usize, const P: usize, O: Shape] Out<MaxPool2d<K, S, P>, O>,
    [const K: usize, const S: usize, const P: usize, O: Shape] Out<AvgPool2d<K, S, P>, O>,
    [O: Shape] Out<Flatten, O>,
}

/// The activations' [`Forward`]: the same shape out.
macro_rules! activation_layers {
    ($($act:ident),*) => {$(
        impl<S: Shape, E: Element, T: Tracking<E>> Forward<Tensor<S, E, T>> for $act {
            type Output = Tensor<S, E, T>;
            fn forward(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
                $act::forward(self, x)
            }
        }
    )*};
}
activation_layers!(ReLU, Sigmoid, Tanh);

/// `Module`, `Trainable` and `Forward` for a tuple of layers.
macro_rules! sequence {
    (@or $f:ty) => { $f };
    (@or $f:ty, $($r:ty),+) => {
        <$f as crate::module::Flag>::Or<sequence!(@or $($r),+)>
    };
    ($a:ident $ai:tt $ay:ident $(, $rest:ident $ri:tt $ry:ident $rin:ident)+; $last:ident) => {
        impl<$a: Module, $($rest: Layer<$a::Elem>),+> Module for ($a, $($rest),+) {
            type Elem = $a::Elem;
            type Grads = ($a::Grads, $(<$rest as Layer<$a::Elem>>::Grads),+);
            type HoldsParams = sequence!(@or $a::HoldsParams $(, <$rest as Layer<$a::Elem>>::HoldsParams)+);

            fn visit(&self, path: &mut String, f: &mut Visit<'_, Self::Elem>) {
                let len = push_segment(path, stringify!($ai));
                Module::visit(&self.$ai, path, f);
                path.truncate(len);
                $(
                    let len = push_segment(path, stringify!($ri));
                    Layer::visit(&self.$ri, path, f);
                    path.truncate(len);
                )+
            }

            fn visit_mut(&mut self, path: &mut String, f: &mut VisitMut<'_, Self::Elem>) {
                let len = push_segment(path, stringify!($ai));
                Module::visit_mut(&mut self.$ai, path, f);
                path.truncate(len);
                $(
                    let len = push_segment(path, stringify!($ri));
                    Layer::visit_mut(&mut self.$ri, path, f);
                    path.truncate(len);
                )+
            }

            fn zip_mut(&mut self, other: &Self::Grads, f: &mut ZipMut<'_, Self::Elem>) {
                Module::zip_mut(&mut self.$ai, &other.$ai, f);
                $( Layer::zip_mut(&mut self.$ri, &other.$ri, f); )+
            }

            fn read_grads(&self, grads: &Grads<Self::Elem>, trained: bool) -> Self::Grads {
                (
                    Module::read_grads(&self.$ai, grads, trained),
                    $( Layer::read_grads(&self.$ri, grads, trained), )+
                )
            }

            fn unused_into(
                &self,
                grads: &Grads<Self::Elem>,
                trained: bool,
                path: &mut String,
                out: &mut Vec<String>,
            ) {
                let len = push_segment(path, stringify!($ai));
                Module::unused_into(&self.$ai, grads, trained, path, out);
                path.truncate(len);
                $(
                    let len = push_segment(path, stringify!($ri));
                    Layer::unused_into(&self.$ri, grads, trained, path, out);
                    path.truncate(len);
                )+
            }

            fn frozen_into(&self, frozen: bool, path: &mut String, out: &mut Vec<String>) {
                let len = push_segment(path, stringify!($ai));
                Module::frozen_into(&self.$ai, frozen, path, out);
                path.truncate(len);
                $(
                    let len = push_segment(path, stringify!($ri));
                    Layer::frozen_into(&self.$ri, frozen, path, out);
                    path.truncate(len);
                )+
            }

            fn zeros_like(&self) -> Self::Grads {
                (Module::zeros_like(&self.$ai), $( Layer::zeros_like(&self.$ri), )+)
            }

            fn visit_buffers(&self, path: &mut String, f: &mut VisitBuffers<'_, Self::Elem>) {
                let len = push_segment(path, stringify!($ai));
                Module::visit_buffers(&self.$ai, path, f);
                path.truncate(len);
                $(
                    let len = push_segment(path, stringify!($ri));
                    Layer::visit_buffers(&self.$ri, path, f);
                    path.truncate(len);
                )+
            }

            fn visit_buffers_mut(
                &mut self,
                path: &mut String,
                f: &mut VisitBuffersMut<'_, Self::Elem>,
            ) {
                let len = push_segment(path, stringify!($ai));
                Module::visit_buffers_mut(&mut self.$ai, path, f);
                path.truncate(len);
                $(
                    let len = push_segment(path, stringify!($ri));
                    Layer::visit_buffers_mut(&mut self.$ri, path, f);
                    path.truncate(len);
                )+
            }

            fn set_training(&mut self, training: bool) {
                Module::set_training(&mut self.$ai, training);
                $( Layer::set_training(&mut self.$ri, training); )+
            }
        }

        impl<$a: Trainable, $($rest: TrainLayer<$a::Elem>),+> Trainable for ($a, $($rest),+) {
            type Tracked = ($a::Tracked, $(<$rest as TrainLayer<$a::Elem>>::Tracked),+);

            fn track(&self, tape: &Tape<Self::Elem>) -> Self::Tracked {
                (Trainable::track(&self.$ai, tape), $( TrainLayer::track(&self.$ri, tape), )+)
            }
        }

        impl<X, $a, $ay, $($rest, $ry),+> Forward<X> for ($a, $($rest),+)
        where
            $a: Forward<X, Output = $ay>,
            $( $rest: Forward<$rin, Output = $ry>, )+
        {
            type Output = $last;

            #[track_caller]
            fn forward(&self, x: X) -> $last {
                let y = self.$ai.forward(x);
                $( let y = self.$ri.forward(y); )+
                y
            }
        }
    };
}

sequence!(A 0 Ya, B 1 Yb Ya; Yb);
sequence!(A 0 Ya, B 1 Yb Ya, C 2 Yc Yb; Yc);
sequence!(A 0 Ya, B 1 Yb Ya, C 2 Yc Yb, D 3 Yd Yc; Yd);
sequence!(A 0 Ya, B 1 Yb Ya, C 2 Yc Yb, D 3 Yd Yc, F 4 Yf Yd; Yf);
sequence!(A 0 Ya, B 1 Yb Ya, C 2 Yc Yb, D 3 Yd Yc, F 4 Yf Yd, G 5 Yg Yf; Yg);
sequence!(A 0 Ya, B 1 Yb Ya, C 2 Yc Yb, D 3 Yd Yc, F 4 Yf Yd, G 5 Yg Yf, H 6 Yh Yg; Yh);
sequence!(A 0 Ya, B 1 Yb Ya, C 2 Yc Yb, D 3 Yd Yc, F 4 Yf Yd, G 5 Yg Yf, H 6 Yh Yg, I 7 Yi Yh; Yi);

/// The blocks of a list in order, each on the previous one's output: the first takes `x` (an
/// input off the tape, say) to `Y`, every other one `Y` to `Y`. No block: `x` itself, which must
/// then be of the output's type.
#[track_caller]
fn forward_blocks<X: 'static, Y: 'static, M>(blocks: &[M], x: X) -> Y
where
    M: Forward<X, Output = Y> + Forward<Y, Output = Y>,
{
    let Some((first, rest)) = blocks.split_first() else {
        let mut x = Some(x);
        let same: Option<&mut Option<Y>> = (&mut x as &mut dyn core::any::Any).downcast_mut();
        return same.and_then(Option::take).unwrap_or_else(|| {
            panic!(
                "a list of no blocks returns its input, but its input `{}` is not its output `{}` \
                 (an input off the tape into blocks on a tape)",
                core::any::type_name::<X>(),
                core::any::type_name::<Y>()
            )
        });
    };
    let mut y = first.forward(x);
    for block in rest {
        y = block.forward(y);
    }
    y
}

/// [`Forward`] for a list of blocks of one type (`$ty`, an array or a `Vec` of `M`).
macro_rules! list_forward {
    ($([$($g:tt)*] $ty:ty;)*) => {$(
        /// The blocks in order, each on the previous one's output, as a tuple of them would: the
        /// first takes the input `X` to `Y` (onto the tape, for a list on one), every other one
        /// `Y` to `Y`. A list of no blocks returns its input, and panics if `X` is not `Y`.
        impl<X: 'static, Y: 'static, M, $($g)*> Forward<X> for $ty
        where
            M: Forward<X, Output = Y> + Forward<Y, Output = Y>,
        {
            type Output = Y;

            #[track_caller]
            fn forward(&self, x: X) -> Y {
                forward_blocks(self, x)
            }
        }
    )*};
}

list_forward! {
    [const N: usize] [M; N];
    [] Vec<M>;
}

impl<const IN: usize, const OUT: usize, E: Element, T: Tracking<E>, S: Shape, X>
    Forward<Tensor<S, E, X>> for Linear<IN, OUT, E, T>
where
    Rank2<OUT, IN>: LinearShape<S>,
    X: Tracking<E> + Merge<E, T>,
    Merged<E, X, T>:
        Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
{
    type Output = Tensor<<Rank2<OUT, IN> as LinearShape<S>>::Output, E, Merged<E, X, T>>;
    fn forward(&self, x: Tensor<S, E, X>) -> Self::Output {
        Linear::forward(self, x)
    }
}

impl<const D: usize, E: Element, T: Tracking<E>, S, X> Forward<Tensor<S, E, X>>
    for LayerNorm<D, E, T>
where
    S: NonScalar<Last = Const<D>>,
    X: Tracking<E> + Merge<E, T>,
    Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
{
    type Output = Tensor<S, E, Merged<E, X, T>>;
    fn forward(&self, x: Tensor<S, E, X>) -> Self::Output {
        LayerNorm::forward(self, x)
    }
}

impl<const C: usize, E: Element, T: Tracking<E>, S, X> Forward<Tensor<S, E, X>>
    for BatchNorm1d<C, E, T>
where
    S: crate::nn::BatchNormShape<C>,
    X: Tracking<E> + Merge<E, T>,
    Merged<E, X, T>: Merge<E, T, Output = Merged<E, X, T>>,
{
    type Output = Tensor<S, E, Merged<E, X, T>>;
    fn forward(&self, x: Tensor<S, E, X>) -> Self::Output {
        BatchNorm1d::forward(self, x)
    }
}

impl<const D: usize, S, E: Element, T: Tracking<E>> Forward<Tensor<S, E, T>>
    for LayerNormNoAffine<D, E>
where
    S: NonScalar<Last = Const<D>>,
{
    type Output = Tensor<S, E, T>;
    fn forward(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
        LayerNormNoAffine::forward(self, x)
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Forward<Tensor<S, E, T>> for Dropout<E> {
    type Output = Tensor<S, E, T>;
    fn forward(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
        Dropout::forward(self, x)
    }
}

/// An embedding takes its ids by value (they are shared, not copied).
impl<const V: usize, const D: usize, E: Element, T: Tracking<E>, N: Dim>
    Forward<Indices<N, Const<V>>> for Embedding<V, D, E, T>
{
    type Output = Tensor<(N, Const<D>), E, T>;
    fn forward(&self, ids: Indices<N, Const<V>>) -> Self::Output {
        Embedding::forward(self, &ids)
    }
}

impl<const AX: usize, S: ReduceAxis<AX>, E: Element, T: Tracking<E>> Forward<Tensor<S, E, T>>
    for Softmax<AX>
{
    type Output = Tensor<S, E, T>;
    fn forward(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
        Softmax::forward(self, x)
    }
}

/// A convolution with the output shape of one sample written: the layer's `forward`, its shape
/// rule and its `const` assertion on the output sizes, with the input's batch.
macro_rules! conv_forward {
    ($Layer:ident, $d:literal, $Weight:ident<$($k:ident),+>) => {
        impl<
            const IN: usize,
            const OUT: usize,
            const K: usize,
            E: Element,
            T: Tracking<E>,
            const STRIDE: usize,
            const PADDING: usize,
            const DILATION: usize,
            O,
            S: Shape,
            X,
        > Forward<Tensor<S, E, X>> for Out<$Layer<IN, OUT, K, E, T, STRIDE, PADDING, DILATION>, O>
        where
            O: SampleShape<S>,
            $Weight<OUT, IN, $($k),+>: ConvShape<S, <O as SampleShape<S>>::Output, $d>,
            X: Tracking<E> + Merge<E, T>,
            Merged<E, X, T>:
                Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
        {
            type Output = Tensor<<O as SampleShape<S>>::Output, E, Merged<E, X, T>>;
            #[track_caller]
            fn forward(&self, x: Tensor<S, E, X>) -> Self::Output {
                self.layer.forward(x)
            }
        }
    };
}

conv_forward!(Conv2d, 2, Rank4<K, K>);
conv_forward!(Conv1d, 1, Rank3<K>);

/// A layer without parameters whose output shape is written (a pooling, [`Flatten`] with its
/// width as `Rank1<F>`): the layer's `forward`, its shape rule and its `const` assertion on the
/// output sizes, with the input's batch.
macro_rules! sample_forward {
    ($(impl[$($g:tt)*] $Layer:ty: $Rule:ident;)*) => {$(
        impl<$($g)* O, S, E, T> Forward<Tensor<S, E, T>> for Out<$Layer, O>
        where
            O: SampleShape<S>,
            S: $Rule<<O as SampleShape<S>>::Output>,
            E: Element,
            T: Tracking<E>,
        {
            type Output = Tensor<<O as SampleShape<S>>::Output, E, T>;
            #[track_caller]
            fn forward(&self, x: Tensor<S, E, T>) -> Self::Output {
                self.layer.forward(x)
            }
        }
    )*};
}

sample_forward! {
    impl[const KERNEL: usize, const STRIDE: usize, const PADDING: usize,]
        MaxPool2d<KERNEL, STRIDE, PADDING>: Pool2dShape;
    impl[const KERNEL: usize, const STRIDE: usize, const PADDING: usize,]
        AvgPool2d<KERNEL, STRIDE, PADDING>: Pool2dShape;
    impl[] Flatten: FlattenShape;
}
