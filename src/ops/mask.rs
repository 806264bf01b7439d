//! [`Mask`]: a tensor of booleans, what the comparisons give and what [`Mask::select`] (PyTorch's
//! `torch.where`) and [`Tensor::masked_fill`] read.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitXor, Index, Not};
use std::sync::Arc;

use crate::error::Error;
use crate::ops::same_shape;
use crate::tensor::{by_index, check_len, offset};
use crate::{Element, Shape, StaticShape, Tensor};

/// A tensor of booleans of shape `S`: the result of a comparison such as [`Tensor::lt`], and the
/// condition of [`Mask::select`] and [`Tensor::masked_fill`].
///
/// One byte per element, shared like a tensor's data (`clone` is a reference-count increment), and on
/// no tape: a mask is not differentiable, so it holds no gradient and records nothing. Combine masks
/// with `!`, `&`, `|` and `^`; turn one into 0s and 1s with [`to_tensor`](Mask::to_tensor).
///
/// PyTorch: a `torch.bool` tensor. A dedicated type rather than 0s and 1s of the element type, so that
/// a mask cannot be mistaken for data, and a condition is exactly true or false.
///
/// ```
/// use shaped::{Mask, Rank2, Tensor};
///
/// let x = Tensor::from([[1.0, -2.0, 3.0], [-4.0, 5.0, f64::NAN]]);
/// let positive = x.gt(0.0);
/// assert_eq!(positive.as_slice(), &[true, false, true, false, true, false]);
/// assert_eq!(positive.count(), 3);
/// // a causal mask: row i sees the columns j <= i
/// let causal: Mask<Rank2<3, 3>> = Mask::from_fn(|[i, j]| j <= i);
/// assert_eq!(causal.to_tensor::<f32>().to_array(), [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]);
/// assert_eq!((!&causal).count(), 3);
/// ```
pub struct Mask<S: Shape> {
    data: Arc<[bool]>,
    shape: S,
}

impl<S: Shape> Clone for Mask<S> {
    /// Shares the values (no copy).
    ///
    /// ```
    /// use shaped::Mask;
    /// let m = Mask::from([true, false]);
    /// let c = m.clone();
    /// assert_eq!(c, m);
    /// assert_eq!(c.as_slice().as_ptr(), m.as_slice().as_ptr()); // the same values, not a copy
    /// ```
    #[inline]
    fn clone(&self) -> Self {
        Self {
            data: Arc::clone(&self.data),
            shape: self.shape,
        }
    }
}

impl<S: Shape> Mask<S> {
    /// Wraps values that the caller guarantees are `shape.numel()`.
    #[inline]
    pub(crate) fn from_parts(data: Arc<[bool]>, shape: S) -> Self {
        debug_assert_eq!(data.len(), shape.numel());
        Self { data, shape }
    }

    /// The values, shared.
    #[inline]
    pub(crate) fn data(&self) -> &Arc<[bool]> {
        &self.data
    }

