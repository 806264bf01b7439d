//! `transpose`: the last two axes swapped (a matrix transpose, batched over any leading axes), and
//! `transpose_axes`: any two axes swapped.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::{
    Axes2, Axes3, Axes4, Axes5, Axes6, Element, PermuteTo, Shape, Tensor, Tracking, Transposable,
};

/// The rule of [`Tensor::transpose_axes`]: axes `A` and `B` exist in `Self` (a shape of rank 2 to 6),
/// and `Output` is `Self` with those two axes swapped.
///
/// Implemented for every `A` and `B` below the rank, `A == B` included (the identity, as in
/// PyTorch), so an axis out of range is a type error, reported by `cargo check`.
///
/// ```
/// use shaped::{Const, Rank3, TransposeAxes};
/// let _: <Rank3<2, 3, 4> as TransposeAxes<0, 2>>::Output = Rank3::<4, 3, 2>;
/// let rows = (7_usize, Const::<3>, Const::<4>);
/// assert_eq!(TransposeAxes::<0, 1>::transposed_axes(&rows), (Const::<3>, 7, Const::<4>));
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot swap axes {A} and {B} of `{Self}`: an axis is out of range",
    label = "`{Self}` does not have both axis {A} and axis {B}",
    note = "axes count from 0, outermost first: a rank-N tensor has axes 0 to N - 1; `transpose_axes` \
            needs a rank of 2 to 6"
)]
pub trait TransposeAxes<const A: usize, const B: usize>: Shape {
    /// The shape with axes `A` and `B` swapped.
    type Output: Shape;
    /// The swap as a permutation: output axis `i` is input axis `AXES[i]`.
    const AXES: &'static [usize];
    /// The shape with axes `A` and `B` swapped.
    ///
    /// ```
    /// use shaped::{Const, Rank3, Shape, TransposeAxes};
    /// assert_eq!(TransposeAxes::<0, 2>::transposed_axes(&Rank3::<2, 3, 4>).dims(), [4, 3, 2]);
    /// assert_eq!(TransposeAxes::<1, 1>::transposed_axes(&(7_usize, Const::<3>)), (7, Const::<3>));
    /// ```
    fn transposed_axes(&self) -> Self::Output;
}

/// The permutation (an `AxesN`) that swaps axes `A` and `B` of a shape of rank `N`, implemented for
/// `[usize; N]` (a shape's [`Shape::Dims`]) and every `A`, `B` below `N`.
#[doc(hidden)]
pub trait SwapPerm<const A: usize, const B: usize> {
    /// The permutation.
    type Perm;
}

#[diagnostic::do_not_recommend]
impl<S: Shape, const A: usize, const B: usize> TransposeAxes<A, B> for S
where
    <S as Shape>::Dims: SwapPerm<A, B>,
    S: PermuteTo<<<S as Shape>::Dims as SwapPerm<A, B>>::Perm>,
{
    type Output = <S as PermuteTo<<<S as Shape>::Dims as SwapPerm<A, B>>::Perm>>::Output;
    const AXES: &'static [usize] =
        <S as PermuteTo<<<S as Shape>::Dims as SwapPerm<A, B>>::Perm>>::AXES;
    #[inline]
    fn transposed_axes(&self) -> Self::Output {
        self.permuted()
    }
}

/// For each rank: the identity permutation (for `A == B`, one impl per axis), then each pair `A < B`
/// with its swap (one impl for `(A, B)` and one for `(B, A)`).
macro_rules! swap_perms {
    ($( $rank:literal $axes:ident [$($i:literal),*] = $id:tt:
        $( ($a:literal, $b:literal) => ($($p:literal),*) );* ; )*) => {$(
        $(
            swap_perms!(@same $rank $axes $i $id);
        )*
        $(
            impl SwapPerm<$a, $b> for [usize; $rank] {
                type Perm = $axes<$($p),*>;
            }
            impl SwapPerm<$b, $a> for [usize; $rank] {
                type Perm = $axes<$($p),*>;
            }
        )*
    )*};
    (@same $rank:literal $axes:ident $i:literal ($($id:literal),*)) => {
        impl SwapPerm<$i, $i> for [usize; $rank] {
            type Perm = $axes<$($id),*>;
        }
    };
}

