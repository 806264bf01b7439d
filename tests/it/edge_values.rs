//! Edge values of every op, pinned: zeros, infinities, NaN, ties, and zero-sized dimensions.
//!
//! The values follow IEEE and PyTorch. Each expected value was computed with PyTorch 2.15 in float64
//! (`torch.log`, `torch.amax`, `torch.logsumexp`, ...; gradients by `.sum().backward()` unless a seed
//! is named), and is written next to the assertion. Where the crate deliberately differs from PyTorch,
//! the test says so and pins the crate's value; the op's documentation gives the reason.

use shaped::nn::{Labels, binary_cross_entropy_with_logits as bce, cross_entropy, mse};
use shaped::{NoBias, Rank0, Rank1, Rank2, Rank3, Rank4, Shape, Tape, Tensor, Tracking};

const INF: f64 = f64::INFINITY;
const NAN: f64 = f64::NAN;

/// The value of `f(x)` and the gradient of `sum(f(x))` with respect to `x`.
fn value_and_grad<S: Shape, S2: Shape>(
    x: &Tensor<S, f64>,
    f: impl Fn(Tensor<S, f64, Tape<f64>>) -> Tensor<S2, f64, Tape<f64>>,
) -> (Vec<f64>, Vec<f64>) {
    let tape = Tape::new();
    let xt = tape.watch(x);
    let y = f(xt.clone());
    let value = y.to_vec();
    (value, y.sum().backward().get(&xt).to_vec())
}

/// Elementwise equality where NaN equals NaN and the sign of zero counts.
#[track_caller]
fn assert_same(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    let same = actual
        .iter()
        .zip(expected)
        .all(|(a, e)| (a.is_nan() && e.is_nan()) || a.to_bits() == e.to_bits());
    assert!(same, "got {actual:?}, expected {expected:?}");
}

/// Like [`assert_same`], but `0.0` and `-0.0` count as equal.
#[track_caller]
fn assert_same_up_to_zero_sign(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
    let same = actual
        .iter()
        .zip(expected)
        .all(|(a, e)| (a.is_nan() && e.is_nan()) || a == e);
    assert!(same, "got {actual:?}, expected {expected:?}");
}

// --- ln ---------------------------------------------------------------------------------------------

#[test]
fn ln_of_zero_is_minus_infinity() {
    // torch.log([0, -0, -1, inf, nan]) = [-inf, -inf, nan, inf, nan]; grad 1/x = [inf, -inf, -1, 0, nan]
    let x = Tensor::from([0.0, -0.0, -1.0, INF, NAN]);
    let (y, g) = value_and_grad(&x, |x| x.ln());
    assert_same(&y, &[-INF, -INF, NAN, INF, NAN]);
    assert_same(&g, &[INF, -INF, -1.0, 0.0, NAN]);
    let y32 = Tensor::from([0.0_f32, -1.0]).ln().to_vec();
    assert_eq!(y32[0], f32::NEG_INFINITY);
    assert!(y32[1].is_nan());
}

// --- division -----------------------------------------------------------------------------------------

#[test]
fn division_by_zero_follows_ieee() {
    // a = [1, -1, 1, 0], b = [0, 0, -0, 0]: a / b = [inf, -inf, -inf, nan];
    // d/da = 1/b = [inf, inf, -inf, inf]; d/db = -a/b^2 = [-inf, inf, -inf, nan] (PyTorch).
    let a = Tensor::from([1.0, -1.0, 1.0, 0.0]);
    let b = Tensor::from([0.0, 0.0, -0.0, 0.0]);
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let y = &at / &bt;
    assert_same(&y.to_vec(), &[INF, -INF, -INF, NAN]);
    let g = y.sum().backward();
    assert_same(&g.get(&at).to_vec(), &[INF, INF, -INF, INF]);
    assert_same(&g.get(&bt).to_vec(), &[-INF, INF, -INF, NAN]);
    // By a scalar zero, and a scalar divided by zeros.
    let (y, g) = value_and_grad(&a, |a| a / 0.0);
    assert_same(&y, &[INF, -INF, INF, NAN]);
    assert_same(&g, &[INF; 4]);
    let (y, g) = value_and_grad(&b, |b| 1.0 / b);
    assert_same(&y, &[INF, INF, -INF, INF]);
    // d(1/b)/db = -1/b^2 = -inf at both zeros (PyTorch: [-inf, -inf, -inf, -inf]).
    assert_same(&g, &[-INF; 4]);
    let y32 = (Tensor::from([1.0_f32, 0.0]) / 0.0).to_vec();
    assert_eq!(y32[0], f32::INFINITY);
    assert!(y32[1].is_nan());
}

// --- powf / powi ----------------------------------------------------------------------------------------