    /// A mask of the given shape from its values in row-major order.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when the length is not `shape.numel()`; the message names the shape and
    /// both counts.
    ///
    /// [`ErrorKind::Length`]: crate::ErrorKind::Length
    ///
    /// ```
    /// use shaped::{Const, Mask};
    /// let m: Mask<(usize, Const<2>)> = Mask::from_vec_with((2, Const), vec![true, false, false, true])?;
    /// assert_eq!(m[[1, 1]], true);
    /// let err = Mask::<(usize,)>::from_vec_with((3,), vec![true]).unwrap_err();
    /// assert_eq!(err.to_string(), "cannot build a mask of shape [3] from 1 values: it needs 3");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_vec_with(shape: S, data: Vec<bool>) -> Result<Self, Error> {
        check_len("a mask", shape, data.len(), "values")?;
        Ok(Self::from_parts(data.into(), shape))
    }

    /// A mask of the given shape whose value at each multi-index is `f(index)`.
    ///
    /// ```
    /// use shaped::{Const, Mask};
    /// let n = 3;
    /// let upper: Mask<(usize, usize)> = Mask::from_fn_with((n, n), |[i, j]| j > i);
    /// assert_eq!(upper.count(), 3);
    /// ```
    #[must_use]
    pub fn from_fn_with(shape: S, f: impl FnMut(S::Dims) -> bool) -> Self {
        Self::from_parts(by_index(shape, f).into(), shape)
    }

    /// The dimensions, outermost first.
    ///
    /// ```
    /// use shaped::{Const, Mask};
    /// let m: Mask<(usize, Const<3>)> = Mask::from_fn_with((2, Const), |[i, j]| i == j);
    /// assert_eq!(m.shape(), [2, 3]);
    /// ```
    #[inline]
    #[must_use]
    pub fn shape(&self) -> S::Dims {
        self.shape.dims()
    }

    /// The shape as a value of its type (the run-time sizes for a tuple).
    ///
    /// ```
    /// use shaped::{Const, Mask};
    /// let m: Mask<(usize, Const<3>)> = Mask::from_fn_with((4, Const), |[i, _]| i > 1);
    /// assert_eq!(m.typed_shape(), (4, Const::<3>));
    /// ```
    #[inline]
    #[must_use]
    pub fn typed_shape(&self) -> S {
        self.shape
    }

    /// The number of elements.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]).gt(2.0);
    /// assert_eq!(m.numel(), 6); // all elements, true or false
    /// assert_eq!(m.count(), 4); // the true ones
    /// ```
    #[inline]
    #[must_use]
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The values in row-major order, borrowed.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([[1.0, 5.0], [7.0, 2.0]]).gt(4.0);
    /// assert_eq!(m.as_slice(), &[false, true, true, false]);
    /// ```
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> &[bool] {
        &self.data
    }

    /// The values in row-major order, copied.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([0.5, -1.0, 2.0]).lt(1.0);
    /// assert_eq!(m.to_vec(), vec![true, true, false]);
    /// ```
    #[must_use]
    pub fn to_vec(&self) -> Vec<bool> {
        self.data.to_vec()
    }

    /// The number of elements that are true. PyTorch: `torch.count_nonzero(mask)`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// assert_eq!(Tensor::from([1.0, 2.0, 3.0]).ge(2.0).count(), 2);
    /// ```
    #[must_use]
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&m| m).count()
    }

    /// Whether some element is true (false for a mask of no elements). PyTorch: `mask.any()`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// assert!(Tensor::from([1.0, f64::NAN]).ne(1.0).any());
    /// ```
    #[must_use]
    pub fn any(&self) -> bool {
        self.data.iter().any(|&m| m)
    }

    /// Whether every element is true (true for a mask of no elements). PyTorch: `mask.all()`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// assert!(!Tensor::from([1.0, f64::NAN]).eq(1.0).all());
    /// ```
    #[must_use]
    pub fn all(&self) -> bool {
        self.data.iter().all(|&m| m)
    }

    /// The mask as a tensor of 1s (true) and 0s (false), on no tape. PyTorch: `mask.to(dtype)`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([3.0, 1.0, 2.0]).lt(2.5);
    /// assert_eq!(m.to_tensor::<f64>().to_array(), [0.0, 1.0, 1.0]);
    /// ```
    #[must_use]
    pub fn to_tensor<E: Element>(&self) -> Tensor<S, E> {
        let one = |m: &bool| if *m { E::one() } else { E::zero() };
        Tensor::from_data_with(self.shape, self.data.iter().map(one).collect())
    }

    /// `f(a, b)` of every pair of elements of two masks of the same shape.
    #[track_caller]
    fn zip(&self, other: &Self, op: &str, f: impl Fn(bool, bool) -> bool) -> Self {
        same_shape(op, self.shape, other.shape);
        let data = self.data.iter().zip(other.data.iter());
        Self::from_parts(data.map(|(&a, &b)| f(a, b)).collect(), self.shape)
    }
}

impl<S: StaticShape> Mask<S> {
    /// A mask whose value at each multi-index is `f(index)`; the shape comes from the type.
    ///
    /// ```
    /// use shaped::{Mask, Rank2};
    /// let diagonal: Mask<Rank2<2, 2>> = Mask::from_fn(|[i, j]| i == j);
    /// assert_eq!(diagonal.as_slice(), &[true, false, false, true]);
    /// ```
    #[must_use]
    pub fn from_fn<const R: usize>(f: impl FnMut([usize; R]) -> bool) -> Self
    where
        S: Shape<Dims = [usize; R]>,
    {
        Self::from_fn_with(S::default(), f)
    }

    /// A mask from its values in row-major order, as many as the shape has elements.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when the length is not the shape's number of elements.
    ///
    /// [`ErrorKind::Length`]: crate::ErrorKind::Length
    ///
    /// ```
    /// use shaped::{Mask, Rank2};
    /// let m = Mask::<Rank2<1, 2>>::from_vec(vec![false, true])?;
    /// assert_eq!(m[[0, 1]], true);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_vec(data: Vec<bool>) -> Result<Self, Error> {
        Self::from_vec_with(S::default(), data)
    }
}

impl<const A: usize> From<[bool; A]> for Mask<crate::Rank1<A>> {
    /// A mask from an array: `Mask::from([true, false])` is a `Mask<Rank1<2>>`.
    ///
    /// ```
    /// use shaped::{Mask, Tensor};
    /// let m = Mask::from([true, false, true]);
    /// assert_eq!(m.count(), 2);
    /// assert_eq!(Tensor::from([1.0, 2.0, 3.0]).masked_fill(&m, 0.0).to_vec(), vec![0.0, 2.0, 0.0]);
    /// ```
    fn from(a: [bool; A]) -> Self {
        Self::from_parts(a.into(), crate::Rank1)
    }
}

