//! Vectorized kernels: the transcendental functions, the activations and the row operations of the
//! softmax family, over slices of `f32` and `f64`.
//!
//! Each kernel reads `&[E]` and writes `&mut [E]` of the same length (no allocation), and is reached
//! from generic code through [`Kernels`], a supertrait of [`Element`](crate::Element).
//!
//! # How they are fast
//! The functions in [`math`] are branch-free (selects, integer bit tricks for the exponent, fixed
//! polynomials), and the slice loops here run them over fixed-size chunks (32 `f32` or 16 `f64`
//! lanes), which the compiler turns into vector code. A chunk whose lanes are all in the usual range
//! (no overflow, no subnormal result, no NaN) takes a shorter path that skips the handling of the
//! extremes; both paths give the same bits there.
//!
//! Each slice function is compiled three times, for x86-64 with AVX-512, with AVX2 and FMA, and for
//! the baseline, and the best one the CPU supports is chosen at the first call (the `multiversion`
//! crate; other architectures get the baseline). The AVX-512 and AVX2 versions evaluate `a * b + c`
//! as a fused multiply-add and give identical results; the baseline (x86-64 CPUs without FMA)
//! rounds the product separately and can differ from them in the last bit. On a given machine the
//! results are always the same, whatever the number of threads: every element is computed on its
//! own, and the sums of the row kernels add their lanes in a fixed order.
//!
//! # Accuracy
//! Largest error found, in ulp of the result. `f32`: against the standard library's function evaluated
//! in `f64` at the same input (so the error includes the final rounding to `f32`: a correctly rounded
//! function scores 0.5), over every 499th `f32` bit pattern (997th for the kernels checked here) of
//! the range where the function is not constant, both signs, plus every 65537th of all finite `f32`.
//! `f64`: the distance in ulp to the standard library's `f64` function (itself within about half an
//! ulp of the exact value), over a million evenly spaced inputs of the same ranges and a million
//! spread over every binade.
//!
//! | function | `f32` | `f64` | checked by |
//! |---|---|---|---|
//! | `exp` | 0.87 | 1 | `tests/it/kernel_accuracy.rs` (through `Tensor::exp`) |
//! | `ln` | 0.83 | 1 | `tests/it/kernel_accuracy.rs` |
//! | `tanh` | 2.5 | 3 | `tests/it/kernel_accuracy.rs` |
//! | `sigmoid` | 2.4 | 2 | `tests/it/kernel_accuracy.rs` |
//! | softmax weights, log-softmax, log-sum-exp (rows of 512) | 2.8, 1.5, 0.7 | | `tests/it/kernel_accuracy.rs` |
//! | `erf` | 1.03 | 1 | `tests/it/kernel_accuracy.rs` (against `libm::erf`) |
//! | `expm1` | 1.6 | 2 | the tests of this module |
//! | `log1p` | 1.5 | 1 | the tests of this module |
//! | `softplus` | 1.9 | 3 | the tests of this module |
//! | `log_sigmoid` | 1.9 | 2 | `tests/it/kernel_accuracy.rs` |
//! | `silu` | 3.1 | 4 | the tests of this module (the `f64` reference is itself about 2 ulp off) |
//! | `gelu_tanh`, `x >= -3` | 13.5 | 18 | the tests of this module |
//!
//! `gelu_tanh` is `x sigmoid(v)` with `v = 2 sqrt(2/pi) (x + 0.044715 x^3)`, and `v` is rounded to
//! the element type: that rounding, not the kernel, sets its error, which grows with `|v|` (about 200
//! ulp in `f32` at `x = -10`, where `v = -87`). PyTorch computes `v` the same way and loses more
//! to the cancellation in `1 + tanh(v / 2)`.
//!
//! `erf` is, in `f32`, `x + x P(x^2)` below 0.921875 and `1 - e^(Q(|x|))` above (two minimax
//! polynomials, no division), and in `f64` fdlibm's rational approximations on four intervals; all
//! pieces are computed and one is selected, except in chunks whose lanes all take the first. GELU's
//! erf form is `x (1 + erf(x / sqrt 2)) / 2` as PyTorch writes it: on top of `erf`'s error, `1 + erf`
//! cancels for negative `x`, which costs relative precision in the left tail (not absolute).
//!
//! The `f32` figures of `exp`, `ln`, `tanh` and `sigmoid` are the worst over all 2^32 `f32` inputs
//! (`cargo test --release --test it kernel_accuracy:: -- --ignored`, about 8 minutes; the dense
//! sweeps of the default test find 0.80, 0.77, 2.48 and 2.14). The edge values the ops document
//! hold exactly: `tanh` and `sigmoid` are exactly ±1, 0 and 1 far out and never NaN for a number;
//! `exp` is `inf` and 0 exactly where the correctly rounded result is; NaN gives NaN; `tanh`,
//! `expm1` and `log1p` keep `-0`.

