//! The comparisons `eq`, `ne`, `lt`, `le`, `gt` and `ge`, elementwise, giving a [`Mask`]; and
//! [`Operand`], the right-hand side they and the other elementwise ops of two operands take: a tensor
//! of the same shape, or a scalar.

use std::sync::Arc;

use crate::ops::same_shape;
use crate::{Element, Mask, NoTape, Shape, Tensor, Tracking};

/// The other operand of an elementwise op on a tensor of shape `S` with elements `E`: a tensor of the
/// same shape and element type (borrowed or owned, on any tape), or a scalar `E`.
///
/// The comparisons ([`Tensor::lt`] and the others), [`Tensor::maximum`], [`Tensor::minimum`] and
/// [`Mask::select`] take it, so `x.gt(&y)` and `x.gt(0.0)` are the same method. A tensor of another
/// static shape is a type error at the call, whose first line names both shapes; between tuple shapes
/// the sizes are checked when the op runs.
///
/// ```
/// use shaped::{Operand, Rank1, Tensor};
/// fn takes<R: Operand<Rank1<2>, f64>>(_: R) {}
/// let y = Tensor::from([1.0, 2.0]);
/// takes(&y);
/// takes(y);
/// takes(0.5);
/// ```
#[diagnostic::on_unimplemented(
    message = "mismatched operand: `{Self}` is neither a tensor of shape `{S}` with `{E}` elements nor \
               an `{E}`",
    label = "the other operand has shape `{S}` and `{E}` elements",
    note = "elementwise ops need both operands to have the same shape, axis for axis, and the same \
            element type (there is no broadcasting: `broadcast_to` repeats a tensor to a shape first)"
)]
pub trait Operand<S: Shape, E: Element> {
    /// The operand's tracking (`NoTape` for a scalar).
    type Tracking: Tracking<E>;
    /// The scalar, if the operand is one.
    #[doc(hidden)]
    fn scalar(&self) -> Option<E>;
    /// The operand as a tensor of `shape`: a tensor is shared after a run-time check that it has
    /// that shape (panicking with `op` and both shapes); a scalar is repeated.
    #[doc(hidden)]
    fn into_operand(self, op: &str, shape: S) -> Tensor<S, E, Self::Tracking>;
}

#[diagnostic::do_not_recommend]
impl<S: Shape, E: Element, T: Tracking<E>> Operand<S, E> for &Tensor<S, E, T> {
    type Tracking = T;
    #[inline]
    fn scalar(&self) -> Option<E> {
        None
    }
    #[inline]
    #[track_caller]
    fn into_operand(self, op: &str, shape: S) -> Tensor<S, E, T> {
        same_shape(op, shape, self.typed_shape());
        self.clone()
    }
}

#[diagnostic::do_not_recommend]
impl<S: Shape, E: Element, T: Tracking<E>> Operand<S, E> for Tensor<S, E, T> {
    type Tracking = T;
    #[inline]
    fn scalar(&self) -> Option<E> {
        None
    }
    #[inline]
    #[track_caller]
    fn into_operand(self, op: &str, shape: S) -> Tensor<S, E, T> {
        same_shape(op, shape, self.typed_shape());
        self
    }
}

