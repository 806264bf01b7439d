//! The kernels that no op uses yet against the standard library (error bounds in ulp over sweeps of
//! their inputs; the ops' kernels are checked through the ops in `tests/it/kernel_accuracy.rs`),
//! and the slice plumbing: tails, both paths of a chunk, accumulation, the row kernels.

#[path = "../../tests/support/ulp.rs"]
mod ulp;

use super::Kernels;
use ulp::{f32_sweep, f64_sweep, sigmoid_ref, ulp_f32, ulp_f64, worst};

fn softplus_ref(x: f64) -> f64 {
    if x > 20.0 {
        x
    } else {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
}

/// `x e^x / (1 + e^x)` for `x < 0`, with `e^x` as `h h`, `h = e^(x/2)`, and `x` multiplied in
/// before the second factor, so that the reference keeps its bits where `e^x` is subnormal.
fn silu_ref(x: f64) -> f64 {
    if x >= 0.0 {
        x * sigmoid_ref(x)
    } else {
        silu_ref_scaled(x, x)
    }
}

/// GELU's tanh form in `f64`, as `x sigmoid(2u)` (equal to `x (1 + tanh u) / 2` without its
/// cancellation), `u = sqrt(2/pi) (x + 0.044715 x^3)`.
fn gelu_tanh_ref(x: f64) -> f64 {
    let u = (2.0 / core::f64::consts::PI).sqrt() * (x + 0.044_715 * x * x * x);
    if x >= 0.0 {
        x * sigmoid_ref(2.0 * u)
    } else {
        silu_ref_scaled(x, 2.0 * u)
    }
}

/// `x sigmoid(v)` for `v < 0`, keeping its bits where `e^v` is subnormal (see [`silu_ref`]).
fn silu_ref_scaled(x: f64, v: f64) -> f64 {
    let h = (0.5 * v).exp();
    x * h * h / (1.0 + h * h)
}

/// A kernel for both types, its reference, the range where its inputs are swept densely, and its
/// error bounds in ulp (`f32`, `f64`), as in the module docs.
struct Case {
    name: &'static str,
    k32: fn(&[f32], &mut [f32]),
    k64: fn(&[f64], &mut [f64]),
    reference: fn(f64) -> f64,
    range: (f32, f32),
    bounds: (f64, f64),
    /// The bounds hold from this input up.
    from: f32,
}

const CASES: [Case; 5] = [
    Case {
        name: "expm1",
        k32: f32::expm1_into,
        k64: f64::expm1_into,
        reference: f64::exp_m1,
        range: (-40.0, 89.0),
        bounds: (1.6, 2.0),
        from: f32::NEG_INFINITY,
    },
    Case {
        name: "log1p",
        k32: f32::log1p_into,
        k64: f64::log1p_into,
        reference: f64::ln_1p,
        range: (-1.0, f32::MAX),
        bounds: (1.5, 1.0),
        from: f32::NEG_INFINITY,
    },
    Case {
        name: "softplus",
        k32: f32::softplus_into,
        k64: f64::softplus_into,
        reference: softplus_ref,
        range: (-104.0, 30.0),
        bounds: (1.9, 3.0),
        from: f32::NEG_INFINITY,
    },
    Case {
        name: "silu",
        k32: f32::silu_into,
        k64: f64::silu_into,
        reference: silu_ref,
        range: (-104.0, 20.0),
        bounds: (3.1, 4.0),
        from: f32::NEG_INFINITY,
    },
    Case {
        name: "gelu_tanh",
        k32: f32::gelu_tanh_into,
        k64: f64::gelu_tanh_into,
        reference: gelu_tanh_ref,
        range: (-20.0, 20.0),
        bounds: (13.5, 18.0),
        from: -3.0,
    },
];

#[test]
fn error_bounds_over_sweeps() {
    for case in CASES {
        let (lo, hi) = case.range;
        let xs = f32_sweep(lo, hi, 997);
        let mut y = vec![0.0; xs.len()];
        (case.k32)(&xs, &mut y);
        let errors = xs
            .iter()
            .zip(&y)
            .filter(|&(&x, _)| x >= case.from)
            .map(|(&x, &v)| (ulp_f32(v, (case.reference)(f64::from(x))), x));
        let (e32, at32) = worst(errors, 0.0);
        let xs = f64_sweep(
            f64::from(lo.max(-1000.0)),
            f64::from(hi.min(1000.0)),
            1 << 20,
        );
        let mut y = vec![0.0; xs.len()];
        (case.k64)(&xs, &mut y);
        let errors = xs
            .iter()
            .zip(&y)
            .filter(|&(&x, _)| x >= f64::from(case.from))
            .map(|(&x, &v)| (ulp_f64(v, (case.reference)(x)), x));
        let (e64, at64) = worst(errors, 0.0);
        let name = case.name;
        eprintln!("{name}: f32 {e32:.3} ulp at {at32:e}, f64 {e64} ulp at {at64:e}");
        assert!(e32 <= case.bounds.0, "{name} f32: {e32} ulp at {at32:e}");
        assert!(e64 <= case.bounds.1, "{name} f64: {e64} ulp at {at64:e}");
    }
}

/// Each kernel on a whole slice gives the same bits as on one element at a time: the chunks' short
/// path agrees with the full one, and the tail with the chunks.
#[test]
fn chunks_and_tails_agree() {
    type K = fn(&[f32], &mut [f32]);
    let kernels: [(&str, K); 11] = [
        ("exp", f32::exp_into),
        ("erf", f32::erf_into),
        ("gelu", f32::gelu_into),
        ("expm1", f32::expm1_into),
        ("ln", f32::ln_into),
        ("log1p", f32::log1p_into),
        ("tanh", f32::tanh_into),
        ("sigmoid", f32::sigmoid_into),
        ("softplus", f32::softplus_into),
        ("log_sigmoid", f32::log_sigmoid_into),
        ("silu", f32::silu_into),
    ];
    // Runs of 32 inputs inside the short paths' ranges, broken by extremes now and then.
    let xs: Vec<f32> = f32_sweep(-100.0, 100.0, 1_000_003)
        .into_iter()
        .enumerate()
        .map(|(i, v)| if i % 97 == 0 { v * 1e30 } else { v })
        .collect();
    for (name, kernel) in kernels {
        let mut bulk = vec![0.0; xs.len()];
        kernel(&xs, &mut bulk);
        for (&x, &b) in xs.iter().zip(&bulk) {
            let mut one = [0.0];
            kernel(&[x], &mut one);
            assert!(
                one[0].to_bits() == b.to_bits() || (one[0].is_nan() && b.is_nan()),
                "{name}({x:e}): {b:e} in a slice, {:e} alone",
                one[0]
            );
        }
    }
}

/// The versions for CPUs without fused multiply-add keep the same error bounds.
#[test]
fn without_fma_within_bounds() {
    use super::math::f32 as m;
    type Case = (&'static str, fn(f32) -> f32, fn(f64) -> f64, f64);
    let cases: [Case; 5] = [
        ("exp", m::exp::<false>, f64::exp, 1.0),
        ("erf", m::erf::<false>, libm::erf, 1.5),
        ("ln", m::ln::<false>, f64::ln, 0.8),
        ("tanh", m::tanh::<false>, f64::tanh, 2.5),
        ("expm1", m::expm1::<false>, f64::exp_m1, 1.6),
    ];
    let xs = f32_sweep(-104.0, 104.0, 4999);
    for (name, f, reference, bound) in cases {
        let errors = xs
            .iter()
            .map(|&x| (ulp_f32(f(x), reference(f64::from(x))), x));
        let (e, at) = worst(errors, 0.0);
        eprintln!("{name} without FMA: {e:.3} ulp at {at:e}");
        assert!(e <= bound, "{name} without FMA: {e} ulp at {at:e}");
    }
}

#[test]
fn gradients_write_or_add() {
    // silu'(0) = 1/2, silu'(30) = 1 (to f32); softplus'(0) = 1/2, softplus' = 1 above 20.
    let x = [0.0_f32, 30.0, 25.0];
    let dy = [2.0_f32, 1.0, 1.0];
    let mut dx = [7.0_f32; 3];
    f32::silu_backward(&x, &dy, &mut dx, false);
    assert_eq!(dx, [1.0, 1.0, 1.0]);
    f32::softplus_backward(&x, &dy, &mut dx, true);
    assert_eq!(dx, [2.0, 2.0, 2.0]);
    // Longer than a chunk: 40 elements, 32 in a chunk and 8 in the tail.
    let x = vec![0.0_f64; 40];
    let mut dx = vec![1.0_f64; 40];
    f64::silu_backward(
        &x,
        &x.iter().map(|_| 4.0).collect::<Vec<_>>(),
        &mut dx,
        true,
    );
    assert!(dx.iter().all(|&d| d == 3.0), "{dx:?}");
}

#[test]
fn row_kernels() {
    // 100 zeros: weights e^0 = 1, their sum 100, a dot of 100.
    let x = vec![0.0_f32; 100];
    let mut w = vec![f32::NAN; 100];
    assert_eq!(f32::exp_sub_sum(&x, 0.0, &mut w), 100.0);
    assert!(w.iter().all(|&v| v == 1.0));
    assert_eq!(f32::dot(&w, &w), 100.0);
    assert_eq!(f32::sum_of(&w), 100.0);
    f32::scale(&mut w, 0.25);
    assert!(w.iter().all(|&v| v == 0.25));
    // softmax backward with y = 1/4, dy = 1, t = 1: y (dy - t) = 0; added to 1.
    let mut dx = vec![1.0_f32; 100];
    f32::softmax_backward_row(
        &w,
        &x.iter().map(|_| 1.0).collect::<Vec<_>>(),
        1.0,
        &mut dx,
        true,
    );
    assert!(dx.iter().all(|&v| v == 1.0));
    // log-softmax backward: dy - e^y t = 1 - e^0 / 2.
    f32::log_softmax_backward_row(&vec![0.0; 100], &dx.clone(), 0.5, &mut dx, false);
    assert!(dx.iter().all(|&v| v == 0.5));
    f32::scaled_into(&w, 8.0, &mut dx, true);
    assert!(dx.iter().all(|&v| v == 2.5));
    let mut y = vec![0.0_f32; 100];
    f32::sub_scalar(&dx, 0.5, &mut y);
    assert!(y.iter().all(|&v| v == 2.0));
    // logsumexp backward: g e^(x - c) = 3 e^(2 - 2), added to 2.
    f32::exp_sub_scaled(&y.clone(), 2.0, 3.0, &mut y, true);
    assert!(y.iter().all(|&v| v == 5.0));
    // The maximum: NaN anywhere gives NaN, empty gives -inf.
    let mut v: Vec<f64> = (0..70).map(f64::from).collect();
    assert_eq!(f64::max_of(&v), 69.0);
    v[40] = f64::NAN;
    assert!(f64::max_of(&v).is_nan());
    assert_eq!(f64::max_of(&[]), f64::NEG_INFINITY);
}

#[test]
fn edge_values() {
    // -0 stays -0 in expm1, log1p and tanh; NaN stays NaN; the far ends.
    let x = [
        -0.0_f32,
        0.0,
        f32::NAN,
        f32::NEG_INFINITY,
        f32::INFINITY,
        -1.0,
    ];
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    let mut y = [0.0; 6];
    f32::expm1_into(&x, &mut y);
    assert_eq!(bits(&y[..2]), bits(&[-0.0, 0.0]));
    assert!(y[2].is_nan());
    assert_eq!(y[3..5], [-1.0, f32::INFINITY]);
    f32::log1p_into(&x, &mut y);
    assert_eq!(bits(&y[..2]), bits(&[-0.0, 0.0]));
    assert!(y[2].is_nan() && y[3].is_nan());
    assert_eq!(y[4..], [f32::INFINITY, f32::NEG_INFINITY]);
    // softplus: x itself above 20, ln 2 at 0, 0 far left; silu: -0 far left, NaN at -inf (as
    // PyTorch's x * sigmoid(x)).
    let x = [800.0_f64, 0.0, -1000.0, f64::NEG_INFINITY];
    let mut y = [0.0; 4];
    f64::softplus_into(&x, &mut y);
    assert_eq!(y, [800.0, core::f64::consts::LN_2, 0.0, 0.0]);
    f64::silu_into(&x, &mut y);
    assert_eq!(y[..2], [800.0, 0.0]);
    assert_eq!(y[2].to_bits(), (-0.0_f64).to_bits());
    assert!(y[3].is_nan());
}

/// Rows of every length from 0 to three chunks: the softmax weights `e^(x - m)` have the bits of
/// `exp` on one element, the tail's included (a row shorter than a chunk is all tail), and a row
/// shorter than a chunk sums them in order; the maximum is the largest element, NaN if any is NaN.
#[test]
fn rows_of_every_length() {
    for len in 0..100_usize {
        let x: Vec<f32> = (0..len)
            .map(|i| ((i * 37 + len * 11) % 23) as f32 * 0.7 - 8.0)
            .collect();
        let m = f32::max_of(&x);
        let largest = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        assert_eq!(m.to_bits(), largest.to_bits(), "max of {len}");
        let mut w = vec![f32::NAN; len];
        let s = f32::exp_sub_sum(&x, m, &mut w);
        for (i, (&xi, &wi)) in x.iter().zip(&w).enumerate() {
            let mut one = [0.0];
            f32::exp_into(&[xi - m], &mut one);
            assert_eq!(wi.to_bits(), one[0].to_bits(), "weight {i} of {len}");
        }
        if len < 32 {
            let in_order = w.iter().fold(0.0_f32, |s, &v| s + v);
            assert_eq!(s.to_bits(), in_order.to_bits(), "sum of {len}");
        }
        for at in 0..len {
            let mut with_nan = x.clone();
            with_nan[at] = f32::NAN;
            assert!(f32::max_of(&with_nan).is_nan(), "NaN at {at} of {len}");
        }
    }
    // A weight out of the short path's range (e^-100 underflows there) takes the full path.
    let mut w = [0.0_f32; 3];
    let s = f32::exp_sub_sum(&[0.0, -100.0, 1.0], 1.0, &mut w);
    let mut one = [0.0_f32];
    f32::exp_into(&[-101.0], &mut one);
    assert_eq!(w[1].to_bits(), one[0].to_bits());
    assert_eq!(s, w[0] + w[1] + w[2]);
}

/// The row softmax of a whole block of rows, against the row kernels one row at a time: for each
/// row `m = max_of`, `w = exp_sub_sum(x, m) * (1 / s)` and `lse = m + ln s`, to the bit, for rows of
/// every length from 1 to past two chunks (short rows take the block path, long ones the row path),
/// with weights in and out of the short path's range, and rows whose maximum is not finite (their
/// `lse` is that maximum).
fn softmax_rows_match_the_row_kernels<E: Kernels + num_traits::Float + core::fmt::Debug>() {
    let v = |f: f64| E::from(f).expect("in range");
    for c in 1..40_usize {
        for rows in [1_usize, 2, 3, 7] {
            let mut x: Vec<E> = (0..rows * c)
                .map(|i| v(((i * 37 + c * 11) % 23) as f64 * 4.3 - 60.0))
                .collect();
            // Row 1 holds a NaN, row 2 a +inf, row 3 is all -inf.
            if rows > 1 {
                x[c + c / 2] = E::nan();
            }
            if rows > 2 {
                x[2 * c] = E::infinity();
            }
            if rows > 3 {
                x[3 * c..4 * c].fill(E::neg_infinity());
            }
            let mut w = vec![E::nan(); rows * c];
            let mut lse = vec![E::nan(); rows];
            E::softmax_rows(&x, c, &mut w, &mut lse);
            for r in 0..rows {
                let xr = &x[r * c..(r + 1) * c];
                let m = E::max_of(xr);
                if !m.is_finite() {
                    assert_eq!(
                        lse[r].to_f64().map(f64::to_bits),
                        m.to_f64().map(f64::to_bits)
                    );
                    continue;
                }
                let mut want = vec![E::zero(); c];
                let s = E::exp_sub_sum(xr, m, &mut want);
                E::scale(&mut want, s.recip());
                let bits = |e: &E| e.to_f64().map(f64::to_bits);
                let got: Vec<_> = w[r * c..(r + 1) * c].iter().map(bits).collect();
                let want: Vec<_> = want.iter().map(bits).collect();
                assert_eq!(got, want, "weights of row {r}, rows of {c}");
                assert_eq!(
                    bits(&lse[r]),
                    bits(&(m + s.ln())),
                    "lse of row {r}, rows of {c}"
                );
            }
        }
    }
}

#[test]
fn softmax_rows_match_the_row_kernels_f32_and_f64() {
    softmax_rows_match_the_row_kernels::<f32>();
    softmax_rows_match_the_row_kernels::<f64>();
}
