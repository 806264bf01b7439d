//! Shapes as types: [`Rank0`] to [`Rank6`] when every dimension is known to the compiler, tuples of
//! dimensions such as `(usize, Const<784>)` when some are known only at run time, the [`Shape`] trait,
//! and the shape algebra that the ops' signatures are written in.
//!
//! A static shape is a zero-sized marker type whose dimensions are `const` generics: `Rank2<3, 4>` is
//! a 3 x 4 matrix, and a compiler error names it so. A shape with run-time dimensions is a tuple of
//! [`Dim`]s, one per axis: [`Const<N>`] for a size the compiler knows, `usize` for one it does not, so
//! `(usize, Const<784>)` is "some number of rows of 784". The tuple holds the run-time sizes (and only
//! them: a `Const` is zero-sized).
//!
//! ```
//! use shaped::{Const, Rank2, Shape, StaticShape};
//!
//! assert_eq!(<Rank2<3, 4> as Shape>::RANK, 2);
//! assert_eq!(<Rank2<3, 4> as StaticShape>::NUMEL, 12);
//! assert_eq!(Rank2::<3, 4>.dims(), [3, 4]);
//!
//! // 10 rows of 784, the 10 known at run time only.
//! let rows: (usize, Const<784>) = (10, Const);
//! assert_eq!(rows.dims(), [10, 784]);
//! assert_eq!(rows.numel(), 7840);
//! assert_eq!(<(usize, Const<784>)>::from_dims(&[3, 784]), Some((3, Const)));
//! assert_eq!(<(usize, Const<784>)>::from_dims(&[3, 785]), None);
//! ```
//!
//! # Rules
//! - Between static dimensions, every rule is a compile error at the call: a type error, reported
//!   by `cargo check` with the rule and both shapes (an inner dimension of a product, a layer's input
//!   width), or, for a rule that needs arithmetic on dimensions (a reshape's element count, a
//!   narrowed range), a `const` assertion, reported by `cargo build` (see the design notes below).
//! - A rule that involves a run-time dimension is checked when the op runs: it panics with a message
//!   naming the op and both sizes, as slice indexing does. Each op documents its run-time checks.
//! - An op keeps the form of its operands: static in, static out; a tuple in, a tuple out.
//!
//! # Design notes
//! - The rank is part of a static shape's name, so a compiler error reads `shaped::Rank2<2, 3>`;
//!   a shape with a run-time dimension reads `(usize, Const<3>)`.
//! - Most shape rules need no arithmetic on dimensions: [`NonScalar`] splits a shape into everything
//!   but its last axis ([`NonScalar::Init`]) and its last dimension ([`NonScalar::Last`], a [`Dim`]).
//!   An op that contracts or replaces the last axis is written against those, for both forms.
//! - Stable Rust cannot compute a dimension (`M * N`, `M + N`); where an op needs one, the caller names
//!   the output type and a `const` assertion checks it (see [`Tensor::reshape`](crate::Tensor::reshape)).
//! - Model code written for a batch dimension `B: Dim`, as `Tensor<(B, Const<784>)>`, runs on a static
//!   batch (`B = Const<64>`) and on a run-time one (`B = usize`), compiled once for every run-time size.
//!   A static tensor enters it with [`Tensor::into_dims`](crate::Tensor::into_dims) and its result
//!   leaves with [`Tensor::into_static`](crate::Tensor::into_static); a run-time one meets a static
//!   shape through [`Tensor::try_into_static`](crate::Tensor::try_into_static), which checks the sizes.

use core::fmt::Debug;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// One dimension of a shape: [`Const<N>`], known to the compiler, or `usize`, known at run time.
///
/// ```
/// use shaped::{Const, Dim};
/// assert_eq!(Const::<7>.size(), 7);
/// assert_eq!(7_usize.size(), 7);
/// assert_eq!(Const::<7>::from_size(7), Some(Const));
/// assert_eq!(Const::<7>::from_size(8), None);
/// assert_eq!(usize::from_size(8), Some(8));
/// ```
pub trait Dim: Copy + Debug + PartialEq + Eq + Send + Sync + 'static + Sealed {
    /// The size, if the compiler knows it.
    const STATIC: Option<usize>;
    /// The size of this dimension.
    ///
    /// ```
    /// use shaped::{Const, Dim};
    /// assert_eq!(Const::<3>.size(), 3);
    /// assert_eq!(5_usize.size(), 5);
    /// ```
    fn size(&self) -> usize;
    /// This dimension with size `n`, if it can have that size (a `Const<N>` only `N`).
    ///
    /// ```
    /// use shaped::{Const, Dim};
    /// assert_eq!(Const::<3>::from_size(3), Some(Const));
    /// assert_eq!(Const::<3>::from_size(4), None);
    /// assert_eq!(usize::from_size(4), Some(4));
    /// ```
    fn from_size(n: usize) -> Option<Self>;
}

/// A dimension of compile-time size `N`.
///
/// ```
/// use shaped::{Const, Dim};
/// assert_eq!(Const::<7>.size(), 7);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Const<const N: usize>;

