//! `broadcast_to`: a tensor repeated along new leading axes and along its axes of size 1, with numpy's
//! broadcasting rules.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::const_msg::ConstMsg;
use crate::shape::strides_of;
use crate::{Element, Shape, StaticShape, Tensor, Tracking};

/// The rank half of numpy's broadcasting rule, for [`Tensor::broadcast_to`]: the target shape `Dst`
/// has at least as many axes as `Self`.
///
/// Implemented for every pair of shapes whose ranks satisfy `0 <= rank(Self) <= rank(Dst) <= 6`,
/// static or with run-time dimensions. The other half of the rule (each source dimension is 1 or
/// equals the target dimension it aligns with) cannot be a trait on stable Rust: an impl for "size 1"
/// would overlap the impl for "equal sizes". Between static shapes it is a `const` assertion inside
/// `broadcast_to`, reported by `cargo build`, not `cargo check`; with run-time dimensions it is
/// checked when the op runs.
///
/// ```
/// use shaped::{BroadcastTo, Const, Rank1, Rank3};
/// fn rank_fits<S: BroadcastTo<D>, D>() {}
/// rank_fits::<Rank1<3>, Rank3<5, 2, 3>>();
/// rank_fits::<Rank1<3>, (usize, Const<3>)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot broadcast `{Self}` to `{Dst}`: the target has fewer axes than the source",
    label = "`broadcast_to` can add leading axes, never remove them",
    note = "numpy's rule: the source's axes align with the target's last axes, and each source \
            dimension must equal the target's or be 1; to drop an axis, reduce it (`sum_axis`) or \
            `reshape`"
)]
pub trait BroadcastTo<Dst>: Shape {}

/// Arrays of dimensions `[usize; R]` whose length is at most `Other`'s.
///
/// ```
/// use shaped::RankAtMost;
/// fn at_most<A: RankAtMost<B>, B>() {}
/// at_most::<[usize; 2], [usize; 3]>();
/// at_most::<[usize; 3], [usize; 3]>();
/// ```
///
/// ```compile_fail
/// use shaped::RankAtMost;
/// fn at_most<A: RankAtMost<B>, B>() {}
/// at_most::<[usize; 4], [usize; 3]>(); // 4 axes do not fit in 3
/// ```
pub trait RankAtMost<Other> {}

macro_rules! rank_at_most {
    ($( $r:literal => [$($d:literal),*] ; )*) => {$($(
        impl RankAtMost<[usize; $d]> for [usize; $r] {}
    )*)*};
}

rank_at_most! {
    0 => [0, 1, 2, 3, 4, 5, 6];
    1 => [1, 2, 3, 4, 5, 6];
    2 => [2, 3, 4, 5, 6];
    3 => [3, 4, 5, 6];
    4 => [4, 5, 6];
    5 => [5, 6];
    6 => [6];
}

#[diagnostic::do_not_recommend]
impl<S: Shape, Dst: Shape> BroadcastTo<Dst> for S where S::Dims: RankAtMost<Dst::Dims> {}

