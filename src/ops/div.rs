//! `a / b`: elementwise division of tensors of one shape, and of a tensor and a scalar.

use crate::ops::{scalar_operator, tensor_operator};
use crate::{Element, Shape, Tensor, Tracking};

tensor_operator!(
    /// `a / b` elementwise. `d(a / b)/da = 1 / b`, `d(a / b)/db = -a / b^2` (computed as `-y / b`).
    /// PyTorch: `torch.div`, numpy: `a / b`.
    ///
    /// The shapes broadcast as numpy's do, as far as types check it
    /// ([`BroadcastShapes`](crate::BroadcastShapes)): equal shapes, or one equal to the last axes of
    /// the other (`[B, N] / [N]` is `[B, N]`), or a scalar tensor. Aligned static dimensions must be
    /// equal, or it does not compile; a static 1 stretches only through
    /// [`broadcast_to`](Tensor::broadcast_to). The gradient of the shorter operand sums over the axes
    /// it was repeated along.
    ///
    /// `a / s` divides every element by a scalar (derivative `1 / s`), `s / a`
    /// divides a scalar by every element (derivative `-s / a^2`).
    ///
    /// Edge values: division by zero follows IEEE, as in numpy and PyTorch: `x / 0` is `inf` or `-inf`
    /// by the signs of `x` and the zero, `0 / 0` is NaN. The gradients there are PyTorch's too:
    /// `d/da = 1 / b` is `±inf` at `b = ±0`; `d/db = -a / b^2` is `-inf` for `a = 1, b = ±0`, `inf` for
    /// `a = -1, b = 0`, and NaN for `0 / 0`; `d(s / a)/da` at `a = 0` is `-inf` for `s > 0` and NaN for
    /// `s = 0`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let a = Tensor::from([1.0, 2.0, 3.0]);
    /// let b = Tensor::from([4.0, 5.0, 6.0]);
    /// assert_eq!((&a / &b).to_vec(), vec![0.25, 0.4, 0.5]);
    /// assert_eq!((&a / 2.0).to_vec(), vec![0.5, 1.0, 1.5]);
    /// assert_eq!((12.0_f64 / b).to_vec(), vec![3.0, 2.4, 2.0]);
    /// let y = Tensor::from([1.0, -1.0, 0.0]) / Tensor::from([0.0, 0.0, 0.0]);
    /// assert_eq!(y.to_vec()[..2], [f64::INFINITY, f64::NEG_INFINITY]);
    /// assert!(y.to_vec()[2].is_nan());
    /// ```
    ///
    /// # Panics
    /// With run-time dimensions the sizes are compared when the op runs: each aligned pair must be
    /// equal or one of them 1 (which stretches). Otherwise it panics, naming the op and both shapes
    /// (`div: shapes [3, 2] and [4, 2] cannot be broadcast together`).
    Div,
    div,
    |x, z| x / z,
    |_, z, _| z.recip(),
    |_, z, y| -y / z
);

/// `a / s` for a scalar `s`. `d(a / s)/da = 1 / s`.
fn div_scalar<S: Shape, E: Element, T: Tracking<E>>(a: &Tensor<S, E, T>, s: E) -> Tensor<S, E, T> {
    let r = s.recip();
    a.unary(move |x| x / s, move |_, _| r)
}

/// `s / a` for a scalar `s`. `d(s / a)/da = -s / a^2`, computed as `-y / a`.
fn scalar_div<S: Shape, E: Element, T: Tracking<E>>(s: E, a: &Tensor<S, E, T>) -> Tensor<S, E, T> {
    a.unary(move |x| s / x, |x, y| -y / x)
}

scalar_operator!(Div, div, div_scalar, scalar_div);