impl<const A: usize, const B: usize> From<[[bool; B]; A]> for Mask<crate::Rank2<A, B>> {
    /// A mask from nested arrays: `Mask::from([[true, false]])` is a `Mask<Rank2<1, 2>>`.
    ///
    /// ```
    /// use shaped::Mask;
    /// let m = Mask::from([[true, false], [false, false]]);
    /// assert_eq!(m.shape(), [2, 2]);
    /// assert_eq!((m[[0, 0]], m[[1, 0]]), (true, false));
    /// ```
    fn from(a: [[bool; B]; A]) -> Self {
        Self::from_parts(a.as_flattened().into(), crate::Rank2)
    }
}

impl<S: Shape> Index<S::Dims> for Mask<S> {
    type Output = bool;

    /// The value at a multi-index, `m[[i, j]]`. Panics when an index is out of bounds.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let m = Tensor::from([[1.0, -2.0], [-3.0, 4.0]]).gt(0.0);
    /// assert!(m[[0, 0]] && !m[[0, 1]] && !m[[1, 0]] && m[[1, 1]]);
    /// ```
    #[inline]
    fn index(&self, index: S::Dims) -> &bool {
        &self.data[offset(index.as_ref(), self.shape.dims().as_ref())]
    }
}

impl<S: Shape> PartialEq for Mask<S> {
    /// Equal shapes and equal values.
    ///
    /// ```
    /// use shaped::{Mask, Tensor};
    /// assert_eq!(Tensor::from([1.0, 2.0, 3.0]).ge(2.0), Mask::from([false, true, true]));
    /// assert_ne!(Mask::from([true, false]), Mask::from([true, true]));
    /// ```
    fn eq(&self, other: &Self) -> bool {
        self.shape == other.shape && self.data == other.data
    }
}

impl<S: Shape> Eq for Mask<S> {}

impl<S: Shape> fmt::Debug for Mask<S> {
    /// `Mask(shape=[2, 2], [true, false, false, true])`.
    ///
    /// ```
    /// use shaped::{Mask, Rank2};
    /// let m: Mask<Rank2<2, 2>> = Mask::from_fn(|[i, j]| i == j);
    /// assert_eq!(format!("{m:?}"), "Mask(shape=[2, 2], [true, false, false, true])");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Mask(shape={:?}, {:?})",
            self.shape().as_ref(),
            self.as_slice()
        )
    }
}

impl<S: Shape> Not for &Mask<S> {
    type Output = Mask<S>;
    /// The elementwise negation. PyTorch: `~mask`.
    ///
    /// ```
    /// use shaped::Mask;
    /// let m = Mask::from([true, false, false]);
    /// assert_eq!((!&m).to_vec(), vec![false, true, true]);
    /// assert_eq!(m.count(), 1); // `m` is only borrowed
    /// ```
    fn not(self) -> Mask<S> {
        Mask::from_parts(self.data.iter().map(|&m| !m).collect(), self.shape)
    }
}

impl<S: Shape> Not for Mask<S> {
    type Output = Mask<S>;
    /// The elementwise negation. PyTorch: `~mask`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let outside = !Tensor::from([-2.0, 0.5, 3.0]).abs().le(1.0); // |x| > 1
    /// assert_eq!(outside.to_vec(), vec![true, false, true]);
    /// ```
    fn not(self) -> Mask<S> {
        !&self
    }
}

/// A logical operator between masks of the same shape, for owned and borrowed operands; a run-time
/// mismatch of tuple shapes panics with the op and both shapes.
macro_rules! mask_operator {
    ($Trait:ident, $method:ident, $f:expr, $doc:literal, $sym:literal, $truth:literal) => {
        impl<S: Shape> $Trait<&Mask<S>> for &Mask<S> {
            type Output = Mask<S>;
            #[doc = $doc]
            ///
            /// ```
            /// use shaped::Mask;
            /// let a = Mask::from([true, true, false, false]);
            /// let b = Mask::from([true, false, true, false]);
            #[doc = concat!("assert_eq!((&a ", $sym, " &b).to_vec(), vec!", $truth, ");")]
            /// ```
            #[track_caller]
            fn $method(self, rhs: &Mask<S>) -> Mask<S> {
                self.zip(rhs, stringify!($method), $f)
            }
        }

        impl<S: Shape> $Trait<Mask<S>> for Mask<S> {
            type Output = Mask<S>;
            #[doc = $doc]
            ///
            /// ```
            /// use shaped::Mask;
            /// let a = Mask::from([true, true, false, false]);
            /// let b = Mask::from([true, false, true, false]);
            #[doc = concat!("assert_eq!((a ", $sym, " b).to_vec(), vec!", $truth, ");")]
            /// ```
            #[track_caller]
            fn $method(self, rhs: Mask<S>) -> Mask<S> {
                self.zip(&rhs, stringify!($method), $f)
            }
        }
    };
}

