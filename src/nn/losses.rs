//! Losses with a reduction argument, as PyTorch's `torch.nn.functional` ones: [`mse_loss`],
//! [`l1_loss`], [`huber_loss`], [`smooth_l1_loss`], [`kl_div`], [`bce_with_logits`] (with
//! `pos_weight`) and [`nll_loss`]. Each is one op with its own backward, and takes [`Mean`](super::Mean),
//! [`Sum`](super::Sum), [`BatchMean`](super::BatchMean) or [`NoReduction`](super::NoReduction).

use std::sync::Arc;

use super::loss::{ClassScores, Labels, check_rows};
use super::reduction::{Reduction, pair_loss};
use crate::buffer::Buffer;
use crate::ops::Merged;
use crate::ops::sigmoid::logistic;
use crate::{
    Const, Dim, Element, Merge, NonScalar, Rank1, ReduceAxis, SameDim, Shape, Tensor, Tracking,
};

/// The sign of `x` with `sign(0) = 0` (and NaN for NaN), as `torch.sign`: the derivative of `|x|`
/// that PyTorch's losses use.
fn sign<E: Element>(x: E) -> E {
    if x > E::zero() {
        E::one()
    } else if x < E::zero() {
        -E::one()
    } else {
        x * E::zero()
    }
}

/// Squared error, `(pred - target)^2`, reduced. PyTorch: `F.mse_loss(pred, target, reduction=..)`.
///
/// Derivatives: `2 (pred - target)` for `pred` and the negative for `target`, times the reduction's
/// factor.
///
/// Edge values: a NaN or infinity gives NaN or infinity, as PyTorch.
///
/// # Panics
/// When run-time dimensions of the two shapes differ; the message names both shapes:
/// `mse_loss: the shapes differ: [3, 2] and [4, 2]`.
///
/// ```
/// use shaped::nn::{mse_loss, Sum};
/// use shaped::Tensor;
/// let loss = mse_loss(&Tensor::from([1.0, 2.0]), &Tensor::from([0.0, 4.0]), Sum);
/// assert_eq!(loss.item(), 1.0 + 4.0);
/// ```
#[must_use]
#[track_caller]
pub fn mse_loss<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    pred: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    squared_error("mse_loss", pred, target, reduction)
}

/// [`mse_loss`] inside the op `op`, whose name a shape mismatch reports.
#[track_caller]
pub(crate) fn squared_error<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    op: &str,
    pred: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    let two = E::from_f64_lossy(2.0);
    pair_loss(
        op,
        pred,
        target,
        reduction,
        |_, p, t| (p - t) * (p - t),
        move |_, p, t| two * (p - t),
        move |_, p, t| two * (t - p),
    )
}

/// Absolute error, `|pred - target|`, reduced. PyTorch: `F.l1_loss(pred, target, reduction=..)`.
///
/// Derivatives: `sign(pred - target)` for `pred` (0 where they are equal, as PyTorch) and the negative
/// for `target`.
///
/// # Panics
/// When run-time dimensions of the two shapes differ.
///
/// ```
/// use shaped::nn::{l1_loss, Mean};
/// use shaped::Tensor;
/// assert_eq!(l1_loss(&Tensor::from([1.0, -3.0]), &Tensor::from([0.0, 0.0]), Mean).item(), 2.0);
/// ```
#[must_use]
#[track_caller]
pub fn l1_loss<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    pred: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    pair_loss(
        "l1_loss",
        pred,
        target,
        reduction,
        |_, p, t| (p - t).abs(),
        |_, p, t| sign(p - t),
        |_, p, t| sign(t - p),
    )
}

