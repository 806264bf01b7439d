//! `relu`: the rectified linear unit, elementwise.

use multiversion::multiversion;

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `max(x, 0)` elementwise. Derivative: 1 for `x > 0`, 0 for `x <= 0`. PyTorch: `torch.relu`.
    ///
    /// At exactly `x = 0` the derivative is **0**, as in PyTorch, JAX and TensorFlow (any value in
    /// `[0, 1]` is a subgradient there).
    ///
    /// Edge values: `relu(inf) = inf` (derivative 1), `relu(-inf) = 0` (derivative 0), as in PyTorch.
    /// A NaN stays NaN (unlike `f64::max`, which would return 0), and its gradient is NaN: the
    /// derivative is undefined there, as for every other elementwise op at NaN, and a NaN in the
    /// forward pass stays visible in the gradients. **PyTorch differs** twice: it passes the upstream
    /// gradient through at NaN (derivative 1), and `torch.relu(-0.0)` is `-0.0` where this gives `0.0`.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([1.0, -2.0, 0.0, 3.0]);
    /// assert_eq!(x.relu().to_vec(), vec![1.0, 0.0, 0.0, 3.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.relu().sum().backward();
    /// assert_eq!(g.get(&xt).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
    /// ```
    #[must_use]
    pub fn relu(&self) -> Self {
        self.unary_kernel(relu_into::<E>, relu_backward::<E>, false)
    }
}

/// `y = max(x, 0)`, with a NaN passed through (`NaN <= 0` is false). Compiled for AVX-512, AVX2 and
/// the baseline, the best chosen at the first call; every version gives the same bits.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
))]
fn relu_into<E: Element>(x: &[E], y: &mut [E]) {
    for (o, &v) in y.iter_mut().zip(x) {
        *o = if v <= E::zero() { E::zero() } else { v };
    }
}

/// `dx (+)= dy * d` with `d = 1` for `x > 0`, `0` for `x <= 0` and NaN for a NaN `x`; adds when `add`.
#[multiversion(targets(
    "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma",
    "x86_64+avx2+fma",
))]
fn relu_backward<E: Element>(x: &[E], dy: &[E], dx: &mut [E], add: bool) {
    let d = |v: E| {
        if v > E::zero() {
            E::one()
        } else if v <= E::zero() {
            E::zero()
        } else {
            v // NaN
        }
    };
    let items = dx.iter_mut().zip(x.iter().zip(dy));
    if add {
        for (s, (&v, &g)) in items {
            *s += g * d(v);
        }
    } else {
        for (s, (&v, &g)) in items {
            *s = g * d(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn relu_keeps_positives_and_zeroes_negatives() {
        // relu keeps an element above 0 and gives 0 for one below: relu([1, -2, 3]) = [1, 0, 3].
        assert_eq!(
            Tensor::from([1.0, -2.0, 3.0]).relu().to_vec(),
            vec![1.0, 0.0, 3.0]
        );
        assert_eq!(
            Tensor::from([1.0_f32, -2.0, 3.0]).relu().to_vec(),
            vec![1.0_f32, 0.0, 3.0]
        );
    }

    #[test]
    fn gradient_literal() {
        // d relu(x)/dx = 1 for x > 0, 0 for x <= 0, so 0 at exactly 0 and at -0 (as PyTorch).
        let x = Tensor::from([
            -1.0,
            0.0,
            -0.0,
            1e-300,
            2.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.relu().sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]);
    }

    #[test]
    fn nan_stays_nan_in_value_and_gradient() {
        let x = Tensor::from([f64::NAN, -0.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.relu();
        let v = y.to_vec();
        assert!(v[0].is_nan());
        assert!(v[1] == 0.0 && v[1].is_sign_positive());
        let g = y.sum().backward().get(&xt).to_vec();
        assert!(g[0].is_nan());
        assert_eq!(g[1], 0.0);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<4, 4>, f64> = random(81);
        // Central differences straddle the kink only within eps = 1e-6 of 0.
        assert!(x.as_slice().iter().all(|v| v.abs() > 1e-3));
        assert!(x.as_slice().iter().any(|&v| v < 0.0) && x.as_slice().iter().any(|&v| v > 0.0));
        let w: Tensor<Rank2<4, 4>, f64> = random(82);
        gradcheck(|x| (x.relu() * &w).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(relu(x) * x): df/dx = 2x for x > 0, 0 for x < 0.
        let x = Tensor::from([-1.5, 2.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.relu() * &xt).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![0.0, 4.0]);
    }
}
