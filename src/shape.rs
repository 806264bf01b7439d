//! Shapes as types: [`Rank0`] to [`Rank6`], the [`Shape`] trait, and the shape algebra that the ops'
//! signatures are written in.
//!
//! A shape is a zero-sized marker type whose dimensions are `const` generics: `Rank2<3, 4>` is a 3 x 4
//! matrix. Every dimension is known to the compiler, so an op whose shapes do not fit is a type error at
//! the call, and no shape is checked at run time.
//!
//! ```
//! use shaped::{Rank2, Shape, shape};
//!
//! assert_eq!(<Rank2<3, 4> as Shape>::RANK, 2);
//! assert_eq!(<Rank2<3, 4> as Shape>::NUMEL, 12);
//! assert_eq!(<Rank2<3, 4> as Shape>::DIMS, &[3, 4]);
//! // `shape![..]` names the same type.
//! let _: shape![3, 4] = Rank2::<3, 4>;
//! ```
//!
//! # Design notes
//! - The rank is part of the type's name, so a compiler error reads `shaped::Rank2<2, 3>`.
//! - Most shape rules need no arithmetic on dimensions: [`NonScalar`] splits a shape into everything but
//!   its last axis ([`NonScalar::Init`]) and its last dimension ([`NonScalar::Last`], a [`Dim`] type).
//!   An op that contracts or replaces the last axis is written against those.
//! - Stable Rust cannot compute a dimension (`M * N`, `M + N`); where an op needs one, the caller names the
//!   output type and a `const` assertion checks it (see [`Tensor::reshape`](crate::Tensor::reshape)).
//! - [`Dim`] is a trait, not a `usize`, so that a dimension known only at run time (a batch size read from
//!   data) can be added later as another `Dim` type without changing the rules written against `Dim`.

use core::fmt::Debug;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// One dimension of a shape, as a type.
///
/// Today the only implementation is [`Const<N>`], a size known at compile time. The trait exists so that
/// shape rules can speak of "the last dimension" as a type that is not necessarily a literal.
pub trait Dim: Copy + Default + Send + Sync + Debug + 'static {
    /// The size of this dimension.
    fn size(&self) -> usize;
}

/// A dimension of compile-time size `N`.
///
/// ```
/// use shaped::{Const, Dim};
/// assert_eq!(Const::<7>.size(), 7);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Const<const N: usize>;

impl<const N: usize> Dim for Const<N> {
    #[inline]
    fn size(&self) -> usize {
        N
    }
}

/// A tensor shape known at compile time.
///
/// Implemented by [`Rank0`] to [`Rank6`] only. The constants describe the shape; [`Shape::dims`] gives
/// the dimensions as an array.
///
/// ```
/// use shaped::{Rank3, Shape};
/// type S = Rank3<2, 3, 4>;
/// assert_eq!(S::RANK, 3);
/// assert_eq!(S::NUMEL, 24);
/// assert_eq!(S::DIMS, &[2, 3, 4]);
/// assert_eq!(S::dims(), [2, 3, 4]);
/// ```
pub trait Shape: Sealed + Copy + Default + Send + Sync + Debug + 'static {
    /// The number of axes.
    const RANK: usize;
    /// The number of elements: the product of the dimensions (1 for a scalar).
    const NUMEL: usize;
    /// The dimensions, outermost first.
    const DIMS: &'static [usize];
    /// The dimensions as an array `[usize; RANK]` (also the type of a multi-index).
    type Dims: Copy
        + Debug
        + Default
        + PartialEq
        + Eq
        + AsRef<[usize]>
        + AsMut<[usize]>
        + Send
        + Sync
        + 'static;
    /// The dimensions as an array.
    fn dims() -> Self::Dims;
}

/// A shape with at least one axis, split into its leading axes and its last dimension.
///
/// This is the vocabulary of the contractions: `linear` needs `S: NonScalar<Last = Const<IN>>`, and its
/// output is the input with the last dimension replaced.
///
/// ```
/// use shaped::{Const, NonScalar, Rank2, Rank3};
/// fn last<S: NonScalar>() -> usize { S::LAST }
/// assert_eq!(last::<Rank3<2, 3, 4>>(), 4);
/// let _: <Rank3<2, 3, 4> as NonScalar>::Init = Rank2::<2, 3>;
/// let _: <Rank3<2, 3, 4> as NonScalar>::Last = Const::<4>;
/// ```
pub trait NonScalar: Shape {
    /// The shape without its last axis (`shape[:-1]`).
    type Init: Shape;
    /// The last dimension (`shape[-1]`).
    type Last: Dim;
    /// The size of the last dimension.
    const LAST: usize;
}