/// Huber loss: `0.5 d^2` where `|d| < delta`, `delta (|d| - 0.5 delta)` elsewhere, with
/// `d = pred - target`, reduced. PyTorch: `F.huber_loss(pred, target, reduction=.., delta=delta)`.
///
/// Derivatives for `pred`: `d` inside, `delta sign(d)` outside (the two agree at `|d| = delta`); the
/// negative for `target`.
///
/// # Panics
/// If `delta` is not positive; when run-time dimensions of the two shapes differ.
///
/// ```
/// use shaped::nn::{huber_loss, NoReduction};
/// use shaped::{Rank1, Tensor};
/// let each: Tensor<Rank1<2>, f64> =
///     huber_loss(&Tensor::from([0.5, 3.0]), &Tensor::from([0.0, 0.0]), 1.0, NoReduction);
/// assert_eq!(each.to_vec(), vec![0.125, 2.5]); // 0.5 * 0.25, then 1 * (3 - 0.5)
/// ```
#[must_use]
#[track_caller]
pub fn huber_loss<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    pred: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
    delta: E,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    assert!(
        delta > E::zero(),
        "huber_loss: delta must be positive, got {delta}"
    );
    let half = E::from_f64_lossy(0.5);
    let slope = move |d: E| if d.abs() < delta { d } else { delta * sign(d) };
    pair_loss(
        "huber_loss",
        pred,
        target,
        reduction,
        move |_, p, t| {
            let d = p - t;
            if d.abs() < delta {
                half * d * d
            } else {
                delta * (d.abs() - half * delta)
            }
        },
        move |_, p, t| slope(p - t),
        move |_, p, t| -slope(p - t),
    )
}

/// Smooth L1 loss: `0.5 d^2 / beta` where `|d| < beta`, `|d| - 0.5 beta` elsewhere, with
/// `d = pred - target`, reduced; `beta = 0` is the L1 loss. PyTorch:
/// `F.smooth_l1_loss(pred, target, reduction=.., beta=beta)` (equal to `huber_loss / beta`).
///
/// Derivatives for `pred`: `d / beta` inside, `sign(d)` outside; the negative for `target`.
///
/// # Panics
/// If `beta` is negative; when run-time dimensions of the two shapes differ.
///
/// ```
/// use shaped::nn::{smooth_l1_loss, Sum};
/// use shaped::Tensor;
/// let loss = smooth_l1_loss(&Tensor::from([0.5, 3.0]), &Tensor::from([0.0, 0.0]), 1.0, Sum);
/// assert_eq!(loss.item(), 0.125 + 2.5);
/// ```
#[must_use]
#[track_caller]
pub fn smooth_l1_loss<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    pred: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
    beta: E,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    assert!(
        beta >= E::zero(),
        "smooth_l1_loss: beta must not be negative, got {beta}"
    );
    let half = E::from_f64_lossy(0.5);
    let slope = move |d: E| if d.abs() < beta { d / beta } else { sign(d) };
    pair_loss(
        "smooth_l1_loss",
        pred,
        target,
        reduction,
        move |_, p, t| {
            let d = p - t;
            if d.abs() < beta {
                half * d * d / beta
            } else {
                d.abs() - half * beta
            }
        },
        move |_, p, t| slope(p - t),
        move |_, p, t| -slope(p - t),
    )
}