impl<const N: usize> Sealed for Const<N> {}
impl<const N: usize> Dim for Const<N> {
    const STATIC: Option<usize> = Some(N);
    #[inline]
    fn size(&self) -> usize {
        N
    }
    #[inline]
    fn from_size(n: usize) -> Option<Self> {
        (n == N).then_some(Const)
    }
}

impl Sealed for usize {}
/// A dimension known only at run time.
impl Dim for usize {
    const STATIC: Option<usize> = None;
    #[inline]
    fn size(&self) -> usize {
        *self
    }
    #[inline]
    fn from_size(n: usize) -> Option<Self> {
        Some(n)
    }
}

/// Two dimensions that an op needs equal: a type error when both are static and differ, a run-time
/// check when either is `usize`. Every dimension meets itself, so code generic over a `B: Dim` needs
/// no bound to pass `B` where another `B` is expected.
///
/// ```
/// use shaped::{Const, Dim, SameDim};
/// fn same<A: SameDim<B>, B: Dim>() {}
/// same::<Const<3>, Const<3>>();
/// same::<Const<3>, usize>();
/// same::<usize, usize>();
/// fn generic<B: Dim>() {
///     same::<B, B>();
/// }
/// generic::<Const<7>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "dimension mismatch: `{Self}` and `{Rhs}` differ",
    label = "these dimensions must be equal"
)]
pub trait SameDim<Rhs: Dim>: Dim {}
impl<D: Dim> SameDim<D> for D {}
impl<const N: usize> SameDim<usize> for Const<N> {}
impl<const N: usize> SameDim<Const<N>> for usize {}

/// Panics unless two sizes that an op needs equal are: the run-time half of [`SameDim`].
#[inline]
#[track_caller]
pub(crate) fn check_same(op: &str, what: &str, a: usize, b: usize) {
    if a != b {
        same_failed(op, what, a, b);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn same_failed(op: &str, what: &str, a: usize, b: usize) -> ! {
    panic!("{op}: {what} differ: {a} and {b}")
}

/// A tensor shape: a static one ([`Rank0`] to [`Rank6`]) or a tuple of [`Dim`]s of rank 1 to 6.
///
/// The value of a shape holds its run-time dimensions (a static shape is zero-sized).
///
/// ```
/// use shaped::{Const, Rank3, Shape};
/// type S = Rank3<2, 3, 4>;
/// assert_eq!(S::RANK, 3);
/// assert_eq!(Rank3::<2, 3, 4>.dims(), [2, 3, 4]);
/// assert_eq!(Rank3::<2, 3, 4>.numel(), 24);
/// assert_eq!((5_usize, Const::<4>).dims(), [5, 4]);
/// ```
pub trait Shape: Copy + Debug + PartialEq + Send + Sync + 'static + Sealed {
    /// The number of axes.
    const RANK: usize;
    /// The number of elements, if the compiler knows every dimension.
    const STATIC_NUMEL: Option<usize>;
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
    /// The same shape written as a tuple of [`Dim`]s (`(Const<2>, Const<3>)` for `Rank2<2, 3>`;
    /// itself for a tuple; `Rank0` for a scalar).
    type Tuple: Shape<Dims = Self::Dims>;
    /// The same shape written as a tuple of [`Dim`]s.
    ///
    /// ```
    /// use shaped::{Const, Rank2, Shape};
    /// assert_eq!(Rank2::<2, 3>.to_tuple(), (Const::<2>, Const::<3>));
    /// assert_eq!((5_usize, Const::<3>).to_tuple(), (5, Const::<3>));
    /// ```
    fn to_tuple(&self) -> Self::Tuple;
    /// The dimensions, outermost first.
    ///
    /// ```
    /// use shaped::{Const, Rank0, Rank3, Shape};
    /// assert_eq!(Rank3::<2, 3, 4>.dims(), [2, 3, 4]);
    /// assert_eq!((Const::<2>, 7_usize).dims(), [2, 7]);
    /// assert!(Rank0.dims().is_empty());
    /// ```
    fn dims(&self) -> Self::Dims;
    /// The number of elements: the product of the dimensions (1 for a scalar).
    ///
    /// ```
    /// use shaped::{Const, Rank0, Rank3, Shape};
    /// assert_eq!(Rank3::<2, 3, 4>.numel(), 24); // 2 * 3 * 4
    /// assert_eq!((5_usize, Const::<3>).numel(), 15);
    /// assert_eq!(Rank0.numel(), 1);
    /// ```
    #[inline]
    fn numel(&self) -> usize {
        self.dims().as_ref().iter().product()
    }
    /// The shape with these dimensions, if it can have them: the rank must match, and each static
    /// dimension must be equal.
    ///
    /// ```
    /// use shaped::{Const, Rank2, Shape};
    /// assert_eq!(<(usize, Const<3>)>::from_dims(&[5, 3]), Some((5, Const)));
    /// assert_eq!(<(usize, Const<3>)>::from_dims(&[5, 4]), None); // 4 is not 3
    /// assert_eq!(<(usize, Const<3>)>::from_dims(&[5, 3, 1]), None); // rank 3, not 2
    /// assert_eq!(Rank2::<2, 3>::from_dims(&[2, 3]), Some(Rank2));
    /// ```
    fn from_dims(dims: &[usize]) -> Option<Self>;
    /// The shape of `numel` elements, if there is one: a static shape must have that many, and a
    /// shape with one run-time dimension gets it from the count (PyTorch's `-1`); `None` when the count
    /// does not fit, or when more than one dimension is run-time.
    ///
    /// ```
    /// use shaped::{Const, Rank2, Shape};
    /// assert_eq!(<(usize, Const<4>)>::infer(12), Some((3, Const)));
    /// assert_eq!(<(usize, Const<4>)>::infer(13), None);
    /// assert_eq!(<(usize, usize)>::infer(12), None);
    /// assert_eq!(Rank2::<3, 4>::infer(12), Some(Rank2));
    /// ```
    fn infer(numel: usize) -> Option<Self>;
}

/// A shape whose every dimension is known to the compiler: [`Rank0`] to [`Rank6`], or a tuple of
/// [`Const`]s such as `(Const<3>, Const<4>)`.
///
/// ```
/// use shaped::{Const, Rank2, StaticShape};
/// assert_eq!(<Rank2<3, 4>>::NUMEL, 12);
/// assert_eq!(<Rank2<3, 4>>::DIMS, &[3, 4]);
/// assert_eq!(<(Const<3>, Const<4>)>::DIMS, &[3, 4]);
/// let _: <(Const<3>, Const<4>) as StaticShape>::Static = Rank2::<3, 4>;
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a static shape: it has a dimension known only at run time",
    label = "needs every dimension known to the compiler",
    note = "a static shape is `Rank0` to `Rank6` or a tuple of `Const`s; `Tensor::try_into_static` checks a tensor's run-time sizes against one"
)]
pub trait StaticShape: Shape + Default {
    /// The number of elements.
    const NUMEL: usize;
    /// The dimensions, outermost first.
    const DIMS: &'static [usize];
    /// The same shape written as [`Rank0`] to [`Rank6`] (`Rank2<2, 3>` for `(Const<2>, Const<3>)`;
    /// itself for those): the inverse of [`Shape::Tuple`].
    type Static: StaticShape<Dims = Self::Dims, Tuple = Self::Tuple>;
}

