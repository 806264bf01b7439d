//! The smooth and piecewise-linear activations beside `relu`, `sigmoid` and `tanh`: `gelu`,
//! `gelu_tanh`, `silu`, `softplus`, `softplus_with`, `leaky_relu`, `elu`, `log_sigmoid` and
//! `hardtanh`, elementwise.
//!
//! `gelu`, `gelu_tanh`, `silu`, `softplus` and `log_sigmoid` run on the vectorized kernels (forward
//! and backward, error bounds in `src/kernels/mod.rs`); the others are written with [`Tensor::unary`].

use crate::ops::sigmoid::logistic;
use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The Gaussian error linear unit, exact form: `x Φ(x) = x (1 + erf(x / sqrt 2)) / 2`
    /// elementwise. Derivative: `Φ(x) + x φ(x)`, with `φ(x) = e^(-x^2/2) / sqrt(2 pi)`. PyTorch:
    /// `torch.nn.functional.gelu(x)` (its default, `approximate="none"`).
    ///
    /// `erf` is the crate's vectorized kernel: within 1.03 ulp of the exact `erf` in `f32` and 1 ulp
    /// of `libm`'s in `f64` (`tests/it/kernel_accuracy.rs`).
    ///
    /// Edge values, as PyTorch: computed as written above, so the left tail loses its relative
    /// precision to the cancellation in `1 + erf` (the absolute error stays below an ulp of 1 times
    /// `|x|`) and reaches `-0` below about -5.9 (`f32`) or -8.3 (`f64`), where `erf` rounds to -1;
    /// `gelu(inf) = inf`, `gelu(-inf)` is NaN (`-inf * 0`), and NaN stays NaN. The derivative is 0
    /// far left, 1 far right, NaN at `±inf` (`inf * 0`) and at NaN, as in PyTorch.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0_f64, 1.0, -1.0]).gelu().to_vec();
    /// // Φ(1) = 0.841344746068543, Φ(-1) = 1 - Φ(1)
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.841_344_746_068_543).abs() < 1e-15);
    /// assert!((y[2] + 0.158_655_253_931_457).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn gelu(&self) -> Self {
        self.unary_kernel(E::gelu_into, E::gelu_backward, false)
    }

    /// The Gaussian error linear unit, tanh approximation: `x (1 + tanh(u)) / 2` with
    /// `u = sqrt(2/pi) (x + 0.044715 x^3)`, elementwise. Derivative: `(1 + tanh u) / 2 +
    /// x (1 - tanh^2 u) u' / 2`, `u' = sqrt(2/pi) (1 + 3 0.044715 x^2)`. PyTorch:
    /// `torch.nn.functional.gelu(x, approximate="tanh")`.
    ///
    /// Computed as `x sigmoid(2u)` (the same function), which keeps the left tail's relative
    /// precision where PyTorch's `1 + tanh u` cancels.
    ///
    /// Edge values: `gelu_tanh(inf) = inf`, and far left the result is `-0` (`x` times a sigmoid
    /// that underflows), where PyTorch also gives `-0`; `gelu_tanh(-inf)` is NaN and NaN stays NaN,
    /// as in PyTorch. The derivative is 0 far left, 1 far right, NaN at `±inf` and NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0_f64, 1.0, 100.0]).gelu_tanh().to_vec();
    /// assert_eq!(y[0], 0.0);
    /// // (1 + tanh u) / 2 with u = sqrt(2/pi) 1.044715
    /// assert!((y[1] - 0.841_191_990_608_276_8).abs() < 1e-15);
    /// assert_eq!(y[2], 100.0);
    /// ```
    #[must_use]
    pub fn gelu_tanh(&self) -> Self {
        self.unary_kernel(E::gelu_tanh_into, E::gelu_tanh_backward, false)
    }

    /// The sigmoid linear unit (swish), `x sigmoid(x)`, elementwise. Derivative:
    /// `s (1 + x (1 - s))` with `s = sigmoid(x)`. PyTorch: `torch.nn.functional.silu`.
    ///
    /// Edge values: computed without overflow; `silu(inf) = inf`, far left the result is `-0`
    /// (PyTorch: `-0` too), `silu(-inf)` is NaN (`-inf * 0`, as in PyTorch) and NaN stays NaN. The
    /// derivative is 1 far right, 0 far left, NaN at `-inf` and NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 3.0_f64.ln()]).silu().to_vec();
    /// // ln 3 sigmoid(ln 3) = 0.75 ln 3
    /// assert_eq!(y[0], 0.0);
    /// assert!((y[1] - 0.75 * 3.0_f64.ln()).abs() < 1e-15);
    /// ```
    #[must_use]
    pub fn silu(&self) -> Self {
        self.unary_kernel(E::silu_into, E::silu_backward, false)
    }

    /// `softplus(x) = ln(1 + e^x)` elementwise, with PyTorch's defaults: `beta = 1`, and `x` itself
    /// above the threshold 20. Derivative: `sigmoid(x)`, and 1 above 20. PyTorch:
    /// `torch.nn.functional.softplus(x)`.
    ///
    /// Computed stably as `max(x, 0) + ln(1 + e^-|x|)`. See [`softplus_with`](Self::softplus_with)
    /// for other `beta` and thresholds.
    ///
    /// Edge values: never overflows; exactly `x` above 20 (at 20 itself the formula, as in PyTorch:
    /// `x > 20` switches), 0 far left (below about -104 in `f32`, -745 in `f64`), `softplus(inf) =
    /// inf`, `softplus(-inf) = 0`, NaN stays NaN; the derivative is 1 above 20, 0 at `-inf` and NaN
    /// at NaN, all as PyTorch.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 30.0, -1000.0]).softplus().to_vec();
    /// assert_eq!(y, vec![2.0_f64.ln(), 30.0, 0.0]);
    /// ```
    #[must_use]
    pub fn softplus(&self) -> Self {
        self.unary_kernel(E::softplus_into, E::softplus_backward, false)
    }

    /// `softplus(x) = ln(1 + e^(beta x)) / beta` elementwise, and `x` itself where
    /// `beta x > threshold`. Derivative: `sigmoid(beta x)`, and 1 above the threshold. PyTorch:
    /// `torch.nn.functional.softplus(x, beta, threshold)`.
    ///
    /// With `beta = 1` and `threshold = 20` this is [`softplus`](Self::softplus) (the vectorized
    /// kernel); other values are computed one element at a time as
    /// `(max(b, 0) + ln(1 + e^-|b|)) / beta`, `b = beta x`, which never overflows.
    ///
    /// Edge values: as [`softplus`](Self::softplus), with the switch at `beta x > threshold`;
    /// a negative `beta` gives the mirrored function `-softplus(-x)` up to the threshold, as in
    /// PyTorch. A NaN `beta` or input gives NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// // beta = 2, threshold = 1: ln(1 + e^0) / 2 at 0, and x itself at 1 (2 > 1)
    /// let y = Tensor::from([0.0, 1.0]).softplus_with(2.0, 1.0).to_vec();
    /// assert_eq!(y, vec![2.0_f64.ln() / 2.0, 1.0]);
    /// ```
    #[must_use]
    pub fn softplus_with(&self, beta: E, threshold: E) -> Self {
        if beta == E::one() && threshold == E::from_f64_lossy(20.0) {
            return self.softplus();
        }
        self.unary(
            move |x| {
                let b = x * beta;
                if b > threshold {
                    x
                } else {
                    (b.max(E::zero()) + (-b.abs()).exp().ln_1p()) / beta
                }
            },
            move |x, _| {
                let b = x * beta;
                if b > threshold { E::one() } else { logistic(b) }
            },
        )
    }

    /// The leaky rectified linear unit: `x` for `x > 0`, `slope x` otherwise, elementwise.
    /// Derivative: 1 for `x > 0`, `slope` for `x <= 0` (so `slope` at exactly 0, as in PyTorch).
    /// PyTorch: `torch.nn.functional.leaky_relu(x, slope)` (its default slope is 0.01).
    ///
    /// Edge values: `±inf` map to `inf` and `-inf` (for a positive slope); NaN stays NaN, and its
    /// gradient is NaN, as for [`relu`](Self::relu) (**PyTorch differs**: it passes `slope` times the
    /// upstream gradient at NaN).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([2.0, -2.0, 0.0]);
    /// assert_eq!(x.leaky_relu(0.25).to_vec(), vec![2.0, -0.5, 0.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.leaky_relu(0.25).sum().backward();
    /// assert_eq!(g.get(&xt).to_vec(), vec![1.0, 0.25, 0.25]);
    /// ```
    #[must_use]
    pub fn leaky_relu(&self, slope: E) -> Self {
        self.unary(
            // `NaN > 0` is false, and `NaN * slope` is NaN.
            move |x| if x > E::zero() { x } else { x * slope },
            move |x, _| {
                if x > E::zero() {
                    E::one()
                } else if x <= E::zero() {
                    slope
                } else {
                    x // NaN
                }
            },
        )
    }

    /// The exponential linear unit: `x` for `x > 0`, `alpha (e^x - 1)` otherwise, elementwise.
    /// Derivative: 1 for `x > 0`, `alpha e^x` for `x <= 0` (so `alpha` at exactly 0, as in PyTorch).
    /// PyTorch: `torch.nn.functional.elu(x, alpha)` (its default alpha is 1).
    ///
    /// Edge values: `elu(inf) = inf`, `elu(-inf) = -alpha` (derivative 0), as in PyTorch; NaN stays
    /// NaN with a NaN gradient (**PyTorch differs**: its gradient at NaN is the upstream gradient).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([2.0, 0.0, f64::NEG_INFINITY]);
    /// assert_eq!(x.elu(0.5).to_vec(), vec![2.0, 0.0, -0.5]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.elu(0.5).sum().backward();
    /// assert_eq!(g.get(&xt).to_vec(), vec![1.0, 0.5, 0.0]);
    /// ```
    #[must_use]
    pub fn elu(&self, alpha: E) -> Self {
        self.unary(
            move |x| if x > E::zero() { x } else { alpha * x.exp_m1() },
            move |x, _| {
                if x > E::zero() {
                    E::one()
                } else if x <= E::zero() {
                    alpha * x.exp()
                } else {
                    x // NaN
                }
            },
        )
    }

    /// `ln(sigmoid(x)) = -softplus(-x)` elementwise, computed stably as `min(x, 0) -
    /// ln(1 + e^-|x|)`. Derivative: `1 - sigmoid(x) = sigmoid(-x)`. PyTorch:
    /// `torch.nn.functional.logsigmoid`.
    ///
    /// Edge values: never overflows; exactly `x` far left (below about -17 in `f32`, -37 in `f64`,
    /// where `ln(1 + e^x)` is below half an ulp of `x`); far right it is `-e^-x`, tiny and negative,
    /// and exactly 0 once that underflows; `log_sigmoid(-inf) = -inf` (derivative 1),
    /// `log_sigmoid(inf) = 0` (derivative 0); NaN stays NaN (derivative NaN); all as PyTorch.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, -1000.0, 1000.0]).log_sigmoid().to_vec();
    /// assert_eq!(y, vec![-(2.0_f64.ln()), -1000.0, 0.0]);
    /// ```
    #[must_use]
    pub fn log_sigmoid(&self) -> Self {
        self.unary_kernel(E::log_sigmoid_into, E::log_sigmoid_backward, false)
    }

    /// `x` clamped to `[min, max]` elementwise. Derivative: 1 strictly inside `(min, max)`, 0 at
    /// and beyond the bounds (PyTorch's choice: its gradient is 0 where `x <= min` or `x >= max`).
    /// PyTorch: `torch.nn.functional.hardtanh(x, min, max)` (its defaults are -1 and 1).
    ///
    /// Edge values: `±inf` clamp to the bounds (derivative 0); NaN stays NaN with a NaN gradient
    /// (**PyTorch differs**: its gradient at NaN is the upstream gradient). `min == max` is allowed
    /// (every value becomes `min`, derivative 0).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([-2.0, -1.0, 0.5, 1.0, 3.0]);
    /// assert_eq!(x.hardtanh(-1.0, 1.0).to_vec(), vec![-1.0, -1.0, 0.5, 1.0, 1.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.hardtanh(-1.0, 1.0).sum().backward();
    /// assert_eq!(g.get(&xt).to_vec(), vec![0.0, 0.0, 1.0, 0.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If `min > max` or either bound is NaN (as PyTorch, which says "`min_val` cannot be greater than `max_val`").
    #[must_use]
    #[track_caller]
    pub fn hardtanh(&self, min: E, max: E) -> Self {
        assert!(
            min <= max,
            "hardtanh: the lower bound {min} is not at most the upper bound {max}"
        );
        self.unary(
            move |x| {
                if x < min {
                    min
                } else if x > max {
                    max
                } else {
                    x
                }
            },
            move |x, _| {
                if x > min && x < max {
                    E::one()
                } else if x <= min || x >= max {
                    E::zero()
                } else {
                    x // NaN
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::{assert_runtime_matches_static, grad_of, random};
    use crate::{Rank2, Shape, Tape, Tensor, Tracking, gradcheck};

    fn close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= tol, "{got:?} is not {want:?}");
        }
    }

    // Φ(1) and φ(1), the standard normal's distribution and density at 1.
    const CDF1: f64 = 0.841_344_746_068_542_9;
    const PDF1: f64 = 0.241_970_724_519_143_37;

    #[test]
    fn gelu_values_and_gradient() {
        // gelu(x) = x Φ(x): 0, Φ(1), -(1 - Φ(1)); in f32 too.
        let y = Tensor::from([0.0, 1.0, -1.0, 2.0]).gelu().to_vec();
        close(&y, &[0.0, CDF1, CDF1 - 1.0, 1.954_499_736_103_641_6], 1e-15);
        let y = Tensor::from([1.0_f32, -1.0]).gelu().to_vec();
        assert!(
            (f64::from(y[0]) - CDF1).abs() < 1e-7 && (f64::from(y[1]) - CDF1 + 1.0).abs() < 1e-7
        );
        // d/dx x Φ(x) = Φ(x) + x φ(x): 1/2 at 0, Φ(1) + φ(1) at 1, (1 - Φ(1)) - φ(1) at -1.
        let g = grad_of([0.0, 1.0, -1.0], Tensor::gelu);
        close(&g, &[0.5, CDF1 + PDF1, 1.0 - CDF1 - PDF1], 1e-15);
    }

    #[test]
    fn gelu_tanh_values_and_gradient() {
        // u = sqrt(2/pi) (1 + 0.044715) at x = 1; gelu_tanh(1) = (1 + tanh u) / 2.
        let u = (2.0 / core::f64::consts::PI).sqrt() * 1.044_715;
        let y = Tensor::from([0.0, 1.0, -1.0]).gelu_tanh().to_vec();
        close(
            &y,
            &[0.0, 0.5 * (1.0 + u.tanh()), -0.5 * (1.0 - u.tanh())],
            1e-15,
        );
        // derivative (1 + tanh u) / 2 + x (1 - tanh^2 u) u' / 2, u' = sqrt(2/pi) (1 + 3 0.044715 x^2);
        // 1/2 at x = 0.
        let du = (2.0 / core::f64::consts::PI).sqrt() * (1.0 + 3.0 * 0.044_715);
        let want1 = 0.5 * (1.0 + u.tanh()) + 0.5 * (1.0 - u.tanh() * u.tanh()) * du;
        let g = grad_of([0.0, 1.0], Tensor::gelu_tanh);
        close(&g, &[0.5, want1], 1e-15);
    }

    #[test]
    fn silu_values_and_gradient() {
        // silu(ln 3) = 0.75 ln 3; d/dx x s(x) = s (1 + x (1 - s)): 1/2 at 0, 0.75 (1 + ln 3 / 4) at ln 3.
        let l3 = 3.0_f64.ln();
        close(&Tensor::from([l3]).silu().to_vec(), &[0.75 * l3], 1e-15);
        let g = grad_of([0.0, l3], Tensor::silu);
        close(&g, &[0.5, 0.75 * (1.0 + l3 / 4.0)], 1e-15);
    }

    #[test]
    fn softplus_values_gradient_and_threshold() {
        // softplus(ln 3) = ln 4; d/dx = sigmoid(x): 1/2 at 0, 0.75 at ln 3, 1 above 20; at exactly
        // 20 the formula: sigmoid(20).
        let l3 = 3.0_f64.ln();
        let y = Tensor::from([l3, 20.0, 20.5]).softplus().to_vec();
        close(
            &y,
            &[4.0_f64.ln(), 20.0 + (-20.0_f64).exp().ln_1p(), 20.5],
            1e-15,
        );
        let g = grad_of([0.0, l3, 20.0, 20.5], Tensor::softplus);
        close(
            &g,
            &[0.5, 0.75, 1.0 / (1.0 + (-20.0_f64).exp()), 1.0],
            1e-15,
        );
        // softplus_with: beta 2, threshold 1; ln(1 + e^(2x)) / 2, derivative sigmoid(2x): at
        // 2x = -ln 3 that is ln(4/3) / 2 and 1/4; at 2x = 1 (the threshold) the formula; above, x.
        let x = [-0.5 * l3, 0.25, 0.5, 0.75];
        let y = Tensor::from(x).softplus_with(2.0, 1.0).to_vec();
        let want = [
            0.5 * (4.0_f64 / 3.0).ln(),
            0.5 * (1.0 + 0.5_f64.exp()).ln(),
            0.5 * (1.0 + 1.0_f64.exp()).ln(),
            0.75,
        ];
        close(&y, &want, 1e-15);
        let g = grad_of(x, |x| x.softplus_with(2.0, 1.0));
        let want = [
            0.25,
            1.0 / (1.0 + (-0.5_f64).exp()),
            1.0 / (1.0 + (-1.0_f64).exp()),
            1.0,
        ];
        close(&g, &want, 1e-15);
        // (1, 20) is softplus itself, bit for bit.
        let x: Tensor<Rank2<3, 4>, f64> = random(3);
        assert_eq!(x.softplus_with(1.0, 20.0).to_vec(), x.softplus().to_vec());
    }

    #[test]
    fn leaky_relu_elu_gradients_at_the_kink() {
        // leaky: 1 above 0, slope at and below 0; elu: 1 above 0, alpha e^x at and below (alpha at 0).
        assert_eq!(
            grad_of([1.0, 0.0, -3.0], |x| x.leaky_relu(0.1)),
            vec![1.0, 0.1, 0.1]
        );
        let g = grad_of([1.0, 0.0, -1.0], |x| x.elu(0.7));
        close(&g, &[1.0, 0.7, 0.7 * (-1.0_f64).exp()], 1e-15);
        let y = Tensor::from([-1.0, 0.5]).elu(0.7).to_vec();
        close(&y, &[0.7 * (-1.0_f64).exp_m1(), 0.5], 1e-15);
        // NaN in, NaN out, NaN gradient.
        for g in [
            grad_of([f64::NAN], |x| x.leaky_relu(0.1)),
            grad_of([f64::NAN], |x| x.elu(1.0)),
            grad_of([f64::NAN], |x| x.hardtanh(-1.0, 1.0)),
        ] {
            assert!(g[0].is_nan());
        }
    }

    #[test]
    fn log_sigmoid_values_and_gradient() {
        // log_sigmoid(ln 3) = ln(3/4); derivative sigmoid(-x): 1/2 at 0, 1/4 at ln 3, 1 far left.
        let l3 = 3.0_f64.ln();
        let y = Tensor::from([l3, -800.0, 800.0]).log_sigmoid().to_vec();
        close(&y, &[0.75_f64.ln(), -800.0, 0.0], 1e-15);
        let g = grad_of([0.0, l3, -800.0, 800.0], Tensor::log_sigmoid);
        close(&g, &[0.5, 0.25, 1.0, 0.0], 1e-15);
    }

    #[test]
    fn hardtanh_gradient_is_zero_at_the_bounds() {
        // 1 strictly inside (-0.5, 2), 0 at the bounds and beyond, as PyTorch.
        let g = grad_of([-1.0, -0.5, 0.0, 1.999, 2.0, 5.0], |x| {
            x.hardtanh(-0.5, 2.0)
        });
        assert_eq!(g, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
        // min == max: a constant.
        assert_eq!(
            Tensor::from([-1.0, 3.0]).hardtanh(1.0, 1.0).to_vec(),
            vec![1.0, 1.0]
        );
    }

    #[test]
    #[should_panic(expected = "hardtanh: the lower bound 1 is not at most the upper bound -1")]
    fn hardtanh_with_crossed_bounds_panics() {
        let _ = Tensor::from([0.0]).hardtanh(1.0, -1.0);
    }

    #[test]
    fn gradients_match_finite_differences() {
        // Inputs in [-2, 2), away from the kinks of leaky_relu, elu and hardtanh (|x| > 1e-3, and
        // not within 1e-3 of ±1).
        let x: Tensor<Rank2<4, 5>, f64> = random(41);
        assert!(
            x.as_slice()
                .iter()
                .all(|v| v.abs() > 1e-3 && (v.abs() - 1.0).abs() > 1e-3)
        );
        let w: Tensor<Rank2<4, 5>, f64> = random(42);
        gradcheck(|x| (x.gelu() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.gelu_tanh() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.silu() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.softplus() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.softplus_with(3.0, 4.0) * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.leaky_relu(0.2) * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.elu(1.3) * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.log_sigmoid() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.hardtanh(-1.0, 1.0) * &w).sum(), &x).unwrap();
        // wider: the tails of the smooth ones
        gradcheck(|x| (x * 6.0).gelu().sum(), &x).unwrap();
        gradcheck(|x| (x * 6.0).silu().sum(), &x).unwrap();
        gradcheck(|x| (x * 12.0).softplus().sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(silu(x) * x): df/dx = silu'(x) x + silu(x); at 0 that is 0, at ln 3
        // 0.75 (1 + ln 3 / 4) ln 3 + 0.75 ln 3.
        let l3 = 3.0_f64.ln();
        let tape = Tape::new();
        let xt = tape.watch(&Tensor::from([0.0, l3]));
        let g = (xt.silu() * &xt).sum().backward().get(&xt).to_vec();
        close(&g, &[0.0, 0.75 * (1.0 + l3 / 4.0) * l3 + 0.75 * l3], 1e-15);
        let x: Tensor<Rank2<3, 3>, f64> = random(43);
        gradcheck(|x| (x.gelu() * x.softplus()).sum(), &x).unwrap();
    }

    /// Run-time shapes: the same values and gradients as the static shape, bit for bit.
    #[test]
    fn runtime_shapes_match_static_ones() {
        fn all<S: Shape, T: Tracking<f64>>(x: &Tensor<S, f64, T>) -> Tensor<S, f64, T> {
            x.gelu()
                + x.gelu_tanh()
                + x.silu()
                + x.softplus()
                + x.softplus_with(2.0, 3.0)
                + x.leaky_relu(0.1)
                + x.elu(0.5)
                + x.log_sigmoid()
                + x.hardtanh(-0.5, 0.5)
        }
        assert_runtime_matches_static(&random(44), all, all);
    }
}