/// The Kullback-Leibler divergence `target (ln target - input)` elementwise, with `input` the
/// log-probabilities of the model and `target` probabilities (or log-probabilities with
/// `log_target`), reduced. PyTorch: `F.kl_div(input, target, reduction=.., log_target=..)`; use
/// [`BatchMean`](super::BatchMean) for the divergence per sample (PyTorch's `'batchmean'`).
///
/// Derivatives: `-target` for `input`; `ln target + 1 - input` for `target` (`exp(t) (t + 1 - input)`
/// with `log_target`).
///
/// Edge values, as PyTorch, which computes `xlogy(t, t) - t input` (`exp(t) (t - input)` with
/// `log_target`): a target of 0 contributes 0 against a finite input (`0 ln 0 = 0`) and NaN against
/// an infinite one (`0 * inf`); its derivative for the target is NaN (`ln t + t / t - input`, with
/// `t / t = 0 / 0`), and for the input `-0`. A target above 0 against an input of `-inf` gives `inf`
/// (derivative `inf` for the target). With `log_target`, a target of `-inf` (probability 0) gives
/// NaN (`0 * -inf`), and NaN for the target's derivative.
///
/// # Panics
/// When run-time dimensions of the two shapes differ.
///
/// ```
/// use shaped::nn::{kl_div, BatchMean};
/// use shaped::Tensor;
/// let log_q = Tensor::from([[0.5_f64.ln(), 0.5_f64.ln()]]);
/// let p = Tensor::from([[0.25, 0.75]]);
/// let kl = kl_div(&log_q, &p, false, BatchMean).item();
/// let want = 0.25 * (0.25_f64 / 0.5).ln() + 0.75 * (0.75_f64 / 0.5).ln();
/// assert!((kl - want).abs() < 1e-15);
/// ```
#[must_use]
#[track_caller]
pub fn kl_div<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    input: &Tensor<S, E, T1>,
    target: &Tensor<S, E, T2>,
    log_target: bool,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    let one = E::one();
    if log_target {
        pair_loss(
            "kl_div",
            input,
            target,
            reduction,
            |_, x, t| t.exp() * (t - x),
            |_, _, t| -t.exp(),
            move |_, x, t| t.exp() * (t - x + one),
        )
    } else {
        pair_loss(
            "kl_div",
            input,
            target,
            reduction,
            // xlogy(t, t) - t x, which is 0 at t = 0 only for a finite x.
            |_, x, t| xlogy_self(t) - t * x,
            |_, _, t| -t,
            // The derivative of xlogy(t, t) is ln t + t / t, with ln t taken as 0 at t = 0 (as in
            // xlogy), so 0 / 0 makes it NaN there.
            |_, x, t| {
                let ln = if t == E::zero() { E::zero() } else { t.ln() };
                #[allow(clippy::eq_op)] // 1, but NaN at t = 0 (and at an infinite t), as in PyTorch
                let ratio = t / t;
                ln + ratio - x
            },
        )
    }
}

/// `t ln t`, and 0 at `t = 0` (`torch.xlogy(t, t)`; NaN for a NaN `t`).
fn xlogy_self<E: Element>(t: E) -> E {
    if t == E::zero() {
        E::zero()
    } else {
        t * t.ln()
    }
}

/// Binary cross-entropy between `sigmoid(logits)` and `targets`, with a weight `pos_weight[c]` on the
/// positive term of class `c` (the last axis), reduced:
/// `-(pos_weight t ln sigmoid(x) + (1 - t) ln(1 - sigmoid(x)))`, in PyTorch's stable form
/// `(1 - t) x + (1 + (pos_weight - 1) t) softplus(-x)`. PyTorch:
/// `F.binary_cross_entropy_with_logits(logits, targets, pos_weight=pos_weight, reduction=..)`. A
/// `pos_weight` of ones is the plain loss.
///
/// Derivatives: `(1 - t) - w sigmoid(-x)` for the logits and `-x + (pos_weight - 1) softplus(-x)` for
/// the targets, with `w = 1 + (pos_weight - 1) t`. `pos_weight` is a constant (no gradient).
///
/// Edge values: finite for logits of any size, as PyTorch.
///
/// # Panics
/// When run-time dimensions of the two shapes differ.
///
/// ```
/// use shaped::nn::{bce_with_logits, Mean};
/// use shaped::Tensor;
/// let logits = Tensor::from([[0.0, 0.0]]);
/// let targets = Tensor::from([[1.0, 0.0]]);
/// // class 0 positive with weight 3: 3 ln 2; class 1 negative: ln 2
/// let loss = bce_with_logits(&logits, &targets, &Tensor::from([3.0, 3.0]), Mean);
/// assert!((loss.item() - 2.0 * 2.0_f64.ln()).abs() < 1e-15);
/// ```
#[must_use]
#[track_caller]
pub fn bce_with_logits<S, E: Element, T1, T2, R: Reduction<S>, const C: usize>(
    logits: &Tensor<S, E, T1>,
    targets: &Tensor<S, E, T2>,
    pos_weight: &Tensor<Rank1<C>, E>,
    reduction: R,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    S: NonScalar<Last = Const<C>>,
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    let one = E::one();
    let pw: Arc<[E]> = pos_weight.as_slice().into();
    let (pw1, pw2, pw3) = (Arc::clone(&pw), Arc::clone(&pw), pw);
    // softplus(-x) = ln(1 + e^-x), stably.
    let softplus_neg = |x: E| (-x.abs()).exp().ln_1p() + (-x).max(E::zero());
    pair_loss(
        "bce_with_logits",
        logits,
        targets,
        reduction,
        move |i, x, t| (one - t) * x + (one + (pw1[i % C] - one) * t) * softplus_neg(x),
        move |i, x, t| (one - t) - (one + (pw2[i % C] - one) * t) * logistic(-x),
        move |i, x, _| -x + (pw3[i % C] - one) * softplus_neg(x),
    )
}

