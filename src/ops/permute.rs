//! `permute`: the axes of a tensor of rank 2 to 6 in any order, named by a type such as
//! [`Axes3<2, 0, 1>`].

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::shape::strides_of;
use crate::{
    Const, Dim, Element, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, StaticShape, Tensor, Tracking,
};

/// An order of the two axes of a rank-2 tensor, for [`Tensor::permute`]: output axis 0 is input axis
/// `A`, output axis 1 is input axis `B`. Also a set of two axes, for the reductions over several axes
/// ([`Tensor::sum_axes`]).
///
/// ```
/// use shaped::{Axes2, Tensor};
/// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// assert_eq!(x.permute::<Axes2<1, 0>>().to_array(), [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]);
/// assert_eq!(x.sum_axes::<Axes2<0, 1>>().item(), 21.0);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes2<const A: usize, const B: usize>;

/// An order of the three axes of a rank-3 tensor, for [`Tensor::permute`]: output axis `i` is input
/// axis `[A, B, C][i]`. Also a set of three axes, for [`Tensor::sum_axes`] and the like.
///
/// ```
/// use shaped::{Axes3, Rank3, Tensor};
/// let x: Tensor<Rank3<2, 3, 4>> = Tensor::from_fn(|[i, j, k]| (100 * i + 10 * j + k) as f32);
/// let y = x.permute::<Axes3<2, 0, 1>>(); // [2, 3, 4] -> [4, 2, 3]: y[k][i][j] = x[i][j][k]
/// assert_eq!(y.shape(), [4, 2, 3]);
/// assert_eq!(y[[3, 1, 2]], 123.0);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes3<const A: usize, const B: usize, const C: usize>;

/// An order of the four axes of a rank-4 tensor, for [`Tensor::permute`]: output axis `i` is input
/// axis `[A, B, C, D][i]`. Also a set of four axes, for [`Tensor::sum_axes`] and the like.
///
/// ```
/// use shaped::{Axes4, Rank4, Tensor};
/// // NCHW -> NHWC
/// let x: Tensor<Rank4<1, 3, 2, 2>> = Tensor::from_fn(|[_, c, h, w]| (100 * c + 10 * h + w) as f32);
/// let y = x.permute::<Axes4<0, 2, 3, 1>>();
/// assert_eq!(y.shape(), [1, 2, 2, 3]);
/// assert_eq!(y[[0, 1, 0, 2]], 210.0); // channel 2, row 1, column 0
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes4<const A: usize, const B: usize, const C: usize, const D: usize>;

/// An order of the five axes of a rank-5 tensor, for [`Tensor::permute`]: output axis `i` is input
/// axis `[A, B, C, D, F][i]`. Also a set of five axes, for [`Tensor::sum_axes`] and the like.
///
/// ```
/// use shaped::{Axes5, Rank5, Tensor};
/// let x: Tensor<Rank5<1, 2, 1, 3, 1>> = Tensor::from_fn(|[_, b, _, d, _]| (10 * b + d) as f32);
/// let y = x.permute::<Axes5<3, 1, 0, 2, 4>>();
/// assert_eq!(y.shape(), [3, 2, 1, 1, 1]);
/// assert_eq!(y[[2, 1, 0, 0, 0]], 12.0);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes5<const A: usize, const B: usize, const C: usize, const D: usize, const F: usize>;

/// An order of the six axes of a rank-6 tensor, for [`Tensor::permute`]: output axis `i` is input
/// axis `[A, B, C, D, F, G][i]`. Also the set of all six axes, for [`Tensor::sum_axes`] and the like.
///
/// ```
/// use shaped::{Axes6, Rank6, Tensor};
/// let x: Tensor<Rank6<2, 1, 1, 1, 1, 3>> = Tensor::from_fn(|[a, _, _, _, _, g]| (10 * a + g) as f32);
/// let y = x.permute::<Axes6<5, 1, 2, 3, 4, 0>>(); // swap the first and last axes
/// assert_eq!(y.shape(), [3, 1, 1, 1, 1, 2]);
/// assert_eq!(y[[2, 0, 0, 0, 0, 1]], 12.0);
/// assert_eq!(x.sum_axes::<Axes6<0, 1, 2, 3, 4, 5>>().item(), 36.0); // (0 + 1 + 2) + (10 + 11 + 12)
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes6<
    const A: usize,
    const B: usize,
    const C: usize,
    const D: usize,
    const F: usize,
    const G: usize,
