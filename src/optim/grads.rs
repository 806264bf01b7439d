//! [`Gradients`]: accumulating, scaling and clipping a model's gradient struct.

use num_traits::{One, Zero};

use crate::{Element, Module};

/// What a training loop does to gradients between the backward pass and the optimizer step, on a
/// model's whole gradient struct (`MlpGrads`) at once: accumulate over several batches, scale,
/// measure, clip (PyTorch's `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`).
///
/// Implemented for every gradient struct: any [`Module`] that is its own gradient type (the
/// `<Name>Grads` that `#[derive(Module)]` writes, `LinearGrads`, a tensor), and so for
/// `M::Grads` of every model `M`. A model itself is not one: its parameters are not clipped by
/// mistake.
///
/// ```
/// use shaped::nn::Linear;
/// use shaped::optim::{Gradients, Optimizer, Sgd};
/// use shaped::rand::{SeedableRng, rngs::StdRng};
/// use shaped::{Module, NoTape, Rank1, Tensor, Tracking};
///
/// #[derive(Module)]
/// struct Net<T: Tracking<f64> = NoTape> { l1: Linear<2, 2, f64, T> }
///
/// let mut net = Net { l1: Linear::new(&mut StdRng::seed_from_u64(0)) };
/// let mut opt = Sgd::new(&net, 0.1);
/// let batches = [Tensor::from([1.0, 2.0]), Tensor::from([3.0, -1.0])];
/// // The mean gradient of two batches, its norm clipped to 1, then one step.
/// let mut sum: NetGrads = net.zeros_like();
/// for x in &batches {
///     let (_, g) = net.value_and_grad(|m| m.l1.forward(x.clone()).powi(2).sum());
///     sum.accumulate(&g);
/// }
/// sum.scale(0.5);
/// let norm = sum.clip_grad_norm(1.0, 2.0);
/// assert!(norm > 1.0);
/// assert!((sum.total_norm(2.0) - 1.0).abs() < 1e-6);
/// opt.step(&mut net, &sum);
/// ```
pub trait Gradients: Module<Grads = Self> + Sized {
    /// Adds `other` to these gradients, tensor by tensor: gradient accumulation over several
    /// batches (what PyTorch does by calling `backward` again before `zero_grad`).
    ///
    /// # Panics
    /// If a tensor of `other` has another number of elements (tensors with run-time dimensions).
    ///
    /// ```
    /// use shaped::optim::Gradients;
    /// use shaped::Tensor;
    /// let mut g = Tensor::from([1.0, 2.0]);
    /// g.accumulate(&Tensor::from([0.5, 0.5]));
    /// assert_eq!(g.to_vec(), vec![1.5, 2.5]);
    /// ```
    fn accumulate(&mut self, other: &Self) {
        self.zip_mut(other, &mut |mine, theirs| {
            assert_eq!(
                mine.len(),
                theirs.len(),
                "accumulate: the gradients have {} and {} elements",
                mine.len(),
                theirs.len()
            );
            for (a, &b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        });
    }

    /// Multiplies every gradient by `factor` (`1 / n` for the mean of `n` accumulated batches).
    ///
    /// ```
    /// use shaped::optim::Gradients;
    /// use shaped::Tensor;
    /// let mut g = Tensor::from([1.0, -2.0]);
    /// g.scale(0.5);
    /// assert_eq!(g.to_vec(), vec![0.5, -1.0]);
    /// ```
    fn scale(&mut self, factor: Self::Elem) {
        self.visit_mut(&mut String::new(), &mut |_, values, _| {
            for v in values {
                *v *= factor;
            }
        });
    }

    /// The norm of all the gradients together, as if they were one vector: the `norm_type`-norm of
    /// the tensors' `norm_type`-norms (`torch.nn.utils.get_total_norm`). `norm_type` is a positive
    /// number or infinity (the largest magnitude); 0 for no tensors.
    ///
    /// Edge values: a NaN gradient gives NaN, an infinite one infinity, as in PyTorch. PyTorch also
    /// takes a `norm_type` of 0 (a count of non-zeros) or below; the crate does not.
    ///
    /// # Panics
    /// If `norm_type` is not positive (or is NaN).
    ///
    /// ```
    /// use shaped::optim::Gradients;
    /// use shaped::Tensor;
    /// let g = Tensor::from([3.0, -4.0]);
    /// assert_eq!(g.total_norm(2.0), 5.0);
    /// assert_eq!(g.total_norm(1.0), 7.0);
    /// assert_eq!(g.total_norm(f64::INFINITY), 4.0);
    /// ```
    #[must_use]
    fn total_norm(&self, norm_type: Self::Elem) -> Self::Elem {
        let zero = Self::Elem::zero();
        assert!(
            norm_type > zero,
            "invalid norm type: {norm_type} (a positive number or infinity)"
        );
        let mut norms = Vec::new();
        self.visit(&mut String::new(), &mut |_, values, _| {
            norms.push(vector_norm(values, norm_type));
        });
        vector_norm(&norms, norm_type)
    }

    /// Scales the gradients so that their [total norm](Gradients::total_norm) is at most
    /// `max_norm`, and returns the total norm they had: `torch.nn.utils.clip_grad_norm_`. As there,
    /// every gradient is multiplied by `min(1, max_norm / (total_norm + 1e-6))`.
    ///
    /// Edge values, as in PyTorch with `error_if_nonfinite=False`: a NaN total norm makes every
    /// gradient NaN; an infinite one scales by 0, so the infinite gradients become NaN (zero times
    /// infinity) and the finite ones 0. Check the returned norm to skip such a step.
    ///
    /// # Panics
    /// If `norm_type` is not positive (or is NaN).
    ///
    /// ```
    /// use shaped::optim::Gradients;
    /// use shaped::Tensor;
    /// let mut g = Tensor::from([3.0, 4.0]);
    /// let norm = g.clip_grad_norm(1.0, 2.0);
    /// assert_eq!(norm, 5.0);
    /// approx::assert_relative_eq!(g, Tensor::from([0.6, 0.8]), epsilon = 1e-6);
    /// let mut small = Tensor::from([0.3, 0.4]);
    /// assert_eq!(small.clip_grad_norm(1.0, 2.0), 0.5);
    /// assert_eq!(small.to_vec(), vec![0.3, 0.4]); // under the bound: unchanged
    /// ```
    fn clip_grad_norm(&mut self, max_norm: Self::Elem, norm_type: Self::Elem) -> Self::Elem {
        let total = self.total_norm(norm_type);
        let coef = max_norm / (total + Self::Elem::from_f64_lossy(1e-6));
        // PyTorch's `clamp(coef, max=1)`: a NaN stays NaN.
        let one = Self::Elem::one();
        self.scale(if coef > one { one } else { coef });
        total
    }

    /// Clamps every gradient to `[-clip_value, clip_value]`: `torch.nn.utils.clip_grad_value_`.
    /// A NaN gradient stays NaN.
    ///
    /// ```
    /// use shaped::optim::Gradients;
    /// use shaped::Tensor;
    /// let mut g = Tensor::from([-3.0, 0.2, 5.0, f64::NAN]);
    /// g.clip_grad_value(1.0);
    /// assert_eq!(&g.to_vec()[..3], &[-1.0, 0.2, 1.0]);
    /// assert!(g.to_vec()[3].is_nan());
    /// ```
    fn clip_grad_value(&mut self, clip_value: Self::Elem) {
        self.visit_mut(&mut String::new(), &mut |_, values, _| {
            for v in values {
                // `clamp_min(-c)` then `clamp_max(c)`, as PyTorch: NaN compares false and stays.
                if *v < -clip_value {
                    *v = -clip_value;
                }
                if *v > clip_value {
                    *v = clip_value;
                }
            }
        });
    }
}

impl<G: Module<Grads = G>> Gradients for G {}

/// The `p`-norm of `values` (`p > 0`, or infinity), with NaN propagated as in PyTorch.
fn vector_norm<E: Element>(values: &[E], p: E) -> E {
    let zero = E::zero();
    if p.is_infinite() {
        return values.iter().fold(zero, |m, &v| {
            let a = v.abs();
            if a > m || a.is_nan() || m.is_nan() {
                if m.is_nan() { m } else { a }
            } else {
                m
            }
        });
    }
    if p == E::one() {
        values.iter().map(|v| v.abs()).sum()
    } else if p == E::from_f64_lossy(2.0) {
        values.iter().map(|&v| v * v).sum::<E>().sqrt()
    } else {
        values
            .iter()
            .map(|v| v.abs().powf(p))
            .sum::<E>()
            .powf(p.recip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rank1, Tensor};

    #[test]
    fn the_infinity_norm_keeps_a_nan_wherever_it_is() {
        assert!(vector_norm(&[1.0, f64::NAN, 5.0], f64::INFINITY).is_nan());
        assert!(vector_norm(&[f64::NAN, 1.0], f64::INFINITY).is_nan());
        assert_eq!(vector_norm(&[-7.0, 1.0], f64::INFINITY), 7.0);
        assert_eq!(vector_norm::<f64>(&[], f64::INFINITY), 0.0);
    }

    #[test]
    fn a_p_norm_of_three() {
        // (1 + 8)^(1/3) for [1, -2]
        let g: Tensor<Rank1<2>, f64> = Tensor::from([1.0, -2.0]);
        assert!((g.total_norm(3.0) - 9f64.cbrt()).abs() < 1e-15);
    }

    #[test]
    #[should_panic(expected = "invalid norm type: 0 (a positive number or infinity)")]
    fn a_zero_norm_type_is_refused() {
        let _ = Tensor::from([1.0]).total_norm(0.0);
    }

    #[test]
    fn clipping_by_norm_with_an_infinite_gradient_gives_nan() {
        // PyTorch: total = inf, coef = 0, inf * 0 = NaN and 1 * 0 = 0.
        let mut g = Tensor::from([f64::INFINITY, 1.0]);
        assert_eq!(g.clip_grad_norm(1.0, 2.0), f64::INFINITY);
        assert!(g.to_vec()[0].is_nan());
        assert_eq!(g.to_vec()[1], 0.0);
    }
}
