//! `sqrt`: the square root, elementwise.

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `√x` elementwise. Derivative: `d(√x)/dx = 1 / (2 √x)`, computed as `0.5 / y`. PyTorch:
    /// `torch.sqrt`, numpy: `np.sqrt`.
    ///
    /// Edge values, IEEE as in PyTorch: `√x` is NaN for `x < 0` (with a NaN gradient), `√-0 = -0`,
    /// `√inf = inf` (gradient 0), NaN stays NaN. At `x = 0` the derivative is `+inf` (`-inf` at `-0`),
    /// so a zero input gives an infinite gradient, or a NaN one once it is multiplied by a zero
    /// upstream gradient; add a small constant first (`(x + 1e-12).sqrt()`) where inputs can be 0.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([4.0, 2.25, 0.0]);
    /// assert_eq!(x.sqrt().to_vec(), vec![2.0, 1.5, 0.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.sqrt().sum().backward();
    /// assert_eq!(g.get(&xt).to_vec(), vec![0.25, 1.0 / 3.0, f64::INFINITY]);
    /// ```
    #[must_use]
    pub fn sqrt(&self) -> Self {
        let half = E::from_f64_lossy(0.5);
        self.unary(E::sqrt, move |_, y| half / y)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::rng;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn values() {
        assert_eq!(
            Tensor::from([1.0, 4.0, 9.0, 2.0]).sqrt().to_vec(),
            vec![1.0, 2.0, 3.0, 2.0_f64.sqrt()]
        );
        assert_eq!(
            Tensor::from([0.25_f32, 16.0]).sqrt().to_vec(),
            vec![0.5_f32, 4.0]
        );
    }

    #[test]
    fn edge_values_follow_ieee() {
        let x = Tensor::from([0.0, -0.0, -1.0, f64::INFINITY]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.sqrt();
        let v = y.to_vec();
        assert_eq!(v[0], 0.0);
        assert!(v[1] == 0.0 && v[1].is_sign_negative());
        assert!(v[2].is_nan());
        assert_eq!(v[3], f64::INFINITY);
        // 0.5 / y: +inf at +0, -inf at -0 (both as PyTorch), NaN below 0, 0 at inf.
        let g = y.sum().backward().get(&xt).to_vec();
        assert_eq!(g[..2], [f64::INFINITY, f64::NEG_INFINITY]);
        assert!(g[2].is_nan());
        assert_eq!(g[3], 0.0);
    }

    #[test]
    fn gradient_literal() {
        // d(√x)/dx = 1 / (2√x): [0.5, 0.25, 0.125, 2] at x = [1, 4, 16, 1/16].
        let x = Tensor::from([1.0, 4.0, 16.0, 0.0625]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.sqrt().sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![0.5, 0.25, 0.125, 2.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x = Tensor::<Rank2<3, 4>, f64>::uniform(&mut rng(61), 0.2, 3.0);
        gradcheck(|x| x.sqrt().sum(), &x).unwrap();
        let w = Tensor::<Rank2<3, 4>, f64>::uniform(&mut rng(62), -2.0, 2.0);
        gradcheck(|x| (x.sqrt() * &w).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(√x * √x) = sum(x): df/dx = 2 * √x / (2√x) = 1.
        let x = Tensor::from([4.0, 0.25]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.sqrt() * xt.sqrt()).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![1.0, 1.0]);
    }
}
