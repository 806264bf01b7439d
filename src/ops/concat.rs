//! `concat`: two tensors joined along one axis, with the output's size there written by the caller.

use std::sync::Arc;

use crate::const_msg::ConstMsg;
use crate::ops::Merged;
use crate::ops::narrow::{for_each_axis, join_rows, split_at_axis, unjoin_rows};
use crate::tape::internal::Record;
use crate::{
    Const, Dim, Element, Merge, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, Tensor, Tracking,
    TupleShape,
};

/// An axis named by its number, passed as a value: `Axis::<1>`.
///
/// The ops that take another tensor or indices besides `self` ([`concat`](Tensor::concat),
/// [`stack`](Tensor::stack), [`index_select`](Tensor::index_select)) take their axis this way, so
/// that the types of those operands are inferred: Rust infers all of a call's generic arguments or
/// none, and `a.concat::<1, _, _, _>(&b)` would need placeholders. Ops of one tensor take the axis
/// in the turbofish (`x.sum_axis::<1>()`, `x.narrow::<1, 0, 2>()`).
///
/// ```
/// use shaped::{Axis, Rank2, Tensor};
/// let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
/// let b = Tensor::from([[5.0], [6.0]]);
/// let c: Tensor<Rank2<2, 3>, f64> = a.concat(Axis::<1>, &b);
/// assert_eq!(c.to_array(), [[1.0, 2.0, 5.0], [3.0, 4.0, 6.0]]);
/// ```
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axis<const AX: usize>;

/// The shape rule of [`Tensor::concat`]: `Self` and `Rhs` joined along axis `AX` have shape `Out`.
///
/// The two shapes must have the same rank and the same dimensions on every axis but `AX`, and `Out`
/// has those dimensions too. Between static shapes that is a type rule (a shape pair that differs
/// elsewhere has no implementation, so the call does not compile); the size of `Out` on axis `AX`
/// is written by the caller, because stable Rust cannot add dimensions, and a `const` assertion in
/// `concat` checks it at `cargo build`.
///
/// With a tuple shape on either side (a shape with run-time dimensions), the rule between two
/// run-time dimensions is checked when the op runs, the output is a tuple, and its dimension on axis
/// `AX` is a `usize` computed by the op when either input's is; when both are static, it is the
/// `Const` the caller writes, checked at build as above.
///
/// ```
/// use shaped::{ConcatShape, Const, Rank2};
/// fn joins<A: ConcatShape<AX, B, Out>, B: shaped::Shape, Out: shaped::Shape, const AX: usize>() {}
/// joins::<Rank2<2, 3>, Rank2<2, 4>, Rank2<2, 7>, 1>();
/// joins::<(usize, Const<3>), (usize, Const<3>), (usize, Const<3>), 0>();
/// joins::<Rank2<2, 3>, (usize, Const<3>), (usize, Const<3>), 0>();
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot concatenate `{Self}` and `{Rhs}` along axis {AX}: their other axes differ",
    label = "every axis but axis {AX} must have the same size in both operands",
    note = "concat joins `[.., M, ..]` and `[.., N, ..]` along an axis both have into `[.., M + N, ..]`; \
            the dimensions on the other axes must be equal, in the output type too"
)]
pub trait ConcatShape<const AX: usize, Rhs: Shape, Out: Shape>: Shape {
    /// The sizes `[M, N, M + N]` of axis `AX` in `Self`, `Rhs` and `Out`, when all three are static:
    /// what `concat` checks at build.
    #[doc(hidden)]
    const SIZES: Option<[usize; 3]>;
    /// The output's shape.
    ///
    /// # Panics
    /// When a run-time dimension on another axis than `AX` differs from its counterpart; the
    /// message names both shapes.
    #[doc(hidden)]
    #[track_caller]
    fn concat_shape(&self, rhs: &Rhs) -> Out;
}

/// [`ConcatShape`] between shapes written as tuples of dimensions.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "cannot concatenate `{Self}` and `{Rhs}` along axis {AX}: their other axes differ",
    label = "every axis but axis {AX} must have the same size in both operands",
    note = "concat joins `[.., M, ..]` and `[.., N, ..]` along an axis both have into `[.., M + N, ..]`; \
            the dimensions on the other axes must be equal, in the output type too; a static operand \
            is shown as a tuple of `Const`s"
)]
pub trait TupleConcat<const AX: usize, Rhs: Shape, Out: Shape>: Shape {
    /// As [`ConcatShape::SIZES`].
    const SIZES: Option<[usize; 3]>;
    /// As [`ConcatShape::concat_shape`].
    #[track_caller]
    fn tuple_concat(&self, rhs: &Rhs) -> Out;
}

