//! `max`: the largest element, of all elements or along one axis.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::{Element, Rank0, ReduceAxis, Shape, Tensor, Tracking};

/// Writes the maximum of `x` over the middle axis of `lanes` into `out` (the reduced buffer). A
/// NaN anywhere in a reduced set makes its maximum NaN; an empty set gives `-inf`.
pub(crate) fn max_middle<E: Element>(x: &[E], lanes: Lanes, out: &mut [E]) {
    if lanes.contiguous() {
        // The last axis: each maximum is over one contiguous run.
        for (m, run) in out.iter_mut().zip(lanes.runs()) {
            *m = max_slice(&x[run]);
        }
        return;
    }
    for (row, slices) in lanes.blocks() {
        let row = &mut out[row];
        row.fill(E::neg_infinity());
        for at in slices {
            for (m, &v) in row.iter_mut().zip(&x[at]) {
                // Once `m` is NaN, `v > m` is false, so NaN stays.
                if v > *m || v.is_nan() {
                    *m = v;
                }
            }
        }
    }
}

/// `m` or `v`, whichever is larger, NaN if either is (once `m` is NaN, `v > m` is false, so it stays).
#[inline]
fn max_nan<E: Element>(m: E, v: E) -> E {
    if v > m || v.is_nan() { v } else { m }
}

/// The maximum of a slice (`-inf` when empty, NaN when it holds a NaN), with eight running maxima so
/// that the comparisons do not wait on each other.
fn max_slice<E: Element>(x: &[E]) -> E {
    let mut lanes = [E::neg_infinity(); 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (m, &v) in lanes.iter_mut().zip(c) {
            *m = max_nan(*m, v);
        }
    }
    let m = lanes.into_iter().fold(E::neg_infinity(), max_nan);
    rest.iter().fold(m, |m, &v| max_nan(m, v))
}

/// Whether `v` is one of the elements that hold the maximum `m` (the NaNs, when `m` is NaN).
#[inline]
fn holds_max<E: Element>(v: E, m: E) -> bool {
    if m.is_nan() { v.is_nan() } else { v == m }
}