/// The negative log-likelihood of the labels under log-probabilities `[batch, C]` (from
/// `log_softmax`): `-log_probs[b, label_b]` per sample, reduced (the mean over the batch by default,
/// as `F.nll_loss(log_probs, labels, reduction=..)`; `NoReduction` gives one value per sample).
///
/// Derivative: `-1` at each sample's label, 0 elsewhere (times the reduction's factor).
///
/// # Panics
/// When the batch of the log-probabilities or the labels' is run-time and they differ in number (a
/// static batch of another size than the labels' is a type error); the message names both.
///
/// ```
/// use shaped::nn::{nll_loss, Labels, Mean};
/// use shaped::{Const, Tensor};
/// let log_probs = Tensor::from([[-0.5, -1.0], [-2.0, -0.1]]);
/// let labels = Labels::new([1, 0])?;
/// assert_eq!(nll_loss(&log_probs, &labels, Mean).item(), (1.0 + 2.0) / 2.0);
/// // Run-time rows with labels of a static batch.
/// let rows: Tensor<(usize, Const<2>), f64> =
///     Tensor::from_vec_with((2, Const), log_probs.to_vec())?;
/// assert_eq!(nll_loss(&rows, &labels, Mean).item(), (1.0 + 2.0) / 2.0);
/// # Ok::<(), shaped::Error>(())
/// ```
#[must_use]
#[track_caller]
pub fn nll_loss<S, B: Dim, E: Element, T: Tracking<E>, R, const C: usize>(
    log_probs: &Tensor<S, E, T>,
    labels: &Labels<B, C>,
    reduction: R,
) -> Tensor<R::Output, E, T>
where
    S: ClassScores<C> + ReduceAxis<1>,
    S::Batch: SameDim<B>,
    R: Reduction<<S as ReduceAxis<1>>::Reduced>,
{
    let shape = log_probs.typed_shape();
    let rows = shape.batch().size();
    check_rows("nll_loss", rows, labels.len());
    let (out_shape, scale) = reduction.plan(shape.reduced());
    let scale = scale.map(E::from_f64_lossy);
    let x = log_probs.as_slice();
    let ids: Arc<[usize]> = labels.as_slice().into();
    let picked = ids.iter().enumerate().map(|(b, &c)| -x[b * C + c]);
    let out = match scale {
        Some(s) => Buffer::full(1, picked.sum::<E>() * s),
        None => Buffer::collect(rows, picked),
    };
    let tape = log_probs
        .tape()
        .record([log_probs.input()], out.len(), |[node]| {
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                for (b, &c) in ids.iter().enumerate() {
                    let g = match scale {
                        Some(s) => dy[0] * s,
                        None => dy[b],
                    };
                    dx[b * C + c] -= g;
                }
            })
        });
    Tensor::from_parts(Arc::new(out), out_shape, tape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{BatchMean, Mean, NoReduction, Sum};
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, gradcheck};

    #[test]
    fn derivatives_written_out() {
        // l1: d|p - t|/dp = sign(p - t): [1, -1, 0] (0 where equal, as PyTorch), summed.
        let p = Tensor::from([2.0, -1.0, 0.5]);
        let t = Tensor::from([1.0, 1.0, 0.5]);
        let tape = Tape::new();
        let pt = tape.watch(&p);
        let g = l1_loss(&pt, &t, Sum).backward().get(&pt);
        assert_eq!(g.to_vec(), vec![1.0, -1.0, 0.0]);
        // huber, delta 1: d = [1, -2, 0] -> slope [1 (at |d| = delta: delta sign(d)), -1, 0], / 3
        let tape = Tape::new();
        let pt = tape.watch(&p);
        let g = huber_loss(&pt, &t, 1.0, Mean).backward().get(&pt);
        assert_eq!(g.to_vec(), vec![1.0 / 3.0, -1.0 / 3.0, 0.0]);
        // smooth l1, beta 4: all inside: d / 4 = [0.25, -0.5, 0]
        let tape = Tape::new();
        let pt = tape.watch(&p);
        let g = smooth_l1_loss(&pt, &t, 4.0, Sum).backward().get(&pt);
        assert_eq!(g.to_vec(), vec![0.25, -0.5, 0.0]);
        // nll, no reduction, upstream [1, 10]: -1 at each label, times the upstream
        let lp = Tensor::from([[-0.5, -1.0], [-2.0, -0.1]]);
        let labels = Labels::new([1, 0]).unwrap();
        let tape = Tape::new();
        let lt = tape.watch(&lp);
        let each = nll_loss(&lt, &labels, NoReduction);
        assert_eq!(each.to_vec(), vec![1.0, 2.0]);
        let g = each.backward_with(&Tensor::from([1.0, 10.0])).get(&lt);
        assert_eq!(g.to_array(), [[0.0, -1.0], [-10.0, 0.0]]);
    }

    #[test]
    fn every_loss_matches_finite_differences() {
        let p: Tensor<Rank2<3, 4>, f64> = random(1);
        let t: Tensor<Rank2<3, 4>, f64> = random(2);
        let probs = t.map(|v| (v + 2.0) / 4.0 + 0.05);
        gradcheck(|(p, t)| mse_loss(&p, &t, Sum), (&p, &t)).unwrap();
        gradcheck(|(p, t)| l1_loss(&p, &t, Mean), (&p, &t)).unwrap();
        gradcheck(|(p, t)| huber_loss(&p, &t, 0.7, Mean), (&p, &t)).unwrap();
        gradcheck(|(p, t)| smooth_l1_loss(&p, &t, 0.7, BatchMean), (&p, &t)).unwrap();
        gradcheck(|(x, q)| kl_div(&x, &q, false, BatchMean), (&p, &probs)).unwrap();
        gradcheck(|(x, q)| kl_div(&x, &q, true, Sum), (&p, &t)).unwrap();
        let pw = Tensor::from([0.5, 1.0, 2.0, 3.0]);
        gradcheck(|(x, q)| bce_with_logits(&x, &q, &pw, Mean), (&p, &probs)).unwrap();
        let labels = Labels::new([3, 0, 2]).unwrap();
        gradcheck(|x| nll_loss(&x.log_softmax::<1>(), &labels, Mean), &p).unwrap();
        // without reduction, weighted by an upstream
        let w: Tensor<Rank2<3, 4>, f64> = random(3);
        gradcheck(|p| (huber_loss(&p, &t, 1.0, NoReduction) * &w).sum(), &p).unwrap();
    }

    #[test]
    fn bce_with_unit_pos_weight_is_the_plain_loss() {
        let x: Tensor<Rank2<2, 3>, f64> = random(4);
        let t = random::<Rank2<2, 3>>(5).map(|v| (v + 2.0) / 4.0);
        let weighted = bce_with_logits(&x, &t, &Tensor::ones(), Mean).item();
        let plain = crate::nn::binary_cross_entropy_with_logits(&x, &t).item();
        assert!((weighted - plain).abs() < 1e-15);
        // stable at large logits
        let big = Tensor::from([[1000.0, -1000.0, 0.0]]);
        let y = bce_with_logits(
            &big,
            &Tensor::from([[1.0, 0.0, 1.0]]),
            &Tensor::from([2.0, 2.0, 2.0]),
            Sum,
        );
        assert!((y.item() - 2.0 * 2.0_f64.ln()).abs() < 1e-12);
    }

    #[test]
    #[should_panic(
        expected = "nll_loss: the rows of the logits and the number of labels differ: 3 and 2"
    )]
    fn a_run_time_batch_and_labels_of_other_lengths_panic() {
        let x: Tensor<(usize, Const<4>)> = Tensor::zeros_with((3, Const));
        let labels: Labels<usize, 4> = Labels::from_slice(&[0, 1]).unwrap();
        let _ = nll_loss(&x, &labels, crate::nn::Mean);
    }
}
