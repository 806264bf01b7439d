//! `index_select`: slices of a tensor along one axis picked by run-time [`Indices`].

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::error::{Error, ErrorKind, dims_str};
use crate::ops::narrow::split_at_axis;
use crate::ops::{Axis, DimEq, ReplaceAxis};
use crate::shape::{check_same, strides_of};
use crate::tensor::check_len;
use crate::{Const, Dim, Element, Shape, StaticShape, Tensor, Tracking};

/// The count of `ids` as a dimension `N`, when each is below `bound`: the check of [`Indices`] and
/// of [`Labels`](crate::nn::Labels).
///
/// # Errors
/// [`ErrorKind::Length`] when a static `N` gets another count (`expected 4 {plural}, got 2`);
/// [`ErrorKind::OutOfRange`] naming the first id not below `bound` (`{one} 5 at position 1 is out of
/// range: ` and `range(bound)`).
pub(crate) fn checked_ids<N: Dim>(
    ids: &[usize],
    plural: &str,
    one: &str,
    bound: usize,
    range: impl FnOnce(usize) -> String,
) -> Result<N, Error> {
    let Some(count) = N::from_size(ids.len()) else {
        return Err(Error::new(
            ErrorKind::Length,
            format!(
                "expected {} {plural}, got {}",
                N::STATIC.unwrap_or_default(),
                ids.len()
            ),
        ));
    };
    match first_out_of_range(ids, bound) {
        Some((i, id)) => Err(out_of_range(one, id, i, &range(bound))),
        None => Ok(count),
    }
}

/// The first id that is not below `bound`, with its position.
fn first_out_of_range(ids: &[usize], bound: usize) -> Option<(usize, usize)> {
    ids.iter()
        .enumerate()
        .find(|&(_, &id)| id >= bound)
        .map(|(i, &id)| (i, id))
}

/// The error for `what` (`index`, `class id`) `id` at `position`, out of `range` (`the axis has 3
/// elements (0 to 2)`).
fn out_of_range(what: &str, id: usize, position: impl core::fmt::Display, range: &str) -> Error {
    Error::new(
        ErrorKind::OutOfRange,
        format!("{what} {id} at position {position} is out of range: {range}"),
    )
}

/// `the axis has 3 elements (0 to 2)`, for the messages about indices.
fn axis_str(size: usize) -> String {
    match size {
        0 => "the axis has no elements".to_owned(),
        1 => "the axis has 1 element (0)".to_owned(),
        n => format!("the axis has {n} elements (0 to {})", n - 1),
    }
}

/// Indices into an axis of size `V`, each checked to be below it when the indices are built, so that
/// a bad index in the data is an error where the data is read, never a panic (or a wrong value) in
/// the middle of a forward pass.
///
/// `N` is the number of indices and `V` the size of the axis they index: `Const<..>` when known to
/// the compiler, `usize` when known at run time (then the value holds it). An op that takes indices
/// needs `V` to be the size of the axis it indexes: a type error between static sizes, a check when
/// the op runs otherwise. What [`index_select`](Tensor::index_select) and
/// [`embedding`](Tensor::embedding) take.
///
/// ```
/// use shaped::{Const, Indices};
/// // Three rows of a table of 10.
/// let ids = Indices::<Const<3>, Const<10>>::new([4, 0, 4])?;
/// assert_eq!(ids.as_slice(), &[4, 0, 4]);
/// let err = Indices::<Const<3>, Const<10>>::new([4, 10, 4]).unwrap_err();
/// assert_eq!(err.to_string(), "index 10 at position 1 is out of range: the axis has 10 elements (0 to 9)");
/// // A run-time number of token ids read from data, for a vocabulary of 10.
/// let tokens = vec![1, 1, 9, 2, 0];
/// let ids = Indices::<usize, Const<10>>::from_slice(&tokens)?;
/// assert_eq!(ids.len(), 5);
/// // Rows of a batch whose size is known at run time only.
/// let rows = 4;
/// let pick = Indices::<Const<2>, usize>::from_slice_with(rows, &[3, 1])?;
/// assert_eq!(pick.bound(), 4);
/// # Ok::<(), shaped::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Indices<N: Dim, V: Dim> {
    ids: Arc<[usize]>,
    count: N,
    bound: V,
}