>;

/// The rule of [`Tensor::permute`]: `P` (an [`Axes2`] to [`Axes6`]) names every axis of the shape
/// exactly once, and `Output` is the shape with its axes in that order.
///
/// Implemented for every permutation of ranks 2 to 6, so a repeated axis, a missing axis, an axis out
/// of range or an `AxesN` of the wrong rank is a type error. The 2 + 6 + 24 + 120 + 720 permutations
/// are not listed one by one: one impl per rank reads each output dimension off the input with
/// [`DimAt`] and requires the axes to differ pairwise, which keeps the crate's build time flat.
///
/// ```
/// use shaped::{Axes3, Axes6, Const, PermuteTo, Rank3, Rank6};
/// let _: <Rank3<2, 3, 4> as PermuteTo<Axes3<2, 0, 1>>>::Output = Rank3::<4, 2, 3>;
/// assert_eq!(<Rank3<2, 3, 4> as PermuteTo<Axes3<2, 0, 1>>>::AXES, &[2, 0, 1]);
/// let _: <Rank6<1, 2, 3, 4, 5, 6> as PermuteTo<Axes6<5, 4, 3, 2, 1, 0>>>::Output =
///     Rank6::<6, 5, 4, 3, 2, 1>;
/// let rows = (7_usize, Const::<3>, Const::<2>);
/// assert_eq!(PermuteTo::<Axes3<2, 0, 1>>::permuted(&rows), (Const::<2>, 7, Const::<3>));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{P}` is not a permutation of the axes of `{Self}`",
    label = "`{P}` must name each axis of `{Self}` exactly once",
    note = "`permute` takes `Axes2<..>` for rank 2, `Axes3<..>` for rank 3, and so on to `Axes6<..>` \
            for rank 6, listing every axis (counted from 0) once: output axis i is input axis P[i]"
)]
pub trait PermuteTo<P>: Shape {
    /// The shape with its axes reordered: output axis `i` has the size of input axis `AXES[i]`.
    type Output: Shape;
    /// The permutation as a list: output axis `i` is input axis `AXES[i]`.
    const AXES: &'static [usize];
    /// The shape with its axes reordered.
    ///
    /// ```
    /// use shaped::{Axes3, Const, PermuteTo, Rank3, Shape};
    /// assert_eq!(PermuteTo::<Axes3<1, 2, 0>>::permuted(&Rank3::<2, 3, 4>).dims(), [3, 4, 2]);
    /// let rows = (7_usize, Const::<3>, Const::<2>);
    /// assert_eq!(PermuteTo::<Axes3<0, 2, 1>>::permuted(&rows), (7, Const::<2>, Const::<3>));
    /// ```
    fn permuted(&self) -> Self::Output;
}

/// Dimension `I` of a shape written as a tuple of dimensions: the type-level indexing that
/// [`PermuteTo`] and [`TransposeAxes`](crate::TransposeAxes) read their output dimensions with.
/// Implemented for `I` below the rank only.
///
/// ```
/// use shaped::{Const, DimAt};
/// let s = (7_usize, Const::<3>);
/// let _: Const<3> = DimAt::<1>::dim_at(&s);
/// assert_eq!(DimAt::<0>::dim_at(&s), 7);
/// ```
#[doc(hidden)]
pub trait DimAt<const I: usize>: Shape {
    /// The type of dimension `I`.
    type Dim: Dim;
    /// Dimension `I`.
    fn dim_at(&self) -> Self::Dim;
}

macro_rules! dim_at {
    ($( [$($d:ident $i:tt),*] ; )*) => {$(
        dim_at!(@rank [$($d),*] $($d $i),*);
    )*};
    (@rank $all:tt $($d:ident $i:tt),*) => {$(
        dim_at!(@one $all $d $i);
    )*};
    (@one [$($all:ident),*] $d:ident $i:tt) => {
        impl<$($all: Dim),*> DimAt<$i> for ($($all,)*) {
            type Dim = $d;
            #[inline]
            fn dim_at(&self) -> $d {
                self.$i
            }
        }
    };
}

dim_at! {
    [D0 0, D1 1];
    [D0 0, D1 1, D2 2];
    [D0 0, D1 1, D2 2, D3 3];
    [D0 0, D1 1, D2 2, D3 3, D4 4];
    [D0 0, D1 1, D2 2, D3 3, D4 4, D5 5];
}

