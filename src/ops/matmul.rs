//! `matmul`: the matrix product with numpy's rules for vectors and batches.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::gemm::{Mat, MatMut, gemm, gemm_grad};
use crate::ops::Merged;
use crate::shape::check_same;
use crate::tape::internal::Record;
use crate::{
    Dim, Element, Merge, Rank0, Rank1, Rank2, Rank3, Rank4, SameDim, Shape, Tensor, Tracking,
    TupleShape,
};

/// The shape rule of [`Tensor::matmul`]: `Self` (the left operand's shape) can be multiplied by `Rhs`,
/// giving `Output`.
///
/// | left | right | output |
/// |---|---|---|
/// | `[M, K]` | `[K, N]` | `[M, N]` |
/// | `[K]` | `[K, N]` | `[N]` |
/// | `[M, K]` | `[K]` | `[M]` |
/// | `[K]` | `[K]` | `[]` |
/// | `[B, M, K]` | `[B, K, N]` | `[B, M, N]` |
/// | `[B, M, K]` | `[K, N]` or `[K]` | `[B, M, N]` or `[B, M]` |
/// | `[M, K]` or `[K]` | `[B, K, N]` | `[B, M, N]` or `[B, N]` |
/// | `[B, C, M, K]` | `[B, C, K, N]` | `[B, C, M, N]` |
/// | `[B, C, M, K]` | `[K, N]` or `[K]` | `[B, C, M, N]` or `[B, C, M]` |
/// | `[M, K]` or `[K]` | `[B, C, K, N]` | `[B, C, M, N]` or `[B, C, N]` |
///
/// A shape pair not in the table (inner dimensions that differ, batch axes that differ) has no
/// implementation, so the call does not compile. Any dimension may be run-time (a tuple shape such as
/// `(usize, Const<784>)`); a rule between a run-time dimension and another is checked when the op
/// runs, and the result is a tuple.
///
/// ```
/// use shaped::{Const, MatMulShape, Rank2, Rank3, Shape};
/// type Out = <Rank3<4, 2, 3> as MatMulShape<Rank2<3, 5>>>::Output;
/// assert_eq!(Out::default().dims(), [4, 2, 5]);
/// let out: (usize, Const<5>) = (7_usize, Const::<3>).matmul_shape(&Rank2::<3, 5>).0;
/// assert_eq!(out.dims(), [7, 5]);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: cannot matmul `{Self}` by `{Rhs}`",
    label = "the inner dimensions or the batch axes of these shapes differ",
    note = "matmul contracts the last axis of the left operand with the second-to-last axis of the \
            right one (the only axis of a vector): `[.., M, K] x [.., K, N] -> [.., M, N]`",
    note = "batch axes (all but the last two) must be equal, or absent from one operand"
)]
pub trait MatMulShape<Rhs: Shape>: Shape {
    /// The shape of the product.
    type Output: Shape;
    /// The product's shape and the sizes of its matrix products.
    ///
    /// # Panics
    /// When a run-time dimension does not match the one it must equal (the inner dimensions, the
    /// batch axes); the message names both sizes.
    #[doc(hidden)]
    fn matmul_shape(&self, rhs: &Rhs) -> (Self::Output, Plan);
}

/// [`MatMulShape`] between shapes written as tuples of dimensions, where any dimension may be known
/// only at run time. Its implementations mirror the table of [`MatMulShape`].
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "shape mismatch: cannot matmul `{Self}` by `{Rhs}`",
    label = "the inner dimensions or the batch axes of these shapes differ",
    note = "matmul contracts the last axis of the left operand with the second-to-last axis of the \
            right one (the only axis of a vector): `[.., M, K] x [.., K, N] -> [.., M, N]`; a static \
            operand is shown as a tuple of `Const`s",
    note = "batch axes (all but the last two) must be equal, or absent from one operand"
)]
pub trait TupleMatMul<Rhs: Shape>: Shape {
    /// The shape of the product.
    type Output: Shape;
    /// The product's shape and the sizes of its matrix products, with the run-time checks.
    fn tuple_matmul(&self, rhs: &Rhs) -> (Self::Output, Plan);
}

