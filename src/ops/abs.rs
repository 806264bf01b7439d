//! `abs`: the absolute value, elementwise.

use crate::{Element, Shape, Tensor, Tracking};

/// `sign(x)` with `sign(±0) = 0` and `sign(NaN) = NaN`: the derivative of `|x|` that PyTorch uses.
#[inline]
fn sign<E: Element>(x: E) -> E {
    if x > E::zero() {
        E::one()
    } else if x < E::zero() {
        -E::one()
    } else if x == E::zero() {
        E::zero()
    } else {
        x // NaN
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `|x|` elementwise. Derivative: `sign(x)`, that is 1 for `x > 0`, -1 for `x < 0`, and **0 at
    /// `x = 0`** (PyTorch's convention for the kink; any value in `[-1, 1]` is a subgradient there).
    /// PyTorch: `torch.abs`, numpy: `np.abs`.
    ///
    /// Edge values: `|-0.0| = 0.0` and `|±inf| = inf` (derivative ±1), as in PyTorch. A NaN stays NaN,
    /// and its gradient is NaN: the derivative is undefined there, as for every other elementwise op
    /// at NaN. **PyTorch differs**: its derivative at NaN is `sgn(NaN) = 0`, so a NaN input gets a
    /// gradient of 0.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([-2.0, 0.0, 3.0]);
    /// assert_eq!(x.abs().to_vec(), vec![2.0, 0.0, 3.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.abs().sum().backward();
    /// assert_eq!(g.get(&xt).to_vec(), vec![-1.0, 0.0, 1.0]);
    /// ```
    #[must_use]
    pub fn abs(&self) -> Self {
        self.unary(E::abs, |x, _| sign(x))
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn values() {
        let x = Tensor::from([1.0_f64, -2.0, 3.0, -0.0]);
        assert_eq!(x.abs().to_vec(), vec![1.0, 2.0, 3.0, 0.0]);
        assert!(x.abs().to_vec()[3].is_sign_positive());
        let y = Tensor::from([-1.5_f32, f32::NEG_INFINITY]).abs();
        assert_eq!(y.to_vec(), vec![1.5_f32, f32::INFINITY]);
    }

    #[test]
    fn gradient_literal() {
        // d|x|/dx = sign(x): [-1, -1, 0, 0, 1, 1] for x = [-3, -inf, 0, -0, 0.5, inf].
        let x = Tensor::from([-3.0, f64::NEG_INFINITY, 0.0, -0.0, 0.5, f64::INFINITY]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.abs().sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![-1.0, -1.0, 0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn nan_stays_nan_in_value_and_gradient() {
        let x = Tensor::from([f64::NAN, 1.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.abs();
        assert!(y.to_vec()[0].is_nan());
        let g = y.sum().backward().get(&xt).to_vec();
        assert!(g[0].is_nan());
        assert_eq!(g[1], 1.0);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<4, 4>, f64> = random(41);
        // Central differences straddle the kink only within eps = 1e-6 of 0.
        assert!(x.as_slice().iter().all(|v| v.abs() > 1e-3));
        let w: Tensor<Rank2<4, 4>, f64> = random(42);
        gradcheck(|x| (x.abs() * &w).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(|x| * x) = sum(x^2 sign(x)): df/dx = sign(x) x + |x| = 2|x|.
        let x = Tensor::from([-1.5, 2.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.abs() * &xt).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![3.0, 4.0]);
    }
}
