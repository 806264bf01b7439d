//! `Bilinear<IN1, IN2, OUT>`: PyTorch's `nn.Bilinear`.

use rand::Rng;

use super::linear::init_uniform;
use crate::ops::Merged;
use crate::{
    BilinearIn1, BilinearIn2, BilinearPair, Element, Merge, Module, NoBias, NoTape, Rank1, Rank3,
    Shape, Tensor, Tracking,
};

/// A bilinear layer: `y[.., k] = x1 W_k x2^T + b_k`, with `weight: [OUT, IN1, IN2]` and `bias: [OUT]`
/// (PyTorch's `nn.Bilinear(IN1, IN2, OUT)`). The inputs are `[.., IN1]` and `[.., IN2]` with the same
/// leading axes; the output is `[.., OUT]`.
///
/// ```
/// use shaped::nn::Bilinear;
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, Rank2, Tensor};
///
/// let layer: Bilinear<3, 2, 1> = Bilinear::new(&mut StdRng::seed_from_u64(0));
/// assert_eq!(layer.param_count(), 3 * 2 + 1);
/// let a: Tensor<Rank2<5, 3>> = Tensor::ones();
/// let b: Tensor<Rank2<5, 2>> = Tensor::ones();
/// let score: Tensor<Rank2<5, 1>> = layer.forward(a, b);
/// // with inputs of ones, each score is the sum of the weights plus the bias
/// let expected = layer.weight.sum().item() + layer.bias.as_ref().unwrap().sum().item();
/// assert!((score[[0, 0]] - expected).abs() < 1e-6);
/// ```
#[derive(Module, Clone, Debug)]
pub struct Bilinear<
    const IN1: usize,
    const IN2: usize,
    const OUT: usize,
    E: Element = f32,
    T: Tracking<E> = NoTape,
> {
    /// `[OUT, IN1, IN2]`, as `nn.Bilinear.weight`.
    pub weight: Tensor<Rank3<OUT, IN1, IN2>, E, T>,
    /// `[OUT]`, or `None` for a layer without bias.
    pub bias: Option<Tensor<Rank1<OUT>, E, T>>,
}

impl<const IN1: usize, const IN2: usize, const OUT: usize, E: Element> Bilinear<IN1, IN2, OUT, E> {
    /// A layer with PyTorch's default initialization: weight and bias drawn from
    /// `U(-1/sqrt(IN1), 1/sqrt(IN1))`.
    ///
    /// ```
    /// use shaped::nn::Bilinear;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let layer: Bilinear<4, 2, 3> = Bilinear::new(&mut StdRng::seed_from_u64(0));
    /// // 1/sqrt(4) = 0.5
    /// assert!(layer.weight.as_slice().iter().all(|w| w.abs() <= 0.5));
    /// assert!(layer.bias.unwrap().as_slice().iter().all(|b| b.abs() <= 0.5));
    /// ```
    #[must_use]
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let weight = init_uniform(rng, IN1);
        let bias = Some(init_uniform(rng, IN1));
        Self { weight, bias }
    }

    /// A layer with the given weight `[OUT, IN1, IN2]` and bias `[OUT]` (or none), without drawing
    /// random ones.
    ///
    /// ```
    /// use shaped::nn::Bilinear;
    /// use shaped::Tensor;
    /// // one output, W = [[1, 2], [3, 4]], b = 0.5
    /// let layer = Bilinear::from_weights(Tensor::from([[[1.0, 2.0], [3.0, 4.0]]]), Some(Tensor::from([0.5])));
    /// // x1 W x2^T + b with x1 = [1, 0], x2 = [0, 1]: W[0][1] + 0.5
    /// let y = layer.forward(Tensor::from([1.0, 0.0]), Tensor::from([0.0, 1.0]));
    /// assert_eq!(y.to_vec(), vec![2.5]);
    /// ```
    #[must_use]
    pub fn from_weights(
        weight: Tensor<Rank3<OUT, IN1, IN2>, E>,
        bias: Option<Tensor<Rank1<OUT>, E>>,
    ) -> Self {
        Self { weight, bias }
    }

    /// A layer of zeros, with a bias: the cheapest start for loading a checkpoint into.
    ///
    /// ```
    /// use shaped::nn::Bilinear;
    /// use shaped::Module;
    /// let layer: Bilinear<3, 2, 4> = Bilinear::zeros();
    /// assert_eq!(layer.param_count(), 4 * 3 * 2 + 4);
    /// assert_eq!(layer.weight.sum().item(), 0.0);
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self::from_weights(Tensor::zeros(), Some(Tensor::zeros()))
    }

    /// A layer without bias (`nn.Bilinear(IN1, IN2, OUT, bias=False)`).
    ///
    /// ```
    /// use shaped::nn::Bilinear;
    /// use shaped::Module;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let layer: Bilinear<3, 2, 4> = Bilinear::without_bias(&mut StdRng::seed_from_u64(0));
    /// assert!(layer.bias.is_none());
    /// assert_eq!(layer.param_count(), 4 * 3 * 2);
    /// ```
    #[must_use]
    pub fn without_bias<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self {
            weight: init_uniform(rng, IN1),
            bias: None,
        }
    }
}

impl<const IN1: usize, const IN2: usize, const OUT: usize, E: Element, T: Tracking<E>>
    Bilinear<IN1, IN2, OUT, E, T>
{
    /// `x1 W_k x2^T + b_k` for inputs `[.., IN1]` and `[.., IN2]`. The result is on the layer's tape if
    /// it was watched, and on the inputs' if they are on one.
    ///
    /// ```
    /// use shaped::nn::Bilinear;
    /// use shaped::{Rank2, Tensor};
    /// // two outputs: W_0 = I (a dot product), W_1 = 2 I, no bias
    /// let w = Tensor::from([[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 2.0]]]);
    /// let layer = Bilinear::from_weights(w, None);
    /// let x1: Tensor<Rank2<2, 2>, f64> = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let x2 = Tensor::from([[5.0, 6.0], [1.0, -1.0]]);
    /// // row 0: 1 * 5 + 2 * 6 = 17; row 1: 3 - 4 = -1
    /// assert_eq!(layer.forward(x1, x2).to_array(), [[17.0, 34.0], [-1.0, -2.0]]);
    /// ```
    ///
    /// Inputs whose static leading axes differ, or whose static last dimensions are not `IN1` and
    /// `IN2`, do not compile.
    ///
    /// # Panics
    /// With run-time dimensions, when the two inputs' leading dimensions differ, or an input's last
    /// dimension is not the weight's; the message names both:
    /// `bilinear: the leading dimensions of the two inputs differ: [3, 2] and [4, 2]`,
    /// `bilinear: the first input's width and the weight's differ: 5 and 2`,
    /// `bilinear: the second input's width and the weight's differ: 5 and 2`.
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain: `l2.forward(l1.forward(x))`
    pub fn forward<S1: Shape, S2, X>(
        &self,
        x1: Tensor<S1, E, X>,
        x2: Tensor<S2, E, X>,
    ) -> Tensor<<Rank3<OUT, IN1, IN2> as BilinearIn1<S1>>::Output, E, Merged<E, X, T>>
    where
        S2: BilinearPair<S1>,
        Rank3<OUT, IN1, IN2>: BilinearIn1<S1> + BilinearIn2<S2>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>:
            Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
    {
        match &self.bias {
            Some(b) => x1.bilinear(&x2, &self.weight, b),
            None => x1.bilinear(&x2, &self.weight, NoBias),
        }
    }
}
