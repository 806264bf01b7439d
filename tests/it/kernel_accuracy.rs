//! Accuracy of the vectorized ops as users see them: `exp`, `ln`, `tanh`, `sigmoid`, `erf`,
//! `log_sigmoid` and the softmax family, in `f32` and `f64`. The worst error in ulp over dense sweeps of the inputs, against the
//! standard library's functions (in `f64` for `f32` inputs), must stay within the bounds the kernel
//! docs state; and the edge values the ops' docs promise hold.
//!
//! `cargo test --release --test it kernel_accuracy:: -- --ignored --nocapture` sweeps every one of
//! the 2^32 `f32` bit patterns instead (a few minutes) and prints the worst errors.

#[path = "../support/ulp.rs"]
mod ulp;

use shaped::{Rank1, Rank2, Tensor};
use ulp::{f32_sweep, f32_ulp_at, f64_sweep, sigmoid_ref, ulp_f32, ulp_f64, worst};

/// The inputs go through the ops in tensors of this many elements.
const CHUNK: usize = 1 << 14;
type Chunk = Rank1<CHUNK>;

/// An elementwise op, its reference, the range where inputs are swept densely, and its bounds in ulp
/// (`f32`, `f64`).
struct Op {
    name: &'static str,
    f32: fn(&Tensor<Chunk, f32>) -> Tensor<Chunk, f32>,
    f64: fn(&Tensor<Chunk, f64>) -> Tensor<Chunk, f64>,
    reference: fn(f64) -> f64,
    range: (f32, f32),
    bounds: (f64, f64),
}

const OPS: [Op; 6] = [
    Op {
        name: "exp",
        f32: Tensor::exp,
        f64: Tensor::exp,
        reference: f64::exp,
        range: (-104.0, 89.0),
        bounds: (0.9, 1.0),
    },
    Op {
        name: "ln",
        f32: Tensor::ln,
        f64: Tensor::ln,
        reference: f64::ln,
        range: (0.0, f32::MAX),
        bounds: (0.85, 1.0),
    },
    Op {
        name: "tanh",
        f32: Tensor::tanh,
        f64: Tensor::tanh,
        reference: f64::tanh,
        range: (-10.0, 10.0),
        bounds: (2.5, 3.0),
    },
    Op {
        name: "sigmoid",
        f32: Tensor::sigmoid,
        f64: Tensor::sigmoid,
        reference: sigmoid_ref,
        range: (-104.0, 20.0),
        bounds: (2.45, 2.0),
    },
    Op {
        name: "erf",
        f32: Tensor::erf,
        f64: Tensor::erf,
        // libm's erf (fdlibm's, within 1 ulp), in f64 for both types.
        reference: libm::erf,
        range: (-4.0, 4.0),
        bounds: (1.05, 1.0),
    },
    Op {
        name: "log_sigmoid",
        f32: Tensor::log_sigmoid,
        f64: Tensor::log_sigmoid,
        reference: log_sigmoid_ref,
        range: (-30.0, 104.0),
        bounds: (1.9, 2.0),
    },
];

/// `ln(sigmoid(x)) = min(x, 0) - ln(1 + e^-|x|)`.
fn log_sigmoid_ref(x: f64) -> f64 {
    x.min(0.0) - (-x.abs()).exp().ln_1p()
}

/// `op` applied to every element of `xs`, through tensors of `CHUNK` elements (the last one padded).
fn apply<E: shaped::Element>(xs: &[E], op: fn(&Tensor<Chunk, E>) -> Tensor<Chunk, E>) -> Vec<E> {
    let mut out = Vec::with_capacity(xs.len());
    for part in xs.chunks(CHUNK) {
        let mut padded = part.to_vec();
        padded.resize(CHUNK, E::zero());
        let y = op(&Tensor::from_vec(padded).expect("CHUNK elements"));
        out.extend_from_slice(&y.as_slice()[..part.len()]);
    }
    out
}

/// The worst error of `op` in `f32` over `xs`, and where.
fn worst_f32(op: &Op, xs: &[f32]) -> (f64, f32) {
    let y = apply(xs, op.f32);
    let errors = xs
        .iter()
        .zip(&y)
        .map(|(&x, &v)| (ulp_f32(v, (op.reference)(f64::from(x))), x));
    worst(errors, 0.0)
}

#[test]
fn f32_within_bounds_over_dense_sweeps() {
    for op in &OPS {
        let xs = f32_sweep(op.range.0, op.range.1, 499);
        let (e, at) = worst_f32(op, &xs);
        eprintln!(
            "{}: f32 worst {e:.3} ulp at {at:e} ({} inputs)",
            op.name,
            xs.len()
        );
        assert!(e <= op.bounds.0, "{} f32: {e} ulp at {at:e}", op.name);
    }
}

