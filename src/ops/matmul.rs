//! `matmul`: the matrix product with numpy's rules for vectors and batches.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::const_msg::ConstMsg;

use crate::gemm::{Mat, MatMut, gemm, gemm_grad};
use crate::ops::Merged;
use crate::shape::check_same;
use crate::tape::internal::Record;
use crate::{
    BroadcastDim, Dim, Element, Merge, Rank0, Rank1, Rank2, Rank3, Rank4, SameDim, Shape,
    StaticShape, Tensor, Tracking, TupleShape,
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
/// | `[B, C, M, K]` | `[C, K, N]` | `[B, C, M, N]` |
/// | `[C, M, K]` | `[B, C, K, N]` | `[B, C, M, N]` |
///
/// A shape pair not in the table (inner dimensions that differ, batch axes that differ) has no
/// implementation, so the call does not compile. Any dimension may be run-time (a tuple shape such as
/// `(usize, Const<784>)`); a rule between a run-time dimension and another is checked when the op
/// runs, and the result is a tuple. A run-time batch axis of size 1 repeats to match the other
/// operand's, as in numpy; a static one repeats through [`Tensor::matmul_to`], where the caller
/// writes the output shape.
///
/// ```
/// use shaped::{Const, MatMulShape, Rank2, Rank3, Shape};
/// type Out = <Rank3<4, 2, 3> as MatMulShape<Rank2<3, 5>>>::Output;
/// assert_eq!(Out::default().dims(), [4, 2, 5]);
/// let out: (usize, Const<5>) = (7_usize, Const::<3>).matmul_shape(&Rank2::<3, 5>, "matmul").0;
/// assert_eq!(out.dims(), [7, 5]);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: cannot matmul `{Self}` by `{Rhs}`",
    label = "the inner dimensions or the batch axes of these shapes differ",
    note = "matmul contracts the last axis of the left operand with the second-to-last axis of the \
            right one (the only axis of a vector): `[.., M, K] x [.., K, N] -> [.., M, N]`",
    note = "batch axes (all but the last two) must be equal where they align, or absent from one \
            operand; a static batch axis of 1 repeats with `matmul_to`"
)]
pub trait MatMulShape<Rhs: Shape>: Shape {
    /// The shape of the product.
    type Output: Shape;
    /// The product's shape and the sizes of its matrix products; `op` is the name of the op the
    /// caller called, for the messages.
    ///
    /// # Panics
    /// When a run-time dimension does not match the one it must equal (the inner dimensions, the
    /// batch axes); the message names `op` and both sizes.
    #[doc(hidden)]
    #[track_caller]
    fn matmul_shape(&self, rhs: &Rhs, op: &str) -> (Self::Output, Plan);
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
    note = "batch axes (all but the last two) must be equal where they align, or absent from one \
            operand; a static batch axis of 1 repeats with `matmul_to`"
)]
pub trait TupleMatMul<Rhs: Shape>: Shape {
    /// The shape of the product.
    type Output: Shape;
    /// The product's shape and the sizes of its matrix products, with the run-time checks, whose
    /// messages name `op`.
    #[track_caller]
    fn tuple_matmul(&self, rhs: &Rhs, op: &str) -> (Self::Output, Plan);
}

