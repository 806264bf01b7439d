//! `clamp`: every element limited to `[min, max]`.

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// Every element limited to `[min, max]`: `min` below it, `max` above it, itself in between,
    /// exactly (the bounds are copied, not computed).
    ///
    /// Derivative, PyTorch's: 1 for `min < x < max`, and 0 outside and on the bounds themselves
    /// (an element equal to a bound learns as one clamped onto it). For a one-sided limit, pass an
    /// infinity (`x.clamp(0.0, f32::INFINITY)`): the other side then has no bound, as PyTorch's
    /// `clamp(min=)`.
    ///
    /// PyTorch: `torch.clamp(x, min, max)` (numpy: `np.clip`).
    ///
    /// Edge values, as PyTorch: a NaN element stays NaN and gets the gradient 0; a NaN bound makes
    /// every result NaN (with gradient 0); `min > max` sets every element to `max` (gradient 0), since
    /// the result is `min(max(x, min), max)`.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([-2.0, -0.5, 0.25, 0.5, 3.0]);
    /// assert_eq!(x.clamp(-0.5, 0.5).to_array(), [-0.5, -0.5, 0.25, 0.5, 0.5]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.clamp(-0.5, 0.5).sum().backward();
    /// assert_eq!(g.get(&xt).to_array(), [0.0, 0.0, 1.0, 0.0, 0.0]); // 0 on the bounds
    /// // exact at the bound in f32 too
    /// assert_eq!(Tensor::from([0.7_f32]).clamp(0.0, 0.5).to_array(), [0.5]);
    /// ```
    #[must_use]
    pub fn clamp(&self, min: E, max: E) -> Self {
        self.unary(
            move |x| {
                if x.is_nan() {
                    return x;
                }
                // `min(max(x, min), max)`, where a NaN bound wins.
                let x = if min.is_nan() || x < min { min } else { x };
                if max.is_nan() || x > max { max } else { x }
            },
            move |x, _| {
                // An infinite bound is no bound: `inf` clamped by `max = inf` is not on a bound.
                let above = x > min || min == E::neg_infinity();
                let below = x < max || max == E::infinity();
                if above && below && !x.is_nan() {
                    E::one()
                } else {
                    E::zero()
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn gradient_literal() {
        // f = sum(clamp(x, -1, 1) * w): df/dx = w for -1 < x < 1, 0 outside and on the bounds.
        let x = Tensor::from([-3.0, -1.0, 0.0, 1.0, 2.0]);
        let w = Tensor::from([1.0, 10.0, 100.0, 1000.0, 10000.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.clamp(-1.0, 1.0) * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [0.0, 0.0, 100.0, 0.0, 0.0]);
    }

    #[test]
    fn used_twice_and_finite_differences() {
        // f = sum(clamp(x) * x): df/dx = clamp(x) + x inside, clamp(x) = the bound outside.
        let x = Tensor::from([-2.0, 0.5, 3.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.clamp(-1.0, 1.0) * &xt).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [-1.0, 1.0, 1.0]);
        // random inputs are never exactly on a bound
        let x: Tensor<Rank2<3, 4>, f64> = random(95);
        let w: Tensor<Rank2<3, 4>, f64> = random(96);
        gradcheck(|x| (x.clamp(-0.7, 1.1) * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.clamp(-0.7, 1.1) * x.clamp(0.0, 5.0).exp()).sum(), &x).unwrap();
    }

    #[test]
    fn exact_bounds_and_edge_values() {
        let x = Tensor::from([
            0.1_f32 + 0.2,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            -0.0,
        ]);
        let y = x.clamp(0.1, 0.3).to_vec();
        assert_eq!(&y[..3], &[0.3, 0.3, 0.1]);
        assert!(y[3].is_nan());
        assert_eq!(y[4], 0.1);
        // min > max: every element is max
        assert_eq!(
            Tensor::from([-5.0, 0.0, 5.0]).clamp(1.0, -1.0).to_array(),
            [-1.0; 3]
        );
        // a NaN bound gives NaN everywhere
        assert!(
            Tensor::from([1.0, 2.0])
                .clamp(f64::NAN, 3.0)
                .to_vec()
                .iter()
                .all(|v| v.is_nan())
        );
        // the gradient at a NaN element is 0, as in PyTorch
        let tape = Tape::new();
        let xt = tape.watch(&Tensor::from([f64::NAN, 0.5]));
        let g = xt.clamp(0.0, 1.0).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [0.0, 1.0]);
    }

    #[test]
    fn run_time_shapes() {
        let x: Tensor<(usize, Const<2>), f64> =
            Tensor::from_vec_with((2, Const), vec![-1.0, 0.5, 2.0, 1.0]).unwrap();
        let y = x.clamp(0.0, 1.0);
        assert_eq!(y.typed_shape(), (2, Const));
        assert_eq!(y.to_vec(), [0.0, 0.5, 1.0, 1.0]);
    }
}
