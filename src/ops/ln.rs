//! `ln`: the natural logarithm, elementwise.

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `ln x` (base e) elementwise. Derivative: `d(ln x)/dx = 1 / x`. PyTorch: `torch.log`, numpy:
    /// `np.log`.
    ///
    /// Edge values, IEEE as in PyTorch: `ln 0 = -inf` (gradient `+inf`), `ln(-0) = -inf` (gradient
    /// `-inf`), `ln x` is NaN for `x < 0` (the gradient there is still `1 / x`, as in PyTorch),
    /// `ln inf = inf` (gradient 0), and NaN stays NaN (gradient NaN).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([1.0, core::f64::consts::E, 0.0, -1.0]).ln().to_vec();
    /// assert_eq!(y[..3], [0.0, 1.0, f64::NEG_INFINITY]);
    /// assert!(y[3].is_nan());
    /// ```
    #[must_use]
    pub fn ln(&self) -> Self {
        self.unary_kernel(E::ln_into, E::ln_backward, false)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::rng;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    #[allow(clippy::approx_constant)] // ln 2 written to 8 decimals
    fn ln_is_the_natural_logarithm() {
        // ln 1 = 0, ln 2 = 0.69314718 and ln 3 = 1.09861229 to 8 decimals.
        let y = Tensor::from([1.0, 2.0, 3.0]).ln();
        approx::assert_relative_eq!(
            y,
            Tensor::from([0.0, 0.693_147_18, 1.098_612_29]),
            epsilon = 1e-8
        );
        let y = Tensor::from([1.0_f32, 2.0, 3.0]).ln();
        approx::assert_relative_eq!(y, Tensor::from([0.0, 2.0_f32.ln(), 3.0_f32.ln()]));
    }

    #[test]
    fn edge_values_follow_ieee() {
        let x = Tensor::from([0.0, -0.0, -1.0, f64::INFINITY, f64::NAN]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.ln();
        let v = y.to_vec();
        assert_eq!(v[..2], [f64::NEG_INFINITY, f64::NEG_INFINITY]);
        assert!(v[2].is_nan());
        assert_eq!(v[3], f64::INFINITY);
        assert!(v[4].is_nan());
        // d(ln x)/dx = 1/x: +inf at +0, -inf at -0, -1 at -1 (as PyTorch), 0 at inf.
        let g = y.sum().backward().get(&xt).to_vec();
        assert_eq!(g[..4], [f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0]);
        assert!(g[4].is_nan());
    }

    #[test]
    fn gradient_literal() {
        // d(ln x)/dx = 1/x: [1, 0.5, 4] at x = [1, 2, 0.25].
        let x = Tensor::from([1.0, 2.0, 0.25]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.ln().sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![1.0, 0.5, 4.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = Tensor::<Rank2<3, 4>, f64>::uniform(&mut rng(51), 0.2, 3.0);
        gradcheck(|x| x.ln().sum(), &x).unwrap();
        // used twice: f = sum(ln(x) * ln(x)), f' = 2 ln(x) / x
        gradcheck(|x| (x.ln() * x.ln()).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(ln(x) * x): df/dx = 1 + ln(x); at x = 1 that is 1, at x = e it is 2.
        let x = Tensor::from([1.0, core::f64::consts::E]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.ln() * &xt).sum().backward().get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([1.0, 2.0]), epsilon = 1e-15);
    }
}
