//! `inner`: numpy's `np.inner`, the sum of products over the last axis of both operands.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::gemm::{Mat, MatMut, gemm, gemm_grad};
use crate::ops::Merged;
use crate::shape::check_same;
use crate::tape::internal::Record;
use crate::{
    Dim, Element, Merge, NonScalar, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, SameDim,
    Shape, Tensor, Tracking, TupleShape,
};

/// The shape rule of [`Tensor::inner`]: both shapes end in the same dimension `K`, and the result is
/// `Self[:-1] ++ Rhs[:-1]`.
///
/// Implemented for every pair of ranks from 1 to 4 (results up to rank 6). Unlike
/// [`MatMulShape`](crate::MatMulShape), the right operand's *last* axis is the contracted one: `[3, 4]`
/// with `[5, 4]` is `[3, 5]`, and `[3, 4]` with `[4, 5]` has no implementation.
///
/// Any dimension may be run-time (a tuple shape such as `(usize, Const<4>)`): the last dimensions are
/// then checked equal when the op runs, and the result is a tuple.
///
/// ```
/// use shaped::{Const, InnerShape, Rank2, Rank3, Shape, StaticShape};
/// type Out = <Rank3<2, 3, 4> as InnerShape<Rank2<5, 4>>>::Output;
/// assert_eq!(Out::DIMS, &[2, 3, 5]);
/// let (out, _) = (7_usize, Const::<4>).inner_shape(&Rank2::<5, 4>);
/// assert_eq!(out.dims(), [7, 5]);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: cannot take the inner product of `{Self}` and `{Rhs}`: their last dimensions differ",
    label = "`inner` contracts the last axis of both operands, so their last dimensions must be equal",
    note = "`a.inner(&b)` is numpy's `np.inner`: `[.., K]` with `[.., K]`; for a matrix product \
            (`[M, K] x [K, N]`) use `matmul`",
    note = "both operands have rank 1 to 4"
)]
pub trait InnerShape<Rhs: Shape>: Shape {
    /// `Self[:-1] ++ Rhs[:-1]`.
    type Output: Shape;
    /// The result's shape and `(M, K, N)`: the rows of `Self` seen as a `[M, K]` matrix (the product
    /// of its leading axes), the contracted dimension, and the rows of `Rhs` seen as `[N, K]`.
    ///
    /// # Panics
    /// When the last dimensions differ at run time; the message names both.
    #[doc(hidden)]
    #[track_caller]
    fn inner_shape(&self, rhs: &Rhs) -> (Self::Output, (usize, usize, usize));
}

/// Shapes written as tuples joined end to end (`Rank0` is the empty one), for the results of
/// [`InnerShape`] with run-time dimensions.
#[doc(hidden)]
pub trait Concat<Rhs: Shape>: Shape {
    /// `Self ++ Rhs`.
    type Output: Shape;
    /// `Self ++ Rhs`.
    fn concat(&self, rhs: &Rhs) -> Self::Output;
}

macro_rules! concat_tuples {
    ($( ($($a:ident $ai:tt),*) + ($($b:ident $bi:tt),*) ; )*) => {$(
        impl<$($a: Dim,)* $($b: Dim),*> Concat<concat_tuples!(@ty $($b),*)> for concat_tuples!(@ty $($a),*) {
            type Output = concat_tuples!(@ty $($a,)* $($b),*);
            #[inline]
            #[allow(unused_variables)]
            fn concat(&self, rhs: &concat_tuples!(@ty $($b),*)) -> Self::Output {
                concat_tuples!(@val $(self.$ai,)* $(rhs.$bi),*)
            }
        }
    )*};
    (@ty) => { Rank0 };
    (@ty $($t:ident),+ $(,)?) => { ($($t,)+) };
    (@val) => { Rank0 };
    (@val $($v:expr),+ $(,)?) => { ($($v,)+) };
}

concat_tuples! {
    () + ();
    () + (B0 0);
    () + (B0 0, B1 1);
    () + (B0 0, B1 1, B2 2);
    (A0 0) + ();
    (A0 0) + (B0 0);
    (A0 0) + (B0 0, B1 1);
    (A0 0) + (B0 0, B1 1, B2 2);
    (A0 0, A1 1) + ();
    (A0 0, A1 1) + (B0 0);
    (A0 0, A1 1) + (B0 0, B1 1);
    (A0 0, A1 1) + (B0 0, B1 1, B2 2);
    (A0 0, A1 1, A2 2) + ();
    (A0 0, A1 1, A2 2) + (B0 0);
    (A0 0, A1 1, A2 2) + (B0 0, B1 1);
    (A0 0, A1 1, A2 2) + (B0 0, B1 1, B2 2);
}

