//! Errors in ulp and sweeps of inputs, shared by the accuracy tests of the kernels
//! (`src/kernels/tests.rs`) and of the ops (`tests/it/kernel_accuracy.rs`).

/// The error of `y` in ulp of `f32` at the exact value `want` (an `f64` reference); 0 when both are
/// the same infinity or both NaN, infinite when only one is NaN. Where `want` rounds to an `f32`
/// infinity, an infinite `y` of that sign has no error.
pub fn ulp_f32(y: f32, want: f64) -> f64 {
    if y.is_nan() || want.is_nan() {
        return if y.is_nan() && want.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    #[allow(clippy::cast_possible_truncation)]
    let rounded = want as f32;
    if f64::from(y) == want || (y.is_infinite() && rounded == y) {
        return 0.0;
    }
    (f64::from(y) - want).abs() / f32_ulp_at(want)
}

/// The spacing of the `f32` around `v` (the gap above `|v|`'s power of two; the subnormals' spacing
/// below the normals, the spacing at `f32::MAX` above it).
pub fn f32_ulp_at(v: f64) -> f64 {
    let a = v.abs().min(f64::from(f32::MAX));
    #[allow(clippy::cast_possible_truncation)]
    let exp = if a < f64::from(f32::MIN_POSITIVE) {
        -126
    } else {
        a.log2().floor() as i32
    };
    2f64.powi(exp - 23)
}

/// The distance between two `f64` in units in the last place: how many floats lie between them.
pub fn ulp_f64(y: f64, want: f64) -> f64 {
    if y.is_nan() || want.is_nan() {
        return if y.is_nan() && want.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    #[allow(clippy::cast_possible_wrap)]
    let key = |v: f64| {
        let b = v.to_bits() as i64;
        i128::from(if b < 0 { i64::MIN - b } else { b })
    };
    #[allow(clippy::cast_precision_loss)]
    let d = (key(y) - key(want)).unsigned_abs() as f64;
    d
}

/// `f32` inputs: every `stride`-th bit pattern of `[0, max(|lo|, |hi|)]` with both signs, kept where it
/// lies in `[lo, hi]`; then every 65537-th bit pattern of all finite `f32` (the extremes and the
/// values far out).
pub fn f32_sweep(lo: f32, hi: f32, stride: u32) -> Vec<f32> {
    let top = lo.abs().max(hi.abs()).to_bits();
    let dense = (0..=top / stride).map(|k| f32::from_bits(k * stride));
    let all = (0..=u32::MAX / 65_537).map(|k| f32::from_bits(k * 65_537));
    dense
        .flat_map(|v| [v, -v])
        .filter(|v| *v >= lo && *v <= hi)
        .chain(all.filter(|v| v.is_finite()))
        .collect()
}

/// `f64` inputs: `n + 1` evenly spaced values of `[lo, hi]`, then `n + 1` spaced evenly in the bit
/// patterns of `[1e-300, 1e300]`, with both signs (every binade, and the extremes).
pub fn f64_sweep(lo: f64, hi: f64, n: u32) -> Vec<f64> {
    let step = (hi - lo) / f64::from(n);
    let linear = (0..=n).map(|k| lo + step * f64::from(k));
    let (a, b) = (1e-300_f64.to_bits(), 1e300_f64.to_bits());
    let bits = (0..=u64::from(n)).map(|k| f64::from_bits(a + (b - a) / u64::from(n) * k));
    linear.chain(bits.flat_map(|v| [v, -v])).collect()
}

/// The largest of `errors`, with its input (the first input when every error is 0).
pub fn worst<X: Copy>(errors: impl Iterator<Item = (f64, X)>, first: X) -> (f64, X) {
    errors.fold((0.0, first), |a, b| if b.0 > a.0 { b } else { a })
}

/// The logistic sigmoid in `f64` from the standard library's `exp`, without overflow.
pub fn sigmoid_ref(x: f64) -> f64 {
    let e = (-x.abs()).exp();
    if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}
