//! `where`: [`Mask::select`] picks each element from one of two operands, and
//! [`Tensor::masked_fill`] replaces the elements a mask selects by a value.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::ops::Merged;
use crate::tape::internal::Record;
use crate::{Element, Mask, MaskOf, Merge, Operand, Shape, Tensor, Tracking};

impl<S: Shape> Mask<S> {
    /// `a` where the mask is true, `b` where it is false: `y[i] = if m[i] { a[i] } else { b[i] }`,
    /// each of `a` and `b` a tensor of the mask's shape or a scalar ([`Operand`]).
    ///
    /// Derivative: the output's gradient goes to `a` where the mask is true and to `b` where it is
    /// false (0 elsewhere); a scalar gets none. The mask has no gradient.
    ///
    /// PyTorch: `torch.where(mask, a, b)` (numpy: `np.where`); the method's name is that of
    /// `std::simd::Mask::select`, since `where` is a Rust keyword.
    ///
    /// Edge values: elements are copied bit for bit from the operand selected, NaN included; the
    /// operand not selected does not matter, even if it is NaN or infinite, and gets a gradient of 0
    /// there. As in PyTorch, that 0 still goes through the chain rule of the op that made it: if `b`
    /// is `x.sqrt()` and `x` is 0 where `b` is not selected, `x` gets `0 * inf = NaN` there; select the
    /// input of such an op first (`mask.select(&x, 1.0).sqrt()`) to keep NaN out of the gradient.
    ///
    /// An operand of another static shape is a compile error ([`Operand`]); there is no
    /// broadcasting.
    ///
    /// # Panics
    /// With run-time dimensions, when `a` or `b` is a tensor of another shape than the mask's; the
    /// message names both shapes.
    ///
    /// ```
    /// use shaped::{Tape, Tensor};
    /// let x = Tensor::from([-1.0, 2.0, -3.0]);
    /// let y = Tensor::from([10.0, 20.0, 30.0]);
    /// let m = x.gt(0.0);
    /// assert_eq!(m.select(&x, &y).to_array(), [10.0, 2.0, 30.0]);
    /// assert_eq!(m.select(&x, 0.0).to_array(), [0.0, 2.0, 0.0]);
    /// // the gradient goes where the elements came from
    /// let tape = Tape::new();
    /// let (xt, yt) = (tape.watch(&x), tape.watch(&y));
    /// let g = m.select(&xt, &yt).sum().backward();
    /// assert_eq!(g.get(&xt).to_array(), [0.0, 1.0, 0.0]);
    /// assert_eq!(g.get(&yt).to_array(), [1.0, 0.0, 1.0]);
    /// ```
    #[doc(alias = "where")]
    #[must_use]
    #[track_caller]
    pub fn select<E, A, B>(&self, a: A, b: B) -> Tensor<S, E, Merged<E, A::Tracking, B::Tracking>>
    where
        E: Element,
        A: Operand<S, E>,
        B: Operand<S, E>,
        A::Tracking: Merge<E, B::Tracking>,
    {
        let shape = self.typed_shape();
        let (a, b) = (
            a.into_operand("where", shape),
            b.into_operand("where", shape),
        );
        let m = self.data();
        let n = m.len();
        let (av, bv) = (a.as_slice(), b.as_slice());
        let pick = |((&m, &a), &b)| if m { a } else { b };
        let y = Buffer::collect(n, m.iter().zip(av).zip(bv).map(pick));
        let tape = a.tape().merge(b.tape());
        let tape = tape.record([a.input(), b.input()], n, |[na, nb]| {
            let m = Arc::clone(m);
            Box::new(move |dy, grads| {
                let zero = E::zero();
                if let Some(na) = na {
                    let pass = m.iter().zip(dy).map(|(&m, &g)| if m { g } else { zero });
                    grads.add_from(na, pass);
                }
                if let Some(nb) = nb {
                    let pass = m.iter().zip(dy).map(|(&m, &g)| if m { zero } else { g });
                    grads.add_from(nb, pass);
                }
            })
        });
        Tensor::from_parts(Arc::new(y), shape, tape)
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The tensor with `value` where `mask` is true: `y[i] = if m[i] { value } else { x[i] }`.
    ///
    /// Derivative: 1 where the mask is false, 0 where it is true (the filled elements do not depend
    /// on `x`).
    ///
    /// PyTorch: `x.masked_fill(mask, value)`; the same as `mask.select(value, &x)`
    /// ([`Mask::select`]). A masked softmax fills the masked logits with `-inf` before the
    /// softmax.
    ///
    /// Edge values: `value` may be NaN or infinite and is written bit for bit; the elements kept
    /// are copied bit for bit. A mask of another static shape is a compile error ([`MaskOf`]);
    /// there is no broadcasting.
    ///
    /// # Panics
    /// With run-time dimensions, when the mask's shape differs from the tensor's; the message names
    /// both shapes.
    ///
    /// ```
    /// use shaped::{Mask, Rank2, Tensor};
    /// let logits = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let hidden: Mask<Rank2<2, 3>> = Mask::from_fn(|[i, j]| j > i); // causal
    /// let p = logits.masked_fill(&hidden, f64::NEG_INFINITY).softmax::<1>();
    /// assert_eq!(p[[0, 0]], 1.0);
    /// assert_eq!(p[[0, 1]], 0.0);
    /// assert!((p[[1, 0]] - 1.0 / (1.0 + 1.0_f64.exp())).abs() < 1e-15);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn masked_fill<M: MaskOf<S>>(&self, mask: M, value: E) -> Self {
        let mask = mask.into_mask();
        crate::ops::same_shape("masked_fill", mask.typed_shape(), self.typed_shape());
        mask.select(value, self)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Mask, Rank2, Rank3, Tape, Tensor, gradcheck};

