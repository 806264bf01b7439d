//! Losses: [`mse`], [`cross_entropy`] from logits with integer class [`Labels`], and
//! [`binary_cross_entropy_with_logits`]; and [`accuracy`]. Each is one op with its own backward (not a
//! chain of elementwise ops), stable for large logits, with PyTorch's values and `mean` reduction.

use std::sync::Arc;

use crate::buffer::Buffer;

use super::losses::squared_error;
use super::reduction::{Mean, pair_loss};
use crate::error::Error;
use crate::ops::sigmoid::logistic;
use crate::ops::{Lanes, Merged, checked_ids, softmax_middle};
use crate::{Const, Dim, Element, Merge, Rank0, Rank2, SameDim, Shape, Tensor, Tracking};

/// The class ids of a batch of samples, each checked to be below `C` when it is built, so that a bad id
/// in the data is an error where the data is read, never a silently wrong loss.
///
/// `B` is the batch dimension: `Const<64>` for a static batch of 64, `usize` for a batch whose size is
/// known at run time (the labels then hold their count), or a generic `B: Dim` in code written for
/// both. Its size must be the logits' number of rows: between two static batches the compiler checks
/// it ([`SameDim`](crate::SameDim)); where either is run-time, the loss does when it runs. Since
/// either form fits run-time logits, the batch type is not inferred from the logits: labels built
/// from a slice are written `Labels<usize, C>` (or with their static batch).
///
/// ```
/// use shaped::nn::Labels;
/// use shaped::Const;
/// let labels = Labels::<Const<3>, 10>::new([0, 9, 4])?;
/// assert_eq!(labels.as_slice(), &[0, 9, 4]);
/// let err = Labels::<Const<3>, 10>::new([0, 10, 4]).unwrap_err();
/// assert_eq!(err.to_string(), "class id 10 at position 1 is out of range: there are 10 classes (0 to 9)");
/// // A run-time number of labels, read from data.
/// let read = vec![1, 1, 0, 2, 2];
/// let labels = Labels::<usize, 3>::from_slice(&read)?;
/// assert_eq!(labels.len(), 5);
/// # Ok::<(), shaped::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Labels<B: Dim, const C: usize> {
    ids: Arc<[usize]>,
    batch: B,
}

impl<const B: usize, const C: usize> Labels<Const<B>, C> {
    /// Labels from an array of `B` class ids.
    ///
    /// # Errors
    /// [`ErrorKind::OutOfRange`] naming the first id that is not below `C`, its position and `C`.
    ///
    /// [`ErrorKind::OutOfRange`]: crate::ErrorKind::OutOfRange
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// use shaped::{Const, ErrorKind};
    /// let labels: Labels<Const<2>, 3> = Labels::new([2, 0])?;
    /// assert_eq!(labels.as_slice(), &[2, 0]);
    /// assert_eq!(Labels::<Const<1>, 3>::new([3]).unwrap_err().kind(), ErrorKind::OutOfRange);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    pub fn new(ids: [usize; B]) -> Result<Self, Error> {
        Self::from_slice(&ids)
    }

    /// The labels as one-hot rows: `[B, C]`, with a 1 at each sample's class.
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// use shaped::{Rank2, Tensor};
    /// let one_hot: Tensor<Rank2<2, 3>> = Labels::new([2, 0])?.to_one_hot();
    /// assert_eq!(one_hot.to_array(), [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn to_one_hot<E: Element>(&self) -> Tensor<Rank2<B, C>, E> {
        Tensor::from_data(self.one_hot_values())
    }
}

impl<const C: usize> Labels<usize, C> {
    /// The labels as one-hot rows: `[len, C]`, with a 1 at each sample's class.
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// let one_hot = Labels::<usize, 3>::from_slice(&[2, 0])?.to_one_hot::<f32>();
    /// assert_eq!(one_hot.shape(), [2, 3]);
    /// assert_eq!(one_hot.to_vec(), vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn to_one_hot<E: Element>(&self) -> Tensor<(usize, Const<C>), E> {
        Tensor::from_data_with((self.batch, Const), self.one_hot_values())
    }
}

impl<B: Dim, const C: usize> Labels<B, C> {
    /// Labels from a slice of class ids: exactly `B` of them for a static batch, any number for a
    /// run-time one.
    ///
    /// # Errors
    /// [`ErrorKind::Length`] when a static batch gets another count; [`ErrorKind::OutOfRange`] naming
    /// the first id that is not below `C`.
    ///
    /// [`ErrorKind::Length`]: crate::ErrorKind::Length
    /// [`ErrorKind::OutOfRange`]: crate::ErrorKind::OutOfRange
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// use shaped::Const;
    /// let err = Labels::<Const<4>, 3>::from_slice(&[0, 1]).unwrap_err();
    /// assert_eq!(err.to_string(), "expected 4 class ids, got 2");
    /// ```
    pub fn from_slice(ids: &[usize]) -> Result<Self, Error> {
        let batch = checked_ids(ids, "class ids", "class id", C, classes_str)?;
        Ok(Self {
            ids: ids.into(),
            batch,
        })
    }

