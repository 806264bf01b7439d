//! `sum_axes` and `mean_axes`: sums and means over several axes at once, named by an [`Axes2`] to
//! [`Axes6`] in increasing order; and `sum_keepdim`, `mean_keepdim`: the full reductions kept in a
//! shape of ones.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::ops::lanes::Lanes;
use crate::ops::permute::{AxesInOrder, AxisPair};
use crate::ops::sum::{spread_middle, sum_middle};
use crate::{
    Axes2, Axes3, Axes4, Axes5, Axes6, Const, Dim, Element, Rank0, Rank1, Rank2, Rank3, Rank4,
    Rank5, Rank6, ReduceAxis, Shape, Tensor, Tracking,
};

/// Reduction over the set of axes `X` (an [`Axes2`] to [`Axes6`]): the shape without those axes,
/// and the shape with each of them kept with size 1.
///
/// Implemented when the axes are listed in increasing order and each is below the rank, so a
/// repeated axis, an axis out of range or axes out of order are a type error. The reductions over
/// one axis use [`ReduceAxis`]; over every axis, [`ReduceAll`].
///
/// ```
/// use shaped::{Axes2, Axes3, Const, Rank1, Rank3, Rank4, ReduceAxes};
/// let _: <Rank3<2, 3, 4> as ReduceAxes<Axes2<0, 2>>>::Reduced = Rank1::<3>;
/// let _: <Rank3<2, 3, 4> as ReduceAxes<Axes2<0, 2>>>::KeepDim = Rank3::<1, 3, 1>;
/// let _: <Rank4<2, 3, 4, 5> as ReduceAxes<Axes3<0, 1, 3>>>::Reduced = Rank1::<4>;
/// let rows = (7_usize, Const::<3>, Const::<4>);
/// assert_eq!(ReduceAxes::<Axes2<1, 2>>::reduced_axes(&rows), (7,));
/// assert_eq!(<(usize, Const<3>, Const<4>) as ReduceAxes<Axes2<0, 1>>>::AXES, &[0, 1]);
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot reduce a tensor of shape `{Self}` over the axes `{X}`",
    label = "the axes must exist in `{Self}` and be listed once each, in increasing order",
    note = "axes count from 0, outermost first: a rank-N tensor has axes 0 to N - 1; write the set \
            smallest first, as `Axes2<0, 2>`"
)]
pub trait ReduceAxes<X>: Shape {
    /// The shape with the axes of `X` removed.
    type Reduced: Shape;
    /// The shape with the axes of `X` kept with size 1.
    type KeepDim: Shape;
    /// The axes of `X`, in increasing order.
    const AXES: &'static [usize];
    /// The shape with the axes of `X` removed.
    ///
    /// ```
    /// use shaped::{Axes2, Rank3, ReduceAxes, Shape};
    /// assert_eq!(ReduceAxes::<Axes2<0, 2>>::reduced_axes(&Rank3::<2, 3, 4>).dims(), [3]);
    /// ```
    fn reduced_axes(&self) -> Self::Reduced;
    /// The shape with the axes of `X` kept with size 1.
    ///
    /// ```
    /// use shaped::{Axes2, Const, ReduceAxes, Shape};
    /// let rows = (7_usize, Const::<3>, Const::<4>);
    /// assert_eq!(ReduceAxes::<Axes2<0, 2>>::kept_axes(&rows).dims(), [1, 3, 1]);
    /// ```
    fn kept_axes(&self) -> Self::KeepDim;
}

#[diagnostic::do_not_recommend]
impl<S, const A: usize, const B: usize> ReduceAxes<Axes2<A, B>> for S
where
    AxisPair<A, B>: AxesInOrder,
    S: ReduceAxis<B>,
    <S as ReduceAxis<B>>::Reduced: ReduceAxis<A>,
    <S as ReduceAxis<B>>::KeepDim: ReduceAxis<A>,
{
    type Reduced = <<S as ReduceAxis<B>>::Reduced as ReduceAxis<A>>::Reduced;
    type KeepDim = <<S as ReduceAxis<B>>::KeepDim as ReduceAxis<A>>::KeepDim;
    const AXES: &'static [usize] = &[A, B];
    #[inline]
    fn reduced_axes(&self) -> Self::Reduced {
        ReduceAxis::<A>::reduced(&ReduceAxis::<B>::reduced(self))
    }
    #[inline]
    fn kept_axes(&self) -> Self::KeepDim {
        ReduceAxis::<A>::kept(&ReduceAxis::<B>::kept(self))
    }
}

