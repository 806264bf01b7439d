//! `logsumexp`: `ln(sum(exp(x)))` of all elements or along one axis, computed stably through the
//! maximum.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::ops::softmax::softmax_middle;
use crate::{Element, Rank0, ReduceAxis, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `ln(sum(exp(x)))` over all elements, a scalar.
    ///
    /// Computed as `m + ln(sum(exp(x - m)))` with `m` the maximum, so inputs near `±1000` give finite,
    /// correct results. Derivative: `softmax(x)`, the weights `exp(x - y)`.
    ///
    /// PyTorch: `torch.logsumexp(x, dim=all axes)`; SciPy: `scipy.special.logsumexp(x)`.
    ///
    /// Edge values: all elements `-inf`, or no elements, gives `-inf`, not NaN, as in PyTorch; the
    /// gradient there is 0, so a fully masked set contributes nothing (**PyTorch gives NaN**). Any
    /// `+inf` gives `+inf`, and the `k` elements at `+inf` share the gradient evenly, `1 / k` each,
    /// the limit of the softmax as they grow together (**PyTorch gives those elements NaN** and the
    /// others 0). A NaN gives NaN, and a NaN gradient to the whole set, as in PyTorch.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1000.0, 1000.0], [-1000.0, f64::NEG_INFINITY]]);
    /// assert_eq!(x.logsumexp().item(), 1000.0 + 2.0_f64.ln());
    /// let all_neg_inf = Tensor::from([f64::NEG_INFINITY; 3]);
    /// assert_eq!(all_neg_inf.logsumexp().item(), f64::NEG_INFINITY);
    /// ```
    #[must_use]
    pub fn logsumexp(&self) -> Tensor<Rank0, E, T> {
        self.logsumexp_impl(Rank0, Lanes::all(self.numel()))
    }

    /// `ln(sum(exp(x)))` along axis `AX`, which disappears from the shape.
    ///
    /// Stable (through the maximum along `AX`). Derivative: the softmax along `AX`,
    /// `dx = dy * exp(x - y)` with `dy` repeated along `AX`.
    ///
    /// PyTorch: `torch.logsumexp(x, dim=AX)`. Naming an axis the shape does not have is a compile
    /// error.
    ///
    /// Edge values per set along `AX`, as for [`logsumexp`](Tensor::logsumexp): all `-inf`, or an axis
    /// of size 0, gives `-inf` (as PyTorch) with a zero gradient (PyTorch: NaN); `+inf` gives `+inf`
    /// with the gradient shared by the `+inf` elements (PyTorch: NaN); NaN gives NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[0.0, 0.0], [1000.0, -1000.0]]);
    /// assert_eq!(x.logsumexp_axis::<1>().to_array(), [2.0_f64.ln(), 1000.0]);
    /// ```
    #[must_use]
    pub fn logsumexp_axis<const AX: usize>(&self) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        self.logsumexp_impl(shape.reduced(), Lanes::of::<AX, _>(&shape))
    }

    /// `ln(sum(exp(x)))` along axis `AX`, kept in the shape with size 1 (`keepdim=True` in PyTorch).
    /// Same derivative and edge cases as [`logsumexp_axis`](Tensor::logsumexp_axis).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[0.0, 0.0], [1000.0, -1000.0]]);
    /// assert_eq!(x.logsumexp_axis_keepdim::<1>().to_array(), [[2.0_f64.ln()], [1000.0]]);
    /// ```
    #[must_use]
    pub fn logsumexp_axis_keepdim<const AX: usize>(&self) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.logsumexp_axis::<AX>()
            .reshape_to(ReduceAxis::<AX>::kept(&self.typed_shape()))
    }

    /// The log-sum-exp over the middle axis of `lanes`, with shape `out` (`lanes.sets()`
    /// elements).
    fn logsumexp_impl<S2: Shape>(&self, out: S2, lanes: Lanes) -> Tensor<S2, E, T> {
        let x = self.data();
        let mut y = Buffer::uninit(lanes.sets());
        if lanes.contiguous() {
            // Row by row, the weights only in a scratch row; the backward takes them as e^(x - y).
            let mut row = Buffer::uninit(lanes.len);
            for (lse, run) in y.iter_mut().zip(lanes.runs()) {
                let xs = &x[run];
                let m = E::max_of(xs);
                *lse = if m.is_finite() {
                    m + E::exp_sub_sum(xs, m, &mut row).ln()
                } else {
                    m
                };
            }
            let y = Arc::new(y);
            let tape = self.tape().record([self.input()], lanes.sets(), |[node]| {
                let (x, y) = (Arc::clone(x), Arc::clone(&y));
                Box::new(move |dy, grads| {
                    // `record` builds this closure only when the one input needs a gradient.
                    let Some(node) = node else { return };
                    let (dx, fresh) = grads.acc_fresh(node);
                    let mut row = Buffer::uninit(lanes.len);
                    for ((&g, &yo), at) in dy.iter().zip(y.iter()).zip(lanes.runs()) {
                        let (xs, ds) = (&x[at.clone()], &mut dx[at]);
                        if yo.is_finite() {
                            E::exp_sub_scaled(xs, yo, g, ds, !fresh);
                        } else {
                            // The limits of softmax_middle for a non-finite maximum.
                            softmax_middle(xs, Lanes::all(lanes.len), &mut row, &mut [E::zero()]);
                            E::scaled_into(&row, g, ds, !fresh);
                        }
                    }
                })
            });
            return Tensor::from_parts(y, out, tape);
        }
        // The softmax weights are the derivative; the forward computes them on the way.
        let mut w = Buffer::uninit(self.numel());
        softmax_middle(x, lanes, &mut w, &mut y);
        let tape = self.tape().record([self.input()], lanes.sets(), |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                for (row, slices) in lanes.blocks() {
                    let gs = &dy[row];
                    for at in slices {
                        for ((d, &wv), &g) in dx[at.clone()].iter_mut().zip(&w[at]).zip(gs) {
                            *d += g * wv;
                        }
                    }
                }
            })
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn matches_the_definition() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(70);
        let naive1 = x.exp().sum_axis::<1>().map(f64::ln);
        approx::assert_relative_eq!(x.logsumexp_axis::<1>(), naive1, epsilon = 1e-14);
        let naive = x.exp().sum().item().ln();
        approx::assert_relative_eq!(x.logsumexp().item(), naive, epsilon = 1e-14);
        assert_eq!(x.logsumexp_axis_keepdim::<2>().shape(), [2, 3, 1]);
    }

    #[test]
    fn large_inputs_stay_finite() {
        // exp(1000) overflows and exp(-1000) underflows; through the maximum both are exact.
        let x = Tensor::from([[1000.0, 1000.0, 999.0], [-1000.0, -1000.0, -1001.0]]);
        let r = x.logsumexp_axis::<1>().to_array();
        let tail = (2.0 + (-1.0_f64).exp()).ln();
        approx::assert_relative_eq!(r[0], 1000.0 + tail, epsilon = 1e-12);
        approx::assert_relative_eq!(r[1], -1000.0 + tail, epsilon = 1e-12);
        let x32 = Tensor::from([1000.0_f32, -1000.0]);
        assert_eq!(x32.logsumexp().item(), 1000.0);
        approx::assert_relative_eq!(
            Tensor::from([-1000.0_f32, -1000.0]).logsumexp().item(),
            -1000.0 + 2.0_f32.ln(),
            epsilon = 1e-4
        );
    }

    #[test]
    fn infinities_and_nan() {
        let (inf, nan) = (f64::INFINITY, f64::NAN);
        let x = Tensor::from([
            [-inf, -inf, -inf],
            [inf, 1.0, -inf],
            [1.0, nan, 2.0],
            [-inf, 0.0, -inf],
        ]);
        let y = x.logsumexp_axis::<1>().to_array();
        assert_eq!(y[0], -inf);
        assert_eq!(y[1], inf);
        assert!(y[2].is_nan());
        assert_eq!(y[3], 0.0);
        // Gradients: 0 (not NaN) for the all `-inf` row, all to the `+inf` element, NaN for the NaN
        // row, and the one-hot softmax for the last row.
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt
            .logsumexp_axis::<1>()
            .backward_with(&Tensor::from([1.0; 4]))
            .get(&xt)
            .to_array();
        assert_eq!(g[0], [0.0; 3]);
        assert_eq!(g[1], [1.0, 0.0, 0.0]);
        assert!(g[2].iter().all(|v| v.is_nan()));
        assert_eq!(g[3], [0.0, 1.0, 0.0]);
        // Two `+inf` share the gradient; an empty set is `-inf`.
        let tape = Tape::new();
        let x = Tensor::from([inf, 0.0, inf]);
        let xt = tape.watch(&x);
        let g = xt.logsumexp().backward().get(&xt);
        assert_eq!(g.to_array(), [0.5, 0.0, 0.5]);
        assert_eq!(Tensor::<Rank1<0>, f64>::zeros().logsumexp().item(), -inf);
        assert_eq!(
            Tensor::<Rank2<2, 0>, f64>::zeros()
                .logsumexp_axis::<1>()
                .to_array(),
            [-inf; 2]
        );
    }

    #[test]
    fn gradient_literal() {
        // d logsumexp(x) / dx = softmax(x): at x = [0, ln 3] it is [1/4, 3/4].
        let x = Tensor::from([0.0, 3.0_f64.ln()]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.logsumexp().backward().get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([0.25, 0.75]), epsilon = 1e-15);
        // Along axis 0 of [[0, 0], [0, ln 3]] with dy = [2, 4]: column j gets dy_j softmax(col j).
        let x = Tensor::from([[0.0, 0.0], [0.0, 3.0_f64.ln()]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt
            .logsumexp_axis::<0>()
            .backward_with(&Tensor::from([2.0, 4.0]))
            .get(&xt);
        approx::assert_relative_eq!(g, Tensor::from([[1.0, 1.0], [1.0, 3.0]]), epsilon = 1e-15);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(71);
        let w0: Tensor<Rank2<3, 4>, f64> = random(72);
        let w1: Tensor<Rank2<2, 4>, f64> = random(73);
        let w2: Tensor<Rank3<2, 3, 1>, f64> = random(74);
        gradcheck(|x| (x.logsumexp_axis::<0>() * &w0).sum(), &x).unwrap();
        gradcheck(|x| (x.logsumexp_axis::<1>() * &w1).sum(), &x).unwrap();
        gradcheck(|x| (x.logsumexp_axis_keepdim::<2>() * &w2).sum(), &x).unwrap();
        gradcheck(|x| x.logsumexp(), &x).unwrap();
        let v: Tensor<Rank1<6>, f64> = random(75);
        gradcheck(|v| v.logsumexp_axis::<0>(), &v).unwrap();
        // used twice
        gradcheck(
            |x| (x.logsumexp_axis::<2>() * x.logsumexp_axis::<2>()).sum() + x.logsumexp(),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn used_twice_accumulates() {
        // f = logsumexp(x) + logsumexp(x) at x = [0, 0]: df/dx = 2 softmax(x) = [1, 1].
        let x = Tensor::from([0.0, 0.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.logsumexp() + xt.logsumexp()).backward();
        assert_eq!(g.get(&xt).to_array(), [1.0, 1.0]);
    }
}