macro_rules! matmul_shapes {
    ($( <$($p:ident),*> $lhs:ty, $rhs:ty => $out:ty;
        batch [$($b:ident),*], m $m:tt, n $n:tt, $lb:literal, $rb:literal; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $p: usize),*> MatMulShape<$rhs> for $lhs {
            type Output = $out;
            #[inline]
            fn matmul_shape(&self, _: &$rhs, _: &str) -> (Self::Output, Plan) {
                let plan = Plan {
                    batch: 1 $(* $b)*,
                    m: $m,
                    k: K,
                    n: $n,
                    lhs_batched: $lb,
                    rhs_batched: $rb,
                    map: None,
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

/// The same table for tuples: `$l` and `$r` bind the operands' dimensions by name. Batch axes are on
/// one side only (`batch` lists them: the product runs once per matrix of the batched operand);
/// batch axes on both sides are `tuple_matmul_broadcast`'s.
macro_rules! tuple_matmul_shapes {
    ($( <$($p:ident),*> ($($l:ident),*), ($($r:ident),*) => ($($o:ident),*);
        batch [$($b:ident),*], m $m:tt, k $k:ident = $k2:ident, n $n:tt, $lb:literal, $rb:literal; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$($p: Dim),*> TupleMatMul<($($r,)*)> for ($($l,)*)
        where
            $k: SameDim<$k2>,
        {
            type Output = tuple_matmul_shapes!(@out $($o),*);
            #[inline]
            #[track_caller]
            #[allow(non_snake_case)]
            fn tuple_matmul(&self, rhs: &($($r,)*), op: &str) -> (Self::Output, Plan) {
                let ($($l,)*) = *self;
                let ($($r,)*) = *rhs;
                check_same(op, "the inner dimensions", $k.size(), $k2.size());
                let plan = Plan {
                    batch: 1 $(* $b.size())*,
                    m: tuple_matmul_shapes!(@size $m),
                    k: $k.size(),
                    n: tuple_matmul_shapes!(@size $n),
                    lhs_batched: $lb,
                    rhs_batched: $rb,
                    map: None,
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

    <B, M, K, K2, N> (B, M, K), (K2, N) => (B, M, N); batch [B], m M, k K = K2, n N, true, false;
    <B, M, K, K2> (B, M, K), (K2) => (B, M); batch [B], m M, k K = K2, n 1, true, false;
    <B, M, K, K2, N> (M, K), (B, K2, N) => (B, M, N); batch [B], m M, k K = K2, n N, false, true;
    <B, K, K2, N> (K), (B, K2, N) => (B, N); batch [B], m 1, k K = K2, n N, false, true;

    <B, C, M, K, K2, N> (B, C, M, K), (K2, N) => (B, C, M, N);
        batch [B, C], m M, k K = K2, n N, true, false;
    <B, C, M, K, K2> (B, C, M, K), (K2) => (B, C, M); batch [B, C], m M, k K = K2, n 1, true, false;
    <B, C, M, K, K2, N> (M, K), (B, C, K2, N) => (B, C, M, N);
        batch [B, C], m M, k K = K2, n N, false, true;
    <B, C, K, K2, N> (K), (B, C, K2, N) => (B, C, N); batch [B, C], m 1, k K = K2, n N, false, true;
}

/// Tuples whose batch axes broadcast (`lb` and `rb` are the operands' batch dimensions): the output
/// has the longer side's `lead`ing batch dimensions, then each aligned pair `x ~ y` broadcast; a
/// run-time size of 1 repeats, any other mismatch panics when the op runs.
macro_rules! tuple_matmul_broadcast {
    ($( <$($p:ident),*> ($($l:ident),*), ($($r:ident),*) => [$($lead:ident),*] [$($x:ident ~ $y:ident),*];
        lb [$($lb:ident),*], rb [$($rb:ident),*], $m:ident $k:ident = $k2:ident $n:ident; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$($p: Dim),*> TupleMatMul<($($r,)*)> for ($($l,)*)
        where
            $k: SameDim<$k2>,
            $($x: BroadcastDim<$y>,)*
        {
            type Output = ($($lead,)* $(<$x as BroadcastDim<$y>>::Output,)* $m, $n);
            #[inline]
            #[track_caller]
            #[allow(non_snake_case)]
            fn tuple_matmul(&self, rhs: &($($r,)*), op: &str) -> (Self::Output, Plan) {
                let ($($l,)*) = *self;
                let ($($r,)*) = *rhs;
                check_same(op, "the inner dimensions", $k.size(), $k2.size());
                let plan = Plan::broadcast(
                    op,
                    &[$($lb.size()),*],
                    &[$($rb.size()),*],
                    $m.size(),
                    $k.size(),
                    $n.size(),
                );
                let out = (
                    $($lead,)*
                    $($x.broadcast_dim($y).expect("the plan checked the batch axes"),)*
                    $m,
                    $n,
                );
                (out, plan)
            }
        }
    )*};
}

tuple_matmul_broadcast! {
    <B, B2, M, K, K2, N> (B, M, K), (B2, K2, N) => [] [B ~ B2]; lb [B], rb [B2], M K = K2 N;
    <B, B2, C, C2, M, K, K2, N> (B, C, M, K), (B2, C2, K2, N) => [] [B ~ B2, C ~ C2];
        lb [B, C], rb [B2, C2], M K = K2 N;
    <B, C, C2, M, K, K2, N> (B, C, M, K), (C2, K2, N) => [B] [C ~ C2];
        lb [B, C], rb [C2], M K = K2 N;
    <B, C, C2, M, K, K2, N> (C, M, K), (B, C2, K2, N) => [B] [C ~ C2];
        lb [C], rb [B, C2], M K = K2 N;
}

/// Static operands of ranks 3 and 4 whose batch axes are equal where they align: the shorter
/// side's matrices repeat along the leading batch axis.
macro_rules! static_matmul_broadcast {
    ($( <$($p:ident),*> $lhs:ty, $rhs:ty => $out:ty; lb [$($lb:ident),*], rb [$($rb:ident),*]; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $p: usize),*> MatMulShape<$rhs> for $lhs {
            type Output = $out;
            #[inline]
            #[track_caller]
            fn matmul_shape(&self, _: &$rhs, op: &str) -> (Self::Output, Plan) {
                (Default::default(), Plan::broadcast(op, &[$($lb),*], &[$($rb),*], M, K, N))
            }
        }
    )*};
}

static_matmul_broadcast! {
    <B, C, M, K, N> Rank4<B, C, M, K>, Rank3<C, K, N> => Rank4<B, C, M, N>; lb [B, C], rb [C];
    <B, C, M, K, N> Rank3<C, M, K>, Rank4<B, C, K, N> => Rank4<B, C, M, N>; lb [C], rb [B, C];
}

#[diagnostic::do_not_recommend]
impl<L: TupleShape, R: Shape> MatMulShape<R> for L
where
    L: TupleMatMul<R::Tuple>,
{
    type Output = <L as TupleMatMul<R::Tuple>>::Output;
    #[inline]
    #[track_caller]
    fn matmul_shape(&self, rhs: &R, op: &str) -> (Self::Output, Plan) {
        self.tuple_matmul(&rhs.to_tuple(), op)
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
            #[track_caller]
            fn matmul_shape(&self, rhs: &R, op: &str) -> (Self::Output, Plan) {
                self.to_tuple().tuple_matmul(rhs, op)
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
    /// Batch axes that broadcast (a size of 1 or a missing axis on one side): which matrices of
    /// each operand every product reads.
    map: Option<BatchMap>,
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
        if let Some(map) = self.map {
            return map.forward(self, a, b, c);
        }
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
        if let Some(map) = self.map {
            return map.grad_lhs(self, dy, b, da, fresh);
        }
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
        if let Some(map) = self.map {
            return map.grad_rhs(self, a, dy, db, fresh);
        }
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

/// The most batch axes a product can have (rank 6 operands).
const MAX_BATCH: usize = 4;

/// Which matrix of each operand every product of a broadcast batch reads: numpy's batch rule, where
/// the batch axes are aligned on their last axis, a missing axis or a size of 1 repeats.
#[derive(Clone, Copy, Debug)]
struct BatchMap {
    /// The output's batch dimensions (the first `rank` entries).
    dims: [usize; MAX_BATCH],
    /// Per output batch axis, the step between the left operand's matrices (0 where it repeats).
    a: [usize; MAX_BATCH],
    /// The same for the right operand.
    b: [usize; MAX_BATCH],
    rank: usize,
}

impl BatchMap {
    /// The map of two operands' batch dimensions, or `None` when an aligned pair is neither equal
    /// nor has a 1.
    fn new(a: &[usize], b: &[usize]) -> Option<Self> {
        let rank = a.len().max(b.len());
        assert!(rank <= MAX_BATCH, "matmul: at most {MAX_BATCH} batch axes");
        let mut map = Self {
            dims: [1; MAX_BATCH],
            a: [0; MAX_BATCH],
            b: [0; MAX_BATCH],
            rank,
        };
        let (mut step_a, mut step_b) = (1, 1);
        for axis in (0..rank).rev() {
            // The operands' sizes on this output axis (1 where an operand has no such axis).
            let da = (axis + a.len()).checked_sub(rank).map_or(1, |i| a[i]);
            let db = (axis + b.len()).checked_sub(rank).map_or(1, |i| b[i]);
            map.dims[axis] = match (da, db) {
                _ if da == db => da,
                (1, d) | (d, 1) => d,
                _ => return None,
            };
            if da != 1 || map.dims[axis] == 1 {
                map.a[axis] = step_a;
            }
            if db != 1 || map.dims[axis] == 1 {
                map.b[axis] = step_b;
            }
            step_a *= da;
            step_b *= db;
        }
        Some(map)
    }

    /// The output's batch dimensions.
    fn dims(&self) -> &[usize] {
        &self.dims[..self.rank]
    }

    /// For every product in order, the index of its left and right matrices.
    fn pairs(self) -> impl Iterator<Item = (usize, usize)> {
        let count: usize = self.dims().iter().product();
        let mut index = [0; MAX_BATCH];
        (0..count).map(move |i| {
            if i > 0 {
                // Step the multi-index like an odometer, last axis fastest.
                for axis in (0..self.rank).rev() {
                    index[axis] += 1;
                    if index[axis] < self.dims[axis] {
                        break;
                    }
                    index[axis] = 0;
                }
            }
            let offset = |steps: &[usize; MAX_BATCH]| -> usize {
                (0..self.rank).map(|axis| index[axis] * steps[axis]).sum()
            };
            (offset(&self.a), offset(&self.b))
        })
    }

    /// `c = a b` for every product.
    fn forward<E: Element>(self, plan: Plan, a: &[E], b: &[E], c: &mut [E]) {
        let Plan { m, k, n, .. } = plan;
        for (i, (ia, ib)) in self.pairs().enumerate() {
            gemm(
                E::one(),
                Mat::new(&a[ia * m * k..], m, k),
                Mat::new(&b[ib * k * n..], k, n),
                E::zero(),
                MatMut::new(&mut c[i * m * n..], m, n),
            );
        }
    }

    /// `da += dy b^T` for every product, summed into a left matrix read by several products.
    fn grad_lhs<E: Element>(self, plan: Plan, dy: &[E], b: &[E], da: &mut [E], fresh: bool) {
        let Plan { m, k, n, .. } = plan;
        if fresh {
            da.fill(E::zero());
        }
        for (i, (ia, ib)) in self.pairs().enumerate() {
            gemm_grad(
                Mat::new(&dy[i * m * n..], m, n),
                Mat::new(&b[ib * k * n..], k, n).t(),
                MatMut::new(&mut da[ia * m * k..], m, k),
                false,
            );
        }
    }

    /// `db += a^T dy` for every product, summed into a right matrix read by several products.
    fn grad_rhs<E: Element>(self, plan: Plan, a: &[E], dy: &[E], db: &mut [E], fresh: bool) {
        let Plan { m, k, n, .. } = plan;
        if fresh {
            db.fill(E::zero());
        }
        for (i, (ia, ib)) in self.pairs().enumerate() {
            gemm_grad(
                Mat::new(&a[ia * m * k..], m, k).t(),
                Mat::new(&dy[i * m * n..], m, n),
                MatMut::new(&mut db[ib * k * n..], k, n),
                false,
            );
        }
    }
}

impl Plan {
    /// The plan of `[.., m, k] x [.., k, n]` whose batch axes (`a` and `b`) broadcast as numpy's.
    /// Equal batch axes, or axes on one side only, keep the plans without a map.
    ///
    /// # Panics
    /// When the batch axes do not broadcast; the message names `op` and both.
    #[track_caller]
    fn broadcast(op: &str, a: &[usize], b: &[usize], m: usize, k: usize, n: usize) -> Self {
        let Some(map) = BatchMap::new(a, b) else {
            batch_mismatch(op, a, b)
        };
        let batch = map.dims().iter().product();
        let (lhs_batched, rhs_batched) = (!a.is_empty(), !b.is_empty());
        let simple = a == b || a.is_empty() || b.is_empty();
        Self {
            batch,
            m,
            k,
            n,
            lhs_batched,
            rhs_batched,
            map: (!simple).then_some(map),
        }
    }
}

/// The build-time rule of [`Tensor::matmul_to`]: both operands are rank 2 to 6, their inner
/// dimensions agree, their batch axes broadcast, and `out` is the result.
const fn check_matmul_to(a: &[usize], b: &[usize], out: &[usize]) {
    let (ra, rb) = (a.len(), b.len());
    assert!(
        ra >= 2 && rb >= 2,
        "matmul_to: both operands must be matrices or batches of matrices; use matmul for vectors"
    );
    if a[ra - 1] != b[rb - 2] {
        let m = ConstMsg::new()
            .str("matmul_to: the inner dimensions differ: ")
            .dims(a)
            .str(" x ")
            .dims(b);
        panic!("{}", m.as_str());
    }
    let rank = if ra > rb { ra } else { rb };
    let mut want = [0; MAX_BATCH + 2];
    let mut fits = rank <= MAX_BATCH + 2 && out.len() == rank;
    let mut axis = 0;
    while axis + 2 < rank && rank <= MAX_BATCH + 2 {
        // The operands' sizes on this batch axis, 1 where an operand has no such axis.
        let da = if axis + ra >= rank {
            a[axis + ra - rank]
        } else {
            1
        };
        let db = if axis + rb >= rank {
            b[axis + rb - rank]
        } else {
            1
        };
        if da != db && da != 1 && db != 1 {
            let m = ConstMsg::new()
                .str("matmul_to: the batch axes of ")
                .dims(a)
                .str(" and ")
                .dims(b)
                .str(" cannot be broadcast together");
            panic!("{}", m.as_str());
        }
        want[axis] = if da == 1 { db } else { da };
        axis += 1;
    }
    if rank <= MAX_BATCH + 2 {
        want[rank - 2] = a[ra - 2];
        want[rank - 1] = b[rb - 1];
    }
    let mut i = 0;
    while fits && i < rank {
        fits = want[i] == out[i];
        i += 1;
    }
    if !fits {
        let (want, _) = want.split_at(rank);
        let m = ConstMsg::new()
            .str("matmul_to: ")
            .dims(a)
            .str(" x ")
            .dims(b)
            .str(" gives ")
            .dims(want)
            .str(", but the output type is ")
            .dims(out);
        panic!("{}", m.as_str());
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn batch_mismatch(op: &str, a: &[usize], b: &[usize]) -> ! {
    panic!("{op}: the batch axes {a:?} and {b:?} cannot be broadcast together")
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
    /// - batch axes (up to two) in front, aligned on their last axis: equal where they align, or
    ///   present on one side only, in which case the other operand's matrices repeat along them
    ///   (`[B, C, M, K] x [C, K, N] -> [B, C, M, N]`). A run-time batch axis of size 1 repeats to
    ///   match the other's, as in numpy; for a static one, use [`matmul_to`](Tensor::matmul_to).
    ///
    /// Anything else (inner dimensions that differ, batch axes that differ) does not compile, and
    /// the error's first line names both shapes. `*` is the elementwise product, not this one; for
    /// `np.inner` (the last axis of both operands) see [`inner`](Tensor::inner).
    ///
    /// # Panics
    /// With run-time dimensions (tuple shapes such as `(usize, Const<784>)`), when the inner
    /// dimensions differ or the batch axes do not broadcast at run time; the message names both
    /// sizes (`matmul: the inner dimensions differ: 3 and 4`, `matmul: the batch axes [2] and [3]
    /// cannot be broadcast together`). Between static dimensions the same rule is a
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
    #[track_caller]
    pub fn matmul<R: Shape, T2>(
        &self,
        rhs: &Tensor<R, E, T2>,
    ) -> Tensor<<S as MatMulShape<R>>::Output, E, Merged<E, T, T2>>
    where
        S: MatMulShape<R>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
        self.matmul_in("matmul", rhs)
    }

    /// [`matmul`](Tensor::matmul) inside the op `op`, whose name the run-time checks report.
    #[track_caller]
    pub(crate) fn matmul_in<R: Shape, T2>(
        &self,
        op: &str,
        rhs: &Tensor<R, E, T2>,
    ) -> Tensor<<S as MatMulShape<R>>::Output, E, Merged<E, T, T2>>
    where
        S: MatMulShape<R>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
        let (out_shape, plan) = self.typed_shape().matmul_shape(&rhs.typed_shape(), op);
        self.planned_product(rhs, out_shape, plan)
    }

    /// The matrix product with numpy's whole batch rule, for static shapes where a batch axis of
    /// size 1 repeats to match the other operand: `[2, 1, 3, 4] x [3, 4, 2] -> [2, 3, 3, 2]`. The
    /// output shape `O` is written by the caller (usually by the binding's type), since stable Rust
    /// cannot compute it in a trait: a `const` assertion checks it, reported by `cargo build`, not
    /// `cargo check`, with a first line that names the expected and the written shapes.
    ///
    /// Both operands are matrices or batches of them (rank 2 to 6). The batch axes (all but the last
    /// two) are aligned on their last axis; each aligned pair must be equal or one of them 1, and a
    /// missing axis counts as 1. PyTorch: `torch.matmul` (`a @ b`), which broadcasts this way.
    /// Derivatives as [`matmul`](Tensor::matmul): `dA = G B^T`, `dB = A^T G`, each summed over the
    /// products that read the same matrix, so every gradient has its operand's shape.
    ///
    /// Edge values as [`matmul`](Tensor::matmul).
    ///
    /// ```
    /// use shaped::{Rank3, Rank4, Tape, Tensor};
    /// let a: Tensor<Rank4<2, 1, 3, 4>> = Tensor::from_fn(|[i, _, r, c]| (i * 12 + r * 4 + c) as f32);
    /// let b: Tensor<Rank3<3, 4, 2>> = Tensor::ones();
    /// let y: Tensor<Rank4<2, 3, 3, 2>> = a.matmul_to(&b);
    /// // every product of batch row `i` reads a[i, 0]: row 1 of a[1, 0] is 16 + 17 + 18 + 19 = 70
    /// assert_eq!(y[[1, 2, 1, 0]], 70.0);
    ///
    /// // The left matrix, read by three products, gets the sum of their gradients.
    /// let tape = Tape::new();
    /// let at = tape.watch(&a);
    /// let g = at.matmul_to::<Rank4<2, 3, 3, 2>, _, _>(&b).sum().backward();
    /// assert_eq!(g.get(&at).to_vec(), vec![6.0; 24]); // 3 products x 2 columns of ones
    /// ```
    ///
    /// A written shape that is not the broadcast one fails to build:
    /// `matmul_to: [2, 1, 3, 4] x [3, 4, 2] gives [2, 3, 3, 2], but the output type is [2, 3, 3, 3]`.
    #[must_use]
    #[track_caller]
    pub fn matmul_to<O: StaticShape, R: StaticShape, T2>(
        &self,
        rhs: &Tensor<R, E, T2>,
    ) -> Tensor<O, E, Merged<E, T, T2>>
    where
        S: StaticShape,
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
        const { check_matmul_to(S::DIMS, R::DIMS, O::DIMS) };
        let (a, b) = (S::DIMS, R::DIMS);
        let (ra, rb) = (a.len(), b.len());
        let plan = Plan::broadcast(
            "matmul_to",
            &a[..ra - 2],
            &b[..rb - 2],
            a[ra - 2],
            a[ra - 1],
            b[rb - 1],
        );
        self.planned_product(rhs, O::default(), plan)
    }

    /// The product of [`matmul`](Tensor::matmul) and [`matmul_to`](Tensor::matmul_to) once the
    /// output shape and the plan are known.
    fn planned_product<O: Shape, R: Shape, T2>(
        &self,
        rhs: &Tensor<R, E, T2>,
        out_shape: O,
        plan: Plan,
    ) -> Tensor<O, E, Merged<E, T, T2>>
    where
        T: Merge<E, T2>,
        T2: Tracking<E>,
    {
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
    fn matmul_takes_rows_times_columns() {
        // Element [i][j] of a b is row i of a times column j of b: [[1, 2], [3, 4]] [[5, 6], [7, 8]]
        // = [[1*5 + 2*7, 1*6 + 2*8], [3*5 + 4*7, 3*6 + 4*8]] = [[19, 22], [43, 50]].
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
        // For A (m, n) used against a batch, dL/dA = sum over the batch of G[b] B[b]^T.
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

    /// The product of batch index `(i, j)` computed matrix by matrix, for checking.
    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize) -> Vec<f64> {
        let mut c = vec![0.0; m * n];
        for r in 0..m {
            for col in 0..n {
                c[r * n + col] = (0..k).map(|t| a[r * k + t] * b[t * n + col]).sum();
            }
        }
        c
    }

    #[test]
    fn batch_axes_of_one_repeat_as_in_numpy() {
        // (2, 1, 3, 4) @ (3, 4, 2) -> (2, 3, 3, 2): product (i, j) reads a[i, 0] and b[j].
        let a: Tensor<Rank4<2, 1, 3, 4>, f64> = random(1);
        let b: Tensor<Rank3<3, 4, 2>, f64> = random(2);
        let y: Tensor<Rank4<2, 3, 3, 2>, f64> = a.matmul_to(&b);
        let (av, bv, yv) = (a.to_vec(), b.to_vec(), y.to_vec());
        for i in 0..2 {
            for j in 0..3 {
                let want = naive(&av[i * 12..][..12], &bv[j * 8..][..8], 3, 4, 2);
                let got = &yv[(i * 3 + j) * 6..][..6];
                for (g, w) in got.iter().zip(&want) {
                    approx::assert_relative_eq!(g, w, epsilon = 1e-12);
                }
            }
        }
        let w: Tensor<Rank4<2, 3, 3, 2>, f64> = random(3);
        gradcheck(
            |(a, b)| (a.matmul_to::<Rank4<2, 3, 3, 2>, _, _>(&b) * &w).sum(),
            (&a, &b),
        )
        .unwrap();
    }

    #[test]
    fn a_repeated_matrix_gets_the_sum_of_its_gradients() {
        // f = sum(A @ B) with A: (2, 1, 1, 2) of ones and B: (3, 2, 1) of ones, output (2, 3, 1, 1).
        // df/dA[i, 0, 0, t] = sum over the 3 products j of B[j, t, 0] = 3;
        // df/dB[j, t, 0] = sum over the 2 products i of A[i, 0, 0, t] = 2.
        let a: Tensor<Rank4<2, 1, 1, 2>, f64> = Tensor::ones();
        let b: Tensor<Rank3<3, 2, 1>, f64> = Tensor::ones();
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let y = at.matmul_to::<Rank4<2, 3, 1, 1>, _, _>(&bt);
        assert_eq!(y.to_vec(), vec![2.0; 6]);
        let g = y.sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![3.0; 4]);
        assert_eq!(g.get(&bt).to_vec(), vec![2.0; 6]);
    }

    #[test]
    fn batch_axes_of_different_ranks_align_on_the_last() {
        // (2, 3, 2, 4) @ (3, 4, 5): product (i, j) reads a[i, j] and b[j].
        let a: Tensor<Rank4<2, 3, 2, 4>, f64> = random(4);
        let b: Tensor<Rank3<3, 4, 5>, f64> = random(5);
        let y = a.matmul(&b);
        assert_eq!(y.shape(), [2, 3, 2, 5]);
        let (av, bv, yv) = (a.to_vec(), b.to_vec(), y.to_vec());
        for i in 0..2 {
            for j in 0..3 {
                let want = naive(&av[(i * 3 + j) * 8..][..8], &bv[j * 20..][..20], 2, 4, 5);
                for (g, w) in yv[(i * 3 + j) * 10..][..10].iter().zip(&want) {
                    approx::assert_relative_eq!(g, w, epsilon = 1e-12);
                }
            }
        }
        let w: Tensor<Rank4<2, 3, 2, 5>, f64> = random(6);
        gradcheck(|(a, b)| (a.matmul(&b) * &w).sum(), (&a, &b)).unwrap();
        // the other way round: (3, 2, 4) @ (2, 3, 4, 5)
        let c: Tensor<Rank3<3, 2, 4>, f64> = random(7);
        let d: Tensor<Rank4<2, 3, 4, 5>, f64> = random(8);
        let w: Tensor<Rank4<2, 3, 2, 5>, f64> = random(9);
        gradcheck(|(c, d)| (c.matmul(&d) * &w).sum(), (&c, &d)).unwrap();
    }

    #[test]
    fn a_run_time_batch_of_one_repeats() {
        use crate::Const;
        // (1, 2, 2) @ (3, 2, 2) with run-time batches: the left matrix serves the 3 products.
        let a = Tensor::from_vec_with((1_usize, Const::<2>, Const::<2>), vec![1.0, 2.0, 3.0, 4.0])
            .unwrap();
        let b = Tensor::from_vec_with(
            (3_usize, Const::<2>, Const::<2>),
            [1.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 2.0, 0.0, 1.0, 1.0, 0.0].to_vec(),
        )
        .unwrap();
        let y = a.matmul(&b);
        assert_eq!(y.shape(), [3, 2, 2]);
        // a, 2a, and a with its columns swapped
        assert_eq!(
            y.to_vec(),
            vec![1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 6.0, 8.0, 2.0, 1.0, 4.0, 3.0]
        );
        // f = sum(a @ b): df/da[r, t] = sum over products j and columns c of b[j, t, c]:
        // row sums of b summed over j: t = 0: 1 + 2 + 1 = 4, t = 1: 1 + 2 + 1 = 4.
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = at.matmul(&b).sum().backward();
        assert_eq!(g.get(&at).to_vec(), vec![4.0; 4]);
    }

    #[test]
    #[should_panic(expected = "matmul: the batch axes [2] and [3] cannot be broadcast together")]
    fn run_time_batch_axes_that_do_not_broadcast_name_both() {
        use crate::Const;
        let a = Tensor::<(usize, Const<2>, Const<2>)>::zeros_with((2, Const, Const));
        let b = Tensor::<(usize, Const<2>, Const<2>)>::zeros_with((3, Const, Const));
        let _ = a.matmul(&b);
    }

    #[test]
    fn the_batch_map_steps() {
        // a: (2, 1), b: (3,) -> output (2, 3); a's matrix index is i, b's is j.
        let map = super::BatchMap::new(&[2, 1], &[3]).unwrap();
        assert_eq!(map.dims(), [2, 3]);
        let pairs: Vec<_> = map.pairs().collect();
        assert_eq!(pairs, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]);
        assert!(super::BatchMap::new(&[2], &[3]).is_none());
    }
}
