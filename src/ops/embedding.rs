//! `embedding`: rows of a table looked up by [`Indices`], with a gradient that touches only the rows
//! looked up.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::shape::check_same;
use crate::{Const, Dim, DimEq, Element, Indices, Rank2, Shape, Tensor, Tracking};

/// The shape rule of [`Tensor::embedding`]: `Self` is a table of rows that ids below `V` look up, a
/// matrix `[V, D]`.
///
/// Its number of rows must be `V`: a type error between static sizes, a check when the op runs
/// otherwise.
///
/// ```
/// use shaped::{Const, EmbeddingTable, Rank2};
/// fn table<S: EmbeddingTable<V>, V: shaped::Dim>() {}
/// table::<Rank2<10, 4>, Const<10>>();
/// table::<(usize, Const<4>), Const<10>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot look up ids below `{V}` in `{Self}`: an embedding table is a matrix `[V, D]` \
               with one row per id",
    label = "not a matrix, or not one row for each id below `{V}`",
    note = "`Indices<N, V>` are checked to be below `V` when they are built; the table needs `V` rows"
)]
pub trait EmbeddingTable<V: Dim>: Shape {
    /// The width `D` of a row.
    type Width: Dim;
    /// The shape of `n` rows: `(N, D)`.
    #[doc(hidden)]
    fn rows_of<N: Dim>(&self, n: N) -> (N, Self::Width);
}

#[diagnostic::do_not_recommend]
impl<const R: usize, const D: usize, V: Dim> EmbeddingTable<V> for Rank2<R, D>
where
    Const<R>: DimEq<V>,
{
    type Width = Const<D>;
    #[inline]
    fn rows_of<N: Dim>(&self, n: N) -> (N, Const<D>) {
        (n, Const)
    }
}

