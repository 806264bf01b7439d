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

/// An activation as a layer and as a function; each form's example is given after `forward:` and
/// `function:`.
macro_rules! activation {
    (
        $(#[$doc:meta])* $layer:ident, $fun:ident;
        forward: $(#[$forward:meta])*
        function: $(#[$function:meta])*
    ) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $layer;

        impl $layer {
            #[doc = concat!("`x.", stringify!($fun), "()`.")]
            ///
            $(#[$forward])*
            #[must_use]
            pub fn forward<S: Shape, E: Element, T: Tracking<E>>(&self, x: Tensor<S, E, T>) -> Tensor<S, E, T> {
                x.$fun()
            }
        }

        #[doc = concat!("`x.", stringify!($fun), "()`, as a function.")]
        ///
        $(#[$function])*
        #[must_use]
        pub fn $fun<S: Shape, E: Element, T: Tracking<E>>(x: &Tensor<S, E, T>) -> Tensor<S, E, T> {
            x.$fun()
        }
    };
}

activation! {
    /// The rectified linear unit, `max(x, 0)` (derivative 0 at 0), as a layer.
    ///
    /// ```
    /// use shaped::nn::{Forward, Linear, ReLU};
    /// use shaped::Tensor;
    /// // nn.Sequential(nn.Linear(1, 2, bias=False), nn.ReLU()), weights 1 and -1: [x, -x] clipped at 0
    /// let model = (Linear::from_weights(Tensor::from([[1.0], [-1.0]]), None), ReLU);
    /// assert_eq!(model.forward(Tensor::from([[2.0], [-3.0]])).to_array(), [[2.0, 0.0], [0.0, 3.0]]);
    /// ```
    ReLU,
    relu;
    forward:
    /// ```
    /// use shaped::nn::ReLU;
    /// use shaped::Tensor;
    /// let y = ReLU.forward(Tensor::from([[-2.0, 0.0], [0.5, 3.0]]));
    /// assert_eq!(y.to_array(), [[0.0, 0.0], [0.5, 3.0]]);
    /// ```
    function:
    /// ```
    /// use shaped::nn::relu;
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([-1.0, 0.0, 2.0]));
    /// let y = relu(&x);
    /// assert_eq!(y.to_vec(), vec![0.0, 0.0, 2.0]);
    /// // The derivative: 1 where x > 0, 0 elsewhere (at 0 too).
    /// assert_eq!(y.sum().backward().get(&x).to_vec(), vec![0.0, 0.0, 1.0]);
    /// ```
}

activation! {
    /// The logistic function `1 / (1 + e^-x)`, as a layer.
    ///
    /// ```
    /// use shaped::nn::{Forward, Linear, Sigmoid};
    /// use shaped::Tensor;
    /// // A logistic regression on two features: sigmoid(x0 - x1).
    /// let model = (Linear::from_weights(Tensor::from([[1.0, -1.0]]), None), Sigmoid);
    /// let p = model.forward(Tensor::from([[3.0, 3.0], [1.0, 5.0]]));
    /// assert_eq!(p[[0, 0]], 0.5); // 1 / (1 + e^0)
    /// assert!((p[[1, 0]] - 1.0 / (1.0 + 4.0_f64.exp())).abs() < 1e-15);
    /// ```
    Sigmoid,
    sigmoid;
    forward:
    /// ```
    /// use shaped::nn::Sigmoid;
    /// use shaped::Tensor;
    /// // 1 / (1 + e^-ln 3) = 1 / (1 + 1/3) = 3/4, and 1 / (1 + 3) = 1/4 at -ln 3.
    /// let y = Sigmoid.forward(Tensor::from([0.0, 3.0_f64.ln(), -(3.0_f64.ln())]));
    /// for (got, want) in y.to_vec().into_iter().zip([0.5, 0.75, 0.25]) {
    ///     assert!((got - want).abs() < 1e-12);
    /// }
    /// ```
    function:
    /// ```
    /// use shaped::nn::sigmoid;
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([0.0, 0.0]));
    /// let y = sigmoid(&x);
    /// assert_eq!(y.to_vec(), vec![0.5, 0.5]);
    /// // The derivative y (1 - y) is 1/4 at 0.
    /// assert_eq!(y.sum().backward().get(&x).to_vec(), vec![0.25, 0.25]);
    /// ```
}

activation! {
    /// The hyperbolic tangent, as a layer.
    ///
    /// ```
    /// use shaped::nn::{Forward, Linear, Tanh};
    /// use shaped::Tensor;
    /// // tanh(2 x): tanh(0) = 0, tanh(ln 2) = (2 - 1/2) / (2 + 1/2) = 3/5.
    /// let model = (Linear::from_weights(Tensor::from([[2.0]]), None), Tanh);
    /// let y = model.forward(Tensor::from([[0.0], [0.5 * 2.0_f64.ln()]]));
    /// assert_eq!(y[[0, 0]], 0.0);
    /// assert!((y[[1, 0]] - 0.6).abs() < 1e-12);
    /// ```
    Tanh,
    tanh;
    forward:
    /// ```
    /// use shaped::nn::Tanh;
    /// use shaped::Tensor;
    /// // tanh(±ln 2) = ±(2 - 1/2) / (2 + 1/2) = ±3/5.
    /// let y = Tanh.forward(Tensor::from([0.0, 2.0_f64.ln(), -(2.0_f64.ln())]));
    /// for (got, want) in y.to_vec().into_iter().zip([0.0, 0.6, -0.6]) {
    ///     assert!((got - want).abs() < 1e-12);
    /// }
    /// ```
    function:
    /// ```
    /// use shaped::nn::tanh;
    /// use shaped::{Tape, Tensor};
    /// let tape = Tape::new();
    /// let x = tape.watch(&Tensor::from([0.0, 2.0_f64.ln()]));
    /// let y = tanh(&x);
    /// // The derivative 1 - y^2: 1 at 0, 1 - (3/5)^2 = 16/25 at ln 2.
    /// let g = y.sum().backward().get(&x).to_vec();
    /// assert_eq!(g[0], 1.0);
    /// assert!((g[1] - 0.64).abs() < 1e-12);
    /// ```
}

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
    ///
    /// ```
    /// use shaped::nn::Softmax;
    /// use shaped::Tensor;
    /// // Along axis 0 each column sums to 1: [ln 3, 0] gives [3 / (3 + 1), 1 / (3 + 1)].
    /// let p = Softmax::<0>.forward(Tensor::from([[3.0_f64.ln(), 0.0], [0.0, 0.0]]));
    /// let [[a, b], [c, d]] = p.to_array();
    /// assert!((a - 0.75).abs() < 1e-12 && (c - 0.25).abs() < 1e-12);
    /// assert_eq!([b, d], [0.5, 0.5]);
    /// ```
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