// The element functions reinterpret floats as integers of the same width and back on purpose, and
// are `inline(always)` so that each lands inside the target-feature versions of the slice loops,
// where it is vectorized; a call would run baseline code one element at a time.
#![allow(
    clippy::inline_always,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap,
    clippy::cast_possible_truncation,
    clippy::cast_lossless
)]

mod math;

use multiversion::multiversion;

/// Lanes per chunk: two 512-bit vectors.
const LANES_F32: usize = 32;
const LANES_F64: usize = 16;

/// Runs `full` on every element of `x` into `y`, or `fast` on the chunks whose lanes all pass `ok`.
#[inline(always)]
fn map<E: Copy, const L: usize>(
    x: &[E],
    y: &mut [E],
    ok: impl Fn(E) -> bool,
    fast: impl Fn(E) -> E,
    full: impl Fn(E) -> E,
) {
    assert_eq!(
        x.len(),
        y.len(),
        "a kernel's input and output differ in length"
    );
    let (xc, xt) = x.as_chunks::<L>();
    let (yc, yt) = y.as_chunks_mut::<L>();
    for (xs, ys) in xc.iter().zip(yc) {
        let mut all = true;
        for &v in xs {
            all &= ok(v);
        }
        if all {
            for (o, &v) in ys.iter_mut().zip(xs) {
                *o = fast(v);
            }
        } else {
            for (o, &v) in ys.iter_mut().zip(xs) {
                *o = full(v);
            }
        }
    }
    for (o, &v) in yt.iter_mut().zip(xt) {
        *o = full(v);
    }
}

/// `y[i] = e` with `$v = x[i]`, for every `i`: the expression is written into the loop of the
/// multiversioned function that expands this, so it is compiled with that version's features and
/// vectorized. Passing a large element function to [`map`] as a function item instead leaves a call
/// per element to a shim compiled for the baseline (where `mul_add` is a libm call).
macro_rules! each {
    ($x:expr, $y:expr, |$v:ident| $e:expr) => {{
        let (x, y) = ($x, $y);
        assert_eq!(
            x.len(),
            y.len(),
            "a kernel's input and output differ in length"
        );
        for (o, &$v) in y.iter_mut().zip(x) {
            *o = $e;
        }
    }};
}

/// `out[i] (+)= e` with `$v = a[i]`, `$g = b[i]`: [`combine`] with the expression written into the
/// loop (see [`each`]).
macro_rules! combine_each {
    ($a:expr, $b:expr, $out:expr, $add:expr, |$v:ident, $g:ident| $e:expr) => {{
        let (a, b, out) = ($a, $b, $out);
        assert!(
            a.len() == b.len() && a.len() == out.len(),
            "a kernel's slices differ in length"
        );
        if $add {
            for ((o, &$v), &$g) in out.iter_mut().zip(a).zip(b) {
                *o += $e;
            }
        } else {
            for ((o, &$v), &$g) in out.iter_mut().zip(a).zip(b) {
                *o = $e;
            }
        }
    }};
}

/// `out[i] (+)= e` with `$v = a[i]`, `$g = b[i]`, in chunks of `$l`: `$fast` on the chunks whose
/// `a` lanes all pass `$ok`, `$full` elsewhere (as [`map`], written into the loop as [`each`]).
macro_rules! combine_chunks {
    ($l:expr, $a:expr, $b:expr, $out:expr, $add:expr, |$v:ident, $g:ident| $ok:expr, $fast:expr, $full:expr) => {{
        let (a, b, out) = ($a, $b, $out);
        assert!(
            a.len() == b.len() && a.len() == out.len(),
            "a kernel's slices differ in length"
        );
        let (ac, at) = a.as_chunks::<{ $l }>();
        let (bc, bt) = b.as_chunks::<{ $l }>();
        let (oc, ot) = out.as_chunks_mut::<{ $l }>();
        for ((xs, gs), os) in ac.iter().zip(bc).zip(oc) {
            let mut all = true;
            for &$v in xs {
                all &= $ok;
            }
            let mut r = [0.0; $l];
            if all {
                for ((o, &$v), &$g) in r.iter_mut().zip(xs).zip(gs) {
                    *o = $fast;
                }
            } else {
                for ((o, &$v), &$g) in r.iter_mut().zip(xs).zip(gs) {
                    *o = $full;
                }
            }
            if $add {
                for (o, v) in os.iter_mut().zip(r) {
                    *o += v;
                }
            } else {
                *os = r;
            }
        }
        combine_each!(at, bt, ot, $add, |$v, $g| $full);
    }};
}

