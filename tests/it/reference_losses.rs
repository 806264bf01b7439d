//! The losses with a reduction against PyTorch 2.15 in float64 (`scripts/reference_losses.py`
//! recorded the values and gradients in `tests/data/reference/losses.txt`).

use crate::reference;
use shaped::nn::{
    BatchMean, Labels, Mean, NoReduction, Reduction, Sum, bce_with_logits, huber_loss, kl_div,
    l1_loss, mse_loss, nll_loss, smooth_l1_loss,
};
use shaped::{Const, Rank1, Rank2, Shape, Tape, Tensor};

type M = Rank2<3, 4>;
const RTOL: f64 = 1e-12;

/// Runs `loss(p, t, reduction)` on the case's `p`/`t` (or `x`/`t`) and checks the output and both
/// gradients against PyTorch's.
fn check_pair<R, S: Shape>(
    case: &reference::Case,
    labels: (&str, &str),
    reduction: R,
    loss: impl Fn(
        &Tensor<S, f64, Tape<f64>>,
        &Tensor<S, f64, Tape<f64>>,
        R,
    ) -> Tensor<R::Output, f64, Tape<f64>>,
) where
    R: Reduction<S>,
{
    let (a, b): (Tensor<S, f64>, Tensor<S, f64>) = (case.input(labels.0), case.input(labels.1));
    let tape = Tape::new();
    let (at, bt) = (tape.watch(&a), tape.watch(&b));
    let out = loss(&at, &bt, reduction);
    case.check_out(&out, RTOL);
    let up: Tensor<R::Output, f64> = case.up();
    let grads = (out * up).sum().backward();
    case.check_grad(labels.0, &grads, &at, RTOL);
    case.check_grad(labels.1, &grads, &bt, RTOL);
}

macro_rules! each_reduction {
    ($cases:expr, $name:literal, $labels:expr, $f:expr) => {{
        check_pair::<_, M>(&$cases[concat!($name, "_mean")], $labels, Mean, $f);
        check_pair::<_, M>(&$cases[concat!($name, "_sum")], $labels, Sum, $f);
        check_pair::<_, M>(&$cases[concat!($name, "_none")], $labels, NoReduction, $f);
    }};
}

#[test]
fn pointwise_losses_match_pytorch() {
    let cases = reference::load("losses");
    each_reduction!(cases, "mse", ("p", "t"), |p, t, r| mse_loss(p, t, r));
    each_reduction!(cases, "l1", ("p", "t"), |p, t, r| l1_loss(p, t, r));
    each_reduction!(cases, "huber", ("p", "t"), |p, t, r| huber_loss(
        p, t, 0.8, r
    ));
    each_reduction!(cases, "smooth_l1", ("p", "t"), |p, t, r| smooth_l1_loss(
        p, t, 0.6, r
    ));
    // l1 where prediction and target are equal, huber exactly at |d| = delta
    check_pair::<_, Rank1<3>>(&cases["l1_equal"], ("p", "t"), Sum, |p, t, r| {
        l1_loss(p, t, r)
    });
    check_pair::<_, Rank1<3>>(&cases["huber_at_delta"], ("p", "t"), Sum, |p, t, r| {
        huber_loss(p, t, 1.0, r)
    });
}

#[test]
fn kl_div_matches_pytorch_for_every_reduction() {
    let cases = reference::load("losses");
    each_reduction!(cases, "kl_div", ("x", "t"), |x, t, r| kl_div(
        x, t, false, r
    ));
    check_pair::<_, M>(
        &cases["kl_div_batchmean"],
        ("x", "t"),
        BatchMean,
        |x, t, r| kl_div(x, t, false, r),
    );
    check_pair::<_, Rank2<2, 3>>(&cases["kl_div_log_target"], ("x", "t"), Sum, |x, t, r| {
        kl_div(x, t, true, r)
    });
}

#[test]
fn bce_with_pos_weight_matches_pytorch() {
    let cases = reference::load("losses");
    let pw = Tensor::from([0.5, 1.0, 2.0, 4.0]);
    each_reduction!(cases, "bce_pos_weight", ("x", "t"), |x, t, r| {
        bce_with_logits(x, t, &pw, r)
    });
    check_pair::<_, Rank2<1, 4>>(
        &cases["bce_pos_weight_large"],
        ("x", "t"),
        Sum,
        |x, t, r| bce_with_logits(x, t, &pw, r),
    );
}

#[test]
fn nll_matches_pytorch_also_on_a_run_time_batch() {
    let cases = reference::load("losses");
    for (name, red) in [("nll_mean", 0), ("nll_sum", 1), ("nll_none", 2)] {
        let case = &cases[name];
        let ids: Vec<usize> = case.ints("y").1.iter().map(|&v| v as usize).collect();
        // static batch
        let x: Tensor<Rank2<4, 3>, f64> = case.input("x");
        let labels: Labels<Const<4>, 3> = Labels::from_slice(&ids).unwrap();
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let grads = match red {
            0 => {
                let out = nll_loss(&xt, &labels, Mean);
                case.check_out(&out, RTOL);
                (out * case.up::<shaped::Rank0>()).sum().backward()
            }
            1 => {
                let out = nll_loss(&xt, &labels, Sum);
                case.check_out(&out, RTOL);
                (out * case.up::<shaped::Rank0>()).sum().backward()
            }
            _ => {
                let out = nll_loss(&xt, &labels, NoReduction);
                case.check_out(&out, RTOL);
                (out * case.up::<Rank1<4>>()).sum().backward()
            }
        };
        case.check_grad("x", &grads, &xt, RTOL);
        // the same on a run-time batch
        let x: Tensor<(usize, Const<3>), f64> = case.input("x");
        let labels: Labels<usize, 3> = Labels::from_slice(&ids).unwrap();
        if red == 2 {
            let tape = Tape::new();
            let xt = tape.watch(&x);
            let out = nll_loss(&xt, &labels, NoReduction);
            case.check_out(&out, RTOL);
            let grads = (out * case.up::<(usize,)>()).sum().backward();
            case.check_grad("x", &grads, &xt, RTOL);
        }
    }
}
