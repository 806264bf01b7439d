//! `var` and `std`: the variance and the standard deviation, of all elements or along one axis,
//! with a `correction` to the divisor (PyTorch's `torch.var(x, dim, correction=)`).

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::ops::sum::sum_middle;
use crate::{Element, Rank0, ReduceAxis, Shape, Tensor, Tracking};

/// For each set of `lanes`: its mean into `mean`, and the sum of the squared deviations from it
/// divided by `max(len - correction, 0)` into `var` (both reduced buffers).
fn var_middle<E: Element>(x: &[E], lanes: Lanes, correction: usize, mean: &mut [E], var: &mut [E]) {
    let n = E::from_f64_lossy(lanes.len as f64);
    sum_middle(x, lanes, mean);
    for m in &mut *mean {
        *m /= n;
    }
    if lanes.contiguous() {
        for ((v, &m), run) in var.iter_mut().zip(mean.iter()).zip(lanes.runs()) {
            *v = x[run].iter().map(|&xv| (xv - m) * (xv - m)).sum();
        }
    } else {
        for (row, slices) in lanes.blocks() {
            let (vs, ms) = (&mut var[row.clone()], &mean[row]);
            vs.fill(E::zero());
            for at in slices {
                for ((v, &m), &xv) in vs.iter_mut().zip(ms).zip(&x[at]) {
                    *v += (xv - m) * (xv - m);
                }
            }
        }
    }
    let divisor = E::from_f64_lossy(lanes.len.saturating_sub(correction) as f64);
    for v in &mut *var {
        *v /= divisor;
    }
}