/// The same shape with its last dimension replaced by `N` (`shape[:-1] + [N]`).
///
/// ```
/// use shaped::{Rank3, ReplaceLast};
/// let _: <Rank3<2, 3, 4> as ReplaceLast<9>>::Output = Rank3::<2, 3, 9>;
/// ```
pub trait ReplaceLast<const N: usize>: NonScalar {
    /// `shape[:-1] + [N]`.
    type Output: NonScalar<Init = Self::Init, Last = Const<N>>;
}

/// A shape with the dimension `N` appended (`shape + [N]`), for ranks 0 to 5.
///
/// ```
/// use shaped::{Append, Rank0, Rank1, Rank2};
/// let _: <Rank0 as Append<3>>::Output = Rank1::<3>;
/// let _: <Rank1<2> as Append<3>>::Output = Rank2::<2, 3>;
/// ```
pub trait Append<const N: usize>: Shape {
    /// `shape + [N]`.
    type Output: NonScalar<Init = Self, Last = Const<N>>;
}

/// Shapes of rank 2 or more: the shape with its last two axes swapped.
///
/// ```
/// use shaped::{Rank3, Transposable};
/// let _: <Rank3<2, 3, 4> as Transposable>::Output = Rank3::<2, 4, 3>;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has fewer than two axes, so it has no last two axes to transpose",
    label = "needs a tensor of rank 2 or more",
    note = "to treat a vector as a row or a column, reshape it to `Rank2<1, N>` or `Rank2<N, 1>` first"
)]
pub trait Transposable: Shape {
    /// The shape with its last two axes swapped.
    type Output: Shape + Transposable<Output = Self>;
}

/// Reduction over axis `AX`: the shape without that axis, and the shape with that axis set to 1.
///
/// Implemented for every axis `AX < RANK`, so naming an axis that does not exist is a type error.
///
/// ```
/// use shaped::{Rank1, Rank2, Rank3, ReduceAxis};
/// let _: <Rank3<2, 3, 4> as ReduceAxis<1>>::Reduced = Rank2::<2, 4>;
/// let _: <Rank3<2, 3, 4> as ReduceAxis<1>>::KeepDim = Rank3::<2, 1, 4>;
/// let _: <Rank2<5, 6> as ReduceAxis<0>>::Reduced = Rank1::<6>;
/// ```
#[diagnostic::on_unimplemented(
    message = "axis {AX} is out of range for a tensor of shape `{Self}`",
    label = "no axis {AX} in `{Self}`",
    note = "axes count from 0, outermost first: a rank-N tensor has axes 0 to N - 1"
)]
pub trait ReduceAxis<const AX: usize>: Shape {
    /// The shape with axis `AX` removed.
    type Reduced: Shape;
    /// The shape with axis `AX` kept with size 1.
    type KeepDim: Shape;
    /// The size of axis `AX`.
    const AXIS_LEN: usize;
    /// The product of the dimensions before `AX`.
    const OUTER: usize;
    /// The product of the dimensions after `AX`.
    const INNER: usize;
}

