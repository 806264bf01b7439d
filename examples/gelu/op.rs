//! GELU in its exact (erf) form, `gelu(x) = x Φ(x)` with `Φ` the standard normal CDF, as PyTorch's
//! `F.gelu(x)` (`approximate='none'`). Written outside the crate as a differentiable op of its own:
//! `Tensor::unary` takes the function and its derivative and records like a built-in op.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use shaped::{Element, Shape, Tensor, Tracking};

/// `Φ(x) = (1 + erf(x / √2)) / 2`.
fn normal_cdf(x: f64) -> f64 {
    0.5 * (1.0 + libm::erf(x * FRAC_1_SQRT_2))
}

/// `φ(x) = e^(-x²/2) / √(2π)`.
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// `x Φ(x)` elementwise, on the input's tape if it has one. Derivative: `Φ(x) + x φ(x)`.
pub fn gelu<S: Shape, E: Element, T: Tracking<E>>(x: &Tensor<S, E, T>) -> Tensor<S, E, T> {
    let wide = |v: E| v.to_f64().unwrap_or(f64::NAN);
    x.unary(
        move |v| {
            let v = wide(v);
            E::from_f64_lossy(v * normal_cdf(v))
        },
        move |v, _y| {
            let v = wide(v);
            E::from_f64_lossy(normal_cdf(v) + v * normal_pdf(v))
        },
    )
}