/// `y[i] = e` with `$v = x[i]`, in chunks of `$l`: `$fast` on the chunks whose lanes all pass `$ok`,
/// `$full` elsewhere (as [`map`], written into the loop as [`each`]).
macro_rules! map_chunks {
    ($l:expr, $x:expr, $y:expr, |$v:ident| $ok:expr, $fast:expr, $full:expr) => {{
        let (x, y) = ($x, $y);
        assert_eq!(
            x.len(),
            y.len(),
            "a kernel's input and output differ in length"
        );
        let (xc, xt) = x.as_chunks::<{ $l }>();
        let (yc, yt) = y.as_chunks_mut::<{ $l }>();
        for (xs, ys) in xc.iter().zip(yc) {
            let mut all = true;
            for &$v in xs {
                all &= $ok;
            }
            if all {
                for (o, &$v) in ys.iter_mut().zip(xs) {
                    *o = $fast;
                }
            } else {
                for (o, &$v) in ys.iter_mut().zip(xs) {
                    *o = $full;
                }
            }
        }
        each!(xt, yt, |$v| $full);
    }};
}

/// The sum of `f(a[i], b[i])` over `i`, in `L` running sums added in a fixed order at the end.
#[inline(always)]
fn sum_by<E: num_traits::Float, const L: usize>(a: &[E], b: &[E], f: impl Fn(E, E) -> E) -> E {
    assert_eq!(a.len(), b.len(), "a kernel's slices differ in length");
    let (ac, at) = a.as_chunks::<L>();
    let (bc, bt) = b.as_chunks::<L>();
    let mut acc = [E::zero(); L];
    for (xs, ys) in ac.iter().zip(bc) {
        for k in 0..L {
            acc[k] = acc[k] + f(xs[k], ys[k]);
        }
    }
    at.iter()
        .zip(bt)
        .fold(fold_lanes(acc), |s, (&x, &y)| s + f(x, y))
}

/// The sum of `L` running sums, pairwise (the same order on every CPU).
#[inline(always)]
fn fold_lanes<E: num_traits::Float, const L: usize>(mut acc: [E; L]) -> E {
    let mut width = L;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            acc[k] = acc[k] + acc[k + width];
        }
    }
    acc[0]
}

/// The softmax weights of one row: `w = e^(x - m)`, returning their sum.
#[inline(always)]
fn exp_sub_sum<E: num_traits::Float, const L: usize>(
    x: &[E],
    m: E,
    w: &mut [E],
    ok: impl Fn(E) -> bool,
    fast: impl Fn(E) -> E,
    full: impl Fn(E) -> E,
) -> E {
    assert_eq!(
        x.len(),
        w.len(),
        "a kernel's input and output differ in length"
    );
    let (xc, xt) = x.as_chunks::<L>();
    let (wc, wt) = w.as_chunks_mut::<L>();
    let mut acc = [E::zero(); L];
    for (xs, ws) in xc.iter().zip(wc) {
        let mut d = [E::zero(); L];
        let mut all = true;
        for k in 0..L {
            d[k] = xs[k] - m;
            all &= ok(d[k]);
        }
        if all {
            for k in 0..L {
                ws[k] = fast(d[k]);
            }
        } else {
            for k in 0..L {
                ws[k] = full(d[k]);
            }
        }
        for k in 0..L {
            acc[k] = acc[k] + ws[k];
        }
    }
    let mut s = fold_lanes(acc);
    // The tail as one more chunk, its lanes past the end at e^0 (unused): a row shorter than a
    // chunk, as the ten scores of a classifier, is all tail. In its range the short path gives the
    // full path's bits, and the sum adds the weights in order as before.
    let mut d = [E::zero(); L];
    let mut all = true;
    for (dk, &v) in d.iter_mut().zip(xt) {
        *dk = v - m;
        all &= ok(*dk);
    }
    if all {
        let mut e = [E::zero(); L];
        for k in 0..L {
            e[k] = fast(d[k]);
        }
        for (o, &v) in wt.iter_mut().zip(&e) {
            *o = v;
            s = s + v;
        }
    } else {
        for (o, &v) in wt.iter_mut().zip(&d) {
            *o = full(v);
            s = s + *o;
        }
    }
    s
}

/// The largest element (`-inf` when empty, NaN when there is a NaN). Once a running maximum is NaN,
/// `v > m` is false and it stays NaN. The maximum is exact, so the order of the comparisons changes
/// no value: the lanes are folded in halves, and a slice shorter than a chunk skips them.
#[inline(always)]
fn max_of<E: num_traits::Float, const L: usize>(x: &[E]) -> E {
    let max_nan = |m: E, v: E| if v > m || v.is_nan() { v } else { m };
    let (xc, xt) = x.as_chunks::<L>();
    let mut m = E::neg_infinity();
    if let Some((&first, rest)) = xc.split_first() {
        let mut acc = first;
        for xs in rest {
            for k in 0..L {
                acc[k] = max_nan(acc[k], xs[k]);
            }
        }
        let mut width = L;
        while width > 1 {
            width /= 2;
            for k in 0..width {
                acc[k] = max_nan(acc[k], acc[k + width]);
            }
        }
        m = acc[0];
    }
    xt.iter().fold(m, |m, &v| max_nan(m, v))
}