macro_rules! matmul_shapes {
    ($( <$($p:ident),*> $lhs:ty, $rhs:ty => $out:ty;
        batch [$($b:ident),*], m $m:tt, n $n:tt, $lb:literal, $rb:literal; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $p: usize),*> MatMulShape<$rhs> for $lhs {
            type Output = $out;
            #[inline]
            fn matmul_shape(&self, _: &$rhs) -> (Self::Output, Plan) {
                let plan = Plan {
                    batch: 1 $(* $b)*,
                    m: $m,
                    k: K,
                    n: $n,
                    lhs_batched: $lb,
                    rhs_batched: $rb,
                };
                (Default::default(), plan)
            }
        }
    )*};
}

matmul_shapes! {
    <K> Rank1<K>, Rank1<K> => Rank0; batch [], m 1, n 1, false, false;
    <K, N> Rank1<K>, Rank2<K, N> => Rank1<N>; batch [], m 1, n N, false, false;
    <M, K> Rank2<M, K>, Rank1<K> => Rank1<M>; batch [], m M, n 1, false, false;
    <M, K, N> Rank2<M, K>, Rank2<K, N> => Rank2<M, N>; batch [], m M, n N, false, false;

    <B, M, K, N> Rank3<B, M, K>, Rank3<B, K, N> => Rank3<B, M, N>; batch [B], m M, n N, true, true;
    <B, M, K, N> Rank3<B, M, K>, Rank2<K, N> => Rank3<B, M, N>; batch [B], m M, n N, true, false;
    <B, M, K> Rank3<B, M, K>, Rank1<K> => Rank2<B, M>; batch [B], m M, n 1, true, false;
    <B, M, K, N> Rank2<M, K>, Rank3<B, K, N> => Rank3<B, M, N>; batch [B], m M, n N, false, true;
    <B, K, N> Rank1<K>, Rank3<B, K, N> => Rank2<B, N>; batch [B], m 1, n N, false, true;

    <B, C, M, K, N> Rank4<B, C, M, K>, Rank4<B, C, K, N> => Rank4<B, C, M, N>;
        batch [B, C], m M, n N, true, true;
    <B, C, M, K, N> Rank4<B, C, M, K>, Rank2<K, N> => Rank4<B, C, M, N>;
        batch [B, C], m M, n N, true, false;
    <B, C, M, K> Rank4<B, C, M, K>, Rank1<K> => Rank3<B, C, M>; batch [B, C], m M, n 1, true, false;
    <B, C, M, K, N> Rank2<M, K>, Rank4<B, C, K, N> => Rank4<B, C, M, N>;
        batch [B, C], m M, n N, false, true;
    <B, C, K, N> Rank1<K>, Rank4<B, C, K, N> => Rank3<B, C, N>; batch [B, C], m 1, n N, false, true;
}

/// The same table for tuples: `$l` and `$r` bind the operands' dimensions by name, and the output
/// takes the left operand's batch dimensions (checked equal to the right's at run time).
macro_rules! tuple_matmul_shapes {
    ($( <$($p:ident),*> ($($l:ident),*), ($($r:ident),*) => ($($o:ident),*);
        batch [$($b:ident = $b2:ident),*], m $m:tt, k $k:ident = $k2:ident, n $n:tt, $lb:literal, $rb:literal; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$($p: Dim),*> TupleMatMul<($($r,)*)> for ($($l,)*)
        where
            $k: SameDim<$k2>,
            $($b: SameDim<$b2>,)*
        {
            type Output = tuple_matmul_shapes!(@out $($o),*);
            #[inline]
            #[allow(non_snake_case)]
            fn tuple_matmul(&self, rhs: &($($r,)*)) -> (Self::Output, Plan) {
                let ($($l,)*) = *self;
                let ($($r,)*) = *rhs;
                check_same("matmul", "the inner dimensions", $k.size(), $k2.size());
                $(check_same("matmul", "the batch dimensions", $b.size(), $b2.size());)*
                let plan = Plan {
                    batch: 1 $(* $b.size())*,
                    m: tuple_matmul_shapes!(@size $m),
                    k: $k.size(),
                    n: tuple_matmul_shapes!(@size $n),
                    lhs_batched: $lb,
                    rhs_batched: $rb,
                };
                (tuple_matmul_shapes!(@out_value $($o),*), plan)
            }
        }
    )*};
    (@out) => { Rank0 };
    (@out $($o:ident),+) => { ($($o,)+) };
    (@out_value) => { Rank0 };
    (@out_value $($o:ident),+) => { ($($o,)+) };
    (@size 1) => { 1 };
    (@size $d:ident) => { $d.size() };
}