/// Two dimensions that must be equal: a type error when both are static and differ, a check when the
/// op runs when either is `usize`. Unlike [`SameDim`](crate::SameDim) it holds for any dimension
/// and itself, so that code generic over a dimension `B: Dim` joins `(B, ..)` with `(B, ..)`
/// without a bound of its own.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "dimension mismatch: `{Self}` and `{Rhs}` differ",
    label = "these dimensions must be equal"
)]
pub trait DimEq<Rhs: Dim>: Dim {}
impl<D: Dim> DimEq<D> for D {}
impl<const N: usize> DimEq<usize> for Const<N> {}
impl<const N: usize> DimEq<Const<N>> for usize {}

/// The dimension `Out` of two dimensions joined: `Const<O>` from two `Const`s (the caller's `O`,
/// checked to be `M + N` at build), `usize` when either is run-time.
#[doc(hidden)]
pub trait ConcatDim<Rhs: Dim, Out: Dim>: Dim {
    /// The joined dimension.
    fn joined(self, rhs: Rhs) -> Out;
}

impl<const M: usize, const N: usize, const O: usize> ConcatDim<Const<N>, Const<O>> for Const<M> {
    #[inline]
    fn joined(self, _: Const<N>) -> Const<O> {
        Const
    }
}

impl<const M: usize> ConcatDim<usize, usize> for Const<M> {
    #[inline]
    fn joined(self, rhs: usize) -> usize {
        M + rhs
    }
}

impl<D: Dim> ConcatDim<D, usize> for usize {
    #[inline]
    fn joined(self, rhs: D) -> usize {
        self + rhs.size()
    }
}

/// `[M, N, O]` when the three dimensions are static.
const fn static_sizes<M: Dim, N: Dim, O: Dim>() -> Option<[usize; 3]> {
    match (M::STATIC, N::STATIC, O::STATIC) {
        (Some(m), Some(n), Some(o)) => Some([m, n, o]),
        _ => None,
    }
}