#[diagnostic::do_not_recommend]
impl<S: Shape, E: Element> Operand<S, E> for E {
    type Tracking = NoTape;
    #[inline]
    fn scalar(&self) -> Option<E> {
        Some(*self)
    }
    #[inline]
    fn into_operand(self, _: &str, shape: S) -> Tensor<S, E> {
        Tensor::full_with(shape, self)
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `cmp(x, y)` of every element `x` of `self` and the matching element (or the scalar) `y` of
    /// `rhs`.
    #[track_caller]
    fn compare<R: Operand<S, E>>(&self, op: &str, rhs: R, cmp: impl Fn(E, E) -> bool) -> Mask<S> {
        let x = self.as_slice();
        let data: Arc<[bool]> = if let Some(v) = rhs.scalar() {
            x.iter().map(|&a| cmp(a, v)).collect()
        } else {
            let y = rhs.into_operand(op, self.typed_shape());
            x.iter()
                .zip(y.as_slice())
                .map(|(&a, &b)| cmp(a, b))
                .collect()
        };
        Mask::from_parts(data, self.typed_shape())
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// Whether each element is equal to the matching element of `rhs`, or equal to `rhs` when it is a
    /// scalar: `x == y` elementwise, as a [`Mask`] of the same shape. PyTorch: `torch.eq(x, y)` (`x == y`).
    ///
    /// `rhs` is an [`Operand`]: a tensor of the same shape (borrowed or owned), or a scalar. Not
    /// differentiable: the mask records nothing, whatever tape the operands are on. A tensor of
    /// another static shape does not compile. (`Tensor`'s `==`, from `PartialEq`, still compares whole
    /// tensors and gives one `bool`.)
    ///
    /// Edge values, IEEE as in PyTorch: every comparison with a NaN is false except `ne`, which is
    /// true (so `x.ne(&x)` finds the NaNs); `-0.0` equals `0.0`; infinities are the largest and the
    /// smallest values.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, f64::NAN]);
    /// let y = Tensor::from([2.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(x.eq(&y).as_slice(), &[false, true, false, false]);
    /// assert_eq!(x.eq(&y), x.eq(2.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn eq<R: Operand<S, E>>(&self, rhs: R) -> Mask<S> {
        self.compare("eq", rhs, |a, b| a == b)
    }

    /// Whether each element is not equal to the matching element of `rhs`, or not equal to `rhs` when it is a
    /// scalar: `x != y` elementwise, as a [`Mask`] of the same shape. PyTorch: `torch.ne(x, y)` (`x != y`).
    ///
    /// `rhs` and the edge values as for [`eq`](Tensor::eq): a NaN on either side gives true.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, f64::NAN]);
    /// let y = Tensor::from([2.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(x.ne(&y).as_slice(), &[true, false, true, true]);
    /// assert_eq!(x.ne(&y), x.ne(2.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn ne<R: Operand<S, E>>(&self, rhs: R) -> Mask<S> {
        self.compare("ne", rhs, |a, b| a != b)
    }

