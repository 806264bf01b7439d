//! `argmax` and `argmin`: where the largest and the smallest elements are, of all elements or along
//! one axis, as [`Indices`] or an [`IndexTensor`] into that axis.

use std::sync::Arc;

use crate::ops::lanes::Lanes;
use crate::{
    Const, Dim, Element, IndexTensor, Indices, Rank0, Rank1, ReduceAxis, ReplaceAxis, Shape,
    Tensor, Tracking,
};

/// The shape rule of [`Tensor::argmax_axis`] and [`Tensor::argmin_axis`]: axis `AX` of `Self` is
/// reduced to one position per set, each below `Bound`, the dimension of axis `AX`.
///
/// `Positions` is what the reduction gives: for a vector or a matrix, [`Indices`]`<Count, Bound>`
/// with `Count` the one dimension left (`Indices<Const<B>, Const<C>>` for `Rank2<B, C>` along axis
/// 1, `Indices<usize, _>` for a run-time batch, `Indices<Const<1>, _>` for a vector), which pick
/// from that axis directly ([`index_select`](Tensor::index_select),
/// [`embedding`](Tensor::embedding)); for rank 3 or more, an [`IndexTensor`] of the reduced shape
/// (`IndexTensor<Rank2<2, 4>, Const<3>>` for `Rank3<2, 3, 4>` along axis 1).
///
/// ```
/// use shaped::{ArgAxis, Const, IndexTensor, Indices, Rank2, Rank3};
/// let _: Option<<Rank2<4, 10> as ArgAxis<1>>::Positions> = None::<Indices<Const<4>, Const<10>>>;
/// let _: <Rank2<4, 10> as ArgAxis<1>>::Bound = Const::<10>;
/// let _: Option<<(usize, Const<10>) as ArgAxis<1>>::Positions> = None::<Indices<usize, Const<10>>>;
/// let _: Option<<Rank3<2, 3, 4> as ArgAxis<1>>::Positions> =
///     None::<IndexTensor<Rank2<2, 4>, Const<3>>>;
/// ```
#[diagnostic::on_unimplemented(
    message = "axis {AX} is out of range for a tensor of shape `{Self}`",
    label = "no axis {AX} in `{Self}`",
    note = "axes count from 0, outermost first: a rank-N tensor has axes 0 to N - 1"
)]
pub trait ArgAxis<const AX: usize>: ReduceAxis<AX> {
    /// The positions: [`Indices`] for a vector or a matrix, an [`IndexTensor`] of the reduced shape
    /// for rank 3 or more.
    type Positions;
    /// The size of axis `AX`: every position is below it.
    type Bound: Dim;
    /// The size of axis `AX`.
    #[doc(hidden)]
    fn bound(&self) -> Self::Bound;
    /// The positions from their values, known to be one per set and below the bound.
    #[doc(hidden)]
    fn positions(&self, ids: Arc<[usize]>) -> Self::Positions;
}

#[diagnostic::do_not_recommend]
impl<const AX: usize, S> ArgAxis<AX> for S
where
    S: ReduceAxis<AX> + ReplaceAxis<AX, Const<1>>,
    S::Reduced: ArgPositions<<S as ReplaceAxis<AX, Const<1>>>::AxisDim>,
{
    type Positions = <S::Reduced as ArgPositions<Self::Bound>>::Positions;
    type Bound = <S as ReplaceAxis<AX, Const<1>>>::AxisDim;
    #[inline]
    fn bound(&self) -> Self::Bound {
        self.axis_dim()
    }
    #[inline]
    fn positions(&self, ids: Arc<[usize]>) -> Self::Positions {
        self.reduced().positions(self.axis_dim(), ids)
    }
}

/// The positions of a reduction with this reduced shape, below `V`: [`Indices`] for rank 0 and 1,
/// an [`IndexTensor`] of this shape otherwise.
#[doc(hidden)]
pub trait ArgPositions<V: Dim>: Shape {
    /// [`Indices`] or an [`IndexTensor`].
    type Positions;
    /// The positions from their values, known to be `numel()` and below `bound`.
    fn positions(self, bound: V, ids: Arc<[usize]>) -> Self::Positions;
}

impl<V: Dim> ArgPositions<V> for Rank0 {
    type Positions = Indices<Const<1>, V>;
    #[inline]
    fn positions(self, bound: V, ids: Arc<[usize]>) -> Self::Positions {
        Indices::from_checked(ids, Const, bound)
    }
}