swap_perms! {
    2 Axes2 [0, 1] = (0, 1): (0, 1) => (1, 0);
    3 Axes3 [0, 1, 2] = (0, 1, 2): (0, 1) => (1, 0, 2); (0, 2) => (2, 1, 0); (1, 2) => (0, 2, 1);
    4 Axes4 [0, 1, 2, 3] = (0, 1, 2, 3):
        (0, 1) => (1, 0, 2, 3); (0, 2) => (2, 1, 0, 3); (0, 3) => (3, 1, 2, 0);
        (1, 2) => (0, 2, 1, 3); (1, 3) => (0, 3, 2, 1); (2, 3) => (0, 1, 3, 2);
    5 Axes5 [0, 1, 2, 3, 4] = (0, 1, 2, 3, 4):
        (0, 1) => (1, 0, 2, 3, 4); (0, 2) => (2, 1, 0, 3, 4); (0, 3) => (3, 1, 2, 0, 4);
        (0, 4) => (4, 1, 2, 3, 0); (1, 2) => (0, 2, 1, 3, 4); (1, 3) => (0, 3, 2, 1, 4);
        (1, 4) => (0, 4, 2, 3, 1); (2, 3) => (0, 1, 3, 2, 4); (2, 4) => (0, 1, 4, 3, 2);
        (3, 4) => (0, 1, 2, 4, 3);
    6 Axes6 [0, 1, 2, 3, 4, 5] = (0, 1, 2, 3, 4, 5):
        (0, 1) => (1, 0, 2, 3, 4, 5); (0, 2) => (2, 1, 0, 3, 4, 5); (0, 3) => (3, 1, 2, 0, 4, 5);
        (0, 4) => (4, 1, 2, 3, 0, 5); (0, 5) => (5, 1, 2, 3, 4, 0); (1, 2) => (0, 2, 1, 3, 4, 5);
        (1, 3) => (0, 3, 2, 1, 4, 5); (1, 4) => (0, 4, 2, 3, 1, 5); (1, 5) => (0, 5, 2, 3, 4, 1);
        (2, 3) => (0, 1, 3, 2, 4, 5); (2, 4) => (0, 1, 4, 3, 2, 5); (2, 5) => (0, 1, 5, 3, 4, 2);
        (3, 4) => (0, 1, 2, 4, 3, 5); (3, 5) => (0, 1, 2, 5, 4, 3); (4, 5) => (0, 1, 2, 3, 5, 4);
}

/// Side of the square tiles the transpose walks, so that both the rows read and the rows written stay
/// in cache.
const BLOCK: usize = 32;

/// For each of `batch` row-major `rows x cols` matrices in `src`, combines element `[i, j]` into
/// element `[j, i]` of the matching `cols x rows` matrix in `dst` with `put(&mut dst_elem, src_elem)`.
pub(crate) fn transpose_into<E: Copy>(
    src: &[E],
    batch: usize,
    rows: usize,
    cols: usize,
    dst: &mut [E],
    put: impl Fn(&mut E, E),
) {
    let size = rows * cols;
    if size == 0 {
        return;
    }
    for (s, d) in src
        .chunks_exact(size)
        .zip(dst.chunks_exact_mut(size))
        .take(batch)
    {
        for i0 in (0..rows).step_by(BLOCK) {
            let i1 = (i0 + BLOCK).min(rows);
            for j0 in (0..cols).step_by(BLOCK) {
                let j1 = (j0 + BLOCK).min(cols);
                for j in j0..j1 {
                    let out = &mut d[j * rows + i0..j * rows + i1];
                    for (o, i) in out.iter_mut().zip(i0..i1) {
                        put(o, s[i * cols + j]);
                    }
                }
            }
        }
    }
}

