//! `a - b`: elementwise subtraction of tensors of one shape, and of a tensor and a scalar.

use crate::ops::{scalar_operator, tensor_operator};
use crate::{Element, Shape, Tensor, Tracking};

tensor_operator!(
    /// `a - b` elementwise. `d(a - b)/da = 1`, `d(a - b)/db = -1`. PyTorch: `torch.sub`, numpy: `a - b`.
    ///
    /// The shapes broadcast as numpy's do, as far as types check it
    /// ([`BroadcastShapes`](crate::BroadcastShapes)): equal shapes, or one equal to the last axes of
    /// the other (`[B, N] - [N]` is `[B, N]`), or a scalar tensor. Aligned static dimensions must be
    /// equal, or it does not compile; a static 1 stretches only through
    /// [`broadcast_to`](Tensor::broadcast_to). The gradient of the shorter operand sums over the axes
    /// it was repeated along.
    ///
    /// `a - s` subtracts a scalar from every element (derivative 1), `s - a`
    /// subtracts every element from a scalar (derivative -1).
    ///
    /// Edge values, IEEE as in PyTorch: `inf - inf` is NaN, a NaN operand gives NaN, `0 - 0` is `0`. The
    /// derivatives are 1 and -1 whatever the values, NaN and infinities included.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let a = Tensor::from([[5.0, 7.0, 9.0], [1.0, 2.0, 3.0]]);
    /// let b = Tensor::from([[4.0, 5.0, 6.0], [1.0, 1.0, 1.0]]);
    /// assert_eq!((&a - &b).to_array(), [[1.0, 2.0, 3.0], [0.0, 1.0, 2.0]]);
    /// assert_eq!((&a - 1.0).to_array(), [[4.0, 6.0, 8.0], [0.0, 1.0, 2.0]]);
    /// assert_eq!((10.0_f64 - b).to_array(), [[6.0, 5.0, 4.0], [9.0, 9.0, 9.0]]);
    /// ```
    ///
    /// # Panics
    /// With run-time dimensions the sizes are compared when the op runs: each aligned pair must be
    /// equal or one of them 1 (which stretches). Otherwise it panics, naming the op and both shapes
    /// (`sub: shapes [3, 2] and [4, 2] cannot be broadcast together`).
    Sub,
    sub,
    |x, y| x - y,
    |_, _, _| E::one(),
    |_, _, _| -E::one()
);

/// `a - s` for a scalar `s`. `d(a - s)/da = 1`.
fn sub_scalar<S: Shape, E: Element, T: Tracking<E>>(a: &Tensor<S, E, T>, s: E) -> Tensor<S, E, T> {
    a.unary(move |x| x - s, |_, _| E::one())
}

/// `s - a` for a scalar `s`. `d(s - a)/da = -1`.
fn scalar_sub<S: Shape, E: Element, T: Tracking<E>>(s: E, a: &Tensor<S, E, T>) -> Tensor<S, E, T> {
    a.unary(move |x| s - x, |_, _| -E::one())
}

scalar_operator!(Sub, sub, sub_scalar, scalar_sub);

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn values_of_every_operand_form() {
        let a = Tensor::from([5.0, 7.0, 9.0]);
        let b = Tensor::from([4.0, 5.0, 6.0]);
        let want = vec![1.0, 2.0, 3.0];
        assert_eq!((&a - &b).to_vec(), want);
        assert_eq!((&a - b.clone()).to_vec(), want);
        assert_eq!((a.clone() - &b).to_vec(), want);
        assert_eq!((a.clone() - b).to_vec(), want);
        assert_eq!((&a - 2.0).to_vec(), vec![3.0, 5.0, 7.0]);
        assert_eq!((a.clone() - 2.0).to_vec(), vec![3.0, 5.0, 7.0]);
        assert_eq!((2.0_f64 - &a).to_vec(), vec![-3.0, -5.0, -7.0]);
        assert_eq!((2.0_f64 - a).to_vec(), vec![-3.0, -5.0, -7.0]);
        let c = Tensor::from([1.5_f32, -2.0]);
        assert_eq!((1.0_f32 - &c - &c).to_vec(), vec![-2.0_f32, 5.0]);
    }

    #[test]
    fn infinities_follow_ieee() {
        let a = Tensor::from([f64::INFINITY, f64::INFINITY, 1.0]);
        let b = Tensor::from([f64::INFINITY, 1.0, f64::NEG_INFINITY]);
        let y = (a - b).to_vec();
        assert!(y[0].is_nan());
        assert_eq!(y[1..], [f64::INFINITY, f64::INFINITY]);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(w * (a - b)) + sum(3 - b) + sum(a - 1): df/da = w + 1, df/db = -w - 1.
        let a = Tensor::from([1.0, -2.0]);
        let b = Tensor::from([3.0, 4.0]);
        let w = Tensor::from([2.0, -5.0]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let f = ((&at - &bt) * &w).sum() + (3.0_f64 - &bt).sum() + (&at - 1.0).sum();
        let g = f.backward();
        assert_eq!(g.get(&at).to_vec(), vec![3.0, -4.0]);
        assert_eq!(g.get(&bt).to_vec(), vec![-3.0, 4.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank2<3, 4>, f64> = random(11);
        let b: Tensor<Rank2<3, 4>, f64> = random(12);
        let w: Tensor<Rank2<3, 4>, f64> = random(13);
        gradcheck(|a| ((a - &b) * &w).sum(), &a).unwrap();
        gradcheck(|b| ((&a - b) * &w).sum(), &b).unwrap();
        gradcheck(|a| ((0.5_f64 - a - 0.25) * &w).sum(), &a).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum((a - a) * w) + sum(a * w): the first term is 0 with gradient w - w = 0, so df/da = w.
        let a = Tensor::from([1.0, 2.0]);
        let w = Tensor::from([3.0, -5.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = ((&at - &at) * &w + &at * &w).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![3.0, -5.0]);
    }
}