tuple_matmul_shapes! {
    <K, K2> (K), (K2) => (); batch [], m 1, k K = K2, n 1, false, false;
    <K, K2, N> (K), (K2, N) => (N); batch [], m 1, k K = K2, n N, false, false;
    <M, K, K2> (M, K), (K2) => (M); batch [], m M, k K = K2, n 1, false, false;
    <M, K, K2, N> (M, K), (K2, N) => (M, N); batch [], m M, k K = K2, n N, false, false;

    <B, B2, M, K, K2, N> (B, M, K), (B2, K2, N) => (B, M, N);
        batch [B = B2], m M, k K = K2, n N, true, true;
    <B, M, K, K2, N> (B, M, K), (K2, N) => (B, M, N); batch [], m M, k K = K2, n N, true, false;
    <B, M, K, K2> (B, M, K), (K2) => (B, M); batch [], m M, k K = K2, n 1, true, false;
    <B, M, K, K2, N> (M, K), (B, K2, N) => (B, M, N); batch [], m M, k K = K2, n N, false, true;
    <B, K, K2, N> (K), (B, K2, N) => (B, N); batch [], m 1, k K = K2, n N, false, true;

    <B, B2, C, C2, M, K, K2, N> (B, C, M, K), (B2, C2, K2, N) => (B, C, M, N);
        batch [B = B2, C = C2], m M, k K = K2, n N, true, true;
    <B, C, M, K, K2, N> (B, C, M, K), (K2, N) => (B, C, M, N);
        batch [], m M, k K = K2, n N, true, false;
    <B, C, M, K, K2> (B, C, M, K), (K2) => (B, C, M); batch [], m M, k K = K2, n 1, true, false;
    <B, C, M, K, K2, N> (M, K), (B, C, K2, N) => (B, C, M, N);
        batch [], m M, k K = K2, n N, false, true;
    <B, C, K, K2, N> (K), (B, C, K2, N) => (B, C, N); batch [], m 1, k K = K2, n N, false, true;
}

#[diagnostic::do_not_recommend]
impl<L: TupleShape, R: Shape> MatMulShape<R> for L
where
    L: TupleMatMul<R::Tuple>,
{
    type Output = <L as TupleMatMul<R::Tuple>>::Output;
    #[inline]
    fn matmul_shape(&self, rhs: &R) -> (Self::Output, Plan) {
        self.tuple_matmul(&rhs.to_tuple())
    }
}

/// A static left operand with a tuple on the right: the static one is seen as a tuple of `Const`s.
macro_rules! static_left_matmul {
    ($( $rank:ident [$($d:ident),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize,)* R: TupleShape> MatMulShape<R> for $rank<$($d),*>
        where
            <$rank<$($d),*> as Shape>::Tuple: TupleMatMul<R>,
        {
            type Output = <<$rank<$($d),*> as Shape>::Tuple as TupleMatMul<R>>::Output;
            #[inline]
            fn matmul_shape(&self, rhs: &R) -> (Self::Output, Plan) {
                self.to_tuple().tuple_matmul(rhs)
            }
        }
    )*};
}

static_left_matmul! {
    Rank1 [A];
    Rank2 [A, B];
    Rank3 [A, B, C];
    Rank4 [A, B, C, D];
}

/// A batch of matrix products in run-time numbers: `batch` products `[m, k] x [k, n]`; an operand that
/// is not batched is shared by all of them.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    batch: usize,
    m: usize,
    k: usize,
    n: usize,
    lhs_batched: bool,
    rhs_batched: bool,
}

impl Plan {
    /// The elements between consecutive left matrices (0 when shared).
    fn a_step(self) -> usize {
        if self.lhs_batched { self.m * self.k } else { 0 }
    }

    /// The elements between consecutive right matrices (0 when shared).
    fn b_step(self) -> usize {
        if self.rhs_batched { self.k * self.n } else { 0 }
    }