/// `(batch, rows, cols)` of a shape of rank 2 or more: the last two dimensions and the product of the
/// others.
fn split_last_two(dims: &[usize]) -> (usize, usize, usize) {
    let r = dims.len();
    (dims[..r - 2].iter().product(), dims[r - 2], dims[r - 1])
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The last two axes swapped: `y[..., j, i] = x[..., i, j]`. For a matrix this is the transpose;
    /// for a batch of matrices (rank 3 to 6) each matrix is transposed.
    ///
    /// Derivative: the gradient is transposed back (`dx = dy` with its last two axes swapped).
    ///
    /// PyTorch: `x.transpose(-2, -1)` (or `x.mT`); numpy: `np.swapaxes(x, -2, -1)`. It differs from
    /// numpy's `x.T` and `np.transpose(x)`, which *reverse* all axes: the two agree for a matrix
    /// only. For other orders of axes, use [`permute`](Tensor::permute).
    ///
    /// The result is a new buffer (a blocked copy). A tensor with fewer than two axes has no last two
    /// axes, so `transpose` on a vector or a scalar does not compile; reshape a vector to
    /// `Rank2<1, N>` or `Rank2<N, 1>` first.
    ///
    /// Edge values: elements are moved, never computed, so NaN, infinities and the sign of zero come
    /// through bit for bit, and so do their gradients. Zero-sized dimensions are allowed (`[0, 3]`
    /// becomes `[3, 0]`).
    ///
    /// The output shape `S2` is always `<S as Transposable>::Output`, inferred, never written: it is a
    /// type parameter rather than part of the return type so that `transpose` on a vector reports
    /// [`Transposable`]'s message, not a generic "trait bounds were not satisfied".
    ///
    /// With run-time dimensions the result is a tuple too: `(usize, Const<3>)` becomes
    /// `(Const<3>, usize)`.
    ///
    /// ```
    /// use shaped::{Rank3, Tensor};
    /// // np.arange(1, 7).reshape(2, 3), transposed
    /// let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(a.transpose().to_array(), [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]);
    /// // batched: a (2, 1, 3) becomes a (2, 3, 1)
    /// let b = Tensor::<Rank3<2, 1, 3>>::from_fn(|[i, _, k]| (10 * i + k) as f32);
    /// assert_eq!(b.transpose().to_array(), [[[0.0], [1.0], [2.0]], [[10.0], [11.0], [12.0]]]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::Tensor;
    /// let v = Tensor::from([1.0, 2.0, 3.0]);
    /// let _ = v.transpose(); // a vector has one axis
    /// ```
    #[must_use]
    pub fn transpose<S2: Shape>(&self) -> Tensor<S2, E, T>
    where
        S: Transposable<Output = S2>,
    {
        let shape = self.typed_shape();
        let (batch, rows, cols) = split_last_two(shape.dims().as_ref());
        let mut y = Buffer::uninit(self.numel());
        transpose_into(self.data(), batch, rows, cols, &mut y, |d, s| *d = s);
        let tape = self.tape().record([self.input()], self.numel(), |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                // dy is (batch, cols, rows): transpose it back and add.
                transpose_into(dy, batch, cols, rows, dx, |d, s| *d += s);
            })
        });
        Tensor::from_parts(Arc::new(y), shape.transposed(), tape)
    }

    /// Axes `A` and `B` swapped: `y[.., j, .., i, ..] = x[.., i, .., j, ..]` with `i` at position `A`
    /// and `j` at position `B`. `x.transpose_axes::<0, 2>()` turns a `(N, C, L)` into a `(L, C, N)`.
    ///
    /// Derivative: the gradient is swapped back (a swap is its own inverse).
    ///
    /// PyTorch: `x.transpose(A, B)` (also `x.swapaxes(A, B)`); numpy: `np.swapaxes(x, A, B)`.
    /// [`transpose`](Tensor::transpose) swaps the last two axes of any rank; `transpose_axes` names
    /// the two, for ranks 2 to 6, and [`permute`](Tensor::permute) reorders them all. `A == B`
    /// gives a copy of the tensor, as in PyTorch.
    ///
    /// An axis that the shape does not have is a compile error ([`TransposeAxes`]). With run-time
    /// dimensions the result is a tuple whose dimensions move with their axes: `(usize, Const<3>)`
    /// becomes `(Const<3>, usize)`.
    ///
    /// The result is a new buffer (a strided copy).
    ///
    /// Edge values: elements are moved, never computed, so NaN, infinities and the sign of zero come
    /// through bit for bit, and so do their gradients. Zero-sized dimensions are allowed.
    ///
    /// ```
    /// use shaped::{Rank3, Tensor};
    /// let x = Tensor::<Rank3<2, 3, 4>>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f32);
    /// let y: Tensor<Rank3<4, 3, 2>> = x.transpose_axes::<0, 2>();
    /// assert_eq!(y[[3, 1, 0]], 13.0);
    /// assert_eq!(y[[0, 2, 1]], x[[1, 2, 0]]);
    /// // the last two axes: the same as `transpose`
    /// assert_eq!(x.transpose_axes::<1, 2>(), x.transpose());
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Rank3, Tensor};
    /// let x: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    /// let _ = x.transpose_axes::<0, 3>(); // a rank-3 tensor has axes 0, 1 and 2
    /// ```
    #[must_use]
    pub fn transpose_axes<const A: usize, const B: usize>(
        &self,
    ) -> Tensor<<S as TransposeAxes<A, B>>::Output, E, T>
    where
        S: TransposeAxes<A, B>,
    {
        let shape = self.typed_shape();
        self.permute_with(S::AXES, shape.transposed_axes())
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{
        Const, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, Tape, Tensor, TransposeAxes, gradcheck,
    };

    /// Whether `TransposeAxes<A, B>` of `S` swaps axes `A` and `B`, in its permutation and its shape.
    fn swaps<S: TransposeAxes<A, B> + Default, const A: usize, const B: usize>() -> bool {
        let mut want: Vec<usize> = (0..S::RANK).collect();
        want.swap(A, B);
        let dims = S::default().dims();
        let out = S::default().transposed_axes().dims();
        let moved: Vec<usize> = want.iter().map(|&k| dims.as_ref()[k]).collect();
        S::AXES == want.as_slice() && out.as_ref() == moved.as_slice()
    }

    /// `swaps` for every pair of axes of the shape `$s`, whose axes are listed.
    macro_rules! every_pair {
        ($s:ty; $axes:tt) => {
            every_pair!(@rows $s; $axes; $axes)
        };
        (@rows $s:ty; [$($a:tt)*]; $bs:tt) => {
            true $(&& every_pair!(@row $s; $a; $bs))*
        };
        (@row $s:ty; $a:tt; [$($b:tt)*]) => {
            true $(&& swaps::<$s, $a, $b>())*
        };
    }

    #[test]
    fn every_swap_of_every_rank() {
        assert!(every_pair!(Rank2<2, 3>; [0 1]));
        assert!(every_pair!(Rank3<2, 3, 4>; [0 1 2]));
        assert!(every_pair!(Rank4<2, 3, 4, 5>; [0 1 2 3]));
        assert!(every_pair!(Rank5<2, 3, 4, 5, 6>; [0 1 2 3 4]));
        assert!(every_pair!(Rank6<2, 3, 4, 5, 6, 7>; [0 1 2 3 4 5]));
        assert!(every_pair!((Const<2>, Const<3>, Const<4>); [0 1 2]));
    }

    #[test]
    fn transpose_axes_matches_the_definition() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(28);
        let y = x.transpose_axes::<1, 3>();
        let want = Tensor::<Rank4<2, 5, 4, 3>, f64>::from_fn(|[a, d, c, b]| x[[a, b, c, d]]);
        assert_eq!(y, want);
        assert_eq!(x.transpose_axes::<3, 1>(), want);
        assert_eq!(y.transpose_axes::<1, 3>(), x);
        assert_eq!(x.transpose_axes::<2, 3>(), x.transpose());
        assert_eq!(x.transpose_axes::<2, 2>(), x);
        let h: Tensor<Rank6<2, 1, 3, 1, 2, 2>, f64> = random(29);
        let g = h.transpose_axes::<0, 4>();
        let want = Tensor::<Rank6<2, 1, 3, 1, 2, 2>, f64>::from_fn(|[f, b, c, d, a, g]| {
            h[[a, b, c, d, f, g]]
        });
        assert_eq!(g, want);
    }

    #[test]
    fn transpose_axes_with_run_time_dimensions() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(30);
        let rows = 2;
        let xd: Tensor<(usize, Const<3>, Const<4>), f64> =
            Tensor::from_vec_with((rows, Const, Const), x.to_vec()).unwrap();
        let y = xd.transpose_axes::<0, 2>();
        let _: &Tensor<(Const<4>, Const<3>, usize), f64> = &y;
        assert_eq!(y.typed_shape(), (Const, Const, 2));
        assert_eq!(y.as_slice(), x.transpose_axes::<0, 2>().as_slice());
    }

    #[test]
    fn transpose_axes_gradient_literal() {
        // f = sum(swap01(x) * w) for x of shape (2, 1, 2): df/dx[a][b][c] = w[b][a][c].
        let x = Tensor::from([[[1.0, 2.0]], [[3.0, 4.0]]]);
        let w = Tensor::from([[[1.0, 10.0], [100.0, 1000.0]]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.transpose_axes::<0, 1>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[[1.0, 10.0]], [[100.0, 1000.0]]]);
    }

    #[test]
    fn transpose_axes_gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(31);
        let w: Tensor<Rank3<4, 3, 2>, f64> = random(32);
        gradcheck(|x| (x.transpose_axes::<0, 2>() * &w).sum(), &x).unwrap();
        // used twice: a swap and the same swap of the swap
        let v: Tensor<Rank3<2, 3, 4>, f64> = random(33);
        gradcheck(
            |x| {
                (x.transpose_axes::<0, 2>().transpose_axes::<2, 0>() * &x * &v).sum()
                    + (x.transpose_axes::<2, 0>() * &w).sum()
            },
            &x,
        )
        .unwrap();
    }

    #[test]
    fn transpose_swaps_rows_and_columns() {
        // Element [i][j] of the transpose is element [j][i]: [[1, 2, 3], [4, 5, 6]] transposed is
        // [[1, 4], [2, 5], [3, 6]].
        let a = Tensor::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).reshape::<Rank2<2, 3>>();
        assert_eq!(
            a.transpose().to_array(),
            [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
        );
    }

    #[test]
    fn matches_the_definition_across_tile_edges() {
        // 37 x 70 spans several 32 x 32 tiles with ragged edges; three matrices in the batch.
        let x: Tensor<Rank3<3, 37, 70>, f64> = random(20);
        let y = x.transpose();
        assert_eq!(y.shape(), [3, 70, 37]);
        let want = Tensor::<Rank3<3, 70, 37>, f64>::from_fn(|[b, j, i]| x[[b, i, j]]);
        assert_eq!(y, want);
        assert_eq!(y.transpose(), x);
    }

    #[test]
    fn rank4_swaps_only_the_last_two_axes() {
        let x = Tensor::<Rank4<2, 3, 4, 5>, f64>::from_fn(|[a, b, c, d]| {
            (1000 * a + 100 * b + 10 * c + d) as f64
        });
        let y = x.transpose();
        assert_eq!(y.shape(), [2, 3, 5, 4]);
        assert_eq!(y[[1, 2, 4, 3]], 1234.0);
        assert_eq!(y[[0, 1, 0, 3]], 130.0);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(x^T * w): df/dx[i][j] = w[j][i], so the gradient is w transposed back.
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let w = Tensor::from([[1.0, 10.0], [100.0, 1000.0], [-1.0, -10.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.transpose() * &w).sum().backward();
        assert_eq!(
            g.get(&xt).to_array(),
            [[1.0, 100.0, -1.0], [10.0, 1000.0, -10.0]]
        );
    }

    #[test]
    fn used_twice_accumulates() {
        // f = sum(x^T * x) = sum_ij x[j][i] x[i][j]: df/dx[i][j] = 2 x[j][i].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.transpose() * &xt).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[2.0, 6.0], [4.0, 8.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x2: Tensor<Rank2<3, 5>, f64> = random(21);
        let w2: Tensor<Rank2<5, 3>, f64> = random(22);
        gradcheck(|x| (x.transpose() * &w2).sum(), &x2).unwrap();
        let x3: Tensor<Rank3<2, 3, 4>, f64> = random(23);
        let w3: Tensor<Rank3<2, 4, 3>, f64> = random(24);
        gradcheck(|x| (x.transpose() * &w3).sum(), &x3).unwrap();
        let x4: Tensor<Rank4<2, 1, 3, 2>, f64> = random(25);
        let w4: Tensor<Rank4<2, 1, 2, 3>, f64> = random(26);
        gradcheck(|x| (x.transpose().exp() * &w4).sum(), &x4).unwrap();
        // used twice: through a double transpose and directly
        let v3: Tensor<Rank3<2, 3, 4>, f64> = random(27);
        gradcheck(
            |x| (x.transpose().transpose() * &x * &v3).sum() + (x.transpose() * &w3).sum(),
            &x3,
        )
        .unwrap();
    }

    #[test]
    fn empty_matrices_transpose_to_empty() {
        let x: Tensor<Rank3<2, 0, 3>> = Tensor::zeros();
        assert_eq!(x.transpose().shape(), [2, 3, 0]);
    }
}