/// A shape written as a tuple of [`Dim`]s, such as `(usize, Const<784>)`: the form that can hold
/// run-time dimensions. Ops on tuples give tuples.
///
/// ```
/// use shaped::{Const, Tensor, TupleShape};
/// fn rows<S: TupleShape>(t: &Tensor<S>) -> usize {
///     t.shape().as_ref()[0]
/// }
/// let t = Tensor::<(usize, Const<2>)>::zeros_with((3, Const));
/// assert_eq!(rows(&t), 3);
/// ```
pub trait TupleShape: Shape {}

/// A shape with at least one axis, split into its leading axes and its last dimension.
///
/// This is the vocabulary of the contractions: `linear` needs the last dimension to be the weight's
/// `IN`, and its output is the input with the last dimension replaced.
///
/// ```
/// use shaped::{Const, NonScalar, Rank2, Rank3};
/// let _: <Rank3<2, 3, 4> as NonScalar>::Init = Rank2::<2, 3>;
/// let _: <Rank3<2, 3, 4> as NonScalar>::Last = Const::<4>;
/// assert_eq!((7_usize, Const::<4>).split_last(), ((7,), Const));
/// ```
pub trait NonScalar: Shape {
    /// The shape without its last axis (`shape[:-1]`).
    type Init: Shape;
    /// The last dimension (`shape[-1]`).
    type Last: Dim;
    /// The shape without its last axis, and its last dimension.
    ///
    /// ```
    /// use shaped::{Const, NonScalar, Rank1, Rank3, Shape};
    /// assert_eq!(Rank3::<2, 3, 4>.split_last().0.dims(), [2, 3]);
    /// assert_eq!((7_usize, Const::<4>).split_last(), ((7,), Const::<4>));
    /// assert_eq!(Rank1::<5>.split_last().0.numel(), 1); // the scalar Rank0
    /// ```
    fn split_last(&self) -> (Self::Init, Self::Last);
}

/// The same shape with its last dimension replaced by `N` (`shape[:-1] + [N]`).
///
/// ```
/// use shaped::{Const, Rank3, ReplaceLast};
/// let _: <Rank3<2, 3, 4> as ReplaceLast<9>>::Output = Rank3::<2, 3, 9>;
/// assert_eq!((5_usize, Const::<4>).replace_last(), (5, Const::<9>));
/// ```
pub trait ReplaceLast<const N: usize>: NonScalar {
    /// `shape[:-1] + [N]`.
    type Output: NonScalar<Init = Self::Init, Last = Const<N>>;
    /// `shape[:-1] + [N]`.
    ///
    /// ```
    /// use shaped::{Const, Rank2, ReplaceLast, Shape};
    /// let s: Rank2<2, 9> = ReplaceLast::<9>::replace_last(&Rank2::<2, 3>);
    /// assert_eq!(s.dims(), [2, 9]);
    /// assert_eq!(ReplaceLast::<9>::replace_last(&(5_usize, Const::<3>)).dims(), [5, 9]);
    /// ```
    fn replace_last(&self) -> Self::Output;
}