/// Adds the gradient of [`max_middle`] into `dx`: each output's gradient `dy` is split evenly among
/// the elements that hold the maximum `y`.
fn max_backward_middle<E: Element>(x: &[E], y: &[E], dy: &[E], lanes: Lanes, dx: &mut [E]) {
    if lanes.contiguous() {
        for ((&m, &g), run) in y.iter().zip(dy).zip(lanes.runs()) {
            let (src, dst) = (&x[run.clone()], &mut dx[run]);
            let count = src.iter().filter(|&&v| holds_max(v, m)).count();
            let share = g / E::from_f64_lossy(count as f64);
            for (d, &v) in dst.iter_mut().zip(src) {
                if holds_max(v, m) {
                    *d += share;
                }
            }
        }
        return;
    }
    let mut count = Buffer::zeros(lanes.inner);
    for (row, slices) in lanes.blocks() {
        let (ys, gs) = (&y[row.clone()], &dy[row]);
        count.fill(E::zero());
        for at in slices.clone() {
            for ((c, &v), &m) in count.iter_mut().zip(&x[at]).zip(ys) {
                if holds_max(v, m) {
                    *c += E::one();
                }
            }
        }
        for at in slices {
            let (src, dst) = (&x[at.clone()], &mut dx[at]);
            for ((((d, &v), &m), &g), &c) in dst.iter_mut().zip(src).zip(ys).zip(gs).zip(&count) {
                if holds_max(v, m) {
                    *d += g / c;
                }
            }
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The largest element, a scalar. PyTorch: `torch.amax(x)` (numpy: `x.max()`).
    ///
    /// Derivative: 1 at the maximum. When `k` elements tie for the maximum, each gets `1 / k` of the
    /// gradient (PyTorch's `amax` convention), so the gradient still sums to the output's.
    ///
    /// Edge values: a NaN anywhere makes the result NaN (as `torch.amax`; unlike `f64::max`, which
    /// skips NaN), and then the gradient is split evenly among the NaN elements, every other element
    /// getting 0, as `torch.max(x)` does; **`torch.amax` differs**: its gradient is NaN for every
    /// element then. `inf` and `-inf` are ordinary values, and `0` and `-0` tie: they share the
    /// gradient, and which of the two the result is is unspecified (as in PyTorch, which gives the
    /// first of two). The maximum of zero elements is `-inf`, the identity of `max`
    /// (**PyTorch and numpy raise an error**; ops here cannot fail, and `logsumexp` of nothing is
    /// `-inf` in PyTorch too).
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([[1.0, 5.0, 2.0], [5.0, -1.0, 0.0]]);
    /// assert_eq!(x.max().item(), 5.0);
    /// // the two 5s share the gradient
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let g = xt.max().backward();
    /// assert_eq!(g.get(&xt).to_array(), [[0.0, 0.5, 0.0], [0.5, 0.0, 0.0]]);
    /// assert!(Tensor::from([1.0, f64::NAN]).max().item().is_nan());
    /// ```
    #[must_use]
    pub fn max(&self) -> Tensor<Rank0, E, T> {
        self.max_impl(Rank0, Lanes::all(self.numel()))
    }

    /// The largest element along axis `AX`, which disappears from the shape.
    /// PyTorch: `torch.amax(x, dim=AX)` (numpy: `x.max(axis=AX)`).
    ///
    /// Derivative: 1 at each maximum, 0 elsewhere; ties split the gradient evenly (`1 / k` to each of
    /// the `k` tied elements, as `torch.amax`; `torch.max(x, dim)` gives it all to one of them).
    /// Naming an axis the shape does not have is a compile error.
    ///
    /// Edge values, per set along `AX`, as for [`max`](Tensor::max): a NaN makes that output NaN,
    /// and the output's gradient is split evenly among the NaN elements of that set (**PyTorch
    /// differs**: `torch.amax` gives the whole set a NaN gradient, `torch.max(x, dim)` gives it all
    /// to the first NaN). An axis of size 0 gives `-inf` (**PyTorch raises an error**).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 7.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.max_axis::<0>().to_array(), [4.0, 7.0, 6.0]);
    /// assert_eq!(t.max_axis::<1>().to_array(), [7.0, 6.0]);
    /// ```
    #[must_use]
    pub fn max_axis<const AX: usize>(&self) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        self.max_impl(shape.reduced(), Lanes::of::<AX, _>(&shape))
    }

    /// The largest element along axis `AX`, kept in the shape with size 1 (`keepdim=True` in
    /// PyTorch). Same derivative and edge cases as [`max_axis`](Tensor::max_axis).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 7.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.max_axis_keepdim::<1>().to_array(), [[7.0], [6.0]]);
    /// ```
    #[must_use]
    pub fn max_axis_keepdim<const AX: usize>(&self) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.max_axis::<AX>()
            .reshape_to(ReduceAxis::<AX>::kept(&self.typed_shape()))
    }

    /// The maximum over the middle axis of `lanes`, with shape `out` (`lanes.sets()` elements).
    fn max_impl<S2: Shape>(&self, out: S2, lanes: Lanes) -> Tensor<S2, E, T> {
        let mut y = Buffer::zeros(lanes.sets());
        max_middle(self.data(), lanes, &mut y);
        let y = Arc::new(y);
        let tape = self.tape().record([self.input()], lanes.sets(), |[node]| {
            let (x, y) = (Arc::clone(self.data()), Arc::clone(&y));
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                max_backward_middle(&x, &y, dy, lanes, dx);
            })
        });
        Tensor::from_parts(y, out, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn values_along_every_axis() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(60);
        let v = x.to_vec();
        let at = |a: usize, b: usize, c: usize, d: usize| v[((a * 3 + b) * 4 + c) * 5 + d];
        let m1 = x.max_axis::<1>();
        assert_eq!(
            m1[[1, 2, 3]],
            (0..3)
                .map(|b| at(1, b, 2, 3))
                .fold(f64::NEG_INFINITY, f64::max)
        );
        let m3 = x.max_axis::<3>();
        assert_eq!(
            m3[[0, 2, 1]],
            (0..5)
                .map(|d| at(0, 2, 1, d))
                .fold(f64::NEG_INFINITY, f64::max)
        );
        assert_eq!(x.max_axis_keepdim::<0>().shape(), [1, 3, 4, 5]);
        assert_eq!(
            x.max().item(),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        );
    }

    #[test]
    fn gradient_literal() {
        // f = sum(max_axis1(x) * [1, 10]): df/dx = w[i] at the row maximum, 0 elsewhere.
        let x = Tensor::from([[1.0, 3.0, 2.0], [-4.0, -5.0, -6.0]]);
        let w = Tensor::from([1.0, 10.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.max_axis::<1>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[0.0, 1.0, 0.0], [10.0, 0.0, 0.0]]);
    }

    #[test]
    fn ties_split_the_gradient_evenly() {
        // Column 0 has a three-way tie (1/3 each), column 1 a two-way tie (1/2 each).
        let x = Tensor::from([[2.0, 7.0], [2.0, 7.0], [2.0, 1.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.max_axis::<0>().sum().backward().get(&xt).to_array();
        let third = 1.0 / 3.0;
        assert_eq!(g, [[third, 0.5], [third, 0.5], [third, 0.0]]);
        // All equal: the gradient is uniform.
        let x = Tensor::from([4.0; 4]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.max().backward();
        assert_eq!(g.get(&xt).to_array(), [0.25; 4]);
    }

    #[test]
    fn nan_propagates_and_takes_the_gradient() {
        // Row 0 holds two NaNs: the result is NaN and the NaNs share the gradient; row 1 is normal.
        let x = Tensor::from([[f64::NAN, 9.0, f64::NAN], [1.0, 3.0, 2.0]]);
        let y = x.max_axis::<1>().to_array();
        assert!(y[0].is_nan());
        assert_eq!(y[1], 3.0);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.max_axis::<1>().backward_with(&Tensor::from([1.0, 1.0]));
        assert_eq!(g.get(&xt).to_array(), [[0.5, 0.0, 0.5], [0.0, 1.0, 0.0]]);
        // A NaN before or after the largest number gives NaN all the same.
        assert!(Tensor::from([f64::NAN, 1.0]).max().item().is_nan());
        assert!(Tensor::from([1.0, f64::NAN]).max().item().is_nan());
    }

    #[test]
    fn infinities_and_empty_sets() {
        let x = Tensor::from([[f64::NEG_INFINITY, f64::NEG_INFINITY], [1.0, f64::INFINITY]]);
        assert_eq!(
            x.max_axis::<1>().to_array(),
            [f64::NEG_INFINITY, f64::INFINITY]
        );
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.max_axis::<1>().sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[0.5, 0.5], [0.0, 1.0]]);
        assert_eq!(
            Tensor::<Rank1<0>, f32>::zeros().max().item(),
            f32::NEG_INFINITY
        );
        assert_eq!(
            Tensor::<Rank2<2, 0>, f32>::zeros()
                .max_axis::<1>()
                .to_array(),
            [f32::NEG_INFINITY; 2]
        );
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Random inputs have no ties, so max is differentiable there.
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(61);
        let w0: Tensor<Rank2<3, 4>, f64> = random(62);
        let w1: Tensor<Rank2<2, 4>, f64> = random(63);
        let w2: Tensor<Rank3<2, 3, 1>, f64> = random(64);
        gradcheck(|x| (x.max_axis::<0>() * &w0).sum(), &x).unwrap();
        gradcheck(|x| (x.max_axis::<1>() * &w1).sum(), &x).unwrap();
        gradcheck(|x| (x.max_axis_keepdim::<2>() * &w2).sum(), &x).unwrap();
        gradcheck(|x| x.max(), &x).unwrap();
        // used twice
        gradcheck(
            |x| (x.max_axis::<2>() * x.max_axis::<2>()).sum() + x.max(),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn used_twice_accumulates() {
        // f = max(x) * max(x) + sum(x): df/dx = 2 max(x) at the maximum, plus 1 everywhere.
        let x = Tensor::from([1.0, 3.0, 2.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.max() * xt.max() + xt.sum()).backward();
        assert_eq!(g.get(&xt).to_array(), [1.0, 7.0, 1.0]);
    }
}