impl<const K: usize, const V: usize> Indices<Const<K>, Const<V>> {
    /// Indices from an array of `K` indices, each below `V`.
    ///
    /// # Errors
    /// [`ErrorKind::OutOfRange`] naming the first index that is not below `V`, its position and `V`.
    ///
    /// ```
    /// use shaped::{Axis, Const, Indices, Tensor};
    /// let rows = Indices::<Const<2>, Const<3>>::new([2, 0])?;
    /// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// assert_eq!(x.index_select(Axis::<0>, &rows).to_vec(), vec![5.0, 6.0, 1.0, 2.0]);
    /// assert!(Indices::<Const<2>, Const<3>>::new([0, 3]).is_err()); // 3 is not below 3
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn new(ids: [usize; K]) -> Result<Self, Error> {
        Self::from_slice_with(Const, &ids)
    }
}

impl<N: Dim, const V: usize> Indices<N, Const<V>> {
    /// Indices from a slice, each below `V`: exactly `N` of them for a static count, any number for
    /// a run-time one (`N = usize`).
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when a static count gets another number of indices;
    /// [`ErrorKind::OutOfRange`] naming the first index that is not below `V`.
    ///
    /// ```
    /// use shaped::{Const, Indices};
    /// let err = Indices::<Const<4>, Const<3>>::from_slice(&[0, 1]).unwrap_err();
    /// assert_eq!(err.to_string(), "expected 4 indices, got 2");
    /// ```
    pub fn from_slice(ids: &[usize]) -> Result<Self, Error> {
        Self::from_slice_with(Const, ids)
    }
}

impl<N: Dim, V: Dim> Indices<N, V> {
    /// Indices from a slice, each below `bound`, the size of the axis they will index (for a static
    /// `V` the value is `Const`; for `V = usize` the run-time size).
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when a static count `N` gets another number of indices;
    /// [`ErrorKind::OutOfRange`] naming the first index that is not below `bound`, its position and
    /// `bound`.
    ///
    /// ```
    /// use shaped::Indices;
    /// let ids = Indices::<usize, usize>::from_slice_with(3, &[2, 2, 0, 1])?;
    /// assert_eq!((ids.len(), ids.bound()), (4, 3));
    /// let err = Indices::<usize, usize>::from_slice_with(0, &[0]).unwrap_err();
    /// assert_eq!(err.to_string(), "index 0 at position 0 is out of range: the axis has no elements");
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn from_slice_with(bound: V, ids: &[usize]) -> Result<Self, Error> {
        let count = checked_ids(ids, "indices", "index", bound.size(), axis_str)?;
        Ok(Self::from_checked(ids.into(), count, bound))
    }

    /// Indices known to be `count` and below `bound`.
    pub(crate) fn from_checked(ids: Arc<[usize]>, count: N, bound: V) -> Self {
        debug_assert!(ids.len() == count.size() && ids.iter().all(|&i| i < bound.size()));
        Self { ids, count, bound }
    }

    /// The indices.
    ///
    /// ```
    /// use shaped::{Const, Indices};
    /// let ids = Indices::<usize, Const<5>>::from_slice(&[4, 1, 4])?;
    /// assert_eq!(ids.as_slice(), &[4, 1, 4]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn as_slice(&self) -> &[usize] {
        &self.ids
    }

    /// The number of indices.
    ///
    /// ```
    /// use shaped::{Const, Indices};
    /// let ids = Indices::<usize, Const<5>>::from_slice(&[4, 1, 4])?;
    /// assert_eq!(ids.len(), 3); // repeated indices count
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no indices.
    ///
    /// ```
    /// use shaped::{Const, Indices};
    /// assert!(Indices::<usize, Const<5>>::from_slice(&[])?.is_empty());
    /// assert!(!Indices::<usize, Const<5>>::from_slice(&[0])?.is_empty());
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The number of indices, as the dimension `N` it gives an op's result.
    ///
    /// ```
    /// use shaped::{Const, Indices};
    /// let run_time = Indices::<usize, Const<5>>::from_slice(&[4, 1, 4])?;
    /// assert_eq!(run_time.count(), 3);
    /// let fixed = Indices::<Const<3>, Const<5>>::new([4, 1, 4])?;
    /// assert_eq!(fixed.count(), Const::<3>);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn count(&self) -> N {
        self.count
    }

    /// The size of the axis the indices are below.
    ///
    /// ```
    /// use shaped::Indices;
    /// let vocab = 7;
    /// let ids = Indices::<usize, usize>::from_slice_with(vocab, &[6, 0])?;
    /// assert_eq!(ids.bound(), 7);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn bound(&self) -> V {
        self.bound
    }
}