    /// Labels whose ids are known to be below `C` (predictions).
    pub(crate) fn from_checked(ids: Vec<usize>, batch: B) -> Self {
        debug_assert!(ids.len() == batch.size() && ids.iter().all(|&i| i < C));
        Self {
            ids: ids.into(),
            batch,
        }
    }

    /// The class ids.
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// let labels = Labels::<usize, 3>::from_slice(&[2, 0, 1])?;
    /// assert_eq!(labels.as_slice(), &[2, 0, 1]);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn as_slice(&self) -> &[usize] {
        &self.ids
    }

    /// The number of labels.
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// let labels = Labels::<usize, 10>::from_slice(&[7, 7, 3])?;
    /// assert_eq!(labels.len(), 3);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no labels.
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// assert!(Labels::<usize, 10>::from_slice(&[])?.is_empty());
    /// assert!(!Labels::<usize, 10>::from_slice(&[0])?.is_empty());
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The batch dimension: `Const<B>` for a static batch, the count for a run-time one.
    ///
    /// ```
    /// use shaped::nn::Labels;
    /// let labels = Labels::<usize, 3>::from_slice(&[0, 1, 2, 1])?;
    /// assert_eq!(labels.batch(), 4);
    /// # Ok::<(), shaped::Error>(())
    /// ```
    #[must_use]
    pub fn batch(&self) -> B {
        self.batch
    }

    fn one_hot_values<E: Element>(&self) -> Vec<E> {
        let mut data = vec![E::zero(); self.ids.len() * C];
        for (b, &id) in self.ids.iter().enumerate() {
            data[b * C + id] = E::one();
        }
        data
    }
}

/// The shape of class scores: `[batch, C]`, as `Rank2<B, C>` or `(B, Const<C>)`. What
/// [`cross_entropy`], [`accuracy`] and [`predict`] take, with [`Labels`] of the same batch size.
///
/// ```
/// use shaped::nn::{ClassScores, Labels, accuracy};
/// use shaped::{Const, Tensor};
/// // generic over static and run-time batches of 3 classes
/// fn top1<S: ClassScores<3>>(logits: &Tensor<S>, labels: &Labels<S::Batch, 3>) -> f64 {
///     accuracy(logits, labels)
/// }
/// let logits = Tensor::from([[0.1, 2.0, 0.3], [1.5, 0.0, 0.2]]);
/// assert_eq!(top1(&logits, &Labels::new([1, 2])?), 0.5); // row 0 right, row 1 wrong
/// let rows = Tensor::<(usize, Const<3>)>::from_vec_with((1, Const), vec![0.0, 0.0, 1.0])?;
/// assert_eq!(top1(&rows, &Labels::from_slice(&[2])?), 1.0);
/// # Ok::<(), shaped::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a shape of class scores with {C} classes",
    label = "expected `[batch, {C}]`",
    note = "logits are `[batch, C]`: `Rank2<B, C>`, or `(B, Const<C>)` with a run-time or generic batch `B`"
)]
pub trait ClassScores<const C: usize>: Shape {
    /// The batch dimension.
    type Batch: Dim;
    /// The batch dimension's value.
    ///
    /// ```
    /// use shaped::nn::ClassScores;
    /// use shaped::{Const, Rank2};
    /// assert_eq!(ClassScores::<10>::batch(&Rank2::<32, 10>), Const::<32>);
    /// assert_eq!(ClassScores::<10>::batch(&(5_usize, Const::<10>)), 5);
    /// ```
    fn batch(&self) -> Self::Batch;
}

impl<const B: usize, const C: usize> ClassScores<C> for Rank2<B, C> {
    type Batch = Const<B>;
    #[inline]
    fn batch(&self) -> Const<B> {
        Const
    }
}

impl<D: Dim, const C: usize> ClassScores<C> for (D, Const<C>) {
    type Batch = D;
    #[inline]
    fn batch(&self) -> D {
        self.0
    }
}

/// Panics unless logits and labels have the same number of rows.
#[track_caller]
pub(crate) fn check_rows(op: &str, logits: usize, labels: usize) {
    crate::shape::check_same(
        op,
        "the rows of the logits and the number of labels",
        logits,
        labels,
    );
}

