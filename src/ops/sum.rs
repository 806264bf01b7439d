//! `sum`: the sum of all elements, or along one axis.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::{Element, Rank0, ReduceAxis, Shape, Tensor, Tracking};

/// The sum of a slice: runs of 32 elements (16 for 8-byte elements) go into as many running partial
/// sums, folded into eight; the rest goes into the eight by runs of eight, and the eight are added as
/// a tree. Many partial sums are more accurate than one running sum, and their additions overlap
/// instead of waiting on each other, so that the compiler's vector code runs at the speed of the
/// loads. Below 32 elements it is the eight sums alone. The order of the additions depends only on the
/// length, so a slice always sums to the same bits.
pub(crate) fn sum_slice<E: Element>(x: &[E]) -> E {
    if size_of::<E>() >= 8 {
        sum_runs::<E, 16>(x)
    } else {
        sum_runs::<E, 32>(x)
    }
}

/// [`sum_slice`] with runs of `L` elements (a multiple of 8).
#[inline]
fn sum_runs<E: Element, const L: usize>(x: &[E]) -> E {
    let mut acc = [E::zero(); 8];
    let (runs, x) = x.as_chunks::<L>();
    if !runs.is_empty() {
        let mut wide = [E::zero(); L];
        for c in runs {
            for (a, &v) in wide.iter_mut().zip(c) {
                *a += v;
            }
        }
        for (k, a) in acc.iter_mut().enumerate() {
            *a = wide[k..].iter().step_by(8).fold(E::zero(), |s, &v| s + v);
        }
    }
    let (chunks, rest) = x.as_chunks::<8>();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let mut total =
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for &v in rest {
        total += v;
    }
    total
}

/// Sums `x` over the middle axis of `lanes` into `out` (the reduced buffer).
pub(crate) fn sum_middle<E: Element>(x: &[E], lanes: Lanes, out: &mut [E]) {
    if lanes.contiguous() {
        // Each output is the sum of one contiguous run.
        for (o, run) in out.iter_mut().zip(lanes.runs()) {
            *o = sum_slice(&x[run]);
        }
        return;
    }
    for (row, slices) in lanes.blocks() {
        let row = &mut out[row];
        row.fill(E::zero());
        // Four slices per pass over the row, added one after the other as in a pass per slice (the
        // same sums to the last bit), so that the row is loaded and stored a quarter as often.
        let fours = slices.clone().count() / 4;
        let mut slices = slices.map(|at| &x[at]);
        for _ in 0..fours {
            let mut next = || slices.next().expect("counted");
            let (a, b, c, d) = (next(), next(), next(), next());
            for ((((r, &va), &vb), &vc), &vd) in row.iter_mut().zip(a).zip(b).zip(c).zip(d) {
                *r = *r + va + vb + vc + vd;
            }
        }
        for at in slices {
            for (r, &v) in row.iter_mut().zip(at) {
                *r += v;
            }
        }
    }
}

/// Adds `dy` (the reduced buffer) to every slice of `dx` along the middle axis of `lanes`.
pub(crate) fn spread_middle<E: Element>(dy: &[E], lanes: Lanes, dx: &mut [E]) {
    if lanes.contiguous() {
        for (&g, run) in dy.iter().zip(lanes.runs()) {
            for d in &mut dx[run] {
                *d += g;
            }
        }
        return;
    }
    for (row, slices) in lanes.blocks() {
        let g = &dy[row];
        for at in slices {
            for (d, &v) in dx[at].iter_mut().zip(g) {
                *d += v;
            }
        }
    }
}

