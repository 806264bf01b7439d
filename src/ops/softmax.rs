//! `softmax` and `log_softmax` along one axis, computed stably through the maximum.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::ops::max::max_middle;
use crate::{Element, ReduceAxis, Shape, Tensor, Tracking};

/// The softmax of `x` along the middle axis of `lanes`, into `w` (same layout), and each set's
/// log-sum-exp into `lse` (the reduced buffer).
///
/// Stable: each set is shifted by its maximum `m` before `exp`, so `lse = m + ln(sum(exp(x - m)))`
/// is finite for finite inputs of any size. Sets whose maximum is not finite follow fixed rules:
/// - `m` NaN (a NaN in the set): every weight and `lse` are NaN;
/// - `m = -inf` (every element `-inf`, or an empty set): every weight is 0 and `lse = -inf`;
/// - `m = +inf`: the `k` elements equal to `+inf` get weight `1 / k` (the limit of softmax as they
///   grow together), the others 0, and `lse = +inf`.
pub(crate) fn softmax_middle<E: Element>(x: &[E], lanes: Lanes, w: &mut [E], lse: &mut [E]) {
    if lanes.contiguous() {
        // The last axis: each set is one contiguous run, and all go through the row kernel at once.
        E::softmax_rows(x, lanes.len, w, lse);
        for (&m, run) in lse.iter().zip(lanes.runs()) {
            if !m.is_finite() {
                let (src, dst) = (&x[run.clone()], &mut w[run]);
                let mut s = E::zero();
                for (e, &v) in dst.iter_mut().zip(src) {
                    *e = limit_weight(v, m);
                    s += *e;
                }
                if s != E::zero() {
                    E::scale(dst, s.recip());
                }
            }
        }
        return;
    }
    max_middle(x, lanes, lse);
    let mut total = Buffer::zeros(lanes.inner);
    for (row, slices) in lanes.blocks() {
        let m = &mut lse[row];
        total.fill(E::zero());
        for at in slices.clone() {
            let (src, dst) = (&x[at.clone()], &mut w[at]);
            for (((e, &v), &mi), s) in dst.iter_mut().zip(src).zip(m.iter()).zip(&mut total) {
                *e = if mi.is_finite() {
                    (v - mi).exp()
                } else {
                    limit_weight(v, mi)
                };
                *s += *e;
            }
        }
        for at in slices {
            for (e, &s) in w[at].iter_mut().zip(&total) {
                // s is 0 only for the all `-inf` sets, whose weights stay 0.
                if s != E::zero() {
                    *e /= s;
                }
            }
        }
        for (mi, &s) in m.iter_mut().zip(&total) {
            if mi.is_finite() {
                *mi += s.ln();
            }
        }
    }
}

/// The unnormalised weight of `v` in a set whose maximum `m` is not finite: NaN for a NaN maximum,
/// 1 for each `+inf` when the maximum is `+inf`, 0 otherwise.
#[inline]
fn limit_weight<E: Element>(v: E, m: E) -> E {
    if m.is_nan() {
        E::nan()
    } else if m > E::zero() && v == m {
        E::one()
    } else {
        E::zero()
    }
}

