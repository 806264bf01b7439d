//! `Linear<IN, OUT>`: a fully connected layer, PyTorch's `nn.Linear`.

use rand::Rng;

use crate::ops::Merged;
use crate::{
    Element, LinearShape, Merge, Module, NoBias, NoTape, Rank1, Rank2, Shape, StaticShape, Tensor,
    Tracking,
};

/// A fully connected layer: `y = x W^T + b`, with `weight: [OUT, IN]` and `bias: [OUT]` (PyTorch's
/// `nn.Linear(IN, OUT)`, same layout and same parameter names). The input is `[.., IN]` (rank 1 to 4),
/// the output `[.., OUT]`.
///
/// A wrong input width, or a layer fed to another of the wrong width, does not compile.
///
/// The last parameter is the layer's tracking: a stored layer is `Linear<IN, OUT>` (`T = NoTape`);
/// [`Tape::watch`](crate::Tape::watch) gives a `Linear<IN, OUT, E, Tape<E>>` whose parameters are on
/// the tape. A model passes its own tracking parameter on: `l1: Linear<4, 8, f32, T>`.
///
/// ```
/// use shaped::nn::Linear;
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, Rank2, Tape, Tensor};
///
/// let mut rng = StdRng::seed_from_u64(0);
/// let layer: Linear<3, 2> = Linear::new(&mut rng);
/// assert_eq!(layer.param_count(), 3 * 2 + 2);
///
/// let x: Tensor<Rank2<4, 3>> = Tensor::ones();
/// let y: Tensor<Rank2<4, 2>> = layer.forward(x.clone());
///
/// // Training: the layer on a tape, and gradients with the layer's own shape.
/// let tape = Tape::new();
/// let loss = tape.watch(&layer).forward(x).sum();
/// let g = layer.grads(&loss.backward());
/// assert_eq!(g.weight.to_array(), [[4.0; 3]; 2]); // each weight sees 4 rows of ones
/// assert_eq!(g.bias.unwrap().to_vec(), vec![4.0, 4.0]);
/// # let _ = y;
/// ```
#[derive(Module, Clone, Debug)]
pub struct Linear<const IN: usize, const OUT: usize, E: Element = f32, T: Tracking<E> = NoTape> {
    /// `[OUT, IN]`, as `nn.Linear.weight`.
    pub weight: Tensor<Rank2<OUT, IN>, E, T>,
    /// `[OUT]`, or `None` for a layer without bias.
    pub bias: Option<Tensor<Rank1<OUT>, E, T>>,
}

/// Samples of `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`, PyTorch's default for `Linear` and `Bilinear`
/// (zeros when `fan_in` is 0).
pub(crate) fn init_uniform<S: StaticShape, E: Element, R: Rng + ?Sized>(
    rng: &mut R,
    fan_in: usize,
) -> Tensor<S, E> {
    if fan_in == 0 {
        return Tensor::zeros();
    }
    let bound = E::one() / E::from_f64_lossy(fan_in as f64).sqrt();
    Tensor::uniform(rng, -bound, bound)
}

impl<const IN: usize, const OUT: usize, E: Element> Linear<IN, OUT, E> {
    /// A layer with PyTorch's default initialization: weight and bias drawn from
    /// `U(-1/sqrt(IN), 1/sqrt(IN))`.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let layer: Linear<16, 4> = Linear::new(&mut StdRng::seed_from_u64(1));
    /// assert!(layer.weight.as_slice().iter().all(|w| w.abs() <= 0.25));
    /// ```
    #[must_use]
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        let weight = init_uniform(rng, IN);
        let bias = Some(init_uniform(rng, IN));
        Self { weight, bias }
    }

    /// A layer with the given weight `[OUT, IN]` and bias `[OUT]` (or none): to build a model whose
    /// weights come from elsewhere (another initialization, a checkpoint), without drawing random ones.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::Tensor;
    /// let layer = Linear::from_weights(Tensor::from([[1.0, 2.0]]), Some(Tensor::from([0.5])));
    /// assert_eq!(layer.forward(Tensor::from([3.0, 4.0])).to_vec(), vec![11.5]);
    /// ```
    #[must_use]
    pub fn from_weights(
        weight: Tensor<Rank2<OUT, IN>, E>,
        bias: Option<Tensor<Rank1<OUT>, E>>,
    ) -> Self {
        Self { weight, bias }
    }

    /// A layer of zeros, with a bias: the cheapest start for loading a checkpoint into.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::Module;
    /// let layer: Linear<3, 2> = Linear::zeros();
    /// assert_eq!(layer.param_count(), 8);
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self::from_weights(Tensor::zeros(), Some(Tensor::zeros()))
    }

    /// A layer without bias (`nn.Linear(IN, OUT, bias=False)`).
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::Module;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let layer: Linear<16, 4> = Linear::without_bias(&mut StdRng::seed_from_u64(1));
    /// assert_eq!(layer.param_count(), 64);
    /// ```
    #[must_use]
    pub fn without_bias<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self {
            weight: init_uniform(rng, IN),
            bias: None,
        }
    }
}

impl<const IN: usize, const OUT: usize, E: Element, T: Tracking<E>> Linear<IN, OUT, E, T> {
    /// `x W^T + b` for an input `[.., IN]`. The result is on the layer's tape if it was watched, and on
    /// the input's if the input is on one.
    ///
    /// ```
    /// use shaped::nn::Linear;
    /// use shaped::Tensor;
    /// let layer = Linear::from_weights(Tensor::from([[1.0, 2.0], [0.0, -1.0]]), Some(Tensor::from([1.0, 0.0])));
    /// // each row x: [x0 + 2 x1 + 1, -x1]
    /// let y = layer.forward(Tensor::from([[1.0, 1.0], [2.0, 0.0], [0.0, 3.0]]));
    /// assert_eq!(y.to_array(), [[4.0, -1.0], [3.0, 0.0], [7.0, -3.0]]);
    /// ```
    ///
    /// An input whose last dimension is static and not `IN` does not compile.
    ///
    /// # Panics
    /// When the input's last dimension is run-time and is not `IN`; the message names both sizes:
    /// `linear: the input width and the weight's differ: 5 and 3` for an input `(Const<2>, usize)`
    /// of width 5 into a `Linear<3, OUT>`.
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain: `l2.forward(l1.forward(x))`
    pub fn forward<S: Shape, X>(
        &self,
        x: Tensor<S, E, X>,
    ) -> Tensor<<Rank2<OUT, IN> as LinearShape<S>>::Output, E, Merged<E, X, T>>
    where
        Rank2<OUT, IN>: LinearShape<S>,
        X: Tracking<E> + Merge<E, T>,
        Merged<E, X, T>:
            Merge<E, T, Output = Merged<E, X, T>> + Merge<E, NoTape, Output = Merged<E, X, T>>,
    {
        match &self.bias {
            Some(b) => x.linear(&self.weight, b),
            None => x.linear(&self.weight, NoBias),
        }
    }
}
