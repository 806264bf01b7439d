//! `transpose`: the last two axes swapped (a matrix transpose, batched over any leading axes).

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::{Element, Shape, Tensor, Tracking, Transposable};

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
    /// PyTorch: `x.transpose(-2, -1)` (or `x.mT`); numpy: `np.swapaxes(x, -2, -1)`. This is minima's
    /// default (`transpose(a)` swaps the last two axes). It differs from numpy's `x.T` and
    /// `np.transpose(x)`, which *reverse* all axes: the two agree for a matrix only. For other
    /// orders of axes, use [`permute`](Tensor::permute).
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
    /// // minima: transpose(np.arange(1, 7).reshape(2, 3))
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
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn the_minima_example() {
        // transpose(np.arange(1, 7).reshape(2, 3)) = [[1, 4], [2, 5], [3, 6]]
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
