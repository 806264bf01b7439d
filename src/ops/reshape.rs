//! `reshape`: the same elements, in the same order, seen with another shape.

use std::sync::Arc;

use crate::const_msg::ConstMsg;
use crate::{Element, Shape, Tensor, Tracking};

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The same elements in the same row-major order, with shape `S2`. No data is copied, and on a
    /// tape nothing is recorded: the result is the same value, so its gradient is the input's.
    /// Derivative: the identity (the gradient is reshaped back). PyTorch: `torch.reshape`.
    ///
    /// The element count must not change. Between static shapes that rule is a `const` assertion, so
    /// it is reported by `cargo build` (and `cargo test`), not by `cargo check`: stable Rust cannot
    /// compare products of dimensions in a trait bound. A target with one run-time dimension gets it
    /// from the element count, as `-1` in PyTorch: `reshape::<(usize, Const<784>)>()`.
    ///
    /// # Panics
    /// When a shape has run-time dimensions and the counts differ, or the target's run-time
    /// dimension does not divide the count, or the target has more than one run-time dimension
    /// (give its sizes with [`reshape_to`](Tensor::reshape_to)). The message names both shapes.
    ///
    /// Edge values: none are computed, so NaN, infinities and the sign of zero come through bit for
    /// bit, and so do their gradients. Zero-sized shapes reshape to any other shape of zero elements.
    ///
    /// ```
    /// use shaped::{Const, Rank2, Rank3, Tensor};
    /// let t = Tensor::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// let m = t.reshape::<Rank2<2, 3>>();
    /// assert_eq!(m.to_array(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.reshape::<Rank3<3, 1, 2>>().to_array(), [[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]]);
    /// // The number of rows of 2 follows from the element count.
    /// assert_eq!(t.reshape::<(usize, Const<2>)>().shape(), [3, 2]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Rank2, Tensor};
    /// let t = Tensor::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// let m = t.reshape::<Rank2<2, 2>>(); // 6 elements do not make a 2 x 2
    /// ```
    #[must_use]
    #[track_caller]
    pub fn reshape<S2: Shape>(&self) -> Tensor<S2, E, T> {
        const {
            if let (Some(from), Some(to)) = (S::STATIC_NUMEL, S2::STATIC_NUMEL)
                && from != to
            {
                let m = ConstMsg::new()
                    .str("reshape must keep the number of elements: ")
                    .num(from)
                    .str(" elements cannot be reshaped into ")
                    .num(to);
                panic!("{}", m.as_str());
            }
        }
        let shape = S2::infer(self.numel()).unwrap_or_else(|| {
            panic!(
                "reshape: a tensor of shape {:?} ({} elements) does not fit the shape type {}",
                self.shape().as_ref(),
                self.numel(),
                crate::tensor::shape_type_name::<S2>()
            )
        });
        self.reshape_to(shape)
    }

    /// The same elements in the same row-major order, with the given shape (its run-time sizes as
    /// values). No data is copied; on a tape, the gradient is reshaped back.
    ///
    /// # Panics
    /// When the element counts differ; the message names both shapes.
    ///
    /// ```
    /// use shaped::{Const, Tensor};
    /// let t = Tensor::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// let m = t.reshape_to((2_usize, 3_usize));
    /// assert_eq!(m.shape(), [2, 3]);
    /// assert_eq!(m[[1, 0]], 4.0);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn reshape_to<S2: Shape>(&self, shape: S2) -> Tensor<S2, E, T> {
        assert!(
            shape.numel() == self.numel(),
            "reshape: the element counts differ: shape {:?} has {}, shape {:?} has {}",
            self.shape().as_ref(),
            self.numel(),
            shape.dims().as_ref(),
            shape.numel()
        );
        Tensor::with_id(
            Arc::clone(self.data()),
            self.id(),
            shape,
            self.tape().alias(),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Rank1, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn reshape_keeps_the_row_major_order() {
        // A reshape keeps the elements in row-major order: [1, 2, 3, 4, 5, 6] as 2 x 3 is
        // [[1, 2, 3], [4, 5, 6]].
        let t = Tensor::from([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).reshape::<Rank2<2, 3>>();
        assert_eq!(t.to_array(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    }

    #[test]
    fn no_copy_and_round_trip() {
        let t: Tensor<Rank3<2, 3, 4>, f64> = random(7);
        let back = t
            .reshape::<Rank2<6, 4>>()
            .reshape::<Rank1<24>>()
            .reshape::<Rank3<2, 3, 4>>();
        assert_eq!(back, t);
        assert!(back.shares_data(&t));
    }

    #[test]
    fn gradient_literal() {
        // f = sum(reshape(x) * w): df/dx = reshape(w) back to x's shape.
        let x = Tensor::from([1.0, 2.0, 3.0, 4.0]);
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let (xt, wt) = (tape.watch(&x), tape.watch(&w));
        let g = (xt.reshape::<Rank2<2, 2>>() * &wt).sum().backward();
        assert_eq!(g.get(&xt).to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
        // A watched weight that meets the reshape: it gets d f/d w = reshape(x).
        assert_eq!(g.get(&wt).to_array(), [[1.0, 2.0], [3.0, 4.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank2<2, 6>, f64> = random(8);
        let w: Tensor<Rank3<3, 2, 2>, f64> = random(9);
        gradcheck(|x| (x.reshape::<Rank3<3, 2, 2>>() * &w).sum(), &x).unwrap();
        // used twice, through two different reshapes
        gradcheck(
            |x| (x.reshape::<Rank3<3, 2, 2>>() * x.reshape::<Rank3<3, 2, 2>>().exp()).sum(),
            &x,
        )
        .unwrap();
    }
}