    /// `c = a b` for every product of the batch.
    fn forward<E: Element>(self, a: &[E], b: &[E], c: &mut [E]) {
        let Self { batch, m, k, n, .. } = self;
        if !self.rhs_batched {
            // One right matrix: the left matrices stacked are one `[batch * m, k]` matrix.
            let rows = if self.lhs_batched { batch * m } else { m };
            gemm(
                E::one(),
                Mat::new(a, rows, k),
                Mat::new(b, k, n),
                E::zero(),
                MatMut::new(c, rows, n),
            );
            return;
        }
        let (sa, sb) = (self.a_step(), self.b_step());
        for i in 0..batch {
            gemm(
                E::one(),
                Mat::new(&a[i * sa..], m, k),
                Mat::new(&b[i * sb..], k, n),
                E::zero(),
                MatMut::new(&mut c[i * m * n..], m, n),
            );
        }
    }

    /// `da += dy b^T` for every product (summed over the batch when `a` is shared). `fresh`: `da`
    /// holds zeros and may be overwritten.
    fn grad_lhs<E: Element>(self, dy: &[E], b: &[E], da: &mut [E], fresh: bool) {
        let Self { batch, m, k, n, .. } = self;
        if !self.rhs_batched {
            let rows = if self.lhs_batched { batch * m } else { m };
            gemm_grad(
                Mat::new(dy, rows, n),
                Mat::new(b, k, n).t(),
                MatMut::new(da, rows, k),
                fresh,
            );
            return;
        }
        if batch == 0 && fresh {
            // No product to sum: a shared left operand's fresh buffer must still be all zeros.
            da.fill(E::zero());
            return;
        }
        let (sa, sb) = (self.a_step(), self.b_step());
        for i in 0..batch {
            // A shared left operand sums the products: only the first one may overwrite.
            gemm_grad(
                Mat::new(&dy[i * m * n..], m, n),
                Mat::new(&b[i * sb..], k, n).t(),
                MatMut::new(&mut da[i * sa..], m, k),
                fresh && (self.lhs_batched || i == 0),
            );
        }
    }