/// `ReduceAxes` for a set of three or more axes: the last axis is reduced first (so the others keep
/// their positions), then the set without it; the last two must be in order, the rest is checked by
/// the smaller set.
macro_rules! reduce_axes {
    ($($axes:ident [$($a:ident),*] $prev:ident $last:ident => $rest:ident;)*) => {$(
        #[diagnostic::do_not_recommend]
        impl<S, $(const $a: usize,)* const $last: usize> ReduceAxes<$axes<$($a,)* $last>> for S
        where
            AxisPair<$prev, $last>: AxesInOrder,
            S: ReduceAxis<$last>,
            <S as ReduceAxis<$last>>::Reduced: ReduceAxes<$rest<$($a),*>>,
            <S as ReduceAxis<$last>>::KeepDim: ReduceAxes<$rest<$($a),*>>,
        {
            type Reduced =
                <<S as ReduceAxis<$last>>::Reduced as ReduceAxes<$rest<$($a),*>>>::Reduced;
            type KeepDim =
                <<S as ReduceAxis<$last>>::KeepDim as ReduceAxes<$rest<$($a),*>>>::KeepDim;
            const AXES: &'static [usize] = &[$($a,)* $last];
            #[inline]
            fn reduced_axes(&self) -> Self::Reduced {
                ReduceAxis::<$last>::reduced(self).reduced_axes()
            }
            #[inline]
            fn kept_axes(&self) -> Self::KeepDim {
                ReduceAxis::<$last>::kept(self).kept_axes()
            }
        }
    )*};
}

reduce_axes! {
    Axes3 [A, B] B C => Axes2;
    Axes4 [A, B, C] C D => Axes3;
    Axes5 [A, B, C, D] D F => Axes4;
    Axes6 [A, B, C, D, F] F G => Axes5;
}

/// The full reduction kept in the shape: the shape of the same rank with every dimension 1, what
/// [`Tensor::sum_keepdim`] and [`Tensor::mean_keepdim`] give (a static shape of ones for a static
/// shape, a tuple of `Const<1>` for a tuple).
///
/// ```
/// use shaped::{Const, Rank0, Rank3, ReduceAll};
/// let _: <Rank3<2, 3, 4> as ReduceAll>::KeepDim = Rank3::<1, 1, 1>;
/// let _: <Rank0 as ReduceAll>::KeepDim = Rank0;
/// assert_eq!((7_usize, Const::<3>).kept_all(), (Const::<1>, Const::<1>));
/// ```
pub trait ReduceAll: Shape {
    /// The shape of the same rank with every dimension 1.
    type KeepDim: Shape;
    /// The shape of the same rank with every dimension 1.
    ///
    /// ```
    /// use shaped::{Rank3, ReduceAll, Shape};
    /// assert_eq!(Rank3::<2, 3, 4>.kept_all().dims(), [1, 1, 1]);
    /// assert_eq!((5_usize,).kept_all().numel(), 1);
    /// ```
    fn kept_all(&self) -> Self::KeepDim;
}

/// `ReduceAll` for a static rank and the tuple of the same rank.
macro_rules! reduce_all {
    ($($rank:ident [$($d:ident),*] [$($one:literal),*];)*) => {$(
        impl<$(const $d: usize),*> ReduceAll for $rank<$($d),*> {
            type KeepDim = $rank<$($one),*>;
            #[inline]
            fn kept_all(&self) -> Self::KeepDim {
                $rank
            }
        }

        impl<$($d: Dim),*> ReduceAll for ($($d,)*) {
            type KeepDim = ($(reduce_all!(@one $d),)*);
            #[inline]
            fn kept_all(&self) -> Self::KeepDim {
                ($(reduce_all!(@one_value $d),)*)
            }
        }
    )*};
    (@one $d:ident) => { Const<1> };
    (@one_value $d:ident) => { Const };
}

impl ReduceAll for Rank0 {
    type KeepDim = Rank0;
    #[inline]
    fn kept_all(&self) -> Rank0 {
        Rank0
    }
}

