//! Elementary functions beside `exp`, `ln`, `sqrt` and `abs`: `log1p`, `expm1`, `erf`, `sin`, `cos`,
//! `square` and `recip`, elementwise.
//!
//! `log1p`, `expm1` and `erf` run on the vectorized kernels (error bounds in `src/kernels/mod.rs`);
//! the others are written with [`Tensor::unary`].

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `ln(1 + x)` elementwise, accurate for `x` near 0 where `(1 + x).ln()` loses its digits.
    /// Derivative: `1 / (1 + x)`. PyTorch: `torch.log1p`.
    ///
    /// Edge values, as PyTorch: `log1p(-1) = -inf` (derivative `inf`), NaN below -1 (the
    /// derivative there is still `1 / (1 + x)`), `log1p(inf) = inf` (derivative 0), `-0` stays `-0`,
    /// NaN stays NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 1e-20, core::f64::consts::E - 1.0, -1.0]).log1p().to_vec();
    /// assert_eq!(y, vec![0.0, 1e-20, 1.0, f64::NEG_INFINITY]);
    /// ```
    #[must_use]
    pub fn log1p(&self) -> Self {
        self.unary_kernel(E::log1p_into, E::log1p_backward, false)
    }

    /// `e^x - 1` elementwise, accurate for `x` near 0 where `x.exp() - 1` loses its digits.
    /// Derivative: `e^x = y + 1`. PyTorch: `torch.expm1`.
    ///
    /// Edge values, as PyTorch: exactly -1 far left (below about -17 in `f32`, -37 in `f64`), where
    /// the derivative `y + 1` is 0 (as in PyTorch, which also computes it from the result), `inf`
    /// above about 88.7 (`f32`) or 709.8 (`f64`), `expm1(-inf) = -1`, `-0` stays `-0`, NaN stays NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 1e-20, 2.0_f64.ln(), -1000.0]).expm1().to_vec();
    /// assert_eq!(y, vec![0.0, 1e-20, 1.0, -1.0]);
    /// ```
    #[must_use]
    pub fn expm1(&self) -> Self {
        self.unary_kernel(E::expm1_into, E::expm1_backward, true)
    }

    /// The error function `erf x = 2/sqrt(pi) int_0^x e^(-t^2) dt`, elementwise. Derivative:
    /// `2 e^(-x^2) / sqrt(pi)`. PyTorch: `torch.erf`.
    ///
    /// A vectorized kernel, within 1.03 ulp of the exact value in `f32` and 1 ulp of `libm`'s
    /// in `f64` (checked against `libm` over dense sweeps in `tests/it/kernel_accuracy.rs`).
    ///
    /// Edge values, as PyTorch: exactly ±1 from about ±3.9 (`f32`) or ±5.9 (`f64`) on and at `±inf`
    /// (derivative 0), `-0` stays `-0`, NaN stays NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0_f64, 1.0, -1.0, 10.0]).erf().to_vec();
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.842_700_792_949_714_9).abs() < 1e-15 && y[2] == -y[1]);
    /// assert_eq!(y[3], 1.0);
    /// ```
    #[must_use]
    pub fn erf(&self) -> Self {
        self.unary_kernel(E::erf_into, E::erf_backward, false)
    }

    /// `sin x` (radians) elementwise. Derivative: `cos x`. PyTorch: `torch.sin`.
    ///
    /// Edge values, as PyTorch: `sin(±inf)` and `sin(NaN)` are NaN, with a NaN derivative; `-0`
    /// stays `-0`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, core::f64::consts::FRAC_PI_2]).sin();
    /// assert_eq!(y.to_vec(), vec![0.0, 1.0]);
    /// ```
    #[must_use]
    pub fn sin(&self) -> Self {
        self.unary(E::sin, |x, _| x.cos())
    }

    /// `cos x` (radians) elementwise. Derivative: `-sin x`. PyTorch: `torch.cos`.
    ///
    /// Edge values, as PyTorch: `cos(±inf)` and `cos(NaN)` are NaN, with a NaN derivative; at `-0`
    /// the derivative is `0` (`-sin(-0)`).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, core::f64::consts::PI]).cos();
    /// assert_eq!(y.to_vec(), vec![1.0, -1.0]);
    /// ```
    #[must_use]
    pub fn cos(&self) -> Self {
        self.unary(E::cos, |x, _| -x.sin())
    }

    /// `x^2` elementwise. Derivative: `2x`. PyTorch: `torch.square`.
    ///
    /// The same values as `x.powi(2)`, without its general power. Edge values, IEEE as in PyTorch:
    /// overflows to `inf` above `sqrt(MAX)`, `(±inf)^2 = inf` (derivative `±inf`), NaN stays NaN.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([3.0, -0.5]);
    /// assert_eq!(x.square().to_vec(), vec![9.0, 0.25]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// assert_eq!(xt.square().sum().backward().get(&xt).to_vec(), vec![6.0, -1.0]);
    /// ```
    #[must_use]
    pub fn square(&self) -> Self {
        self.unary(|x| x * x, |x, _| x + x)
    }

    /// `1 / x` elementwise. Derivative: `-1 / x^2 = -y^2`. PyTorch: `torch.reciprocal`.
    ///
    /// Edge values, IEEE as in PyTorch: `1 / 0 = inf` and `1 / -0 = -inf` (derivative `-inf`),
    /// `1 / ±inf = ±0` (derivative `-0`), NaN stays NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([2.0, -0.25, 0.0]).recip();
    /// assert_eq!(y.to_vec(), vec![0.5, -4.0, f64::INFINITY]);
    /// ```
    #[must_use]
    pub fn recip(&self) -> Self {
        self.unary(E::recip, |_, y| -(y * y))
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::{assert_runtime_matches_static, grad_of, random};
    use crate::{Rank2, Shape, Tape, Tensor, Tracking, gradcheck};

    #[test]
    fn literal_gradients() {
        use core::f64::consts::{FRAC_PI_2, PI};
        // log1p' = 1 / (1 + x): 1 at 0, 1/4 at 3.
        assert_eq!(grad_of([0.0, 3.0], Tensor::log1p), vec![1.0, 0.25]);
        // expm1' = e^x = y + 1: 1 at 0, 2 at ln 2.
        let g = grad_of([0.0, 2.0_f64.ln()], Tensor::expm1);
        assert!(g[0] == 1.0 && (g[1] - 2.0).abs() < 1e-15, "{g:?}");
        // erf' = 2 e^(-x^2) / sqrt(pi): 2 / sqrt(pi) at 0, 2 / (e sqrt(pi)) at ±1.
        let k = core::f64::consts::FRAC_2_SQRT_PI;
        let g = grad_of([0.0, 1.0, -1.0], Tensor::erf);
        let want = [k, k / core::f64::consts::E, k / core::f64::consts::E];
        assert!(
            g.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-15),
            "{g:?}"
        );
        // sin' = cos: 1 at 0, -1 at pi; cos' = -sin: 0 at 0, -1 at pi/2.
        let g = grad_of([0.0, PI], Tensor::sin);
        assert_eq!(g, vec![1.0, -1.0]);
        let g = grad_of([0.0, FRAC_PI_2], Tensor::cos);
        assert_eq!(g, vec![0.0, -1.0]);
        // square' = 2x; recip' = -1 / x^2: -1/4 at 2, -16 at -1/4.
        assert_eq!(grad_of([3.0, -0.5], Tensor::square), vec![6.0, -1.0]);
        assert_eq!(grad_of([2.0, -0.25], Tensor::recip), vec![-0.25, -16.0]);
    }

    #[test]
    fn accurate_near_zero_and_edges() {
        // log1p and expm1 keep the digits that 1 + x loses; -0 stays -0.
        assert_eq!(Tensor::from([1e-10_f32]).log1p().to_vec(), vec![1e-10]);
        assert_eq!(Tensor::from([1e-10_f32]).expm1().to_vec(), vec![1e-10]);
        for y in [
            Tensor::from([-0.0_f64]).log1p(),
            Tensor::from([-0.0]).expm1(),
            Tensor::from([-0.0]).erf(),
            Tensor::from([-0.0]).sin(),
        ] {
            assert_eq!(y.to_vec()[0].to_bits(), (-0.0_f64).to_bits(), "{y:?}");
        }
        let y = Tensor::from([-2.0, f64::INFINITY, f64::NAN])
            .log1p()
            .to_vec();
        assert!(y[0].is_nan() && y[1] == f64::INFINITY && y[2].is_nan());
        let y = Tensor::from([f64::NEG_INFINITY, 1000.0, f64::NAN])
            .expm1()
            .to_vec();
        assert!(y[0] == -1.0 && y[1] == f64::INFINITY && y[2].is_nan());
        let y = Tensor::from([f32::INFINITY, -4.0, f32::NAN]).erf().to_vec();
        assert!(y[0] == 1.0 && y[1] == -1.0 && y[2].is_nan());
        assert_eq!(
            Tensor::from([-0.0, f64::INFINITY]).recip().to_vec(),
            vec![f64::NEG_INFINITY, 0.0]
        );
    }

    #[test]
    fn gradients_match_finite_differences() {
        let x: Tensor<Rank2<3, 4>, f64> = random(51);
        let w: Tensor<Rank2<3, 4>, f64> = random(52);
        // log1p wants x > -1, recip x away from 0.
        gradcheck(|x| ((x * 0.45).log1p() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.expm1() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.erf() * &w).sum(), &x).unwrap();
        gradcheck(|x| ((x * 3.0).erf() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.sin() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.cos() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.square() * &w).sum(), &x).unwrap();
        gradcheck(|x| ((x.square() + 1.0).recip() * &w).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(sin(x) * cos(x)) = sum(sin(2x) / 2): df/dx = cos(2x), 1 at 0.
        let tape = Tape::new();
        let xt = tape.watch(&Tensor::from([0.0]));
        let g = (xt.sin() * xt.cos()).sum().backward().get(&xt).to_vec();
        assert_eq!(g, vec![1.0]);
        let x: Tensor<Rank2<3, 3>, f64> = random(53);
        gradcheck(|x| (x.square() * x.expm1()).sum(), &x).unwrap();
    }

    #[test]
    fn runtime_shapes_match_static_ones() {
        fn all<S: Shape, T: Tracking<f64>>(x: &Tensor<S, f64, T>) -> Tensor<S, f64, T> {
            (x * 0.4).log1p()
                + x.expm1()
                + x.erf()
                + x.sin()
                + x.cos()
                + x.square()
                + (x.square() + 1.0).recip()
        }
        assert_runtime_matches_static(&random(54), all, all);
    }
}
