//! `gather`: one element per index along an axis, picked by an [`IndexTensor`] of the input's rank.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::const_msg::ConstMsg;
use crate::shape::{check_same, strides_of};
use crate::{Axis, Const, Dim, Element, IndexTensor, SelectAxis, Shape, Tensor, Tracking};

/// The shape rule of [`Tensor::gather`]: an index of shape `I` picks along axis `AX` of `Self`.
///
/// The index has the rank of `Self` (a type error otherwise), and off axis `AX` each of its
/// dimensions is at most the input's, as PyTorch requires: between static dimensions a `const`
/// assertion, reported by `cargo build` (not `cargo check`); a check when the op runs where either
/// is a run-time dimension.
///
/// ```
/// use shaped::{GatherIndex, Rank2, Rank3};
/// fn gathers<const AX: usize, S: GatherIndex<AX, I>, I: shaped::Shape>() {}
/// gathers::<1, Rank3<2, 3, 4>, Rank3<2, 7, 1>>();
/// gathers::<0, (usize, shaped::Const<3>), Rank2<5, 3>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "rank mismatch: an index of shape `{I}` cannot gather from a tensor of shape `{Self}`",
    label = "the index must have the rank of the tensor it gathers from",
    note = "`gather` picks one element per index, so the index has one dimension for each axis of \
            the input (as `torch.gather` requires)"
)]
pub trait GatherIndex<const AX: usize, I: Shape>: Shape {
    /// Evaluating it checks the dimensions that are static on both sides.
    #[doc(hidden)]
    const FITS: ();
}

#[diagnostic::do_not_recommend]
impl<const AX: usize, S: Shape, I: Shape> GatherIndex<AX, I> for S
where
    S::Tuple: GatherTuple<AX, I::Tuple>,
{
    const FITS: () = <S::Tuple as GatherTuple<AX, I::Tuple>>::FITS;
}

/// [`GatherIndex`] between the tuple forms of two shapes of one rank.
#[doc(hidden)]
pub trait GatherTuple<const AX: usize, I>: Shape {
    /// Evaluating it checks the dimensions that are static on both sides.
    const FITS: ();
}

/// Panics at compile time when, off axis `ax`, a static dimension of the index is larger than the
/// input's static one.
const fn static_fit(ax: usize, input: &[Option<usize>], index: &[Option<usize>]) {
    let mut k = 0;
    while k < input.len() {
        if let (Some(x), Some(i)) = (input[k], index[k])
            && k != ax
            && i > x
        {
            let m = ConstMsg::new()
                .str("gather: dimension ")
                .num(k)
                .str(" of the index (")
                .num(i)
                .str(") is larger than the input's (")
                .num(x)
                .str(")");
            panic!("{}", m.as_str());
        }
        k += 1;
    }
}

/// `GatherTuple` for each rank: the input's dimensions and the index's.
macro_rules! gather_tuples {
    ($( ($($x:ident $i:ident),*); )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<const AX: usize, $($x: Dim, $i: Dim),*> GatherTuple<AX, ($($i,)*)> for ($($x,)*) {
            const FITS: () = static_fit(AX, &[$($x::STATIC),*], &[$($i::STATIC),*]);
        }
    )*};
}

gather_tuples! {
    (A IA);
    (A IA, B IB);
    (A IA, B IB, C IC);
    (A IA, B IB, C IC, D ID);
    (A IA, B IB, C IC, D ID, F IF);
    (A IA, B IB, C IC, D ID, F IF, G IG);
}