    #[test]
    fn gradient_literal() {
        // f = sum(where(m, a * a, b) * w): df/da = 2 a w where m, 0 elsewhere; df/db = w where !m.
        let a = Tensor::from([1.0, 2.0, 3.0]);
        let b = Tensor::from([4.0, 5.0, 6.0]);
        let w = Tensor::from([1.0, 10.0, 100.0]);
        let m = Mask::from([true, false, true]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = (m.select(&at * &at, &bt) * &w).sum().backward();
        assert_eq!(g.get(&at).to_array(), [2.0, 0.0, 600.0]);
        assert_eq!(g.get(&bt).to_array(), [0.0, 10.0, 0.0]);
    }

    #[test]
    fn one_input_used_twice() {
        // f = sum(where(m, x, -x)) = sum |x| on this mask: df/dx = 1 where m, -1 where !m; and
        // masked_fill(m, 7) + x: df/dx = 1 + (0 where m, 1 where !m).
        let x = Tensor::from([[1.0, -2.0], [3.0, -4.0]]);
        let m = x.gt(0.0);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = m.select(&xt, -&xt).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[1.0, -1.0], [1.0, -1.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.masked_fill(&m, 7.0) + &xt).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[1.0, 2.0], [1.0, 2.0]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank3<2, 3, 4>, f64> = random(80);
        let b: Tensor<Rank3<2, 3, 4>, f64> = random(81);
        let w: Tensor<Rank3<2, 3, 4>, f64> = random(82);
        let m = a.gt(&b);
        gradcheck(|a| (m.select(&a, &b) * &w).sum(), &a).unwrap();
        gradcheck(|b| (m.select(&a, b.exp()) * &w).sum(), &b).unwrap();
        gradcheck(|a| (a.masked_fill(&m, 2.0) * &w).sum(), &a).unwrap();
        gradcheck(
            |a| (m.select(&a, a.exp()) * a.masked_fill(!&m, -1.0)).sum(),
            &a,
        )
        .unwrap();
    }

    #[test]
    fn edge_values_are_copied_and_the_unselected_side_does_not_matter() {
        let a = Tensor::from([f64::NAN, 1.0, -0.0, f64::INFINITY]);
        let b = Tensor::from([2.0, f64::NAN, 3.0, f64::NEG_INFINITY]);
        let m = Mask::from([true, false, true, false]);
        let y = m.select(&a, &b).to_vec();
        assert!(y[0].is_nan() && y[1].is_nan());
        assert_eq!(
            (y[2].to_bits(), y[3]),
            ((-0.0_f64).to_bits(), f64::NEG_INFINITY)
        );
        let z = m.select(&b, &a).to_vec();
        assert_eq!(&z[..3], &[2.0, 1.0, 3.0]);
        let f = a.masked_fill(a.ne(&a), 0.0).to_vec();
        assert_eq!(f, [0.0, 1.0, 0.0, f64::INFINITY]);
    }

    #[test]
    fn run_time_shapes() {
        let x: Tensor<(usize, Const<2>), f64> =
            Tensor::from_vec_with((2, Const), vec![1.0, -2.0, -3.0, 4.0]).unwrap();
        let m = x.lt(0.0);
        assert_eq!(m.select(0.0, &x).to_vec(), [1.0, 0.0, 0.0, 4.0]);
        assert_eq!(x.masked_fill(&m, 9.0).to_vec(), [1.0, 9.0, 9.0, 4.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = x.masked_fill(&m, 9.0) * &xt;
        assert_eq!(g.typed_shape(), (2, Const));
    }

    #[test]
    #[should_panic(expected = "where: the shapes differ: [2, 2] and [3, 2]")]
    fn where_names_both_shapes() {
        let m: Mask<(usize, Const<2>)> = Mask::from_fn_with((2, Const), |[i, _]| i == 0);
        let y: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let _ = m.select(0.0, &y);
    }

    #[test]
    #[should_panic(expected = "masked_fill: the shapes differ: [1, 2] and [2, 2]")]
    fn masked_fill_names_both_shapes() {
        let m: Mask<(usize, Const<2>)> = Mask::from_fn_with((1, Const), |_| true);
        let x: Tensor<(usize, Const<2>)> = Tensor::zeros_with((2, Const));
        let _ = x.masked_fill(&m, 1.0);
    }

    #[test]
    fn static_shapes_keep_their_type() {
        let x: Tensor<Rank2<2, 2>> = Tensor::from([[1.0, -1.0], [0.0, 2.0]]);
        let y: Tensor<Rank2<2, 2>> = x.ge(0.0).select(&x, 0.0);
        assert_eq!(y.to_array(), [[1.0, 0.0], [0.0, 2.0]]);
    }
}