crate::ops::wide! {
    /// Writes (`fresh`: `dx` holds no gradient yet) or adds `g` into every element of `dx`: the
    /// backward of [`sum`](Tensor::sum), with the vector stores from `dx`'s first 64-byte boundary.
    fn spread_scalar<E: Element>(dx: &mut [E], fresh: bool, g: E) {
        let (head, rest) = dx.split_at_mut(crate::ops::to_line(dx));
        for part in [head, rest] {
            if fresh {
                part.fill(g);
            } else {
                for d in part {
                    *d += g;
                }
            }
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The sum of all elements, a scalar. Derivative: 1 for every element. PyTorch: `x.sum()`.
    ///
    /// Edge values, IEEE as in PyTorch: the sum of zero elements is 0, `inf + -inf` is NaN, a NaN
    /// gives NaN; the derivative is 1 whatever the values. The additions run in up to 32 interleaved
    /// partial sums (16 for `f64`), so the last bits may differ from a sum taken in another order;
    /// the order depends only on the number of elements, so the same values always give the same
    /// bits.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.sum().item(), 21.0);
    /// ```
    #[must_use]
    pub fn sum(&self) -> Tensor<Rank0, E, T> {
        let y = Arc::new(Buffer::full(1, sum_slice(self.data())));
        let tape = self.tape().record([self.input()], 1, |[node]| {
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                let (dx, fresh) = grads.acc_fresh(node);
                spread_scalar(dx, fresh, dy[0]);
            })
        });
        Tensor::from_parts(y, Rank0, tape)
    }

    /// The sum along axis `AX`, which disappears from the shape. Derivative: 1 for every element,
    /// so the gradient is the output's gradient repeated along `AX`. PyTorch: `x.sum(dim=AX)`.
    ///
    /// Naming an axis the shape does not have is a compile error.
    ///
    /// Edge values, as PyTorch: along an axis of size 0 every sum is 0 (`[2, 0]` summed along axis 1
    /// is `[0, 0]`); infinities of both signs give NaN, a NaN gives NaN.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.sum_axis::<0>().to_array(), [5.0, 7.0, 9.0]);
    /// assert_eq!(t.sum_axis::<1>().to_array(), [6.0, 15.0]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let _ = t.sum_axis::<2>(); // a matrix has axes 0 and 1
    /// ```
    #[must_use]
    pub fn sum_axis<const AX: usize>(&self) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        let lanes = Lanes::of::<AX, _>(&shape);
        let mut y = Buffer::zeros(lanes.sets());
        sum_middle(self.data(), lanes, &mut y);
        let tape = self.tape().record([self.input()], lanes.sets(), |[node]| {
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                spread_middle(dy, lanes, dx);
            })
        });
        Tensor::from_parts(Arc::new(y), shape.reduced(), tape)
    }

    /// The sum along axis `AX`, kept in the shape with size 1 (`keepdim=True` in PyTorch).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.sum_axis_keepdim::<1>().to_array(), [[6.0], [15.0]]);
    /// ```
    #[must_use]
    pub fn sum_axis_keepdim<const AX: usize>(&self) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.sum_axis::<AX>()
            .reshape_to(ReduceAxis::<AX>::kept(&self.typed_shape()))
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn sum_axis_0_adds_the_rows() {
        // The sum over axis 0 adds the rows, column by column: [[1, 2, 3], [4, 5, 6]] gives
        // [5, 7, 9], and [[1, 2, 3], [4, 5, 6], [7, 8, 9]] gives [12, 15, 18].
        let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(a.sum_axis::<0>().to_array(), [5.0, 7.0, 9.0]);
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
        assert_eq!(x.sum_axis::<0>().to_array(), [12.0, 15.0, 18.0]);
    }

    #[test]
    fn every_element_is_summed_once_across_the_runs() {
        // 1 + 2 + ... + n = n (n + 1) / 2, exact in floats at these sizes: lengths around the runs of
        // 32 (f32) and 16 (f64) and the eight partial sums, so each element lands in one sum once.
        for n in 0..200_usize {
            let want = (n * (n + 1) / 2) as f64;
            let x: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            assert_eq!(super::sum_slice(&x), want, "f64, n = {n}");
            let x: Vec<f32> = (1..=n).map(|i| i as f32).collect();
            assert_eq!(f64::from(super::sum_slice(&x)), want, "f32, n = {n}");
        }
        // Below 32 elements the order is the eight partial sums alone: 0.1 * 24 in f32 as three
        // rounds of eight, then the tree.
        let x = [0.1_f32; 24];
        let lane = (0.1_f32 + 0.1) + 0.1;
        let quarter = lane + lane;
        assert_eq!(
            super::sum_slice(&x),
            (quarter + quarter) + (quarter + quarter)
        );
    }

    #[test]
    fn an_axis_of_four_slices_and_a_remainder() {
        // Six rows: one pass over four of them, then two alone. Column sums of 1..=18 in rows of 3:
        // 1 + 4 + 7 + 10 + 13 + 16 = 51, then 57 and 63. The same order of additions as one row at
        // a time, to the last bit: rows of 0.1 sum to ((((0.1 + 0.1) + 0.1) + 0.1) + 0.1) + 0.1.
        let x = Tensor::<Rank2<6, 3>, f64>::from_fn(|[i, j]| (i * 3 + j + 1) as f64);
        assert_eq!(x.sum_axis::<0>().to_array(), [51.0, 57.0, 63.0]);
        let tenth = Tensor::<Rank2<6, 3>, f64>::full(0.1);
        let one_by_one = (0..6).fold(0.0, |s, _| s + 0.1);
        assert_eq!(tenth.sum_axis::<0>().to_array(), [one_by_one; 3]);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(sum_axis0(x) * [1, 10, 100]): df/dx[i][j] = w[j], the out_grad spread back over the
        // summed axis (as a (1, 3) broadcast down the rows, not a (3, 1) one across the columns).
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
        let w = Tensor::from([1.0, 10.0, 100.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.sum_axis::<0>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[1.0, 10.0, 100.0]; 3]);
    }

    #[test]
    fn every_axis_of_a_rank4_tensor() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(10);
        let v = x.to_vec();
        let at = |a: usize, b: usize, c: usize, d: usize| v[((a * 3 + b) * 4 + c) * 5 + d];
        let s1 = x.sum_axis::<1>();
        assert_eq!(s1.shape(), [2, 4, 5]);
        approx::assert_relative_eq!(
            s1[[1, 2, 3]],
            (0..3).map(|b| at(1, b, 2, 3)).sum::<f64>(),
            epsilon = 1e-12
        );
        let s3 = x.sum_axis::<3>();
        approx::assert_relative_eq!(
            s3[[1, 2, 0]],
            (0..5).map(|d| at(1, 2, 0, d)).sum::<f64>(),
            epsilon = 1e-12
        );
        assert_eq!(x.sum_axis_keepdim::<2>().shape(), [2, 3, 1, 5]);
        approx::assert_relative_eq!(x.sum().item(), v.iter().sum::<f64>(), epsilon = 1e-12);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(11);
        let w0: Tensor<Rank2<3, 4>, f64> = random(12);
        let w1: Tensor<Rank2<2, 4>, f64> = random(13);
        let w2: Tensor<Rank3<2, 3, 1>, f64> = random(14);
        gradcheck(|x| (x.sum_axis::<0>() * &w0).sum(), &x).unwrap();
        gradcheck(|x| (x.sum_axis::<1>() * &w1).sum(), &x).unwrap();
        gradcheck(|x| (x.sum_axis_keepdim::<2>() * &w2).sum(), &x).unwrap();
        // used twice
        gradcheck(
            |x| (x.sum_axis::<0>() * x.sum_axis::<0>()).sum() + x.sum(),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn pairwise_sum_is_exact_on_integers() {
        let x = Tensor::<Rank1<1001>>::from_fn(|[i]| i as f32);
        assert_eq!(x.sum().item(), 500_500.0);
    }
}
