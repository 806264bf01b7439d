//! Layers in sequence without a struct: a tuple of layers is a model, PyTorch's `nn.Sequential`.
//!
//! See [`Forward`].

use crate::module::{Visit, VisitBuffers, VisitBuffersMut, VisitMut, ZipMut, push_segment};
use crate::nn::{
    BatchNorm1d, Dropout, Embedding, LayerNorm, LayerNormNoAffine, Linear, NoParams, ReLU, Sigmoid,
    Tanh,
};
use crate::ops::Merged;
use crate::{
    Const, Dim, Element, Grads, Indices, LinearShape, Merge, Module, NoTape, NonScalar, Rank2,
    Shape, Tape, Tensor, Tracking, Trainable,
};

/// A layer's forward pass as a trait, so that a sequence of layers can run them in order: `x` in,
/// [`Output`](Forward::Output) out. Implemented by [`Linear`], [`LayerNorm`],
/// [`LayerNormNoAffine`], [`BatchNorm1d`], [`Dropout`], [`Embedding`] (ids in), the activation
/// layers [`ReLU`], [`Sigmoid`] and [`Tanh`], and tuples of them; each also has the same `forward`
/// as an inherent method. [`Softmax`](crate::nn::Softmax), the convolutions, the poolings,
/// [`Flatten`](crate::nn::Flatten), [`Bilinear`](crate::nn::Bilinear) and
/// [`MultiheadAttention`](crate::nn::MultiheadAttention) do not implement it: call their
/// `forward` from a model's own.
///
/// # Tuples of layers
/// `(Linear<4, 8>, ReLU, Linear<8, 3>)` is a [`Module`] whose parameters are named by position as
/// in `nn.Sequential` (`0.weight`, `0.bias`, `2.weight`, `2.bias`: an activation takes a position
/// and has no parameters), whose gradients are the tuple of its layers' gradients
/// (`(LinearGrads, NoParams, LinearGrads)`, typed as any model's), and whose [`Forward`] runs the
/// layers in order. [`train`](Module::train) and [`eval`](Module::eval) reach every layer, and a
/// tuple can be a field of a derived model or a layer of another tuple.
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
/// [`Dropout`](crate::nn::Dropout), a nested tuple): it fixes the element type; the activations
/// [`ReLU`], [`Sigmoid`] and [`Tanh`] can stand anywhere after it. Tuples of 2 to 8 layers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot take a `{X}` as its input",
    label = "no `Forward` for this input",
    note = "in a sequence, each layer's input is the previous layer's output: check the widths"
)]
pub trait Forward<X> {
    /// The output for an input `X`.
    type Output;
    /// Runs the layer (or the sequence) on `x`.
    fn forward(&self, x: X) -> Self::Output;
}

/// One element of a sequence after the first: a [`Module`] of the sequence's element type, or an
/// activation without parameters. Implemented by the crate; not for use outside it.
#[doc(hidden)]
pub trait Layer<E: Element>: Send + Sync + 'static {
    type Grads: Module<Elem = E, Grads = Self::Grads> + Clone + core::fmt::Debug;
    fn visit(&self, path: &mut String, f: &mut Visit<'_, E>);
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
    fn visit(&self, path: &mut String, f: &mut Visit<'_, M::Elem>) {
        Module::visit(self, path, f);
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

/// The activations: layers without parameters, of any element type.
macro_rules! activation_layers {
    ($($act:ident),*) => {$(
        impl<E: Element> Layer<E> for $act {
            type Grads = NoParams<E>;
            fn visit(&self, _: &mut String, _: &mut Visit<'_, E>) {}
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

        impl<E: Element> TrainLayer<E> for $act {
            type Tracked = $act;
            fn track(&self, _: &Tape<E>) -> $act {
                $act
            }
        }

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
    ($a:ident $ai:tt $ay:ident $(, $rest:ident $ri:tt $ry:ident $rin:ident)+; $last:ident) => {
        impl<$a: Module, $($rest: Layer<$a::Elem>),+> Module for ($a, $($rest),+) {
            type Elem = $a::Elem;
            type Grads = ($a::Grads, $(<$rest as Layer<$a::Elem>>::Grads),+);

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