/// Indices with a shape: a tensor of positions along one axis of size `V`, each checked to be below
/// it when the indices are built, as [`Indices`] are. What [`gather`](Tensor::gather) takes, and
/// what [`argmax_axis`](Tensor::argmax_axis) gives for a tensor of rank 3 or more (PyTorch: an
/// `int64` tensor).
///
/// `S` is the shape, static (`Rank2<2, 3>`) or with run-time dimensions (`(usize, Const<3>)`); `V`
/// the size of the axis the indices point into: `Const<..>` when known to the compiler, `usize` when
/// known at run time.
///
/// ```
/// use shaped::{Const, IndexTensor, Rank2};
/// let ids = IndexTensor::<Rank2<2, 2>, Const<3>>::from_slice(&[0, 2, 1, 1])?;
/// assert_eq!(ids.shape(), [2, 2]);
/// assert_eq!(ids[[0, 1]], 2);
/// let err = IndexTensor::<Rank2<2, 2>, Const<3>>::from_slice(&[0, 2, 3, 1]).unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "index 3 at position [1, 0] is out of range: the axis has 3 elements (0 to 2)"
/// );
/// // Rows read at run time, into an axis of 4.
/// let rows = IndexTensor::<(usize, Const<2>), usize>::from_slice_with((3, Const), 4, &[0, 3, 1, 1, 2, 0])?;
/// assert_eq!((rows.shape(), rows.bound()), ([3, 2], 4));
/// # Ok::<(), shaped::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct IndexTensor<S: Shape, V: Dim> {
    ids: Arc<[usize]>,
    shape: S,
    bound: V,
}

impl<S: StaticShape, const V: usize> IndexTensor<S, Const<V>> {
    /// Indices of the static shape `S` from their values in row-major order, each below `V`.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when there are not as many values as the shape has elements;
    /// [`ErrorKind::OutOfRange`] naming the first index that is not below `V`, its position (a
    /// multi-index) and `V`.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor, Rank2};
    /// let err = IndexTensor::<Rank2<2, 3>, Const<4>>::from_slice(&[0, 1]).unwrap_err();
    /// assert_eq!(err.to_string(), "cannot build indices of shape [2, 3] from 2 values: it needs 6");
    /// ```
    pub fn from_slice(ids: &[usize]) -> Result<Self, Error> {
        Self::from_slice_with(S::default(), Const, ids)
    }
}

impl<S: Shape, V: Dim> IndexTensor<S, V> {
    /// Indices of the given shape from their values in row-major order, each below `bound`, the size
    /// of the axis they will index (`Const` for a static `V`, the run-time size for `V = usize`).
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when there are not `shape.numel()` values; [`ErrorKind::OutOfRange`]
    /// naming the first index that is not below `bound`, its position and `bound`.
    ///
    /// ```
    /// use shaped::IndexTensor;
    /// let err = IndexTensor::<(usize, usize), usize>::from_slice_with((1, 2), 2, &[1, 5]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "index 5 at position [0, 1] is out of range: the axis has 2 elements (0 to 1)"
    /// );
    /// ```
    pub fn from_slice_with(shape: S, bound: V, ids: &[usize]) -> Result<Self, Error> {
        check_len("indices", shape, ids.len(), "values")?;
        if let Some((i, id)) = first_out_of_range(ids, bound.size()) {
            let dims = shape.dims();
            let strides = strides_of(dims.as_ref());
            let at: Vec<usize> = dims
                .as_ref()
                .iter()
                .zip(&strides)
                .map(|(&d, &s)| i / s % d)
                .collect();
            return Err(out_of_range(
                "index",
                id,
                dims_str(&at),
                &axis_str(bound.size()),
            ));
        }
        Ok(Self::from_checked(ids.into(), shape, bound))
    }

    /// Indices known to be `shape.numel()` and below `bound`.
    pub(crate) fn from_checked(ids: Arc<[usize]>, shape: S, bound: V) -> Self {
        debug_assert!(ids.len() == shape.numel() && ids.iter().all(|&i| i < bound.size()));
        Self { ids, shape, bound }
    }

