//! `a * b`: elementwise (Hadamard) product of tensors of one shape, and scaling by a scalar.
//!
//! `*` is never a matrix product; that is [`Tensor::matmul`].

use crate::ops::{scalar_operator, tensor_operator};
use crate::{Element, Shape, Tensor, Tracking};

tensor_operator!(
    /// `a * b` elementwise. `d(ab)/da = b`, `d(ab)/db = a`. PyTorch: `torch.mul`, numpy: `a * b`.
    ///
    /// The shapes broadcast as numpy's do, as far as types check it
    /// ([`BroadcastShapes`](crate::BroadcastShapes)): equal shapes, or one equal to the last axes of
    /// the other (`[B, N] * [N]` is `[B, N]`), or a scalar tensor. Aligned static dimensions must be
    /// equal, or it does not compile; a static 1 stretches only through
    /// [`broadcast_to`](Tensor::broadcast_to). The gradient of the shorter operand sums over the axes
    /// it was repeated along.
    ///
    /// Edge values, IEEE as in PyTorch: `0 * inf` is NaN, a NaN operand gives NaN. The derivatives are
    /// the other operand as it is: at `a = inf`, `b = 0` the result is NaN, `d/da = 0` and `d/db = inf`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let a = Tensor::from([1.0, 2.0, 3.0]);
    /// let b = Tensor::from([4.0, 5.0, 6.0]);
    /// assert_eq!((&a * &b).to_vec(), vec![4.0, 10.0, 18.0]);
    /// assert_eq!((&a * 5.0).to_vec(), vec![5.0, 10.0, 15.0]);
    /// assert_eq!((2.0_f64 * a).to_vec(), vec![2.0, 4.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// With run-time dimensions the sizes are compared when the op runs: each aligned pair must be
    /// equal or one of them 1 (which stretches). Otherwise it panics, naming the op and both shapes
    /// (`mul: shapes [3, 2] and [4, 2] cannot be broadcast together`).
    Mul,
    mul,
    |x, y| x * y,
    |_, y, _| y,
    |x, _, _| x
);

/// `a * s` for a scalar `s`. `d(as)/da = s`.
fn mul_scalar<S: Shape, E: Element, T: Tracking<E>>(a: &Tensor<S, E, T>, s: E) -> Tensor<S, E, T> {
    a.unary(move |x| x * s, move |_, _| s)
}

/// `s * a`, the same as `a * s`.
fn scalar_mul<S: Shape, E: Element, T: Tracking<E>>(s: E, a: &Tensor<S, E, T>) -> Tensor<S, E, T> {
    mul_scalar(a, s)
}

scalar_operator!(Mul, mul, mul_scalar, scalar_mul);

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn multiplies_elementwise_and_by_a_scalar() {
        // Elementwise, each element times the one at the same position: [1, 2, 3] * [4, 5, 6] =
        // [4, 10, 18]; a scalar multiplies every element: [1, 2, 3] * 5 = [5, 10, 15].
        assert_eq!(
            (Tensor::from([1.0, 2.0, 3.0]) * Tensor::from([4.0, 5.0, 6.0])).to_vec(),
            vec![4.0, 10.0, 18.0]
        );
        assert_eq!(
            (Tensor::from([1.0, 2.0, 3.0]) * 5.0).to_vec(),
            vec![5.0, 10.0, 15.0]
        );
    }

    #[test]
    fn gradient_literal() {
        // f = sum(a * b * 3): df/da = 3b, df/db = 3a.
        let a = Tensor::from([1.0, -2.0]);
        let b = Tensor::from([3.0, 4.0]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = (&at * &bt * 3.0).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![9.0, 12.0]);
        assert_eq!(g.get(&bt).to_vec(), vec![3.0, -6.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank3<2, 3, 2>, f64> = random(4);
        let b: Tensor<Rank3<2, 3, 2>, f64> = random(5);
        gradcheck(|a| (&a * &b * 1.5).sum(), &a).unwrap();
        gradcheck(|b| (&a * (2.0 * b)).sum(), &b).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(a * a): df/da = 2a.
        let a = Tensor::from([1.5, -2.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        assert_eq!(
            (&at * &at).sum().backward().get(&at).to_vec(),
            vec![3.0, -4.0]
        );
    }
}