#[cfg(test)]
mod tests {
    use crate::ops::testing::{random, rng};
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn divides_elementwise_and_by_a_scalar() {
        // Elementwise, each element by the one at the same position, by reference and by value:
        // [1, 2, 3] / [4, 5, 6] = [0.25, 0.4, 0.5]. By a scalar, every element: [1, 2, 3] / 2 =
        // [0.5, 1, 1.5]; a scalar by every element: 4 / [1, 2, 4] = [4, 2, 1].
        let a = Tensor::from([1.0, 2.0, 3.0]);
        let b = Tensor::from([4.0, 5.0, 6.0]);
        assert_eq!((&a / &b).to_vec(), vec![0.25, 0.4, 0.5]);
        assert_eq!((&a / b.clone()).to_vec(), vec![0.25, 0.4, 0.5]);
        assert_eq!((a.clone() / &b).to_vec(), vec![0.25, 0.4, 0.5]);
        assert_eq!((a.clone() / b).to_vec(), vec![0.25, 0.4, 0.5]);
        assert_eq!((&a / 2.0).to_vec(), vec![0.5, 1.0, 1.5]);
        assert_eq!((a / 2.0).to_vec(), vec![0.5, 1.0, 1.5]);
        let c = Tensor::from([1.0_f32, 2.0, 4.0]);
        assert_eq!((4.0_f32 / &c).to_vec(), vec![4.0_f32, 2.0, 1.0]);
        assert_eq!((4.0_f32 / c).to_vec(), vec![4.0_f32, 2.0, 1.0]);
    }

    #[test]
    fn division_by_zero_follows_ieee() {
        // x / +0 = +-inf, x / -0 flips the sign, 0 / 0 = NaN; the same for a scalar divisor.
        let a = Tensor::from([1.0, -1.0, 1.0, 0.0]);
        let b = Tensor::from([0.0, 0.0, -0.0, 0.0]);
        let y = (&a / &b).to_vec();
        assert_eq!(
            y[..3],
            [f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY]
        );
        assert!(y[3].is_nan());
        let y = (&a / 0.0).to_vec();
        assert_eq!(y[..2], [f64::INFINITY, f64::NEG_INFINITY]);
        assert!(y[3].is_nan());
        assert_eq!(
            (1.0_f64 / b).to_vec()[..3],
            [f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY]
        );
        // d(a / b)/da = 1 / b is inf at b = 0.
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = (&at / Tensor::from([0.0, 2.0, 4.0, 8.0])).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![f64::INFINITY, 0.5, 0.25, 0.125]);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(a / b) + sum(a / 2) + sum(8 / b):
        // df/da = 1/b + 1/2 = [1, 0.75]; df/db = -a/b^2 - 8/b^2 = [-0.25 - 2, -0.375 - 0.5].
        let a = Tensor::from([1.0, 6.0]);
        let b = Tensor::from([2.0, 4.0]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let f = (&at / &bt).sum() + (&at / 2.0).sum() + (8.0_f64 / &bt).sum();
        let g = f.backward();
        assert_eq!(g.get(&at).to_vec(), vec![1.0, 0.75]);
        assert_eq!(g.get(&bt).to_vec(), vec![-2.25, -0.875]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Divisors of magnitude in [0.5, 2), with both signs.
        let sign =
            Tensor::<Rank2<3, 4>, f64>::from_fn(|[i, j]| if (i + j) % 2 == 0 { 1.0 } else { -1.0 });
        let b = Tensor::<Rank2<3, 4>, f64>::uniform(&mut rng(21), 0.5, 2.0) * &sign;
        let a: Tensor<Rank2<3, 4>, f64> = random(22);
        let w: Tensor<Rank2<3, 4>, f64> = random(23);
        gradcheck(|a| ((a / &b) * &w).sum(), &a).unwrap();
        gradcheck(|b| ((&a / b) * &w).sum(), &b).unwrap();
        gradcheck(|a| ((a / -1.5) * &w).sum(), &a).unwrap();
        gradcheck(|b| ((0.7_f64 / b) * &w).sum(), &b).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(a / a): df/da = 1/a - a/a^2 = 0; one contribution alone would give 1/a or -1/a.
        let a = Tensor::from([2.0, -4.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let y = &at / &at;
        assert_eq!(y.to_vec(), vec![1.0, 1.0]);
        assert_eq!(y.sum().backward().get(&at).to_vec(), vec![0.0, 0.0]);
    }
}