impl<const N: usize, V: Dim> ArgPositions<V> for Rank1<N> {
    type Positions = Indices<Const<N>, V>;
    #[inline]
    fn positions(self, bound: V, ids: Arc<[usize]>) -> Self::Positions {
        Indices::from_checked(ids, Const, bound)
    }
}

impl<A: Dim, V: Dim> ArgPositions<V> for (A,) {
    type Positions = Indices<A, V>;
    #[inline]
    fn positions(self, bound: V, ids: Arc<[usize]>) -> Self::Positions {
        Indices::from_checked(ids, self.0, bound)
    }
}

/// `ArgPositions` for shapes of rank 2 or more: an [`IndexTensor`] of the shape.
macro_rules! shaped_positions {
    ($($s:ty [$($g:tt)*];)*) => {$(
        impl<$($g)*, V: Dim> ArgPositions<V> for $s {
            type Positions = IndexTensor<Self, V>;
            #[inline]
            fn positions(self, bound: V, ids: Arc<[usize]>) -> Self::Positions {
                IndexTensor::from_checked(ids, self, bound)
            }
        }
    )*};
}

shaped_positions! {
    crate::Rank2<A, B> [const A: usize, const B: usize];
    crate::Rank3<A, B, C> [const A: usize, const B: usize, const C: usize];
    crate::Rank4<A, B, C, D> [const A: usize, const B: usize, const C: usize, const D: usize];
    crate::Rank5<A, B, C, D, F>
        [const A: usize, const B: usize, const C: usize, const D: usize, const F: usize];
    (A, B) [A: Dim, B: Dim];
    (A, B, C) [A: Dim, B: Dim, C: Dim];
    (A, B, C, D) [A: Dim, B: Dim, C: Dim, D: Dim];
    (A, B, C, D, F) [A: Dim, B: Dim, C: Dim, D: Dim, F: Dim];
}

/// Whether `v` beats `best` for `argmax`: larger, or a NaN where `best` is not (PyTorch counts NaN as
/// the largest value; the first NaN stays).
#[inline]
fn beats_max<E: Element>(v: E, best: E) -> bool {
    v > best || (v.is_nan() && !best.is_nan())
}

/// Whether `v` beats `best` for `argmin`: smaller, or a NaN where `best` is not.
#[inline]
fn beats_min<E: Element>(v: E, best: E) -> bool {
    v < best || (v.is_nan() && !best.is_nan())
}