#[test]
fn powf_of_a_negative_base() {
    // torch.pow(-2, 2.0) = 4 (grad -4); torch.pow(-2, 3.0) = -8 (grad 12); torch.pow(-8, 1/3) = nan
    // (grad nan); torch.pow(-2, 0.5) = nan (grad nan).
    let x = Tensor::from([-2.0]);
    assert_eq!(value_and_grad(&x, |x| x.powf(2.0)), (vec![4.0], vec![-4.0]));
    assert_eq!(
        value_and_grad(&x, |x| x.powf(3.0)),
        (vec![-8.0], vec![12.0])
    );
    let (y, g) = value_and_grad(&Tensor::from([-8.0]), |x| x.powf(1.0 / 3.0));
    assert!(y[0].is_nan() && g[0].is_nan());
    let (y, g) = value_and_grad(&x, |x| x.powf(0.5));
    assert!(y[0].is_nan() && g[0].is_nan());
    // f32: (-2)^2 is exactly 4.
    assert_eq!(Tensor::from([-2.0_f32]).powf(2.0).to_vec(), vec![4.0]);
}

#[test]
fn powers_at_zero_and_the_exponent_zero() {
    // torch.pow(x, 0.0) = 1 with grad 0 for x in [0, -0, 2, -3, inf, nan].
    let x = Tensor::from([0.0, -0.0, 2.0, -3.0, INF, NAN]);
    let (y, g) = value_and_grad(&x, |x| x.powf(0.0));
    assert_same(&y, &[1.0; 6]);
    assert_same(&g, &[0.0; 6]);
    let (y, g) = value_and_grad(&x, |x| x.powi(0));
    assert_same(&y, &[1.0; 6]);
    assert_same(&g, &[0.0; 6]);
    // At 0: x^0.5 = 0 (grad inf), x^-1 = inf (grad -inf), x^1 = 0 (grad 1), x^2 = 0 (grad 0).
    let zero = Tensor::from([0.0]);
    assert_eq!(
        value_and_grad(&zero, |x| x.powf(0.5)),
        (vec![0.0], vec![INF])
    );
    assert_eq!(
        value_and_grad(&zero, |x| x.powf(-1.0)),
        (vec![INF], vec![-INF])
    );
    assert_eq!(
        value_and_grad(&zero, |x| x.powi(-1)),
        (vec![INF], vec![-INF])
    );
    assert_eq!(
        value_and_grad(&zero, |x| x.powf(1.0)),
        (vec![0.0], vec![1.0])
    );
    assert_eq!(
        value_and_grad(&zero, |x| x.powf(2.0)),
        (vec![0.0], vec![0.0])
    );
    // torch.pow([1, 2], -2**31) = [1, 0], grad [-2^31, -0].
    let (y, g) = value_and_grad(&Tensor::from([1.0, 2.0]), |x| x.powi(i32::MIN));
    assert_same(&y, &[1.0, 0.0]);
    assert_same(&g, &[-2_147_483_648.0, -0.0]);
}

// --- max ------------------------------------------------------------------------------------------------

#[test]
fn max_with_ties_splits_the_gradient() {
    // torch.amax(x) of [[1, 5, 2], [5, -1, 0]] = 5, grad [[0, .5, 0], [.5, 0, 0]].
    let x = Tensor::from([[1.0, 5.0, 2.0], [5.0, -1.0, 0.0]]);
    let (y, g) = value_and_grad(&x, |x| x.max());
    assert_eq!(y, vec![5.0]);
    assert_eq!(g, vec![0.0, 0.5, 0.0, 0.5, 0.0, 0.0]);
    // torch.amax(x, dim=0) of [[2, 7], [2, 7], [2, 1]] = [2, 7], grad [[1/3, 1/2], [1/3, 1/2],
    // [1/3, 0]]. (torch.max(x, dim=0) would give all of it to the first of the tied elements.)
    let x = Tensor::from([[2.0, 7.0], [2.0, 7.0], [2.0, 1.0]]);
    let (y, g) = value_and_grad(&x, |x| x.max_axis::<0>());
    assert_eq!(y, vec![2.0, 7.0]);
    let third = 1.0 / 3.0;
    assert_eq!(g, vec![third, 0.5, third, 0.5, third, 0.0]);
    // -0 and 0 tie: torch.amax([-0.0, 0.0]) = -0.0 with grad [0.5, 0.5]. Which zero the result is
    // is unspecified here; the gradient is shared all the same.
    let (y, g) = value_and_grad(&Tensor::from([-0.0, 0.0]), |x| x.max());
    assert_eq!(y, vec![0.0]);
    assert_eq!(g, vec![0.5, 0.5]);
    // Infinities are ordinary values: amax over [[-inf, -inf], [1, inf]] = [-inf, inf],
    // grad [[.5, .5], [0, 1]].
    let x = Tensor::from([[-INF, -INF], [1.0, INF]]);
    let (y, g) = value_and_grad(&x, |x| x.max_axis::<1>());
    assert_eq!(y, vec![-INF, INF]);
    assert_eq!(g, vec![0.5, 0.5, 0.0, 1.0]);
}

