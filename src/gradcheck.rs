//! Checking a gradient against central finite differences.
//!
//! [`gradcheck`] runs a scalar function of one tensor twice per element at `x ± eps` and compares the
//! slope with what the tape computes. It works on any function built from the crate's ops, so you can
//! check your own layers and losses the way the crate checks its ops.
//!
//! ```
//! use shaped::{gradcheck, Tensor};
//!
//! let x = Tensor::from([[0.5, -1.0], [2.0, 0.25]]);
//! // f(x) = sum(exp(x) * x), f'(x) = exp(x) (1 + x)
//! gradcheck(|x| (x.exp() * x).sum(), &x).unwrap();
//! ```

use core::fmt;

use crate::{Rank0, Shape, Tape, Tensor};

/// The settings of a finite-difference check; [`GradCheck::default`] is `eps = 1e-6`, `atol = 1e-5`,
/// `rtol = 1e-3` (PyTorch's `gradcheck` defaults).
///
/// An element passes when `|tape - numeric| <= atol + rtol * |numeric|`.
///
/// ```
/// use shaped::{GradCheck, Tensor};
/// let x = Tensor::from([1.0, 2.0, 3.0]);
/// let strict = GradCheck { atol: 1e-8, rtol: 1e-6, ..GradCheck::default() };
/// // f(x) = sum(x^2), f'(x) = 2x: central differences are exact for a quadratic up to rounding.
/// strict.run(|x| x.powi(2).sum(), &x).unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GradCheck {
    /// The step of the central difference `(f(x + eps) - f(x - eps)) / (2 eps)`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance, scaled by the numeric derivative's magnitude.
    pub rtol: f64,
}

impl Default for GradCheck {
    fn default() -> Self {
        Self {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

/// Where a gradient check failed: the worst element.
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckError {
    /// The multi-index of the worst element.
    pub index: Vec<usize>,
    /// The derivative the tape computed there.
    pub tape: f64,
    /// The central-difference derivative there.
    pub numeric: f64,
    /// The tolerance it had to meet there.
    pub tolerance: f64,
    /// How many elements failed in all.
    pub failures: usize,
}

impl fmt::Display for GradCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient mismatch at index {:?}: tape gives {}, central difference gives {} \
             (|difference| {:e} > tolerance {:e}; {} element(s) failed)",
            self.index,
            self.tape,
            self.numeric,
            (self.tape - self.numeric).abs(),
            self.tolerance,
            self.failures
        )
    }
}

impl std::error::Error for GradCheckError {}

impl GradCheck {
    /// Checks the gradient of `f` at `x` element by element.
    ///
    /// # Errors
    /// A [`GradCheckError`] naming the worst element when any element is out of tolerance (a NaN on
    /// either side counts as out of tolerance unless both sides are NaN).
    pub fn run<S: Shape>(
        &self,
        f: impl Fn(Tensor<S, f64, Tape<f64>>) -> Tensor<Rank0, f64, Tape<f64>>,
        x: &Tensor<S, f64>,
    ) -> Result<(), GradCheckError> {
        let analytic = {
            let tape = Tape::new();
            f(tape.watch(x)).backward().get(x)
        };
        let eval = |v: Vec<f64>| {
            let tape = Tape::new();
            f(tape.input(&Tensor::from_data(v))).item()
        };
        let mut worst: Option<(usize, f64, f64, f64, f64)> = None;
        let mut failures = 0;
        for i in 0..S::NUMEL {
            let mut plus = x.to_vec();
            plus[i] += self.eps;
            let mut minus = x.to_vec();
            minus[i] -= self.eps;
            let numeric = (eval(plus) - eval(minus)) / (2.0 * self.eps);
            let tape = analytic.as_slice()[i];
            let tolerance = self.atol + self.rtol * numeric.abs();
            let excess = if tape.is_nan() && numeric.is_nan() {
                0.0
            } else if tape.is_nan() || numeric.is_nan() {
                f64::INFINITY
            } else {
                (tape - numeric).abs() - tolerance
            };
            if excess > 0.0 {
                failures += 1;
                if worst.is_none_or(|w| excess > w.4) {
                    worst = Some((i, tape, numeric, tolerance, excess));
                }
            }
        }
        match worst {
            None => Ok(()),
            Some((i, tape, numeric, tolerance, _)) => Err(GradCheckError {
                index: unravel(i, S::DIMS),
                tape,
                numeric,
                tolerance,
                failures,
            }),
        }
    }
}

fn unravel(mut flat: usize, dims: &[usize]) -> Vec<usize> {
    let mut index = vec![0; dims.len()];
    for (slot, &d) in index.iter_mut().zip(dims).rev() {
        *slot = flat % d;
        flat /= d;
    }
    index
}

/// Checks the gradient of the scalar function `f` at `x` against central finite differences, with
/// [`GradCheck::default`] settings.
///
/// # Errors
/// A [`GradCheckError`] naming the worst element when the gradients disagree.
///
/// ```
/// use shaped::{gradcheck, Tensor};
/// let x = Tensor::from([0.3, -0.7, 1.1]);
/// // tanh'(x) = 1 - tanh(x)^2
/// gradcheck(|x| x.tanh().sum(), &x).unwrap();
///
/// // A wrong "gradient" is caught: detaching hides x from the tape, so the tape says 0.
/// let err = gradcheck(|x| x.detach().sum() + x.sum() * 0.0, &x).unwrap_err();
/// assert_eq!(err.failures, 3);
/// assert_eq!(err.tape, 0.0);
/// ```
pub fn gradcheck<S: Shape>(
    f: impl Fn(Tensor<S, f64, Tape<f64>>) -> Tensor<Rank0, f64, Tape<f64>>,
    x: &Tensor<S, f64>,
) -> Result<(), GradCheckError> {
    GradCheck::default().run(f, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unravel_is_row_major() {
        assert_eq!(unravel(5, &[2, 3]), vec![1, 2]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }

    #[test]
    fn the_error_names_the_worst_element() {
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        // The tape sees f = sum(x) (gradient 1); the value is sum(x) + sum(x^2)/2 (gradient 1 + x).
        let err = gradcheck(|x| x.sum() + (x.detach() * x.detach()).sum() * 0.5, &x).unwrap_err();
        assert_eq!(err.index, vec![1, 1]);
        assert_eq!(err.failures, 4);
        assert!((err.numeric - 5.0).abs() < 1e-6);
        assert_eq!(err.tape, 1.0);
        assert!(err.to_string().starts_with(
            "gradient mismatch at index [1, 1]: tape gives 1, central difference gives "
        ));
    }
}
