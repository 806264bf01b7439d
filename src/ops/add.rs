//! `a + b`: elementwise addition of tensors of one shape, and of a tensor and a scalar.

use crate::ops::{scalar_operator, tensor_operator};
use crate::{Element, Shape, Tensor, Tracking};

tensor_operator!(
    /// `a + b` elementwise. `d(a + b)/da = 1`, `d(a + b)/db = 1`. PyTorch: `torch.add`, numpy: `a + b`.
    ///
    /// The shapes broadcast as numpy's do, as far as types check it
    /// ([`BroadcastShapes`](crate::BroadcastShapes)): equal shapes, or one equal to the last axes of
    /// the other (`[B, N] + [N]` is `[B, N]`), or a scalar tensor. Aligned static dimensions must be
    /// equal, or it does not compile; a static 1 stretches only through
    /// [`broadcast_to`](Tensor::broadcast_to). The gradient of the shorter operand sums over the axes
    /// it was repeated along.
    ///
    /// Edge values, IEEE as in PyTorch: `inf + -inf` is NaN, a NaN operand gives NaN, `-0 + -0` is `-0`
    /// and `0 + -0` is `0`. The derivatives are 1 whatever the values, NaN and infinities included.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let b = Tensor::from([[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]);
    /// assert_eq!((&a + &b).to_array(), [[8.0, 10.0, 12.0], [14.0, 16.0, 18.0]]);
    /// assert_eq!((a + 1.0).to_array(), [[2.0, 3.0, 4.0], [5.0, 6.0, 7.0]]);
    /// assert_eq!((10.0_f64 + &b).to_vec()[0], 17.0);
    ///
    /// // A bias row added to every row: `[2, 3] + [3]` is `[2, 3]`.
    /// let bias = Tensor::from([0.5, 0.25, 0.0]);
    /// assert_eq!((&b + &bias).to_array(), [[7.5, 8.25, 9.0], [10.5, 11.25, 12.0]]);
    /// ```
    ///
    /// # Panics
    /// With run-time dimensions the sizes are compared when the op runs: each aligned pair must be
    /// equal or one of them 1 (which stretches). Otherwise it panics, naming the op and both shapes
    /// (`add: shapes [3, 2] and [4, 2] cannot be broadcast together`).
    Add,
    add,
    |x, y| x + y,
    |_, _, _| E::one(),
    |_, _, _| E::one()
);

/// `a + s` for a scalar `s`. `d(a + s)/da = 1`.
fn add_scalar<S: Shape, E: Element, T: Tracking<E>>(a: &Tensor<S, E, T>, s: E) -> Tensor<S, E, T> {
    a.unary(move |x| x + s, |_, _| E::one())
}

/// `s + a`, the same as `a + s`.
fn scalar_add<S: Shape, E: Element, T: Tracking<E>>(s: E, a: &Tensor<S, E, T>) -> Tensor<S, E, T> {
    add_scalar(a, s)
}

scalar_operator!(Add, add, add_scalar, scalar_add);

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn adds_elementwise_and_a_scalar() {
        // Elementwise: [1, 2, 3] + [4, 5, 6] = [5, 7, 9]; two matrices of one shape, element by
        // element; a scalar is added to every element: [1, 2, 3] + 5 = [6, 7, 8].
        assert_eq!(
            (Tensor::from([1.0, 2.0, 3.0]) + Tensor::from([4.0, 5.0, 6.0])).to_vec(),
            vec![5.0, 7.0, 9.0]
        );
        let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let b = Tensor::from([[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]);
        assert_eq!((a + b).to_array(), [[8.0, 10.0, 12.0], [14.0, 16.0, 18.0]]);
        assert_eq!(
            (Tensor::from([1.0, 2.0, 3.0]) + 5.0).to_vec(),
            vec![6.0, 7.0, 8.0]
        );
    }

    #[test]
    fn gradient_literal() {
        // f = sum(a + b) + sum(2 + a): df/da = 1 + 1 = 2, df/db = 1.
        let a = Tensor::from([1.0, -2.0]);
        let b = Tensor::from([3.0, 4.0]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let f = (&at + &bt).sum() + (2.0_f64 + &at).sum();
        let g = f.backward();
        assert_eq!(g.get(&at).to_vec(), vec![2.0, 2.0]);
        assert_eq!(g.get(&bt).to_vec(), vec![1.0, 1.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank2<3, 4>, f64> = random(1);
        let b: Tensor<Rank2<3, 4>, f64> = random(2);
        let w: Tensor<Rank2<3, 4>, f64> = random(3);
        gradcheck(|a| ((a + &b) * &w).sum(), &a).unwrap();
        gradcheck(|b| ((&a + b + 0.5) * &w).sum(), &b).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum((a + a) * w): df/da = 2w.
        let a = Tensor::from([1.0, 2.0]);
        let w = Tensor::from([3.0, -5.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = ((&at + &at) * &w).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![6.0, -10.0]);
    }
}