macro_rules! ranks {
    ($( $(#[$doc:meta])* $name:ident $rank:literal [$($d:ident),*] ; )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
        pub struct $name<$(const $d: usize),*>;

        impl<$(const $d: usize),*> Sealed for $name<$($d),*> {}

        impl<$(const $d: usize),*> Shape for $name<$($d),*> {
            const RANK: usize = $rank;
            const NUMEL: usize = 1 $(* $d)*;
            const DIMS: &'static [usize] = &[$($d),*];
            type Dims = [usize; $rank];
            #[inline]
            fn dims() -> Self::Dims {
                [$($d),*]
            }
        }
    )*};
}

ranks! {
    /// A scalar: no axes, one element.
    Rank0 0 [];
    /// A vector of `A` elements.
    Rank1 1 [A];
    /// An `A` x `B` matrix.
    Rank2 2 [A, B];
    /// A rank-3 tensor, `A` x `B` x `C`.
    Rank3 3 [A, B, C];
    /// A rank-4 tensor, `A` x `B` x `C` x `D`.
    Rank4 4 [A, B, C, D];
    /// A rank-5 tensor, `A` x `B` x `C` x `D` x `F`.
    Rank5 5 [A, B, C, D, F];
    /// A rank-6 tensor, `A` x `B` x `C` x `D` x `F` x `G`.
    Rank6 6 [A, B, C, D, F, G];
}

/// A scalar shape (alias of [`Rank0`]).
pub type Scalar = Rank0;
/// A vector shape (alias of [`Rank1`]).
pub type Vector<const N: usize> = Rank1<N>;
/// A matrix shape (alias of [`Rank2`]).
pub type Matrix<const M: usize, const N: usize> = Rank2<M, N>;

/// Names a shape type from its dimensions: `shape![2, 3]` is `Rank2<2, 3>`, `shape![]` is `Rank0`.
///
/// ```
/// use shaped::{shape, Tensor};
/// let t: Tensor<shape![2, 3]> = Tensor::zeros();
/// assert_eq!(t.shape(), [2, 3]);
/// let s: Tensor<shape![]> = Tensor::full(1.5);
/// assert_eq!(s.item(), 1.5);
/// ```
#[macro_export]
macro_rules! shape {
    () => { $crate::Rank0 };
    ($a:expr $(,)?) => { $crate::Rank1<{ $a }> };
    ($a:expr, $b:expr $(,)?) => { $crate::Rank2<{ $a }, { $b }> };
    ($a:expr, $b:expr, $c:expr $(,)?) => { $crate::Rank3<{ $a }, { $b }, { $c }> };
    ($a:expr, $b:expr, $c:expr, $d:expr $(,)?) => { $crate::Rank4<{ $a }, { $b }, { $c }, { $d }> };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr $(,)?) => {
        $crate::Rank5<{ $a }, { $b }, { $c }, { $d }, { $e }>
    };
    ($a:expr, $b:expr, $c:expr, $d:expr, $e:expr, $f:expr $(,)?) => {
        $crate::Rank6<{ $a }, { $b }, { $c }, { $d }, { $e }, { $f }>
    };
}

macro_rules! non_scalar {
    ($( $name:ident [$($d:ident),*] $last:ident => $init:ty ; )*) => {$(
        impl<$(const $d: usize,)* const $last: usize> NonScalar for $name<$($d,)* $last> {
            type Init = $init;
            type Last = Const<$last>;
            const LAST: usize = $last;
        }
        impl<$(const $d: usize,)* const $last: usize, const NEW: usize> ReplaceLast<NEW>
            for $name<$($d,)* $last>
        {
            type Output = $name<$($d,)* NEW>;
        }
        impl<$(const $d: usize,)* const NEW: usize> Append<NEW> for $init {
            type Output = $name<$($d,)* NEW>;
        }
    )*};
}

non_scalar! {
    Rank1 [] A => Rank0;
    Rank2 [A] B => Rank1<A>;
    Rank3 [A, B] C => Rank2<A, B>;
    Rank4 [A, B, C] D => Rank3<A, B, C>;
    Rank5 [A, B, C, D] F => Rank4<A, B, C, D>;
    Rank6 [A, B, C, D, F] G => Rank5<A, B, C, D, F>;
}

macro_rules! transposable {
    ($( $name:ident [$($d:ident),*] ; )*) => {$(
        impl<$(const $d: usize,)* const X: usize, const Y: usize> Transposable for $name<$($d,)* X, Y> {
            type Output = $name<$($d,)* Y, X>;
        }
    )*};
}

transposable! {
    Rank2 [];
    Rank3 [A];
    Rank4 [A, B];
    Rank5 [A, B, C];
    Rank6 [A, B, C, D];
}

macro_rules! reduce_axis {
    ($( $name:ident [$($d:ident),*] $ax:literal =>
        $red:ty, $keep:ty, $len:ident, [$($outer:ident),*], [$($inner:ident),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize),*> ReduceAxis<$ax> for $name<$($d),*> {
            type Reduced = $red;
            type KeepDim = $keep;
            const AXIS_LEN: usize = $len;
            const OUTER: usize = 1 $(* $outer)*;
            const INNER: usize = 1 $(* $inner)*;
        }
    )*};
}

