//! `Embedding<V, D>`: a table of `V` learned rows of `D` values, looked up by token id.

use rand::Rng;

use crate::{Const, Dim, Element, Indices, Module, NoTape, Rank2, Tensor, Tracking};

/// A lookup table of `V` rows of `D` values, PyTorch's `nn.Embedding(V, D)` (parameter `weight`
/// `[V, D]`): `y[j, :] = weight[ids[j], :]`.
///
/// Derivative: `dweight[v, :] = sum of dy[j, :] over the j with ids[j] = v`; the backward adds each
/// gradient row into the row it came from and touches no other row (the rows no id names get 0), as
/// [`Tensor::embedding`].
///
/// The ids are [`Indices`] below `V`, checked when they are built; ids of another vocabulary size do
/// not compile. Their count `N` is static (`Const<K>`) or known at run time (`usize`).
///
/// A padding id (PyTorch's `padding_idx`, set with [`padded`](Embedding::padded) or
/// [`with_padding_idx`](Embedding::with_padding_idx)) still looks up its row, but that row gets no
/// gradient (see [`Tensor::embedding_with_padding`]): it stays as it is in training, zeros when
/// the table was made by [`padded`](Embedding::padded). No `max_norm` or sparse gradients.
///
/// ```
/// use shaped::nn::Embedding;
/// use shaped::{Const, Indices, Module, Tensor};
///
/// let table = Embedding::from_weights(Tensor::from([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]]));
/// let ids = Indices::<usize, Const<3>>::from_slice(&[2, 0, 2])?;
/// assert_eq!(table.forward(&ids).to_vec(), vec![2.0, 2.5, 0.0, 0.5, 2.0, 2.5]);
///
/// // Row 2 is looked up twice, row 1 not at all.
/// let (_, g) = table.value_and_grad(|t| t.forward(&ids).sum());
/// assert_eq!(g.weight.to_array(), [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]);
/// assert_eq!(table.params()[0].name, "weight");
/// # Ok::<(), shaped::Error>(())
/// ```
#[derive(Module, Clone, Debug)]
pub struct Embedding<const V: usize, const D: usize, E: Element = f32, T: Tracking<E> = NoTape> {
    /// `[V, D]`, as `nn.Embedding.weight`.
    pub weight: Tensor<Rank2<V, D>, E, T>,
    /// The row that gets no gradient, if any (`nn.Embedding.padding_idx`); not a parameter.
    #[module(skip)]
    pub padding_idx: Option<usize>,
}

impl<const V: usize, const D: usize, E: Element> Embedding<V, D, E> {
    /// A table with PyTorch's initialization: every entry drawn from `N(0, 1)`.
    ///
    /// ```
    /// use shaped::nn::Embedding;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// let table: Embedding<1000, 8, f64> = Embedding::new(&mut StdRng::seed_from_u64(0));
    /// let w = table.weight.as_slice();
    /// let var = w.iter().map(|v| v * v).sum::<f64>() / 8000.0;
    /// assert!((var - 1.0).abs() < 0.05);
    /// ```
    #[must_use]
    pub fn new<R: Rng + ?Sized>(rng: &mut R) -> Self {
        Self::from_weights(Tensor::randn(rng))
    }

    /// A table with PyTorch's initialization for `nn.Embedding(V, D, padding_idx=padding_idx)`:
    /// every entry drawn from `N(0, 1)`, then the row `padding_idx` set to zeros; that row gets no
    /// gradient.
    ///
    /// # Panics
    /// When `padding_idx` is not below `V` (`embedding: padding_idx 4 is not below the table's 4
    /// rows`).
    ///
    /// ```
    /// use shaped::nn::Embedding;
    /// use shaped::rand::{SeedableRng, rngs::StdRng};
    /// use shaped::{Const, Indices, Module};
    ///
    /// let table: Embedding<4, 2, f64> = Embedding::padded(&mut StdRng::seed_from_u64(0), 0);
    /// assert_eq!(table.weight.to_array()[0], [0.0, 0.0]);
    /// assert_eq!(table.padding_idx, Some(0));
    /// let ids = Indices::<usize, Const<4>>::from_slice(&[3, 0, 0])?;
    /// let (_, g) = table.value_and_grad(|t| t.forward(&ids).sum());
    /// assert_eq!(g.weight.to_array(), [[0.0; 2], [0.0; 2], [0.0; 2], [1.0; 2]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    pub fn padded<R: Rng + ?Sized>(rng: &mut R, padding_idx: usize) -> Self {
        let mut table = Self::new(rng).with_padding_idx(padding_idx);
        let mut w = table.weight.into_vec();
        w[padding_idx * D..(padding_idx + 1) * D].fill(E::zero());
        table.weight = Tensor::from_data(w);
        table
    }

    /// A table with the given rows `[V, D]`, without a padding id.
    ///
    /// ```
    /// use shaped::nn::Embedding;
    /// use shaped::{Const, Indices, Tensor};
    /// let table = Embedding::from_weights(Tensor::from([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]));
    /// assert_eq!(table.padding_idx, None);
    /// let ids = Indices::<Const<1>, Const<3>>::new([2])?;
    /// assert_eq!(table.forward(&ids).to_vec(), vec![1.0, 1.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn from_weights(weight: Tensor<Rank2<V, D>, E>) -> Self {
        Self {
            weight,
            padding_idx: None,
        }
    }

    /// The same table with row `padding_idx` as the padding row: it gets no gradient. Its values
    /// are kept, as PyTorch's `nn.Embedding.from_pretrained(weight, padding_idx=padding_idx)`.
    ///
    /// # Panics
    /// When `padding_idx` is not below `V`.
    ///
    /// ```
    /// use shaped::nn::Embedding;
    /// use shaped::{Const, Indices, Module, Tensor};
    ///
    /// let table = Embedding::from_weights(Tensor::from([[0.5, 0.5], [1.0, 2.0]])).with_padding_idx(0);
    /// let ids = Indices::<Const<2>, Const<2>>::new([0, 1])?;
    /// assert_eq!(table.forward(&ids).to_vec(), vec![0.5, 0.5, 1.0, 2.0]);
    /// let (_, g) = table.value_and_grad(|t| t.forward(&ids).sum());
    /// assert_eq!(g.weight.to_array(), [[0.0, 0.0], [1.0, 1.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_padding_idx(mut self, padding_idx: usize) -> Self {
        assert!(
            padding_idx < V,
            "embedding: padding_idx {padding_idx} is not below the table's {V} rows"
        );
        self.padding_idx = Some(padding_idx);
        self
    }
}