/// Panics unless `a` and `b` are equal on every axis but `ax`, naming both shapes.
#[track_caller]
fn check_other_axes(a: &[usize], b: &[usize], ax: usize) {
    let differ = a
        .iter()
        .zip(b)
        .enumerate()
        .any(|(i, (x, y))| i != ax && x != y);
    if differ {
        other_axes_differ(a, b, ax);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn other_axes_differ(a: &[usize], b: &[usize], ax: usize) -> ! {
    panic!("concat along axis {ax}: the shapes differ on another axis: {a:?} and {b:?}")
}

macro_rules! concat_shapes {
    ($( $rank:ident $ax:tt : [$($p:ident $p2:ident $pi:tt),*] [$($q:ident $q2:ident $qi:tt),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $p: usize,)* const M: usize, const N: usize, const O: usize, $(const $q: usize,)*>
            ConcatShape<$ax, $rank<$($p,)* N, $($q,)*>, $rank<$($p,)* O, $($q,)*>>
            for $rank<$($p,)* M, $($q,)*>
        {
            const SIZES: Option<[usize; 3]> = Some([M, N, O]);
            #[inline]
            fn concat_shape(&self, _: &$rank<$($p,)* N, $($q,)*>) -> $rank<$($p,)* O, $($q,)*> {
                $rank
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$($p: Dim, $p2: Dim,)* M: Dim, N: Dim, O: Dim, $($q: Dim, $q2: Dim,)*>
            TupleConcat<$ax, ($($p2,)* N, $($q2,)*), ($($p,)* O, $($q,)*)> for ($($p,)* M, $($q,)*)
        where
            $($p: DimEq<$p2>,)*
            $($q: DimEq<$q2>,)*
            M: ConcatDim<N, O>,
        {
            const SIZES: Option<[usize; 3]> = static_sizes::<M, N, O>();
            #[inline]
            #[track_caller]
            fn tuple_concat(&self, rhs: &($($p2,)* N, $($q2,)*)) -> ($($p,)* O, $($q,)*) {
                check_other_axes(self.dims().as_ref(), rhs.dims().as_ref(), $ax);
                ($(self.$pi,)* self.$ax.joined(rhs.$ax), $(self.$qi,)*)
            }
        }
    )*};
}

for_each_axis!(concat_shapes);

#[diagnostic::do_not_recommend]
impl<const AX: usize, L: TupleShape, R: Shape, Out: Shape> ConcatShape<AX, R, Out> for L
where
    L: TupleConcat<AX, R::Tuple, Out>,
{
    const SIZES: Option<[usize; 3]> = <L as TupleConcat<AX, R::Tuple, Out>>::SIZES;
    #[inline]
    #[track_caller]
    fn concat_shape(&self, rhs: &R) -> Out {
        self.tuple_concat(&rhs.to_tuple())
    }
}

/// A static left operand with a tuple on the right: the static one is seen as a tuple of `Const`s.
macro_rules! static_left_concat {
    ($( $rank:ident [$($d:ident),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<const AX: usize, $(const $d: usize,)* R: TupleShape, Out: Shape> ConcatShape<AX, R, Out>
            for $rank<$($d),*>
        where
            <$rank<$($d),*> as Shape>::Tuple: TupleConcat<AX, R, Out>,
        {
            const SIZES: Option<[usize; 3]> =
                <<$rank<$($d),*> as Shape>::Tuple as TupleConcat<AX, R, Out>>::SIZES;
            #[inline]
            #[track_caller]
            fn concat_shape(&self, rhs: &R) -> Out {
                self.to_tuple().tuple_concat(rhs)
            }
        }
    )*};
}

static_left_concat! {
    Rank1 [A];
    Rank2 [A, B];
    Rank3 [A, B, C];
    Rank4 [A, B, C, D];
    Rank5 [A, B, C, D, F];
    Rank6 [A, B, C, D, F, G];
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `self` and `other` joined along axis `AX`: `y[.., i, ..]` is `self[.., i, ..]` for `i < M`
    /// and `other[.., i - M, ..]` after, where `M` and `N` are the sizes of that axis in `self` and
    /// `other`. The other axes must be equal.
    ///
    /// The output shape `Out` is written by the caller, in a binding or a return type: stable Rust
    /// cannot add the dimensions `M + N`. Between static shapes, an output whose size on axis `AX`
    /// is not `M + N` is a `const` assertion, reported by `cargo build` (and `cargo test`) but not
    /// by `cargo check`, whose first line names the sizes
    /// (`concat along axis 1: 3 + 4 = 7, but the output type says 8`). Other axes that differ are a
    /// type error ([`ConcatShape`]). Where the axis is a run-time dimension in either operand, the
    /// output is a tuple whose size there is computed, so nothing needs to be written.
    ///
    /// Derivative: the gradient is split along `AX`, its first `M` slices going to `self` and the
    /// rest to `other`.
    ///
    /// PyTorch: `torch.cat((self, other), dim=AX)`. Either operand may be on a tape, both on the
    /// same one, or neither.
    ///
    /// # Panics
    /// With tuple shapes, when a run-time dimension on another axis differs from its counterpart; the
    /// message names both shapes (`concat along axis 1: the shapes differ on another axis: [2, 3] and
    /// [4, 1]`).
    ///
    /// Edge values: elements are copied bit for bit (NaN, infinities, the sign of zero), and so are
    /// their gradients. Either operand may be empty along `AX` (as PyTorch); then the result is a
    /// copy of the other and the empty one's gradient is empty.
    ///
    /// ```
    /// use shaped::{Axis, Const, Rank2, Tape, Tensor};
    /// let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Tensor::from([[5.0, 6.0]]);
    /// let rows: Tensor<Rank2<3, 2>, f64> = a.concat(Axis::<0>, &b);
    /// assert_eq!(rows.to_array(), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    ///
    /// // The gradient is split: a watched `b` gets the last row's.
    /// let tape = Tape::new();
    /// let bt = tape.watch(&b);
    /// let w = Tensor::from([[1.0, 1.0], [1.0, 1.0], [2.0, 3.0]]);
    /// let y: Tensor<Rank2<3, 2>, f64, Tape<f64>> = a.concat(Axis::<0>, &bt);
    /// assert_eq!((y * &w).sum().backward().get(&bt).to_array(), [[2.0, 3.0]]);
    ///
    /// // A run-time number of rows: the output's is computed.
    /// let more = Tensor::from_vec_with((1_usize, Const::<2>), vec![7.0, 8.0])?;
    /// let z = rows.concat(Axis::<0>, &more);
    /// let _: &Tensor<(usize, Const<2>), f64> = &z;
    /// assert_eq!(z.shape(), [4, 2]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axis, Rank2, Tensor};
    /// let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Tensor::from([[5.0, 6.0, 7.0]]);
    /// let _: Tensor<Rank2<3, 2>, f64> = a.concat(Axis::<0>, &b); // 2 columns and 3
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axis, Rank2, Tensor};
    /// let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Tensor::from([[5.0, 6.0]]);
    /// let _: Tensor<Rank2<4, 2>, f64> = a.concat(Axis::<0>, &b); // 2 + 1 rows is 3 (at build)
    /// ```
    #[must_use]
    #[track_caller]
    pub fn concat<const AX: usize, R: Shape, T2, Out: Shape>(
        &self,
        _axis: Axis<AX>,
        other: &Tensor<R, E, T2>,
    ) -> Tensor<Out, E, Merged<E, T, T2>>
    where
        S: ConcatShape<AX, R, Out>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
        const {
            if let Some([m, n, o]) = <S as ConcatShape<AX, R, Out>>::SIZES
                && m + n != o
            {
                let msg = ConstMsg::new()
                    .str("concat along axis ")
                    .num(AX)
                    .str(": ")
                    .num(m)
                    .str(" + ")
                    .num(n)
                    .str(" = ")
                    .num(m + n)
                    .str(", but the output type says ")
                    .num(o);
                panic!("{}", msg.as_str());
            }
        }
        let out = self.typed_shape().concat_shape(&other.typed_shape());
        let (outer, m, inner) = split_at_axis(self.shape().as_ref(), AX);
        let n = other.shape().as_ref()[AX];
        // Each row of the output (one index of the axes before `AX`) is a row of `self` followed by
        // a row of `other`.
        let (wa, wb) = (m * inner, n * inner);
        let y = join_rows(&[(self.data(), wa), (other.data(), wb)], outer);
        let numel = y.len();
        let tape = self.tape().merge(other.tape());
        let tape = tape.record([self.input(), other.input()], numel, |[na, nb]| {
            Box::new(move |dy, grads| unjoin_rows(dy, &[(na, wa), (nb, wb)], outer, grads))
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::Axis;
    use crate::ops::testing::random;
    use crate::{Const, Rank1, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn joins_along_every_axis() {
        let a = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[i, j, k]| (100 * i + 10 * j + k) as f64);
        let b =
            Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[i, j, k]| -((100 * i + 10 * j + k) as f64));
        let y0: Tensor<Rank3<4, 3, 4>, f64> = a.concat(Axis::<0>, &b);
        assert_eq!(
            y0,
            Tensor::from_fn(|[i, j, k]| if i < 2 {
                a[[i, j, k]]
            } else {
                b[[i - 2, j, k]]
            })
        );
        let y1: Tensor<Rank3<2, 6, 4>, f64> = a.concat(Axis::<1>, &b);
        assert_eq!(
            y1,
            Tensor::from_fn(|[i, j, k]| if j < 3 {
                a[[i, j, k]]
            } else {
                b[[i, j - 3, k]]
            })
        );
        let c: Tensor<Rank3<2, 3, 1>, f64> = Tensor::full(9.0);
        let y2: Tensor<Rank3<2, 3, 5>, f64> = a.concat(Axis::<2>, &c);
        assert_eq!(
            y2,
            Tensor::from_fn(|[i, j, k]| if k < 4 { a[[i, j, k]] } else { 9.0 })
        );
    }

    #[test]
    fn gradient_literal() {
        // f = sum(concat(a, b, axis 1) * w) with w = [[1, 2, 3], [4, 5, 6]]: df/da = w[:, :2],
        // df/db = w[:, 2:].
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let b = Tensor::from([[5.0], [6.0]]);
        let w = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let y: Tensor<Rank2<2, 3>, f64, Tape<f64>> = at.concat(Axis::<1>, &bt);
        let g = (y * &w).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[1.0, 2.0], [4.0, 5.0]]);
        assert_eq!(g.get(&bt).to_array(), [[3.0], [6.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank3<2, 3, 2>, f64> = random(1);
        let b: Tensor<Rank3<2, 1, 2>, f64> = random(2);
        let w: Tensor<Rank3<2, 4, 2>, f64> = random(3);
        let cat = |a: &Tensor<Rank3<2, 3, 2>, f64, Tape<f64>>,
                   b: &Tensor<Rank3<2, 1, 2>, f64, Tape<f64>>| {
            let y: Tensor<Rank3<2, 4, 2>, f64, Tape<f64>> = a.concat(Axis::<1>, b);
            y
        };
        gradcheck(|(a, b)| (cat(&a, &b) * &w).sum(), (&a, &b)).unwrap();
        // used twice: a tensor joined with itself, and with a function of itself
        let x: Tensor<Rank1<3>, f64> = random(4);
        let v: Tensor<Rank1<6>, f64> = random(5);
        gradcheck(
            |x| {
                let y: Tensor<Rank1<6>, f64, Tape<f64>> = x.concat(Axis::<0>, &x);
                let z: Tensor<Rank1<6>, f64, Tape<f64>> = x.concat(Axis::<0>, &x.exp());
                (y * &v).sum() + z.powi(2).sum()
            },
            &x,
        )
        .unwrap();
    }

    #[test]
    fn an_operand_off_the_tape_is_a_constant() {
        // Data first, the watched tensor second: the result is on the tape, and only the watched
        // operand has a gradient.
        let data = Tensor::from([[1.0, 2.0]]);
        let w = Tensor::from([[3.0]]);
        let tape = Tape::new();
        let wt = tape.watch(&w);
        let y: Tensor<Rank2<1, 3>, f64, Tape<f64>> = data.concat(Axis::<1>, &wt);
        assert_eq!(y.to_array(), [[1.0, 2.0, 3.0]]);
        let g = y.powi(2).sum().backward();
        assert_eq!(g.get(&wt).to_array(), [[6.0]]);
    }

    #[test]
    fn empty_operands() {
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let e: Tensor<Rank2<2, 0>, f64> = Tensor::zeros();
        let tape = Tape::new();
        let (at, et) = (tape.watch(&a), tape.watch(&e));
        let y: Tensor<Rank2<2, 2>, f64, Tape<f64>> = et.concat(Axis::<1>, &at);
        assert_eq!(y.to_array(), a.to_array());
        let g = (y * 3.0).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[3.0; 2]; 2]);
        assert_eq!(g.get(&et).numel(), 0);
        let none: Tensor<Rank2<0, 2>, f64> = Tensor::zeros();
        let z: Tensor<Rank2<0, 4>, f64> = none.concat(Axis::<1>, &none);
        assert_eq!(z.numel(), 0);
    }

    #[test]
    fn run_time_axes_are_computed() {
        let a = Tensor::from_vec_with((2_usize, Const::<2>), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let b = Tensor::from([[5.0, 6.0]]);
        let y = a.concat(Axis::<0>, &b);
        let _: &Tensor<(usize, Const<2>), f64> = &y;
        assert_eq!(y.shape(), [3, 2]);
        assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let z = b.concat(Axis::<0>, &a);
        assert_eq!(z.to_vec(), vec![5.0, 6.0, 1.0, 2.0, 3.0, 4.0]);
        // Static on the axis, run-time elsewhere: the caller writes the static size.
        let c = Tensor::from_vec_with((2_usize, Const::<1>), vec![7.0, 8.0]).unwrap();
        let w: Tensor<(usize, Const<3>), f64> = a.concat(Axis::<1>, &c);
        assert_eq!(w.to_vec(), vec![1.0, 2.0, 7.0, 3.0, 4.0, 8.0]);
        let v = Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, -2.0, 0.5, 3.0, 1.5, -1.0])
            .unwrap();
        gradcheck(|(a, b)| (a.concat(Axis::<0>, &b) * &v).sum(), (&a, &b)).unwrap();
    }

    #[test]
    #[should_panic(
        expected = "concat along axis 1: the shapes differ on another axis: [2, 2] and [3, 1]"
    )]
    fn run_time_other_axes_that_differ_panic() {
        let a: Tensor<(usize, Const<2>)> = Tensor::zeros_with((2, Const));
        let b: Tensor<(usize, Const<1>)> = Tensor::zeros_with((3, Const));
        let _: Tensor<(usize, Const<3>)> = a.concat(Axis::<1>, &b);
    }
}