#[test]
fn f64_within_bounds_over_sweeps() {
    for op in &OPS {
        let (lo, hi) = (
            f64::from(op.range.0.max(-800.0)),
            f64::from(op.range.1.min(800.0)),
        );
        let xs = f64_sweep(lo, hi, 1 << 20);
        let y = apply(&xs, op.f64);
        let errors = xs
            .iter()
            .zip(&y)
            .map(|(&x, &v)| (ulp_f64(v, (op.reference)(x)), x));
        let (e, at) = worst(errors, 0.0);
        eprintln!(
            "{}: f64 worst {e} ulp at {at:e} ({} inputs)",
            op.name,
            xs.len()
        );
        assert!(e <= op.bounds.1, "{} f64: {e} ulp at {at:e}", op.name);
    }
}

/// Every `f32` bit pattern (NaNs included), in release mode: a few minutes.
#[test]
#[ignore = "sweeps all 2^32 f32; run in release"]
fn f32_within_bounds_over_every_f32() {
    for op in &OPS {
        let mut found = (0.0, 0.0_f32);
        for block in 0..(1u64 << 32) / (1 << 24) {
            let xs: Vec<f32> = (0..1u32 << 24)
                .map(|k| f32::from_bits(u32::try_from(block).unwrap() << 24 | k))
                .collect();
            let w = worst_f32(op, &xs);
            if w.0 > found.0 {
                found = w;
            }
        }
        eprintln!(
            "{}: f32 worst {:.3} ulp at {:e} over all 2^32 inputs",
            op.name, found.0, found.1
        );
        assert!(
            found.0 <= op.bounds.0,
            "{} f32: {} ulp at {:e}",
            op.name,
            found.0,
            found.1
        );
    }
}

