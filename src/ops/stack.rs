//! `stack`: tensors of one shape joined along a new axis.

use std::sync::Arc;

use crate::const_msg::ConstMsg;
use crate::ops::Axis;
use crate::ops::narrow::{join_rows, unjoin_rows};
use crate::ops::same_shape;
use crate::{
    Const, Dim, Element, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, Tensor, Tracking,
};

/// The shape rule of [`Tensor::stack`]: `N` tensors of shape `Self` stacked along a new axis `AX`
/// have shape `Output`, `Self` with a dimension `N` inserted before its axis `AX`.
///
/// Implemented for `AX` from 0 to the rank of `Self` (the new axis may also go last), for shapes of
/// rank 0 to 5, so that the result has at most six axes. A static shape gives a static shape; a tuple
/// gives a tuple with a `Const<N>` inserted.
///
/// ```
/// use shaped::{Const, InsertAxis, Rank2, Rank3};
/// let _: <Rank2<3, 4> as InsertAxis<0, 2>>::Output = Rank3::<2, 3, 4>;
/// let _: <Rank2<3, 4> as InsertAxis<2, 2>>::Output = Rank3::<3, 4, 2>;
/// assert_eq!(InsertAxis::<1, 2>::insert_axis(&(5_usize, Const::<4>)), (5, Const::<2>, Const::<4>));
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot stack tensors of shape `{Self}` along a new axis {AX}",
    label = "no place for a new axis {AX} in `{Self}`",
    note = "the new axis goes before axis AX of the tensors, or last: a rank-N tensor takes AX from 0 \
            to N, and the result has at most 6 axes"
)]
pub trait InsertAxis<const AX: usize, const N: usize>: Shape {
    /// The shape with a new axis of size `N` at position `AX`.
    type Output: Shape;
    /// The shape with a new axis of size `N` at position `AX`.
    ///
    /// ```
    /// use shaped::{InsertAxis, Rank2, Shape};
    /// assert_eq!(InsertAxis::<0, 5>::insert_axis(&Rank2::<3, 4>).dims(), [5, 3, 4]);
    /// assert_eq!(InsertAxis::<2, 5>::insert_axis(&Rank2::<3, 4>).dims(), [3, 4, 5]);
    /// ```
    fn insert_axis(&self) -> Self::Output;
}

