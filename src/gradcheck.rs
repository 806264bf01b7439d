//! Checking a gradient against central finite differences.
//!
//! [`gradcheck`] evaluates a scalar function of one or more tensors twice per input element, at
//! `x ± eps`, and compares the slope with what the tape computes. It works on any function built from
//! the crate's ops (or your own, see [`CustomOp`](crate::CustomOp)), in `f64` or in `f32` with
//! tolerances suited to single precision.
//!
//! ```
//! use shaped::{gradcheck, Tensor};
//!
//! let x = Tensor::from([[0.5, -1.0], [2.0, 0.25]]);
//! // f(x) = sum(exp(x) * x), f'(x) = exp(x) (1 + x)
//! gradcheck(|x| (x.exp() * x).sum(), &x).unwrap();
//!
//! // Several inputs: a tuple of tensors in, a tuple of taped tensors for the function.
//! let w = Tensor::from([[1.0, 2.0], [3.0, -1.0]]);
//! // f(x, w) = sum(x w): df/dx = ones w^T, df/dw = x^T ones
//! gradcheck(|(x, w)| x.matmul(&w).sum(), (&x, &w)).unwrap();
//! ```

use core::fmt;

use crate::{Element, Rank0, Shape, Tape, Tensor};

/// The settings of a finite-difference check.
///
/// An element passes when `|tape - numeric| <= atol + rtol * |numeric| + 4 ε |f| / (2 eps)`. The last
/// term is the rounding error of the central difference itself (`ε` is the element type's machine
/// epsilon, `|f|` the larger of the two values of the function): negligible in `f64`, it is what
/// limits a check in `f32`. [`GradCheck::default`] is
/// for `f64` (`eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`, PyTorch's `gradcheck` defaults);
/// [`GradCheck::F32`] for `f32` (`eps = 1e-3`, `atol = 1e-3`, `rtol = 1e-2`): a central difference in
/// single precision has a rounding error of about `ulp(f) / eps`. [`gradcheck`] picks the one that
/// fits the element type.
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
        Self::F64
    }
}

impl GradCheck {
    /// The settings for `f64`: `eps = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`.
    pub const F64: Self = Self {
        eps: 1e-6,
        atol: 1e-5,
        rtol: 1e-3,
    };

    /// The settings for `f32`: `eps = 1e-3`, `atol = 1e-3`, `rtol = 1e-2`.
    ///
    /// ```
    /// use shaped::{GradCheck, Tensor};
    /// let x = Tensor::from([0.3_f32, -0.7, 1.1]);
    /// // tanh'(x) = 1 - tanh(x)^2, checked in single precision
    /// GradCheck::F32.run(|x| x.tanh().sum(), &x).unwrap();
    /// ```
    pub const F32: Self = Self {
        eps: 1e-3,
        atol: 1e-3,
        rtol: 1e-2,
    };

    /// The settings that fit the element type `E`.
    ///
    /// ```
    /// use shaped::GradCheck;
    /// assert_eq!(GradCheck::for_element::<f32>(), GradCheck::F32);
    /// assert_eq!(GradCheck::for_element::<f64>(), GradCheck::F64);
    /// ```
    #[must_use]
    pub fn for_element<E: Element>() -> Self {
        if E::epsilon().to_f64().is_some_and(|e| e > 1e-10) {
            Self::F32
        } else {
            Self::F64
        }
    }
}

/// Where a gradient check failed: the worst element.
///
/// ```
/// use shaped::{gradcheck, Tensor};
/// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
/// // sum(x * detach(x)): the tape sees d/dx = x, the true derivative of sum(x^2) is 2x.
/// let err = gradcheck(|x| (&x * &x.detach()).sum(), &x).unwrap_err();
/// assert_eq!((err.input, err.index.clone(), err.failures), (0, vec![1, 1], 4)); // worst: the largest x
/// assert_eq!(err.tape, 4.0);
/// assert!((err.numeric - 8.0).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GradCheckError {
    /// Which input the worst element belongs to (0 for a function of one tensor).
    pub input: usize,
    /// The multi-index of the worst element in that input.
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
            "gradient mismatch at index {:?} of input {}: tape gives {}, central difference gives {} \
             (|difference| {:e} > tolerance {:e}; {} element(s) failed)",
            self.index,
            self.input,
            self.tape,
            self.numeric,
            (self.tape - self.numeric).abs(),
            self.tolerance,
            self.failures
        )
    }
}

impl std::error::Error for GradCheckError {}