#[diagnostic::do_not_recommend]
impl<R: Dim, D: Dim, V: Dim> EmbeddingTable<V> for (R, D)
where
    R: DimEq<V>,
{
    type Width = D;
    #[inline]
    fn rows_of<N: Dim>(&self, n: N) -> (N, D) {
        (n, self.1)
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The rows of the table `self` (`[V, D]`: one row of `D` values per id) at the given ids, in
    /// their order: `y[j, :] = table[ids[j], :]`, a `(N, D)` for `N` ids. The lookup of an
    /// embedding layer.
    ///
    /// Derivative: `d table[v, :] = sum of dy[j, :] over the j with ids[j] = v`. Rows that no id
    /// names get 0.
    ///
    /// PyTorch: `F.embedding(ids, table)` (without `padding_idx`, `max_norm` or `sparse`). The same
    /// values as [`index_select`](Tensor::index_select) along axis 0. [`Indices`] are checked
    /// against `V` when they are built; their bound must be the table's number of rows: a type error
    /// between static sizes, a run-time check otherwise. A table that is not a matrix is a type
    /// error.
    ///
    /// Cost, for `N` ids into a `V x D` table: the forward copies `N x D` values. The backward is
    /// sparse: it adds each of the `N` gradient rows into the row it came from, `N x D` additions,
    /// and reads or writes no other row. The one dense step is the tape's: the table's gradient is a
    /// `V x D` buffer, zeroed once when it is first used (not at all if the table's gradient already
    /// has a buffer, as when the table is used twice).
    ///
    /// # Panics
    /// When the table's number of rows or the ids' bound is a run-time dimension and they differ;
    /// the message names both (`embedding: the table's rows and the ids' bound differ: 5 and 4`).
    ///
    /// Edge values: rows are copied bit for bit (NaN, infinities, the sign of zero); the gradient of
    /// a row named twice is the sum of both (so `inf` and `-inf` give NaN, as PyTorch). No ids give
    /// a `(0, D)` result and a zero gradient.
    ///
    /// ```
    /// use shaped::{Const, Indices, Rank2, Tape, Tensor};
    /// // A vocabulary of 4 tokens, each a row of 2 values.
    /// let table = Tensor::from([[0.0, 0.1], [1.0, 1.1], [2.0, 2.1], [3.0, 3.1]]);
    /// let ids = Indices::<usize, Const<4>>::from_slice(&[3, 1, 3])?;
    /// let rows = table.embedding(&ids);
    /// assert_eq!(rows.shape(), [3, 2]);
    /// assert_eq!(rows.to_vec(), vec![3.0, 3.1, 1.0, 1.1, 3.0, 3.1]);
    ///
    /// // Row 3 is looked up twice, rows 0 and 2 not at all.
    /// let tape = Tape::new();
    /// let tt = tape.watch(&table);
    /// let g: Tensor<Rank2<4, 2>, f64> = tt.embedding(&ids).sum().backward().get(&tt);
    /// assert_eq!(g.to_array(), [[0.0, 0.0], [1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Const, Indices, Rank2, Tensor};
    /// let table: Tensor<Rank2<4, 2>> = Tensor::zeros();
    /// let ids = Indices::<Const<1>, Const<5>>::new([4]).unwrap(); // ids of a vocabulary of 5
    /// let _ = table.embedding(&ids);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn embedding<N: Dim, V: Dim, D: Dim>(&self, ids: &Indices<N, V>) -> Tensor<(N, D), E, T>
    where
        S: EmbeddingTable<V, Width = D>,
    {
        let op = ("embedding", "the table's rows and the ids' bound");
        self.select(op, 0, ids, self.typed_shape().rows_of(ids.count()))
    }

    /// [`embedding`](Tensor::embedding) with a padding row: the same rows, but the row
    /// `padding_idx` gets no gradient. Ids equal to `padding_idx` still look up that row (whatever
    /// it holds); the gradients of their output rows are dropped, so the row stays as it is in
    /// training. Padding ids fill the short sequences of a batch.
    ///
    /// Derivative: `d table[v, :] = sum of dy[j, :] over the j with ids[j] = v`, for every
    /// `v != padding_idx`; `d table[padding_idx, :] = 0`.
    ///
    /// PyTorch: `F.embedding(ids, table, padding_idx=padding_idx)`. A negative `padding_idx` of
    /// PyTorch (counted from the end) is `V + padding_idx` here.
    ///
    /// # Panics
    /// When `padding_idx` is not below the table's number of rows (PyTorch: `Padding_idx must be
    /// within num_embeddings`), the message names both (`embedding: padding_idx 5 is not below the
    /// table's 5 rows`); and as [`embedding`](Tensor::embedding) when the table's number of rows
    /// and the ids' bound differ.
    ///
    /// Edge values: as [`embedding`](Tensor::embedding); a NaN or an infinity in a gradient row of
    /// a padding id is dropped with the row.
    ///
    /// ```
    /// use shaped::{Const, Indices, Rank2, Tape, Tensor};
    /// let table = Tensor::from([[0.0, 0.0], [1.0, 1.1], [2.0, 2.1]]);
    /// // Two sequences of 2 tokens, the second padded with id 0.
    /// let ids = Indices::<usize, Const<3>>::from_slice(&[2, 1, 1, 0])?;
    /// let tape = Tape::new();
    /// let tt = tape.watch(&table);
    /// let rows = tt.embedding_with_padding(&ids, 0);
    /// assert_eq!(rows.to_vec(), vec![2.0, 2.1, 1.0, 1.1, 1.0, 1.1, 0.0, 0.0]);
    /// let g: Tensor<Rank2<3, 2>, f64> = rows.sum().backward().get(&tt);
    /// assert_eq!(g.to_array(), [[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    pub fn embedding_with_padding<N: Dim, V: Dim, D: Dim>(
        &self,
        ids: &Indices<N, V>,
        padding_idx: usize,
    ) -> Tensor<(N, D), E, T>
    where
        S: EmbeddingTable<V, Width = D>,
    {
        let out = self.typed_shape().rows_of(ids.count());
        let (rows, width) = (self.shape().as_ref()[0], out.1.size());
        check_same(
            "embedding_with_padding",
            "the table's rows and the ids' bound",
            rows,
            ids.bound().size(),
        );
        assert!(
            padding_idx < rows,
            "embedding: padding_idx {padding_idx} is not below the table's {rows} rows"
        );
        let numel = ids.len() * width;
        // Rows of no values have no chunks to visit (and `chunks_exact` needs a length above 0).
        let chunk = width.max(1);
        let (x, mut y) = (self.data(), Buffer::uninit(numel));
        for (row, &i) in y.chunks_exact_mut(chunk).zip(ids.as_slice()) {
            row.copy_from_slice(&x[i * width..(i + 1) * width]);
        }
        let tape = self.tape().record([self.input()], numel, |[node]| {
            let ids = ids.clone();
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                // Only the rows looked up are touched, and never the padding row.
                let dx = grads.acc(node);
                for (from, &i) in dy.chunks_exact(chunk).zip(ids.as_slice()) {
                    if i != padding_idx {
                        let to = &mut dx[i * width..(i + 1) * width];
                        for (d, &g) in to.iter_mut().zip(from) {
                            *d += g;
                        }
                    }
                }
            })
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Indices, Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn gradient_literal() {
        // f = sum(embedding(table, [1, 1, 0]) * w) with w = [[1, 2], [3, 4], [5, 6]]:
        // d table[0] = w[2] = [5, 6], d table[1] = w[0] + w[1] = [4, 6], d table[2] = 0.
        let table = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let ids = Indices::<Const<3>, Const<3>>::new([1, 1, 0]).unwrap();
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).into_dims();
        let tape = Tape::new();
        let tt = tape.watch(&table);
        let y = tt.embedding(&ids);
        assert_eq!(y.to_vec(), vec![3.0, 4.0, 3.0, 4.0, 1.0, 2.0]);
        let g = (y * &w).sum().backward().get(&tt);
        assert_eq!(g.to_array(), [[5.0, 6.0], [4.0, 6.0], [0.0, 0.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let table: Tensor<Rank2<5, 3>, f64> = random(1);
        let ids = Indices::<usize, Const<5>>::from_slice(&[4, 0, 4, 2]).unwrap();
        let w = Tensor::from_vec_with((4_usize, Const::<3>), random::<Rank2<4, 3>>(2).into_vec())
            .unwrap();
        gradcheck(|t| (t.embedding(&ids) * &w).sum(), &table).unwrap();
        // used twice: two lookups into one table, and a penalty on the whole table
        let other = Indices::<usize, Const<5>>::from_slice(&[1, 4, 1, 1]).unwrap();
        gradcheck(
            |t| (t.embedding(&ids) * t.embedding(&other)).sum() + t.powi(2).sum(),
            &table,
        )
        .unwrap();
    }

    #[test]
    fn padding_gradient_literal() {
        // f = sum(embedding_with_padding(table, [2, 0, 2, 1], 2) * w), w rows [1, 2], [3, 4],
        // [5, 6], [7, 8]: d table[0] = w[1] = [3, 4], d table[1] = w[3] = [7, 8], and the padding
        // row 2, looked up twice, gets 0 (not w[0] + w[2]).
        let table = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let ids = Indices::<Const<4>, Const<3>>::new([2, 0, 2, 1]).unwrap();
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]).into_dims();
        let tape = Tape::new();
        let tt = tape.watch(&table);
        let y = tt.embedding_with_padding(&ids, 2);
        // The padding row is still returned.
        assert_eq!(y.to_vec(), vec![5.0, 6.0, 1.0, 2.0, 5.0, 6.0, 3.0, 4.0]);
        let g = (y * &w).sum().backward().get(&tt);
        assert_eq!(g.to_array(), [[3.0, 4.0], [7.0, 8.0], [0.0, 0.0]]);
    }

    #[test]
    fn padding_gradient_matches_finite_differences_where_padding_rows_are_unused() {
        // The padding row's true derivative is not 0 when its output rows count; with weights 0
        // on the rows of padding ids it is, and every other row's gradient must be exact.
        let table: Tensor<Rank2<5, 3>, f64> = random(3);
        let ids = Indices::<usize, Const<5>>::from_slice(&[4, 1, 4, 1, 0]).unwrap();
        let mut w = random::<Rank2<5, 3>>(4).into_vec();
        for (j, &i) in ids.as_slice().iter().enumerate() {
            if i == 1 {
                w[3 * j..3 * j + 3].fill(0.0);
            }
        }
        let w = Tensor::from_vec_with((5_usize, Const::<3>), w).unwrap();
        // used twice: a padded lookup, and a penalty on the whole table
        gradcheck(
            |t| (t.embedding_with_padding(&ids, 1) * &w).sum() + t.powi(2).sum(),
            &table,
        )
        .unwrap();
    }

    #[test]
    #[should_panic(expected = "embedding: padding_idx 3 is not below the table's 3 rows")]
    fn a_padding_id_beyond_the_table_panics() {
        let table: Tensor<Rank2<3, 2>> = Tensor::zeros();
        let ids = Indices::<Const<1>, Const<3>>::new([0]).unwrap();
        let _ = table.embedding_with_padding(&ids, 3);
    }

    #[test]
    fn f32_tables_and_a_run_time_vocabulary_with_and_without_padding() {
        let table = Tensor::<(usize, Const<2>), f32>::from_vec_with(
            (3, Const),
            vec![0.5, -0.5, 1.5, -1.5, 2.5, -2.5],
        )
        .unwrap();
        let ids = Indices::<Const<2>, usize>::from_slice_with(3, &[2, 2]).unwrap();
        let y = table.embedding(&ids);
        let _: &Tensor<(Const<2>, Const<2>)> = &y;
        assert_eq!(y.to_vec(), vec![2.5, -2.5, 2.5, -2.5]);
        // With a padding id, and with no ids.
        let ids = Indices::<usize, usize>::from_slice_with(3, &[0, 2]).unwrap();
        let y = table.embedding_with_padding(&ids, 0);
        assert_eq!(y.to_vec(), vec![0.5, -0.5, 2.5, -2.5]);
        let none = Indices::<usize, usize>::from_slice_with(3, &[]).unwrap();
        assert_eq!(table.embedding_with_padding(&none, 0).shape(), [0, 2]);
    }

    #[test]
    #[should_panic(expected = "embedding: the table's rows and the ids' bound differ: 3 and 5")]
    fn a_run_time_vocabulary_of_another_size_panics() {
        let table: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let ids = Indices::<Const<1>, usize>::from_slice_with(5, &[4]).unwrap();
        let _ = table.embedding(&ids);
    }
}