/// Adds `c[set] * (x - mean[set])` into `dx` for every element: the backward of the variance, with
/// `c` the output's gradient times `2 / divisor` (and over `2 std` for the standard deviation).
fn var_backward_middle<E: Element>(x: &[E], mean: &[E], c: &[E], lanes: Lanes, dx: &mut [E]) {
    if lanes.contiguous() {
        for ((&m, &cv), run) in mean.iter().zip(c).zip(lanes.runs()) {
            for (d, &xv) in dx[run.clone()].iter_mut().zip(&x[run]) {
                *d += cv * (xv - m);
            }
        }
        return;
    }
    for (row, slices) in lanes.blocks() {
        let (ms, cs) = (&mean[row.clone()], &c[row]);
        for at in slices {
            for (((d, &xv), &m), &cv) in dx[at.clone()].iter_mut().zip(&x[at]).zip(ms).zip(cs) {
                *d += cv * (xv - m);
            }
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The variance of all elements, a scalar: `sum((x - mean)^2) / (n - correction)` for `n`
    /// elements. `correction = 1` is the unbiased sample variance (PyTorch's default), `0` the
    /// population variance.
    ///
    /// Derivative: `2 (x - mean) / (n - correction)`. PyTorch: `torch.var(x, correction=c)` (numpy:
    /// `x.var(ddof=c)`).
    ///
    /// Edge values, as PyTorch: the divisor is `max(n - correction, 0)`, so a single element with
    /// `correction = 1` gives `0 / 0 = NaN` (and a NaN gradient), and no elements give NaN. NaN and
    /// infinities in `x` give NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(x.var(0).item(), 1.25);
    /// assert_eq!(x.var(1).item(), 5.0 / 3.0);
    /// assert!(Tensor::from([7.0_f64]).var(1).item().is_nan());
    /// ```
    #[must_use]
    pub fn var(&self, correction: usize) -> Tensor<Rank0, E, T> {
        self.var_impl(Rank0, Lanes::all(self.numel()), correction, false)
    }

    /// The variance along axis `AX`, which disappears from the shape:
    /// `sum_AX((x - mean_AX)^2) / (n - correction)` with `n` the size of axis `AX`.
    ///
    /// Derivative: `2 (x - mean_AX) / (n - correction)`. PyTorch: `torch.var(x, dim=AX,
    /// correction=c)`. Naming an axis the shape does not have is a compile error.
    ///
    /// Edge values as for [`var`](Tensor::var), per set along `AX`: a divisor of
    /// `max(n - correction, 0)`, so an axis of size 1 with `correction = 1` gives NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 3.0], [2.0, 6.0]]);
    /// assert_eq!(x.var_axis::<1>(0).to_array(), [1.0, 4.0]);
    /// assert_eq!(x.var_axis::<0>(1).to_array(), [0.5, 4.5]);
    /// ```
    #[must_use]
    pub fn var_axis<const AX: usize>(&self, correction: usize) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        self.var_impl(
            shape.reduced(),
            Lanes::of::<AX, _>(&shape),
            correction,
            false,
        )
    }

    /// The standard deviation of all elements, a scalar: `sqrt(var(correction))`.
    ///
    /// Derivative: `(x - mean) / ((n - correction) std)`, and 0 where `std` is 0. PyTorch:
    /// `torch.std(x, correction=c)`.
    ///
    /// Edge values, as PyTorch: those of [`var`](Tensor::var); and where the elements are all equal
    /// the result is 0 and its gradient 0 (the square root has no derivative at 0; PyTorch takes 0,
    /// where the formula gives `0 / 0`).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 3.0, 5.0]);
    /// assert_eq!(x.std(1).item(), 2.0);
    /// ```
    #[must_use]
    pub fn std(&self, correction: usize) -> Tensor<Rank0, E, T> {
        self.var_impl(Rank0, Lanes::all(self.numel()), correction, true)
    }

    /// The standard deviation along axis `AX`, which disappears from the shape:
    /// `sqrt(var_axis::<AX>(correction))`.
    ///
    /// Derivative: `(x - mean_AX) / ((n - correction) std_AX)`. PyTorch: `torch.std(x, dim=AX,
    /// correction=c)`. Edge values as for [`std`](Tensor::std), per set along `AX`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 3.0], [2.0, 6.0]]);
    /// assert_eq!(x.std_axis::<1>(0).to_array(), [1.0, 2.0]);
    /// ```
    #[must_use]
    pub fn std_axis<const AX: usize>(&self, correction: usize) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        self.var_impl(
            shape.reduced(),
            Lanes::of::<AX, _>(&shape),
            correction,
            true,
        )
    }

    /// The variance (or with `sqrt`, the standard deviation) over the middle axis of `lanes`, with
    /// shape `out`.
    fn var_impl<S2: Shape>(
        &self,
        out: S2,
        lanes: Lanes,
        correction: usize,
        sqrt: bool,
    ) -> Tensor<S2, E, T> {
        let mut mean = Buffer::zeros(lanes.sets());
        let mut y = Buffer::zeros(lanes.sets());
        var_middle(self.data(), lanes, correction, &mut mean, &mut y);
        if sqrt {
            for v in &mut y {
                *v = v.sqrt();
            }
        }
        let y = Arc::new(y);
        let tape = self.tape().record([self.input()], lanes.sets(), |[node]| {
            let (x, y) = (Arc::clone(self.data()), Arc::clone(&y));
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let divisor = E::from_f64_lossy(lanes.len.saturating_sub(correction) as f64);
                let two = E::from_f64_lossy(2.0);
                // d var = 2 (x - mean) / divisor; d std = d var / (2 std), taken as 0 where the
                // standard deviation is 0, as PyTorch does.
                let c: Vec<E> = if sqrt {
                    dy.iter()
                        .zip(y.iter())
                        .map(|(&g, &s)| {
                            if s == E::zero() {
                                E::zero()
                            } else {
                                g / (two * s) * two / divisor
                            }
                        })
                        .collect()
                } else {
                    dy.iter().map(|&g| g * two / divisor).collect()
                };
                var_backward_middle(&x, &mean, &c, lanes, grads.acc(node));
            })
        });
        Tensor::from_parts(y, out, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn matches_the_definition_along_every_axis() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(90);
        for correction in [0, 1, 2] {
            let d = |n: usize| (n - correction) as f64;
            let m1 = x.mean_axis_keepdim::<1>();
            let want = Tensor::<Rank2<2, 4>, f64>::from_fn(|[a, c]| {
                (0..3)
                    .map(|b| (x[[a, b, c]] - m1[[a, 0, c]]).powi(2))
                    .sum::<f64>()
                    / d(3)
            });
            approx::assert_relative_eq!(x.var_axis::<1>(correction), want, epsilon = 1e-13);
            approx::assert_relative_eq!(
                x.std_axis::<1>(correction),
                want.map(f64::sqrt),
                epsilon = 1e-13
            );
            let v = x.to_vec();
            let mean = v.iter().sum::<f64>() / 24.0;
            let all = v.iter().map(|u| (u - mean).powi(2)).sum::<f64>() / d(24);
            approx::assert_relative_eq!(x.var(correction).item(), all, epsilon = 1e-13);
            approx::assert_relative_eq!(x.std(correction).item(), all.sqrt(), epsilon = 1e-13);
        }
        let last = x.var_axis::<2>(1);
        let row: Vec<f64> = (0..4).map(|c| x[[1, 2, c]]).collect();
        let m = row.iter().sum::<f64>() / 4.0;
        let want = row.iter().map(|u| (u - m).powi(2)).sum::<f64>() / 3.0;
        approx::assert_relative_eq!(last[[1, 2]], want, epsilon = 1e-13);
    }

    #[test]
    fn gradient_literal() {
        // var(x, correction 1) of [1, 2, 6]: mean 3, d/dx = 2 (x - 3) / 2 = [-2, -1, 3].
        // std = sqrt(7): d/dx = (x - 3) / (2 sqrt 7).
        let x = Tensor::from([1.0, 2.0, 6.0]);
        assert_eq!(x.var(1).item(), 7.0);
        let watched = || {
            let tape = Tape::new();
            let xt = tape.watch(&x);
            (tape, xt)
        };
        let (_tape, xt) = watched();
        assert_eq!(xt.var(1).backward().get(&xt).to_array(), [-2.0, -1.0, 3.0]);
        let (_tape, xt) = watched();
        let g = xt.std(1).backward().get(&xt).to_array();
        let s = 7.0_f64.sqrt();
        approx::assert_relative_eq!(
            &g[..],
            &[-2.0 / (2.0 * s), -1.0 / (2.0 * s), 3.0 / (2.0 * s)][..],
            epsilon = 1e-15
        );
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(91);
        let w: Tensor<Rank2<2, 4>, f64> = random(92);
        let w2: Tensor<Rank2<3, 4>, f64> = random(93);
        gradcheck(|x| (x.var_axis::<1>(1) * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.std_axis::<0>(0) * &w2).sum(), &x).unwrap();
        gradcheck(|x| x.var(0) + x.std(1), &x).unwrap();
        // used twice
        gradcheck(|x| (x.var_axis::<1>(0) * x.mean_axis::<1>()).sum(), &x).unwrap();
    }

    #[test]
    fn single_elements_and_empty_sets() {
        let x = Tensor::from([[3.0_f64], [5.0]]);
        assert_eq!(x.var_axis::<1>(0).to_array(), [0.0, 0.0]);
        assert!(x.var_axis::<1>(1).to_vec().iter().all(|v| v.is_nan()));
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.var_axis::<1>(1).sum().backward().get(&xt);
        assert!(g.to_vec().iter().all(|v| v.is_nan()));
        // d std = (x - mean) / (divisor std): [-1, 1] / (2 * 1) for [3, 5].
        assert_eq!(x.std_axis::<0>(0).to_vec(), [1.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.std_axis::<0>(0).sum().backward().get(&xt);
        assert_eq!(g.to_array(), [[-0.5], [0.5]]);
        // The standard deviation of equal elements is 0, and its gradient is taken as 0.
        let same = Tensor::from([2.0, 2.0]);
        assert_eq!(same.std(1).item(), 0.0);
        let tape = Tape::new();
        let st = tape.watch(&same);
        assert_eq!(st.std(1).backward().get(&st).to_array(), [0.0, 0.0]);
        let empty: Tensor<Rank2<0, 3>, f64> = Tensor::zeros();
        assert!(empty.var(0).item().is_nan());
        assert!(empty.var_axis::<0>(0).to_vec().iter().all(|v| v.is_nan()));
    }

    #[test]
    fn run_time_shapes() {
        let x: Tensor<(usize, Const<2>), f64> =
            Tensor::from_vec_with((3, Const), vec![1.0, 2.0, 3.0, 6.0, 5.0, 10.0]).unwrap();
        let v = x.var_axis::<0>(1);
        let _: &Tensor<(Const<2>,), f64> = &v;
        assert_eq!(v.to_vec(), [4.0, 16.0]);
        assert_eq!(x.std_axis::<1>(0).typed_shape(), (3,));
        gradcheck(|x| x.std_axis::<0>(1).sum(), &x).unwrap();
    }
}