/// The inputs of a gradient check: a tensor `&Tensor<S, E>`, or a tuple of two to four of them.
/// The function under test receives the same tensors on a tape (watched), as a tensor or a tuple.
///
/// ```
/// use shaped::{gradcheck, Tensor};
/// let (a, b, c) = (Tensor::from([1.0, 2.0]), Tensor::from([3.0, -1.0]), Tensor::from([0.5, 0.5]));
/// // f(a, b, c) = sum(a b + c^2): df/da = b, df/db = a, df/dc = 2c
/// gradcheck(|(a, b, c)| (&a * &b + c.powi(2)).sum(), (&a, &b, &c)).unwrap();
/// ```
pub trait GradInputs<E: Element> {
    /// The inputs on a tape: `Tensor<S, E, Tape<E>>`, or a tuple of them.
    type Taped: Clone;

    /// The values of every input, flattened.
    #[doc(hidden)]
    fn values(&self) -> Vec<Vec<E>>;

    /// The dimensions of every input.
    #[doc(hidden)]
    fn dims(&self) -> Vec<Vec<usize>>;

    /// Tensors with the given values (one vector per input) put on `tape`, watched or as constants.
    #[doc(hidden)]
    fn taped(&self, values: &[Vec<E>], tape: &Tape<E>, watch: bool) -> Self::Taped;

    /// The gradient of every input after a backward pass over `taped`.
    #[doc(hidden)]
    fn gradients(taped: &Self::Taped, grads: &crate::Grads<E>) -> Vec<Vec<E>>;
}

fn put<S: Shape, E: Element>(
    shape: S,
    values: &[E],
    tape: &Tape<E>,
    watch: bool,
) -> Tensor<S, E, Tape<E>> {
    let t = Tensor::<S, E>::from_data_with(shape, values.to_vec());
    if watch {
        tape.watch(&t)
    } else {
        tape.input(&t)
    }
}

impl<S: Shape, E: Element> GradInputs<E> for &Tensor<S, E> {
    type Taped = Tensor<S, E, Tape<E>>;

    fn values(&self) -> Vec<Vec<E>> {
        vec![self.to_vec()]
    }

    fn dims(&self) -> Vec<Vec<usize>> {
        vec![self.shape().as_ref().to_vec()]
    }

    fn taped(&self, values: &[Vec<E>], tape: &Tape<E>, watch: bool) -> Self::Taped {
        put(self.typed_shape(), &values[0], tape, watch)
    }

    fn gradients(taped: &Self::Taped, grads: &crate::Grads<E>) -> Vec<Vec<E>> {
        vec![grads.get(taped).to_vec()]
    }
}

macro_rules! tuple_inputs {
    ($($s:ident $i:tt),*) => {
        impl<E: Element, $($s: Shape),*> GradInputs<E> for ($(&Tensor<$s, E>,)*) {
            type Taped = ($(Tensor<$s, E, Tape<E>>,)*);

            fn values(&self) -> Vec<Vec<E>> {
                vec![$(self.$i.to_vec()),*]
            }

            fn dims(&self) -> Vec<Vec<usize>> {
                vec![$(self.$i.shape().as_ref().to_vec()),*]
            }

            fn taped(&self, values: &[Vec<E>], tape: &Tape<E>, watch: bool) -> Self::Taped {
                ($(put::<$s, E>(self.$i.typed_shape(), &values[$i], tape, watch),)*)
            }

            fn gradients(taped: &Self::Taped, grads: &crate::Grads<E>) -> Vec<Vec<E>> {
                vec![$(grads.get(&taped.$i).to_vec()),*]
            }
        }
    };
}

tuple_inputs!(S0 0, S1 1);
tuple_inputs!(S0 0, S1 1, S2 2);
tuple_inputs!(S0 0, S1 1, S2 2, S3 3);

/// The worst failing element so far: (input, flat index, tape, numeric, tolerance, excess).
type Worst = (usize, usize, f64, f64, f64, f64);