/// The shape type with the given dimensions (0 to 6 of them).
macro_rules! rank_of {
    () => { Rank0 };
    ($a:ident $(,)?) => { Rank1<$a> };
    ($a:ident, $b:ident $(,)?) => { Rank2<$a, $b> };
    ($a:ident, $b:ident, $c:ident $(,)?) => { Rank3<$a, $b, $c> };
    ($a:ident, $b:ident, $c:ident, $d:ident $(,)?) => { Rank4<$a, $b, $c, $d> };
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident $(,)?) => { Rank5<$a, $b, $c, $d, $e> };
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident $(,)?) => {
        Rank6<$a, $b, $c, $d, $e, $f>
    };
}

/// One `InnerShape` impl for every pair of the listed left and right shapes (given by their leading
/// dimensions; the last one is `K`).
macro_rules! inner_shapes {
    ([$($lhs:tt)*] x $rhs:tt) => {
        $( inner_shapes!(@row $lhs x $rhs); )*
    };
    (@row $lhs:tt x [$($rhs:tt)*]) => {
        $( inner_shapes!(@one $lhs x $rhs); )*
    };
    (@one ($l:ident; $($a:ident),*) x ($r:ident; $($b:ident),*)) => {
        #[diagnostic::do_not_recommend]
        impl<$(const $a: usize,)* $(const $b: usize,)* const K: usize> InnerShape<$r<$($b,)* K>>
            for $l<$($a,)* K>
        {
            type Output = rank_of!($($a,)* $($b),*);
            #[inline]
            fn inner_shape(&self, _: &$r<$($b,)* K>) -> (Self::Output, (usize, usize, usize)) {
                (Default::default(), (1 $(* $a)*, K, 1 $(* $b)*))
            }
        }
    };
}

inner_shapes! {
    [(Rank1;) (Rank2; A1) (Rank3; A1, A2) (Rank4; A1, A2, A3)]
    x [(Rank1;) (Rank2; B1) (Rank3; B1, B2) (Rank4; B1, B2, B3)]
}

/// The rule for tuples: the last dimensions must agree (at run time when either is `usize`); the
/// result joins the leading dimensions.
#[diagnostic::do_not_recommend]
impl<L, R> InnerShape<R> for L
where
    L: TupleShape + NonScalar,
    R: Shape,
    R::Tuple: NonScalar,
    L::Last: SameDim<<R::Tuple as NonScalar>::Last>,
    L::Init: Concat<<R::Tuple as NonScalar>::Init>,
{
    type Output = <L::Init as Concat<<R::Tuple as NonScalar>::Init>>::Output;
    #[inline]
    #[track_caller]
    fn inner_shape(&self, rhs: &R) -> (Self::Output, (usize, usize, usize)) {
        let (a, k) = self.split_last();
        let (b, k2) = rhs.to_tuple().split_last();
        check_same("inner", "the last dimensions", k.size(), k2.size());
        (a.concat(&b), (a.numel(), k.size(), b.numel()))
    }
}

/// A static left operand with a tuple on the right: the static one is seen as a tuple of `Const`s.
macro_rules! static_left_inner {
    ($( $rank:ident [$($d:ident),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize,)* R: TupleShape> InnerShape<R> for $rank<$($d),*>
        where
            <$rank<$($d),*> as Shape>::Tuple: InnerShape<R>,
        {
            type Output = <<$rank<$($d),*> as Shape>::Tuple as InnerShape<R>>::Output;
            #[inline]
            #[track_caller]
            fn inner_shape(&self, rhs: &R) -> (Self::Output, (usize, usize, usize)) {
                self.to_tuple().inner_shape(rhs)
            }
        }
    )*};
}