/// The softmax of each row of `c` elements of `x` into `w`, and its log-sum-exp into `lse`, for
/// rows shorter than a chunk (`0 < c < L`), as a classifier's scores: for a row whose maximum `m`
/// is finite, `w = e^(x - m) / s` and `lse = m + ln s` with `s` the sum of `e^(x - m)`, to the bit
/// what [`exp_sub_sum`] (whose chunk would be mostly padding), then a scaling by `1 / s`, gives row
/// by row. The rows are shifted all at once and their exponentials taken in chunks across the
/// rows; each row's sum still adds its weights in order. A row whose maximum is not finite gets
/// `lse = m` and is left to the caller.
#[inline(always)]
fn softmax_short_rows<E: num_traits::Float, const L: usize>(
    x: &[E],
    c: usize,
    w: &mut [E],
    lse: &mut [E],
    ok: impl Fn(E) -> bool,
    fast: impl Fn(E) -> E,
    full: impl Fn(E) -> E,
) {
    // `Kernels::softmax_rows`, the only caller, has checked the lengths.
    debug_assert!(c > 0 && c < L && x.len() == w.len() && x.len() == c * lse.len());
    for ((xr, wr), mi) in x
        .chunks_exact(c)
        .zip(w.chunks_exact_mut(c))
        .zip(lse.iter_mut())
    {
        *mi = max_of::<E, L>(xr);
        // A row with no finite maximum is shifted by 0: the caller writes its weights.
        let m = if mi.is_finite() { *mi } else { E::zero() };
        for (d, &v) in wr.iter_mut().zip(xr) {
            *d = v - m;
        }
    }
    let (wc, wt) = w.as_chunks_mut::<L>();
    for ws in wc {
        exp_chunk(ws, &ok, &fast, &full);
    }
    if !wt.is_empty() {
        let mut d = [E::zero(); L];
        d[..wt.len()].copy_from_slice(wt);
        exp_chunk(&mut d, &ok, &fast, &full);
        wt.copy_from_slice(&d[..wt.len()]);
    }
    for (wr, mi) in w.chunks_exact_mut(c).zip(lse.iter_mut()) {
        if mi.is_finite() {
            let s = wr.iter().fold(E::zero(), |s, &v| s + v);
            let r = s.recip();
            for v in wr.iter_mut() {
                *v = *v * r;
            }
            *mi = *mi + s.ln();
        }
    }
}

/// `d = e^d` on a chunk: on the short path when every element is in its range, else the full one.
#[inline(always)]
fn exp_chunk<E: num_traits::Float, const L: usize>(
    d: &mut [E; L],
    ok: impl Fn(E) -> bool,
    fast: impl Fn(E) -> E,
    full: impl Fn(E) -> E,
) {
    let mut all = true;
    for &v in d.iter() {
        all &= ok(v);
    }
    if all {
        for v in d.iter_mut() {
            *v = fast(*v);
        }
    } else {
        for v in d.iter_mut() {
            *v = full(*v);
        }
    }
}

/// `out = f(a, b)` elementwise, or `out += f(a, b)` when `add`. Plain loops over the slices: the
/// compiler vectorizes them as they are (chunking them the way [`map`] does makes it gather and
/// scatter across chunks instead).
#[inline(always)]
fn combine<E: num_traits::Float>(
    a: &[E],
    b: &[E],
    out: &mut [E],
    add: bool,
    f: impl Fn(E, E) -> E,
) {
    assert!(
        a.len() == b.len() && a.len() == out.len(),
        "a kernel's slices differ in length"
    );
    if add {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = *o + f(x, y);
        }
    } else {
        for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
            *o = f(x, y);
        }
    }
}

/// The slice kernels of one element type. Every function panics if its slices differ in length.
pub trait Kernels: Sized {
    /// `y = e^x` (error bound in the [module docs](self)).
    fn exp_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy y`: the backward of `exp` from its result `y`; adds when `add`.
    fn exp_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `dx (+)= dy (1 / x)`: the backward of `ln`.
    fn ln_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `dx (+)= dy (1 - y^2)`: the backward of `tanh` from its result.
    fn tanh_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `dx (+)= dy y (1 - y)`: the backward of `sigmoid` from its result.
    fn sigmoid_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = e^x - 1`.
    fn expm1_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy (y + 1)`: the backward of `expm1` from its result `y`; adds when `add`.
    fn expm1_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `dx (+)= dy / (1 + x)`: the backward of `log1p`; adds when `add`.
    fn log1p_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = erf x`, the error function.
    fn erf_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy * 2 e^(-x^2) / sqrt(pi)`: the backward of `erf`; adds when `add`.
    fn erf_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = x (1 + erf(x / sqrt 2)) / 2`: GELU in its exact (erf) form.
    fn gelu_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy * (Φ(x) + x φ(x))`, with `Φ(x) = (1 + erf(x / sqrt 2)) / 2` and
    /// `φ(x) = e^(-x^2/2) / sqrt(2 pi)`: the derivative of [`gelu_into`](Self::gelu_into); adds when
    /// `add`.
    fn gelu_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = ln x`.
    fn ln_into(x: &[Self], y: &mut [Self]);
    /// `y = ln(1 + x)`.
    fn log1p_into(x: &[Self], y: &mut [Self]);
    /// `y = tanh x`.
    fn tanh_into(x: &[Self], y: &mut [Self]);
    /// `y = 1 / (1 + e^-x)`.
    fn sigmoid_into(x: &[Self], y: &mut [Self]);
    /// `y = ln(1 + e^x)`, and `x` itself above 20 (PyTorch's threshold).
    fn softplus_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy * sigmoid(x)`, the derivative of `softplus` (1 above 20); adds when `add`.
    fn softplus_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = ln(sigmoid(x)) = min(x, 0) - ln(1 + e^-|x|)`.
    fn log_sigmoid_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy * sigmoid(-x)`, the derivative of `log_sigmoid`; adds when `add`.
    fn log_sigmoid_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = x sigmoid(x)`.
    fn silu_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy * s (1 + x (1 - s))` with `s = sigmoid(x)`; adds when `add`.
    fn silu_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);
    /// `y = x sigmoid(v)` with `v = 2 sqrt(2/pi) (x + 0.044715 x^3)`: GELU in its tanh form,
    /// `x (1 + tanh(v / 2)) / 2`, written without the cancellation of `1 + tanh` for negative `x`.
    fn gelu_tanh_into(x: &[Self], y: &mut [Self]);
    /// `dx (+)= dy * (s + x s (1 - s) v')` with `s = sigmoid(v)`, the derivative of
    /// [`gelu_tanh_into`](Self::gelu_tanh_into); adds when `add`.
    fn gelu_tanh_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool);