impl GradCheck {
    /// Checks the gradient of `f` at `x` (a tensor, or a tuple of tensors) element by element.
    ///
    /// # Errors
    /// A [`GradCheckError`] naming the worst element when any element is out of tolerance (a NaN on
    /// either side counts as out of tolerance unless both sides are NaN).
    ///
    /// ```
    /// use shaped::{GradCheck, Tensor};
    /// let (a, b) = (Tensor::from([2.0, 3.0]), Tensor::from([1.0, 1.0]));
    /// let check = GradCheck::default();
    /// // f(a, b) = sum(a b): df/da = b, df/db = a
    /// check.run(|(a, b)| (&a * &b).sum(), (&a, &b)).unwrap();
    /// // Detaching `b` hides it from the tape: its gradient reads 0 instead of a = [2, 3].
    /// let err = check.run(|(a, b)| (&a * &b.detach()).sum(), (&a, &b)).unwrap_err();
    /// assert_eq!((err.input, err.index.clone(), err.failures), (1, vec![1], 2));
    /// ```
    #[allow(clippy::needless_pass_by_value)] // `&x` or `(&a, &b)`: a reference or a tuple of them
    pub fn run<E: Element, I: GradInputs<E>>(
        &self,
        f: impl Fn(I::Taped) -> Tensor<Rank0, E, Tape<E>>,
        x: I,
    ) -> Result<(), GradCheckError> {
        let values = x.values();
        let analytic = {
            let tape = Tape::new();
            let taped = x.taped(&values, &tape, true);
            let grads = f(taped.clone()).backward();
            I::gradients(&taped, &grads)
        };
        let eval = |v: &[Vec<E>]| {
            let tape = Tape::new();
            f(x.taped(v, &tape, false))
                .item()
                .to_f64()
                .unwrap_or(f64::NAN)
        };
        let to64 = |v: E| v.to_f64().unwrap_or(f64::NAN);
        let machine_eps = to64(E::epsilon());
        let mut worst: Option<Worst> = None;
        let mut failures = 0;
        let mut shifted = values.clone();
        for (input, xs) in values.iter().enumerate() {
            for i in 0..xs.len() {
                let at = xs[i];
                let (up, down) = (
                    at + E::from_f64_lossy(self.eps),
                    at - E::from_f64_lossy(self.eps),
                );
                shifted[input][i] = up;
                let f_up = eval(&shifted);
                shifted[input][i] = down;
                let f_down = eval(&shifted);
                shifted[input][i] = at;
                // The step actually taken, after rounding to the element type.
                let step = to64(up) - to64(down);
                let numeric = (f_up - f_down) / step;
                let tape = to64(analytic[input][i]);
                let rounding = 4.0 * machine_eps * f_up.abs().max(f_down.abs()) / step;
                let tolerance = self.atol + self.rtol * numeric.abs() + rounding;
                let excess = if tape.is_nan() && numeric.is_nan() {
                    0.0
                } else if tape.is_nan() || numeric.is_nan() {
                    f64::INFINITY
                } else {
                    (tape - numeric).abs() - tolerance
                };
                if excess > 0.0 {
                    failures += 1;
                    if worst.is_none_or(|w| excess > w.5) {
                        worst = Some((input, i, tape, numeric, tolerance, excess));
                    }
                }
            }
        }
        match worst {
            None => Ok(()),
            Some((input, i, tape, numeric, tolerance, _)) => Err(GradCheckError {
                input,
                index: unravel(i, &x.dims()[input]),
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

/// Checks the gradient of the scalar function `f` at `x` (a tensor, or a tuple of two to four tensors)
/// against central finite differences, with the settings for the element type
/// ([`GradCheck::for_element`]).
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
///
/// // In f32, with single-precision tolerances.
/// let y = Tensor::from([0.3_f32, -0.7, 1.1]);
/// gradcheck(|y| (y.sigmoid() * &y).sum(), &y).unwrap();
/// ```
pub fn gradcheck<E: Element, I: GradInputs<E>>(
    f: impl Fn(I::Taped) -> Tensor<Rank0, E, Tape<E>>,
    x: I,
) -> Result<(), GradCheckError> {
    GradCheck::for_element::<E>().run(f, x)
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
        assert_eq!(err.input, 0);
        assert_eq!(err.failures, 4);
        assert!((err.numeric - 5.0).abs() < 1e-6);
        assert_eq!(err.tape, 1.0);
        assert!(err.to_string().starts_with(
            "gradient mismatch at index [1, 1] of input 0: tape gives 1, central difference gives "
        ));
    }

    #[test]
    fn several_inputs_are_checked_and_the_failing_one_is_named() {
        let a = Tensor::from([1.0, 2.0]);
        let b = Tensor::from([[3.0], [-1.0]]);
        let c = Tensor::from(0.5);
        // f(a, b, c) = c * sum(a b) = c (3 a0 - a1)... as a matmul of [2] by [2, 1].
        gradcheck(|(a, b, c)| a.matmul(&b).sum() * c, (&a, &b, &c)).unwrap();
        // The second input's gradient is hidden from the tape: the error names input 1.
        let err = gradcheck(
            |(a, b)| a.matmul(&b.detach()).sum() + b.sum() * 0.0,
            (&a, &b),
        )
        .unwrap_err();
        assert_eq!(err.input, 1);
        assert_eq!(err.failures, 2);
        // d/db = a: the worst element is b[1][0], where the tape says 0 and the slope is 2.
        assert_eq!(err.index, vec![1, 0]);
        assert!((err.numeric - 2.0).abs() < 1e-6);
    }

    #[test]
    fn f32_checks_pass_with_single_precision_settings_and_catch_errors() {
        let x = Tensor::from([[0.5_f32, -1.5], [2.0, 0.1]]);
        // f = sum(x^3), f' = 3x^2
        gradcheck(|x| x.powi(3).sum(), &x).unwrap();
        // A missing factor 2 in a derivative is still caught in f32: f = sum(x^2) with the tape
        // seeing only x * detach(x), whose gradient is x rather than 2x.
        let err = gradcheck(|x| (&x * x.detach()).sum(), &x).unwrap_err();
        assert_eq!(err.failures, 4);
    }
}
