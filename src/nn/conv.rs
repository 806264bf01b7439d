//! `Conv1d` and `Conv2d`: convolution layers, PyTorch's `nn.Conv1d` and `nn.Conv2d`.

use rand::Rng;

use super::init::{Fan, Nonlinearity, kaiming_uniform};
use super::linear::init_uniform;
use crate::ops::Merged;
use crate::{
    Conv, ConvShape, Element, Merge, Module, NoBias, NoTape, Rank1, Rank3, Rank4, Shape, Tensor,
    Tracking,
};

/// The constructors and the forward of a convolution layer: `$op` on a weight `$Weight<OUT, IN,
/// kernel..>`, whose kernel has `$k` taps along each of its spatial axes. Each method's example is
/// given after its name.
macro_rules! conv_layer {
    (
        $Layer:ident, $op:ident, $d:literal, $Weight:ident<$($k:ident),+>;
        new: $(#[$new:meta])*
        from_weights: $(#[$from_weights:meta])*
        zeros: $(#[$zeros:meta])*
        without_bias: $(#[$without_bias:meta])*
        forward: $(#[$forward:meta])*
    ) => {
        impl<
            const IN: usize,
            const OUT: usize,
            const K: usize,
            E: Element,
            const STRIDE: usize,
            const PADDING: usize,
            const DILATION: usize,
        > $Layer<IN, OUT, K, E, NoTape, STRIDE, PADDING, DILATION>
        {
            /// A layer with PyTorch's default initialization: the weight from
            /// `kaiming_uniform(a = sqrt(5))`, which is `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, and the bias
            /// from the same uniform, with `fan_in = IN` times the kernel's size.
            ///
            $(#[$new])*
            #[must_use]
            pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
                // The weight is drawn first, then the bias, as PyTorch's `reset_parameters`.
                let mut layer = Self::without_bias(rng);
                layer.bias = Some(init_uniform(rng, IN $(* $k)+));
                layer
            }

            /// A layer with the given weight and bias (or none), without drawing random ones.
            ///
            $(#[$from_weights])*
            #[must_use]
            pub fn from_weights(
                weight: Tensor<$Weight<OUT, IN, $($k),+>, E>,
                bias: Option<Tensor<Rank1<OUT>, E>>,
            ) -> Self {
                Self { weight, bias }
            }

            /// A layer of zeros, with a bias: the cheapest start for loading a checkpoint into.
            ///
            $(#[$zeros])*
            #[must_use]
            pub fn zeros() -> Self {
                Self::from_weights(Tensor::zeros(), Some(Tensor::zeros()))
            }

            /// A layer without bias (`bias=False`), its weight initialized as by [`new`](Self::new).
            ///
            $(#[$without_bias])*
            #[must_use]
            pub fn without_bias<R: Rng + ?Sized>(rng: &mut R) -> Self {
                let weight = kaiming_uniform(rng, Fan::In, Nonlinearity::LeakyRelu(5.0_f64.sqrt()));
                Self { weight, bias: None }
            }
        }

        impl<
            const IN: usize,
            const OUT: usize,
            const K: usize,
            E: Element,
            T: Tracking<E>,
            const STRIDE: usize,
            const PADDING: usize,
            const DILATION: usize,
        > $Layer<IN, OUT, K, E, T, STRIDE, PADDING, DILATION>
        {
            #[doc = concat!("The convolution of `x` by the layer's filters, plus its bias: [`Tensor::", stringify!($op), "`]")]
            /// with the layer's stride, padding and dilation. The output's type is written by the
            /// caller (its spatial sizes are checked by a `const` assertion at `cargo build`); an input
            /// whose channels are not `IN` does not compile. The result is on the layer's tape if it
            /// was watched, and on the input's if the input is on one.
            ///
            /// # Panics
            /// When the input's channels are a run-time size other than `IN`; when a spatial size is
            /// run-time and the kernel spans more than it padded (the message names the op, the axis
            /// and the sizes), or gives another output size than a `Const` written for it.
            ///
            $(#[$forward])*
            #[must_use]
            #[track_caller]
            #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
            pub fn forward<S: Shape, O: Shape, X>(&self, x: Tensor<S, E, X>) -> Tensor<O, E, Merged<E, X, T>>
            where
                $Weight<OUT, IN, $($k),+>: ConvShape<S, O, $d>,
                X: Tracking<E> + Merge<E, T>,
                Merged<E, X, T>:
                    Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
            {
                let spec = Conv::<STRIDE, PADDING, DILATION>;
                match &self.bias {
                    Some(b) => x.$op(&self.weight, b, spec),
                    None => x.$op(&self.weight, NoBias, spec),
                }
            }
        }
    };
}

/// A two-dimensional convolution layer: `IN` input channels, `OUT` filters of `K x K`, PyTorch's
/// `nn.Conv2d(IN, OUT, K, stride=STRIDE, padding=PADDING, dilation=DILATION)` with the same layout and
/// parameter names: `weight: [OUT, IN, K, K]`, `bias: [OUT]`. The input is `[N, IN, H, W]` (or a tuple
/// with a run-time batch), the output `[N, OUT, H_out, W_out]`, computed by [`Tensor::conv2d`].
///
/// The parameters after `E` and `T` are the spec, PyTorch's defaults when left out:
/// `Conv2d<1, 16, 3>` is `nn.Conv2d(1, 16, 3)`, and in a model generic over its tracking,
/// `Conv2d<1, 16, 3, f32, T, 1, 1>` is `nn.Conv2d(1, 16, 3, padding=1)`.
///
/// An image with other than `IN` channels, or an output with other than `OUT`, does not compile; a
/// wrong output size is a `const` assertion, reported by `cargo build`.
///
/// In a tuple of layers it stands with its output shape written, per image:
/// `Out<Conv2d<1, 16, 3>, Rank3<16, H_out, W_out>>` (see [`Out`](crate::nn::Out)).
///
/// ```
/// use shaped::nn::Conv2d;
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, NoTape, Rank4, Tape, Tensor};
///
/// let layer: Conv2d<1, 4, 3, f32, NoTape, 1, 1> = Conv2d::new(&mut StdRng::seed_from_u64(0));
/// assert_eq!(layer.param_count(), 4 * 9 + 4);
/// // kaiming_uniform(a = sqrt(5)): |w| <= 1 / sqrt(fan_in) = 1/3
/// assert!(layer.weight.as_slice().iter().all(|w| w.abs() <= 1.0 / 3.0));
///
/// let x: Tensor<Rank4<2, 1, 5, 5>> = Tensor::ones();
/// let y: Tensor<Rank4<2, 4, 5, 5>> = layer.forward(x.clone()); // padding 1 keeps 5 x 5
///
/// // Gradients with the layer's own shape.
/// let tape = Tape::new();
/// let out: Tensor<Rank4<2, 4, 5, 5>, f32, Tape<f32>> = tape.watch(&layer).forward(x);
/// let g = layer.grads(&out.sum().backward());
/// assert_eq!(g.bias.unwrap().to_vec(), vec![50.0; 4]); // 2 images of 5 x 5 per filter
/// # let _ = y;
/// ```
#[derive(Module, Clone, Debug)]
pub struct Conv2d<
    const IN: usize,
    const OUT: usize,
    const K: usize,
    E: Element = f32,
    T: Tracking<E> = NoTape,
    const STRIDE: usize = 1,
    const PADDING: usize = 0,
    const DILATION: usize = 1,
> {
    /// `[OUT, IN, K, K]`, as `nn.Conv2d.weight`.
    pub weight: Tensor<Rank4<OUT, IN, K, K>, E, T>,
    /// `[OUT]`, or `None` for a layer without bias.
    pub bias: Option<Tensor<Rank1<OUT>, E, T>>,
}

conv_layer! {
    Conv2d, conv2d, 2, Rank4<K, K>;
    new:
    /// ```
    /// use shaped::nn::Conv2d;
    /// use shaped::Module;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// // fan_in = 1 channel x 2 x 2 = 4: weight and bias in U(-1/2, 1/2)
    /// let layer: Conv2d<1, 4, 2> = Conv2d::new(&mut StdRng::seed_from_u64(1));
    /// assert_eq!(layer.param_count(), 4 * 2 * 2 + 4);
    /// assert!(layer.weight.as_slice().iter().all(|w| w.abs() <= 0.5));
    /// assert!(layer.bias.unwrap().as_slice().iter().all(|b| b.abs() <= 0.5));
    /// ```
    from_weights:
    /// ```
    /// use shaped::nn::Conv2d;
    /// use shaped::{Rank4, Tensor};
    /// // One 2 x 2 filter of ones and a bias of 0.5: each output is the sum of a window, plus 0.5.
    /// let layer: Conv2d<1, 1, 2> =
    ///     Conv2d::from_weights(Tensor::from([[[[1.0, 1.0], [1.0, 1.0]]]]), Some(Tensor::from([0.5])));
    /// let x = Tensor::from([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]);
    /// let y: Tensor<Rank4<1, 1, 2, 2>> = layer.forward(x);
    /// // 1 + 2 + 4 + 5 = 12, 2 + 3 + 5 + 6 = 16, 4 + 5 + 7 + 8 = 24, 5 + 6 + 8 + 9 = 28
    /// assert_eq!(y.to_vec(), vec![12.5, 16.5, 24.5, 28.5]);
    /// ```
    zeros:
    /// ```
    /// use shaped::nn::Conv2d;
    /// use shaped::Module;
    /// let layer: Conv2d<3, 2, 3> = Conv2d::zeros();
    /// assert_eq!(layer.param_count(), 2 * 3 * 3 * 3 + 2);
    /// assert!(layer.weight.as_slice().iter().all(|&w| w == 0.0));
    /// assert_eq!(layer.bias.unwrap().to_vec(), vec![0.0, 0.0]);
    /// ```
    without_bias:
    /// ```
    /// use shaped::nn::Conv2d;
    /// use shaped::Module;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let layer: Conv2d<3, 8, 3> = Conv2d::without_bias(&mut StdRng::seed_from_u64(1));
    /// assert!(layer.bias.is_none());
    /// assert_eq!(layer.param_count(), 8 * 3 * 3 * 3);
    /// ```
    forward:
    /// ```
    /// use shaped::nn::Conv2d;
    /// use shaped::{NoTape, Rank4, Tensor};
    /// // A 2 x 2 filter of ones with padding 1: each output is the sum of a window over the image
    /// // [[1, 2], [3, 4]] framed by zeros, 3 x 3 windows in all.
    /// let layer: Conv2d<1, 1, 2, f32, NoTape, 1, 1> = Conv2d::from_weights(Tensor::ones(), None);
    /// let y: Tensor<Rank4<1, 1, 3, 3>> = layer.forward(Tensor::from([[[[1.0, 2.0], [3.0, 4.0]]]]));
    /// assert_eq!(y.to_array()[0][0], [[1.0, 3.0, 2.0], [4.0, 10.0, 6.0], [3.0, 7.0, 4.0]]);
    /// ```
}

/// A one-dimensional convolution layer: `IN` input channels, `OUT` filters of `K` taps, PyTorch's
/// `nn.Conv1d(IN, OUT, K, stride=STRIDE, padding=PADDING, dilation=DILATION)` with the same layout and
/// parameter names: `weight: [OUT, IN, K]`, `bias: [OUT]`. The input is `[N, IN, L]` (or a tuple with a
/// run-time batch), the output `[N, OUT, L_out]`, computed by [`Tensor::conv1d`]. Spec, rules and
/// initialization are those of [`Conv2d`]; in a tuple of layers it is `Out<Conv1d<..>, Rank2<OUT,
/// L_out>>` (see [`Out`](crate::nn::Out)).
///
/// The length may be known only at run time: `(usize, Const<IN>, usize)` gives `(usize, Const<OUT>,
/// usize)`, `L_out` computed by the same rule when the layer runs (in a tuple of layers:
/// `Out<Conv1d<..>, (Const<OUT>, usize)>`). A length too short for the kernel panics, naming it.
///
/// ```
/// use shaped::nn::Conv1d;
/// use shaped::{Const, Rank3, Tensor};
///
/// // A difference filter and a bias of 1.
/// let layer: Conv1d<1, 1, 2> =
///     Conv1d::from_weights(Tensor::from([[[-1.0, 1.0]]]), Some(Tensor::from([1.0])));
/// let y: Tensor<Rank3<1, 1, 3>> = layer.forward(Tensor::from([[[1.0, 2.0, 4.0, 8.0]]]));
/// assert_eq!(y.to_vec(), vec![2.0, 3.0, 5.0]);
///
/// // A batch of 3 sequences whose length, 5, is known at run time only: 4 differences each.
/// let x: Tensor<(usize, Const<1>, usize)> = Tensor::from_fn_with((3, Const, 5), |[n, _, i]| (n * i) as f32);
/// let z: Tensor<(usize, Const<1>, usize)> = layer.forward(x);
/// assert_eq!(z.shape(), [3, 1, 4]);
/// assert_eq!(z.to_vec(), vec![1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 3.0, 3.0, 3.0, 3.0]);
/// ```
#[derive(Module, Clone, Debug)]
pub struct Conv1d<
    const IN: usize,
    const OUT: usize,
    const K: usize,
    E: Element = f32,
    T: Tracking<E> = NoTape,
    const STRIDE: usize = 1,
    const PADDING: usize = 0,
    const DILATION: usize = 1,
> {
    /// `[OUT, IN, K]`, as `nn.Conv1d.weight`.
    pub weight: Tensor<Rank3<OUT, IN, K>, E, T>,
    /// `[OUT]`, or `None` for a layer without bias.
    pub bias: Option<Tensor<Rank1<OUT>, E, T>>,
}

conv_layer! {
    Conv1d, conv1d, 1, Rank3<K>;
    new:
    /// ```
    /// use shaped::nn::Conv1d;
    /// use shaped::Module;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// // fan_in = 2 channels x 2 taps = 4: weight and bias in U(-1/2, 1/2)
    /// let layer: Conv1d<2, 3, 2> = Conv1d::new(&mut StdRng::seed_from_u64(1));
    /// assert_eq!(layer.param_count(), 3 * 2 * 2 + 3);
    /// assert!(layer.weight.as_slice().iter().all(|w| w.abs() <= 0.5));
    /// assert!(layer.bias.unwrap().as_slice().iter().all(|b| b.abs() <= 0.5));
    /// ```
    from_weights:
    /// ```
    /// use shaped::nn::Conv1d;
    /// use shaped::{Rank3, Tensor};
    /// // Two filters, no bias: the sum of two neighbours, and twice the second of them.
    /// let layer: Conv1d<1, 2, 2> =
    ///     Conv1d::from_weights(Tensor::from([[[1.0, 1.0]], [[0.0, 2.0]]]), None);
    /// let y: Tensor<Rank3<1, 2, 2>> = layer.forward(Tensor::from([[[1.0, 2.0, 3.0]]]));
    /// assert_eq!(y.to_array(), [[[3.0, 5.0], [4.0, 6.0]]]);
    /// ```
    zeros:
    /// ```
    /// use shaped::nn::Conv1d;
    /// use shaped::Module;
    /// let layer: Conv1d<2, 4, 3> = Conv1d::zeros();
    /// assert_eq!(layer.param_count(), 4 * 2 * 3 + 4);
    /// assert!(layer.weight.as_slice().iter().all(|&w| w == 0.0));
    /// assert_eq!(layer.bias.unwrap().to_vec(), vec![0.0; 4]);
    /// ```
    without_bias:
    /// ```
    /// use shaped::nn::Conv1d;
    /// use shaped::Module;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let layer: Conv1d<4, 2, 3> = Conv1d::without_bias(&mut StdRng::seed_from_u64(1));
    /// assert!(layer.bias.is_none());
    /// assert_eq!(layer.param_count(), 2 * 4 * 3);
    /// ```
    forward:
    /// ```
    /// use shaped::nn::Conv1d;
    /// use shaped::{Const, NoTape, Tensor};
    /// // Two taps of 1 with stride 2: the sums of (1, 2) and of (3, 4); 5 starts no whole window.
    /// let layer: Conv1d<1, 1, 2, f32, NoTape, 2> = Conv1d::from_weights(Tensor::ones(), None);
    /// // A batch whose size is known at run time only.
    /// let x: Tensor<(usize, Const<1>, Const<5>)> = Tensor::from([[[1.0, 2.0, 3.0, 4.0, 5.0]]]).reshape();
    /// let y: Tensor<(usize, Const<1>, Const<2>)> = layer.forward(x);
    /// assert_eq!(y.to_vec(), vec![3.0, 7.0]);
    /// ```
}

#[cfg(test)]
mod tests {
    use super::{Conv1d, Conv2d};
    use crate::ops::testing::rng;
    use crate::{Module, NoTape};

    /// Whether every value is within `bound` and some come within a tenth of it (PyTorch's uniform
    /// on `[-bound, bound]`, not a narrower one).
    fn spans(values: &[f32], bound: f32) -> bool {
        values.iter().all(|v| v.abs() <= bound) && values.iter().any(|v| v.abs() > 0.9 * bound)
    }

    #[test]
    fn default_init_is_pytorchs() {
        // nn.Conv2d(16, 32, 3): fan_in = 16 * 3 * 3 = 144, weight and bias in U(-1/12, 1/12).
        let layer: Conv2d<16, 32, 3> = Conv2d::new(&mut rng(1));
        assert!(spans(layer.weight.as_slice(), 1.0 / 12.0));
        assert!(spans(layer.bias.as_ref().unwrap().as_slice(), 1.0 / 12.0));
        // nn.Conv1d(4, 64, 4): fan_in = 16, bound 1/4.
        let layer: Conv1d<4, 64, 4> = Conv1d::new(&mut rng(2));
        assert!(spans(layer.weight.as_slice(), 0.25));
        assert!(spans(layer.bias.as_ref().unwrap().as_slice(), 0.25));
        let layer: Conv1d<4, 64, 4, f32, NoTape, 2> = Conv1d::without_bias(&mut rng(3));
        assert!(layer.bias.is_none());
        assert_eq!(layer.param_count(), 64 * 4 * 4);
    }
}
