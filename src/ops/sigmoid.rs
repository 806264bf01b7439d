//! `sigmoid`: the logistic function, elementwise.

use crate::{Element, Shape, Tensor, Tracking};

/// `1 / (1 + e^-x)`, evaluated so that the exponential never overflows: `e^-x` for `x >= 0` and
/// `e^x / (1 + e^x)` for `x < 0`, where `e^x <= 1`.
#[inline]
pub(crate) fn logistic<E: Element>(x: E) -> E {
    // 1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below: neither exponent is positive, and the
    // choice is a select rather than a branch, so random signs cost no mispredictions.
    let e = (-x.abs()).exp();
    let numerator = if x >= E::zero() { E::one() } else { e };
    numerator / (E::one() + e)
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The logistic sigmoid `1 / (1 + e^-x)` elementwise. Derivative: `y (1 - y)`. PyTorch:
    /// `torch.sigmoid`.
    ///
    /// Edge values: computed without overflow, so never NaN for a number: the result rounds to
    /// exactly 1 above about 37 (`f64`) or 17 (`f32`), and keeps its relative precision in the left
    /// tail down to exactly 0 below about -745 (`f64`) or -104 (`f32`) (PyTorch's `f64` sigmoid
    /// reaches 0 sooner: `torch.sigmoid(-745.0)` is 0, here `5e-324`). The derivative is 0 where the
    /// result is exactly 0 or 1. `±inf` map to 1 and 0 (derivative 0); NaN stays NaN (derivative
    /// NaN); all as in PyTorch.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 1000.0, -1000.0]).sigmoid();
    /// assert_eq!(y.to_vec(), vec![0.5, 1.0, 0.0]);
    /// ```
    #[must_use]
    pub fn sigmoid(&self) -> Self {
        self.unary_kernel(E::sigmoid_into, E::sigmoid_backward, true)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn values() {
        let y = Tensor::from([0.0, 3.0_f64.ln(), -(3.0_f64.ln()), 2.0]).sigmoid();
        let want = Tensor::from([0.5, 0.75, 0.25, 1.0 / (1.0 + (-2.0_f64).exp())]);
        approx::assert_relative_eq!(y, want, epsilon = 1e-15);
        // Far in the left tail the value keeps its relative accuracy: sigmoid(-30) = e^-30 / (1 + e^-30).
        let y = Tensor::from([-30.0]).sigmoid().to_vec()[0];
        approx::assert_relative_eq!(
            y,
            (-30.0_f64).exp() / (1.0 + (-30.0_f64).exp()),
            max_relative = 1e-15
        );
        let y = Tensor::from([0.0_f32, 3.0_f32.ln()]).sigmoid();
        approx::assert_relative_eq!(y, Tensor::from([0.5_f32, 0.75]), epsilon = 1e-7);
    }

    #[test]
    fn saturates_without_nan() {
        // sigmoid(±1000) is exactly 1 and 0, never NaN, with derivative y(1 - y) = 0; also in f32,
        // where e^1000 overflows.
        let x = Tensor::from([1000.0, -1000.0, f64::INFINITY, f64::NEG_INFINITY]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.sigmoid();
        assert_eq!(y.to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
        assert_eq!(y.sum().backward().get(&xt).to_vec(), vec![0.0; 4]);
        let x = Tensor::from([1000.0_f32, -1000.0, 200.0, -200.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.sigmoid();
        assert_eq!(y.to_vec(), vec![1.0_f32, 0.0, 1.0, 0.0]);
        assert_eq!(y.sum().backward().get(&xt).to_vec(), vec![0.0_f32; 4]);
        assert!(Tensor::from([f64::NAN]).sigmoid().to_vec()[0].is_nan());
    }

    #[test]
    fn gradient_literal() {
        // d sigmoid(x)/dx = y (1 - y): 0.25 at x = 0, 0.75 * 0.25 = 0.1875 at x = ln 3.
        let x = Tensor::from([0.0, 3.0_f64.ln()]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.sigmoid().sum().backward().get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([0.25, 0.1875]), epsilon = 1e-15);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<3, 4>, f64> = random(91);
        let w: Tensor<Rank2<3, 4>, f64> = random(92);
        gradcheck(|x| (x.sigmoid() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x * 8.0).sigmoid().sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(sigmoid(x) * x): df/dx = y (1 - y) x + y; at x = 0 that is 0.5.
        let x = Tensor::from([0.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.sigmoid() * &xt).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![0.5]);
    }
}