/// The class each row of `logits` scores highest (the first on a tie; class 0 for a row containing
/// NaN, which [`accuracy`] counts as wrong), as labels of the same batch: the predictions of a
/// classifier. PyTorch: `logits.argmax(dim=1)`.
///
/// ```
/// use shaped::nn::predict;
/// use shaped::{Const, Tensor};
/// let logits: Tensor<(usize, Const<3>)> =
///     Tensor::from_vec_with((2, Const), vec![0.1, 0.7, 0.2, 0.9, 0.0, 0.1])?;
/// assert_eq!(predict(&logits).as_slice(), &[1, 0]);
/// # Ok::<(), shaped::Error>(())
/// ```
#[must_use]
pub fn predict<S, const C: usize, E: Element, T: Tracking<E>>(
    logits: &Tensor<S, E, T>,
) -> Labels<S::Batch, C>
where
    S: ClassScores<C>,
{
    let ids = logits
        .as_slice()
        .chunks_exact(C.max(1))
        .map(|row| (0..C).fold(0, |best, c| if row[c] > row[best] { c } else { best }))
        .collect();
    Labels::from_checked(ids, logits.typed_shape().batch())
}

/// `there are 3 classes (0 to 2)`, for the messages about class ids.
pub(crate) fn classes_str(classes: usize) -> String {
    match classes {
        0 => "there are no classes".to_owned(),
        1 => "there is 1 class (0)".to_owned(),
        c => format!("there are {c} classes (0 to {})", c - 1),
    }
}

/// Cross-entropy between the softmax of `logits` (`[B, C]`) and the class `labels`, averaged over the
/// batch: `mean_b( logsumexp(x_b) - x_b[label_b] )`. PyTorch: `F.cross_entropy(logits, labels)`.
///
/// Derivative: `(softmax(x_b) - onehot(label_b)) / B`. Stable: logits of any size (±1000) give finite
/// values, because the maximum is subtracted before exponentiating.
///
/// ```
/// use shaped::nn::{cross_entropy, Labels};
/// use shaped::{Const, Tensor};
///
/// let logits = Tensor::from([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]]);
/// let labels = Labels::new([0, 2])?;
/// let loss = cross_entropy(&logits, &labels);
/// // row 0: ln(e^2 + 2) - 2; row 1: ln 3
/// let expected = (((2.0_f64).exp() + 2.0).ln() - 2.0 + 3.0_f64.ln()) / 2.0;
/// assert!((loss.item() - expected).abs() < 1e-12);
///
/// // Run-time logits with labels of a static batch: their sizes are checked when the loss runs.
/// let rows: Tensor<(usize, Const<3>), f64> = Tensor::from_vec_with((2, Const), logits.to_vec())?;
/// assert_eq!(cross_entropy(&rows, &labels).item(), loss.item());
/// # Ok::<(), shaped::Error>(())
/// ```
///
/// # Panics
/// When the logits' batch or the labels' is run-time and they differ in number (a static batch of
/// another size than the labels' is a type error); the message names both:
/// `cross_entropy: the rows of the logits and the number of labels differ: 5 and 16`.
#[must_use]
#[track_caller]
pub fn cross_entropy<S, B: Dim, const C: usize, E: Element, T: Tracking<E>>(
    logits: &Tensor<S, E, T>,
    labels: &Labels<B, C>,
) -> Tensor<Rank0, E, T>
where
    S: ClassScores<C>,
    S::Batch: SameDim<B>,
{
    let x = logits.as_slice();
    let rows = logits.typed_shape().batch().size();
    check_rows("cross_entropy", rows, labels.len());
    let lanes = Lanes::at(&[rows, C], 1);
    let mut probs = Buffer::uninit(rows * C);
    let mut lse = Buffer::uninit(rows);
    softmax_middle(x, lanes, &mut probs, &mut lse);
    let mut total = E::zero();
    for ((run, &id), &lse) in lanes.runs().zip(labels.ids.iter()).zip(lse.iter()) {
        total += lse - x[run][id];
    }
    let scale = E::one() / E::from_f64_lossy(rows as f64);
    let out = Arc::new(Buffer::full(1, total * scale));
    let tape = logits.tape().record([logits.input()], 1, |[node]| {
        let ids = Arc::clone(&labels.ids);
        Box::new(move |dy, grads| {
            let Some(node) = node else { return };
            let dx = grads.acc(node);
            let g = dy[0] * scale;
            // (With no classes there are no logits: `max(1)` only keeps `chunks_exact` from
            // panicking on its zero width.)
            let rows = dx
                .chunks_exact_mut(C.max(1))
                .zip(probs.chunks_exact(C.max(1)));
            for ((dx, probs), &id) in rows.zip(ids.iter()) {
                for (d, &p) in dx.iter_mut().zip(probs) {
                    *d += g * p;
                }
                dx[id] -= g;
            }
        })
    });
    Tensor::from_parts(out, Rank0, tape)
}

