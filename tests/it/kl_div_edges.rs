//! `kl_div` at the edges of its domain against PyTorch in float64: a target of 0 against finite and
//! infinite inputs, a target above 0 against infinite inputs, and with `log_target` a target of
//! `-inf`, for every reduction, forward and both gradients. The values were printed by
//! `scripts/kl_div_edges.py` (PyTorch 2.15) and are copied here.
//!
//! Compared exactly where PyTorch's value is NaN (NaN), infinite or zero (the same bits, the sign of
//! a zero included); a finite nonzero value within a relative 1e-15. All are the same bits but the
//! target's gradient under an upstream other than 1 (two values, 4 ulp apart): PyTorch scales each
//! term of that gradient (`ln t`, `t / t`, `-x`) by the upstream before adding them, the crate
//! scales their sum.

use shaped::nn::{BatchMean, Mean, NoReduction, Reduction, Sum, kl_div};
use shaped::{Tape, Tensor};

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;

type Case = (
    &'static str,
    bool,
    &'static str,
    &'static [f64],
    &'static [f64],
    &'static [f64],
);

/// The inputs (log-probabilities) and targets of each case, as in the script.
fn inputs(name: &str) -> (&'static [f64], &'static [f64]) {
    match name {
        // t = 0 against x = -1.5, 0.5, 0, -inf, inf; t > 0 against -inf, inf; a regular point.
        "edges" => (
            &[-1.5, 0.5, 0.0, -INF, INF, -INF, INF, -0.25],
            &[0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.25],
        ),
        // Only finite inputs: the reductions stay finite, the target's gradient is NaN at its zeros.
        "finite" => (&[-1.5, 0.5, 0.0, -0.25], &[0.0, 0.0, 0.0, 0.25]),
        // log_target: t = -inf against x = -1.5, -inf, inf; t finite against -inf, inf; regular points.
        "log_edges" => (
            &[-1.5, -INF, INF, -INF, INF, -0.25, -1.0],
            &[-INF, -INF, -INF, 0.0, -0.5, -1.0, -0.5],
        ),
        _ => unreachable!("{name}"),
    }
}

/// The upstream gradient of the unreduced output.
const UP: [f64; 8] = [1.0, 2.0, 0.5, 3.0, 1.5, 0.25, 4.0, 0.75];

/// `(inputs, log_target, reduction, out, grad input, grad target)`, printed by the script.
#[rustfmt::skip]
const PYTORCH: &[Case] = &[
    ("edges", false, "none",
        &[0.0, 0.0, 0.0, NAN, NAN, INF, -INF, -0.28407359027997264],
        &[-0.0, -0.0, -0.0, -0.0, -0.0, -0.125, -2.0, -0.1875],
        &[NAN, NAN, NAN, NAN, NAN, INF, -INF, -0.10222077083991787]),
    ("edges", false, "sum",
        &[NAN],
        &[-0.0, -0.0, -0.0, -0.0, -0.0, -0.5, -0.5, -0.25],
        &[NAN, NAN, NAN, NAN, NAN, INF, -INF, -0.13629436111989057]),
    ("edges", false, "mean",
        &[NAN],
        &[-0.0, -0.0, -0.0, -0.0, -0.0, -0.0625, -0.0625, -0.03125],
        &[NAN, NAN, NAN, NAN, NAN, INF, -INF, -0.01703679513998632]),
    ("edges", false, "batchmean",
        &[NAN],
        &[-0.0, -0.0, -0.0, -0.0, -0.0, -0.0625, -0.0625, -0.03125],
        &[NAN, NAN, NAN, NAN, NAN, INF, -INF, -0.01703679513998632]),
    ("finite", false, "none",
        &[0.0, 0.0, 0.0, -0.28407359027997264],
        &[-0.0, -0.0, -0.0, -0.75],
        &[NAN, NAN, NAN, -0.4088830833596715]),
    ("finite", false, "sum",
        &[-0.28407359027997264],
        &[-0.0, -0.0, -0.0, -0.25],
        &[NAN, NAN, NAN, -0.13629436111989057]),
    ("finite", false, "mean",
        &[-0.07101839756999316],
        &[-0.0, -0.0, -0.0, -0.0625],
        &[NAN, NAN, NAN, -0.03407359027997264]),
    ("finite", false, "batchmean",
        &[-0.07101839756999316],
        &[-0.0, -0.0, -0.0, -0.0625],
        &[NAN, NAN, NAN, -0.03407359027997264]),
    ("log_edges", true, "none",
        &[NAN, NAN, NAN, INF, -INF, -0.27590958087858175, 0.3032653298563167],
        &[-0.0, -0.0, -0.0, -3.0, -0.9097959895689501, -0.09196986029286058, -2.4261226388505337],
        &[NAN, NAN, NAN, INF, -INF, 0.022992465073215146, 3.6391839582758005]),
    ("log_edges", true, "sum",
        &[NAN],
        &[-0.0, -0.0, -0.0, -1.0, -0.6065306597126334, -0.36787944117144233, -0.6065306597126334],
        &[NAN, NAN, NAN, INF, -INF, 0.09196986029286058, 0.9097959895689501]),
    ("log_edges", true, "mean",
        &[NAN],
        &[-0.0, -0.0, -0.0, -0.14285714285714285, -0.08664723710180477, -0.05255420588163462, -0.08664723710180477],
        &[NAN, NAN, NAN, INF, -INF, 0.013138551470408655, 0.12997085565270716]),
    ("log_edges", true, "batchmean",
        &[NAN],
        &[-0.0, -0.0, -0.0, -0.14285714285714285, -0.08664723710180477, -0.05255420588163462, -0.08664723710180477],
        &[NAN, NAN, NAN, INF, -INF, 0.013138551470408655, 0.12997085565270716]),
];