    /// The largest element (`-inf` when empty, NaN when there is a NaN).
    fn max_of(x: &[Self]) -> Self;
    /// `w = e^(x - m)` for a finite `m`, returning the sum of `w`.
    fn exp_sub_sum(x: &[Self], m: Self, w: &mut [Self]) -> Self;
    /// The softmax of each row of `c` elements of `x` into `w` and each row's log-sum-exp into `lse`
    /// (one per row), as `max_of`, `exp_sub_sum` and `scale` by `1 / s` give row by row; a row whose
    /// maximum is not finite (as an empty row's, `-inf`) gets that maximum as its `lse`, and its `w` is
    /// the caller's to write.
    fn softmax_rows(x: &[Self], c: usize, w: &mut [Self], lse: &mut [Self]);
    /// `w *= r`.
    fn scale(w: &mut [Self], r: Self);
    /// `y = x - c`.
    fn sub_scalar(x: &[Self], c: Self, y: &mut [Self]);
    /// The sum of `a b`.
    fn dot(a: &[Self], b: &[Self]) -> Self;
    /// The sum.
    fn sum_of(a: &[Self]) -> Self;
    /// The softmax's backward on a row: `dx (+)= y (dy - t)`, with `t = sum(dy y)`.
    fn softmax_backward_row(y: &[Self], dy: &[Self], t: Self, dx: &mut [Self], add: bool);
    /// The log-softmax's backward on a row: `dx (+)= dy - e^y t`, with `y` the log-softmax (so `e^y`
    /// is the softmax) and `t = sum(dy)`.
    fn log_softmax_backward_row(y: &[Self], dy: &[Self], t: Self, dx: &mut [Self], add: bool);
    /// `dx (+)= g e^(x - c)`: the backward of the log-sum-exp `c` of a row `x`.
    fn exp_sub_scaled(x: &[Self], c: Self, g: Self, dx: &mut [Self], add: bool);
    /// `dx (+)= g w`.
    fn scaled_into(w: &[Self], g: Self, dx: &mut [Self], add: bool);
}

/// Declares one multiversioned slice function: its body sees `F`, whether this version fuses
/// multiply-adds.
macro_rules! versions {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? $body:block)*) => {$(
        #[multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
            "x86_64+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
        ))]
        fn $name($($arg: $ty),*) $(-> $ret)? {
            #[allow(dead_code)]
            const F: bool = multiversion::target::target_cfg_f!(target_feature = "fma")
                || cfg!(target_arch = "aarch64");
            $body
        }
    )*};
}

