//! Activations as layers (`ReLU.forward(x)`) and as functions (`relu(&x)`); both are the tensor
//! methods (`x.relu()`) under another name, for code that composes layers.
//!
//! They have no parameters: in a model with `#[derive(Module)]`, a field holding one is marked
//! `#[module(skip)]`.
//!
//! ```
//! use shaped::nn::{ReLU, relu};
//! use shaped::Tensor;
//! let x = Tensor::from([-1.0, 2.0]);
//! assert_eq!(ReLU.forward(x.clone()).to_vec(), vec![0.0, 2.0]);
//! assert_eq!(relu(&x).to_vec(), vec![0.0, 2.0]);
//! ```

use crate::{Axis, Element, ReduceAxis, Shape, Tensor, Tracking};

macro_rules! activation {
    ($(#[$doc:meta])* $layer:ident, $fun:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $layer;

        impl $layer {
            #[doc = concat!("`x.", stringify!($fun), "()`.")]
            #[must_use]
            pub fn forward<S: Shape, E: Element, T: Tracking<E>>(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
                x.$fun()
            }
        }

        #[doc = concat!("`x.", stringify!($fun), "()`, as a function.")]
        #[must_use]
        pub fn $fun<S: Shape, E: Element, T: Tracking<E>>(x: &Tensor<S, E, T>) -> Tensor<S, E, T> {
            x.$fun()
        }
    };
}

activation!(
    /// The rectified linear unit, `max(x, 0)` (derivative 0 at 0), as a layer.
    ReLU,
    relu
);
activation!(
    /// The logistic function `1 / (1 + e^-x)`, as a layer.
    Sigmoid,
    sigmoid
);
activation!(
    /// The hyperbolic tangent, as a layer.
    Tanh,
    tanh
);

/// Softmax along axis `AX`, as a layer; it can stand in a tuple of layers, as the other activations
/// (see [`Forward`](crate::nn::Forward)).
///
/// ```
/// use shaped::nn::Softmax;
/// use shaped::Tensor;
/// let p = Softmax::<1>.forward(Tensor::from([[0.0, 0.0], [1.0, 1.0]]));
/// assert_eq!(p.to_array(), [[0.5, 0.5], [0.5, 0.5]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Softmax<const AX: usize>;

impl<const AX: usize> Softmax<AX> {
    /// `x.softmax::<AX>()`.
    #[must_use]
    #[allow(clippy::needless_pass_by_value)] // by value, like every layer's forward
    pub fn forward<S: ReduceAxis<AX>, E: Element, T: Tracking<E>>(
        &self,
        x: Tensor<S, E, T>,
    ) -> Tensor<S, E, T> {
        x.softmax::<AX>()
    }
}

/// `x.softmax::<AX>()`, as a function whose axis is a value: `softmax(Axis::<1>, &x)`, as
/// [`concat`](Tensor::concat) and [`stack`](Tensor::stack) take theirs. PyTorch:
/// `torch.nn.functional.softmax(x, dim)`.
///
/// (A function written `softmax::<1>(&x)` would need its other type parameters, the tensor's
/// shape, element and tracking, written as `_`: stable Rust has no partial turbofish. The
/// [`Axis`] value carries the axis and leaves the rest to inference.)
///
/// ```
/// use shaped::nn::{log_softmax, softmax};
/// use shaped::{Axis, Tensor};
/// let x = Tensor::from([[2.0_f64.ln(), 0.0], [0.0, 0.0]]);
/// assert_eq!(softmax(Axis::<1>, &x).to_array(), [[2.0 / 3.0, 1.0 / 3.0], [0.5, 0.5]]);
/// assert_eq!(softmax(Axis::<0>, &x).to_array()[1], [1.0 / 3.0, 0.5]);
/// assert_eq!(log_softmax(Axis::<1>, &x).to_array()[1], [-2.0_f64.ln(); 2]);
/// ```
#[must_use]
pub fn softmax<const AX: usize, S: ReduceAxis<AX>, E: Element, T: Tracking<E>>(
    _axis: Axis<AX>,
    x: &Tensor<S, E, T>,
) -> Tensor<S, E, T> {
    x.softmax::<AX>()
}

/// `x.log_softmax::<AX>()`, as a function whose axis is a value, like [`softmax`]. PyTorch:
/// `torch.nn.functional.log_softmax(x, dim)`.
///
/// ```
/// use shaped::nn::log_softmax;
/// use shaped::{Axis, Tensor};
/// let y = log_softmax(Axis::<0>, &Tensor::from([0.0, 0.0]));
/// assert_eq!(y.to_vec(), vec![-2.0_f64.ln(); 2]);
/// ```
#[must_use]
pub fn log_softmax<const AX: usize, S: ReduceAxis<AX>, E: Element, T: Tracking<E>>(
    _axis: Axis<AX>,
    x: &Tensor<S, E, T>,
) -> Tensor<S, E, T> {
    x.log_softmax::<AX>()
}