reduce_all! {
    Rank1 [A] [1];
    Rank2 [A, B] [1, 1];
    Rank3 [A, B, C] [1, 1, 1];
    Rank4 [A, B, C, D] [1, 1, 1, 1];
    Rank5 [A, B, C, D, F] [1, 1, 1, 1, 1];
    Rank6 [A, B, C, D, F, G] [1, 1, 1, 1, 1, 1];
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The sum over the axes of `X` (an [`Axes2`] to [`Axes6`], smallest axis first), which
    /// disappear from the shape: `sum_axes::<Axes2<0, 2>>()` of a `[A, B, C]` is the `[B]` of
    /// `sum over a, c of x[a, b, c]`.
    ///
    /// Derivative: 1 for every element, so the gradient is the output's gradient repeated along the
    /// reduced axes. PyTorch: `x.sum(dim=(0, 2))`. The same values as `sum_axis` applied axis by
    /// axis, largest first (in one op). Axes out of range, repeated or out of order are a type error
    /// ([`ReduceAxes`]).
    ///
    /// Edge values, as [`sum_axis`](Tensor::sum_axis): NaN and infinities propagate (`inf` and
    /// `-inf` together give NaN); reduced axes of size 0 give 0.
    ///
    /// ```
    /// use shaped::{Axes2, Rank3, Tensor};
    /// let x = Tensor::<Rank3<2, 3, 2>, f64>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f64);
    /// // Over a and c: for b, (10b) + (10b + 1) + (100 + 10b) + (101 + 10b).
    /// assert_eq!(x.sum_axes::<Axes2<0, 2>>().to_array(), [202.0, 242.0, 282.0]);
    /// assert_eq!(x.sum_axes_keepdim::<Axes2<0, 2>>().shape(), [1, 3, 1]);
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axes2, Rank3, Tensor};
    /// let x = Tensor::<Rank3<2, 3, 2>, f64>::zeros();
    /// let _ = x.sum_axes::<Axes2<2, 0>>(); // smallest first: Axes2<0, 2>
    /// ```
    #[must_use]
    pub fn sum_axes<X>(&self) -> Tensor<<S as ReduceAxes<X>>::Reduced, E, T>
    where
        S: ReduceAxes<X>,
    {
        self.reduce_axes(S::AXES, self.typed_shape().reduced_axes(), false)
    }

    /// The sum over the axes of `X`, each kept in the shape with size 1 (`keepdim=True` in
    /// PyTorch). Same derivative and edge values as [`sum_axes`](Tensor::sum_axes).
    ///
    /// ```
    /// use shaped::{Axes2, Tensor};
    /// let x = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    /// // over axes 0 and 2: [1 + 2 + 5 + 6, 3 + 4 + 7 + 8]
    /// assert_eq!(x.sum_axes_keepdim::<Axes2<0, 2>>().to_array(), [[[14.0], [22.0]]]);
    /// ```
    #[must_use]
    pub fn sum_axes_keepdim<X>(&self) -> Tensor<<S as ReduceAxes<X>>::KeepDim, E, T>
    where
        S: ReduceAxes<X>,
    {
        self.reduce_axes(S::AXES, self.typed_shape().kept_axes(), false)
    }

    /// The mean over the axes of `X` (an [`Axes2`] to [`Axes6`], smallest axis first), which
    /// disappear from the shape: their sum divided by `n`, the product of their sizes.
    ///
    /// Derivative: `1 / n` for every element. PyTorch: `x.mean(dim=(0, 2))`. Axes out of range,
    /// repeated or out of order are a type error ([`ReduceAxes`]).
    ///
    /// Edge values, as PyTorch: reduced axes with no elements give NaN (`0 / 0`); NaN and
    /// infinities propagate as in [`sum_axes`](Tensor::sum_axes).
    ///
    /// ```
    /// use shaped::{Axes2, Tensor};
    /// let x = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    /// assert_eq!(x.mean_axes::<Axes2<1, 2>>().to_array(), [2.5, 6.5]);
    /// assert_eq!(x.mean_axes_keepdim::<Axes2<0, 1>>().to_array(), [[[4.0, 5.0]]]);
    /// ```
    #[must_use]
    pub fn mean_axes<X>(&self) -> Tensor<<S as ReduceAxes<X>>::Reduced, E, T>
    where
        S: ReduceAxes<X>,
    {
        self.reduce_axes(S::AXES, self.typed_shape().reduced_axes(), true)
    }

    /// The mean over the axes of `X`, each kept in the shape with size 1 (`keepdim=True` in
    /// PyTorch). Same derivative and edge values as [`mean_axes`](Tensor::mean_axes).
    ///
    /// ```
    /// use shaped::{Axes2, Tensor};
    /// let x = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    /// // over axes 0 and 2: [(1 + 2 + 5 + 6) / 4, (3 + 4 + 7 + 8) / 4]
    /// assert_eq!(x.mean_axes_keepdim::<Axes2<0, 2>>().to_array(), [[[3.5], [5.5]]]);
    /// ```
    #[must_use]
    pub fn mean_axes_keepdim<X>(&self) -> Tensor<<S as ReduceAxes<X>>::KeepDim, E, T>
    where
        S: ReduceAxes<X>,
    {
        self.reduce_axes(S::AXES, self.typed_shape().kept_axes(), true)
    }

    /// The sum of all elements in a shape of the same rank with every dimension 1 (`x.sum(dim=all,
    /// keepdim=True)` in PyTorch, numpy's `x.sum(keepdims=True)`): ready to broadcast against `x`.
    /// Same values, derivative and edge values as [`sum`](Tensor::sum).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.sum_keepdim().to_array(), [[10.0]]);
    /// ```
    #[must_use]
    pub fn sum_keepdim(&self) -> Tensor<<S as ReduceAll>::KeepDim, E, T>
    where
        S: ReduceAll,
    {
        self.sum().reshape_to(self.typed_shape().kept_all())
    }

    /// The mean of all elements in a shape of the same rank with every dimension 1 (`x.mean(dim=all,
    /// keepdim=True)` in PyTorch). Same values, derivative and edge values as
    /// [`mean`](Tensor::mean).
    ///
    /// ```
    /// use shaped::Tensor;
    /// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.mean_keepdim().to_array(), [[2.5]]);
    /// ```
    #[must_use]
    pub fn mean_keepdim(&self) -> Tensor<<S as ReduceAll>::KeepDim, E, T>
    where
        S: ReduceAll,
    {
        self.mean().reshape_to(self.typed_shape().kept_all())
    }

    /// The sum (or with `mean`, the mean) over `axes` (increasing), with shape `out`: one sum over
    /// the middle axis of [`Lanes`] per axis, the largest first, so that the smaller axes keep
    /// their positions.
    fn reduce_axes<S2: Shape>(&self, axes: &[usize], out: S2, mean: bool) -> Tensor<S2, E, T> {
        let mut dims = self.shape().as_ref().to_vec();
        let mut steps = Vec::with_capacity(axes.len());
        let mut y: Option<Buffer<E>> = None;
        for &ax in axes.iter().rev() {
            let lanes = Lanes::at(&dims, ax);
            let mut next = Buffer::zeros(lanes.sets());
            sum_middle(y.as_deref().unwrap_or(self.data()), lanes, &mut next);
            y = Some(next);
            dims.remove(ax);
            steps.push(lanes);
        }
        let mut y = y.expect("at least two axes");
        let n = E::from_f64_lossy(steps.iter().map(|l| l.len).product::<usize>() as f64);
        if mean {
            for v in &mut y {
                *v /= n;
            }
        }
        let tape = self.tape().record([self.input()], y.len(), |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let mut g = if mean {
                    dy.iter().map(|&v| v / n).collect()
                } else {
                    dy.to_vec()
                };
                // Undo the sums in reverse: the last one first, the first one into the gradient.
                let (first, rest) = steps.split_first().expect("at least two axes");
                for lanes in rest.iter().rev() {
                    let mut wider = vec![E::zero(); lanes.outer * lanes.len * lanes.inner];
                    spread_middle(&g, *lanes, &mut wider);
                    g = wider;
                }
                spread_middle(&g, *first, grads.acc(node));
            })
        });
        Tensor::from_parts(Arc::new(y), out, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Axes2, Axes3, Axes6, Const, Rank1, Rank3, Rank4, Rank6, Tape, Tensor, gradcheck};

    #[test]
    fn match_one_axis_at_a_time() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(30);
        let two = x.sum_axes::<Axes2<1, 3>>();
        let _: &Tensor<crate::Rank2<2, 4>, f64> = &two;
        approx::assert_relative_eq!(two, x.sum_axis::<3>().sum_axis::<1>(), epsilon = 1e-12);
        let three = x.mean_axes::<Axes3<0, 2, 3>>();
        let want = x.mean_axis::<3>().mean_axis::<2>().mean_axis::<0>();
        approx::assert_relative_eq!(three, want, epsilon = 1e-12);
        assert_eq!(x.sum_axes_keepdim::<Axes3<0, 1, 3>>().shape(), [1, 1, 4, 1]);
        let all: Tensor<Rank6<1, 2, 1, 3, 1, 2>, f64> = random(31);
        approx::assert_relative_eq!(
            all.sum_axes::<Axes6<0, 1, 2, 3, 4, 5>>().item(),
            all.sum().item(),
            epsilon = 1e-12
        );
        assert_eq!(x.sum_keepdim().shape(), [1, 1, 1, 1]);
        approx::assert_relative_eq!(x.mean_keepdim().as_slice()[0], x.mean().item());
    }

    #[test]
    fn gradient_literal() {
        // f = sum(mean_axes<0, 2>(x) * [1, 10]) for x of shape [2, 2, 3]: df/dx[a][b][c] = w[b] / 6.
        let x: Tensor<Rank3<2, 2, 3>, f64> = random(32);
        let w = Tensor::from([1.0, 10.0]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.mean_axes::<Axes2<0, 2>>() * &w)
            .sum()
            .backward()
            .get(&xt);
        let want = [[[1.0 / 6.0; 3], [10.0 / 6.0; 3]]; 2];
        approx::assert_relative_eq!(g, Tensor::from(want), epsilon = 1e-15);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank4<2, 3, 2, 3>, f64> = random(33);
        let w: Tensor<Rank1<3>, f64> = random(34);
        gradcheck(|x| (x.sum_axes::<Axes3<0, 2, 3>>() * &w).sum(), &x).unwrap();
        let v: Tensor<Rank3<1, 3, 1>, f64> = random(35);
        let x3: Tensor<Rank3<2, 3, 4>, f64> = random(36);
        gradcheck(|x| (x.mean_axes_keepdim::<Axes2<0, 2>>() * &v).sum(), &x3).unwrap();
        // used twice
        gradcheck(
            |x| (x.sum_axes::<Axes2<0, 2>>() * x.mean_axes::<Axes2<0, 2>>()).sum(),
            &x3,
        )
        .unwrap();
        gradcheck(|x| (x.sum_keepdim() * x.mean_keepdim()).sum(), &x3).unwrap();
    }

    #[test]
    fn run_time_shapes() {
        let x: Tensor<(usize, Const<2>, Const<3>), f64> =
            Tensor::from_vec_with((2, Const, Const), (0..12).map(f64::from).collect()).unwrap();
        let s = x.sum_axes::<Axes2<0, 2>>();
        let _: &Tensor<(Const<2>,), f64> = &s;
        assert_eq!(
            s.to_vec(),
            [
                0.0 + 1.0 + 2.0 + 6.0 + 7.0 + 8.0,
                3.0 + 4.0 + 5.0 + 9.0 + 10.0 + 11.0
            ]
        );
        let m = x.mean_axes::<Axes2<1, 2>>();
        assert_eq!((m.typed_shape(), m.to_vec()), ((2,), vec![2.5, 8.5]));
        let k = x.sum_keepdim();
        let _: &Tensor<(Const<1>, Const<1>, Const<1>), f64> = &k;
        assert_eq!(k.to_vec(), [66.0]);
    }

    #[test]
    fn empty_axes_give_zero_sums_and_nan_means() {
        let x: Tensor<(usize, Const<2>, Const<3>), f64> = Tensor::zeros_with((0, Const, Const));
        assert_eq!(x.sum_axes::<Axes2<0, 2>>().to_vec(), [0.0, 0.0]);
        assert!(
            x.mean_axes::<Axes2<0, 2>>()
                .to_vec()
                .iter()
                .all(|v| v.is_nan())
        );
    }
}