#[test]
fn max_with_nan_is_nan_and_the_nans_share_the_gradient() {
    // torch.amax([nan, 9, nan]) = nan. Gradient: torch.max(x) splits it among the NaNs, [.5, 0, .5],
    // which the crate does; torch.amax gives [nan, nan, nan].
    let (y, g) = value_and_grad(&Tensor::from([NAN, 9.0, NAN]), |x| x.max());
    assert!(y[0].is_nan());
    assert_eq!(g, vec![0.5, 0.0, 0.5]);
    // Along an axis: torch.amax(x, dim=1) = [nan, 3]; its gradient is nan on the whole first row
    // (torch.max(x, dim=1) gives 1 to the first NaN); the crate splits among the NaNs.
    let x = Tensor::from([[NAN, 9.0, NAN], [1.0, 3.0, 2.0]]);
    let (y, g) = value_and_grad(&x, |x| x.max_axis::<1>());
    assert!(y[0].is_nan());
    assert_eq!(y[1], 3.0);
    assert_eq!(g, vec![0.5, 0.0, 0.5, 0.0, 1.0, 0.0]);
    // f32, NaN after the maximum.
    assert!(Tensor::from([1.0_f32, f32::NAN]).max().item().is_nan());
}

#[test]
fn max_of_nothing_is_minus_infinity() {
    // PyTorch raises an error ("Expected reduction dim ... to have non-zero size"); ops here cannot
    // fail, and -inf is the identity of max (logsumexp of nothing is -inf in PyTorch too).
    assert_eq!(Tensor::<Rank1<0>, f64>::zeros().max().item(), -INF);
    assert_eq!(
        Tensor::<Rank2<3, 0>, f64>::zeros().max_axis::<1>().to_vec(),
        vec![-INF; 3]
    );
    assert_eq!(
        Tensor::<Rank2<3, 0>, f32>::zeros()
            .max_axis_keepdim::<1>()
            .to_array(),
        [[f32::NEG_INFINITY]; 3]
    );
    // Along the other axis there is nothing to reduce into.
    assert_eq!(
        Tensor::<Rank2<3, 0>, f64>::zeros().max_axis::<0>().numel(),
        0
    );
}

// --- logsumexp, softmax, log_softmax --------------------------------------------------------------------------

