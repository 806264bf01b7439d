//! `powi` and `powf`: a tensor raised elementwise to a constant integer or floating-point power.

use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `x^n` elementwise, for an integer `n`. Derivative: `n x^(n-1)`, and exactly 0 when `n = 0`
    /// (also at `x = 0`, where the formula would give `0 * inf`). PyTorch: `torch.pow(x, n)` with an
    /// integer `n`.
    ///
    /// Computed by repeated multiplication ([`f64::powi`]), which is faster than [`powf`](Self::powf)
    /// and may differ from it in the last bits.
    ///
    /// Edge values, as PyTorch: any sign of `x` is allowed, `(-2)^3 = -8` (derivative 12). `x^0 = 1`
    /// for every `x`, NaN included, with derivative 0. `0^n` is `inf` for `n < 0` (derivative `-inf`
    /// for `n = -1`). `n = i32::MIN` works (its `n - 1` is not computed in `i32`).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([1.0, 2.0, -3.0]);
    /// assert_eq!(x.powi(2).to_vec(), vec![1.0, 4.0, 9.0]);
    /// assert_eq!(x.powi(-1).to_vec(), vec![1.0, 0.5, -1.0 / 3.0]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.powi(3).sum().backward(); // 3 x^2
    /// assert_eq!(g.get(&xt).to_vec(), vec![3.0, 12.0, 27.0]);
    /// ```
    #[must_use]
    pub fn powi(&self, n: i32) -> Self {
        let nf = E::from_f64_lossy(f64::from(n));
        self.unary(
            move |x| x.powi(n),
            move |x, _| match n {
                0 => E::zero(),
                // `n - 1` would overflow.
                i32::MIN => nf * x.powf(nf - E::one()),
                _ => nf * x.powi(n - 1),
            },
        )
    }

    /// `x^p` elementwise, for a floating-point `p`, with IEEE `pow` semantics. Derivative:
    /// `p x^(p-1)`, and exactly 0 when `p = 0` (also at `x = 0`, where the formula would give
    /// `0 * inf`; PyTorch does the same). PyTorch: `torch.pow(x, p)`, numpy: `np.power`.
    ///
    /// Edge values, as PyTorch: a negative base is allowed when `p` is a whole number, `(-2)^2.0 = 4`
    /// exactly (derivative -4) and `(-2)^3.0 = -8` (derivative 12). With any other `p` the result is
    /// NaN, and so is its derivative: `(-8)^(1/3)` is NaN, not -2. `x^0 = 1` for every `x`, NaN
    /// included, with derivative 0. At `x = 0` the derivative is `inf` for `0 < p < 1`, 1 for `p = 1`,
    /// 0 for `p > 1`, and `0^-1 = inf` with derivative `-inf`. One sign of zero differs: PyTorch
    /// computes `x^0.5` as `sqrt(x)`, so at `x = -0` it gives `-0` and a derivative of `-inf`, where
    /// IEEE `pow` gives `0` and `inf`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([4.0_f64, 0.25, -2.0]);
    /// let y = x.powf(0.5).to_vec();
    /// assert_eq!(y[..2], [2.0, 0.5]);
    /// assert!(y[2].is_nan());
    /// assert_eq!(x.powf(2.0).to_vec(), vec![16.0, 0.0625, 4.0]);
    /// ```
    #[must_use]
    pub fn powf(&self, p: E) -> Self {
        let pm1 = p - E::one();
        self.unary(
            move |x| x.powf(p),
            move |x, _| {
                if p == E::zero() {
                    E::zero()
                } else {
                    p * x.powf(pm1)
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::{random, rng};
    use crate::{Rank1, Rank2, Tape, Tensor, gradcheck};

    #[test]
    fn powi_and_powf_raise_each_element() {
        // x^2 squares each element, as powi(2) and as powf(2.0): [1, 2, 3] gives [1, 4, 9].
        let x = Tensor::from([1.0, 2.0, 3.0]);
        assert_eq!(x.powi(2).to_vec(), vec![1.0, 4.0, 9.0]);
        assert_eq!(x.powf(2.0).to_vec(), vec![1.0, 4.0, 9.0]);
        let x = Tensor::from([1.0_f32, 2.0, 3.0]);
        assert_eq!(x.powi(2).to_vec(), vec![1.0_f32, 4.0, 9.0]);
        assert_eq!(x.powf(2.0).to_vec(), vec![1.0_f32, 4.0, 9.0]);
    }

    #[test]
    fn negative_bases_follow_ieee_pow() {
        // (-2)^2.0 = 4 exactly; (-8)^(1/3) is NaN (a real cube root would be -2).
        assert_eq!(Tensor::from([-2.0]).powf(2.0).to_vec(), vec![4.0]);
        assert_eq!(Tensor::from([-2.0_f32]).powf(2.0).to_vec(), vec![4.0_f32]);
        assert_eq!(Tensor::from([-2.0]).powf(3.0).to_vec(), vec![-8.0]);
        assert!(Tensor::from([-8.0_f64]).powf(1.0 / 3.0).to_vec()[0].is_nan());
        assert!(Tensor::from([-8.0_f32]).powf(1.0 / 3.0).to_vec()[0].is_nan());
        assert_eq!(Tensor::from([-2.0]).powi(3).to_vec(), vec![-8.0]);
        // d(x^2)/dx = 2x = -4 at x = -2.
        let x = Tensor::from([-2.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        assert_eq!(xt.powf(2.0).sum().backward().get(&xt).to_vec(), vec![-4.0]);
    }

    #[test]
    fn exponent_zero_has_gradient_zero_everywhere() {
        // x^0 = 1 (0^0 and NaN^0 included); its derivative is exactly 0, also at x = 0 where
        // p * x^(p-1) = 0 * inf would be NaN.
        let x = Tensor::from([0.0, -0.0, 2.0, -3.0, f64::INFINITY]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let (yf, yi) = (xt.powf(0.0), xt.powi(0));
        assert_eq!(yf.to_vec(), vec![1.0; 5]);
        assert_eq!(yi.to_vec(), vec![1.0; 5]);
        let g = (yf + yi).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![0.0; 5]);
        assert_eq!(Tensor::from([f64::NAN]).powf(0.0).to_vec(), vec![1.0]);
    }

    #[test]
    fn edge_values_at_zero() {
        // At x = 0: 0^0.5 = 0 with derivative 0.5 * 0^-0.5 = inf; 0^2 = 0 with derivative 0;
        // 0^-1 = inf with derivative -1 * 0^-2 = -inf; 0^1 = 0 with derivative 1 * 0^0 = 1.
        type X = Tensor<Rank1<1>, f64, Tape<f64>>;
        let x = Tensor::from([0.0]);
        let grad = |f: &dyn Fn(X) -> X| {
            let tape = Tape::new();
            let xt = tape.watch(&x);
            f(xt.clone()).sum().backward().get(&xt).to_vec()[0]
        };
        assert_eq!(x.powf(0.5).to_vec(), vec![0.0]);
        assert_eq!(grad(&|x| x.powf(0.5)), f64::INFINITY);
        assert_eq!(grad(&|x| x.powf(2.0)), 0.0);
        assert_eq!(grad(&|x| x.powi(2)), 0.0);
        assert_eq!(x.powi(-1).to_vec(), vec![f64::INFINITY]);
        assert_eq!(grad(&|x| x.powi(-1)), f64::NEG_INFINITY);
        assert_eq!(grad(&|x| x.powf(-1.0)), f64::NEG_INFINITY);
        assert_eq!(grad(&|x| x.powi(1)), 1.0);
        assert_eq!(grad(&|x| x.powf(1.0)), 1.0);
    }

    #[test]
    fn the_most_negative_integer_exponent() {
        // n = i32::MIN, where n - 1 overflows: d(x^n)/dx = n x^(n-1) = -2^31 at x = 1, and 0 (underflow)
        // at x = 2.
        let x = Tensor::from([1.0, 2.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.powi(i32::MIN);
        assert_eq!(y.to_vec(), vec![1.0, 0.0]);
        assert_eq!(
            y.sum().backward().get(&xt).to_vec(),
            vec![-2_147_483_648.0, 0.0]
        );
    }

    #[test]
    fn gradient_literal() {
        // d(x^3)/dx = 3x^2: [3, 12, 0.75] at x = [1, -2, 0.5].
        let x = Tensor::from([1.0, -2.0, 0.5]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.powi(3).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![3.0, 12.0, 0.75]);
        // d(x^1.5)/dx = 1.5 x^0.5: [3, 0.75] at x = [4, 0.25].
        let x = Tensor::from([4.0, 0.25]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.powf(1.5).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![3.0, 0.75]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Integer exponents: any sign of x; negative exponents need x away from 0.
        let x: Tensor<Rank2<3, 4>, f64> = random(71);
        assert!(x.as_slice().iter().all(|v| v.abs() > 0.05));
        gradcheck(|x| x.powi(3).sum(), &x).unwrap();
        gradcheck(|x| x.powi(-2).sum(), &x).unwrap();
        gradcheck(|x| x.powf(3.0).sum(), &x).unwrap();
        // Fractional exponents: positive x.
        let x = Tensor::<Rank2<3, 4>, f64>::uniform(&mut rng(72), 0.2, 3.0);
        gradcheck(|x| x.powf(1.7).sum(), &x).unwrap();
        gradcheck(|x| x.powf(-0.5).sum(), &x).unwrap();
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(x^2 * x) = sum(x^3): df/dx = 2x * x + x^2 = 3x^2.
        let x = Tensor::from([1.0, -2.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.powi(2) * &xt).sum().backward().get(&xt);
        assert_eq!(g.to_vec(), vec![3.0, 12.0]);
        let g = {
            let tape = Tape::new();
            let xt = tape.watch(&x);
            (xt.powf(2.0) * &xt).sum().backward().get(&xt)
        };
        assert_eq!(g.to_vec(), vec![3.0, 12.0]);
    }
}