/// Calls `visit(p, at)` for every index `p` (row-major over `index_dims`) with the offset `at` of
/// the input element it picks: the index's own position off axis `ax`, `ids[p]` along it.
fn for_each_source(
    input_dims: &[usize],
    index_dims: &[usize],
    ax: usize,
    ids: &[usize],
    mut visit: impl FnMut(usize, usize),
) {
    let strides = strides_of(input_dims);
    let mut at = vec![0; index_dims.len()];
    // The offset of `at` in the input, without axis `ax`.
    let mut base = 0;
    for (p, &id) in ids.iter().enumerate() {
        visit(p, base + id * strides[ax]);
        for k in (0..index_dims.len()).rev() {
            let step = if k == ax { 0 } else { strides[k] };
            at[k] += 1;
            base += step;
            if at[k] < index_dims[k] {
                break;
            }
            base -= at[k] * step;
            at[k] = 0;
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The elements of `self` at `index` along axis `AX`, one per index: for a rank-3 input along
    /// axis 1, `y[i][j][k] = x[i][index[i][j][k]][k]`. The result has the index's shape.
    ///
    /// The index has the input's rank; its dimensions off axis `AX` may be smaller than the input's
    /// (the leading part is read), along `AX` it has any size. Its bound `V` must be the size of
    /// axis `AX`: [`IndexTensor`]s are checked against it when they are built, so the op itself
    /// cannot meet a bad index.
    ///
    /// Derivative: scatter-add. The gradient of output element `p` is added to the input element it
    /// was picked from; an element picked twice gets both gradients, one not picked gets 0.
    ///
    /// PyTorch: `torch.gather(x, AX, index)` (numpy: `np.take_along_axis` when the dimensions off
    /// the axis are equal). A rank mismatch and an axis the shape does not have are type errors; an
    /// index dimension larger than the input's off axis `AX` is a `const` assertion between static
    /// dimensions (reported by `cargo build`, not `cargo check`) and a check when the op runs
    /// otherwise.
    ///
    /// Edge values: elements are copied bit for bit (NaN, infinities, the sign of zero), and
    /// gradients are summed in index order (`inf` and `-inf` into one element give NaN, as PyTorch).
    /// An empty index gives an empty result and a gradient of zeros.
    ///
    /// # Panics
    /// When a dimension of the index off axis `AX` is larger than the input's, or the indices'
    /// bound differs from the size of axis `AX`, and one of the two is a run-time dimension; the
    /// message names the op and both sizes (`gather: dimension 0 of the index (3) is larger than the
    /// input's (2)`).
    ///
    /// ```
    /// use shaped::{Axis, Const, IndexTensor, Rank2, Tape, Tensor};
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// // y[i][j] = x[i][index[i][j]]
    /// let index = IndexTensor::<Rank2<2, 2>, Const<3>>::from_slice(&[2, 2, 0, 1])?;
    /// let y = x.gather(Axis::<1>, &index);
    /// assert_eq!(y.to_array(), [[3.0, 3.0], [4.0, 5.0]]);
    ///
    /// // x[0][2] is picked twice, so its gradient is 2.
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.gather(Axis::<1>, &index).sum().backward().get(&xt);
    /// assert_eq!(g.to_array(), [[0.0, 0.0, 2.0], [1.0, 1.0, 0.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axis, Const, IndexTensor, Rank2, Tensor};
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// // 3 rows of indices, but `x` has 2 rows: rejected by `cargo build`
    /// let index = IndexTensor::<Rank2<3, 1>, Const<3>>::from_slice(&[0, 1, 2]).unwrap();
    /// let _ = x.gather(Axis::<1>, &index);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn gather<const AX: usize, I: Shape, V: Dim>(
        &self,
        _axis: Axis<AX>,
        index: &IndexTensor<I, V>,
    ) -> Tensor<I, E, T>
    where
        S: GatherIndex<AX, I> + SelectAxis<AX, Const<1>, V>,
    {
        const { <S as GatherIndex<AX, I>>::FITS };
        let (input_dims, index_dims) = (self.shape(), index.shape());
        let (input_dims, index_dims) = (input_dims.as_ref(), index_dims.as_ref());
        check_same(
            "gather",
            "the axis size and the indices' bound",
            input_dims[AX],
            index.bound().size(),
        );
        for (k, (&x, &i)) in input_dims.iter().zip(index_dims).enumerate() {
            assert!(
                k == AX || i <= x,
                "gather: dimension {k} of the index ({i}) is larger than the input's ({x})"
            );
        }
        let ids = index.as_slice();
        let x = self.data();
        let mut y = Buffer::uninit(ids.len());
        for_each_source(input_dims, index_dims, AX, ids, |p, at| y[p] = x[at]);
        let tape = self.tape().record([self.input()], ids.len(), |[node]| {
            let (input_dims, index_dims) = (self.shape(), index.shape());
            let index = index.clone();
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                let (input_dims, index_dims) = (input_dims.as_ref(), index_dims.as_ref());
                for_each_source(input_dims, index_dims, AX, index.as_slice(), |p, at| {
                    dx[at] += dy[p];
                });
            })
        });
        Tensor::from_parts(Arc::new(y), index.typed_shape(), tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Axis, Const, IndexTensor, Indices, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn every_axis_matches_the_definition() {
        let x = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
        let ids: Vec<usize> = (0..12).map(|p| (p * 7 + 1) % 2).collect();
        let i0 = IndexTensor::<Rank3<3, 2, 2>, Const<2>>::from_slice(&ids).unwrap();
        let y0 = x.gather(Axis::<0>, &i0);
        let want = Tensor::<Rank3<3, 2, 2>, f64>::from_fn(|[i, j, k]| x[[i0[[i, j, k]], j, k]]);
        assert_eq!(y0.as_slice(), want.as_slice());
        let ids: Vec<usize> = (0..10).map(|p| (p * 5 + 2) % 3).collect();
        let i1 = IndexTensor::<Rank3<2, 5, 1>, Const<3>>::from_slice(&ids).unwrap();
        let y1 = x.gather(Axis::<1>, &i1);
        let want = Tensor::<Rank3<2, 5, 1>, f64>::from_fn(|[i, j, k]| x[[i, i1[[i, j, k]], k]]);
        assert_eq!(y1.as_slice(), want.as_slice());
        let ids: Vec<usize> = (0..6).map(|p| (p * 3 + 1) % 4).collect();
        let i2 = IndexTensor::<Rank3<1, 2, 3>, Const<4>>::from_slice(&ids).unwrap();
        let y2 = x.gather(Axis::<2>, &i2);
        assert_eq!(y2.shape(), [1, 2, 3]);
        let want = Tensor::<Rank3<1, 2, 3>, f64>::from_fn(|[i, j, k]| x[[i, j, i2[[i, j, k]]]]);
        assert_eq!(y2.as_slice(), want.as_slice());
        // A vector: the same as index_select.
        let v = Tensor::from([5.0, 6.0, 7.0]);
        let ids = Indices::<Const<4>, Const<3>>::new([2, 2, 0, 1]).unwrap();
        assert_eq!(
            v.gather(Axis::<0>, &ids.clone().into()).to_vec(),
            v.index_select(Axis::<0>, &ids).to_vec()
        );
    }

    #[test]
    fn gradient_literal() {
        // f = sum(gather(x, axis 0, [[1, 0], [1, 1]]) * w) for a 2 x 2 x, w = [[1, 2], [3, 4]]:
        // y[i][j] = x[index[i][j]][j], so df/dx[r][j] is the sum of w[i][j] over the i with
        // index[i][j] = r: df/dx = [[0, 2], [1 + 3, 4]].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let index = IndexTensor::<Rank2<2, 2>, Const<2>>::from_slice(&[1, 0, 1, 1]).unwrap();
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.gather(Axis::<0>, &index);
        assert_eq!(y.to_array(), [[3.0, 2.0], [3.0, 4.0]]);
        let g = (y * &w).sum().backward().get(&xt);
        assert_eq!(g.to_array(), [[0.0, 2.0], [4.0, 4.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<3, 4, 2>, f64> = random(1);
        let ids: Vec<usize> = (0..30).map(|p| (p * 7 + 3) % 4).collect();
        let index = IndexTensor::<Rank3<3, 5, 2>, Const<4>>::from_slice(&ids).unwrap();
        let w: Tensor<Rank3<3, 5, 2>, f64> = random(2);
        gradcheck(|x| (x.gather(Axis::<1>, &index) * &w).sum(), &x).unwrap();
        // Smaller than the input off the axis, along the last axis.
        let ids: Vec<usize> = (0..8).map(|p| (p * 3) % 2).collect();
        let index = IndexTensor::<Rank3<2, 2, 2>, Const<2>>::from_slice(&ids).unwrap();
        let w: Tensor<Rank3<2, 2, 2>, f64> = random(3);
        gradcheck(|x| (x.gather(Axis::<2>, &index) * &w).sum(), &x).unwrap();
        // used twice: the gathered elements times the leading block of the input
        let m: Tensor<Rank2<3, 3>, f64> = random(4);
        let rows =
            IndexTensor::<Rank2<3, 3>, Const<3>>::from_slice(&[2, 0, 2, 1, 1, 0, 0, 2, 2]).unwrap();
        gradcheck(|m| (m.gather(Axis::<0>, &rows) * m).sum(), &m).unwrap();
    }

    #[test]
    fn an_empty_index_gives_an_empty_result_and_zero_gradients() {
        let x = Tensor::from([[1.0, 2.0, 3.0]]);
        let none =
            IndexTensor::<(Const<1>, usize), Const<3>>::from_slice_with((Const, 0), Const, &[])
                .unwrap();
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.gather(Axis::<1>, &none);
        assert_eq!(y.shape(), [1, 0]);
        let g = (y.sum() + xt.sum() * 0.0).backward().get(&xt);
        assert_eq!(g.to_array(), [[0.0; 3]]);
    }

    #[test]
    fn run_time_dimensions() {
        let x = Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        let index =
            IndexTensor::<(usize, Const<2>), usize>::from_slice_with((2, Const), 3, &[2, 0, 0, 2])
                .unwrap();
        let y = x.gather(Axis::<0>, &index);
        let _: &Tensor<(usize, Const<2>), f64> = &y;
        assert_eq!(y.to_vec(), vec![5.0, 2.0, 1.0, 6.0]);
        // used twice
        gradcheck(|x| x.gather(Axis::<0>, &index).sum() * x.sum(), &x).unwrap();
        // A static index into a run-time input: checked when the op runs.
        let cols = IndexTensor::<Rank2<3, 1>, Const<2>>::from_slice(&[1, 0, 1]).unwrap();
        assert_eq!(x.gather(Axis::<1>, &cols).to_vec(), vec![2.0, 3.0, 6.0]);
    }

    #[test]
    #[should_panic(
        expected = "gather: dimension 0 of the index (4) is larger than the input's (3)"
    )]
    fn a_run_time_dimension_too_large_panics() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let cols = IndexTensor::<Rank2<4, 1>, Const<2>>::from_slice(&[1, 0, 1, 1]).unwrap();
        let _ = x.gather(Axis::<1>, &cols);
    }

    #[test]
    #[should_panic(expected = "gather: the axis size and the indices' bound differ: 3 and 4")]
    fn a_run_time_bound_that_differs_panics() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let rows =
            IndexTensor::<(Const<1>, Const<2>), usize>::from_slice_with((Const, Const), 4, &[3, 0])
                .unwrap();
        let _ = x.gather(Axis::<0>, &rows);
    }
}
