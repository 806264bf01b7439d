//! `narrow` and `split`: a range of a tensor along one axis, with the range in the type.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::const_msg::ConstMsg;
use crate::tape::internal::{GradStore, NodeId};
use crate::{
    Const, Dim, Element, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, Tensor, Tracking,
};

/// A shape with an axis `AX`: the dimension there, and the same shape with that dimension replaced by
/// `D`.
///
/// Implemented for every axis `AX < RANK`, so naming an axis that does not exist is a type error. A
/// static shape takes a static dimension and stays static (`Rank3<2, 3, 4>` with axis 1 set to
/// `Const<7>` is `Rank3<2, 7, 4>`); a tuple takes any [`Dim`] (`(usize, Const<4>)` with axis 0 set to
/// `Const<2>` is `(Const<2>, Const<4>)`).
///
/// ```
/// use shaped::{Const, Rank3, ReplaceAxis};
/// let _: <Rank3<2, 3, 4> as ReplaceAxis<1, Const<7>>>::Output = Rank3::<2, 7, 4>;
/// let _: <Rank3<2, 3, 4> as ReplaceAxis<1, Const<7>>>::AxisDim = Const::<3>;
/// let rows = (5_usize, Const::<4>);
/// assert_eq!(ReplaceAxis::<0, Const<2>>::replace_axis(&rows, Const), (Const::<2>, Const::<4>));
/// assert_eq!(ReplaceAxis::<1, usize>::replace_axis(&rows, 9), (5, 9));
/// assert_eq!(ReplaceAxis::<0, usize>::axis_dim(&rows), 5);
/// ```
#[diagnostic::on_unimplemented(
    message = "axis {AX} is out of range for a tensor of shape `{Self}`",
    label = "no axis {AX} in `{Self}`",
    note = "axes count from 0, outermost first: a rank-N tensor has axes 0 to N - 1"
)]
pub trait ReplaceAxis<const AX: usize, D: Dim>: Shape {
    /// The dimension of axis `AX`.
    type AxisDim: Dim;
    /// The shape with the dimension of axis `AX` replaced by `D`.
    type Output: Shape;
    /// The dimension of axis `AX`.
    ///
    /// ```
    /// use shaped::{Const, Rank3, ReplaceAxis};
    /// assert_eq!(ReplaceAxis::<2, Const<1>>::axis_dim(&Rank3::<2, 3, 4>), Const::<4>);
    /// assert_eq!(ReplaceAxis::<0, usize>::axis_dim(&(6_usize, Const::<3>)), 6);
    /// ```
    fn axis_dim(&self) -> Self::AxisDim;
    /// The shape with the dimension of axis `AX` replaced by `d`.
    ///
    /// ```
    /// use shaped::{Const, Rank3, ReplaceAxis, Shape};
    /// assert_eq!(ReplaceAxis::<2, Const<9>>::replace_axis(&Rank3::<2, 3, 4>, Const).dims(), [2, 3, 9]);
    /// assert_eq!(ReplaceAxis::<1, usize>::replace_axis(&(6_usize, Const::<3>), 2), (6, 2));
    /// ```
    fn replace_axis(&self, d: D) -> Self::Output;
}

/// Calls `$m!` with one entry per axis of every rank from 1 to 6: the shape's name, the axis, and the
/// dimensions before and after it (each as a name, a second name for another operand's dimension at
/// that place, and its position). The shape rules of the axis ops are written once against it.
macro_rules! for_each_axis {
    ($m:ident) => {
        $m! {
            Rank1 0: [] [];
            Rank2 0: [] [B B2 1];
            Rank2 1: [A A2 0] [];
            Rank3 0: [] [B B2 1, C C2 2];
            Rank3 1: [A A2 0] [C C2 2];
            Rank3 2: [A A2 0, B B2 1] [];
            Rank4 0: [] [B B2 1, C C2 2, D D2 3];
            Rank4 1: [A A2 0] [C C2 2, D D2 3];
            Rank4 2: [A A2 0, B B2 1] [D D2 3];
            Rank4 3: [A A2 0, B B2 1, C C2 2] [];
            Rank5 0: [] [B B2 1, C C2 2, D D2 3, F F2 4];
            Rank5 1: [A A2 0] [C C2 2, D D2 3, F F2 4];
            Rank5 2: [A A2 0, B B2 1] [D D2 3, F F2 4];
            Rank5 3: [A A2 0, B B2 1, C C2 2] [F F2 4];
            Rank5 4: [A A2 0, B B2 1, C C2 2, D D2 3] [];
            Rank6 0: [] [B B2 1, C C2 2, D D2 3, F F2 4, G G2 5];
            Rank6 1: [A A2 0] [C C2 2, D D2 3, F F2 4, G G2 5];
            Rank6 2: [A A2 0, B B2 1] [D D2 3, F F2 4, G G2 5];
            Rank6 3: [A A2 0, B B2 1, C C2 2] [F F2 4, G G2 5];
            Rank6 4: [A A2 0, B B2 1, C C2 2, D D2 3] [G G2 5];
            Rank6 5: [A A2 0, B B2 1, C C2 2, D D2 3, F F2 4] [];
        }
    };
}
pub(crate) use for_each_axis;