/// Mean squared error, `mean((pred - target)^2)`. PyTorch: `F.mse_loss(pred, target)`.
///
/// Derivatives: `2 (pred - target) / n` for `pred`, the negative for `target`.
///
/// ```
/// use shaped::nn::mse;
/// use shaped::Tensor;
/// let loss = mse(&Tensor::from([1.0, 2.0, 3.0]), &Tensor::from([1.0, 0.0, 5.0]));
/// assert_eq!(loss.item(), (0.0 + 4.0 + 4.0) / 3.0);
/// ```
///
/// # Panics
/// When run-time dimensions of the two shapes differ; the message names both shapes:
/// `mse: the shapes differ: [3, 2] and [4, 2]`.
#[must_use]
#[track_caller]
pub fn mse<S: Shape, E: Element, T1, T2>(
    pred: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
) -> Tensor<Rank0, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    squared_error("mse", pred, target, Mean)
}

/// Binary cross-entropy between `sigmoid(logits)` and `targets` (probabilities in `[0, 1]`), averaged
/// over all elements: `mean( max(x, 0) - x t + ln(1 + e^-|x|) )`, the stable form PyTorch uses.
/// PyTorch: `F.binary_cross_entropy_with_logits(logits, targets)`.
///
/// Derivatives: `(sigmoid(x) - t) / n` for the logits and `-x / n` for the targets. Finite for logits
/// of any size.
///
/// ```
/// use shaped::nn::binary_cross_entropy_with_logits as bce;
/// use shaped::Tensor;
/// let loss = bce(&Tensor::from([0.0, 1000.0]), &Tensor::from([1.0, 1.0]));
/// // element 0: ln 2; element 1: ~0
/// assert!((loss.item() - 2.0_f64.ln() / 2.0).abs() < 1e-12);
/// ```
///
/// # Panics
/// When run-time dimensions of the two shapes differ; the message names both shapes.
#[must_use]
#[track_caller]
pub fn binary_cross_entropy_with_logits<S: Shape, E: Element, T1, T2>(
    logits: &Tensor<S, E, T1>,
    targets: &Tensor<S, E, T2>,
) -> Tensor<Rank0, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    pair_loss(
        "binary_cross_entropy_with_logits",
        logits,
        targets,
        Mean,
        |_, x, t| x.max(E::zero()) - x * t + (-x.abs()).exp().ln_1p(),
        |_, x, t| logistic(x) - t,
        |_, x, _| -x,
    )
}

