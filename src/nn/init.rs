//! Weight initialization as in `torch.nn.init`: [`xavier_uniform`], [`xavier_normal`],
//! [`kaiming_uniform`], [`kaiming_normal`], with PyTorch's fans and gains.
//!
//! The fans come from the shape, as PyTorch's `_calculate_fan_in_and_fan_out`: for a weight
//! `[out, in, k..]`, `fan_in = in * prod(k)` and `fan_out = out * prod(k)`.
//!
//! ```
//! use shaped::nn::init::{kaiming_uniform, Fan, Nonlinearity};
//! use shaped::nn::Linear;
//! use shaped::rand::{SeedableRng, rngs::StdRng};
//! use shaped::{Rank2, Tensor};
//!
//! let mut rng = StdRng::seed_from_u64(0);
//! let w: Tensor<Rank2<64, 128>> = kaiming_uniform(&mut rng, Fan::In, Nonlinearity::Relu);
//! // bound = gain * sqrt(3 / fan_in) with gain sqrt(2) for ReLU
//! let bound = (2.0_f32).sqrt() * (3.0_f32 / 128.0).sqrt();
//! assert!(w.as_slice().iter().all(|v| v.abs() <= bound));
//! let layer = Linear::from_weights(w, Some(Tensor::zeros()));
//! assert_eq!(layer.bias.unwrap().sum().item(), 0.0);
//! ```

use rand::Rng;

use crate::{Element, StaticShape, Tensor};

/// Which fan scales the variance: the inputs (`fan_in`, keeps the forward pass's variance) or the
/// outputs (`fan_out`, keeps the backward pass's).
///
/// ```
/// use shaped::nn::init::{kaiming_uniform, Fan, Nonlinearity};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Rank2, Tensor};
/// let mut rng = StdRng::seed_from_u64(0);
/// // a weight [OUT = 4, IN = 100]: b = sqrt(2) sqrt(3 / fan)
/// let by_in: Tensor<Rank2<4, 100>, f64> = kaiming_uniform(&mut rng, Fan::In, Nonlinearity::Relu);
/// let by_out: Tensor<Rank2<4, 100>, f64> = kaiming_uniform(&mut rng, Fan::Out, Nonlinearity::Relu);
/// let max = |t: &Tensor<Rank2<4, 100>, f64>| t.as_slice().iter().fold(0.0_f64, |m, v| m.max(v.abs()));
/// assert!(max(&by_in) <= 0.06_f64.sqrt()); // sqrt(6 / 100)
/// assert!(max(&by_out) > 0.06_f64.sqrt() && max(&by_out) <= 1.5_f64.sqrt()); // sqrt(6 / 4)
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fan {
    /// `mode='fan_in'`, PyTorch's default.
    In,
    /// `mode='fan_out'`.
    Out,
}

/// The nonlinearity that follows the layer, for the gain (`torch.nn.init.calculate_gain`).
///
/// ```
/// use shaped::nn::init::Nonlinearity;
/// assert_eq!(Nonlinearity::Linear.gain(), 1.0);
/// // leaky ReLU with slope 1 is the identity: sqrt(2 / (1 + 1)) = 1
/// assert_eq!(Nonlinearity::LeakyRelu(1.0).gain(), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nonlinearity {
    /// Linear or sigmoid: gain 1.
    Linear,
    /// tanh: gain 5/3.
    Tanh,
    /// `ReLU`: gain `sqrt(2)`.
    Relu,
    /// Leaky `ReLU` with this negative slope: gain `sqrt(2 / (1 + slope^2))`. PyTorch's
    /// `kaiming_uniform_` and `kaiming_normal_` default to `a = 0` (gain `sqrt(2)`, as
    /// [`Relu`](Nonlinearity::Relu)); `calculate_gain("leaky_relu")` without a slope uses 0.01;
    /// `nn.Linear`'s own init uses `sqrt(5)`.
    LeakyRelu(f64),
}

impl Nonlinearity {
    /// The gain, as `torch.nn.init.calculate_gain`.
    ///
    /// ```
    /// use shaped::nn::init::Nonlinearity;
    /// assert_eq!(Nonlinearity::Relu.gain(), 2.0_f64.sqrt());
    /// assert_eq!(Nonlinearity::Tanh.gain(), 5.0 / 3.0);
    /// assert_eq!(Nonlinearity::LeakyRelu(0.0).gain(), 2.0_f64.sqrt());
    /// ```
    #[must_use]
    pub fn gain(self) -> f64 {
        match self {
            Self::Linear => 1.0,
            Self::Tanh => 5.0 / 3.0,
            Self::Relu => 2.0_f64.sqrt(),
            Self::LeakyRelu(slope) => (2.0 / (1.0 + slope * slope)).sqrt(),
        }
    }
}