macro_rules! replace_axis {
    ($( $rank:ident $ax:tt : [$($p:ident $p2:ident $pi:tt),*] [$($q:ident $q2:ident $qi:tt),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $p: usize,)* const X: usize, $(const $q: usize,)* const NEW: usize>
            ReplaceAxis<$ax, Const<NEW>> for $rank<$($p,)* X, $($q,)*>
        {
            type AxisDim = Const<X>;
            type Output = $rank<$($p,)* NEW, $($q,)*>;
            #[inline]
            fn axis_dim(&self) -> Self::AxisDim {
                Const
            }
            #[inline]
            fn replace_axis(&self, _: Const<NEW>) -> Self::Output {
                $rank
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$($p: Dim,)* X: Dim, $($q: Dim,)* NEW: Dim> ReplaceAxis<$ax, NEW> for ($($p,)* X, $($q,)*) {
            type AxisDim = X;
            type Output = ($($p,)* NEW, $($q,)*);
            #[inline]
            fn axis_dim(&self) -> X {
                self.$ax
            }
            #[inline]
            fn replace_axis(&self, d: NEW) -> Self::Output {
                ($(self.$pi,)* d, $(self.$qi,)*)
            }
        }
    )*};
}

for_each_axis!(replace_axis);

/// `(outer, len, inner)` of dimensions split at axis `ax`: the product of the dimensions before it,
/// its size, and the product of the dimensions after it.
pub(crate) fn split_at_axis(dims: &[usize], ax: usize) -> (usize, usize, usize) {
    (
        dims[..ax].iter().product(),
        dims[ax],
        dims[ax + 1..].iter().product(),
    )
}

/// Where a block of columns sits in a buffer seen as rows: rows of `row` elements, the block starting
/// at column `at` of each.
#[derive(Clone, Copy, Debug)]
struct Cols {
    /// Elements per row.
    row: usize,
    /// First column of the block.
    at: usize,
}

/// For each of `rows` rows, combines the block of `width` columns of `src` (placed by `s`) into the
/// block of `dst` (placed by `d`) with `put(&mut dst_elem, src_elem)`. This is the whole data
/// movement of `narrow`, `split`, `concat` and `stack`, forward and backward.
fn copy_cols<E: Copy>(
    src: &[E],
    s: Cols,
    dst: &mut [E],
    d: Cols,
    rows: usize,
    width: usize,
    put: impl Fn(&mut E, E),
) {
    if width == 0 {
        return;
    }
    for r in 0..rows {
        let from = &src[r * s.row + s.at..][..width];
        let to = &mut dst[r * d.row + d.at..][..width];
        for (o, &v) in to.iter_mut().zip(from) {
            put(o, v);
        }
    }
}

/// Tensors seen as rows (one per index of the axes before the joined one), joined side by side:
/// row `r` of the result is row `r` of every part in turn, a part `(data, width)` having rows of
/// `width` elements. The forward of `concat` and `stack`.
pub(crate) fn join_rows<E: Element>(parts: &[(&[E], usize)], rows: usize) -> Buffer<E> {
    let row: usize = parts.iter().map(|&(_, width)| width).sum();
    let mut y = Buffer::uninit(rows * row);
    let mut at = 0;
    for &(data, width) in parts {
        let (from, to) = (Cols { row: width, at: 0 }, Cols { row, at });
        copy_cols(data, from, &mut y, to, rows, width, |o, v| *o = v);
        at += width;
    }
    y
}

/// The backward of [`join_rows`]: adds to the gradient of each part that has a node its columns of
/// `dy`. A part's columns cover its whole gradient, so a fresh gradient buffer is written, not zeroed
/// first.
pub(crate) fn unjoin_rows<E: Element>(
    dy: &[E],
    parts: &[(Option<NodeId>, usize)],
    rows: usize,
    grads: &mut GradStore<E>,
) {
    let row: usize = parts.iter().map(|&(_, width)| width).sum();
    let mut at = 0;
    for &(node, width) in parts {
        let (from, to) = (Cols { row, at }, Cols { row: width, at: 0 });
        at += width;
        let Some(node) = node else { continue };
        let (dx, fresh) = grads.acc_fresh(node);
        if fresh {
            copy_cols(dy, from, dx, to, rows, width, |o, v| *o = v);
        } else {
            copy_cols(dy, from, dx, to, rows, width, |o, v| *o += v);
        }
    }
}

/// The range `start..start + len` of axis `ax` of a tensor of dimensions `dims`: `(rows, the source
/// block, the width)` for [`copy_cols`], the output being the block alone.
fn range_cols(dims: &[usize], ax: usize, start: usize, len: usize) -> (usize, Cols, usize) {
    let (outer, n, inner) = split_at_axis(dims, ax);
    let src = Cols {
        row: n * inner,
        at: start * inner,
    };
    (outer, src, len * inner)
}

/// Panics unless `start + len` fits in an axis of size `size`, naming the op and the sizes.
#[track_caller]
fn check_range(op: &str, ax: usize, start: usize, len: usize, size: usize) {
    let end = start.checked_add(len);
    if end.is_none_or(|end| end > size) {
        range_failed(op, ax, start, len, size);
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn range_failed(op: &str, ax: usize, start: usize, len: usize, size: usize) -> ! {
    panic!(
        "{op} along axis {ax}: start {start} + length {len} is past the end of an axis of size {size}"
    )
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The elements `START..START + LEN` along axis `AX`: `y[.., i, ..] = x[.., START + i, ..]`,
    /// with the range in the type, so the result has `LEN` on that axis.
    ///
    /// Derivative: the gradient goes back to the elements of the range; the others get 0.
    ///
    /// PyTorch: `x.narrow(AX, START, LEN)` (or `x[:, START:START + LEN]` for `AX = 1`). The result is
    /// a new buffer (PyTorch returns a view).
    ///
    /// Naming an axis the shape does not have is a type error. A range that runs past the end of a
    /// static axis is a `const` assertion, reported by `cargo build` (and `cargo test`), not by
    /// `cargo check`: stable Rust cannot add dimensions in a trait bound.
    ///
    /// # Panics
    /// When axis `AX` is a run-time dimension (a `usize` in a tuple shape) and `START + LEN` is
    /// larger than its size; the message names the start, the length and the size
    /// (`narrow along axis 0: start 2 + length 3 is past the end of an axis of size 4`).
    ///
    /// Edge values: elements are copied bit for bit (NaN, infinities, the sign of zero), and so are
    /// their gradients. `LEN = 0` gives an empty tensor (as PyTorch), `START = size` included, and
    /// then the gradient is all zeros.
    ///
    /// ```
    /// use shaped::{Rank2, Tape, Tensor};
    /// let x = Tensor::from([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
    /// let y: Tensor<Rank2<2, 2>, f64> = x.narrow::<1, 1, 2>();
    /// assert_eq!(y.to_array(), [[2.0, 3.0], [6.0, 7.0]]);
    /// assert_eq!(x.narrow::<0, 1, 1>().to_array(), [[5.0, 6.0, 7.0, 8.0]]);
    ///
    /// // The gradient reaches the elements of the range only.
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.narrow::<1, 1, 2>().sum().backward().get(&xt);
    /// assert_eq!(g.to_array(), [[0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0]]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
    /// let _ = x.narrow::<1, 3, 2>(); // 3 + 2 is past the end of 4 (reported by `cargo build`)
    /// ```
    #[must_use]
    #[track_caller]
    pub fn narrow<const AX: usize, const START: usize, const LEN: usize>(
        &self,
    ) -> Tensor<<S as ReplaceAxis<AX, Const<LEN>>>::Output, E, T>
    where
        S: ReplaceAxis<AX, Const<LEN>>,
    {
        const {
            if let Some(size) = <<S as ReplaceAxis<AX, Const<LEN>>>::AxisDim as Dim>::STATIC
                && START + LEN > size
            {
                let m = ConstMsg::new()
                    .str("narrow along axis ")
                    .num(AX)
                    .str(": start ")
                    .num(START)
                    .str(" + length ")
                    .num(LEN)
                    .str(" is past the end of an axis of size ")
                    .num(size);
                panic!("{}", m.as_str());
            }
        }
        let shape = self.typed_shape();
        check_range("narrow", AX, START, LEN, shape.axis_dim().size());
        self.range(AX, START, LEN, shape.replace_axis(Const))
    }

    /// The tensor cut in two along axis `AX`: its first `K` elements there, and the `L` after them,
    /// with both sizes in the type. `K + L` must be the size of the axis.
    ///
    /// Derivative: each part's gradient goes back to its own elements.
    ///
    /// PyTorch: `torch.split(x, [K, L], dim=AX)`. The parts are new buffers (PyTorch returns views).
    ///
    /// Naming an axis the shape does not have is a type error. Sizes that do not add up to a static
    /// axis are a `const` assertion, reported by `cargo build` (and `cargo test`), not by
    /// `cargo check`: stable Rust cannot add dimensions in a trait bound.
    ///
    /// # Panics
    /// When axis `AX` is a run-time dimension and `K + L` is not its size; the message names the
    /// sizes (`split along axis 0: 2 + 3 is not the axis size 4`).
    ///
    /// Edge values: elements are copied bit for bit, and so are their gradients. A part may be
    /// empty (`K = 0` or `L = 0`); its gradient contributes nothing.
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let (a, b): (Tensor<Rank2<2, 1>, f64>, Tensor<Rank2<2, 2>, f64>) = x.split::<1, 1, 2>();
    /// assert_eq!(a.to_array(), [[1.0], [4.0]]);
    /// assert_eq!(b.to_array(), [[2.0, 3.0], [5.0, 6.0]]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let _ = x.split::<1, 1, 1>(); // 1 + 1 is not 3 (reported by `cargo build`)
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity)] // the two parts' shapes, spelled out for the docs
    pub fn split<const AX: usize, const K: usize, const L: usize>(
        &self,
    ) -> (
        Tensor<<S as ReplaceAxis<AX, Const<K>>>::Output, E, T>,
        Tensor<<S as ReplaceAxis<AX, Const<L>>>::Output, E, T>,
    )
    where
        S: ReplaceAxis<AX, Const<K>> + ReplaceAxis<AX, Const<L>>,
    {
        const {
            if let Some(size) = <<S as ReplaceAxis<AX, Const<K>>>::AxisDim as Dim>::STATIC
                && K + L != size
            {
                let m = ConstMsg::new()
                    .str("split along axis ")
                    .num(AX)
                    .str(": ")
                    .num(K)
                    .str(" + ")
                    .num(L)
                    .str(" is not the axis size ")
                    .num(size);
                panic!("{}", m.as_str());
            }
        }
        let shape = self.typed_shape();
        let size = ReplaceAxis::<AX, Const<K>>::axis_dim(&shape).size();
        if K.checked_add(L) != Some(size) {
            split_failed(AX, K, L, size);
        }
        (
            self.range(AX, 0, K, shape.replace_axis(Const::<K>)),
            self.range(AX, K, L, shape.replace_axis(Const::<L>)),
        )
    }

    /// The range `start..start + len` of axis `ax` (checked to fit), with shape `out`.
    fn range<S2: Shape>(&self, ax: usize, start: usize, len: usize, out: S2) -> Tensor<S2, E, T> {
        let dims = self.shape();
        let (rows, src, width) = range_cols(dims.as_ref(), ax, start, len);
        let whole = Cols { row: width, at: 0 };
        let numel = rows * width;
        let mut y = Buffer::uninit(numel);
        copy_cols(self.data(), src, &mut y, whole, rows, width, |o, v| *o = v);
        let tape = self.tape().record([self.input()], numel, |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                copy_cols(dy, whole, dx, src, rows, width, |o, v| *o += v);
            })
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn split_failed(ax: usize, k: usize, l: usize, size: usize) -> ! {
    panic!("split along axis {ax}: {k} + {l} is not the axis size {size}")
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Rank1, Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn ranges_of_every_axis() {
        let x = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
        let y0: Tensor<Rank3<1, 3, 4>, f64> = x.narrow::<0, 1, 1>();
        assert_eq!(y0, Tensor::from_fn(|[_, b, c]| x[[1, b, c]]));
        let y1: Tensor<Rank3<2, 2, 4>, f64> = x.narrow::<1, 1, 2>();
        assert_eq!(y1, Tensor::from_fn(|[a, b, c]| x[[a, b + 1, c]]));
        let y2: Tensor<Rank3<2, 3, 3>, f64> = x.narrow::<2, 1, 3>();
        assert_eq!(y2, Tensor::from_fn(|[a, b, c]| x[[a, b, c + 1]]));
        assert_eq!(x.narrow::<2, 0, 4>(), x);
        // [[[12, 13], [22, 23]], [[112, 113], [122, 123]]]
        let y = x.narrow::<1, 1, 2>().narrow::<2, 2, 2>();
        assert_eq!(
            y.to_array(),
            [
                [[12.0, 13.0], [22.0, 23.0]],
                [[112.0, 113.0], [122.0, 123.0]]
            ]
        );
    }

    #[test]
    fn gradient_literal() {
        // f = sum(narrow(x, axis 1, 1..3) * w) with w = [[1, 2], [3, 4]]: df/dx = w in columns 1 and
        // 2, 0 in columns 0 and 3.
        let x = Tensor::from([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.narrow::<1, 1, 2>() * &w).sum().backward().get(&xt);
        assert_eq!(g.to_array(), [[0.0, 1.0, 2.0, 0.0], [0.0, 3.0, 4.0, 0.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank4<2, 3, 4, 2>, f64> = random(1);
        let w1: Tensor<Rank4<2, 2, 4, 2>, f64> = random(2);
        let w3: Tensor<Rank4<2, 3, 4, 1>, f64> = random(3);
        gradcheck(|x| (x.narrow::<1, 1, 2>() * &w1).sum(), &x).unwrap();
        gradcheck(|x| (x.narrow::<3, 1, 1>() * &w3).sum(), &x).unwrap();
        // used twice: two overlapping ranges and the whole tensor
        gradcheck(
            |x| {
                (x.narrow::<1, 0, 2>() * x.narrow::<1, 1, 2>()).sum()
                    + x.narrow::<1, 0, 3>().exp().sum()
            },
            &x,
        )
        .unwrap();
    }

    #[test]
    fn split_gives_both_parts_and_their_gradients() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let (a, b): (Tensor<Rank2<1, 3>, f64>, Tensor<Rank2<1, 3>, f64>) = x.split::<0, 1, 1>();
        assert_eq!(a.to_array(), [[1.0, 2.0, 3.0]]);
        assert_eq!(b.to_array(), [[4.0, 5.0, 6.0]]);
        // f = sum(a * 2) + sum(b^2): df/dx = 2 in the first column, 2 x in the others.
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let (a, b) = xt.split::<1, 1, 2>();
        let g = ((a * 2.0).sum() + b.powi(2).sum()).backward().get(&xt);
        assert_eq!(g.to_array(), [[2.0, 4.0, 6.0], [2.0, 10.0, 12.0]]);
        let y: Tensor<Rank3<2, 5, 3>, f64> = random(4);
        let w: Tensor<Rank3<2, 3, 3>, f64> = random(5);
        gradcheck(
            |y| {
                let (p, q) = y.split::<1, 2, 3>();
                p.sum_axis::<1>().powi(2).sum() + (q * &w).sum()
            },
            &y,
        )
        .unwrap();
    }

    #[test]
    fn empty_ranges() {
        let x = Tensor::from([1.0, 2.0, 3.0]);
        let e: Tensor<Rank1<0>, f64> = x.narrow::<0, 3, 0>();
        assert_eq!(e.numel(), 0);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let (a, b) = xt.split::<0, 0, 3>();
        assert_eq!(a.numel(), 0);
        let g = (a.sum() + b.sum() * 2.0).backward().get(&xt);
        assert_eq!(g.to_array(), [2.0, 2.0, 2.0]);
    }

    #[test]
    fn run_time_axes() {
        let x = Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        let y = x.narrow::<0, 1, 2>();
        let _: &Tensor<(Const<2>, Const<2>), f64> = &y;
        assert_eq!(y.to_vec(), vec![3.0, 4.0, 5.0, 6.0]);
        let z = x.narrow::<1, 1, 1>();
        let _: &Tensor<(usize, Const<1>), f64> = &z;
        assert_eq!(z.to_vec(), vec![2.0, 4.0, 6.0]);
        let (a, b) = x.split::<0, 1, 2>();
        assert_eq!((a.to_vec(), b.to_vec()), (vec![1.0, 2.0], y.to_vec()));
        let w = Tensor::from([[1.0, -1.0], [2.0, 0.5]]).into_dims();
        gradcheck(|x| (x.narrow::<0, 1, 2>() * &w).sum(), &x).unwrap();
    }

    #[test]
    #[should_panic(
        expected = "narrow along axis 0: start 2 + length 2 is past the end of an axis of size 3"
    )]
    fn a_run_time_range_past_the_end_panics() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let _ = x.narrow::<0, 2, 2>();
    }

    #[test]
    #[should_panic(expected = "split along axis 0: 1 + 1 is not the axis size 3")]
    fn a_run_time_split_that_does_not_add_up_panics() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let _ = x.split::<0, 1, 1>();
    }
}
