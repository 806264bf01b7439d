//! `tanh`: the hyperbolic tangent, elementwise.

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `tanh x` elementwise. Derivative: `1 - y^2`. PyTorch: `torch.tanh`, numpy: `np.tanh`.
    ///
    /// Edge values, as PyTorch: saturates without overflow, so large inputs give exactly ±1 (from
    /// about ±19 in `f64`, ±9 in `f32`), never NaN, and the derivative there is 0. `±inf` map to ±1
    /// (derivative 0); NaN stays NaN (derivative NaN); `tanh(-0) = -0`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let y = Tensor::from([0.0, 1000.0, -1000.0]).tanh();
    /// assert_eq!(y.to_vec(), vec![0.0, 1.0, -1.0]);
    /// ```
    #[must_use]
    pub fn tanh(&self) -> Self {
        self.unary_kernel(E::tanh_into, E::tanh_backward, true)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn values() {
        // tanh(ln 3 / 2) = (3 - 1) / (3 + 1) = 0.5
        let y = Tensor::from([0.0, 0.5 * 3.0_f64.ln(), -0.5 * 3.0_f64.ln()]).tanh();
        approx::assert_relative_eq!(y, Tensor::from([0.0, 0.5, -0.5]), epsilon = 1e-15);
        let y = Tensor::from([0.5_f32 * 3.0_f32.ln()]).tanh();
        approx::assert_relative_eq!(y, Tensor::from([0.5_f32]), epsilon = 1e-7);
    }

    #[test]
    fn saturates_without_nan() {
        // tanh(±1000) is exactly ±1, never NaN, with derivative 1 - y^2 = 0; also in f32.
        let x = Tensor::from([1000.0, -1000.0, f64::INFINITY, f64::NEG_INFINITY]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.tanh();
        assert_eq!(y.to_vec(), vec![1.0, -1.0, 1.0, -1.0]);
        assert_eq!(y.sum().backward().get(&xt).to_vec(), vec![0.0; 4]);
        let x = Tensor::from([1000.0_f32, -1000.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.tanh();
        assert_eq!(y.to_vec(), vec![1.0_f32, -1.0]);
        assert_eq!(y.sum().backward().get(&xt).to_vec(), vec![0.0_f32; 2]);
        assert!(Tensor::from([f64::NAN]).tanh().to_vec()[0].is_nan());
    }

    #[test]
    fn gradient_literal() {
        // d tanh(x)/dx = 1 - y^2: 1 at x = 0, 1 - 0.25 = 0.75 where y = 0.5.
        let x = Tensor::from([0.0, 0.5 * 3.0_f64.ln()]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.tanh().sum().backward().get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([1.0, 0.75]), epsilon = 1e-15);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<3, 4>, f64> = random(101);
        let w: Tensor<Rank2<3, 4>, f64> = random(102);
        gradcheck(|x| (x.tanh() * &w).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(tanh(x) * tanh(x)): df/dx = 2 y (1 - y^2); at y = 0.5 that is 0.75.
        let x = Tensor::from([0.5 * 3.0_f64.ln()]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.tanh() * xt.tanh()).sum().backward().get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([0.75]), epsilon = 1e-15);
    }
}