    /// `db += a^T dy` for every product (summed over the batch when `b` is shared).
    fn grad_rhs<E: Element>(self, a: &[E], dy: &[E], db: &mut [E], fresh: bool) {
        let Self { batch, m, k, n, .. } = self;
        if !self.rhs_batched {
            // `[k, batch * m] x [batch * m, n]`: the sum over the batch is part of the product.
            let rows = if self.lhs_batched { batch * m } else { m };
            gemm_grad(
                Mat::new(a, rows, k).t(),
                Mat::new(dy, rows, n),
                MatMut::new(db, k, n),
                fresh,
            );
            return;
        }
        let (sa, sb) = (self.a_step(), self.b_step());
        for i in 0..batch {
            gemm_grad(
                Mat::new(&a[i * sa..], m, k).t(),
                Mat::new(&dy[i * m * n..], m, n),
                MatMut::new(&mut db[i * sb..], k, n),
                fresh,
            );
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The matrix product, with numpy's rules for vectors and batches: `C[.., i, j] = sum_k
    /// A[.., i, k] B[.., k, j]`.
    ///
    /// Derivatives, for `C = A B` and the gradient `G` of `C`: `dA = G B^T`, `dB = A^T G`. An operand
    /// shared by a batch (a `[K, N]` right operand of a `[B, M, K]` left one, say) gets the sum of its
    /// gradients over the batch, and every gradient has its operand's shape.
    ///
    /// numpy: `np.matmul(a, b)` (`a @ b`); `torch.matmul`. The accepted shapes are listed
    /// at [`MatMulShape`]:
    /// - `[M, K] x [K, N] -> [M, N]`;
    /// - a vector on the left is a row, on the right a column, and that axis is dropped from the
    ///   result: `[K] x [K, N] -> [N]`, `[M, K] x [K] -> [M]`, `[K] x [K] -> []` (a dot product, never
    ///   an outer product);
    /// - batch axes (up to two) in front: equal on both sides, or present on one side only, in which
    ///   case the other operand is shared by every product of the batch.
    ///
    /// Anything else (inner dimensions that differ, batch axes that differ) does not compile, and
    /// the error's first line names both shapes. `*` is the elementwise product, not this one; for
    /// `np.inner` (the last axis of both operands) see [`inner`](Tensor::inner).
    ///
    /// # Panics
    /// With run-time dimensions (tuple shapes such as `(usize, Const<784>)`), when the inner
    /// dimensions or the batch axes differ at run time; the message names both sizes
    /// (`matmul: the inner dimensions differ: 3 and 4`). Between static dimensions the same rule is a
    /// compile error.
    ///
    /// Edge values, IEEE as in PyTorch: a NaN or infinity in an operand spreads to every result it is
    /// summed into, even through a zero of the other operand (`NaN * 0` is NaN). Zero-sized
    /// dimensions are allowed: `K = 0` gives zeros; `M = 0`, `N = 0` or an empty batch give an empty
    /// result, and then the other operand's gradient is zeros (also an operand shared by an empty
    /// batch).
    ///
    /// ```
    /// use shaped::{Rank2, Rank3, Tape, Tensor};
    ///
    /// let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    /// assert_eq!(a.matmul(&b).to_array(), [[19.0, 22.0], [43.0, 50.0]]);
    ///
    /// // vector forms
    /// let v = Tensor::from([1.0, 1.0]);
    /// assert_eq!(v.matmul(&b).to_array(), [12.0, 14.0]); // row times matrix
    /// assert_eq!(a.matmul(&v).to_array(), [3.0, 7.0]); // matrix times column
    /// assert_eq!(v.matmul(&v).item(), 2.0); // dot product
    ///
    /// // a batch of 3 against one shared matrix; its gradient is summed over the batch
    /// let x: Tensor<Rank3<3, 1, 2>, f64> = Tensor::ones();
    /// let tape = Tape::new();
    /// let bt = tape.watch(&b); // the parameter is watched; the data `x` is a constant
    /// let y = x.matmul(&bt); // [3, 1, 2] x [2, 2] -> [3, 1, 2]
    /// assert_eq!(y.shape(), [3, 1, 2]);
    /// let grads = y.sum().backward();
    /// assert_eq!(grads.get(&bt).to_array(), [[3.0, 3.0], [3.0, 3.0]]);
    /// ```
    ///
    /// ```compile_fail,E0277
    /// use shaped::{Rank2, Tensor};
    /// let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    /// let b: Tensor<Rank2<4, 5>> = Tensor::zeros();
    /// let _ = a.matmul(&b); // shape mismatch: cannot matmul `Rank2<2, 3>` by `Rank2<4, 5>`
    /// ```
    #[must_use]
    pub fn matmul<R: Shape, T2>(
        &self,
        rhs: &Tensor<R, E, T2>,
    ) -> Tensor<<S as MatMulShape<R>>::Output, E, Merged<E, T, T2>>
    where
        S: MatMulShape<R>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
        let (out_shape, plan) = self.typed_shape().matmul_shape(&rhs.typed_shape());
        let (a, b) = (self.data(), rhs.data());
        let out_numel = plan.batch * plan.m * plan.n;
        let mut c = Buffer::uninit(out_numel);
        plan.forward(a, b, &mut c);

        let tape = self.tape().merge(rhs.tape());
        let tape = tape.record([self.input(), rhs.input()], out_numel, |[na, nb]| {
            // Each gradient needs only the other operand.
            let b = na.map(|_| Arc::clone(b));
            let a = nb.map(|_| Arc::clone(a));
            Box::new(move |dy, grads| {
                if let (Some(na), Some(b)) = (na, &b) {
                    let (da, fresh) = grads.acc_fresh(na);
                    plan.grad_lhs(dy, b, da, fresh);
                }
                if let (Some(nb), Some(a)) = (nb, &a) {
                    let (db, fresh) = grads.acc_fresh(nb);
                    plan.grad_rhs(a, dy, db, fresh);
                }
            })
        });
        Tensor::from_parts(Arc::new(c), out_shape, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank0, Rank1, Rank2, Rank3, Rank4, StaticShape, Tape, Tensor, gradcheck};

    use super::MatMulShape;

    #[test]
    fn the_minima_example() {
        // matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]) = [[19, 22], [43, 50]]
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
        assert_eq!(a.matmul(&b).to_array(), [[19.0, 22.0], [43.0, 50.0]]);
        let a32 = Tensor::from([[1.0_f32, 2.0], [3.0, 4.0]]);
        let b32 = Tensor::from([[5.0_f32, 6.0], [7.0, 8.0]]);
        assert_eq!(a32.matmul(&b32).to_array(), [[19.0, 22.0], [43.0, 50.0]]);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(A B) = sum_ij sum_k A_ik B_kj. df/dA_ik = sum_j B_kj (row sums of B, repeated on
        // every row of A); df/dB_kj = sum_i A_ik (column sums of A, repeated on every column of B).
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let b = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = at.matmul(&bt).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[11.0, 15.0], [11.0, 15.0]]);
        assert_eq!(g.get(&bt).to_array(), [[4.0, 4.0], [6.0, 6.0]]);
    }

    #[test]
    fn vector_forms_and_shapes() {
        let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let u = Tensor::from([1.0, -1.0]);
        let v = Tensor::from([1.0, 0.0, 2.0]);
        let r: Tensor<Rank1<3>, f64> = u.matmul(&m);
        assert_eq!(r.to_array(), [-3.0, -3.0, -3.0]);
        let c: Tensor<Rank1<2>, f64> = m.matmul(&v);
        assert_eq!(c.to_array(), [7.0, 16.0]);
        // A vector times a vector is the dot product, a scalar.
        let d: Tensor<Rank0, f64> = v.matmul(&v);
        assert_eq!(d.item(), 5.0);
    }

    #[test]
    fn batched_forms_match_the_per_matrix_products() {
        let a: Tensor<Rank3<3, 2, 4>, f64> = random(1);
        let b: Tensor<Rank3<3, 4, 5>, f64> = random(2);
        let w: Tensor<Rank2<4, 5>, f64> = random(3);
        let l: Tensor<Rank2<2, 4>, f64> = random(4);
        let slice_a = |i: usize| Tensor::<Rank2<2, 4>, f64>::from_fn(|[r, c]| a[[i, r, c]]);
        let slice_b = |i: usize| Tensor::<Rank2<4, 5>, f64>::from_fn(|[r, c]| b[[i, r, c]]);
        let ab = a.matmul(&b);
        let aw = a.matmul(&w);
        let lb = l.matmul(&b);
        for i in 0..3 {
            let want = slice_a(i).matmul(&slice_b(i));
            let got = Tensor::<Rank2<2, 5>, f64>::from_fn(|[r, c]| ab[[i, r, c]]);
            approx::assert_relative_eq!(got, want, epsilon = 1e-12);
            let want = slice_a(i).matmul(&w);
            let got = Tensor::<Rank2<2, 5>, f64>::from_fn(|[r, c]| aw[[i, r, c]]);
            approx::assert_relative_eq!(got, want, epsilon = 1e-12);
            let want = l.matmul(&slice_b(i));
            let got = Tensor::<Rank2<2, 5>, f64>::from_fn(|[r, c]| lb[[i, r, c]]);
            approx::assert_relative_eq!(got, want, epsilon = 1e-12);
        }
        // Two batch axes are one batch of 6.
        let a4 = a.reshape::<Rank4<1, 3, 2, 4>>();
        let b4 = b.reshape::<Rank4<1, 3, 4, 5>>();
        assert_eq!(a4.matmul(&b4).as_slice(), ab.as_slice());
        assert_eq!(a4.matmul(&w).as_slice(), aw.as_slice());
        assert_eq!(l.matmul(&b4).as_slice(), lb.as_slice());
    }

    #[test]
    fn the_shared_operand_gradient_is_summed_over_the_batch() {
        // ERRATA: for A (m, n) used against a batch, dL/dA = sum over the batch of G[b] B[b]^T.
        // f = sum(A B[b]) over b, so dA_ik = sum_b sum_j B[b]_kj.
        let a = Tensor::from([[1.0, 2.0]]);
        let b = Tensor::from([[[1.0], [2.0]], [[3.0], [4.0]], [[5.0], [6.0]]]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = at.matmul(&b).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[1.0 + 3.0 + 5.0, 2.0 + 4.0 + 6.0]]);
    }