    /// The indices in row-major order.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor, Rank2};
    /// let ids = IndexTensor::<Rank2<2, 2>, Const<3>>::from_slice(&[0, 2, 1, 1])?;
    /// assert_eq!(ids.as_slice(), &[0, 2, 1, 1]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn as_slice(&self) -> &[usize] {
        &self.ids
    }

    /// The dimensions, outermost first.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor};
    /// let ids = IndexTensor::<(usize, Const<2>), Const<3>>::from_slice_with((3, Const), Const, &[0, 1, 2, 0, 1, 2])?;
    /// assert_eq!(ids.shape(), [3, 2]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn shape(&self) -> S::Dims {
        self.shape.dims()
    }

    /// The shape as a value of its type (the run-time sizes for a tuple).
    ///
    /// ```
    /// use shaped::{Const, IndexTensor};
    /// let ids = IndexTensor::<(usize, Const<2>), Const<3>>::from_slice_with((1, Const), Const, &[2, 0])?;
    /// assert_eq!(ids.typed_shape(), (1, Const::<2>));
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn typed_shape(&self) -> S {
        self.shape
    }

    /// The number of indices.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor, Rank2};
    /// let ids = IndexTensor::<Rank2<2, 3>, Const<4>>::from_slice(&[0, 1, 2, 3, 3, 3])?;
    /// assert_eq!(ids.numel(), 6); // 2 * 3
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn numel(&self) -> usize {
        self.ids.len()
    }

    /// The size of the axis the indices are below.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor};
    /// let ids = IndexTensor::<(usize,), usize>::from_slice_with((2,), 10, &[9, 3])?;
    /// assert_eq!(ids.bound(), 10);
    /// let fixed = IndexTensor::<(usize,), Const<4>>::from_slice_with((2,), Const, &[3, 3])?;
    /// assert_eq!(fixed.bound(), Const::<4>);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn bound(&self) -> V {
        self.bound
    }
}

impl<N: Dim, V: Dim> From<Indices<N, V>> for IndexTensor<(N,), V> {
    /// The indices as a vector of `N` (sharing them, no copy), for [`gather`](Tensor::gather) along
    /// a vector.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor, Indices};
    /// let ids = Indices::<Const<2>, Const<5>>::new([4, 0])?;
    /// let shaped: IndexTensor<(Const<2>,), Const<5>> = ids.into();
    /// assert_eq!(shaped.as_slice(), &[4, 0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    fn from(ids: Indices<N, V>) -> Self {
        Self::from_checked(ids.ids, (ids.count,), ids.bound)
    }
}

impl<S: Shape, V: Dim> core::ops::Index<S::Dims> for IndexTensor<S, V> {
    type Output = usize;

    /// The index at a multi-index, `ids[[i, j]]`. Panics when it is out of bounds.
    ///
    /// ```
    /// use shaped::{Const, IndexTensor, Rank2};
    /// let ids = IndexTensor::<Rank2<2, 3>, Const<5>>::from_slice(&[0, 1, 2, 3, 4, 0])?;
    /// assert_eq!((ids[[0, 2]], ids[[1, 0]]), (2, 3));
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[track_caller]
    fn index(&self, at: S::Dims) -> &usize {
        &self.ids[crate::tensor::offset(at.as_ref(), self.shape.dims().as_ref())]
    }
}

/// The shape rule of [`Tensor::index_select`]: [`Indices`] below `V`, `N` of them, pick slices of
/// axis `AX` of `Self`, giving `Output`. [`Tensor::gather`] uses it (with `N = Const<1>`) for the
/// bound of its [`IndexTensor`].
///
/// Axis `AX` must exist and have the size `V` the indices were checked against: a type error between
/// static sizes, a check when the op runs otherwise. `Output` is `Self` written as a tuple with axis
/// `AX` set to `N`.
///
/// ```
/// use shaped::{Const, Rank2, SelectAxis};
/// let _: <Rank2<5, 3> as SelectAxis<0, usize, Const<5>>>::Output = (7_usize, Const::<3>);
/// let _: <Rank2<5, 3> as SelectAxis<1, Const<2>, Const<3>>>::Output = (Const::<5>, Const::<2>);
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot index axis {AX} of `{Self}` with indices below `{V}`",
    label = "axis {AX} must exist and have the size the indices were checked against",
    note = "indices (`Indices<N, V>`, `IndexTensor<S, V>`) are checked to be below `V` when they are \
            built; `V` must be the size of the axis they index"
)]
pub trait SelectAxis<const AX: usize, N: Dim, V: Dim>: Shape {
    /// The result's shape: `Self` as a tuple, with axis `AX` of size `N`.
    type Output: Shape;
    /// The result's shape.
    #[doc(hidden)]
    fn select_shape(&self, count: N) -> Self::Output;
}

