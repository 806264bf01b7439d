//! `mean`: the arithmetic mean of all elements, or along one axis.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::ops::sum::{spread_middle, sum_middle, sum_slice};
use crate::{Element, Rank0, ReduceAxis, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The mean of all elements, a scalar: `sum(x) / n` with `n` the number of elements.
    /// Derivative: `1 / n` for every element. PyTorch: `x.mean()`.
    ///
    /// Edge values, as PyTorch and numpy: the mean of zero elements is NaN (`0 / 0`); `inf` and
    /// `-inf` together give NaN, a NaN gives NaN. The derivative is `1 / n` whatever the values.
    ///
    /// ```
    /// use shaped::{Rank2, Tensor};
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.mean().item(), 3.5);
    /// assert!(Tensor::<Rank2<0, 3>>::zeros().mean().item().is_nan());
    /// ```
    #[must_use]
    pub fn mean(&self) -> Tensor<Rank0, E, T> {
        let n = E::from_f64_lossy(self.numel() as f64);
        let y = Arc::new(Buffer::full(1, sum_slice(self.data()) / n));
        let tape = self.tape().record([self.input()], 1, |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let g = dy[0] / n;
                for d in grads.acc(node) {
                    *d += g;
                }
            })
        });
        Tensor::from_parts(y, Rank0, tape)
    }

    /// The mean along axis `AX`, which disappears from the shape: `sum_axis::<AX>() / n` with `n` the
    /// size of axis `AX`. Derivative: `1 / n` for every element, so the gradient is the output's
    /// gradient divided by `n` and repeated along `AX`. PyTorch: `x.mean(dim=AX)`.
    ///
    /// Edge values, as PyTorch: an axis of size 0 gives NaN means (`0 / 0`); infinities of both signs
    /// give NaN, a NaN gives NaN. Naming an axis the shape does not have is a compile error.
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.mean_axis::<0>().to_array(), [2.5, 3.5, 4.5]);
    /// assert_eq!(t.mean_axis::<1>().to_array(), [2.0, 5.0]);
    /// ```
    #[must_use]
    pub fn mean_axis<const AX: usize>(&self) -> Tensor<S::Reduced, E, T>
    where
        S: ReduceAxis<AX>,
    {
        let shape = self.typed_shape();
        let lanes = Lanes::of::<AX, _>(&shape);
        let n = E::from_f64_lossy(lanes.len as f64);
        let mut y = Buffer::zeros(lanes.sets());
        sum_middle(self.data(), lanes, &mut y);
        for v in &mut y {
            *v /= n;
        }
        let tape = self.tape().record([self.input()], lanes.sets(), |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                let scaled: Vec<E> = dy.iter().map(|&g| g / n).collect();
                spread_middle(&scaled, lanes, dx);
            })
        });
        Tensor::from_parts(Arc::new(y), shape.reduced(), tape)
    }

    /// The mean along axis `AX`, kept in the shape with size 1 (`keepdim=True` in PyTorch).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(t.mean_axis_keepdim::<1>().to_array(), [[2.0], [5.0]]);
    /// ```
    #[must_use]
    pub fn mean_axis_keepdim<const AX: usize>(&self) -> Tensor<S::KeepDim, E, T>
    where
        S: ReduceAxis<AX>,
    {
        self.mean_axis::<AX>()
            .reshape_to(ReduceAxis::<AX>::kept(&self.typed_shape()))
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn values() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]);
        assert_eq!(x.mean().item(), 5.0);
        assert_eq!(x.mean_axis::<0>().to_array(), [4.0, 5.0, 6.0]);
        assert_eq!(x.mean_axis::<1>().to_array(), [2.0, 5.0, 8.0]);
        assert_eq!(x.mean_axis_keepdim::<0>().to_array(), [[4.0, 5.0, 6.0]]);
        let y: Tensor<Rank4<2, 3, 4, 5>, f64> = random(50);
        let m = y.mean_axis::<2>();
        let want = y.sum_axis::<2>() * 0.25;
        approx::assert_relative_eq!(m, want, epsilon = 1e-15);
    }

    #[test]
    fn zero_elements_give_nan() {
        assert!(Tensor::<Rank1<0>, f64>::zeros().mean().item().is_nan());
        let m = Tensor::<Rank2<2, 0>, f64>::zeros().mean_axis::<1>();
        assert!(m.as_slice().iter().all(|v| v.is_nan()));
        // Along the other axis there is nothing to average and nothing to return.
        assert_eq!(
            Tensor::<Rank2<2, 0>, f64>::zeros().mean_axis::<0>().numel(),
            0
        );
    }

    #[test]
    fn nan_and_inf_propagate() {
        let x = Tensor::from([[1.0, f64::NAN], [f64::INFINITY, 2.0]]);
        let r = x.mean_axis::<1>().to_array();
        assert!(r[0].is_nan());
        assert_eq!(r[1], f64::INFINITY);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(mean_axis1(x) * [1, 10]) + mean(x) for a 2x4 x: df/dx[i][j] = w[i] / 4 + 1 / 8.
        let x = Tensor::from([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
        let w = Tensor::from([1.0, 10.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = ((xt.mean_axis::<1>() * &w).sum() + xt.mean()).backward();
        assert_eq!(g.get(&xt).to_array(), [[0.375; 4], [2.625; 4]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(51);
        let w0: Tensor<Rank2<3, 4>, f64> = random(52);
        let w1: Tensor<Rank2<2, 4>, f64> = random(53);
        let w2: Tensor<Rank3<2, 3, 1>, f64> = random(54);
        gradcheck(|x| (x.mean_axis::<0>() * &w0).sum(), &x).unwrap();
        gradcheck(|x| (x.mean_axis::<1>() * &w1).sum(), &x).unwrap();
        gradcheck(|x| (x.mean_axis_keepdim::<2>() * &w2).sum(), &x).unwrap();
        gradcheck(|x| x.exp().mean(), &x).unwrap();
        // used twice
        gradcheck(
            |x| (x.mean_axis::<1>() * x.mean_axis::<1>()).sum() + x.mean(),
            &x,
        )
        .unwrap();
        let v: Tensor<Rank1<5>, f64> = random(55);
        gradcheck(|v| v.mean_axis::<0>() * v.mean(), &v).unwrap();
    }
}