/// The sum of `a * b` (both full buffers) over the middle axis of `lanes`, into `out` (the reduced
/// buffer).
fn dot_middle<E: Element>(a: &[E], b: &[E], lanes: Lanes, out: &mut [E]) {
    if lanes.contiguous() {
        for (r, run) in out.iter_mut().zip(lanes.runs()) {
            *r = a[run.clone()]
                .iter()
                .zip(&b[run])
                .map(|(&u, &v)| u * v)
                .sum();
        }
        return;
    }
    for (row, slices) in lanes.blocks() {
        let row = &mut out[row];
        row.fill(E::zero());
        for at in slices {
            for ((r, &u), &v) in row.iter_mut().zip(&a[at.clone()]).zip(&b[at]) {
                *r += u * v;
            }
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The softmax along axis `AX`: `y = exp(x - m) / sum_AX(exp(x - m))` with `m` the maximum along
    /// `AX`, so each set along `AX` is positive and sums to 1. The shape does not change.
    ///
    /// Derivative (applied directly): `dx = y * (dy - sum_AX(dy * y))`.
    ///
    /// PyTorch: `torch.softmax(x, dim=AX)`. Stable: subtracting the maximum keeps inputs such as
    /// `±1000` finite.
    ///
    /// Edge values: a NaN in a set makes that whole set NaN, as in PyTorch. A set of all `-inf` gives
    /// zeros and a zero gradient, so a fully masked row contributes nothing (**PyTorch gives NaN**,
    /// values and gradients); `+inf` elements share the weight 1 evenly, the limit as they grow
    /// together (**PyTorch gives NaN** for the whole set). An axis of size 0 gives an empty result.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]]);
    /// let y = x.softmax::<1>().to_array();
    /// let e = [1.0_f64.exp(), 2.0_f64.exp(), 3.0_f64.exp()];
    /// let s = e[0] + e[1] + e[2];
    /// approx::assert_relative_eq!(y[0][2], e[2] / s, epsilon = 1e-15);
    /// assert_eq!(y[1], [0.5, 0.5, 0.0]);
    /// ```
    #[must_use]
    pub fn softmax<const AX: usize>(&self) -> Self
    where
        S: ReduceAxis<AX>,
    {
        let lanes = Lanes::of::<AX, _>(&self.typed_shape());
        let n = self.numel();
        let mut w = Buffer::uninit(n);
        let mut lse = Buffer::uninit(lanes.sets());
        softmax_middle(self.data(), lanes, &mut w, &mut lse);
        let y = Arc::new(w);
        let tape = self.tape().record([self.input()], n, |[node]| {
            let y = Arc::clone(&y);
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                if lanes.contiguous() {
                    let (dx, fresh) = grads.acc_fresh(node);
                    for at in lanes.runs() {
                        let (ys, gs) = (&y[at.clone()], &dy[at.clone()]);
                        let t = E::dot(gs, ys);
                        E::softmax_backward_row(ys, gs, t, &mut dx[at], !fresh);
                    }
                    return;
                }
                let mut t = Buffer::zeros(lanes.sets());
                dot_middle(dy, &y, lanes, &mut t);
                let dx = grads.acc(node);
                for (row, slices) in lanes.blocks() {
                    let ts = &t[row];
                    for at in slices {
                        let (ys, gs) = (&y[at.clone()], &dy[at.clone()]);
                        for (((d, &yv), &g), &tv) in dx[at].iter_mut().zip(ys).zip(gs).zip(ts) {
                            *d += yv * (g - tv);
                        }
                    }
                }
            })
        });
        Tensor::from_parts(y, self.typed_shape(), tape)
    }

    /// The logarithm of the softmax along axis `AX`: `y = x - logsumexp_AX(x)`, computed directly
    /// (more accurate than `softmax` followed by `ln`, and finite where the softmax underflows to 0).
    /// The shape does not change.
    ///
    /// Derivative (applied directly): `dx = dy - softmax(x) * sum_AX(dy)`.
    ///
    /// PyTorch: `torch.log_softmax(x, dim=AX)`. Stable for inputs such as `±1000`.
    ///
    /// Edge values follow [`softmax`](Tensor::softmax): a NaN in a set makes that set NaN (as
    /// PyTorch); a set of all `-inf` gives `-inf` (the log of the zeros `softmax` gives) and passes the
    /// gradient through unchanged (`dx = dy`, the formula with softmax 0; **PyTorch gives NaN**); `k`
    /// elements at `+inf` give `-ln k` there and `-inf` elsewhere (**PyTorch gives NaN**).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[0.0, 0.0], [1000.0, -1000.0]]);
    /// let y = x.log_softmax::<1>().to_array();
    /// assert_eq!(y[0], [-(2.0_f64.ln()), -(2.0_f64.ln())]);
    /// assert_eq!(y[1], [0.0, -2000.0]);
    /// ```
    #[must_use]
    pub fn log_softmax<const AX: usize>(&self) -> Self
    where
        S: ReduceAxis<AX>,
    {
        let lanes = Lanes::of::<AX, _>(&self.typed_shape());
        let x = self.data();
        let n = self.numel();
        let mut y = Buffer::uninit(n);
        if lanes.contiguous() {
            // Row by row: y = x - lse, with the weights only in a scratch row for their sum.
            let mut row = Buffer::uninit(lanes.len);
            for at in lanes.runs() {
                let (xs, ys) = (&x[at.clone()], &mut y[at]);
                let m = E::max_of(xs);
                if m.is_finite() {
                    let s = E::exp_sub_sum(xs, m, &mut row);
                    E::sub_scalar(xs, m + s.ln(), ys);
                } else {
                    // The limits of softmax_middle; their logarithms.
                    let mut lse = [m];
                    softmax_middle(xs, Lanes::all(lanes.len), &mut row, &mut lse);
                    for (out, &wv) in ys.iter_mut().zip(row.iter()) {
                        *out = wv.ln();
                    }
                }
            }
        } else {
            let mut w = Buffer::uninit(n);
            let mut lse = Buffer::uninit(lanes.sets());
            softmax_middle(x, lanes, &mut w, &mut lse);
            for (row, slices) in lanes.blocks() {
                let ls = &lse[row];
                for at in slices {
                    let (xs, ws) = (&x[at.clone()], &w[at.clone()]);
                    for (((out, &xv), &wv), &lv) in y[at].iter_mut().zip(xs).zip(ws).zip(ls) {
                        *out = if lv.is_finite() { xv - lv } else { wv.ln() };
                    }
                }
            }
        }
        let y = Arc::new(y);
        let tape = self.tape().record([self.input()], n, |[node]| {
            let y = Arc::clone(&y);
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient. The softmax
                // weights are e^y.
                let Some(node) = node else { return };
                if lanes.contiguous() {
                    let (dx, fresh) = grads.acc_fresh(node);
                    for at in lanes.runs() {
                        let (ys, gs) = (&y[at.clone()], &dy[at.clone()]);
                        let t = E::sum_of(gs);
                        E::log_softmax_backward_row(ys, gs, t, &mut dx[at], !fresh);
                    }
                    return;
                }
                let mut w = Buffer::uninit(n);
                E::exp_into(&y, &mut w);
                let mut t = Buffer::zeros(lanes.sets());
                crate::ops::sum::sum_middle(dy, lanes, &mut t);
                let dx = grads.acc(node);
                for (row, slices) in lanes.blocks() {
                    let ts = &t[row];
                    for at in slices {
                        let (ws, gs) = (&w[at.clone()], &dy[at.clone()]);
                        for (((d, &wv), &g), &tv) in dx[at].iter_mut().zip(ws).zip(gs).zip(ts) {
                            *d += g - wv * tv;
                        }
                    }
                }
            })
        });
        Tensor::from_parts(y, self.typed_shape(), tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn rows_sum_to_one_and_match_the_definition() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(80);
        let y = x.softmax::<1>();
        let e = x.exp();
        let want = Tensor::<Rank3<2, 3, 4>, f64>::from_fn(|[a, b, c]| {
            e[[a, b, c]] / (0..3).map(|k| e[[a, k, c]]).sum::<f64>()
        });
        approx::assert_relative_eq!(y, want, epsilon = 1e-15);
        let sums = y.sum_axis::<1>();
        approx::assert_relative_eq!(sums, Tensor::ones(), epsilon = 1e-15);
        let lw = x.log_softmax::<1>();
        let want_log = want.map(f64::ln);
        approx::assert_relative_eq!(lw, want_log, epsilon = 1e-14);
    }

    #[test]
    fn large_inputs_stay_finite() {
        // ±1000 would overflow exp without the shift by the maximum, in f32 and f64.
        let x = Tensor::from([[1000.0_f32, 999.0, -1000.0], [-1000.0, -1001.0, -1000.0]]);
        let y = x.softmax::<1>().to_array();
        let (a, b) = (1.0 / (1.0 + (-1.0_f32).exp()), 1.0 / (1.0 + 1.0_f32.exp()));
        approx::assert_relative_eq!(y[0][0], a, epsilon = 1e-6);
        approx::assert_relative_eq!(y[0][1], b, epsilon = 1e-6);
        assert_eq!(y[0][2], 0.0);
        let s1: f32 = y[1].iter().sum();
        approx::assert_relative_eq!(s1, 1.0, epsilon = 1e-6);
        let ly = x.log_softmax::<1>().to_array();
        assert!(ly.iter().flatten().all(|v| v.is_finite()));
        // log_softmax = x - lse with lse = 1000 + ln(1 + e^-1) = 1000 - ln(a) in row 0, and
        // -1000 + ln(2 + e^-1) in row 1 (f32 near 1000 is exact to about 1e-4).
        approx::assert_relative_eq!(ly[0][0], a.ln(), epsilon = 1e-4);
        approx::assert_relative_eq!(ly[0][2], -2000.0 + a.ln(), epsilon = 1e-3);
        approx::assert_relative_eq!(ly[1][0], -(2.0 + (-1.0_f32).exp()).ln(), epsilon = 1e-4);
    }

    #[test]
    fn edge_values() {
        let inf = f64::INFINITY;
        let x = Tensor::from([
            [-inf, -inf, -inf],
            [1.0, f64::NAN, 2.0],
            [inf, 0.0, inf],
            [-inf, 0.0, -inf],
        ]);
        let y = x.softmax::<1>().to_array();
        assert_eq!(y[0], [0.0; 3]);
        assert!(y[1].iter().all(|v| v.is_nan()));
        assert_eq!(y[2], [0.5, 0.0, 0.5]);
        assert_eq!(y[3], [0.0, 1.0, 0.0]);
        let ly = x.log_softmax::<1>().to_array();
        assert_eq!(ly[0], [-inf; 3]);
        assert!(ly[1].iter().all(|v| v.is_nan()));
        assert_eq!(ly[2], [-(2.0_f64.ln()), -inf, -(2.0_f64.ln())]);
        assert_eq!(ly[3], [-inf, 0.0, -inf]);

        // Gradients: zero for softmax on the all `-inf` row, `dy` itself for log_softmax there; NaN
        // only in the NaN row.
        let dy = Tensor::from([[1.0, 2.0, 3.0]; 4]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.softmax::<1>().backward_with(&dy).get(&xt);
        let g = g.to_array();
        assert_eq!(g[0], [0.0; 3]);
        assert!(g[1].iter().all(|v| v.is_nan()));
        // row 2: y = [1/2, 0, 1/2], sum(dy y) = 2: dx = [1/2 (1 - 2), 0, 1/2 (3 - 2)]
        assert_eq!(g[2], [-0.5, 0.0, 0.5]);
        assert_eq!(g[3], [0.0; 3]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.log_softmax::<1>().backward_with(&dy).get(&xt);
        let g = g.to_array();
        assert_eq!(g[0], [1.0, 2.0, 3.0]);
        assert!(g[1].iter().all(|v| v.is_nan()));
        // row 2: dx = dy - [1/2, 0, 1/2] * 6
        assert_eq!(g[2], [-2.0, 2.0, 0.0]);
        // row 3: dx = dy - [0, 1, 0] * 6
        assert_eq!(g[3], [1.0, -4.0, 3.0]);
    }

    #[test]
    fn gradient_literal() {
        // softmax of [0, 0] is [1/2, 1/2]; with dy = [1, 0]: dx = y (dy - sum(dy y)) = [1/4, -1/4].
        let x = Tensor::from([0.0, 0.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.softmax::<0>().backward_with(&Tensor::from([1.0, 0.0]));
        assert_eq!(g.get(&xt).to_array(), [0.25, -0.25]);
        // log_softmax of [0, 0, 0, 0] with dy = [1, 2, 3, 2]: dx = dy - 1/4 * 8 = [-1, 0, 1, 0].
        let x = Tensor::from([0.0; 4]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt
            .log_softmax::<0>()
            .backward_with(&Tensor::from([1.0, 2.0, 3.0, 2.0]));
        assert_eq!(g.get(&xt).to_array(), [-1.0, 0.0, 1.0, 0.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(81);
        let w: Tensor<Rank3<2, 3, 4>, f64> = random(82);
        gradcheck(|x| (x.softmax::<0>() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.softmax::<1>() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.softmax::<2>() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.log_softmax::<0>() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.log_softmax::<1>() * &w).sum(), &x).unwrap();
        gradcheck(|x| (x.log_softmax::<2>() * &w).sum(), &x).unwrap();
        let v: Tensor<Rank1<5>, f64> = random(83);
        let wv: Tensor<Rank1<5>, f64> = random(84);
        gradcheck(|v| (v.softmax::<0>() * &wv).sum(), &v).unwrap();
        let x4: Tensor<Rank4<2, 2, 3, 2>, f64> = random(85);
        let w4: Tensor<Rank4<2, 2, 3, 2>, f64> = random(86);
        gradcheck(|x| (x.log_softmax::<2>().exp() * &w4).sum(), &x4).unwrap();
        // used twice
        gradcheck(
            |x| {
                (x.softmax::<2>() * x.log_softmax::<2>() * &w).sum() + (x.softmax::<0>() * &x).sum()
            },
            &x,
        )
        .unwrap();
    }

    #[test]
    fn used_twice_accumulates() {
        // f = sum(softmax(x) * [1, 0]) + sum(log_softmax(x) * [0, 1]) at x = [0, 0]:
        // d/dx of the first is [1/4, -1/4], of the second dy - y sum(dy) = [-1/2, 1/2].
        let x = Tensor::from([0.0, 0.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let f = (xt.softmax::<0>() * &Tensor::from([1.0, 0.0])).sum()
            + (xt.log_softmax::<0>() * &Tensor::from([0.0, 1.0])).sum();
        assert_eq!(f.backward().get(&xt).to_array(), [-0.25, 0.25]);
    }
}