    /// Checks d/da and d/db of `sum(matmul(a, b) * w)` for random a, b, w of the given shapes.
    fn check<A, B>(seed: u64)
    where
        A: MatMulShape<B> + StaticShape,
        B: StaticShape,
        A::Output: StaticShape,
    {
        let a: Tensor<A, f64> = random(seed);
        let b: Tensor<B, f64> = random(seed + 1);
        let w: Tensor<A::Output, f64> = random(seed + 2);
        gradcheck(|a| (a.matmul(&b) * &w).sum(), &a).unwrap();
        gradcheck(|b| (a.matmul(&b) * &w).sum(), &b).unwrap();
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_form() {
        check::<Rank1<3>, Rank1<3>>(10);
        check::<Rank1<3>, Rank2<3, 4>>(20);
        check::<Rank2<2, 3>, Rank1<3>>(30);
        check::<Rank2<2, 3>, Rank2<3, 4>>(40);
        check::<Rank3<2, 2, 3>, Rank3<2, 3, 4>>(50);
        check::<Rank3<2, 2, 3>, Rank2<3, 4>>(60);
        check::<Rank3<2, 2, 3>, Rank1<3>>(70);
        check::<Rank2<2, 3>, Rank3<2, 3, 4>>(80);
        check::<Rank1<3>, Rank3<2, 3, 4>>(90);
        check::<Rank4<2, 3, 2, 3>, Rank4<2, 3, 3, 2>>(100);
        check::<Rank4<2, 1, 2, 3>, Rank2<3, 4>>(110);
        check::<Rank4<1, 2, 2, 3>, Rank1<3>>(120);
        check::<Rank2<2, 3>, Rank4<2, 2, 3, 1>>(130);
        check::<Rank1<3>, Rank4<2, 1, 3, 2>>(140);
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(A A): df/dA = G A^T + A^T G with G = ones. A = [[1, 2], [3, 4]]:
        // ones A^T = [[3, 7], [3, 7]], A^T ones = [[4, 4], [6, 6]], sum [[7, 11], [9, 13]].
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = at.matmul(&at).sum().backward();
        assert_eq!(g.get(&at).to_array(), [[7.0, 11.0], [9.0, 13.0]]);
        // The same through two watches of one tensor (one leaf), and against finite differences.
        let x: Tensor<Rank2<3, 3>, f64> = random(200);
        let w: Tensor<Rank2<3, 3>, f64> = random(201);
        gradcheck(|x| (x.matmul(&x) * &w).sum(), &x).unwrap();
        let tape = Tape::new();
        let (x1, x2) = (tape.watch(&x), tape.watch(&x));
        let g1 = (x1.matmul(&x2) * &w).sum().backward().get(&x1);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g2 = (xt.matmul(&xt) * &w).sum().backward().get(&xt);
        approx::assert_relative_eq!(g1, g2, epsilon = 1e-12);
        // A shared operand used twice in a batch: sum(A B[b] A) accumulates into one gradient.
        let a: Tensor<Rank2<2, 2>, f64> = random(202);
        let b: Tensor<Rank3<3, 2, 2>, f64> = random(203);
        gradcheck(|a| a.matmul(&b).matmul(&a).sum(), &a).unwrap();
    }

    #[test]
    fn ieee_values_spread_and_empty_contractions_give_zeros() {
        let a = Tensor::from([[1.0, f64::NAN], [1.0, 1.0]]);
        let b = Tensor::from([[1.0, 2.0], [3.0, f64::INFINITY]]);
        let c = a.matmul(&b);
        assert!(c[[0, 0]].is_nan() && c[[0, 1]].is_nan());
        assert_eq!(c[[1, 0]], 4.0);
        assert_eq!(c[[1, 1]], f64::INFINITY);
        let e: Tensor<Rank2<2, 0>, f64> = Tensor::zeros();
        let f: Tensor<Rank2<0, 3>, f64> = Tensor::zeros();
        assert_eq!(e.matmul(&f).to_array(), [[0.0; 3]; 2]);
        let z: Tensor<Rank3<0, 2, 2>, f64> = Tensor::zeros();
        assert_eq!(z.matmul(&b).numel(), 0);
    }
}