reduce_axis! {
    Rank1 [A] 0 => Rank0, Rank1<1>, A, [], [];
    Rank2 [A, B] 0 => Rank1<B>, Rank2<1, B>, A, [], [B];
    Rank2 [A, B] 1 => Rank1<A>, Rank2<A, 1>, B, [A], [];
    Rank3 [A, B, C] 0 => Rank2<B, C>, Rank3<1, B, C>, A, [], [B, C];
    Rank3 [A, B, C] 1 => Rank2<A, C>, Rank3<A, 1, C>, B, [A], [C];
    Rank3 [A, B, C] 2 => Rank2<A, B>, Rank3<A, B, 1>, C, [A, B], [];
    Rank4 [A, B, C, D] 0 => Rank3<B, C, D>, Rank4<1, B, C, D>, A, [], [B, C, D];
    Rank4 [A, B, C, D] 1 => Rank3<A, C, D>, Rank4<A, 1, C, D>, B, [A], [C, D];
    Rank4 [A, B, C, D] 2 => Rank3<A, B, D>, Rank4<A, B, 1, D>, C, [A, B], [D];
    Rank4 [A, B, C, D] 3 => Rank3<A, B, C>, Rank4<A, B, C, 1>, D, [A, B, C], [];
    Rank5 [A, B, C, D, F] 0 => Rank4<B, C, D, F>, Rank5<1, B, C, D, F>, A, [], [B, C, D, F];
    Rank5 [A, B, C, D, F] 1 => Rank4<A, C, D, F>, Rank5<A, 1, C, D, F>, B, [A], [C, D, F];
    Rank5 [A, B, C, D, F] 2 => Rank4<A, B, D, F>, Rank5<A, B, 1, D, F>, C, [A, B], [D, F];
    Rank5 [A, B, C, D, F] 3 => Rank4<A, B, C, F>, Rank5<A, B, C, 1, F>, D, [A, B, C], [F];
    Rank5 [A, B, C, D, F] 4 => Rank4<A, B, C, D>, Rank5<A, B, C, D, 1>, F, [A, B, C, D], [];
    Rank6 [A, B, C, D, F, G] 0 => Rank5<B, C, D, F, G>, Rank6<1, B, C, D, F, G>, A, [], [B, C, D, F, G];
    Rank6 [A, B, C, D, F, G] 1 => Rank5<A, C, D, F, G>, Rank6<A, 1, C, D, F, G>, B, [A], [C, D, F, G];
    Rank6 [A, B, C, D, F, G] 2 => Rank5<A, B, D, F, G>, Rank6<A, B, 1, D, F, G>, C, [A, B], [D, F, G];
    Rank6 [A, B, C, D, F, G] 3 => Rank5<A, B, C, F, G>, Rank6<A, B, C, 1, F, G>, D, [A, B, C], [F, G];
    Rank6 [A, B, C, D, F, G] 4 => Rank5<A, B, C, D, G>, Rank6<A, B, C, D, 1, G>, F, [A, B, C, D], [G];
    Rank6 [A, B, C, D, F, G] 5 => Rank5<A, B, C, D, F>, Rank6<A, B, C, D, F, 1>, G, [A, B, C, D, F], [];
}

/// Row-major strides of a shape given by its dimensions.
pub(crate) fn strides_of(dims: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        strides[i] = strides[i + 1] * dims[i + 1];
    }
    strides
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_describe_the_shape() {
        assert_eq!(Rank0::RANK, 0);
        assert_eq!(Rank0::NUMEL, 1);
        assert_eq!(Rank0::DIMS, &[] as &[usize]);
        assert_eq!(<Rank6<1, 2, 3, 4, 5, 6>>::NUMEL, 720);
        assert_eq!(<Rank6<1, 2, 3, 4, 5, 6>>::dims(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(<Rank2<0, 5>>::NUMEL, 0);
    }

    #[test]
    fn reduce_axis_constants_split_the_shape() {
        type S = Rank4<2, 3, 4, 5>;
        assert_eq!(<S as ReduceAxis<0>>::OUTER, 1);
        assert_eq!(<S as ReduceAxis<0>>::INNER, 60);
        assert_eq!(<S as ReduceAxis<2>>::OUTER, 6);
        assert_eq!(<S as ReduceAxis<2>>::AXIS_LEN, 4);
        assert_eq!(<S as ReduceAxis<2>>::INNER, 5);
        assert_eq!(<<S as ReduceAxis<2>>::Reduced as Shape>::DIMS, &[2, 3, 5]);
        assert_eq!(
            <<S as ReduceAxis<3>>::KeepDim as Shape>::DIMS,
            &[2, 3, 4, 1]
        );
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(strides_of(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides_of(&[5]), vec![1]);
        assert!(strides_of(&[]).is_empty());
    }
}
