//! `maximum` and `minimum`: the larger and the smaller of two operands, elementwise; `min`: the
//! smallest element, of all elements or along one axis (the mirror of `max`).

use crate::ops::{Merged, zip_with};
use crate::{Element, Merge, Operand, Rank0, ReduceAxis, Shape, Tensor, Tracking};

/// The larger of `a` and `b`, NaN if either is.
#[inline]
fn larger<E: Element>(a: E, b: E) -> E {
    if a.is_nan() || b.is_nan() {
        E::nan()
    } else if b > a {
        b
    } else {
        a
    }
}

/// The smaller of `a` and `b`, NaN if either is.
#[inline]
fn smaller<E: Element>(a: E, b: E) -> E {
    if a.is_nan() || b.is_nan() {
        E::nan()
    } else if b < a {
        b
    } else {
        a
    }
}

/// The share of the gradient that goes to the operand `u` against the other operand `v`: none when `u`
/// `loses`, half at a tie, all of it otherwise (PyTorch's rule, under which a NaN on either side
/// passes the whole gradient to both).
#[inline]
fn share<E: Element>(u: E, v: E, loses: bool) -> E {
    if u == v {
        E::from_f64_lossy(0.5)
    } else if loses {
        E::zero()
    } else {
        E::one()
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The larger of the two operands, elementwise: `max(x, y)`, `rhs` a tensor of the same shape or
    /// a scalar ([`Operand`]).
    ///
    /// Derivative: the gradient goes to the larger operand; at a tie (`x == y`) each gets half, as in
    /// PyTorch (`torch.maximum`), so that `maximum(x, x)` has derivative 1.
    ///
    /// PyTorch: `torch.maximum(x, y)` (numpy: `np.maximum`). For the largest element of one tensor,
    /// see [`max`](Tensor::max).
    ///
    /// Edge values, as PyTorch: a NaN on either side gives NaN (unlike `f64::max`, which skips it),
    /// and then both operands get the whole gradient; `inf` and `-inf` are ordinary values. Of `0.0`
    /// and `-0.0`, which tie, the result is `x`. The gradient is the upstream gradient times 1, 0 or
    /// 1/2: an infinite upstream gradient gives NaN at the operand that lost (PyTorch gives 0 there).
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([1.0, 5.0, 3.0]);
    /// let y = Tensor::from([4.0, 2.0, 3.0]);
    /// assert_eq!(x.maximum(&y).to_array(), [4.0, 5.0, 3.0]);
    /// assert_eq!(x.maximum(2.0).to_array(), [2.0, 5.0, 3.0]);
    /// let tape = Tape::new();
    /// let (xt, yt) = (tape.watch(&x), tape.watch(&y));
    /// let g = xt.maximum(&yt).sum().backward();
    /// assert_eq!(g.get(&xt).to_array(), [0.0, 1.0, 0.5]);
    /// assert_eq!(g.get(&yt).to_array(), [1.0, 0.0, 0.5]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn maximum<R>(&self, rhs: R) -> Tensor<S, E, Merged<E, T, R::Tracking>>
    where
        R: Operand<S, E>,
        T: Merge<E, R::Tracking>,
    {
        let y = rhs.into_operand("maximum", self.typed_shape());
        zip_with(
            "maximum",
            self,
            &y,
            larger,
            |a, b, _| share(a, b, a < b),
            |a, b, _| share(b, a, b < a),
        )
    }

    /// The smaller of the two operands, elementwise: `min(x, y)`, `rhs` a tensor of the same shape or
    /// a scalar ([`Operand`]).
    ///
    /// Derivative: the gradient goes to the smaller operand; at a tie each gets half, as in PyTorch
    /// (`torch.minimum`).
    ///
    /// PyTorch: `torch.minimum(x, y)` (numpy: `np.minimum`). For the smallest element of one tensor,
    /// see [`min`](Tensor::min).
    ///
    /// Edge values as for [`maximum`](Tensor::maximum): a NaN on either side gives NaN and passes the
    /// whole gradient to both operands.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([1.0, 5.0, 3.0]);
    /// let y = Tensor::from([4.0, 2.0, 3.0]);
    /// assert_eq!(x.minimum(&y).to_array(), [1.0, 2.0, 3.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.minimum(&y).sum().backward();
    /// assert_eq!(g.get(&xt).to_array(), [1.0, 0.0, 0.5]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn minimum<R>(&self, rhs: R) -> Tensor<S, E, Merged<E, T, R::Tracking>>
    where
        R: Operand<S, E>,
        T: Merge<E, R::Tracking>,
    {
        let y = rhs.into_operand("minimum", self.typed_shape());
        zip_with(
            "minimum",
            self,
            &y,
            smaller,
            |a, b, _| share(a, b, a > b),
            |a, b, _| share(b, a, b > a),
        )
    }

    /// The smallest element, a scalar. PyTorch: `torch.amin(x)` (numpy: `x.min()`).
    ///
    /// Derivative: 1 at the minimum; when `k` elements tie for it, each gets `1 / k` of the gradient
    /// (PyTorch's `amin` convention). Computed as `-max(-x)`, so everything said of
    /// [`max`](Tensor::max) holds with the order reversed.
    ///
    /// Edge values, as for [`max`](Tensor::max): a NaN anywhere makes the result NaN and the NaNs
    /// share the gradient (**`torch.amin` differs**: its gradient is NaN for every element then); the
    /// minimum of zero elements is `inf`, the identity of `min` (**PyTorch raises an error**).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([[3.0, 1.0, 2.0], [1.0, 4.0, 5.0]]);
    /// assert_eq!(x.min().item(), 1.0);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.min().backward();
    /// assert_eq!(g.get(&xt).to_array(), [[0.0, 0.5, 0.0], [0.5, 0.0, 0.0]]);
    /// ```
    #[must_use]
    pub fn min(&self) -> Tensor<Rank0, E, T> {
        -(-self).max()
    }

    /// The smallest element along axis `AX`, which disappears from the shape. PyTorch:
    /// `torch.amin(x, dim=AX)` (numpy: `x.min(axis=AX)`).
    ///
    /// Derivative: 1 at each minimum, 0 elsewhere; ties split the gradient evenly. Computed as
    /// `-max_axis(-x)`: edge values as for [`max_axis`](Tensor::max_axis), with an axis of size 0
    /// giving `inf`. Naming an axis the shape does not have is a compile error.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 7.0, 3.0], [4.0, 5.0, 0.0]]);
    /// assert_eq!(t.min_axis::<0>().to_array(), [1.0, 5.0, 0.0]);
    /// assert_eq!(t.min_axis::<1>().to_array(), [1.0, 0.0]);
    /// ```
    #[must_use]
    pub fn min_axis<const AX: usize>(&self) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        -(-self).max_axis::<AX>()
    }

    /// The smallest element along axis `AX`, kept in the shape with size 1 (`keepdim=True` in
    /// PyTorch). Same derivative and edge cases as [`min_axis`](Tensor::min_axis).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 7.0, 3.0], [4.0, 5.0, 0.0]]);
    /// assert_eq!(t.min_axis_keepdim::<1>().to_array(), [[1.0], [0.0]]);
    /// ```
    #[must_use]
    pub fn min_axis_keepdim<const AX: usize>(&self) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        -(-self).max_axis_keepdim::<AX>()
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Rank1, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn gradient_literal() {
        // f = sum(maximum(x, y) * w): df/dx = w where x > y, w / 2 where x == y, 0 where x < y; the
        // mirror for y. minimum swaps the roles.
        let x = Tensor::from([1.0, 5.0, 3.0, -2.0]);
        let y = Tensor::from([4.0, 2.0, 3.0, -2.5]);
        let w = Tensor::from([1.0, 10.0, 100.0, 1000.0]);
        let tape = Tape::new();
        let (xt, yt) = (tape.watch(&x), tape.watch(&y));
        let g = (xt.maximum(&yt) * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [0.0, 10.0, 50.0, 1000.0]);
        assert_eq!(g.get(&yt).to_array(), [1.0, 0.0, 50.0, 0.0]);
        let tape = Tape::new();
        let (xt, yt) = (tape.watch(&x), tape.watch(&y));
        let g = (xt.minimum(&yt) * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [1.0, 0.0, 50.0, 0.0]);
        assert_eq!(g.get(&yt).to_array(), [0.0, 10.0, 50.0, 1000.0]);
    }

    #[test]
    fn nan_propagates_and_passes_the_gradient_to_both() {
        let x = Tensor::from([f64::NAN, 1.0, f64::INFINITY]);
        let y = Tensor::from([1.0, f64::NAN, f64::NEG_INFINITY]);
        let tape = Tape::new();
        let (xt, yt) = (tape.watch(&x), tape.watch(&y));
        let m = xt.maximum(&yt);
        let v = m.to_vec();
        assert!(v[0].is_nan() && v[1].is_nan());
        assert_eq!(v[2], f64::INFINITY);
        let g = m.sum().backward();
        assert_eq!(g.get(&xt).to_array(), [1.0, 1.0, 1.0]);
        assert_eq!(g.get(&yt).to_array(), [1.0, 1.0, 0.0]);
        let n = x.minimum(&y).to_vec();
        assert!(n[0].is_nan() && n[1].is_nan());
        assert_eq!(n[2], f64::NEG_INFINITY);
    }

    #[test]
    fn used_twice_and_finite_differences() {
        // maximum(x, x) = x: each side gets half at every element, so the derivative is 1.
        let x: Tensor<Rank2<3, 4>, f64> = random(90);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.maximum(&xt).sum().backward();
        assert_eq!(g.get(&xt).to_vec(), vec![1.0; 12]);
        let y: Tensor<Rank2<3, 4>, f64> = random(91);
        let w: Tensor<Rank2<3, 4>, f64> = random(92);
        gradcheck(|x| (x.maximum(&y) * &w).sum(), &x).unwrap();
        gradcheck(|y| (x.minimum(&y) * &w).sum(), &y).unwrap();
        gradcheck(|x| (x.maximum(0.3) * x.minimum(x.exp() - 1.5)).sum(), &x).unwrap();
    }

    #[test]
    fn min_mirrors_max() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(93);
        assert_eq!(x.min().item(), -(-&x).max().item());
        let want = Tensor::<Rank2<2, 4>, f64>::from_fn(|[a, c]| {
            (0..3).map(|b| x[[a, b, c]]).fold(f64::INFINITY, f64::min)
        });
        assert_eq!(x.min_axis::<1>(), want);
        assert_eq!(x.min_axis_keepdim::<2>().shape(), [2, 3, 1]);
        let w: Tensor<Rank2<3, 4>, f64> = random(94);
        gradcheck(|x| (x.min_axis::<0>() * &w).sum(), &x).unwrap();
        gradcheck(|x| x.min() * x.min(), &x).unwrap();
        assert_eq!(Tensor::<Rank1<0>>::zeros().min().item(), f32::INFINITY);
    }

    #[test]
    fn min_ties_split_the_gradient() {
        // f = sum(min_axis1(x) * [1, 10]): row 0 ties three ways (1/3 each), row 1 has one minimum.
        let x = Tensor::from([[2.0, 2.0, 2.0], [5.0, -1.0, 0.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.min_axis::<1>() * Tensor::from([1.0, 10.0]))
            .sum()
            .backward();
        let third = 1.0 / 3.0;
        assert_eq!(g.get(&xt).to_array(), [[third; 3], [0.0, 10.0, 0.0]]);
    }

    #[test]
    fn run_time_shapes() {
        let x: Tensor<(usize, Const<2>), f64> =
            Tensor::from_vec_with((2, Const), vec![1.0, 4.0, -3.0, 2.0]).unwrap();
        let y: Tensor<(usize, Const<2>), f64> = Tensor::full_with((2, Const), 1.5);
        assert_eq!(x.maximum(&y).to_vec(), [1.5, 4.0, 1.5, 2.0]);
        assert_eq!(x.minimum(&y).to_vec(), [1.0, 1.5, -3.0, 1.5]);
        assert_eq!(x.min_axis::<1>().typed_shape(), (2,));
        assert_eq!(x.min_axis::<1>().to_vec(), [1.0, -3.0]);
    }

    #[test]
    #[should_panic(expected = "maximum: the shapes differ: [2, 2] and [3, 2]")]
    fn a_run_time_mismatch_names_both_shapes() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((2, Const));
        let y: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let _ = x.maximum(&y);
    }
}