#[track_caller]
fn assert_matches(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (&g, &w) in got.iter().zip(want) {
        let ok = if w.is_nan() {
            g.is_nan()
        } else if w.is_infinite() || w == 0.0 {
            g.to_bits() == w.to_bits()
        } else {
            (g - w).abs() <= 1e-15 * w.abs()
        };
        assert!(ok, "{what}: got {got:?}, want {want:?}");
    }
}

type T = Tensor<(usize,), f64, Tape<f64>>;

fn dyn1(v: &[f64]) -> Tensor<(usize,), f64> {
    Tensor::from_vec_with((v.len(),), v.to_vec()).unwrap()
}

/// The crate's output and gradients for `(x, t)`, the output seeded with the first elements of
/// `UP` (1 for a reduced output, as PyTorch's `backward()`).
fn run<R: Reduction<(usize,)>>(
    x: &[f64],
    t: &[f64],
    log_target: bool,
    reduction: R,
) -> [Vec<f64>; 3] {
    let tape = Tape::new();
    let (xt, tt): (T, T) = (tape.watch(&dyn1(x)), tape.watch(&dyn1(t)));
    let out = kl_div(&xt, &tt, log_target, reduction);
    let up = Tensor::from_vec_with(out.typed_shape(), UP[..out.numel()].to_vec()).unwrap();
    let grads = out.backward_with(&up);
    [
        out.to_vec(),
        grads.get(&xt).to_vec(),
        grads.get(&tt).to_vec(),
    ]
}

#[test]
fn kl_div_matches_pytorch_at_the_edges() {
    assert_eq!(PYTORCH.len(), 12);
    for &(name, log_target, reduction, out, grad_x, grad_t) in PYTORCH {
        let (x, t) = inputs(name);
        let got = match reduction {
            "none" => run(x, t, log_target, NoReduction),
            "sum" => run(x, t, log_target, Sum),
            "mean" => run(x, t, log_target, Mean),
            "batchmean" => run(x, t, log_target, BatchMean),
            _ => unreachable!("{reduction}"),
        };
        let case = format!("{name} {reduction}");
        assert_matches(&format!("{case}: out"), &got[0], out);
        assert_matches(&format!("{case}: grad input"), &got[1], grad_x);
        assert_matches(&format!("{case}: grad target"), &got[2], grad_t);
    }
}

#[test]
fn a_target_of_zero_against_minus_infinity() {
    // F.kl_div(x=[-inf], t=[0], reduction="sum"): xlogy(0, 0) - 0 * -inf = 0 - NaN = NaN; the
    // gradients: -t = -0 for x, xlogy(0 != 0, 0) + 0 / 0 - x = NaN for t.
    let [out, gx, gt] = run(&[-INF], &[0.0], false, Sum);
    assert!(out[0].is_nan());
    assert_eq!(gx[0].to_bits(), (-0.0_f64).to_bits());
    assert!(gt[0].is_nan());
    // Against a finite input, 0 - 0 * x = 0, the target's derivative still NaN.
    let [out, gx, gt] = run(&[-1.5], &[0.0], false, Sum);
    assert_eq!(
        (out[0].to_bits(), gx[0].to_bits()),
        (0.0_f64.to_bits(), (-0.0_f64).to_bits())
    );
    assert!(gt[0].is_nan());
}
