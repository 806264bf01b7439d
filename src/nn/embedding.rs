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
/// No `padding_idx`, `max_norm` or sparse gradients.
///
/// ```
/// use shaped::nn::Embedding;
/// use shaped::{Const, Indices, Module, Tensor, Trainable};
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

    /// A table with the given rows `[V, D]`.
    #[must_use]
    pub fn from_weights(weight: Tensor<Rank2<V, D>, E>) -> Self {
        Self { weight }
    }
}

impl<const V: usize, const D: usize, E: Element, T: Tracking<E>> Embedding<V, D, E, T> {
    /// The rows of the ids, in their order: `(N, D)` for `N` ids.
    #[must_use]
    pub fn forward<N: Dim>(&self, ids: &Indices<N, Const<V>>) -> Tensor<(N, Const<D>), E, T> {
        self.weight.embedding(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rank1, Trainable, gradcheck};

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
    fn gradient_matches_finite_differences_with_a_run_time_count() {
        let w: Tensor<Rank2<4, 3>, f64> = crate::ops::testing::random(1);
        let ids = Indices::<usize, Const<4>>::from_slice(&[3, 3, 0, 1, 3]).unwrap();
        let v: Tensor<Rank1<3>, f64> = crate::ops::testing::random(2);
        gradcheck(
            |w| {
                let table = Embedding { weight: w.clone() };
                let rows = table.forward(&ids);
                assert_eq!(rows.shape(), [5, 3]);
                (rows.powi(2).sum_axis::<0>() * &v.clone().into_dims()).sum()
            },
            &w,
        )
        .unwrap();
    }
}