static_left_inner! {
    Rank1 [A];
    Rank2 [A, B];
    Rank3 [A, B, C];
    Rank4 [A, B, C, D];
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The inner product over the **last axis of both operands** (numpy's `np.inner`):
    /// `out[i.., j..] = sum_k a[i.., k] b[j.., k]`, with shape `a.shape[:-1] ++ b.shape[:-1]`.
    ///
    /// How it differs from [`matmul`](Tensor::matmul): `matmul` contracts the left operand's last axis
    /// with the right operand's *second-to-last*; `inner` contracts the last axis of *both*. For
    /// matrices, `a.inner(&b)` is `a.matmul(&b^T)`: `[M, K]` inner `[N, K]` is `[M, N]`, while
    /// `[3, 4]` inner `[4, 5]` does not compile (though it is a valid matmul). For two vectors both are
    /// the dot product. Leading axes are not batch axes: every row of `a` meets every row of `b`, so
    /// `[2, 3, K]` inner `[5, K]` is `[2, 3, 5]`.
    ///
    /// Derivatives, with `a` seen as `[M, K]`, `b` as `[N, K]` and the gradient `G` of the result as
    /// `[M, N]`: `da = G b`, `db = G^T a`.
    ///
    /// numpy: `np.inner(a, b)`.
    ///
    /// # Panics
    /// With run-time dimensions, when the last dimensions differ at run time; the message names both.
    ///
    /// Edge values, IEEE as in numpy and PyTorch: NaN and infinity spread to every result they are
    /// summed into. `K = 0` gives zeros; an operand with no rows gives an empty result, and then the
    /// other operand's gradient is zeros.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    ///
    /// let a = Tensor::from([1.0, 2.0, 3.0]);
    /// let b = Tensor::from([4.0, 5.0, 6.0]);
    /// assert_eq!(a.inner(&b).item(), 32.0);
    ///
    /// let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    /// assert_eq!(a.inner(&b).to_array(), [[17.0, 23.0], [39.0, 53.0]]); // rows of a . rows of b
    /// assert_eq!(a.matmul(&b).to_array(), [[19.0, 22.0], [43.0, 50.0]]); // not the same thing
    ///
    /// // d/da sum(inner(a, b)) = ones(2, 2) b: every row is the column sums of b.
    /// let tape = Tape::new();
    /// let at = tape.watch(&a);
    /// let grads = at.inner(&b).sum().backward();
    /// assert_eq!(grads.get(&at).to_array(), [[12.0, 14.0], [12.0, 14.0]]);
    /// ```
    ///
    /// ```compile_fail,E0277
    /// use shaped::{Rank2, Tensor};
    /// let a: Tensor<Rank2<3, 4>> = Tensor::zeros();
    /// let b: Tensor<Rank2<4, 5>> = Tensor::zeros();
    /// let _ = a.inner(&b); // the last dimensions, 4 and 5, differ
    /// ```
    #[must_use]
    #[track_caller]
    pub fn inner<R: Shape, T2>(
        &self,
        rhs: &Tensor<R, E, T2>,
    ) -> Tensor<<S as InnerShape<R>>::Output, E, Merged<E, T, T2>>
    where
        S: InnerShape<R>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
        let (out_shape, (m, k, n)) = self.typed_shape().inner_shape(&rhs.typed_shape());
        let (a, b) = (self.data(), rhs.data());
        let mut c = Buffer::uninit(m * n);
        // [M, K] x [K, N], the right operand transposed by its strides.
        gemm(
            E::one(),
            Mat::new(a, m, k),
            Mat::new(b, n, k).t(),
            E::zero(),
            MatMut::new(&mut c, m, n),
        );

        let tape = self.tape().merge(rhs.tape());
        let tape = tape.record([self.input(), rhs.input()], m * n, |[na, nb]| {
            let b = na.map(|_| Arc::clone(b));
            let a = nb.map(|_| Arc::clone(a));
            Box::new(move |dy, grads| {
                if let (Some(na), Some(b)) = (na, &b) {
                    // da = G b: [M, N] x [N, K]
                    let (da, fresh) = grads.acc_fresh(na);
                    gemm_grad(
                        Mat::new(dy, m, n),
                        Mat::new(b, n, k),
                        MatMut::new(da, m, k),
                        fresh,
                    );
                }
                if let (Some(nb), Some(a)) = (nb, &a) {
                    // db = G^T a: [N, M] x [M, K]
                    let (db, fresh) = grads.acc_fresh(nb);
                    gemm_grad(
                        Mat::new(dy, m, n).t(),
                        Mat::new(a, m, k),
                        MatMut::new(db, n, k),
                        fresh,
                    );
                }
            })
        });
        Tensor::from_parts(Arc::new(c), out_shape, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank2, Rank3, Rank4, StaticShape, Tape, Tensor, gradcheck};

    use super::InnerShape;

    // Worked examples with values computed by hand are in tests/it/contraction_examples.rs.

    #[test]
    fn gradient_literal() {
        // f = sum(inner(a, b) * w) = sum_ij w_ij sum_k a_ik b_jk.
        // df/da_ik = sum_j w_ij b_jk (w b), df/db_jk = sum_i w_ij a_ik (w^T a).
        // a = [[1, 2]], b = [[3, 4], [5, 6]], w = [[1, 10]]:
        // w b = [[1*3 + 10*5, 1*4 + 10*6]] = [[53, 64]]; w^T a = [[1, 2], [10, 20]].
        let a = Tensor::from([[1.0, 2.0]]);
        let b = Tensor::from([[3.0, 4.0], [5.0, 6.0]]);
        let w = Tensor::from([[1.0, 10.0]]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = (at.inner(&bt) * &w).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[53.0, 64.0]]);
        assert_eq!(g.get(&bt).to_array(), [[1.0, 2.0], [10.0, 20.0]]);
    }

    #[test]
    fn the_output_shape_is_both_leading_shapes() {
        let a: Tensor<Rank3<2, 3, 4>, f64> = random(1);
        let b: Tensor<Rank2<5, 4>, f64> = random(2);
        let c = a.inner(&b);
        assert_eq!(c.shape(), [2, 3, 5]);
        let dot =
            |i: usize, j: usize, l: usize| (0..4).map(|k| a[[i, j, k]] * b[[l, k]]).sum::<f64>();
        approx::assert_relative_eq!(c[[1, 2, 4]], dot(1, 2, 4), epsilon = 1e-12);
        approx::assert_relative_eq!(c[[0, 1, 3]], dot(0, 1, 3), epsilon = 1e-12);
        let big: Tensor<Rank4<2, 1, 3, 2>, f64> = random(3);
        let other: Tensor<Rank4<1, 2, 2, 2>, f64> = random(4);
        assert_eq!(big.inner(&other).shape(), [2, 1, 3, 1, 2, 2]);
    }

    /// Checks d/da and d/db of `sum(inner(a, b) * w)` for random a, b, w of the given shapes.
    fn check<A, B>(seed: u64)
    where
        A: InnerShape<B> + StaticShape,
        B: StaticShape,
        A::Output: StaticShape,
    {
        let a: Tensor<A, f64> = random(seed);
        let b: Tensor<B, f64> = random(seed + 1);
        let w: Tensor<A::Output, f64> = random(seed + 2);
        gradcheck(|a| (a.inner(&b) * &w).sum(), &a).unwrap();
        gradcheck(|b| (a.inner(&b) * &w).sum(), &b).unwrap();
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_pair_of_ranks() {
        check::<Rank1<3>, Rank1<3>>(10);
        check::<Rank1<3>, Rank2<2, 3>>(11);
        check::<Rank1<3>, Rank3<2, 1, 3>>(12);
        check::<Rank1<3>, Rank4<1, 2, 2, 3>>(13);
        check::<Rank2<2, 3>, Rank1<3>>(20);
        check::<Rank2<2, 3>, Rank2<4, 3>>(21);
        check::<Rank2<2, 3>, Rank3<2, 2, 3>>(22);
        check::<Rank2<2, 3>, Rank4<2, 1, 2, 3>>(23);
        check::<Rank3<2, 2, 3>, Rank1<3>>(30);
        check::<Rank3<2, 2, 3>, Rank2<2, 3>>(31);
        check::<Rank3<1, 2, 3>, Rank3<2, 2, 3>>(32);
        check::<Rank3<2, 1, 3>, Rank4<1, 2, 2, 3>>(33);
        check::<Rank4<2, 1, 2, 3>, Rank1<3>>(40);
        check::<Rank4<1, 2, 2, 3>, Rank2<2, 3>>(41);
        check::<Rank4<2, 1, 1, 3>, Rank3<2, 1, 3>>(42);
        check::<Rank4<1, 2, 1, 3>, Rank4<2, 1, 2, 3>>(43);
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(inner(a, a)) = sum_ij a_i . a_j = |sum_i a_i|^2, df/da_ik = 2 sum_j a_jk.
        // a = [[1, 2], [3, 4]]: column sums [4, 6], so df/da = [[8, 12], [8, 12]].
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = at.inner(&at).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[8.0, 12.0], [8.0, 12.0]]);
        let x: Tensor<Rank2<3, 4>, f64> = random(50);
        let w: Tensor<Rank2<3, 3>, f64> = random(51);
        gradcheck(|x| (x.inner(&x) * &w).sum(), &x).unwrap();
    }

    #[test]
    fn ieee_values_spread_and_f32_works() {
        let a = Tensor::from([[1.0_f32, f32::INFINITY], [1.0, 1.0]]);
        let b = Tensor::from([[1.0_f32, 1.0], [1.0, f32::NAN]]);
        let c = a.inner(&b);
        assert_eq!(c[[0, 0]], f32::INFINITY);
        assert!(c[[0, 1]].is_nan() && c[[1, 1]].is_nan());
        assert_eq!(c[[1, 0]], 2.0);
    }
}