macro_rules! insert_axis {
    ($( $rank:ident => $out:ident $ax:tt : [$($p:ident $pi:tt),*] [$($q:ident $qi:tt),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $p: usize,)* $(const $q: usize,)* const N: usize> InsertAxis<$ax, N>
            for $rank<$($p,)* $($q,)*>
        {
            type Output = $out<$($p,)* N, $($q,)*>;
            #[inline]
            fn insert_axis(&self) -> Self::Output {
                $out
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$($p: Dim,)* $($q: Dim,)* const N: usize> InsertAxis<$ax, N> for ($($p,)* $($q,)*) {
            type Output = ($($p,)* Const<N>, $($q,)*);
            #[inline]
            fn insert_axis(&self) -> Self::Output {
                ($(self.$pi,)* Const, $(self.$qi,)*)
            }
        }
    )*};
}

// A scalar is its own tuple form: one impl.
#[diagnostic::do_not_recommend]
impl<const N: usize> InsertAxis<0, N> for Rank0 {
    type Output = Rank1<N>;
    #[inline]
    fn insert_axis(&self) -> Self::Output {
        Rank1
    }
}

insert_axis! {
    Rank1 => Rank2 0: [] [A 0];
    Rank1 => Rank2 1: [A 0] [];
    Rank2 => Rank3 0: [] [A 0, B 1];
    Rank2 => Rank3 1: [A 0] [B 1];
    Rank2 => Rank3 2: [A 0, B 1] [];
    Rank3 => Rank4 0: [] [A 0, B 1, C 2];
    Rank3 => Rank4 1: [A 0] [B 1, C 2];
    Rank3 => Rank4 2: [A 0, B 1] [C 2];
    Rank3 => Rank4 3: [A 0, B 1, C 2] [];
    Rank4 => Rank5 0: [] [A 0, B 1, C 2, D 3];
    Rank4 => Rank5 1: [A 0] [B 1, C 2, D 3];
    Rank4 => Rank5 2: [A 0, B 1] [C 2, D 3];
    Rank4 => Rank5 3: [A 0, B 1, C 2] [D 3];
    Rank4 => Rank5 4: [A 0, B 1, C 2, D 3] [];
    Rank5 => Rank6 0: [] [A 0, B 1, C 2, D 3, F 4];
    Rank5 => Rank6 1: [A 0] [B 1, C 2, D 3, F 4];
    Rank5 => Rank6 2: [A 0, B 1] [C 2, D 3, F 4];
    Rank5 => Rank6 3: [A 0, B 1, C 2] [D 3, F 4];
    Rank5 => Rank6 4: [A 0, B 1, C 2, D 3] [F 4];
    Rank5 => Rank6 5: [A 0, B 1, C 2, D 3, F 4] [];
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// `N` tensors of one shape joined along a new axis `AX` of size `N`: `y[.., k, ..] =
    /// tensors[k]`, the `k` at position `AX`. The tensors are given as an array of references, so
    /// `N` is in the type.
    ///
    /// Derivative: the gradient is cut along the new axis, slice `k` going to `tensors[k]`.
    ///
    /// PyTorch: `torch.stack(tensors, dim=AX)`. The tensors must have the same tracking (all on one
    /// tape, or none; [`Tape::input`](crate::Tape::input) puts data on a tape). An `AX` larger than
    /// the rank of the tensors, or a result of more than six axes, is a type error
    /// ([`InsertAxis`]); an empty array is a `const` assertion (reported by `cargo build`), as
    /// PyTorch raises an error there.
    ///
    /// # Panics
    /// With tuple shapes, when the tensors' run-time dimensions differ; the message names both
    /// shapes (`stack: the shapes differ: [2, 3] and [4, 3]`).
    ///
    /// Edge values: elements are copied bit for bit (NaN, infinities, the sign of zero), and so are
    /// their gradients. Tensors with zero elements stack to an empty result.
    ///
    /// ```
    /// use shaped::{Axis, Rank2, Tape, Tensor};
    /// let a = Tensor::from([1.0, 2.0, 3.0]);
    /// let b = Tensor::from([4.0, 5.0, 6.0]);
    /// let rows: Tensor<Rank2<2, 3>, f64> = Tensor::stack(Axis::<0>, [&a, &b]);
    /// assert_eq!(rows.to_array(), [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let cols: Tensor<Rank2<3, 2>, f64> = Tensor::stack(Axis::<1>, [&a, &b]);
    /// assert_eq!(cols.to_array(), [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]);
    ///
    /// // Each tensor gets its own slice of the gradient.
    /// let tape = Tape::new();
    /// let (at, bt) = (tape.watch(&a), tape.watch(&b));
    /// let w = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let g = (Tensor::stack(Axis::<1>, [&at, &bt]) * &w).sum().backward();
    /// assert_eq!(g.get(&bt).to_array(), [2.0, 4.0, 6.0]);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn stack<const AX: usize, const N: usize, S2: Shape>(
        _axis: Axis<AX>,
        tensors: [&Self; N],
    ) -> Tensor<S2, E, T>
    where
        S: InsertAxis<AX, N, Output = S2>,
    {
        const {
            if N == 0 {
                let m = ConstMsg::new()
                    .str("stack along axis ")
                    .num(AX)
                    .str(": no tensors to stack (an array of 0)");
                panic!("{}", m.as_str());
            }
        }
        let first = tensors[0];
        let shape = first.typed_shape();
        for t in &tensors[1..] {
            same_shape("stack", shape, t.typed_shape());
        }
        // Seen as `[outer, inner]` rows split before axis `AX`, the output's row `o` is row `o` of
        // every tensor in turn.
        let dims = shape.dims();
        let (outer, width) = (
            dims.as_ref()[..AX].iter().product::<usize>(),
            dims.as_ref()[AX..].iter().product::<usize>(),
        );
        let y = join_rows(&tensors.map(|t| (t.as_slice(), width)), outer);
        let numel = y.len();
        let inputs: [_; N] = core::array::from_fn(|k| tensors[k].input());
        let tape = first.tape().record(inputs, numel, |nodes| {
            Box::new(move |dy, grads| unjoin_rows(dy, &nodes.map(|n| (n, width)), outer, grads))
        });
        Tensor::from_parts(Arc::new(y), shape.insert_axis(), tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Axis, Const, Rank0, Rank1, Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn stacks_along_every_new_axis() {
        let a = Tensor::<Rank2<2, 3>, f64>::from_fn(|[i, j]| (10 * i + j) as f64);
        let b = a.map(|v| -v);
        let c = a.map(|v| v + 0.5);
        let list = [&a, &b, &c];
        let pick = |k: usize, i: usize, j: usize| list[k][[i, j]];
        let y0: Tensor<Rank3<3, 2, 3>, f64> = Tensor::stack(Axis::<0>, list);
        assert_eq!(y0, Tensor::from_fn(|[k, i, j]| pick(k, i, j)));
        let y1: Tensor<Rank3<2, 3, 3>, f64> = Tensor::stack(Axis::<1>, list);
        assert_eq!(y1, Tensor::from_fn(|[i, k, j]| pick(k, i, j)));
        let y2: Tensor<Rank3<2, 3, 3>, f64> = Tensor::stack(Axis::<2>, list);
        assert_eq!(y2, Tensor::from_fn(|[i, j, k]| pick(k, i, j)));
        // Scalars stack into a vector; one tensor gains an axis of size 1.
        let s: Tensor<Rank1<2>, f64> = Tensor::stack(
            Axis::<0>,
            [&Tensor::from(1.5), &Tensor::<Rank0, f64>::from(-2.0)],
        );
        assert_eq!(s.to_array(), [1.5, -2.0]);
        let one: Tensor<Rank3<2, 1, 3>, f64> = Tensor::stack(Axis::<1>, [&a]);
        assert_eq!(one.as_slice(), a.as_slice());
    }

    #[test]
    fn gradient_literal() {
        // f = sum(stack([a, b], axis 0) * w) with w = [[1, 2], [3, 4]]: df/da = w[0], df/db = w[1].
        let a = Tensor::from([5.0, 6.0]);
        let b = Tensor::from([7.0, 8.0]);
        let w = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = (Tensor::stack(Axis::<0>, [&at, &bt]) * &w).sum().backward();
        assert_eq!(g.get(&at).to_array(), [1.0, 2.0]);
        assert_eq!(g.get(&bt).to_array(), [3.0, 4.0]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank3<2, 2, 3>, f64> = random(1);
        let b: Tensor<Rank3<2, 2, 3>, f64> = random(2);
        let w: Tensor<Rank4<2, 2, 2, 3>, f64> = random(3);
        gradcheck(
            |(a, b)| (Tensor::stack(Axis::<2>, [&a, &b]) * &w).sum(),
            (&a, &b),
        )
        .unwrap();
        // used twice, and three times: one tensor stacked with itself and a function of itself
        let x: Tensor<Rank1<3>, f64> = random(4);
        let v: Tensor<Rank2<3, 3>, f64> = random(5);
        gradcheck(
            |x| (Tensor::stack(Axis::<1>, [&x, &x.exp(), &x]) * &v).sum(),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn only_watched_tensors_get_gradients() {
        let tape = Tape::new();
        let a = tape.watch(&Tensor::from([1.0, 2.0]));
        let data = tape.input(&Tensor::from([3.0, 4.0]));
        let y = Tensor::stack(Axis::<0>, [&data, &a, &data]);
        assert_eq!(y.to_array(), [[3.0, 4.0], [1.0, 2.0], [3.0, 4.0]]);
        let g = y.powi(2).sum().backward();
        assert_eq!(g.get(&a).to_array(), [2.0, 4.0]);
    }

    #[test]
    fn run_time_shapes() {
        let a = Tensor::from_vec_with((2_usize, Const::<2>), vec![1.0, 2.0, 3.0, 4.0]).unwrap();
        let b = a.map(|v| 10.0 * v);
        let y = Tensor::stack(Axis::<1>, [&a, &b]);
        let _: &Tensor<(usize, Const<2>, Const<2>), f64> = &y;
        assert_eq!(y.to_vec(), vec![1.0, 2.0, 10.0, 20.0, 3.0, 4.0, 30.0, 40.0]);
        let w = Tensor::from_vec_with(
            (2_usize, Const::<2>, Const::<2>),
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
        )
        .unwrap();
        gradcheck(
            |(a, b)| (Tensor::stack(Axis::<1>, [&a, &b]) * &w).sum(),
            (&a, &b),
        )
        .unwrap();
        let e: Tensor<(usize, Const<2>), f64> = Tensor::zeros_with((0, Const));
        assert_eq!(Tensor::stack(Axis::<0>, [&e, &e]).shape(), [2, 0, 2]);
    }

    #[test]
    #[should_panic(expected = "stack: the shapes differ: [2, 2] and [3, 2]")]
    fn run_time_shapes_that_differ_panic() {
        let a: Tensor<(usize, Const<2>)> = Tensor::zeros_with((2, Const));
        let b: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
        let _ = Tensor::stack(Axis::<0>, [&a, &b]);
    }
}