/// `(fan_in, fan_out)` of a weight of these dimensions, as PyTorch computes them.
///
/// # Panics
/// For fewer than two dimensions, as PyTorch.
///
/// ```
/// use shaped::nn::init::fans;
/// assert_eq!(fans(&[16, 3, 5, 5]), (75, 400));
/// assert_eq!(fans(&[10, 64]), (64, 10));
/// ```
#[must_use]
pub fn fans(dims: &[usize]) -> (usize, usize) {
    assert!(
        dims.len() >= 2,
        "fans: a weight needs at least 2 dimensions, got {dims:?}"
    );
    let receptive: usize = dims[2..].iter().product();
    (dims[1] * receptive, dims[0] * receptive)
}

fn uniform<S: StaticShape, E: Element, R: Rng + ?Sized>(rng: &mut R, bound: f64) -> Tensor<S, E> {
    if bound == 0.0 {
        return Tensor::zeros();
    }
    let b = E::from_f64_lossy(bound);
    Tensor::uniform(rng, -b, b)
}

/// Xavier (Glorot) uniform: `U(-a, a)` with `a = gain * sqrt(6 / (fan_in + fan_out))`. PyTorch:
/// `torch.nn.init.xavier_uniform_(w, gain)`.
///
/// # Panics
/// For a shape of fewer than two dimensions (see [`fans`]), as PyTorch.
///
/// ```
/// use shaped::nn::init::xavier_uniform;
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Rank2, Tensor};
/// // fan_in 20, fan_out 4: a = sqrt(6 / 24) = 0.5
/// let w: Tensor<Rank2<4, 20>, f64> = xavier_uniform(&mut StdRng::seed_from_u64(0), 1.0);
/// assert!(w.as_slice().iter().all(|v| v.abs() <= 0.5));
/// assert!(w.as_slice().iter().any(|v| v.abs() > 0.4));
/// ```
#[must_use]
pub fn xavier_uniform<S: StaticShape, E: Element, R: Rng + ?Sized>(
    rng: &mut R,
    gain: f64,
) -> Tensor<S, E> {
    let (fan_in, fan_out) = fans(S::DIMS);
    uniform(rng, gain * (6.0 / (fan_in + fan_out) as f64).sqrt())
}

/// Xavier (Glorot) normal: `N(0, std^2)` with `std = gain * sqrt(2 / (fan_in + fan_out))`. PyTorch:
/// `torch.nn.init.xavier_normal_(w, gain)`.
///
/// # Panics
/// For a shape of fewer than two dimensions (see [`fans`]), as PyTorch.
///
/// ```
/// use shaped::nn::init::xavier_normal;
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Rank2, Tensor};
/// // fan_in 150, fan_out 50: std = 2 sqrt(2 / 200) = 0.2
/// let w: Tensor<Rank2<50, 150>, f64> = xavier_normal(&mut StdRng::seed_from_u64(0), 2.0);
/// let std = (w.as_slice().iter().map(|v| v * v).sum::<f64>() / 7500.0).sqrt();
/// assert!((std - 0.2).abs() < 0.01);
/// ```
#[must_use]
pub fn xavier_normal<S: StaticShape, E: Element, R: Rng + ?Sized>(
    rng: &mut R,
    gain: f64,
) -> Tensor<S, E> {
    let (fan_in, fan_out) = fans(S::DIMS);
    let std = gain * (2.0 / (fan_in + fan_out) as f64).sqrt();
    Tensor::normal(rng, E::zero(), E::from_f64_lossy(std))
}

fn kaiming_std(dims: &[usize], fan: Fan, nonlinearity: Nonlinearity) -> f64 {
    let (fan_in, fan_out) = fans(dims);
    let n = match fan {
        Fan::In => fan_in,
        Fan::Out => fan_out,
    };
    if n == 0 {
        0.0
    } else {
        nonlinearity.gain() / (n as f64).sqrt()
    }
}