impl<const V: usize, const D: usize, E: Element, T: Tracking<E>> Embedding<V, D, E, T> {
    /// The rows of the ids, in their order: `(N, D)` for `N` ids.
    /// Ids equal to the padding id, if there is one, get their row, which gets no gradient.
    ///
    /// ```
    /// use shaped::nn::Embedding;
    /// use shaped::{Const, Indices, Tensor};
    /// let table = Embedding::from_weights(Tensor::from([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]]));
    /// // a run-time number of ids: the output is (usize, Const<2>)
    /// let ids = Indices::<usize, Const<3>>::from_slice(&[1, 1, 2, 0])?;
    /// let y = table.forward(&ids);
    /// assert_eq!(y.shape(), [4, 2]);
    /// assert_eq!(y.to_vec(), vec![1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn forward<N: Dim>(&self, ids: &Indices<N, Const<V>>) -> Tensor<(N, Const<D>), E, T> {
        match self.padding_idx {
            Some(p) => self.weight.embedding_with_padding(ids, p),
            None => self.weight.embedding(ids),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Module, Rank1, gradcheck};
    use rand::SeedableRng;

    #[test]
    fn gradient_adds_the_rows_of_repeated_ids() {
        // f = sum(y * v), y = rows [1, 1, 0] of the table: dweight[0] = v[2],
        // dweight[1] = v[0] + v[1], dweight[2] = 0.
        let table: Embedding<3, 2, f64> = Embedding::from_weights(Tensor::zeros());
        let ids = Indices::<Const<3>, Const<3>>::new([1, 1, 0]).unwrap();
        let v = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).into_dims();
        let (_, g) = table.value_and_grad(|t| (t.forward(&ids) * &v).sum());
        assert_eq!(g.weight.to_array(), [[5.0, 6.0], [4.0, 6.0], [0.0, 0.0]]);
    }

    #[test]
    fn the_padding_row_is_zero_at_first_and_gets_no_gradient() {
        // f = sum(y * v), ids [0, 2, 0] with padding id 0: dweight[2] = v[1], and the padding row
        // gets 0 although it is looked up twice; its values are returned.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let table: Embedding<3, 2, f64> = Embedding::padded(&mut rng, 0);
        assert_eq!(table.weight.to_array()[0], [0.0, 0.0]);
        assert!(table.weight.to_array()[1].iter().all(|&w| w != 0.0));
        let table = Embedding::from_weights(Tensor::from([[9.0, 9.0], [1.0, 1.0], [2.0, 2.0]]))
            .with_padding_idx(0);
        let ids = Indices::<Const<3>, Const<3>>::new([0, 2, 0]).unwrap();
        let v = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).into_dims();
        let (y, g) = table.value_and_grad(|t| (t.forward(&ids) * &v).sum());
        assert_eq!(y, 9.0 * 3.0 + 2.0 * 7.0 + 9.0 * 11.0);
        assert_eq!(g.weight.to_array(), [[0.0, 0.0], [0.0, 0.0], [3.0, 4.0]]);
        // The padding id is a setting, not a parameter, and goes with the copy on the tape.
        assert_eq!(table.params().len(), 1);
        assert_eq!(crate::Tape::new().watch(&table).padding_idx, Some(0));
    }

    #[test]
    #[should_panic(expected = "embedding: padding_idx 3 is not below the table's 3 rows")]
    fn a_padding_id_beyond_the_table_panics() {
        let _: Embedding<3, 2> = Embedding::from_weights(Tensor::zeros()).with_padding_idx(3);
    }

    #[test]
    fn gradient_matches_finite_differences_with_a_run_time_count() {
        let w: Tensor<Rank2<4, 3>, f64> = crate::ops::testing::random(1);
        let ids = Indices::<usize, Const<4>>::from_slice(&[3, 3, 0, 1, 3]).unwrap();
        let v: Tensor<Rank1<3>, f64> = crate::ops::testing::random(2);
        gradcheck(
            |w| {
                let table = Embedding {
                    weight: w.clone(),
                    padding_idx: None,
                };
                let rows = table.forward(&ids);
                assert_eq!(rows.shape(), [5, 3]);
                (rows.powi(2).sum_axis::<0>() * &v.clone().into_dims()).sum()
            },
            &w,
        )
        .unwrap();
    }
}