    /// Whether each element is less than the matching element of `rhs`, or less than `rhs` when it is a
    /// scalar: `x < y` elementwise, as a [`Mask`] of the same shape. PyTorch: `torch.lt(x, y)` (`x < y`).
    ///
    /// `rhs` and the edge values as for [`eq`](Tensor::eq): a NaN on either side gives false.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, f64::NAN]);
    /// let y = Tensor::from([2.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(x.lt(&y).as_slice(), &[true, false, false, false]);
    /// assert_eq!(x.lt(&y), x.lt(2.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn lt<R: Operand<S, E>>(&self, rhs: R) -> Mask<S> {
        self.compare("lt", rhs, |a, b| a < b)
    }

    /// Whether each element is less than or equal to the matching element of `rhs`, or less than or equal to `rhs` when it is a
    /// scalar: `x <= y` elementwise, as a [`Mask`] of the same shape. PyTorch: `torch.le(x, y)` (`x <= y`).
    ///
    /// `rhs` and the edge values as for [`eq`](Tensor::eq): a NaN on either side gives false.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, f64::NAN]);
    /// let y = Tensor::from([2.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(x.le(&y).as_slice(), &[true, true, false, false]);
    /// assert_eq!(x.le(&y), x.le(2.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn le<R: Operand<S, E>>(&self, rhs: R) -> Mask<S> {
        self.compare("le", rhs, |a, b| a <= b)
    }

    /// Whether each element is greater than the matching element of `rhs`, or greater than `rhs` when it is a
    /// scalar: `x > y` elementwise, as a [`Mask`] of the same shape. PyTorch: `torch.gt(x, y)` (`x > y`).
    ///
    /// `rhs` and the edge values as for [`eq`](Tensor::eq): a NaN on either side gives false.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, f64::NAN]);
    /// let y = Tensor::from([2.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(x.gt(&y).as_slice(), &[false, false, true, false]);
    /// assert_eq!(x.gt(&y), x.gt(2.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn gt<R: Operand<S, E>>(&self, rhs: R) -> Mask<S> {
        self.compare("gt", rhs, |a, b| a > b)
    }

    /// Whether each element is greater than or equal to the matching element of `rhs`, or greater than or equal to `rhs` when it is a
    /// scalar: `x >= y` elementwise, as a [`Mask`] of the same shape. PyTorch: `torch.ge(x, y)` (`x >= y`).
    ///
    /// `rhs` and the edge values as for [`eq`](Tensor::eq): a NaN on either side gives false.
    ///
    /// # Panics
    /// With run-time dimensions, when `rhs` is a tensor of another shape; the message names both.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, f64::NAN]);
    /// let y = Tensor::from([2.0, 2.0, 2.0, 2.0]);
    /// assert_eq!(x.ge(&y).as_slice(), &[false, true, true, false]);
    /// assert_eq!(x.ge(&y), x.ge(2.0));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn ge<R: Operand<S, E>>(&self, rhs: R) -> Mask<S> {
        self.compare("ge", rhs, |a, b| a >= b)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Rank2, Tape, Tensor};

    #[test]
    fn against_a_tensor_and_a_scalar() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [-0.0, f64::INFINITY, f64::NAN]]);
        let y = Tensor::from([[2.0, 2.0, 2.0], [0.0, f64::INFINITY, f64::NAN]]);
        let b = |m: crate::Mask<Rank2<2, 3>>| m.to_vec();
        assert_eq!(b(x.eq(&y)), [false, true, false, true, true, false]);
        assert_eq!(b(x.ne(&y)), [true, false, true, false, false, true]);
        assert_eq!(b(x.lt(&y)), [true, false, false, false, false, false]);
        assert_eq!(b(x.le(&y)), [true, true, false, true, true, false]);
        assert_eq!(b(x.gt(&y)), [false, false, true, false, false, false]);
        assert_eq!(b(x.ge(&y)), [false, true, true, true, true, false]);
        assert_eq!(b(x.gt(0.0)), [true, true, true, false, true, false]);
        assert_eq!(b(x.ne(&x)), [false, false, false, false, false, true]);
        // owned operands and f32
        let a: Tensor<Rank2<1, 2>> = Tensor::from([[0.5, -0.5]]);
        assert_eq!(a.le(Tensor::zeros()).to_vec(), [false, true]);
        assert_eq!(a.ge(0.5).to_vec(), [true, false]);
    }

    #[test]
    fn taped_operands_give_a_mask_and_record_nothing() {
        let x: Tensor<Rank2<3, 4>, f64> = random(70);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let m = xt.gt(x.detach());
        assert_eq!(m.count(), 0);
        // the mask selects; only the selection is recorded
        let g = m.select(&xt, 0.0).sum().backward();
        assert_eq!(g.get(&xt).to_vec(), vec![0.0; 12]);
    }

    #[test]
    fn run_time_shapes() {
        let x: Tensor<(usize, Const<2>), f64> =
            Tensor::from_vec_with((2, Const), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let y: Tensor<(usize, Const<2>), f64> = Tensor::full_with((2, Const), 2.5);
        let m = x.lt(&y);
        assert_eq!(m.typed_shape(), (2, Const));
        assert_eq!(m.to_vec(), [true, true, false, false]);
        assert_eq!(x.ge(3.0).to_vec(), [false, false, true, true]);
    }

    #[test]
    #[should_panic(expected = "lt: the shapes differ: [2, 2] and [3, 2]")]
    fn a_run_time_mismatch_names_both_shapes() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((2, Const));
        let y: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let _ = x.lt(&y);
    }
}
