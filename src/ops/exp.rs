//! `exp`: the exponential, elementwise.

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `e^x` elementwise. Derivative: `d(e^x)/dx = e^x`. PyTorch: `torch.exp`.
    ///
    /// Edge values, IEEE as in PyTorch: overflows to `inf` above about 88.7 (`f32`) or 709.8 (`f64`)
    /// and underflows to 0 below about -103 (`f32`) or -745 (`f64`); `exp(inf) = inf`,
    /// `exp(-inf) = 0`, NaN stays NaN. The derivative is the result, so it is `inf`, 0 or NaN there.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 1.0, 2.0]).exp();
    /// assert_eq!(y.to_vec(), vec![1.0, 1.0_f64.exp(), 2.0_f64.exp()]);
    /// ```
    #[must_use]
    pub fn exp(&self) -> Self {
        self.unary_kernel(E::exp_into, E::exp_backward, true)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    #[allow(clippy::approx_constant)]
    fn exp_raises_e_to_each_element() {
        // exp([1, 2, 3]) = [e, e^2, e^3] = [2.71828183, 7.3890561, 20.08553692] to 8 decimals (as
        // numpy prints np.exp([1, 2, 3]))
        let y = Tensor::from([1.0, 2.0, 3.0]).exp();
        approx::assert_relative_eq!(
            y,
            Tensor::from([2.718_281_83, 7.389_056_1, 20.085_536_92]),
            epsilon = 1e-8
        );
    }

    #[test]
    fn gradient_literal() {
        // d(e^x)/dx = e^x: at x = 0 it is 1, at x = ln 2 it is 2.
        let x = Tensor::from([0.0, 2.0_f64.ln()]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.exp().sum().backward().get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([1.0, 2.0]), epsilon = 1e-15);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<3, 3>, f64> = random(6);
        gradcheck(|x| x.exp().sum(), &x).unwrap();
        // used twice: f = sum(e^x * e^x), f' = 2 e^{2x}
        gradcheck(|x| (x.exp() * x.exp()).sum(), &x).unwrap();
    }
}