/// A tuple of `Const` dimensions written as the static shape of the same rank:
/// `(Const<2>, Const<3>)` is `Rank2<2, 3>`. The inverse of [`Shape::Tuple`] for static shapes, so that
/// `permute` of a static shape gives a static shape.
#[doc(hidden)]
pub trait StaticForm: Shape {
    /// The `RankN` with these dimensions.
    type Static: StaticShape;
}

macro_rules! static_form {
    ($( $rank:ident [$($d:ident),*] ; )*) => {$(
        impl<$(const $d: usize),*> StaticForm for ($(Const<$d>,)*) {
            type Static = $rank<$($d),*>;
        }
    )*};
}

static_form! {
    Rank2 [D0, D1];
    Rank3 [D0, D1, D2];
    Rank4 [D0, D1, D2, D3];
    Rank5 [D0, D1, D2, D3, D4];
    Rank6 [D0, D1, D2, D3, D4, D5];
}

/// Two axes, for the type-level rules on lists of axes: [`DistinctAxes`] and [`AxesInOrder`].
#[doc(hidden)]
#[derive(Clone, Copy, Default, Debug)]
pub struct AxisPair<const A: usize, const B: usize>;

/// Implemented for the [`AxisPair`]s of two different axes below 6.
#[doc(hidden)]
pub trait DistinctAxes {}

/// Implemented for the [`AxisPair`]s `A < B` below 6: a list of axes in increasing order names each
/// axis once.
#[doc(hidden)]
pub trait AxesInOrder {}

macro_rules! axis_pairs {
    ($( $a:literal < $b:literal ),* $(,)?) => {$(
        impl AxesInOrder for AxisPair<$a, $b> {}
        impl DistinctAxes for AxisPair<$a, $b> {}
        impl DistinctAxes for AxisPair<$b, $a> {}
    )*};
}

axis_pairs! {
    0 < 1, 0 < 2, 0 < 3, 0 < 4, 0 < 5,
    1 < 2, 1 < 3, 1 < 4, 1 < 5,
    2 < 3, 2 < 4, 2 < 5,
    3 < 4, 3 < 5,
    4 < 5,
}