/// Shapes of rank 2 or more: the shape with its last two axes swapped.
///
/// ```
/// use shaped::{Const, Rank3, Transposable};
/// let _: <Rank3<2, 3, 4> as Transposable>::Output = Rank3::<2, 4, 3>;
/// assert_eq!((5_usize, Const::<4>).transposed(), (Const::<4>, 5));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has fewer than two axes, so it has no last two axes to transpose",
    label = "needs a tensor of rank 2 or more",
    note = "to treat a vector as a row or a column, reshape it to `Rank2<1, N>` or `Rank2<N, 1>` first"
)]
pub trait Transposable: Shape {
    /// The shape with its last two axes swapped.
    type Output: Shape + Transposable<Output = Self>;
    /// The shape with its last two axes swapped.
    ///
    /// ```
    /// use shaped::{Const, Rank3, Shape, Transposable};
    /// assert_eq!(Rank3::<2, 3, 4>.transposed().dims(), [2, 4, 3]);
    /// assert_eq!((Const::<2>, 5_usize, Const::<4>).transposed(), (Const::<2>, Const::<4>, 5));
    /// ```
    fn transposed(&self) -> Self::Output;
}

/// Reduction over axis `AX`: the shape without that axis, and the shape with that axis set to 1.
///
/// Implemented for every axis `AX < RANK`, so naming an axis that does not exist is a type error.
///
/// ```
/// use shaped::{Const, Rank1, Rank2, Rank3, ReduceAxis};
/// let _: <Rank3<2, 3, 4> as ReduceAxis<1>>::Reduced = Rank2::<2, 4>;
/// let _: <Rank3<2, 3, 4> as ReduceAxis<1>>::KeepDim = Rank3::<2, 1, 4>;
/// let _: <Rank2<5, 6> as ReduceAxis<0>>::Reduced = Rank1::<6>;
/// let rows = (7_usize, Const::<3>);
/// assert_eq!(ReduceAxis::<1>::reduced(&rows), (7,));
/// assert_eq!(ReduceAxis::<0>::kept(&rows), (Const::<1>, Const::<3>));
/// assert_eq!(ReduceAxis::<0>::split(&rows), (1, 7, 3));
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
    /// The shape with axis `AX` removed.
    ///
    /// ```
    /// use shaped::{Const, Rank3, ReduceAxis, Shape};
    /// assert_eq!(ReduceAxis::<1>::reduced(&Rank3::<2, 3, 4>).dims(), [2, 4]);
    /// assert_eq!(ReduceAxis::<0>::reduced(&(7_usize, Const::<3>)).dims(), [3]);
    /// ```
    fn reduced(&self) -> Self::Reduced;
    /// The shape with axis `AX` kept with size 1.
    ///
    /// ```
    /// use shaped::{Const, Rank3, ReduceAxis, Shape};
    /// assert_eq!(ReduceAxis::<1>::kept(&Rank3::<2, 3, 4>).dims(), [2, 1, 4]);
    /// assert_eq!(ReduceAxis::<1>::kept(&(7_usize, Const::<3>)).dims(), [7, 1]);
    /// ```
    fn kept(&self) -> Self::KeepDim;
    /// `(outer, len, inner)`: the product of the dimensions before `AX`, the size of `AX`, and the
    /// product of the dimensions after it.
    ///
    /// ```
    /// use shaped::{Rank4, ReduceAxis};
    /// // axis 1 of [2, 3, 4, 5]: outer 2, len 3, inner 4 * 5
    /// assert_eq!(ReduceAxis::<1>::split(&Rank4::<2, 3, 4, 5>), (2, 3, 20));
    /// assert_eq!(ReduceAxis::<3>::split(&Rank4::<2, 3, 4, 5>), (24, 5, 1));
    /// ```
    #[inline]
    fn split(&self) -> (usize, usize, usize) {
        let dims = self.dims();
        let dims = dims.as_ref();
        (
            dims[..AX].iter().product(),
            dims[AX],
            dims[AX + 1..].iter().product(),
        )
    }
}