/// The fraction of rows of `logits` whose largest entry is at the row's label (the first largest on a
/// tie; a row containing NaN counts as wrong). A batch of no rows gives NaN (`0 / 0`).
///
/// ```
/// use shaped::nn::{accuracy, Labels};
/// use shaped::Tensor;
/// let logits = Tensor::from([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]]);
/// let labels = Labels::new([1, 0, 0, 0])?;
/// assert_eq!(accuracy(&logits, &labels), 0.75);
///
/// // Run-time logits with labels of a static batch.
/// let rows: Tensor<(usize, shaped::Const<2>)> =
///     Tensor::from_vec_with((4, shaped::Const), logits.to_vec())?;
/// assert_eq!(accuracy(&rows, &labels), 0.75);
///
/// let none: Tensor<(usize, shaped::Const<2>)> = Tensor::zeros_with((0, shaped::Const));
/// assert!(accuracy(&none, &Labels::<usize, 2>::from_slice(&[])?).is_nan());
/// # Ok::<(), shaped::Error>(())
/// ```
///
/// # Panics
/// When the logits' batch or the labels' is run-time and they differ in number (a static batch of
/// another size than the labels' is a type error); the message names both.
#[must_use]
#[track_caller]
pub fn accuracy<S, B: Dim, const C: usize, E: Element, T: Tracking<E>>(
    logits: &Tensor<S, E, T>,
    labels: &Labels<B, C>,
) -> f64
where
    S: ClassScores<C>,
    S::Batch: SameDim<B>,
{
    let x = logits.as_slice();
    let rows = logits.typed_shape().batch().size();
    check_rows("accuracy", rows, labels.len());
    let correct = (0..rows)
        .filter(|&b| {
            let row = &x[b * C..(b + 1) * C];
            if row.iter().any(|v| v.is_nan()) {
                return false;
            }
            let best = (0..C).fold(0, |best, c| if row[c] > row[best] { c } else { best });
            best == labels.ids[b]
        })
        .count();
    correct as f64 / rows as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::testing::random;
    use crate::{Rank1, Rank3, Tape, gradcheck};

    #[test]
    fn cross_entropy_gradient_literal() {
        // logits [[0, 0]], label 0: softmax = [0.5, 0.5], d/dx = softmax - onehot = [-0.5, 0.5].
        let x = Tensor::from([[0.0, 0.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let loss = cross_entropy(&xt, &Labels::new([0]).unwrap());
        assert!((loss.item() - 2.0_f64.ln()).abs() < 1e-15);
        assert_eq!(loss.backward().get(&xt).to_array(), [[-0.5, 0.5]]);
    }

    #[test]
    fn cross_entropy_is_stable_and_matches_finite_differences() {
        let x = Tensor::from([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]);
        let labels = Labels::new([1, 2]).unwrap();
        let loss = cross_entropy(&x, &labels);
        // row 0: logsumexp = 1000, minus -1000 = 2000; row 1: ln 3.
        assert!((loss.item() - 0.5 * (2000.0 + 3.0_f64.ln())).abs() < 1e-9);
        let x: Tensor<Rank2<4, 5>, f64> = random(40);
        let labels = Labels::new([0, 4, 2, 2]).unwrap();
        gradcheck(|x| cross_entropy(&x, &labels), &x).unwrap();
        // used twice
        gradcheck(
            |x| cross_entropy(&x, &labels) + cross_entropy(&(&x * 2.0), &labels),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn mse_gradients_for_both_sides() {
        // d/dp mean((p - t)^2) = 2 (p - t) / n = [0, -4/3, 4/3] for p = [1, 2, 3], t = [1, 4, 1]
        let p = Tensor::from([1.0, 2.0, 3.0]);
        let t = Tensor::from([1.0, 4.0, 1.0]);
        let tape = Tape::new();
        let (pt, tt) = (tape.watch(&p), tape.watch(&t));
        let g = mse(&pt, &tt).backward();
        approx::assert_relative_eq!(
            g.get(&pt),
            Tensor::from([0.0, -4.0 / 3.0, 4.0 / 3.0]),
            epsilon = 1e-15
        );
        approx::assert_relative_eq!(
            g.get(&tt),
            Tensor::from([0.0, 4.0 / 3.0, -4.0 / 3.0]),
            epsilon = 1e-15
        );
        let p: Tensor<Rank3<2, 2, 3>, f64> = random(41);
        let t: Tensor<Rank3<2, 2, 3>, f64> = random(42);
        gradcheck(|p| mse(&p, &t), &p).unwrap();
        gradcheck(|t| mse(&p, &t), &t).unwrap();
        gradcheck(|p| mse(&p, &p.exp()), &p).unwrap();
    }

    #[test]
    fn bce_with_logits_values_gradients_and_extremes() {
        // x = 0, t = 0.25: loss = ln 2, d/dx = sigmoid(0) - t = 0.25, d/dt = -x = 0.
        let x = Tensor::from([0.0]);
        let t = Tensor::from([0.25]);
        let tape = Tape::new();
        let (xt, tt) = (tape.watch(&x), tape.watch(&t));
        let loss = binary_cross_entropy_with_logits(&xt, &tt);
        assert!((loss.item() - 2.0_f64.ln()).abs() < 1e-15);
        let g = loss.backward();
        assert_eq!(g.get(&xt).to_vec(), vec![0.25]);
        assert_eq!(g.get(&tt).to_vec(), vec![0.0]);
        // ±1000: finite, and the exact limits.
        let big = binary_cross_entropy_with_logits(
            &Tensor::from([1000.0_f32, -1000.0]),
            &Tensor::from([0.0, 1.0]),
        );
        assert_eq!(big.item(), 1000.0);
        let x: Tensor<Rank1<6>, f64> = random(43);
        let t: Tensor<Rank1<6>, f64> = Tensor::uniform(&mut crate::ops::testing::rng(44), 0.0, 1.0);
        gradcheck(|x| binary_cross_entropy_with_logits(&x, &t), &x).unwrap();
        gradcheck(|t| binary_cross_entropy_with_logits(&x, &t), &t).unwrap();
    }

    #[test]
    fn accuracy_ignores_rows_with_nan() {
        let logits = Tensor::from([[f64::NAN, 1.0], [0.0, 1.0]]);
        assert_eq!(accuracy(&logits, &Labels::new([1, 1]).unwrap()), 0.5);
    }
}