/// `PermuteTo` for one rank: the tuple impl reads each output dimension with `DimAt` and requires the
/// listed pairs of axes to differ; the static impl goes through the tuple of `Const`s.
macro_rules! permute_rank {
    ($rank:ident $axes:ident [$($d:ident),*] [$($p:ident),*] distinct [$(($x:ident, $y:ident)),*]) => {
        #[diagnostic::do_not_recommend]
        impl<$($d: Dim,)* $(const $p: usize),*> PermuteTo<$axes<$($p),*>> for ($($d,)*)
        where
            $(Self: DimAt<$p>,)*
            $(AxisPair<$x, $y>: DistinctAxes,)*
        {
            type Output = ($(<Self as DimAt<$p>>::Dim,)*);
            const AXES: &'static [usize] = &[$($p),*];
            #[inline]
            fn permuted(&self) -> Self::Output {
                ($(DimAt::<$p>::dim_at(self),)*)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize,)* $(const $p: usize),*> PermuteTo<$axes<$($p),*>> for $rank<$($d),*>
        where
            ($(Const<$d>,)*): PermuteTo<$axes<$($p),*>>,
            <($(Const<$d>,)*) as PermuteTo<$axes<$($p),*>>>::Output: StaticForm,
        {
            type Output =
                <<($(Const<$d>,)*) as PermuteTo<$axes<$($p),*>>>::Output as StaticForm>::Static;
            const AXES: &'static [usize] = <($(Const<$d>,)*) as PermuteTo<$axes<$($p),*>>>::AXES;
            #[inline]
            fn permuted(&self) -> Self::Output {
                Default::default()
            }
        }
    };
}

permute_rank!(Rank2 Axes2 [D0, D1] [A, B] distinct [(A, B)]);
permute_rank!(Rank3 Axes3 [D0, D1, D2] [A, B, C] distinct [(A, B), (A, C), (B, C)]);
permute_rank!(Rank4 Axes4 [D0, D1, D2, D3] [A, B, C, D]
    distinct [(A, B), (A, C), (A, D), (B, C), (B, D), (C, D)]);
permute_rank!(Rank5 Axes5 [D0, D1, D2, D3, D4] [A, B, C, D, F]
    distinct [(A, B), (A, C), (A, D), (A, F), (B, C), (B, D), (B, F), (C, D), (C, F), (D, F)]);
permute_rank!(Rank6 Axes6 [D0, D1, D2, D3, D4, D5] [A, B, C, D, F, G]
    distinct [(A, B), (A, C), (A, D), (A, F), (A, G), (B, C), (B, D), (B, F), (B, G), (C, D),
        (C, F), (C, G), (D, F), (D, G), (F, G)]);

/// The largest rank the permutation kernel handles.
const MAX_RANK: usize = 6;

/// Combines `src` (row-major, dimensions `src_dims`) permuted by `perm` into `dst` with
/// `put(&mut dst_elem, src_elem)`: `dst[i_0, .., i_r] = src[j]` where `j[perm[k]] = i_k`.
///
/// Walks `dst` in order; the last axis is the inner loop, reading `src` with that axis's stride.
pub(crate) fn permute_into<E: Copy>(
    src: &[E],
    src_dims: &[usize],
    perm: &[usize],
    dst: &mut [E],
    put: impl Fn(&mut E, E),
) {
    let rank = src_dims.len();
    debug_assert!((1..=MAX_RANK).contains(&rank) && perm.len() == rank);
    let src_strides = strides_of(src_dims);
    let mut dims = [1; MAX_RANK];
    let mut strides = [0; MAX_RANK];
    for (k, &p) in perm.iter().enumerate() {
        dims[k] = src_dims[p];
        strides[k] = src_strides[p];
    }
    let (n, step) = (dims[rank - 1], strides[rank - 1]);
    if dst.is_empty() || n == 0 {
        return;
    }
    let mut index = [0; MAX_RANK];
    let mut base = 0;
    for row in dst.chunks_exact_mut(n) {
        for (k, d) in row.iter_mut().enumerate() {
            put(d, src[base + k * step]);
        }
        // Odometer step over the outer axes.
        for axis in (0..rank - 1).rev() {
            index[axis] += 1;
            base += strides[axis];
            if index[axis] < dims[axis] {
                break;
            }
            base -= strides[axis] * dims[axis];
            index[axis] = 0;
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The axes reordered by the permutation `P`: output axis `i` is input axis `P[i]`, so
    /// `y[i_0, .., i_r] = x[j]` with `j[P[k]] = i_k`. `P` is a type, [`Axes2`] to [`Axes6`] for ranks
    /// 2 to 6: `x.permute::<Axes3<2, 0, 1>>()` turns a `(A, B, C)` into a `(C, A, B)`.
    ///
    /// Derivative: the gradient is permuted back by the inverse permutation.
    ///
    /// PyTorch: `x.permute(P)`; numpy: `np.transpose(x, P)`. A `P` that repeats or misses an axis, or
    /// has the wrong rank, does not compile. To swap two axes, [`transpose_axes`](Tensor::transpose_axes)
    /// names only those two.
    ///
    /// With run-time dimensions the result is a tuple whose dimensions move with their axes:
    /// `(usize, Const<3>, Const<4>)` permuted by `Axes3<2, 0, 1>` is `(Const<4>, usize, Const<3>)`.
    ///
    /// The result is a new buffer (a strided copy).
    ///
    /// Edge values: elements are moved, never computed, so NaN, infinities and the sign of zero come
    /// through bit for bit, and so do their gradients. Zero-sized dimensions are allowed.
    ///
    /// ```
    /// use shaped::{Axes2, Axes3, Axes5, Rank3, Rank5, Tensor};
    /// let x = Tensor::<Rank3<2, 3, 4>>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f32);
    /// let y = x.permute::<Axes3<2, 0, 1>>();
    /// assert_eq!(y.shape(), [4, 2, 3]);
    /// assert_eq!(y[[3, 1, 2]], x[[1, 2, 3]]);
    /// // For a matrix the only non-trivial permutation is the transpose.
    /// let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.permute::<Axes2<1, 0>>(), m.transpose());
    /// // rank 5: (N, C, D, H, W) to (N, D, H, W, C)
    /// let v: Tensor<Rank5<1, 2, 3, 4, 5>> = Tensor::from_fn(|[_, c, d, h, w]| (c * 1000 + d * 100 + h * 10 + w) as f32);
    /// let u: Tensor<Rank5<1, 3, 4, 5, 2>> = v.permute::<Axes5<0, 2, 3, 4, 1>>();
    /// assert_eq!(u[[0, 2, 3, 4, 1]], 1234.0);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axes3, Rank3, Tensor};
    /// let x: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    /// let _ = x.permute::<Axes3<0, 0, 1>>(); // axis 0 twice, axis 2 never
    /// ```
    #[must_use]
    pub fn permute<P>(&self) -> Tensor<<S as PermuteTo<P>>::Output, E, T>
    where
        S: PermuteTo<P>,
    {
        let shape = self.typed_shape();
        self.permute_with(S::AXES, shape.permuted())
    }

    /// The axes reordered by `perm` (output axis `i` is input axis `perm[i]`), into the shape `out`.
    pub(crate) fn permute_with<S2: Shape>(
        &self,
        perm: &'static [usize],
        out: S2,
    ) -> Tensor<S2, E, T> {
        let mut y = Buffer::uninit(self.numel());
        permute_into(self.data(), self.shape().as_ref(), perm, &mut y, |d, s| {
            *d = s;
        });
        let tape = self.tape().record([self.input()], self.numel(), |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                // dy has the output's dimensions; the inverse permutation brings it back.
                let out_dims = out.dims();
                let mut inverse = [0; MAX_RANK];
                for (k, &p) in perm.iter().enumerate() {
                    inverse[p] = k;
                }
                permute_into(dy, out_dims.as_ref(), &inverse[..perm.len()], dx, |d, s| {
                    *d += s;
                });
            })
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{
        Axes2, Axes3, Axes4, Axes5, Axes6, Const, Rank2, Rank3, Rank4, Rank5, Rank6, Tape, Tensor,
        gradcheck,
    };

    #[test]
    fn rank3_matches_the_definition() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(30);
        let y = x.permute::<Axes3<2, 0, 1>>();
        let want = Tensor::<Rank3<4, 2, 3>, f64>::from_fn(|[c, a, b]| x[[a, b, c]]);
        assert_eq!(y, want);
        let z = x.permute::<Axes3<1, 2, 0>>();
        let want = Tensor::<Rank3<3, 4, 2>, f64>::from_fn(|[b, c, a]| x[[a, b, c]]);
        assert_eq!(z, want);
        // (2, 0, 1) and (1, 2, 0) are inverses of each other.
        assert_eq!(y.permute::<Axes3<1, 2, 0>>(), x);
        assert_eq!(x.permute::<Axes3<0, 1, 2>>(), x);
    }

    #[test]
    fn rank4_matches_the_definition() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(31);
        let y = x.permute::<Axes4<3, 1, 0, 2>>();
        let want = Tensor::<Rank4<5, 3, 2, 4>, f64>::from_fn(|[d, b, a, c]| x[[a, b, c, d]]);
        assert_eq!(y, want);
        let z = x.permute::<Axes4<0, 1, 3, 2>>();
        assert_eq!(z, x.transpose());
        // (3, 1, 0, 2) sends output axis 0 to input 3, ...; its inverse is (2, 1, 3, 0).
        assert_eq!(y.permute::<Axes4<2, 1, 3, 0>>(), x);
    }

    #[test]
    fn rank5_matches_the_definition() {
        let x: Tensor<Rank5<2, 3, 1, 4, 2>, f64> = random(39);
        let y = x.permute::<Axes5<3, 0, 4, 2, 1>>();
        let want =
            Tensor::<Rank5<4, 2, 2, 1, 3>, f64>::from_fn(|[d, a, f, c, b]| x[[a, b, c, d, f]]);
        assert_eq!(y, want);
        // (3, 0, 4, 2, 1) sends output axis 1 to input 0, ...; its inverse is (1, 4, 3, 0, 2).
        assert_eq!(y.permute::<Axes5<1, 4, 3, 0, 2>>(), x);
        assert_eq!(x.permute::<Axes5<0, 1, 2, 4, 3>>(), x.transpose());
    }

    #[test]
    fn rank6_matches_the_definition() {
        let x: Tensor<Rank6<2, 1, 3, 2, 2, 3>, f64> = random(40);
        let y = x.permute::<Axes6<5, 3, 0, 4, 1, 2>>();
        let want = Tensor::<Rank6<3, 2, 2, 2, 1, 3>, f64>::from_fn(|[g, d, a, f, b, c]| {
            x[[a, b, c, d, f, g]]
        });
        assert_eq!(y, want);
        // The inverse of (5, 3, 0, 4, 1, 2) is (2, 4, 5, 1, 3, 0).
        assert_eq!(y.permute::<Axes6<2, 4, 5, 1, 3, 0>>(), x);
        assert_eq!(x.permute::<Axes6<0, 1, 2, 3, 4, 5>>(), x);
    }

    #[test]
    fn run_time_dimensions_move_with_their_axes() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(41);
        let rows = 2;
        let xd: Tensor<(usize, Const<3>, Const<4>, usize), f64> =
            Tensor::from_vec_with((rows, Const, Const, 5), x.to_vec()).unwrap();
        let y = xd.permute::<Axes4<3, 1, 0, 2>>();
        let _: &Tensor<(usize, Const<3>, usize, Const<4>), f64> = &y;
        assert_eq!(y.typed_shape(), (5, Const, 2, Const));
        assert_eq!(y.as_slice(), x.permute::<Axes4<3, 1, 0, 2>>().as_slice());
        let v: Tensor<(usize, usize, usize, usize, usize, usize), f64> =
            Tensor::from_fn_with((1, 2, 1, 3, 1, 2), |[_, b, _, d, _, g]| {
                (b * 100 + d * 10 + g) as f64
            });
        let w = v.permute::<Axes6<5, 4, 3, 2, 1, 0>>();
        assert_eq!(w.shape(), [2, 1, 3, 1, 2, 1]);
        assert_eq!(w[[1, 0, 2, 0, 1, 0]], 121.0);
    }

    #[test]
    fn rank2_is_the_transpose() {
        let x: Tensor<Rank2<3, 5>, f64> = random(32);
        assert_eq!(x.permute::<Axes2<1, 0>>(), x.transpose());
        assert_eq!(x.permute::<Axes2<0, 1>>(), x);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(permute(x, (1, 0)) * w): df/dx[i][j] = w[j][i], w permuted back by the inverse.
        let x = Tensor::from([[1.0, 2.0, 3.0]]);
        let w = Tensor::from([[10.0], [20.0], [30.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.permute::<Axes2<1, 0>>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[10.0, 20.0, 30.0]]);

        // f = sum(permute(x, (2, 0, 1)) * w) for x of shape (1, 2, 3): w has shape (3, 1, 2) and
        // df/dx[a][b][c] = w[c][a][b].
        let x = Tensor::from([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]);
        let w = Tensor::from([[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.permute::<Axes3<2, 0, 1>>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x3: Tensor<Rank3<2, 3, 4>, f64> = random(33);
        let w3: Tensor<Rank3<4, 2, 3>, f64> = random(34);
        gradcheck(|x| (x.permute::<Axes3<2, 0, 1>>() * &w3).sum(), &x3).unwrap();
        let v3: Tensor<Rank3<3, 4, 2>, f64> = random(35);
        gradcheck(|x| (x.permute::<Axes3<1, 2, 0>>().exp() * &v3).sum(), &x3).unwrap();
        let x4: Tensor<Rank4<2, 3, 1, 2>, f64> = random(36);
        let w4: Tensor<Rank4<2, 2, 3, 1>, f64> = random(37);
        gradcheck(|x| (x.permute::<Axes4<3, 0, 1, 2>>() * &w4).sum(), &x4).unwrap();
        let x5: Tensor<Rank5<2, 1, 3, 1, 2>, f64> = random(42);
        let w5: Tensor<Rank5<2, 3, 2, 1, 1>, f64> = random(43);
        gradcheck(|x| (x.permute::<Axes5<4, 2, 0, 1, 3>>() * &w5).sum(), &x5).unwrap();
        let x6: Tensor<Rank6<2, 1, 2, 1, 3, 1>, f64> = random(44);
        let w6: Tensor<Rank6<1, 3, 2, 1, 2, 1>, f64> = random(45);
        gradcheck(
            |x| (x.permute::<Axes6<5, 4, 2, 3, 0, 1>>() * &w6).sum(),
            &x6,
        )
        .unwrap();
        // used twice: two different permutations of the same input
        let x: Tensor<Rank3<2, 2, 2>, f64> = random(38);
        gradcheck(
            |x| (x.permute::<Axes3<2, 1, 0>>() * x.permute::<Axes3<1, 0, 2>>()).sum(),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn used_twice_accumulates() {
        // f = sum(x^T (via permute) * x) for a 2x2: df/dx[i][j] = 2 x[j][i].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.permute::<Axes2<1, 0>>() * &xt).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[2.0, 6.0], [4.0, 8.0]]);
    }
}