#[diagnostic::do_not_recommend]
impl<const AX: usize, S: Shape, N: Dim, V: Dim> SelectAxis<AX, N, V> for S
where
    S::Tuple: ReplaceAxis<AX, N>,
    <S::Tuple as ReplaceAxis<AX, N>>::AxisDim: DimEq<V>,
{
    type Output = <S::Tuple as ReplaceAxis<AX, N>>::Output;
    #[inline]
    fn select_shape(&self, count: N) -> Self::Output {
        self.to_tuple().replace_axis(count)
    }
}

/// Calls `visit(at_y, at_x)` for every picked slice, with `x` seen as `[outer, len, inner]` and the
/// result `y` as `[outer, ids.len(), inner]`: the offsets of `y[o, j, :]` and of `x[o, ids[j], :]`.
fn for_each_pick(
    ids: &[usize],
    (outer, len, inner): (usize, usize, usize),
    mut visit: impl FnMut(usize, usize),
) {
    let k = ids.len();
    for o in 0..outer {
        for (j, &i) in ids.iter().enumerate() {
            visit((o * k + j) * inner, (o * len + i) * inner);
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The slices of `self` along axis `AX` at the given indices, in their order:
    /// `y[.., j, ..] = x[.., indices[j], ..]`, the `j` at position `AX`. The result has the
    /// indices' count `N` on that axis, and is written as a tuple of dimensions (`(N, Const<4>)` for
    /// rows of a `Rank2<10, 4>`), so that code written for any count `N: Dim` compiles once for all.
    ///
    /// Derivative: scatter-add. The gradient of output slice `j` is added to input slice
    /// `indices[j]`; an index that appears twice gets both gradients, one that does not appear gets
    /// 0.
    ///
    /// PyTorch: `torch.index_select(x, AX, indices)`. [`Indices`] are checked against the axis size
    /// when they are built, so the op itself cannot meet a bad index; the indices' bound `V` must be
    /// the size of axis `AX`: a type error between static sizes, a run-time check otherwise. Naming
    /// an axis the shape does not have is a type error.
    ///
    /// # Panics
    /// When axis `AX` or the indices' bound is a run-time dimension and they differ; the message
    /// names both (`index_select: the axis size and the indices' bound differ: 5 and 4`).
    ///
    /// Cost: the forward copies the picked slices. The backward adds each output slice into its
    /// source slice and touches nothing else; the input's gradient buffer is zeroed once by the tape
    /// when it is first used.
    ///
    /// Edge values: elements are copied bit for bit (NaN, infinities, the sign of zero), and
    /// gradients are summed in index order (`inf` and `-inf` into one slice give NaN, as PyTorch).
    /// No indices give an empty result and a gradient of zeros.
    ///
    /// ```
    /// use shaped::{Axis, Const, Indices, Tape, Tensor};
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let cols = Indices::<Const<3>, Const<3>>::new([2, 0, 2])?;
    /// let y = x.index_select(Axis::<1>, &cols);
    /// assert_eq!(y.shape(), [2, 3]);
    /// assert_eq!(y.to_vec(), vec![3.0, 1.0, 3.0, 6.0, 4.0, 6.0]);
    ///
    /// // Column 2 is picked twice, so its gradient is 2; column 1 is not picked.
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.index_select(Axis::<1>, &cols).sum().backward().get(&xt);
    /// assert_eq!(g.to_array(), [[1.0, 0.0, 2.0], [1.0, 0.0, 2.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axis, Const, Indices, Tensor};
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let rows = Indices::<Const<1>, Const<3>>::new([2]).unwrap(); // indices into 3 rows, not 2
    /// let _ = x.index_select(Axis::<0>, &rows);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn index_select<const AX: usize, N: Dim, V: Dim>(
        &self,
        _axis: Axis<AX>,
        indices: &Indices<N, V>,
    ) -> Tensor<S::Output, E, T>
    where
        S: SelectAxis<AX, N, V>,
    {
        self.select(
            ("index_select", "the axis size and the indices' bound"),
            AX,
            indices,
            self.typed_shape().select_shape(indices.count()),
        )
    }

    /// The slices of axis `ax` at `indices`, with shape `out`: the op of `index_select` and
    /// `embedding`. Panics unless the axis has the size the indices were checked against, naming
    /// the op the caller called and what differs (`op`) and both sizes.
    #[track_caller]
    pub(crate) fn select<N: Dim, V: Dim, S2: Shape>(
        &self,
        op: (&str, &str),
        ax: usize,
        indices: &Indices<N, V>,
        out: S2,
    ) -> Tensor<S2, E, T> {
        let sizes = split_at_axis(self.shape().as_ref(), ax);
        let (outer, len, inner) = sizes;
        check_same(op.0, op.1, len, indices.bound().size());
        let numel = outer * indices.len() * inner;
        let (x, mut y) = (self.data(), Buffer::uninit(numel));
        for_each_pick(indices.as_slice(), sizes, |at_y, at_x| {
            y[at_y..at_y + inner].copy_from_slice(&x[at_x..at_x + inner]);
        });
        let tape = self.tape().record([self.input()], numel, |[node]| {
            let ids = Arc::clone(&indices.ids);
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                // Only the picked slices are touched (one picked twice gets both gradients).
                let dx = grads.acc(node);
                for_each_pick(&ids, sizes, |at_y, at_x| {
                    let from = &dy[at_y..at_y + inner];
                    for (d, &g) in dx[at_x..at_x + inner].iter_mut().zip(from) {
                        *d += g;
                    }
                });
            })
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::{IndexTensor, Indices};
    use crate::ops::testing::random;
    use crate::{Axis, Const, ErrorKind, Rank1, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn indices_are_checked_when_built() {
        let err = Indices::<usize, Const<1>>::from_slice(&[0, 0, 1]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfRange);
        assert_eq!(
            err.to_string(),
            "index 1 at position 2 is out of range: the axis has 1 element (0)"
        );
        let err = Indices::<Const<2>, usize>::from_slice_with(5, &[1]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Length);
        let ok = Indices::<usize, Const<4>>::from_slice(&[]).unwrap();
        assert!(ok.is_empty());
        assert_eq!(ok.count(), 0);
    }

    #[test]
    fn index_tensors_are_checked_when_built() {
        let ok = IndexTensor::<Rank2<2, 3>, Const<4>>::from_slice(&[0, 1, 2, 3, 3, 0]).unwrap();
        assert_eq!((ok.shape(), ok[[1, 0]], ok.numel()), ([2, 3], 3, 6));
        let err =
            IndexTensor::<Rank2<2, 3>, Const<4>>::from_slice(&[0, 1, 2, 3, 4, 0]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::OutOfRange);
        assert_eq!(
            err.to_string(),
            "index 4 at position [1, 1] is out of range: the axis has 4 elements (0 to 3)"
        );
        let err = IndexTensor::<(usize, Const<2>), usize>::from_slice_with((2, Const), 1, &[0; 3])
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Length);
        assert_eq!(
            err.to_string(),
            "cannot build indices of shape [2, 2] from 3 values: it needs 4"
        );
        let none = IndexTensor::<(usize, Const<2>), usize>::from_slice_with((0, Const), 0, &[]);
        assert_eq!(none.unwrap().numel(), 0);
        let from: IndexTensor<(usize,), Const<3>> = Indices::<usize, Const<3>>::from_slice(&[2, 0])
            .unwrap()
            .into();
        assert_eq!((from.shape(), from.as_slice()), ([2], &[2, 0][..]));
    }

    #[test]
    fn picks_along_every_axis() {
        let x = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
        let i0 = Indices::<Const<3>, Const<2>>::new([1, 1, 0]).unwrap();
        let y0 = x.index_select(Axis::<0>, &i0);
        assert_eq!(y0.shape(), [3, 3, 4]);
        let want = Tensor::<Rank3<3, 3, 4>, f64>::from_fn(|[j, b, c]| x[[[1, 1, 0][j], b, c]]);
        assert_eq!(y0.as_slice(), want.as_slice());
        let i1 = Indices::<usize, Const<3>>::from_slice(&[2, 0]).unwrap();
        let y1 = x.index_select(Axis::<1>, &i1);
        let _: &Tensor<(Const<2>, usize, Const<4>), f64> = &y1;
        let want = Tensor::<Rank3<2, 2, 4>, f64>::from_fn(|[a, j, c]| x[[a, [2, 0][j], c]]);
        assert_eq!(y1.as_slice(), want.as_slice());
        let i2 = Indices::<Const<1>, Const<4>>::new([3]).unwrap();
        let y2 = x.index_select(Axis::<2>, &i2);
        let want = Tensor::<Rank3<2, 3, 1>, f64>::from_fn(|[a, b, _]| x[[a, b, 3]]);
        assert_eq!(y2.as_slice(), want.as_slice());
    }

    #[test]
    fn gradient_literal() {
        // f = sum(index_select(x, axis 0, [2, 0, 2]) * w) with w = [[1, 2], [3, 4], [5, 6]]:
        // df/dx[0] = w[1], df/dx[1] = 0, df/dx[2] = w[0] + w[2].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]).into_dims();
        let ids = Indices::<Const<3>, Const<3>>::new([2, 0, 2]).unwrap();
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.index_select(Axis::<0>, &ids) * &w)
            .sum()
            .backward()
            .get(&xt);
        assert_eq!(g.to_array(), [[3.0, 4.0], [0.0, 0.0], [6.0, 8.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<3, 4, 2>, f64> = random(1);
        let ids = Indices::<Const<5>, Const<4>>::new([3, 0, 3, 1, 3]).unwrap();
        let w: Tensor<Rank3<3, 5, 2>, f64> = random(2);
        let w = w.into_dims();
        gradcheck(|x| (x.index_select(Axis::<1>, &ids) * &w).sum(), &x).unwrap();
        // used twice: picked rows times the whole tensor's rows
        let m: Tensor<Rank2<3, 3>, f64> = random(3);
        let rows = Indices::<Const<3>, Const<3>>::new([1, 2, 1]).unwrap();
        gradcheck(
            |m| (m.index_select(Axis::<0>, &rows) * m.reshape::<(Const<3>, Const<3>)>()).sum(),
            &m,
        )
        .unwrap();
    }

    #[test]
    fn no_indices_give_an_empty_result_and_zero_gradients() {
        let x = Tensor::from([1.0, 2.0, 3.0]);
        let none = Indices::<usize, Const<3>>::from_slice(&[]).unwrap();
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.index_select(Axis::<0>, &none);
        assert_eq!(y.shape(), [0]);
        let g = (y.sum() + xt.sum() * 0.0).backward().get(&xt);
        assert_eq!(g.to_array(), [0.0; 3]);
        let _: Tensor<Rank1<3>, f64> = x;
    }

    #[test]
    fn run_time_axes() {
        let x = Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
            .unwrap();
        let rows = Indices::<Const<2>, usize>::from_slice_with(3, &[2, 0]).unwrap();
        let y = x.index_select(Axis::<0>, &rows);
        let _: &Tensor<(Const<2>, Const<2>), f64> = &y;
        assert_eq!(y.to_vec(), vec![5.0, 6.0, 1.0, 2.0]);
        let w = Tensor::from([[1.0, -1.0], [0.5, 2.0]]).into_dims();
        gradcheck(|x| (x.index_select(Axis::<0>, &rows) * &w).sum(), &x).unwrap();
        // Static indices into a run-time axis: checked when the op runs.
        let cols = Indices::<usize, Const<2>>::from_slice(&[1, 1, 1]).unwrap();
        assert_eq!(
            x.index_select(Axis::<1>, &cols).to_vec(),
            vec![2.0, 2.0, 2.0, 4.0, 4.0, 4.0, 6.0, 6.0, 6.0]
        );
    }

    #[test]
    #[should_panic(expected = "index_select: the axis size and the indices' bound differ: 3 and 4")]
    fn a_run_time_bound_that_differs_panics() {
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let rows = Indices::<Const<1>, usize>::from_slice_with(4, &[3]).unwrap();
        let _ = x.index_select(Axis::<0>, &rows);
    }
}