#[test]
fn logsumexp_of_a_row_of_minus_infinity() {
    // torch.logsumexp(x, dim=1) of [[-inf, -inf, -inf], [inf, 1, -inf], [1, nan, 2], [-inf, 0, -inf]]
    // = [-inf, inf, nan, 0]. PyTorch's gradient: [[nan]*3, [nan, 0, 0], [nan]*3, [0, 1, 0]].
    // The crate: 0 for the all -inf row (it contributes nothing), 1 to the +inf element (the limit
    // of the softmax), NaN for the NaN row, the one-hot softmax for the last.
    let x = Tensor::from([
        [-INF, -INF, -INF],
        [INF, 1.0, -INF],
        [1.0, NAN, 2.0],
        [-INF, 0.0, -INF],
    ]);
    let (y, g) = value_and_grad(&x, |x| x.logsumexp_axis::<1>());
    assert_same(&y, &[-INF, INF, NAN, 0.0]);
    assert_same(&g[..6], &[0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert!(g[6..9].iter().all(|v| v.is_nan()));
    assert_same(&g[9..], &[0.0, 1.0, 0.0]);
    // Two +inf share: torch gives [nan, 0, nan], the crate [.5, 0, .5].
    let (y, g) = value_and_grad(&Tensor::from([INF, 0.0, INF]), |x| x.logsumexp());
    assert_eq!((y, g), (vec![INF], vec![0.5, 0.0, 0.5]));
    // Nothing: torch.logsumexp(zeros(0), dim=0) = -inf, and zeros(2, 0) along dim 1 = [-inf, -inf].
    assert_eq!(Tensor::<Rank1<0>, f64>::zeros().logsumexp().item(), -INF);
    assert_eq!(
        Tensor::<Rank2<2, 0>, f32>::zeros()
            .logsumexp_axis::<1>()
            .to_array(),
        [f32::NEG_INFINITY; 2]
    );
    // Large finite values stay finite: torch.logsumexp([1000, 1000]) = 1000 + ln 2.
    assert_eq!(
        Tensor::from([1000.0, 1000.0]).logsumexp().item(),
        1000.0 + 2.0_f64.ln()
    );
}

#[test]
fn softmax_of_a_row_of_minus_infinity() {
    // PyTorch: softmax and log_softmax of a row of -inf, or of a row with +inf, are NaN (values and
    // gradients). The crate: softmax zeros (a fully masked row contributes nothing, with gradient 0),
    // log_softmax -inf (with the upstream gradient passed through); +inf elements share the weight.
    let w = Tensor::from([1.0, 2.0, 3.0]);
    let x = Tensor::from([[-INF, -INF, -INF], [INF, 0.0, INF], [-INF, 0.0, -INF]]);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = xt.softmax::<1>();
    assert_same(&y.to_vec(), &[0.0, 0.0, 0.0, 0.5, 0.0, 0.5, 0.0, 1.0, 0.0]);
    let g = (y * &w.broadcast_to::<Rank2<3, 3>>())
        .sum()
        .backward()
        .get(&xt);
    // torch: [[nan]*3, [nan]*3, [-0, 0, 0]]
    assert_same_up_to_zero_sign(&g.to_vec(), &[0.0, 0.0, 0.0, -0.5, 0.0, 0.5, 0.0, 0.0, 0.0]);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = xt.log_softmax::<1>();
    let ln2 = 2.0_f64.ln();
    assert_same(
        &y.to_vec(),
        &[-INF, -INF, -INF, -ln2, -INF, -ln2, -INF, 0.0, -INF],
    );
    let g = (y * &w.broadcast_to::<Rank2<3, 3>>())
        .sum()
        .backward()
        .get(&xt);
    // torch: [[nan]*3, [nan]*3, [1, -4, 3]]
    assert_same(
        &g.to_vec(),
        &[1.0, 2.0, 3.0, -2.0, 2.0, 0.0, 1.0, -4.0, 3.0],
    );
    // A NaN makes its row NaN, as in PyTorch.
    let y = Tensor::from([[1.0, NAN, 2.0], [0.0, 0.0, 0.0]]).softmax::<1>();
    assert!(y.to_vec()[..3].iter().all(|v| v.is_nan()));
    // An axis of size 0: nothing to normalise (torch gives an empty tensor).
    assert_eq!(
        Tensor::<Rank2<2, 0>, f64>::zeros().softmax::<1>().numel(),
        0
    );
    assert_eq!(
        Tensor::<Rank2<2, 0>, f64>::zeros()
            .log_softmax::<1>()
            .numel(),
        0
    );
}

// --- sums and means over zero elements ---------------------------------------------------------------

#[test]
fn sums_and_means_over_an_axis_of_size_zero() {
    // x = zeros(2, 0): x.sum(dim=1) = [0, 0], x.mean(dim=1) = [nan, nan], x.sum() = 0,
    // x.mean() = nan; along dim 0 the result is empty.
    let x: Tensor<Rank2<2, 0>, f64> = Tensor::zeros();
    assert_eq!(x.sum_axis::<1>().to_array(), [0.0, 0.0]);
    assert_eq!(x.sum_axis_keepdim::<1>().to_array(), [[0.0], [0.0]]);
    assert!(x.mean_axis::<1>().to_vec().iter().all(|v| v.is_nan()));
    assert!(
        x.mean_axis_keepdim::<1>()
            .to_vec()
            .iter()
            .all(|v| v.is_nan())
    );
    assert_eq!(x.sum().item(), 0.0);
    assert!(x.mean().item().is_nan());
    assert_eq!(x.sum_axis::<0>().numel(), 0);
    assert_eq!(x.mean_axis::<0>().numel(), 0);
    // f32, and a zero in the middle of a rank-3 shape.
    let z: Tensor<Rank3<2, 0, 3>> = Tensor::zeros();
    assert_eq!(z.sum_axis::<1>().to_array(), [[0.0_f32; 3]; 2]);
    assert!(z.mean_axis::<1>().to_vec().iter().all(|v| v.is_nan()));
    // The gradients have the input's (empty) shape and the backward pass runs.
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let g = (xt.sum_axis::<1>().sum() + xt.sum()).backward().get(&xt);
    assert_eq!(g.numel(), 0);
}

// --- relu, abs: NaN and signed zero ------------------------------------------------------------------------

#[test]
fn relu_and_abs_at_nan_and_zero() {
    // torch.relu([nan, -0, 0, -1, 2, inf, -inf]) = [nan, -0, 0, 0, 2, inf, 0] with grad
    // [1, 0, 0, 0, 1, 1, 0]. The crate gives relu(-0) = +0 (max(x, 0)), and a NaN gradient at NaN:
    // the derivative is undefined there, as for every other elementwise op at NaN.
    let x = Tensor::from([NAN, -0.0, 0.0, -1.0, 2.0, INF, -INF]);
    let (y, g) = value_and_grad(&x, |x| x.relu());
    assert_same(&y, &[NAN, 0.0, 0.0, 0.0, 2.0, INF, 0.0]);
    assert_same(&g, &[NAN, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]);
    // torch.abs([nan, -0, 0, -3, inf, -inf]) = [nan, 0, 0, 3, inf, inf] with grad
    // [0, 0, 0, -1, 1, -1] (sgn(nan) = 0 in PyTorch); the crate's gradient at NaN is NaN.
    let x = Tensor::from([NAN, -0.0, 0.0, -3.0, INF, -INF]);
    let (y, g) = value_and_grad(&x, |x| x.abs());
    assert_same(&y, &[NAN, 0.0, 0.0, 3.0, INF, INF]);
    assert_same(&g, &[NAN, 0.0, 0.0, -1.0, 1.0, -1.0]);
}

// --- the other elementwise ops ----------------------------------------------------------------------

#[test]
fn sqrt_exp_tanh_sigmoid_at_the_extremes() {
    // torch.sqrt([0, -0, -1, inf, nan]) = [0, -0, nan, inf, nan], grad [inf, -inf, nan, 0, nan].
    let (y, g) = value_and_grad(&Tensor::from([0.0, -0.0, -1.0, INF, NAN]), |x| x.sqrt());
    assert_same(&y, &[0.0, -0.0, NAN, INF, NAN]);
    assert_same(&g, &[INF, -INF, NAN, 0.0, NAN]);
    let x = Tensor::from([1000.0, -1000.0, INF, -INF, NAN]);
    // torch.exp: [inf, 0, inf, 0, nan], grad the same.
    let (y, g) = value_and_grad(&x, |x| x.exp());
    assert_same(&y, &[INF, 0.0, INF, 0.0, NAN]);
    assert_same(&g, &[INF, 0.0, INF, 0.0, NAN]);
    // torch.tanh: [1, -1, 1, -1, nan], grad [0, 0, 0, 0, nan].
    let (y, g) = value_and_grad(&x, |x| x.tanh());
    assert_same(&y, &[1.0, -1.0, 1.0, -1.0, NAN]);
    assert_same(&g, &[0.0, 0.0, 0.0, 0.0, NAN]);
    // torch.sigmoid: [1, 0, 1, 0, nan], grad [0, 0, 0, 0, nan].
    let (y, g) = value_and_grad(&x, |x| x.sigmoid());
    assert_same(&y, &[1.0, 0.0, 1.0, 0.0, NAN]);
    assert_same(&g, &[0.0, 0.0, 0.0, 0.0, NAN]);
    // -x flips the sign bit: torch.neg([0, nan]) = [-0, nan], grad -1.
    let (y, g) = value_and_grad(&Tensor::from([0.0, NAN]), |x| -x);
    assert_same(&y, &[-0.0, NAN]);
    assert_same(&g, &[-1.0, -1.0]);
    // inf * 0 is NaN: x * [0, inf] at x = [inf, 0] is [nan, nan], grad [0, inf].
    let (y, g) = value_and_grad(&Tensor::from([INF, 0.0]), |x| x * Tensor::from([0.0, INF]));
    assert_same(&y, &[NAN, NAN]);
    assert_same(&g, &[0.0, INF]);
}

// --- the losses -------------------------------------------------------------------------------------------

#[test]
fn losses_of_nothing_are_nan() {
    // F.mse_loss, F.cross_entropy and F.binary_cross_entropy_with_logits of empty inputs: nan.
    let e: Tensor<Rank1<0>, f64> = Tensor::zeros();
    assert!(mse(&e, &e).item().is_nan());
    assert!(bce(&e, &e).item().is_nan());
    let logits: Tensor<Rank2<0, 3>, f64> = Tensor::zeros();
    let labels = Labels::<shaped::Const<0>, 3>::new([]).unwrap();
    assert!(cross_entropy(&logits, &labels).item().is_nan());
    // Their backward passes run and give empty gradients.
    let tape = Tape::new();
    let et = tape.watch(&e);
    let g = mse(&et, &e).backward();
    assert_eq!(g.get(&et).numel(), 0);
}

#[test]
fn losses_at_infinite_logits() {
    // F.cross_entropy([[-inf, 0]], [0]) = inf; with the label's logit +inf: nan; a row of -inf: nan.
    let l0 = Labels::new([0]).unwrap();
    assert_eq!(cross_entropy(&Tensor::from([[-INF, 0.0]]), &l0).item(), INF);
    assert!(
        cross_entropy(&Tensor::from([[INF, 0.0]]), &l0)
            .item()
            .is_nan()
    );
    assert!(
        cross_entropy(&Tensor::from([[-INF, -INF]]), &l0)
            .item()
            .is_nan()
    );
    // F.binary_cross_entropy_with_logits([inf, -inf], [1, 0]) = nan (inf - inf), and nan for nan.
    assert!(
        bce(&Tensor::from([INF, -INF]), &Tensor::from([1.0, 0.0]))
            .item()
            .is_nan()
    );
    assert!(
        bce(&Tensor::from([NAN]), &Tensor::from([1.0]))
            .item()
            .is_nan()
    );
}

// --- zero-sized and size-1 contractions: every call site of the matrix product ---------------------------

/// Runs `f` forward and backward with both operands watched; returns the output and both gradients.
fn contract<A: Shape, B: Shape, O: Shape>(
    a: &Tensor<A, f64>,
    b: &Tensor<B, f64>,
    f: impl Fn(Tensor<A, f64, Tape<f64>>, Tensor<B, f64, Tape<f64>>) -> Tensor<O, f64, Tape<f64>>,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let tape = Tape::new();
    let (at, bt) = (tape.watch(a), tape.watch(b));
    let y = f(at.clone(), bt.clone());
    let value = y.to_vec();
    let g = y.sum().backward();
    (value, g.get(&at).to_vec(), g.get(&bt).to_vec())
}

/// Fills this thread's pool of recycled buffers with NaN in every small size class, so that a
/// buffer an op takes from it and then fails to overwrite shows up as NaN in release builds, as it
/// does in debug builds (which fill such buffers with NaN themselves).
fn dirty_the_pool() {
    fn nans<const N: usize>() -> Vec<Tensor<Rank1<N>, f64>> {
        (0..8).map(|_| Tensor::full(NAN)).collect()
    }
    let held = (
        nans::<1>(),
        nans::<2>(),
        nans::<4>(),
        nans::<8>(),
        nans::<16>(),
        nans::<32>(),
        nans::<64>(),
    );
    drop(held);
}

#[test]
fn matmul_with_sizes_zero_and_one() {
    dirty_the_pool();
    // torch: K = 0 gives zeros (and empty gradients); M = 0 gives an empty result and a zero
    // gradient for the right operand; N = 0 likewise for the left.
    let (y, ga, gb) = contract(
        &Tensor::<Rank2<2, 0>, f64>::zeros(),
        &Tensor::<Rank2<0, 3>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!((y, ga.len(), gb.len()), (vec![0.0; 6], 0, 0));
    let (y, _, gb) = contract(
        &Tensor::<Rank2<0, 3>, f64>::zeros(),
        &Tensor::<Rank2<3, 2>, f64>::ones(),
        |a, b| a.matmul(&b),
    );
    assert_eq!((y.len(), gb), (0, vec![0.0; 6]));
    let (y, ga, _) = contract(
        &Tensor::<Rank2<2, 3>, f64>::ones(),
        &Tensor::<Rank2<3, 0>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!((y.len(), ga), (0, vec![0.0; 6]));
    // Vector forms with K = 0: a dot product of nothing is 0.
    let (y, _, _) = contract(
        &Tensor::<Rank1<0>, f64>::zeros(),
        &Tensor::<Rank1<0>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!(y, vec![0.0]);
    // 1 x 1 x 1: [[3]] [[-2]] = [[-6]], gradients [[-2]] and [[3]].
    let (y, ga, gb) = contract(&Tensor::from([[3.0]]), &Tensor::from([[-2.0]]), |a, b| {
        a.matmul(&b)
    });
    assert_eq!((y, ga, gb), (vec![-6.0], vec![-2.0], vec![3.0]));
}

#[test]
fn matmul_with_an_empty_batch() {
    // Regression: a left operand shared by an empty batch got an unwritten gradient buffer (NaN in
    // debug builds, a recycled buffer's old values in release builds). torch.matmul(ones(2, 3),
    // zeros(0, 3, 4)) has shape (0, 2, 4), and the gradient of ones(2, 3) is zeros.
    dirty_the_pool();
    let (y, ga, gb) = contract(
        &Tensor::<Rank2<2, 3>, f64>::ones(),
        &Tensor::<Rank3<0, 3, 4>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!((y.len(), ga, gb.len()), (0, vec![0.0; 6], 0));
    let (_, ga, _) = contract(
        &Tensor::<Rank1<3>, f64>::ones(),
        &Tensor::<Rank3<0, 3, 4>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!(ga, vec![0.0; 3]);
    let (_, ga, _) = contract(
        &Tensor::<Rank2<2, 3>, f64>::ones(),
        &Tensor::<Rank4<0, 2, 3, 4>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!(ga, vec![0.0; 6]);
    // The right operand shared by an empty batch of left ones.
    let (y, _, gb) = contract(
        &Tensor::<Rank3<0, 2, 3>, f64>::zeros(),
        &Tensor::<Rank2<3, 4>, f64>::ones(),
        |a, b| a.matmul(&b),
    );
    assert_eq!((y.len(), gb), (0, vec![0.0; 12]));
    // Both batched, empty.
    let (y, ga, gb) = contract(
        &Tensor::<Rank3<0, 2, 3>, f64>::zeros(),
        &Tensor::<Rank3<0, 3, 4>, f64>::zeros(),
        |a, b| a.matmul(&b),
    );
    assert_eq!((y.len(), ga.len(), gb.len()), (0, 0, 0));
    // A shared left operand used again: the empty product adds nothing to the other use.
    let a = Tensor::<Rank2<2, 3>, f64>::ones();
    let b = Tensor::<Rank3<0, 3, 4>, f64>::zeros();
    let tape = Tape::new();
    let at = tape.watch(&a);
    let g = ((&at * 2.0).sum() + at.matmul(&b).sum()).backward();
    assert_eq!(g.get(&at).to_vec(), vec![2.0; 6]);
}

#[test]
fn inner_with_sizes_zero_and_one() {
    dirty_the_pool();
    // torch.inner(ones(2, 0), ones(3, 0)) = zeros(2, 3).
    let (y, ga, gb) = contract(
        &Tensor::<Rank2<2, 0>, f64>::ones(),
        &Tensor::<Rank2<3, 0>, f64>::ones(),
        |a, b| a.inner(&b),
    );
    assert_eq!((y, ga.len(), gb.len()), (vec![0.0; 6], 0, 0));
    let (y, ga, gb) = contract(
        &Tensor::<Rank2<0, 3>, f64>::ones(),
        &Tensor::<Rank2<2, 3>, f64>::ones(),
        |a, b| a.inner(&b),
    );
    assert_eq!((y.len(), ga.len(), gb), (0, 0, vec![0.0; 6]));
    let (y, ga, gb) = contract(&Tensor::from([[3.0]]), &Tensor::from([[-2.0]]), |a, b| {
        a.inner(&b)
    });
    assert_eq!((y, ga, gb), (vec![-6.0], vec![-2.0], vec![3.0]));
}

#[test]
fn linear_with_sizes_zero_and_one() {
    dirty_the_pool();
    // F.linear(zeros(0, 3), ones(2, 3), ones(2)): empty, weight and bias gradients zeros.
    let x: Tensor<Rank2<0, 3>, f64> = Tensor::zeros();
    let w: Tensor<Rank2<2, 3>, f64> = Tensor::ones();
    let b: Tensor<Rank1<2>, f64> = Tensor::ones();
    let tape = Tape::new();
    let (wt, bt) = (tape.watch(&w), tape.watch(&b));
    let y = tape.watch(&x).linear(&wt, &bt);
    assert_eq!(y.numel(), 0);
    let g = y.sum().backward();
    assert_eq!(g.get(&wt).to_vec(), vec![0.0; 6]);
    assert_eq!(g.get(&bt).to_vec(), vec![0.0; 2]);
    // F.linear(ones(4, 0), ones(2, 0), ones(2)) = the bias on every row.
    let x: Tensor<Rank2<4, 0>, f64> = Tensor::ones();
    let w: Tensor<Rank2<2, 0>, f64> = Tensor::ones();
    let tape = Tape::new();
    let y = tape.watch(&x).linear(&tape.watch(&w), &b);
    assert_eq!(y.to_vec(), vec![1.0; 8]);
    let (y, _, _) = contract(&x, &w, |x, w| x.linear(&w, NoBias));
    assert_eq!(y, vec![0.0; 8]);
    // OUT = 0: an empty result, zero gradient for the input.
    let x: Tensor<Rank2<2, 3>, f64> = Tensor::ones();
    let (y, gx, gw) = contract(&x, &Tensor::<Rank2<0, 3>, f64>::zeros(), |x, w| {
        x.linear(&w, NoBias)
    });
    assert_eq!((y.len(), gx, gw.len()), (0, vec![0.0; 6], 0));
    // 1 -> 1: y = 3 * -2 + 1, gradients -2 (x), 3 (w), 1 (b).
    let x = Tensor::from([[3.0]]);
    let w = Tensor::from([[-2.0]]);
    let b = Tensor::from([1.0]);
    let tape = Tape::new();
    let (xt, wt, bt) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
    let y = xt.linear(&wt, &bt);
    assert_eq!(y.to_vec(), vec![-5.0]);
    let g = y.sum().backward();
    assert_eq!(
        (
            g.get(&xt).to_vec(),
            g.get(&wt).to_vec(),
            g.get(&bt).to_vec()
        ),
        (vec![-2.0], vec![3.0], vec![1.0])
    );
}

#[test]
fn bilinear_with_sizes_zero_and_one() {
    dirty_the_pool();
    /// Value and the gradients of x1, x2 and the weight, all watched, with an `[OUT]` bias of ones.
    fn run<S1: Shape, S2: Shape, W: Shape, O: Shape>(
        x1: &Tensor<S1, f64>,
        x2: &Tensor<S2, f64>,
        w: &Tensor<W, f64>,
        f: impl Fn(
            Tensor<S1, f64, Tape<f64>>,
            Tensor<S2, f64, Tape<f64>>,
            Tensor<W, f64, Tape<f64>>,
        ) -> Tensor<O, f64, Tape<f64>>,
    ) -> [Vec<f64>; 4] {
        let tape = Tape::new();
        let (x1, x2, w) = (tape.watch(x1), tape.watch(x2), tape.watch(w));
        let y = f(x1.clone(), x2.clone(), w.clone());
        let value = y.to_vec();
        let g = y.sum().backward();
        [
            value,
            g.get(&x1).to_vec(),
            g.get(&x2).to_vec(),
            g.get(&w).to_vec(),
        ]
    }
    let bias: Tensor<Rank1<2>, f64> = Tensor::ones();
    // No rows: F.bilinear(ones(0, 2), ones(0, 3), ones(2, 2, 3)) is (0, 2); dW = 0.
    let [y, _, _, gw] = run(
        &Tensor::<Rank2<0, 2>, f64>::ones(),
        &Tensor::<Rank2<0, 3>, f64>::ones(),
        &Tensor::<Rank3<2, 2, 3>, f64>::ones(),
        |a, b, w| a.bilinear(&b, &w, &bias),
    );
    assert_eq!((y.len(), gw), (0, vec![0.0; 12]));
    // IN1 = 0 (and IN2 = 0): the bias alone, zero gradients for the other input.
    let [y, _, g2, _] = run(
        &Tensor::<Rank2<3, 0>, f64>::ones(),
        &Tensor::<Rank2<3, 2>, f64>::ones(),
        &Tensor::<Rank3<2, 0, 2>, f64>::ones(),
        |a, b, w| a.bilinear(&b, &w, &bias),
    );
    assert_eq!((y, g2), (vec![1.0; 6], vec![0.0; 6]));
    let [y, g1, _, _] = run(
        &Tensor::<Rank2<3, 2>, f64>::ones(),
        &Tensor::<Rank2<3, 0>, f64>::ones(),
        &Tensor::<Rank3<2, 2, 0>, f64>::ones(),
        |a, b, w| a.bilinear(&b, &w, NoBias),
    );
    assert_eq!((y, g1), (vec![0.0; 6], vec![0.0; 6]));
    // OUT = 0: empty, zero gradients for both inputs.
    let [y, g1, g2, _] = run(
        &Tensor::<Rank2<3, 2>, f64>::ones(),
        &Tensor::<Rank2<3, 4>, f64>::ones(),
        &Tensor::<Rank3<0, 2, 4>, f64>::ones(),
        |a, b, w| a.bilinear(&b, &w, NoBias),
    );
    assert_eq!((y.len(), g1, g2), (0, vec![0.0; 6], vec![0.0; 12]));
    // All sizes 1: y = 2 * 5 * 3 + 1 = 31; d/dx1 = 15, d/dx2 = 10, d/dW = 6.
    let [y, g1, g2, gw] = run(
        &Tensor::from([[2.0]]),
        &Tensor::from([[3.0]]),
        &Tensor::from([[[5.0]]]),
        |a, b, w| a.bilinear(&b, &w, &Tensor::from([1.0])),
    );
    assert_eq!(
        (y, g1, g2, gw),
        (vec![31.0], vec![15.0], vec![10.0], vec![6.0])
    );
}

#[test]
fn layout_ops_on_zero_sized_shapes() {
    // transpose, permute, reshape and broadcast_to of empty tensors give empty tensors, and their
    // backward passes run.
    let x: Tensor<Rank3<2, 0, 3>, f64> = Tensor::zeros();
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let y = xt.transpose().sum()
        + xt.permute::<shaped::Axes3<2, 0, 1>>().sum()
        + xt.reshape::<Rank2<0, 6>>().sum()
        + xt.broadcast_to::<Rank4<5, 2, 0, 3>>().sum();
    assert_eq!(y.item(), 0.0);
    assert_eq!(y.backward().get(&xt).numel(), 0);
    // A size-1 axis broadcast to size 0: numpy and PyTorch allow it; the gradient is 0.
    let one = Tensor::from([7.0]);
    let tape = Tape::new();
    let onet = tape.watch(&one);
    let y = onet.broadcast_to::<Rank2<3, 0>>();
    assert_eq!(y.numel(), 0);
    assert_eq!(y.sum().backward().get(&onet).to_vec(), vec![0.0]);
}

#[test]
fn scalars_work_everywhere_a_shape_does() {
    // Rank 0 through the reductions: the sum, mean, max and logsumexp of one element are that
    // element; its softmax cannot be taken (no axis), but broadcasting it can.
    let s: Tensor<Rank0, f64> = Tensor::from(-3.5);
    assert_eq!(s.sum().item(), -3.5);
    assert_eq!(s.mean().item(), -3.5);
    assert_eq!(s.max().item(), -3.5);
    assert_eq!(s.logsumexp().item(), -3.5);
    assert_eq!(s.broadcast_to::<Rank2<2, 2>>().to_vec(), vec![-3.5; 4]);
    fn through<T: Tracking<f64>>(s: Tensor<Rank0, f64, T>) -> Tensor<Rank0, f64, T> {
        s.max() + s.logsumexp()
    }
    let tape = Tape::new();
    let st = tape.watch(&s);
    assert_eq!(through(st.clone()).backward().get(&st).item(), 2.0);
}