#[test]
fn saturation_and_limits() {
    // tanh and sigmoid at ±1000 and ±inf: exactly ±1, 0 and 1, never NaN (f32 and f64).
    let x = Tensor::from([1000.0_f32, -1000.0, f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(x.tanh().to_vec(), vec![1.0, -1.0, 1.0, -1.0]);
    assert_eq!(x.sigmoid().to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
    let x = Tensor::from([1000.0_f64, -1000.0, f64::INFINITY, f64::NEG_INFINITY]);
    assert_eq!(x.tanh().to_vec(), vec![1.0, -1.0, 1.0, -1.0]);
    assert_eq!(x.sigmoid().to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
    // tanh is exactly ±1 from about ±9 (f32) and ±19 (f64) on.
    assert_eq!(
        Tensor::from([9.1_f32, -9.1]).tanh().to_vec(),
        vec![1.0, -1.0]
    );
    assert_eq!(
        Tensor::from([19.1_f64, -19.1]).tanh().to_vec(),
        vec![1.0, -1.0]
    );

    // exp is inf exactly where the correctly rounded result is (just above ln(MAX)), and 0 exactly
    // where it is (below ln of half the smallest subnormal): every f32 near both limits.
    let near_limits: Vec<f32> = [(88.0_f32, 89.0_f32), (-104.5, -103.5)]
        .iter()
        .flat_map(|&(lo, hi)| {
            (lo.to_bits().min(hi.to_bits())..=lo.to_bits().max(hi.to_bits())).map(f32::from_bits)
        })
        .collect();
    let y = apply(&near_limits, Tensor::exp);
    for (&x, &v) in near_limits.iter().zip(&y) {
        #[allow(clippy::cast_possible_truncation)]
        let want = f64::from(x).exp() as f32;
        assert_eq!(
            v.is_infinite(),
            want.is_infinite(),
            "exp({x:e}) = {v:e}, not {want:e}"
        );
        assert_eq!(v == 0.0, want == 0.0, "exp({x:e}) = {v:e}, not {want:e}");
    }
    let x = Tensor::from([f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(x.exp().to_vec(), vec![f32::INFINITY, 0.0]);
    // f64: the largest finite result at 709.78, inf from 709.79; the smallest subnormal at -745.13,
    // 0 from -745.14.
    let x = Tensor::from([709.78_f64, 709.79, -745.13, -745.14]);
    let y = x.exp().to_vec();
    assert!(y[0].is_finite(), "{y:?}");
    assert_eq!(y[1], f64::INFINITY);
    assert_eq!(y[2], 5e-324);
    assert_eq!(y[3], 0.0);

    // NaN in gives NaN out; -0 where the docs promise it.
    for y in [
        Tensor::from([f32::NAN]).exp(),
        Tensor::from([f32::NAN]).ln(),
        Tensor::from([f32::NAN]).tanh(),
        Tensor::from([f32::NAN]).sigmoid(),
    ] {
        assert!(y.to_vec()[0].is_nan());
    }
    let y = Tensor::from([-0.0_f32, 0.0]).tanh().to_vec();
    assert_eq!(y[0].to_bits(), (-0.0_f32).to_bits());
    assert_eq!(y[1].to_bits(), 0.0_f32.to_bits());
    assert_eq!(
        Tensor::from([-0.0_f64]).tanh().to_vec()[0].to_bits(),
        (-0.0_f64).to_bits()
    );
    assert_eq!(
        Tensor::from([-0.0_f32, 0.0, -1.0]).ln().to_vec()[..2],
        [f32::NEG_INFINITY; 2]
    );
    assert!(Tensor::from([-1.0_f32]).ln().to_vec()[0].is_nan());

    // The sigmoid's left tail keeps its relative precision down to the subnormals: within its bound
    // of e^x / (1 + e^x) at -80 (f32) and -700 (f64).
    let y = Tensor::from([-80.0_f32]).sigmoid().to_vec()[0];
    assert!(ulp_f32(y, sigmoid_ref(-80.0)) <= 2.45, "{y:e}");
    let y = Tensor::from([-700.0_f64]).sigmoid().to_vec()[0];
    assert!(ulp_f64(y, sigmoid_ref(-700.0)) <= 2.0, "{y:e}");
}

/// The softmax weights, the log-softmax and the log-sum-exp of rows of 512 values spread over
/// `[-scale, scale]`, against the same computed in `f64` from the `f32` inputs. The shift by the
/// maximum, `x - m`, is rounded to `f32` in the reference too (the op computes it in its element type,
/// as PyTorch does): at `scale = 100` that rounding alone moves the smallest weights by tens of ulp.
#[test]
fn softmax_family_in_f32_against_f64() {
    const R: usize = 64;
    const N: usize = 512;
    for scale in [1.0_f32, 10.0, 100.0] {
        let x: Tensor<Rank2<R, N>, f32> = Tensor::from_fn(|[r, c]: [usize; 2]| {
            let k = (r * N + c) as f32;
            scale * ((k * 0.618_034).fract() * 2.0 - 1.0)
        });
        let (w, lw, lse) = (
            x.softmax::<1>(),
            x.log_softmax::<1>(),
            x.logsumexp_axis::<1>(),
        );
        let (mut ew, mut elw, mut e_lse) = (0.0_f64, 0.0_f64, 0.0_f64);
        for r in 0..R {
            let row: Vec<f64> = x.as_slice()[r * N..(r + 1) * N]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            #[allow(clippy::cast_possible_truncation)]
            let shifted = |v: f64| f64::from(v as f32 - m as f32);
            let s: f64 = row.iter().map(|&v| shifted(v).exp()).sum();
            let want_lse = m + s.ln();
            e_lse = e_lse.max(ulp_f32(lse.as_slice()[r], want_lse));
            for (c, v) in row.iter().enumerate() {
                ew = ew.max(ulp_f32(w.as_slice()[r * N + c], shifted(*v).exp() / s));
                // x - lse cancels where the two are close: measured in ulp of the larger of the two.
                let got = f64::from(lw.as_slice()[r * N + c]);
                let want = v - want_lse;
                let big = v.abs().max(want_lse.abs());
                elw = elw.max((got - want).abs() / f32_ulp_at(big));
            }
        }
        eprintln!(
            "scale {scale}: softmax {ew:.3} ulp, log_softmax {elw:.3} ulp, logsumexp {e_lse:.3} ulp"
        );
        assert!(ew <= 3.0, "softmax: {ew} ulp");
        assert!(elw <= 1.5, "log_softmax: {elw} ulp");
        assert!(e_lse <= 1.0, "logsumexp: {e_lse} ulp");
    }
}

/// The same inputs give the same bits on every thread and every call.
#[test]
fn identical_across_threads_and_runs() {
    fn run(x: &Tensor<Rank2<64, 300>, f32>) -> Vec<u32> {
        let parts = [
            x.exp(),
            x.tanh(),
            x.sigmoid(),
            x.abs().ln(),
            x.softmax::<1>(),
            x.log_softmax::<1>(),
            x.softmax::<0>(),
        ];
        let lse = x.logsumexp_axis::<1>();
        parts
            .iter()
            .flat_map(|t| t.as_slice().iter())
            .chain(lse.as_slice())
            .map(|v| v.to_bits())
            .collect()
    }
    let x: Tensor<Rank2<64, 300>, f32> = Tensor::from_fn(|[r, c]: [usize; 2]| {
        let k = (r * 300 + c) as f32;
        30.0 * ((k * 0.618_034).fract() * 2.0 - 1.0)
    });
    let here = run(&x);
    assert_eq!(run(&x), here);
    let others: Vec<Vec<u32>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| run(&x))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(others.iter().all(|o| *o == here));
}
