//! `var` and `std`: the variance and the standard deviation, of all elements or along one axis,
//! with a `correction` to the divisor, integer or fractional (PyTorch's `torch.var(x, dim,
//! correction=)`), and with the reduced axis kept (`keepdim=True`).

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::ops::sum::sum_middle;
use crate::{Element, Rank0, ReduceAxis, Shape, Tensor, Tracking};

/// For each set of `lanes`: its mean into `mean`, and the sum of the squared deviations from it
/// divided by `divisor` into `var` (both reduced buffers).
fn var_middle<E: Element>(x: &[E], lanes: Lanes, divisor: E, mean: &mut [E], var: &mut [E]) {
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

/// The correction to the divisor of [`var`](Tensor::var) and [`std`](Tensor::std): the divisor is
/// `max(n - correction, 0)` for `n` elements. An integer (`0`, `1`: an integer literal is an `i32`)
/// or a fraction (`0.5_f64`), as numpy's `ddof` and PyTorch's `correction` accept.
///
/// ```
/// use shaped::{Correction, Tensor};
/// assert_eq!((1_i32.correction(), 2_usize.correction(), 0.5_f64.correction()), (1.0, 2.0, 0.5));
/// let x = Tensor::from([1.0, 2.0, 3.0, 4.0]);
/// assert_eq!(x.var(0.5).item(), 5.0 / 3.5);
/// ```
pub trait Correction: Copy {
    /// The correction as a number.
    ///
    /// ```
    /// use shaped::{Correction, Tensor};
    /// assert_eq!(0_i32.correction(), 0.0);
    /// assert_eq!(1_usize.correction(), 1.0);
    /// let x = Tensor::from([1.0, 3.0]);
    /// // mean 2, squared deviations 1 + 1: divided by 2 - 1
    /// assert_eq!(x.var(1).item(), 2.0);
    /// ```
    fn correction(self) -> f64;
}

impl Correction for i32 {
    #[inline]
    fn correction(self) -> f64 {
        f64::from(self)
    }
}

impl Correction for usize {
    #[inline]
    fn correction(self) -> f64 {
        self as f64
    }
}

impl Correction for f64 {
    #[inline]
    fn correction(self) -> f64 {
        self
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The variance of all elements, a scalar: `sum((x - mean)^2) / (n - correction)` for `n`
    /// elements. `correction = 1` is the unbiased sample variance (PyTorch's default), `0` the
    /// population variance; a fraction is allowed ([`Correction`]).
    ///
    /// Derivative: `2 (x - mean) / (n - correction)`. PyTorch: `torch.var(x, correction=c)` (numpy:
    /// `x.var(ddof=c)`).
    ///
    /// Edge values, as PyTorch: the divisor is `max(n - correction, 0)`, so a single element with
    /// `correction = 1` gives `0 / 0 = NaN` (and a NaN gradient), no elements give NaN, and a
    /// correction of `n` or more gives `inf` (or NaN where the elements are all equal). NaN and
    /// infinities in `x` give NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([1.0, 2.0, 3.0, 4.0]);
    /// assert_eq!(x.var(0).item(), 1.25);
    /// assert_eq!(x.var(1).item(), 5.0 / 3.0);
    /// assert_eq!(x.var(1.5).item(), 5.0 / 2.5);
    /// assert!(Tensor::from([7.0_f64]).var(1).item().is_nan());
    /// ```
    #[must_use]
    pub fn var(&self, correction: impl Correction) -> Tensor<Rank0, E, T> {
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
    pub fn var_axis<const AX: usize>(&self, correction: impl Correction) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.var_along::<AX, _>(S::reduced, correction, false)
    }

    /// The variance along axis `AX`, which stays in the shape with size 1: as
    /// [`var_axis`](Tensor::var_axis), shaped for broadcasting against `self` (to standardize).
    ///
    /// Derivative: `2 (x - mean_AX) / (n - correction)`. PyTorch: `torch.var(x, dim=AX,
    /// keepdim=True, correction=c)`. Edge values as for [`var_axis`](Tensor::var_axis).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 3.0], [2.0, 6.0]]);
    /// assert_eq!(x.var_axis_keepdim::<1>(0).to_array(), [[1.0], [4.0]]);
    /// assert_eq!(x.var_axis_keepdim::<0>(0.5).to_array(), [[0.5 / 1.5, 4.5 / 1.5]]);
    /// ```
    #[must_use]
    pub fn var_axis_keepdim<const AX: usize>(
        &self,
        correction: impl Correction,
    ) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.var_along::<AX, _>(S::kept, correction, false)
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
    pub fn std(&self, correction: impl Correction) -> Tensor<Rank0, E, T> {
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
    pub fn std_axis<const AX: usize>(&self, correction: impl Correction) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.var_along::<AX, _>(S::reduced, correction, true)
    }

    /// The standard deviation along axis `AX`, which stays in the shape with size 1:
    /// `sqrt(var_axis_keepdim::<AX>(correction))`.
    ///
    /// Derivative: `(x - mean_AX) / ((n - correction) std_AX)`. PyTorch: `torch.std(x, dim=AX,
    /// keepdim=True, correction=c)`. Edge values as for [`std`](Tensor::std), per set along `AX`.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 3.0], [2.0, 6.0]]);
    /// assert_eq!(x.std_axis_keepdim::<1>(0).to_array(), [[1.0], [2.0]]);
    /// ```
    #[must_use]
    pub fn std_axis_keepdim<const AX: usize>(
        &self,
        correction: impl Correction,
    ) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.var_along::<AX, _>(S::kept, correction, true)
    }

    /// The variance (or with `sqrt`, the standard deviation) along axis `AX`, with the shape
    /// `out(shape)`.
    fn var_along<const AX: usize, S2: Shape>(
        &self,
        out: impl FnOnce(&S) -> S2,
        correction: impl Correction,
        sqrt: bool,
    ) -> Tensor<S2, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        self.var_impl(out(&shape), Lanes::of::<AX, _>(&shape), correction, sqrt)
    }

    /// The variance (or with `sqrt`, the standard deviation) over the middle axis of `lanes`, with
    /// shape `out`.
    fn var_impl<S2: Shape>(
        &self,
        out: S2,
        lanes: Lanes,
        correction: impl Correction,
        sqrt: bool,
    ) -> Tensor<S2, E, T> {
        let divisor = E::from_f64_lossy((lanes.len as f64 - correction.correction()).max(0.0));
        let mut mean = Buffer::zeros(lanes.sets());
        let mut y = Buffer::zeros(lanes.sets());
        var_middle(self.data(), lanes, divisor, &mut mean, &mut y);
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
    fn keepdim_and_fractional_corrections() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(94);
        for correction in [0.0, 0.5, 1.0, 2.5] {
            let k = x.var_axis_keepdim::<1>(correction);
            let _: &Tensor<Rank3<2, 1, 4>, f64> = &k;
            let m1 = x.mean_axis_keepdim::<1>();
            let want = Tensor::<Rank3<2, 1, 4>, f64>::from_fn(|[a, _, c]| {
                (0..3)
                    .map(|b| (x[[a, b, c]] - m1[[a, 0, c]]).powi(2))
                    .sum::<f64>()
                    / (3.0 - correction)
            });
            approx::assert_relative_eq!(k, want, epsilon = 1e-13);
            approx::assert_relative_eq!(
                x.std_axis_keepdim::<1>(correction),
                want.map(f64::sqrt),
                epsilon = 1e-13
            );
        }
        // One integer correction, three spellings.
        assert_eq!(x.var(1).item(), x.var(1_usize).item());
        assert_eq!(x.var(1).item(), x.var(1.0).item());
        // A correction beyond the count: the divisor is max(n - correction, 0) = 0.
        let y = Tensor::from([1.0, 2.0]);
        assert_eq!(y.var(3.5).item(), f64::INFINITY);
    }

    #[test]
    fn fractional_gradient_literal() {
        // var(x, correction 0.5) of [1, 2, 6]: mean 3, divisor 2.5,
        // d/dx = 2 (x - 3) / 2.5 = [-1.6, -0.8, 2.4].
        let x = Tensor::from([[1.0, 2.0, 6.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let v = xt.var_axis_keepdim::<1>(0.5);
        assert_eq!(v.to_array(), [[14.0 / 2.5]]);
        let g = v.sum().backward().get(&xt).to_array();
        approx::assert_relative_eq!(&g[0][..], &[-1.6, -0.8, 2.4][..], epsilon = 1e-15);
    }

    #[test]
    fn keepdim_gradients_match_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(95);
        let w: Tensor<Rank3<2, 1, 4>, f64> = random(96);
        let w2: Tensor<Rank3<2, 3, 1>, f64> = random(97);
        gradcheck(|x| (x.var_axis_keepdim::<1>(0.5) * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.std_axis_keepdim::<2>(1.5) * &w2).sum(), &x).unwrap();
        gradcheck(|x| x.var(2.5) + x.std(0.25), &x).unwrap();
        // used twice: standardized by its own deviation
        gradcheck(
            |x| (x.std_axis_keepdim::<2>(1) * x.mean_axis_keepdim::<2>()).sum(),
            &x,
        )
        .unwrap();
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
        let k = x.var_axis_keepdim::<1>(0.5);
        let _: &Tensor<(usize, Const<1>), f64> = &k;
        assert_eq!(k.to_vec(), [0.5 / 1.5, 4.5 / 1.5, 12.5 / 1.5]);
        gradcheck(|x| x.std_axis_keepdim::<0>(0.5).sum(), &x).unwrap();
    }
}