mask_operator!(
    BitAnd,
    bitand,
    |a, b| a & b,
    "Elementwise and. PyTorch: `a & b`.",
    "&",
    "[true, false, false, false]"
);
mask_operator!(
    BitOr,
    bitor,
    |a, b| a | b,
    "Elementwise or. PyTorch: `a | b`.",
    "|",
    "[true, true, true, false]"
);
mask_operator!(
    BitXor,
    bitxor,
    |a, b| a ^ b,
    "Elementwise exclusive or. PyTorch: `a ^ b`.",
    "^",
    "[false, true, true, false]"
);

/// A mask for a tensor of shape `S`: `&Mask<S>` or `Mask<S>`, the condition of
/// [`Tensor::masked_fill`].
///
/// ```
/// use shaped::{Mask, MaskOf, Rank1, Tensor};
/// // a helper that takes the mask borrowed or owned, as `masked_fill` does
/// fn zero_where(x: &Tensor<Rank1<3>>, m: impl MaskOf<Rank1<3>>) -> Tensor<Rank1<3>> {
///     x.masked_fill(m, 0.0)
/// }
/// let x = Tensor::from([1.0, -2.0, 3.0]);
/// let negative = x.lt(0.0);
/// assert_eq!(zero_where(&x, &negative).to_vec(), vec![1.0, 0.0, 3.0]);
/// assert_eq!(zero_where(&x, Mask::from([true, false, false])).to_vec(), vec![0.0, -2.0, 3.0]);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: `{Self}` is not a mask of shape `{S}`",
    label = "expected a `Mask<{S}>`, the shape of the tensor",
    note = "a mask must have the shape of the tensor it selects in, axis for axis (there is no \
            broadcasting); comparisons of the tensor give masks of its shape"
)]
pub trait MaskOf<S: Shape> {
    /// The mask (shared, not copied).
    #[doc(hidden)]
    fn into_mask(self) -> Mask<S>;
}

#[diagnostic::do_not_recommend]
impl<S: Shape> MaskOf<S> for &Mask<S> {
    #[inline]
    fn into_mask(self) -> Mask<S> {
        self.clone()
    }
}

#[diagnostic::do_not_recommend]
impl<S: Shape> MaskOf<S> for Mask<S> {
    #[inline]
    fn into_mask(self) -> Mask<S> {
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::{Const, ErrorKind, Mask, Rank2, Rank3};

    #[test]
    fn constructors_agree() {
        let a: Mask<Rank2<2, 3>> = Mask::from_fn(|[i, j]| (i + j) % 2 == 0);
        let b = Mask::from([[true, false, true], [false, true, false]]);
        let c = Mask::<Rank2<2, 3>>::from_vec(b.to_vec()).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        let d: Mask<Rank3<2, 1, 3>> = Mask::from_fn(|[i, _, k]| i == 1 && k > 0);
        assert_eq!(d.as_slice(), &[false, false, false, false, true, true]);
        assert!(d[[1, 0, 2]]);
        let e = Mask::<(usize, Const<3>)>::from_vec_with((2, Const), vec![true; 5]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Length);
    }

    #[test]
    fn logic_and_counts() {
        let a = Mask::from([true, true, false, false]);
        let b = Mask::from([true, false, true, false]);
        assert_eq!((&a & &b).as_slice(), &[true, false, false, false]);
        assert_eq!((&a | &b).as_slice(), &[true, true, true, false]);
        assert_eq!(
            (a.clone() ^ b.clone()).as_slice(),
            &[false, true, true, false]
        );
        assert_eq!((!a.clone()).as_slice(), &[false, false, true, true]);
        assert_eq!((a.count(), a.any(), a.all()), (2, true, false));
        let none = Mask::from([false; 0]);
        assert_eq!((none.count(), none.any(), none.all()), (0, false, true));
        assert_eq!(
            format!("{:?}", Mask::from([[true, false]])),
            "Mask(shape=[1, 2], [true, false])"
        );
    }

    #[test]
    #[should_panic(expected = "bitand: the shapes differ: [3] and [2]")]
    fn a_run_time_mismatch_names_both_shapes() {
        let a = Mask::<(usize,)>::from_fn_with((3,), |[i]| i > 0);
        let b = Mask::<(usize,)>::from_fn_with((2,), |[i]| i > 0);
        let _ = a & b;
    }

    #[test]
    #[should_panic(expected = "index [0, 2] is out of bounds for shape [1, 2]")]
    fn indexing_out_of_bounds_panics_with_the_shape() {
        let _ = Mask::from([[true, false]])[[0, 2]];
    }
}