/// Whether `src` broadcasts to `dst` (numpy's rule, with `dst` at least as long): aligned from the
/// right, every source dimension equals the target's or is 1.
const fn sizes_broadcast(src: &[usize], dst: &[usize]) -> bool {
    if src.len() > dst.len() {
        return false;
    }
    let offset = dst.len() - src.len();
    let mut i = 0;
    while i < src.len() {
        if src[i] != 1 && src[i] != dst[offset + i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The largest rank a shape has.
const MAX_RANK: usize = 6;

/// The strides with which to read a source of dimensions `src` as if it had dimensions `dst`: 0 on
/// the new leading axes and on the stretched axes of size 1, the row-major stride elsewhere.
fn broadcast_strides(src: &[usize], dst: &[usize]) -> [usize; MAX_RANK] {
    let offset = dst.len() - src.len();
    let src_strides = strides_of(src);
    let mut strides = [0; MAX_RANK];
    for (i, (&d, &s)) in src.iter().zip(&src_strides).enumerate() {
        if d != 1 {
            strides[offset + i] = s;
        }
    }
    strides
}

/// Visits the target of dimensions `dst` in row-major order, one row (last axis) at a time, with the
/// offset into the source of the row's first element: `visit(row_index, src_offset)`.
fn for_each_row(dst: &[usize], strides: &[usize; MAX_RANK], mut visit: impl FnMut(usize, usize)) {
    let rank = dst.len();
    let numel: usize = dst.iter().product();
    if numel == 0 {
        return;
    }
    if rank == 0 {
        visit(0, 0);
        return;
    }
    let rows = numel / dst[rank - 1];
    let mut index = [0; MAX_RANK];
    let mut base = 0;
    for row in 0..rows {
        visit(row, base);
        for axis in (0..rank - 1).rev() {
            index[axis] += 1;
            base += strides[axis];
            if index[axis] < dst[axis] {
                break;
            }
            base -= strides[axis] * dst[axis];
            index[axis] = 0;
        }
    }
}

/// Writes `x` (dimensions `src`) broadcast to dimensions `dst` into `out`.
fn broadcast_forward<E: Copy>(x: &[E], src: &[usize], dst: &[usize], out: &mut [E]) {
    let strides = broadcast_strides(src, dst);
    let (n, step) = match dst.last() {
        Some(&n) => (n, strides[dst.len() - 1]),
        None => (1, 0),
    };
    for_each_row(dst, &strides, |row, base| {
        let out = &mut out[row * n..(row + 1) * n];
        if step == 0 {
            out.fill(x[base]);
        } else {
            out.copy_from_slice(&x[base..base + n]);
        }
    });
}

/// Adds `dy` (dimensions `dst`) into `dx` (dimensions `src`), summing over the axes that the forward
/// added or stretched.
fn broadcast_backward<E: Element>(dy: &[E], src: &[usize], dst: &[usize], dx: &mut [E]) {
    let strides = broadcast_strides(src, dst);
    let (n, step) = match dst.last() {
        Some(&n) => (n, strides[dst.len() - 1]),
        None => (1, 0),
    };
    for_each_row(dst, &strides, |row, base| {
        let g = &dy[row * n..(row + 1) * n];
        if step == 0 {
            dx[base] += crate::ops::sum::sum_slice(g);
        } else {
            for (d, &v) in dx[base..base + n].iter_mut().zip(g) {
                *d += v;
            }
        }
    });
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The tensor repeated to shape `Dst` with numpy's broadcasting rules: the axes of `S` align with
    /// the last axes of `Dst`; each dimension of `S` must equal the target's or be 1 (then the tensor
    /// is repeated along that axis); the leading axes `Dst` has in addition are new, and the tensor is
    /// repeated along them. `y[i_0, .., i_n] = x[j]` with `j_k = 0` on stretched axes and `j_k` the
    /// aligned `i` elsewhere.
    ///
    /// Derivative: the gradient is summed over the added and the stretched axes (and reshaped to
    /// `S`).
    ///
    /// PyTorch: `x.expand(Dst)` / `x.broadcast_to(Dst)`; numpy: `np.broadcast_to(x, Dst)`. Unlike
    /// those, the result is a new buffer (the repeated values are written out), so it is an
    /// ordinary tensor for every other op.
    ///
    /// Edge values, as PyTorch: values are copied bit for bit (NaN, infinities, the sign of zero);
    /// the gradient is a sum, so upstream gradients `inf` and `-inf` on two copies give NaN. As in
    /// numpy, a dimension of 1 also stretches to 0: the result is empty and the gradient is 0.
    ///
    /// A target with fewer axes than `S` is a type error ([`BroadcastTo`]), reported by `cargo check`.
    /// A dimension that is neither equal nor 1 (`[2, 3]` to `[4, 3]`) is a `const` assertion,
    /// reported by `cargo build` and `cargo test` but **not** by `cargo check` or clippy: stable Rust
    /// cannot express "equal or 1" as trait impls that do not overlap.
    ///
    /// ```
    /// use shaped::{Rank2, Rank3, Tensor};
    /// // a row [1, 2, 3] repeated along a new leading axis
    /// let a = Tensor::from([1.0, 2.0, 3.0]);
    /// assert_eq!(a.broadcast_to::<Rank2<3, 3>>().to_array(), [[1.0, 2.0, 3.0]; 3]);
    /// // a column (2, 1) stretched along its size-1 axis and repeated along a new leading axis
    /// let c = Tensor::from([[1.0], [2.0]]);
    /// let y = c.broadcast_to::<Rank3<2, 2, 3>>();
    /// assert_eq!(y.to_array(), [[[1.0; 3], [2.0; 3]], [[1.0; 3], [2.0; 3]]]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Rank1, Tensor};
    /// let m = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let _ = m.broadcast_to::<Rank1<2>>(); // a target cannot have fewer axes
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Rank2, Tensor};
    /// let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let _ = m.broadcast_to::<Rank2<4, 3>>(); // 2 is neither 4 nor 1 (reported by `cargo build`)
    /// ```
    #[must_use]
    pub fn broadcast_to<Dst: StaticShape>(&self) -> Tensor<Dst, E, T>
    where
        S: StaticShape + BroadcastTo<Dst>,
    {
        const {
            if !sizes_broadcast(S::DIMS, Dst::DIMS) {
                let m = ConstMsg::new()
                    .str("broadcast_to: cannot broadcast ")
                    .dims(S::DIMS)
                    .str(" to ")
                    .dims(Dst::DIMS)
                    .str(
                        ": every source dimension must equal the target dimension it aligns with \
                          (counting from the last axis) or be 1",
                    );
                panic!("{}", m.as_str());
            }
        }
        self.broadcast_unchecked(Dst::default())
    }

    /// [`broadcast_to`](Tensor::broadcast_to) a target shape given as a value, for shapes with
    /// run-time dimensions: a bias `[OUT]` to `(rows, Const<OUT>)`, say.
    ///
    /// # Panics
    /// When a source dimension is neither equal to the target dimension it aligns with nor 1; the
    /// message names both shapes.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let b = Tensor::from([1.0, 2.0]);
    /// let rows = 3;
    /// let y = b.broadcast_to_shape((rows, Const::<2>));
    /// assert_eq!(y.shape(), [3, 2]);
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 1.0, 2.0]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn broadcast_to_shape<Dst: Shape>(&self, dst: Dst) -> Tensor<Dst, E, T>
    where
        S: BroadcastTo<Dst>,
    {
        let (src, to) = (self.shape(), dst.dims());
        assert!(
            sizes_broadcast(src.as_ref(), to.as_ref()),
            "broadcast_to: cannot broadcast shape {:?} to {:?}: every source dimension must equal the \
             target dimension it aligns with (counting from the last axis) or be 1",
            src.as_ref(),
            to.as_ref()
        );
        self.broadcast_unchecked(dst)
    }

    /// The broadcast, once the sizes are known to fit.
    pub(crate) fn broadcast_unchecked<Dst: Shape>(&self, dst: Dst) -> Tensor<Dst, E, T> {
        let (src_dims, dst_dims) = (self.shape(), dst.dims());
        let numel = dst.numel();
        let mut y = Buffer::uninit(numel);
        broadcast_forward(self.data(), src_dims.as_ref(), dst_dims.as_ref(), &mut y);
        let tape = self.tape().record([self.input()], numel, |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                broadcast_backward(dy, src_dims.as_ref(), dst_dims.as_ref(), dx);
            })
        });
        Tensor::from_parts(Arc::new(y), dst, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::sizes_broadcast;
    use crate::ops::testing::random;
    use crate::{Rank0, Rank1, Rank2, Rank3, Rank4, Rank6, Tape, Tensor, gradcheck};

    #[test]
    fn the_size_rule() {
        assert!(sizes_broadcast(&[3], &[3, 3]));
        assert!(sizes_broadcast(&[2, 1], &[5, 2, 7]));
        assert!(sizes_broadcast(&[], &[4]));
        assert!(!sizes_broadcast(&[2, 3], &[4, 3]));
        assert!(!sizes_broadcast(&[3], &[3, 2]));
        assert!(!sizes_broadcast(&[1, 1], &[1]));
    }

    #[test]
    fn broadcast_repeats_the_input_and_sums_the_gradient_back() {
        // [1, 2, 3] broadcast to 3 x 3 is [1, 2, 3] repeated as every row.
        let a = Tensor::from([1.0, 2.0, 3.0]);
        assert_eq!(
            a.broadcast_to::<Rank2<3, 3>>().to_array(),
            [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
        );
        // A (2, 3) broadcast to (5, 2, 3) is read as (1, 2, 3), aligned on the last axes, and
        // repeated 5 times along axis 0; its gradient is the upstream gradient summed over that
        // axis, so an upstream gradient of ones gives 5 for every element.
        let a = Tensor::from([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let b = at.broadcast_to::<Rank3<5, 2, 3>>();
        assert_eq!(b.shape(), [5, 2, 3]);
        let g = b.backward_with(&Tensor::ones());
        assert_eq!(g.get(&at).to_array(), [[5.0; 3]; 2]);
    }

    #[test]
    fn the_pytorch_expand_example() {
        // a = [1, 2, 3] expanded to (3, 3); out = sum(b) gives a.grad = [3, 3, 3], and
        // out_grad [[1, 2, 3]] * 3 rows gives the column sums [3, 6, 9].
        let a = Tensor::from([1.0, 2.0, 3.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = at.broadcast_to::<Rank2<3, 3>>().sum().backward();
        assert_eq!(g.get(&at).to_array(), [3.0, 3.0, 3.0]);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let b = at.broadcast_to::<Rank2<3, 3>>();
        let g = b.backward_with(&Tensor::from([[1.0, 2.0, 3.0]; 3]));
        assert_eq!(g.get(&at).to_array(), [3.0, 6.0, 9.0]);
    }

    #[test]
    fn stretching_size_one_axes_in_the_middle() {
        let x: Tensor<Rank3<2, 1, 3>, f64> = random(40);
        let y = x.broadcast_to::<Rank4<2, 2, 4, 3>>();
        let want = Tensor::<Rank4<2, 2, 4, 3>, f64>::from_fn(|[_, b, _, d]| x[[b, 0, d]]);
        assert_eq!(y, want);
        // A column stretched along the last axis (stride 0 in the inner loop).
        let c = Tensor::from([[1.0], [2.0]]);
        assert_eq!(
            c.broadcast_to::<Rank2<2, 3>>().to_array(),
            [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
        );
        // A scalar fills any shape; the identity broadcast copies.
        let s = Tensor::from(7.0);
        assert_eq!(s.broadcast_to::<Rank2<2, 2>>().to_array(), [[7.0; 2]; 2]);
        assert_eq!(s.broadcast_to::<Rank0>().item(), 7.0);
        assert_eq!(x.broadcast_to::<Rank3<2, 1, 3>>(), x);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(broadcast([[a0], [a1]] -> (2, 2, 3)) * w): df/da_i = sum over the new axis 0 and the
        // stretched axis 2 of w[:, i, :].
        let a = Tensor::from([[1.0], [2.0]]);
        let w = Tensor::<Rank3<2, 2, 3>, f64>::from_fn(|[k, i, j]| (100 * k + 10 * i + j) as f64);
        let tape = Tape::new();
        let at = tape.watch(&a);
        let g = (at.broadcast_to::<Rank3<2, 2, 3>>() * &w).sum().backward();
        // i = 0: (0 + 1 + 2) + (100 + 101 + 102) = 306; i = 1: (10 + 11 + 12) + (110 + 111 + 112) = 366
        assert_eq!(g.get(&at).to_array(), [[306.0], [366.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<3, 1>, f64> = random(41);
        let w: Tensor<Rank3<2, 3, 4>, f64> = random(42);
        gradcheck(|x| (x.broadcast_to::<Rank3<2, 3, 4>>() * &w).sum(), &x).unwrap();
        let v: Tensor<Rank1<4>, f64> = random(43);
        let w6: Tensor<Rank6<2, 1, 2, 1, 3, 4>, f64> = random(44);
        gradcheck(
            |v| (v.broadcast_to::<Rank6<2, 1, 2, 1, 3, 4>>().exp() * &w6).sum(),
            &v,
        )
        .unwrap();
        let s: Tensor<Rank0, f64> = random(45);
        let w2: Tensor<Rank2<2, 3>, f64> = random(46);
        gradcheck(|s| (s.broadcast_to::<Rank2<2, 3>>() * &w2).sum(), &s).unwrap();
        // used twice: broadcast to two targets, and once unbroadcast
        let x1: Tensor<Rank2<1, 3>, f64> = random(47);
        let c1: Tensor<Rank2<1, 3>, f64> = random(48);
        gradcheck(
            |x| {
                (x.broadcast_to::<Rank2<2, 3>>() * x.broadcast_to::<Rank2<2, 3>>()).sum()
                    + (x.broadcast_to::<Rank3<2, 1, 3>>() * &c1.broadcast_to::<Rank3<2, 1, 3>>())
                        .sum()
                    + (x * &c1).sum()
            },
            &x1,
        )
        .unwrap();
    }

    #[test]
    fn used_twice_accumulates() {
        // f = sum(b(x) * b(x)) with b: (1, 2) -> (3, 2): df/dx_j = sum over 3 rows of 2 x_j = 6 x_j.
        let x = Tensor::from([[1.0, -2.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let b = xt.broadcast_to::<Rank2<3, 2>>();
        let g = (b.clone() * b).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[6.0, -12.0]]);
    }

    #[test]
    fn zero_sized_targets() {
        let x = Tensor::from([1.0, 2.0]);
        let y = x.broadcast_to::<Rank2<0, 2>>();
        assert_eq!(y.numel(), 0);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.broadcast_to::<Rank2<0, 2>>().sum().backward();
        assert_eq!(g.get(&xt).to_array(), [0.0, 0.0]);
    }
}