macro_rules! ranks {
    ($( $(#[$doc:meta])* $name:ident $rank:literal [$($d:ident),*] => $tuple:ty = $value:expr ; )*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
        pub struct $name<$(const $d: usize),*>;

        impl<$(const $d: usize),*> Sealed for $name<$($d),*> {}

        impl<$(const $d: usize),*> Shape for $name<$($d),*> {
            const RANK: usize = $rank;
            const STATIC_NUMEL: Option<usize> = Some(1 $(* $d)*);
            type Dims = [usize; $rank];
            type Tuple = $tuple;
            #[inline]
            fn to_tuple(&self) -> Self::Tuple {
                $value
            }
            #[inline]
            fn dims(&self) -> Self::Dims {
                [$($d),*]
            }
            #[inline]
            fn numel(&self) -> usize {
                1 $(* $d)*
            }
            #[inline]
            fn from_dims(dims: &[usize]) -> Option<Self> {
                let want: [usize; $rank] = [$($d),*];
                (dims == want).then_some($name)
            }
            #[inline]
            fn infer(numel: usize) -> Option<Self> {
                (numel == 1 $(* $d)*).then_some($name)
            }
        }

        impl<$(const $d: usize),*> StaticShape for $name<$($d),*> {
            const NUMEL: usize = 1 $(* $d)*;
            const DIMS: &'static [usize] = &[$($d),*];
            type Static = Self;
        }
    )*};
}

ranks! {
    /// A scalar: no axes, one element.
    ///
    /// ```
    /// use shaped::{Rank0, Shape, Tensor};
    /// assert_eq!((Rank0::RANK, Rank0.numel()), (0, 1));
    /// let s: Tensor<Rank0> = Tensor::full(2.5);
    /// assert_eq!(s.item(), 2.5);
    /// ```
    Rank0 0 [] => Rank0 = Rank0;
    /// A vector of `A` elements.
    ///
    /// ```
    /// use shaped::{Rank1, Shape, Tensor};
    /// assert_eq!(Rank1::<3>.dims(), [3]);
    /// let v: Tensor<Rank1<3>> = Tensor::from_fn(|[i]| i as f32);
    /// assert_eq!(v.to_vec(), vec![0.0, 1.0, 2.0]);
    /// ```
    Rank1 1 [A] => (Const<A>,) = (Const,);
    /// An `A` x `B` matrix.
    ///
    /// ```
    /// use shaped::{Rank2, Shape, Tensor};
    /// assert_eq!(Rank2::<2, 3>.dims(), [2, 3]);
    /// let m: Tensor<Rank2<2, 3>> = Tensor::from_fn(|[i, j]| (10 * i + j) as f32);
    /// assert_eq!(m.to_array(), [[0.0, 1.0, 2.0], [10.0, 11.0, 12.0]]);
    /// ```
    Rank2 2 [A, B] => (Const<A>, Const<B>) = (Const, Const);
    /// A rank-3 tensor, `A` x `B` x `C`.
    ///
    /// ```
    /// use shaped::{Rank3, Shape, Tensor};
    /// assert_eq!(Rank3::<2, 3, 4>.numel(), 24);
    /// let t: Tensor<Rank3<2, 3, 4>> = Tensor::from_fn(|[i, j, k]| (100 * i + 10 * j + k) as f32);
    /// assert_eq!(t[[1, 2, 3]], 123.0);
    /// ```
    Rank3 3 [A, B, C] => (Const<A>, Const<B>, Const<C>) = (Const, Const, Const);
    /// A rank-4 tensor, `A` x `B` x `C` x `D`.
    ///
    /// ```
    /// use shaped::{Rank4, Shape};
    /// // a batch of 8 RGB images of 32 x 32, NCHW
    /// assert_eq!(Rank4::<8, 3, 32, 32>.numel(), 24_576);
    /// assert_eq!(Rank4::<8, 3, 32, 32>.dims(), [8, 3, 32, 32]);
    /// ```
    Rank4 4 [A, B, C, D] => (Const<A>, Const<B>, Const<C>, Const<D>) = (Const, Const, Const, Const);
    /// A rank-5 tensor, `A` x `B` x `C` x `D` x `F`.
    ///
    /// ```
    /// use shaped::{Rank5, Shape};
    /// assert_eq!(Rank5::<1, 2, 3, 4, 5>.numel(), 120);
    /// assert_eq!(Rank5::<1, 2, 3, 4, 5>.dims(), [1, 2, 3, 4, 5]);
    /// ```
    Rank5 5 [A, B, C, D, F] => (Const<A>, Const<B>, Const<C>, Const<D>, Const<F>)
        = (Const, Const, Const, Const, Const);
    /// A rank-6 tensor, `A` x `B` x `C` x `D` x `F` x `G`.
    ///
    /// ```
    /// use shaped::{Rank6, Shape};
    /// assert_eq!(Rank6::<1, 2, 3, 4, 5, 6>.numel(), 720);
    /// assert_eq!(Rank6::<1, 2, 3, 4, 5, 6>.dims(), [1, 2, 3, 4, 5, 6]);
    /// ```
    Rank6 6 [A, B, C, D, F, G] => (Const<A>, Const<B>, Const<C>, Const<D>, Const<F>, Const<G>)
        = (Const, Const, Const, Const, Const, Const);
}

/// The numbers `0..n` as tuple indices, for the tuple macros.
macro_rules! tuples {
    ($( $rank:literal ( $($d:ident $i:tt),* ) ; )*) => {$(
        impl<$($d: Dim),*> Sealed for ($($d,)*) {}

        impl<$($d: Dim),*> Shape for ($($d,)*) {
            const RANK: usize = $rank;
            const STATIC_NUMEL: Option<usize> = {
                let mut n = Some(1_usize);
                $(
                    n = match (n, $d::STATIC) {
                        (Some(a), Some(b)) => Some(a * b),
                        _ => None,
                    };
                )*
                n
            };
            type Dims = [usize; $rank];
            type Tuple = Self;
            #[inline]
            fn to_tuple(&self) -> Self {
                *self
            }
            #[inline]
            fn dims(&self) -> Self::Dims {
                [$(self.$i.size()),*]
            }
            #[inline]
            fn from_dims(dims: &[usize]) -> Option<Self> {
                if dims.len() != $rank {
                    return None;
                }
                Some(($($d::from_size(dims[$i])?,)*))
            }
            fn infer(numel: usize) -> Option<Self> {
                let known: usize = 1 $(* $d::STATIC.unwrap_or(1))*;
                let unknown = 0 $(+ usize::from($d::STATIC.is_none()))*;
                let free = match unknown {
                    0 => return (numel == known).then(|| Self::from_dims(&[$($d::STATIC.unwrap_or(0)),*])).flatten(),
                    1 if known > 0 && numel % known == 0 => numel / known,
                    1 if known == 0 && numel == 0 => 0,
                    _ => return None,
                };
                Self::from_dims(&[$($d::STATIC.unwrap_or(free)),*])
            }
        }

        impl<$($d: Dim),*> TupleShape for ($($d,)*) {}
    )*};
}

tuples! {
    1 (A 0);
    2 (A 0, B 1);
    3 (A 0, B 1, C 2);
    4 (A 0, B 1, C 2, D 3);
    5 (A 0, B 1, C 2, D 3, F 4);
    6 (A 0, B 1, C 2, D 3, F 4, G 5);
}

/// Tuples of `Const`s are static shapes too (a static batch in code written for any batch).
macro_rules! static_tuples {
    ($( $rank:ident ( $($d:ident),* ) ; )*) => {$(
        impl<$(const $d: usize),*> StaticShape for ($(Const<$d>,)*) {
            const NUMEL: usize = 1 $(* $d)*;
            const DIMS: &'static [usize] = &[$($d),*];
            type Static = $rank<$($d),*>;
        }
    )*};
}

static_tuples! {
    Rank1 (A);
    Rank2 (A, B);
    Rank3 (A, B, C);
    Rank4 (A, B, C, D);
    Rank5 (A, B, C, D, F);
    Rank6 (A, B, C, D, F, G);
}

macro_rules! non_scalar {
    ($( $name:ident [$($d:ident),*] $last:ident => $init:ty ; )*) => {$(
        impl<$(const $d: usize,)* const $last: usize> NonScalar for $name<$($d,)* $last> {
            type Init = $init;
            type Last = Const<$last>;
            #[inline]
            fn split_last(&self) -> (Self::Init, Self::Last) {
                (Default::default(), Const)
            }
        }
        impl<$(const $d: usize,)* const $last: usize, const NEW: usize> ReplaceLast<NEW>
            for $name<$($d,)* $last>
        {
            type Output = $name<$($d,)* NEW>;
            #[inline]
            fn replace_last(&self) -> Self::Output {
                $name
            }
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

macro_rules! tuple_non_scalar {
    ($( ( $($d:ident $i:tt),* ) $last:ident $li:tt ; )*) => {$(
        impl<$($d: Dim,)* $last: Dim> NonScalar for ($($d,)* $last,) {
            type Init = ($($d,)*);
            type Last = $last;
            #[inline]
            fn split_last(&self) -> (Self::Init, Self::Last) {
                (($(self.$i,)*), self.$li)
            }
        }
    )*};
}

tuple_non_scalar! {
    (A 0) B 1;
    (A 0, B 1) C 2;
    (A 0, B 1, C 2) D 3;
    (A 0, B 1, C 2, D 3) F 4;
    (A 0, B 1, C 2, D 3, F 4) G 5;
}

impl<A: Dim> NonScalar for (A,) {
    type Init = Rank0;
    type Last = A;
    #[inline]
    fn split_last(&self) -> (Self::Init, Self::Last) {
        (Rank0, self.0)
    }
}

macro_rules! tuple_replace_last {
    ($( ( $($d:ident $i:tt),* ) $last:ident ; )*) => {$(
        impl<$($d: Dim,)* $last: Dim, const NEW: usize> ReplaceLast<NEW> for ($($d,)* $last,) {
            type Output = ($($d,)* Const<NEW>,);
            #[inline]
            fn replace_last(&self) -> Self::Output {
                ($(self.$i,)* Const,)
            }
        }
    )*};
}

tuple_replace_last! {
    () A;
    (A 0) B;
    (A 0, B 1) C;
    (A 0, B 1, C 2) D;
    (A 0, B 1, C 2, D 3) F;
    (A 0, B 1, C 2, D 3, F 4) G;
}

macro_rules! transposable {
    ($( $name:ident [$($d:ident),*] ; )*) => {$(
        impl<$(const $d: usize,)* const X: usize, const Y: usize> Transposable for $name<$($d,)* X, Y> {
            type Output = $name<$($d,)* Y, X>;
            #[inline]
            fn transposed(&self) -> Self::Output {
                $name
            }
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

macro_rules! tuple_transposable {
    ($( ( $($d:ident $i:tt),* ) $x:ident $xi:tt, $y:ident $yi:tt ; )*) => {$(
        impl<$($d: Dim,)* $x: Dim, $y: Dim> Transposable for ($($d,)* $x, $y) {
            type Output = ($($d,)* $y, $x);
            #[inline]
            fn transposed(&self) -> Self::Output {
                ($(self.$i,)* self.$yi, self.$xi)
            }
        }
    )*};
}

tuple_transposable! {
    () X 0, Y 1;
    (A 0) X 1, Y 2;
    (A 0, B 1) X 2, Y 3;
    (A 0, B 1, C 2) X 3, Y 4;
    (A 0, B 1, C 2, D 3) X 4, Y 5;
}

macro_rules! reduce_axis {
    ($( $name:ident [$($d:ident),*] $ax:literal => $red:ident [$($r:ident),*], $keep:ident [$($k:tt),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize),*> ReduceAxis<$ax> for $name<$($d),*> {
            type Reduced = $red<$($r),*>;
            type KeepDim = $keep<$($k),*>;
            #[inline]
            fn reduced(&self) -> Self::Reduced {
                $red
            }
            #[inline]
            fn kept(&self) -> Self::KeepDim {
                $keep
            }
        }
    )*};
}

reduce_axis! {
    Rank1 [A] 0 => Rank0 [], Rank1 [1];
    Rank2 [A, B] 0 => Rank1 [B], Rank2 [1, B];
    Rank2 [A, B] 1 => Rank1 [A], Rank2 [A, 1];
    Rank3 [A, B, C] 0 => Rank2 [B, C], Rank3 [1, B, C];
    Rank3 [A, B, C] 1 => Rank2 [A, C], Rank3 [A, 1, C];
    Rank3 [A, B, C] 2 => Rank2 [A, B], Rank3 [A, B, 1];
    Rank4 [A, B, C, D] 0 => Rank3 [B, C, D], Rank4 [1, B, C, D];
    Rank4 [A, B, C, D] 1 => Rank3 [A, C, D], Rank4 [A, 1, C, D];
    Rank4 [A, B, C, D] 2 => Rank3 [A, B, D], Rank4 [A, B, 1, D];
    Rank4 [A, B, C, D] 3 => Rank3 [A, B, C], Rank4 [A, B, C, 1];
    Rank5 [A, B, C, D, F] 0 => Rank4 [B, C, D, F], Rank5 [1, B, C, D, F];
    Rank5 [A, B, C, D, F] 1 => Rank4 [A, C, D, F], Rank5 [A, 1, C, D, F];
    Rank5 [A, B, C, D, F] 2 => Rank4 [A, B, D, F], Rank5 [A, B, 1, D, F];
    Rank5 [A, B, C, D, F] 3 => Rank4 [A, B, C, F], Rank5 [A, B, C, 1, F];
    Rank5 [A, B, C, D, F] 4 => Rank4 [A, B, C, D], Rank5 [A, B, C, D, 1];
    Rank6 [A, B, C, D, F, G] 0 => Rank5 [B, C, D, F, G], Rank6 [1, B, C, D, F, G];
    Rank6 [A, B, C, D, F, G] 1 => Rank5 [A, C, D, F, G], Rank6 [A, 1, C, D, F, G];
    Rank6 [A, B, C, D, F, G] 2 => Rank5 [A, B, D, F, G], Rank6 [A, B, 1, D, F, G];
    Rank6 [A, B, C, D, F, G] 3 => Rank5 [A, B, C, F, G], Rank6 [A, B, C, 1, F, G];
    Rank6 [A, B, C, D, F, G] 4 => Rank5 [A, B, C, D, G], Rank6 [A, B, C, D, 1, G];
    Rank6 [A, B, C, D, F, G] 5 => Rank5 [A, B, C, D, F], Rank6 [A, B, C, D, F, 1];
}

/// `ReduceAxis` for tuples: for each rank and axis, the dimensions kept (by index) and the position
/// of the removed one.
macro_rules! tuple_reduce_axis {
    ($( ( $($d:ident),* ) $ax:literal => ( $($r:ident $ri:tt),* ), ( $($k:ident $ki:tt),* ) ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$($d: Dim),*> ReduceAxis<$ax> for ($($d,)*) {
            type Reduced = tuple_reduce_axis!(@ty $($r),*);
            type KeepDim = ($(tuple_reduce_axis!(@keep $k),)*);
            #[inline]
            fn reduced(&self) -> Self::Reduced {
                tuple_reduce_axis!(@val self; $($ri),*)
            }
            #[inline]
            fn kept(&self) -> Self::KeepDim {
                ($(tuple_reduce_axis!(@keepv self; $k $ki),)*)
            }
        }
    )*};
    (@ty) => { Rank0 };
    (@ty $($r:ident),+) => { ($($r,)+) };
    (@val $s:ident;) => { Rank0 };
    (@val $s:ident; $($ri:tt),+) => { ($($s.$ri,)+) };
    (@keep ONE) => { Const<1> };
    (@keep $k:ident) => { $k };
    (@keepv $s:ident; ONE $ki:tt) => { Const };
    (@keepv $s:ident; $k:ident $ki:tt) => { $s.$ki };
}

tuple_reduce_axis! {
    (A) 0 => (), (ONE 0);
    (A, B) 0 => (B 1), (ONE 0, B 1);
    (A, B) 1 => (A 0), (A 0, ONE 1);
    (A, B, C) 0 => (B 1, C 2), (ONE 0, B 1, C 2);
    (A, B, C) 1 => (A 0, C 2), (A 0, ONE 1, C 2);
    (A, B, C) 2 => (A 0, B 1), (A 0, B 1, ONE 2);
    (A, B, C, D) 0 => (B 1, C 2, D 3), (ONE 0, B 1, C 2, D 3);
    (A, B, C, D) 1 => (A 0, C 2, D 3), (A 0, ONE 1, C 2, D 3);
    (A, B, C, D) 2 => (A 0, B 1, D 3), (A 0, B 1, ONE 2, D 3);
    (A, B, C, D) 3 => (A 0, B 1, C 2), (A 0, B 1, C 2, ONE 3);
    (A, B, C, D, F) 0 => (B 1, C 2, D 3, F 4), (ONE 0, B 1, C 2, D 3, F 4);
    (A, B, C, D, F) 1 => (A 0, C 2, D 3, F 4), (A 0, ONE 1, C 2, D 3, F 4);
    (A, B, C, D, F) 2 => (A 0, B 1, D 3, F 4), (A 0, B 1, ONE 2, D 3, F 4);
    (A, B, C, D, F) 3 => (A 0, B 1, C 2, F 4), (A 0, B 1, C 2, ONE 3, F 4);
    (A, B, C, D, F) 4 => (A 0, B 1, C 2, D 3), (A 0, B 1, C 2, D 3, ONE 4);
    (A, B, C, D, F, G) 0 => (B 1, C 2, D 3, F 4, G 5), (ONE 0, B 1, C 2, D 3, F 4, G 5);
    (A, B, C, D, F, G) 1 => (A 0, C 2, D 3, F 4, G 5), (A 0, ONE 1, C 2, D 3, F 4, G 5);
    (A, B, C, D, F, G) 2 => (A 0, B 1, D 3, F 4, G 5), (A 0, B 1, ONE 2, D 3, F 4, G 5);
    (A, B, C, D, F, G) 3 => (A 0, B 1, C 2, F 4, G 5), (A 0, B 1, C 2, ONE 3, F 4, G 5);
    (A, B, C, D, F, G) 4 => (A 0, B 1, C 2, D 3, G 5), (A 0, B 1, C 2, D 3, ONE 4, G 5);
    (A, B, C, D, F, G) 5 => (A 0, B 1, C 2, D 3, F 4), (A 0, B 1, C 2, D 3, F 4, ONE 5);
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
        assert_eq!(Rank6::<1, 2, 3, 4, 5, 6>.dims(), [1, 2, 3, 4, 5, 6]);
        assert_eq!(<Rank2<0, 5>>::NUMEL, 0);
        assert_eq!(<(usize, Const<3>)>::STATIC_NUMEL, None);
        assert_eq!(<(Const<2>, Const<3>)>::STATIC_NUMEL, Some(6));
    }

    #[test]
    fn tuples_hold_their_run_time_dimensions() {
        let s = (4_usize, Const::<3>, 2_usize);
        assert_eq!(s.dims(), [4, 3, 2]);
        assert_eq!(s.numel(), 24);
        assert_eq!(
            core::mem::size_of::<(usize, Const<3>)>(),
            core::mem::size_of::<usize>()
        );
        assert_eq!(core::mem::size_of::<Rank2<3, 4>>(), 0);
        assert_eq!(<(usize, Const<3>, usize)>::from_dims(&[4, 3, 2]), Some(s));
        assert_eq!(<(usize, Const<3>, usize)>::from_dims(&[4, 2, 2]), None);
        assert_eq!(<(usize, Const<3>)>::from_dims(&[4, 3, 2]), None);
        assert_eq!(Rank2::<4, 3>::from_dims(&[4, 3]), Some(Rank2));
        assert_eq!(Rank2::<4, 3>::from_dims(&[3, 4]), None);
    }

    #[test]
    fn the_algebra_works_on_both_forms() {
        let s = (5_usize, Const::<3>, 2_usize);
        let (init, last) = s.split_last();
        assert_eq!((init, last), ((5, Const), 2));
        assert_eq!(ReplaceLast::<7>::replace_last(&s), (5, Const, Const::<7>));
        assert_eq!(s.transposed(), (5, 2, Const::<3>));
        assert_eq!(ReduceAxis::<1>::reduced(&s), (5, 2));
        assert_eq!(ReduceAxis::<2>::kept(&s), (5, Const::<3>, Const::<1>));
        assert_eq!(ReduceAxis::<1>::split(&s), (5, 3, 2));
        let _: Rank0 = ReduceAxis::<0>::reduced(&(9_usize,));
        assert_eq!(ReduceAxis::<2>::split(&Rank4::<2, 3, 4, 5>), (6, 4, 5));
    }

    #[test]
    #[should_panic(expected = "add: the shapes differ: 3 and 4")]
    fn a_run_time_mismatch_names_both_sizes() {
        check_same("add", "the shapes", 3, 4);
    }

    #[test]
    fn strides_are_row_major() {
        assert_eq!(strides_of(&[2, 3, 4]), vec![12, 4, 1]);
        assert_eq!(strides_of(&[5]), vec![1]);
        assert!(strides_of(&[]).is_empty());
    }
}