/// Implements [`Kernels`] for `$t` with the functions of `math::$t` and chunks of `$l` lanes.
macro_rules! kernels {
    ($t:ident, $l:expr) => {
        mod $t {
            use super::math::$t as m;
            use super::{combine, exp_sub_sum, map, multiversion, softmax_short_rows, sum_by};
            const L: usize = $l;

            /// `s = sigmoid(x)` from the `exp` of `-|x|`.
            #[inline(always)]
            fn sigmoid<const F: bool>(x: $t) -> $t {
                m::sigmoid_from(x, m::exp::<F>(-x.abs()))
            }
            #[inline(always)]
            fn fast_sigmoid<const F: bool>(x: $t) -> $t {
                m::sigmoid_from(x, m::fast_exp::<F>(-x.abs()))
            }
            #[inline(always)]
            fn sigmoid_ok(x: $t) -> bool {
                m::fast_exp_range(-x.abs())
            }
            /// `x sigmoid(x)`; for `x < 0` that is `x e^x / (1 + e^x)`, with `x` multiplied in before
            /// `e^x` is scaled down, so that a subnormal `e^x` loses no bits of the product.
            #[inline(always)]
            fn silu_full<const F: bool>(x: $t) -> $t {
                let (m, s1, s2) = m::exp_parts::<F>(-x.abs(), m::SILU_LO);
                let e = m * s1 * s2;
                let num = if x >= 0.0 { x } else { x * m * s1 * s2 };
                // Further left the product is -0 (NaN at -inf, as `x sigmoid(x)` in PyTorch).
                if x < m::SILU_LO { x * 0.0 } else { num / (1.0 + e) }
            }
            /// [`silu_full`] where `e^-|x|` is a normal number.
            #[inline(always)]
            fn fast_silu<const F: bool>(x: $t) -> $t {
                let e = m::fast_exp::<F>(-x.abs());
                let num = if x >= 0.0 { x } else { x * e };
                num / (1.0 + e)
            }
            /// `v = 2 sqrt(2/pi) (x + 0.044715 x^3)` of GELU's tanh form, and `dv/dx`.
            #[inline(always)]
            fn gelu_v(x: $t) -> ($t, $t) {
                // 2 sqrt(2/pi), rounded to the type.
                const K: $t = (2.0 * core::f64::consts::FRAC_2_SQRT_PI * core::f64::consts::FRAC_1_SQRT_2) as $t;
                const C: $t = 0.044_715;
                let x2 = x * x;
                (K * (x + C * x2 * x), K * (1.0 + 3.0 * C * x2))
            }
            /// GELU, tanh form: `x sigmoid(v)`.
            #[inline(always)]
            fn gelu_tanh_one<const F: bool>(x: $t) -> $t {
                x * sigmoid::<F>(gelu_v(x).0)
            }
            /// The derivative of GELU's tanh form: `s + x s (1 - s) v'`.
            #[inline(always)]
            fn gelu_tanh_grad<const F: bool>(x: $t) -> $t {
                let (v, dv) = gelu_v(x);
                let s = sigmoid::<F>(v);
                s + x * s * (1.0 - s) * dv
            }
            /// The derivative of `silu`.
            #[inline(always)]
            fn silu_grad<const F: bool>(x: $t) -> $t {
                let s = sigmoid::<F>(x);
                s * (1.0 + x * (1.0 - s))
            }

            /// `x / sqrt 2`, the argument of `erf` in GELU.
            #[inline(always)]
            fn gelu_arg(x: $t) -> $t {
                x * core::$t::consts::FRAC_1_SQRT_2
            }
            /// GELU, erf form: `x (1 + erf(x / sqrt 2)) / 2`, as PyTorch computes it.
            #[inline(always)]
            fn gelu_one<const F: bool>(x: $t) -> $t {
                x * 0.5 * (1.0 + m::erf::<F>(gelu_arg(x)))
            }
            /// [`gelu_one`] where `erf`'s argument is in its short path.
            #[inline(always)]
            fn fast_gelu<const F: bool>(x: $t) -> $t {
                x * 0.5 * (1.0 + m::fast_erf::<F>(gelu_arg(x)))
            }
            /// The derivative of GELU's erf form: `Φ(x) + x φ(x)`.
            #[inline(always)]
            fn gelu_grad<const F: bool>(x: $t) -> $t {
                // 1 / sqrt(2 pi), rounded to the type.
                const K: $t = (0.5 * core::f64::consts::FRAC_2_SQRT_PI * core::f64::consts::FRAC_1_SQRT_2) as $t;
                let cdf = 0.5 * (1.0 + m::erf::<F>(gelu_arg(x)));
                cdf + x * (m::exp::<F>(-0.5 * x * x) * K)
            }

            /// [`gelu_grad`] where `erf`'s argument is in its short path (so `-x^2 / 2` is in
            /// `exp`'s).
            #[inline(always)]
            fn fast_gelu_grad<const F: bool>(x: $t) -> $t {
                const K: $t = (0.5 * core::f64::consts::FRAC_2_SQRT_PI * core::f64::consts::FRAC_1_SQRT_2) as $t;
                let cdf = 0.5 * (1.0 + m::fast_erf::<F>(gelu_arg(x)));
                cdf + x * (m::fast_exp::<F>(-0.5 * x * x) * K)
            }

            versions! {
                fn exp(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, m::fast_exp_range, m::fast_exp::<F>, m::exp::<F>)
                }
                fn exp_backward(y: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(y, dy, dx, add, |v, g| g * v)
                }
                fn ln_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(x, dy, dx, add, |v, g| g * v.recip())
                }
                fn tanh_backward(y: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(y, dy, dx, add, |v, g| g * (1.0 - v * v))
                }
                fn sigmoid_backward(y: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(y, dy, dx, add, |v, g| g * (v * (1.0 - v)))
                }
                fn expm1(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, |v| v != 0.0 && m::fast_expm1_range(v), m::fast_expm1::<F>, m::expm1::<F>)
                }
                fn expm1_backward(y: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(y, dy, dx, add, |v, g| g * (v + 1.0))
                }
                fn log1p_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(x, dy, dx, add, |v, g| g / (v + 1.0))
                }
                fn erf(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, m::fast_erf_range, m::fast_erf::<F>, m::erf::<F>)
                }
                fn erf_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    // 2 / sqrt(pi), rounded to the type.
                    const K: $t = core::f64::consts::FRAC_2_SQRT_PI as $t;
                    combine::<$t>(x, dy, dx, add, |v, g| g * (K * m::exp::<F>(-(v * v))))
                }
                fn gelu(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, |v| m::fast_erf_range(gelu_arg(v)), fast_gelu::<F>, gelu_one::<F>)
                }
                fn gelu_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine_chunks!(L, x, dy, dx, add, |v, g| m::fast_erf_range(gelu_arg(v)), g * fast_gelu_grad::<F>(v), g * gelu_grad::<F>(v))
                }
                fn ln(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, m::fast_ln_range, m::fast_ln::<F>, m::ln::<F>)
                }
                fn log1p(x: &[$t], y: &mut [$t]) {
                    each!(x, y, |v| m::log1p::<F>(v))
                }
                fn tanh(x: &[$t], y: &mut [$t]) {
                    each!(x, y, |v| m::tanh::<F>(v))
                }
                fn sigmoid_v(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, sigmoid_ok, fast_sigmoid::<F>, sigmoid::<F>)
                }
                fn softplus(x: &[$t], y: &mut [$t]) {
                    map_chunks!(L, x, y, |v| sigmoid_ok(v), m::fast_softplus::<F>(v), m::softplus::<F>(v))
                }
                fn softplus_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(x, dy, dx, add, |v, g| g * if v > 20.0 { 1.0 } else { sigmoid::<F>(v) })
                }
                fn log_sigmoid(x: &[$t], y: &mut [$t]) {
                    map_chunks!(L, x, y, |v| sigmoid_ok(v), m::fast_log_sigmoid::<F>(v), m::log_sigmoid::<F>(v))
                }
                fn log_sigmoid_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(x, dy, dx, add, |v, g| g * sigmoid::<F>(-v))
                }
                fn silu(x: &[$t], y: &mut [$t]) {
                    map::<$t, L>(x, y, sigmoid_ok, fast_silu::<F>, silu_full::<F>)
                }
                fn silu_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(x, dy, dx, add, |v, g| g * silu_grad::<F>(v))
                }
                fn gelu_tanh(x: &[$t], y: &mut [$t]) {
                    each!(x, y, |v| gelu_tanh_one::<F>(v))
                }
                fn gelu_tanh_backward(x: &[$t], dy: &[$t], dx: &mut [$t], add: bool) {
                    combine::<$t>(x, dy, dx, add, |v, g| g * gelu_tanh_grad::<F>(v))
                }
                fn max_of(x: &[$t]) -> $t {
                    super::max_of::<$t, L>(x)
                }
                fn exp_sub_sum_v(x: &[$t], mx: $t, w: &mut [$t]) -> $t {
                    exp_sub_sum::<$t, L>(x, mx, w, m::fast_exp_range, m::fast_exp::<F>, m::exp::<F>)
                }
                fn softmax_short_rows_v(x: &[$t], c: usize, w: &mut [$t], lse: &mut [$t]) {
                    softmax_short_rows::<$t, L>(x, c, w, lse, m::fast_exp_range, m::fast_exp::<F>, m::exp::<F>)
                }
                fn scale(w: &mut [$t], r: $t) {
                    for v in w.iter_mut() {
                        *v *= r;
                    }
                }
                fn sub_scalar(x: &[$t], c: $t, y: &mut [$t]) {
                    assert_eq!(x.len(), y.len(), "a kernel's input and output differ in length");
                    for (o, &v) in y.iter_mut().zip(x) {
                        *o = v - c;
                    }
                }
                fn dot(a: &[$t], b: &[$t]) -> $t {
                    sum_by::<$t, L>(a, b, |u, v| u * v)
                }
                fn sum_of(a: &[$t]) -> $t {
                    sum_by::<$t, L>(a, a, |u, _| u)
                }
                fn softmax_backward_row(y: &[$t], dy: &[$t], t: $t, dx: &mut [$t], add: bool) {
                    combine::<$t>(y, dy, dx, add, |yv, g| yv * (g - t))
                }
                fn log_softmax_backward_row(y: &[$t], dy: &[$t], t: $t, dx: &mut [$t], add: bool) {
                    combine::<$t>(y, dy, dx, add, |yv, g| g - m::exp::<F>(yv) * t)
                }
                fn exp_sub_scaled(x: &[$t], c: $t, g: $t, dx: &mut [$t], add: bool) {
                    combine::<$t>(x, x, dx, add, |v, _| g * m::exp::<F>(v - c))
                }
                fn scaled_into(w: &[$t], g: $t, dx: &mut [$t], add: bool) {
                    combine::<$t>(w, w, dx, add, |wv, _| g * wv)
                }
            }

            impl super::Kernels for $t {
                fn exp_into(x: &[Self], y: &mut [Self]) {
                    exp(x, y);
                }
                fn exp_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    exp_backward(y, dy, dx, add);
                }
                fn ln_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    ln_backward(x, dy, dx, add);
                }
                fn tanh_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    tanh_backward(y, dy, dx, add);
                }
                fn sigmoid_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    sigmoid_backward(y, dy, dx, add);
                }
                fn expm1_into(x: &[Self], y: &mut [Self]) {
                    expm1(x, y);
                }
                fn expm1_backward(y: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    expm1_backward(y, dy, dx, add);
                }
                fn log1p_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    log1p_backward(x, dy, dx, add);
                }
                fn erf_into(x: &[Self], y: &mut [Self]) {
                    erf(x, y);
                }
                fn erf_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    erf_backward(x, dy, dx, add);
                }
                fn gelu_into(x: &[Self], y: &mut [Self]) {
                    gelu(x, y);
                }
                fn gelu_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    gelu_backward(x, dy, dx, add);
                }
                fn ln_into(x: &[Self], y: &mut [Self]) {
                    ln(x, y);
                }
                fn log1p_into(x: &[Self], y: &mut [Self]) {
                    log1p(x, y);
                }
                fn tanh_into(x: &[Self], y: &mut [Self]) {
                    tanh(x, y);
                }
                fn sigmoid_into(x: &[Self], y: &mut [Self]) {
                    sigmoid_v(x, y);
                }
                fn softplus_into(x: &[Self], y: &mut [Self]) {
                    softplus(x, y);
                }
                fn softplus_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    softplus_backward(x, dy, dx, add);
                }
                fn log_sigmoid_into(x: &[Self], y: &mut [Self]) {
                    log_sigmoid(x, y);
                }
                fn log_sigmoid_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    log_sigmoid_backward(x, dy, dx, add);
                }
                fn silu_into(x: &[Self], y: &mut [Self]) {
                    silu(x, y);
                }
                fn silu_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    silu_backward(x, dy, dx, add);
                }
                fn gelu_tanh_into(x: &[Self], y: &mut [Self]) {
                    gelu_tanh(x, y);
                }
                fn gelu_tanh_backward(x: &[Self], dy: &[Self], dx: &mut [Self], add: bool) {
                    gelu_tanh_backward(x, dy, dx, add);
                }
                fn max_of(x: &[Self]) -> Self {
                    max_of(x)
                }
                fn exp_sub_sum(x: &[Self], m: Self, w: &mut [Self]) -> Self {
                    exp_sub_sum_v(x, m, w)
                }
                fn softmax_rows(x: &[Self], c: usize, w: &mut [Self], lse: &mut [Self]) {
                    assert!(
                        x.len() == w.len() && x.len() == c * lse.len(),
                        "softmax_rows: {} elements, rows of {c}, {} rows",
                        x.len(),
                        lse.len()
                    );
                    if c == 0 {
                        lse.fill(<$t>::NEG_INFINITY);
                    } else if c < L {
                        softmax_short_rows_v(x, c, w, lse);
                    } else {
                        // Long rows one by one, each kernel a vectorized pass over the row.
                        for ((xr, wr), mi) in x.chunks_exact(c).zip(w.chunks_exact_mut(c)).zip(lse.iter_mut()) {
                            *mi = max_of(xr);
                            if mi.is_finite() {
                                let s = exp_sub_sum_v(xr, *mi, wr);
                                scale(wr, s.recip());
                                *mi += s.ln();
                            }
                        }
                    }
                }
                fn scale(w: &mut [Self], r: Self) {
                    scale(w, r);
                }
                fn sub_scalar(x: &[Self], c: Self, y: &mut [Self]) {
                    sub_scalar(x, c, y);
                }
                fn dot(a: &[Self], b: &[Self]) -> Self {
                    dot(a, b)
                }
                fn sum_of(a: &[Self]) -> Self {
                    sum_of(a)
                }
                fn softmax_backward_row(y: &[Self], dy: &[Self], t: Self, dx: &mut [Self], add: bool) {
                    softmax_backward_row(y, dy, t, dx, add);
                }
                fn log_softmax_backward_row(y: &[Self], dy: &[Self], t: Self, dx: &mut [Self], add: bool) {
                    log_softmax_backward_row(y, dy, t, dx, add);
                }
                fn exp_sub_scaled(x: &[Self], c: Self, g: Self, dx: &mut [Self], add: bool) {
                    exp_sub_scaled(x, c, g, dx, add);
                }
                fn scaled_into(w: &[Self], g: Self, dx: &mut [Self], add: bool) {
                    scaled_into(w, g, dx, add);
                }
            }
        }
    };
}

kernels!(f32, super::LANES_F32);
kernels!(f64, super::LANES_F64);

#[cfg(test)]
mod tests;