/// For each set of `lanes` (with `len > 0`), the position along the middle axis of the first
/// element that no later one `beats`.
fn arg_best<E: Element>(x: &[E], lanes: Lanes, beats: impl Fn(E, E) -> bool) -> Vec<usize> {
    let mut at = vec![0; lanes.sets()];
    let mut best = vec![E::zero(); lanes.inner];
    for (row, mut slices) in lanes.blocks() {
        let at = &mut at[row];
        let Some(first) = slices.next() else { continue };
        best.copy_from_slice(&x[first]);
        for (l, slice) in slices.enumerate() {
            for ((b, a), &v) in best.iter_mut().zip(at.iter_mut()).zip(&x[slice]) {
                if beats(v, *b) {
                    *b = v;
                    *a = l + 1;
                }
            }
        }
    }
    at
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The positions along axis `AX` of the `outer * inner` sets' best elements, for `op`.
    #[track_caller]
    fn arg_impl<const AX: usize>(&self, op: &str, beats: impl Fn(E, E) -> bool) -> Arc<[usize]>
    where
        S: ArgAxis<AX>,
    {
        let lanes = Lanes::of::<AX, _>(&self.typed_shape());
        if lanes.sets() == 0 {
            return Arc::new([]);
        }
        assert!(
            lanes.len > 0,
            "{op}: axis {AX} of shape {:?} has size 0, so it has no element to point at",
            self.shape().as_ref()
        );
        arg_best(self.as_slice(), lanes, beats).into()
    }

    /// The position of the largest element along axis `AX`, which disappears from the shape: for a
    /// batch of scores `[B, C]`, `argmax_axis::<1>()` is the predicted class of each row.
    ///
    /// The positions are below the size of axis `AX`, one per set, in row-major order of the shape
    /// without axis `AX`. [`ArgAxis`] gives their type: for a matrix, [`Indices`] (`Indices<Const<B>,
    /// Const<C>>` for `Rank2<B, C>` along axis 1), which pick from that axis directly, as
    /// [`embedding`](Tensor::embedding) rows or [`index_select`](Tensor::index_select) slices; for
    /// a vector, `Indices<Const<1>, _>`; for rank 3 or more, an [`IndexTensor`] of the reduced shape.
    /// [`argmax_axis_keepdim`](Tensor::argmax_axis_keepdim) keeps the axis, with size 1, for
    /// [`gather`](Tensor::gather).
    ///
    /// Not differentiable: the indices are on no tape. PyTorch: `torch.argmax(x, dim=AX)` (numpy:
    /// `x.argmax(axis=AX)`). Naming an axis the shape does not have is a compile error.
    ///
    /// Edge values, as PyTorch: of tied elements, the first one's position; a NaN counts as larger
    /// than every number (the first NaN wins), `inf` and `-inf` are ordinary values.
    ///
    /// # Panics
    /// When axis `AX` has size 0 and the result is not empty: there is no position to give
    /// (PyTorch raises an error).
    ///
    /// ```
    /// use shaped::{Const, IndexTensor, Rank2, Tensor};
    /// let x = Tensor::from([[1.0, 7.0, 7.0], [4.0, f64::NAN, 0.0]]);
    /// assert_eq!(x.argmax_axis::<1>().as_slice(), &[1, 1]);
    /// assert_eq!(x.argmax_axis::<0>().as_slice(), &[1, 1, 0]);
    ///
    /// // Greedy decoding: the best of 4 tokens for each of 2 rows, then their embeddings.
    /// let logits = Tensor::from([[0.1, 2.0, 0.3, 0.0], [5.0, 1.0, 1.0, 0.0]]);
    /// let table = Tensor::from([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5], [3.0, 3.5]]);
    /// let tokens = logits.argmax_axis::<1>();
    /// assert_eq!(tokens.as_slice(), &[1, 0]);
    /// assert_eq!(table.embedding(&tokens).to_vec(), vec![1.0, 1.5, 0.0, 0.5]);
    ///
    /// // Rank 3: the positions have the reduced shape.
    /// let t = Tensor::from_vec_with((Const::<2>, Const::<2>, Const::<3>), vec![
    ///     0.0, 5.0, 1.0, /**/ 2.0, 2.0, 9.0, //
    ///     7.0, 0.0, 0.0, /**/ 1.0, 3.0, 2.0,
    /// ])?;
    /// let at: IndexTensor<(Const<2>, Const<2>), Const<3>> = t.argmax_axis::<2>();
    /// assert_eq!((at.shape(), at.as_slice()), ([2, 2], &[1, 2, 0, 1][..]));
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    #[track_caller]
    pub fn argmax_axis<const AX: usize>(&self) -> S::Positions
    where
        S: ArgAxis<AX>,
    {
        let ids = self.arg_impl::<AX>("argmax_axis", beats_max);
        self.typed_shape().positions(ids)
    }

    /// The position of the smallest element along axis `AX`, which disappears from the shape.
    ///
    /// Not differentiable. PyTorch: `torch.argmin(x, dim=AX)`. The positions' type and the edge
    /// values as for [`argmax_axis`](Tensor::argmax_axis): the first of tied elements, and a NaN
    /// counts as smaller than every number (the first NaN wins, as in PyTorch).
    ///
    /// # Panics
    /// When axis `AX` has size 0 and the result is not empty.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, -7.0, -7.0], [4.0, f64::NAN, 0.0]]);
    /// assert_eq!(x.argmin_axis::<1>().as_slice(), &[1, 1]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn argmin_axis<const AX: usize>(&self) -> S::Positions
    where
        S: ArgAxis<AX>,
    {
        let ids = self.arg_impl::<AX>("argmin_axis", beats_min);
        self.typed_shape().positions(ids)
    }

    /// The position of the largest element along axis `AX`, which stays in the shape with size 1:
    /// an [`IndexTensor`] of the input's rank, ready for [`gather`](Tensor::gather) along the same
    /// axis (which then gives the largest elements, as
    /// [`max_axis_keepdim`](Tensor::max_axis_keepdim)).
    ///
    /// Not differentiable. PyTorch: `torch.argmax(x, dim=AX, keepdim=True)`. Edge values as for
    /// [`argmax_axis`](Tensor::argmax_axis).
    ///
    /// # Panics
    /// When axis `AX` has size 0 and the result is not empty.
    ///
    /// ```
    /// use shaped::{Axis, Tensor};
    /// let x = Tensor::from([[1.0, 7.0, 3.0], [4.0, 0.0, 6.0]]);
    /// let at = x.argmax_axis_keepdim::<1>();
    /// assert_eq!((at.shape(), at.as_slice()), ([2, 1], &[1, 2][..]));
    /// assert_eq!(x.gather(Axis::<1>, &at).to_array(), [[7.0], [6.0]]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn argmax_axis_keepdim<const AX: usize>(&self) -> IndexTensor<S::KeepDim, S::Bound>
    where
        S: ArgAxis<AX>,
    {
        let ids = self.arg_impl::<AX>("argmax_axis_keepdim", beats_max);
        let shape = self.typed_shape();
        IndexTensor::from_checked(ids, shape.kept(), shape.bound())
    }

    /// The position of the smallest element along axis `AX`, which stays in the shape with size 1,
    /// as an [`IndexTensor`] for [`gather`](Tensor::gather).
    ///
    /// Not differentiable. PyTorch: `torch.argmin(x, dim=AX, keepdim=True)`. Edge values as for
    /// [`argmin_axis`](Tensor::argmin_axis).
    ///
    /// # Panics
    /// When axis `AX` has size 0 and the result is not empty.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 7.0, 3.0], [4.0, 0.0, 6.0]]);
    /// assert_eq!(x.argmin_axis_keepdim::<0>().as_slice(), &[0, 1, 0]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn argmin_axis_keepdim<const AX: usize>(&self) -> IndexTensor<S::KeepDim, S::Bound>
    where
        S: ArgAxis<AX>,
    {
        let ids = self.arg_impl::<AX>("argmin_axis_keepdim", beats_min);
        let shape = self.typed_shape();
        IndexTensor::from_checked(ids, shape.kept(), shape.bound())
    }

    /// The row-major position of the largest element (of the tensor seen as a flat list).
    ///
    /// Not differentiable. PyTorch: `torch.argmax(x)`. Edge values as for
    /// [`argmax_axis`](Tensor::argmax_axis): the first of tied elements, the first NaN if there is
    /// one.
    ///
    /// # Panics
    /// When the tensor has no elements (PyTorch raises an error).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 9.0], [9.0, 3.0]]);
    /// assert_eq!(x.argmax(), 1);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn argmax(&self) -> usize {
        self.arg_all("argmax", beats_max)
    }

    /// The row-major position of the smallest element (of the tensor seen as a flat list).
    ///
    /// Not differentiable. PyTorch: `torch.argmin(x)`. Edge values as for
    /// [`argmin_axis`](Tensor::argmin_axis).
    ///
    /// # Panics
    /// When the tensor has no elements (PyTorch raises an error).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, -9.0], [-9.0, 3.0]]);
    /// assert_eq!(x.argmin(), 1);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn argmin(&self) -> usize {
        self.arg_all("argmin", beats_min)
    }

    /// The position of the best element of all, for `op`.
    #[track_caller]
    fn arg_all(&self, op: &str, beats: impl Fn(E, E) -> bool) -> usize {
        let n = self.numel();
        assert!(
            n > 0,
            "{op}: a tensor of 0 elements has no element to point at"
        );
        arg_best(self.as_slice(), Lanes::all(n), beats)[0]
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Axis, Const, IndexTensor, Indices, Rank2, Rank3, Tape, Tensor};

    #[test]
    fn every_axis_matches_the_definition() {
        let x: Tensor<Rank3<3, 4, 5>, f64> = random(100);
        let best =
            |vals: Vec<f64>| (0..vals.len()).fold(0, |b, i| if vals[i] > vals[b] { i } else { b });
        let a1: IndexTensor<Rank2<3, 5>, Const<4>> = x.argmax_axis::<1>();
        for a in 0..3 {
            for c in 0..5 {
                assert_eq!(a1[[a, c]], best((0..4).map(|b| x[[a, b, c]]).collect()));
            }
        }
        let a0 = x.argmin_axis::<0>();
        let neg = -&x;
        for b in 0..4 {
            for c in 0..5 {
                assert_eq!(a0[[b, c]], best((0..3).map(|a| neg[[a, b, c]]).collect()));
            }
        }
        let a2 = x.argmax_axis::<2>();
        assert_eq!(a2.shape(), [3, 4]);
        assert_eq!(a2[[2, 3]], best((0..5).map(|c| x[[2, 3, c]]).collect()));
        assert_eq!(x.argmax(), best(x.to_vec()));
        assert_eq!(x.argmin(), best(neg.to_vec()));
    }

    #[test]
    fn keepdim_positions_gather_the_extremes() {
        let x: Tensor<Rank3<3, 4, 5>, f64> = random(101);
        let at: IndexTensor<Rank3<3, 1, 5>, Const<4>> = x.argmax_axis_keepdim::<1>();
        assert_eq!(at.as_slice(), x.argmax_axis::<1>().as_slice());
        assert_eq!(
            x.gather(Axis::<1>, &at).as_slice(),
            x.max_axis_keepdim::<1>().as_slice()
        );
        let at = x.argmin_axis_keepdim::<2>();
        assert_eq!(at.shape(), [3, 4, 1]);
        assert_eq!(
            x.gather(Axis::<2>, &at).as_slice(),
            x.min_axis_keepdim::<2>().as_slice()
        );
        // Run-time dimensions stay run-time.
        let rows: Tensor<(usize, Const<3>), f64> =
            Tensor::from_vec_with((2, Const), vec![1.0, 3.0, 2.0, 6.0, 5.0, 4.0]).unwrap();
        let at: IndexTensor<(usize, Const<1>), Const<3>> = rows.argmax_axis_keepdim::<1>();
        assert_eq!(rows.gather(Axis::<1>, &at).to_vec(), vec![3.0, 6.0]);
        let cube: Tensor<(Const<2>, usize, Const<2>), f64> = Tensor::from_vec_with(
            (Const, 2, Const),
            vec![1.0, 0.0, 0.0, 2.0, 5.0, 5.0, 6.0, 4.0],
        )
        .unwrap();
        let at: IndexTensor<(Const<2>, Const<2>), usize> = cube.argmax_axis::<1>();
        assert_eq!((at.bound(), at.as_slice()), (2, &[0, 1, 1, 0][..]));
    }

    #[test]
    fn a_matrix_gives_static_indices_into_the_axis() {
        let x = Tensor::from([[0.0, 3.0, 1.0], [2.0, 0.0, 1.0]]);
        let rows: Indices<Const<2>, Const<3>> = x.argmax_axis::<1>();
        let cols: Indices<Const<3>, Const<2>> = x.argmax_axis::<0>();
        assert_eq!(
            (rows.as_slice(), cols.as_slice()),
            (&[1, 0][..], &[1, 0, 0][..])
        );
        // The indices pick from the axis they were found along.
        let picked = x.index_select(Axis::<0>, &cols);
        assert_eq!(picked.shape(), [3, 3]);
        let v = Tensor::from([4.0, -1.0]);
        let one: Indices<Const<1>, Const<2>> = v.argmax_axis::<0>();
        assert_eq!(one.as_slice(), &[0]);
    }

    #[test]
    fn ties_give_the_first_and_nan_wins() {
        let x = Tensor::from([
            [2.0, 5.0, 5.0, 1.0],
            [f64::NAN, 9.0, f64::NAN, 1.0],
            [-f64::INFINITY, f64::INFINITY, 0.0, -0.0],
        ]);
        assert_eq!(x.argmax_axis::<1>().as_slice(), &[1, 0, 1]);
        assert_eq!(x.argmin_axis::<1>().as_slice(), &[3, 0, 0]);
        assert_eq!(x.argmax(), 4);
        assert_eq!(Tensor::from([0.0, -0.0]).argmax(), 0);
    }

    #[test]
    fn taped_tensors_and_run_time_shapes() {
        let x: Tensor<(usize, Const<3>), f64> =
            Tensor::from_vec_with((2, Const), vec![1.0, 3.0, 2.0, 6.0, 5.0, 4.0]).unwrap();
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let ix: Indices<usize, Const<3>> = xt.argmax_axis::<1>();
        assert_eq!((ix.count(), ix.as_slice()), (2, &[1, 0][..]));
        let iy: Indices<Const<3>, usize> = xt.argmin_axis::<0>();
        assert_eq!((iy.bound(), iy.as_slice()), (2, &[0, 0, 0][..]));
    }

    #[test]
    fn empty_results_need_no_position() {
        let x: Tensor<Rank2<0, 3>> = Tensor::zeros();
        assert_eq!(x.argmax_axis::<1>().count(), Const::<0>);
        assert!(x.argmin_axis::<1>().is_empty());
    }

    #[test]
    #[should_panic(expected = "argmax_axis: axis 0 of shape [0, 3] has size 0")]
    fn an_empty_axis_panics() {
        let x: Tensor<Rank2<0, 3>> = Tensor::zeros();
        let _ = x.argmax_axis::<0>();
    }

    #[test]
    #[should_panic(expected = "argmin: a tensor of 0 elements has no element to point at")]
    fn an_empty_tensor_panics() {
        let _ = Tensor::<Rank2<2, 0>>::zeros().argmin();
    }
}