/// Kaiming (He) uniform: `U(-b, b)` with `b = gain * sqrt(3 / fan)`. PyTorch:
/// `torch.nn.init.kaiming_uniform_(w, a, mode, nonlinearity)` (`Nonlinearity::LeakyRelu(a)`).
///
/// # Panics
/// For a shape of fewer than two dimensions (see [`fans`]), as PyTorch.
///
/// ```
/// use shaped::nn::init::{kaiming_uniform, Fan, Nonlinearity};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Rank2, Tensor};
/// // nn.Linear's own init is kaiming_uniform with a = sqrt(5): b = 1 / sqrt(fan_in)
/// let w: Tensor<Rank2<4, 25>, f64> =
///     kaiming_uniform(&mut StdRng::seed_from_u64(1), Fan::In, Nonlinearity::LeakyRelu(5.0_f64.sqrt()));
/// assert!(w.as_slice().iter().all(|v| v.abs() <= 0.2));
/// ```
#[must_use]
pub fn kaiming_uniform<S: StaticShape, E: Element, R: Rng + ?Sized>(
    rng: &mut R,
    fan: Fan,
    nonlinearity: Nonlinearity,
) -> Tensor<S, E> {
    uniform(
        rng,
        3.0_f64.sqrt() * kaiming_std(S::DIMS, fan, nonlinearity),
    )
}

/// Kaiming (He) normal: `N(0, std^2)` with `std = gain / sqrt(fan)`. PyTorch:
/// `torch.nn.init.kaiming_normal_(w, a, mode, nonlinearity)`.
///
/// # Panics
/// For a shape of fewer than two dimensions (see [`fans`]), as PyTorch.
///
/// ```
/// use shaped::nn::init::{kaiming_normal, Fan, Nonlinearity};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Rank2, Tensor};
/// // fan_out 200: std = sqrt(2) / sqrt(200) = 0.1
/// let w: Tensor<Rank2<200, 40>, f64> =
///     kaiming_normal(&mut StdRng::seed_from_u64(0), Fan::Out, Nonlinearity::Relu);
/// let std = (w.as_slice().iter().map(|v| v * v).sum::<f64>() / 8000.0).sqrt();
/// assert!((std - 0.1).abs() < 0.005);
/// ```
#[must_use]
pub fn kaiming_normal<S: StaticShape, E: Element, R: Rng + ?Sized>(
    rng: &mut R,
    fan: Fan,
    nonlinearity: Nonlinearity,
) -> Tensor<S, E> {
    let std = kaiming_std(S::DIMS, fan, nonlinearity);
    Tensor::normal(rng, E::zero(), E::from_f64_lossy(std))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::rng;
    use crate::{Rank2, Rank4};

    /// The sample standard deviation.
    fn std(t: &[f64]) -> f64 {
        let n = t.len() as f64;
        let mean = t.iter().sum::<f64>() / n;
        (t.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    #[test]
    fn bounds_and_spreads_follow_pytorchs_formulas() {
        // The formulas' values, recorded from torch.nn.init (2.15) for these shapes:
        // xavier_uniform on [200, 300], gain 1: bound sqrt(6 / 500) = 0.10954451150103323
        let w: Tensor<Rank2<200, 300>, f64> = xavier_uniform(&mut rng(1), 1.0);
        let bound = 0.109_544_511_501_033_23;
        assert!(w.as_slice().iter().all(|v| v.abs() <= bound));
        // a uniform on [-b, b] has std b / sqrt(3)
        assert!((std(w.as_slice()) / (bound / 3.0_f64.sqrt()) - 1.0).abs() < 0.02);
        // xavier_normal, gain 2: std 2 sqrt(2 / 500) = 0.12649110640673517
        let w: Tensor<Rank2<200, 300>, f64> = xavier_normal(&mut rng(2), 2.0);
        assert!((std(w.as_slice()) / 0.126_491_106_406_735_17 - 1.0).abs() < 0.02);
        // kaiming_normal on a conv weight [32, 16, 3, 3], fan_out, relu: std sqrt(2) / sqrt(288)
        let w: Tensor<Rank4<32, 16, 3, 3>, f64> =
            kaiming_normal(&mut rng(3), Fan::Out, Nonlinearity::Relu);
        assert!((std(w.as_slice()) / (2.0_f64.sqrt() / 288.0_f64.sqrt()) - 1.0).abs() < 0.05);
        // kaiming_uniform, fan_in = 16 * 9 = 144, leaky_relu(0.01): bound gain * sqrt(3 / 144)
        let w: Tensor<Rank4<32, 16, 3, 3>, f64> =
            kaiming_uniform(&mut rng(4), Fan::In, Nonlinearity::LeakyRelu(0.01));
        let bound = (2.0 / (1.0 + 1e-4_f64)).sqrt() * (3.0 / 144.0_f64).sqrt();
        assert!(w.as_slice().iter().all(|v| v.abs() <= bound));
        assert!(w.as_slice().iter().any(|v| v.abs() > 0.9 * bound));
    }

    #[test]
    #[should_panic(expected = "fans: a weight needs at least 2 dimensions, got [5]")]
    fn a_vector_has_no_fans() {
        let _ = fans(&[5]);
    }
}
