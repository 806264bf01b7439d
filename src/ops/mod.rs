//! The ops, one per file. Each file holds the op's docs, its forward as a method of [`Tensor`] whose
//! signature is its shape rule, its backward closure right under the forward, and its tests.
//!
//! This module holds what the ops share: the elementwise drivers and the operator-trait macros.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::tape::internal::Record;
use crate::{Element, Merge, Shape, Tensor, Tracking};

// Arithmetic
mod add;
pub(crate) mod binary;
mod div;
mod mul;
mod neg;
mod sub;
// Unary
mod abs;
mod activations;
mod elementary;
mod exp;
mod ln;
mod pow;
mod relu;
pub(crate) mod sigmoid;
mod sqrt;
mod tanh;
// Layout
mod broadcast;
mod concat;
mod narrow;
mod permute;
mod reshape;
mod stack;
mod transpose;
// Reductions
mod lanes;
mod logsumexp;
mod max;
mod mean;
mod softmax;
mod sum;
mod sum_axes;
mod var;
// Masking and comparison
mod argmax;
mod clamp;
mod compare;
mod mask;
mod minmax;
mod where_;
// Indexing
mod embedding;
mod gather;
mod index_select;
// Contractions
mod bilinear;
mod inner;
mod linear;
mod matmul;
// Convolution and pooling
mod conv;
mod pool;

// Each op file's public items (its shape-rule traits) are re-exported at the crate root.
pub use sum_axes::*;
#[allow(unused_imports)]
pub use {
    abs::*, activations::*, add::*, bilinear::*, binary::*, broadcast::*, div::*, elementary::*,
    exp::*, inner::*, linear::*, ln::*, logsumexp::*, matmul::*, max::*, mean::*, mul::*, neg::*,
    permute::*, pow::*, relu::*, reshape::*, sigmoid::*, softmax::*, sqrt::*, sub::*, sum::*,
    tanh::*, transpose::*,
};
pub use {argmax::*, compare::*, mask::*, var::*};
pub use {concat::*, embedding::*, gather::*, index_select::*, narrow::*, stack::*};
pub use {conv::*, pool::*};
pub(crate) use {index_select::checked_ids, lanes::Lanes, softmax::softmax_middle};

/// The tracking of the result of an op on operands tracked by `T1` and `T2`.
pub(crate) type Merged<E, T1, T2> = <T1 as Merge<E, T2>>::Output;

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// Elementwise `y = kernel(x)` with slice kernels (the vectorized ones of `crate::kernels`),
    /// recording `backward(v, dy, dx, add)`, which writes (or adds, when `add`) the gradient into `dx`
    /// from `v`: the result `y` when `of_result`, else the input `x`.
    #[inline]
    pub(crate) fn unary_kernel(
        &self,
        kernel: fn(&[E], &mut [E]),
        backward: fn(&[E], &[E], &mut [E], bool),
        of_result: bool,
    ) -> Self {
        let x = self.data();
        let n = x.len();
        let mut y = Buffer::uninit(n);
        kernel(x, &mut y);
        let y = Arc::new(y);
        let tape = self.tape().record([self.input()], n, |[node]| {
            let v = Arc::clone(if of_result { &y } else { x });
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                let (dx, fresh) = grads.acc_fresh(node);
                backward(&v, dy, dx, !fresh);
            })
        });
        Tensor::from_parts(y, self.typed_shape(), tape)
    }

    /// A differentiable elementwise op of your own: `y = f(x)` for every element, with the derivative
    /// `df(x, y) = dy/dx` given the input and the output. On a tape it records `dx += dy * df(x, y)`,
    /// as the crate's own elementwise ops do (most are written with it): one result buffer,
    /// one closure, no copy. See [`CustomOp`](crate::CustomOp) for ops of several inputs.
    ///
    /// `f` and `df` are generic, so the loop is compiled with them inlined. `df` runs during
    /// `backward` and must be `'static`.
    ///
    /// ```
    /// use shaped::{Shape, Tape, Tensor, Tracking, gradcheck};
    /// /// softsign(x) = x / (1 + |x|), with derivative 1 / (1 + |x|)^2
    /// fn softsign<S: Shape, T: Tracking<f64>>(x: &Tensor<S, f64, T>) -> Tensor<S, f64, T> {
    ///     x.unary(|v| v / (1.0 + v.abs()), |v, _y| 1.0 / ((1.0 + v.abs()) * (1.0 + v.abs())))
    /// }
    /// let x = Tensor::from([-3.0, 0.0, 1.0]);
    /// assert_eq!(softsign(&x).to_vec(), vec![-0.75, 0.0, 0.5]);
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// assert_eq!(softsign(&xt).sum().backward().get(&xt).to_vec(), vec![0.0625, 1.0, 0.25]);
    /// gradcheck(|x| softsign(&x).sum(), &x).unwrap();
    /// ```
    #[inline]
    #[must_use]
    pub fn unary(&self, f: impl Fn(E) -> E, df: impl Fn(E, E) -> E + 'static) -> Self {
        let x = self.data();
        let n = x.len();
        let mut y = Buffer::uninit(n);
        for (o, &v) in y.iter_mut().zip(x.iter()) {
            *o = f(v);
        }
        let y = Arc::new(y);
        let tape = self.tape().record([self.input()], n, |[node]| {
            let (x, y) = (Arc::clone(x), Arc::clone(&y));
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                let (dx, fresh) = grads.acc_fresh(node);
                accumulate(
                    dx,
                    fresh,
                    x.iter().zip(y.iter()).zip(dy),
                    |((&xv, &yv), &g)| g * df(xv, yv),
                );
            })
        });
        Tensor::from_parts(y, self.typed_shape(), tape)
    }
}

/// Writes (`fresh`: `dx` holds no gradient yet) or adds `f(item)` for each item into `dx`, one item per
/// element, in one loop over slices that the compiler vectorizes.
#[inline]
fn accumulate<E: Element, I: Iterator>(
    dx: &mut [E],
    fresh: bool,
    items: I,
    f: impl Fn(I::Item) -> E,
) {
    if fresh {
        for (d, item) in dx.iter_mut().zip(items) {
            *d = f(item);
        }
    } else {
        for (d, item) in dx.iter_mut().zip(items) {
            *d += f(item);
        }
    }
}

/// Panics unless two shapes that an op needs equal are: the run-time check of a rule between shapes
/// with run-time dimensions (for static shapes it compares zero-sized values and costs nothing).
#[inline]
#[track_caller]
pub(crate) fn same_shape<S: Shape>(op: &str, a: S, b: S) {
    if a != b {
        shapes_differ(op, a.dims().as_ref(), b.dims().as_ref());
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn shapes_differ(op: &str, a: &[usize], b: &[usize]) -> ! {
    panic!("{op}: the shapes differ: {a:?} and {b:?}")
}

/// Elementwise `y = f(a, b)` of two tensors of the same shape, recording `da += dy * fa(a, b, y)` and
/// `db += dy * fb(a, b, y)` for the operands that need a gradient. Panics, naming `op` and both
/// shapes, when run-time dimensions differ. (The arithmetic operators broadcast, through
/// [`binary::zip_broadcast`]; `maximum` and `minimum` use this.)
#[inline]
#[track_caller]
pub(crate) fn zip_with<S: Shape, E: Element, T1, T2>(
    op: &str,
    a: &Tensor<S, E, T1>,
    b: &Tensor<S, E, T2>,
    f: impl Fn(E, E) -> E,
    fa: impl Fn(E, E, E) -> E + 'static,
    fb: impl Fn(E, E, E) -> E + 'static,
) -> Tensor<S, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    same_shape(op, a.typed_shape(), b.typed_shape());
    zip_parts(
        (a.data(), a.tape()),
        (b.data(), b.tape()),
        a.typed_shape(),
        f,
        fa,
        fb,
    )
}

/// The loop of [`zip_with`] on two operands' values and trackings, of `out`'s number of elements.
#[inline]
pub(crate) fn zip_parts<O: Shape, E: Element, T1, T2>(
    (av, ta): (&Arc<Buffer<E>>, &T1),
    (bv, tb): (&Arc<Buffer<E>>, &T2),
    out: O,
    f: impl Fn(E, E) -> E,
    fa: impl Fn(E, E, E) -> E + 'static,
    fb: impl Fn(E, E, E) -> E + 'static,
) -> Tensor<O, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    let n = av.len();
    debug_assert!(bv.len() == n && out.numel() == n);
    let mut y = Buffer::uninit(n);
    for ((o, &x), &z) in y.iter_mut().zip(av.iter()).zip(bv.iter()) {
        *o = f(x, z);
    }
    let y = Arc::new(y);
    let tape = ta.merge(tb);
    let tape = tape.record([ta.input(), tb.input()], n, |[na, nb]| {
        let (av, bv, y) = (Arc::clone(av), Arc::clone(bv), Arc::clone(&y));
        Box::new(move |dy, grads| {
            let inputs = || av.iter().zip(bv.iter()).zip(y.iter()).zip(dy);
            if let Some(na) = na {
                let (da, fresh) = grads.acc_fresh(na);
                accumulate(da, fresh, inputs(), |(((&a, &b), &y), &g)| g * fa(a, b, y));
            }
            if let Some(nb) = nb {
                let (db, fresh) = grads.acc_fresh(nb);
                accumulate(db, fresh, inputs(), |(((&a, &b), &y), &g)| g * fb(a, b, y));
            }
        })
    });
    Tensor::from_parts(y, out, tape)
}

/// Implements a `core::ops` operator between tensors whose shapes broadcast together
/// ([`BroadcastShapes`](crate::BroadcastShapes)), for every combination of owned and borrowed
/// operands, as [`zip_broadcast`](crate::ops::binary::zip_broadcast) with the value `$f(a, b)` and the partial derivatives
/// `$fa(a, b, y)` and `$fb(a, b, y)`. The doc attributes go on the owned-owned impl.
macro_rules! tensor_operator {
    ($(#[$doc:meta])* $Trait:ident, $method:ident, $f:expr, $fa:expr, $fb:expr) => {
        $(#[$doc])*
        impl<S1, S2, E, T1, T2> core::ops::$Trait<Tensor<S2, E, T2>> for Tensor<S1, E, T1>
        where
            S1: crate::BroadcastShapes<S2>,
            S2: Shape,
            E: Element,
            T1: Tracking<E> + crate::Merge<E, T2>,
            T2: Tracking<E>,
        {
            type Output = Tensor<S1::Output, E, crate::ops::Merged<E, T1, T2>>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Tensor<S2, E, T2>) -> Self::Output {
                crate::ops::binary::zip_broadcast(stringify!($method), &self, &rhs, $f, $fa, $fb)
            }
        }

        impl<S1, S2, E, T1, T2> core::ops::$Trait<&Tensor<S2, E, T2>> for Tensor<S1, E, T1>
        where
            S1: crate::BroadcastShapes<S2>,
            S2: Shape,
            E: Element,
            T1: Tracking<E> + crate::Merge<E, T2>,
            T2: Tracking<E>,
        {
            type Output = Tensor<S1::Output, E, crate::ops::Merged<E, T1, T2>>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Tensor<S2, E, T2>) -> Self::Output {
                crate::ops::binary::zip_broadcast(stringify!($method), &self, rhs, $f, $fa, $fb)
            }
        }

        impl<S1, S2, E, T1, T2> core::ops::$Trait<Tensor<S2, E, T2>> for &Tensor<S1, E, T1>
        where
            S1: crate::BroadcastShapes<S2>,
            S2: Shape,
            E: Element,
            T1: Tracking<E> + crate::Merge<E, T2>,
            T2: Tracking<E>,
        {
            type Output = Tensor<S1::Output, E, crate::ops::Merged<E, T1, T2>>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: Tensor<S2, E, T2>) -> Self::Output {
                crate::ops::binary::zip_broadcast(stringify!($method), self, &rhs, $f, $fa, $fb)
            }
        }

        impl<S1, S2, E, T1, T2> core::ops::$Trait<&Tensor<S2, E, T2>> for &Tensor<S1, E, T1>
        where
            S1: crate::BroadcastShapes<S2>,
            S2: Shape,
            E: Element,
            T1: Tracking<E> + crate::Merge<E, T2>,
            T2: Tracking<E>,
        {
            type Output = Tensor<S1::Output, E, crate::ops::Merged<E, T1, T2>>;
            #[inline]
            #[track_caller]
            fn $method(self, rhs: &Tensor<S2, E, T2>) -> Self::Output {
                crate::ops::binary::zip_broadcast(stringify!($method), self, rhs, $f, $fa, $fb)
            }
        }
    };
}
pub(crate) use tensor_operator;

/// Implements a `core::ops` operator between a tensor and a scalar of its element type, on both sides
/// and for owned and borrowed tensors: `tensor op s` calls `$right(&tensor, s)`, `s op tensor` calls
/// `$left(s, &tensor)`.
macro_rules! scalar_operator {
    ($Trait:ident, $method:ident, $right:path, $left:path) => {
        impl<S: Shape, E: Element, T: Tracking<E>> core::ops::$Trait<E> for Tensor<S, E, T> {
            type Output = Tensor<S, E, T>;
            #[inline]
            fn $method(self, rhs: E) -> Self::Output {
                $right(&self, rhs)
            }
        }

        impl<S: Shape, E: Element, T: Tracking<E>> core::ops::$Trait<E> for &Tensor<S, E, T> {
            type Output = Tensor<S, E, T>;
            #[inline]
            fn $method(self, rhs: E) -> Self::Output {
                $right(self, rhs)
            }
        }

        crate::ops::scalar_operator!(@left $Trait, $method, $left, f32);
        crate::ops::scalar_operator!(@left $Trait, $method, $left, f64);
    };
    (@left $Trait:ident, $method:ident, $left:path, $e:ty) => {
        impl<S: Shape, T: Tracking<$e>> core::ops::$Trait<Tensor<S, $e, T>> for $e {
            type Output = Tensor<S, $e, T>;
            #[inline]
            fn $method(self, rhs: Tensor<S, $e, T>) -> Self::Output {
                $left(self, &rhs)
            }
        }

        impl<S: Shape, T: Tracking<$e>> core::ops::$Trait<&Tensor<S, $e, T>> for $e {
            type Output = Tensor<S, $e, T>;
            #[inline]
            fn $method(self, rhs: &Tensor<S, $e, T>) -> Self::Output {
                $left(self, rhs)
            }
        }
    };
}
pub(crate) use scalar_operator;

/// Test helpers shared by the ops' tests.
#[cfg(test)]
pub(crate) mod testing {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use crate::{Const, Rank1, Rank2, StaticShape, Tape, Tensor};

    /// A seeded generator, so every test run sees the same "random" inputs.
    pub(crate) fn rng(seed: u64) -> StdRng {
        StdRng::seed_from_u64(seed)
    }

    /// Uniform values in `[-2, 2)`, from `seed`.
    pub(crate) fn random<S: StaticShape>(seed: u64) -> Tensor<S, f64> {
        Tensor::uniform(&mut rng(seed), -2.0, 2.0)
    }

    /// A tensor on a tape, as an op sees it.
    pub(crate) type Taped<S> = Tensor<S, f64, Tape<f64>>;

    /// The gradient of `sum(f(x))` at `x`.
    pub(crate) fn grad_of<const N: usize>(
        x: [f64; N],
        f: impl Fn(&Taped<Rank1<N>>) -> Taped<Rank1<N>>,
    ) -> Vec<f64> {
        let tape = Tape::new();
        let xt = tape.watch(&Tensor::from(x));
        f(&xt).sum().backward().get(&xt).to_vec()
    }

    /// Asserts that `f` gives the same values and gradients, bit for bit, on `x` and on `x` with a
    /// run-time first dimension (`f_static` and `f_runtime` are the same function at both shapes).
    pub(crate) fn assert_runtime_matches_static(
        x: &Tensor<Rank2<3, 4>, f64>,
        f_static: impl Fn(&Taped<Rank2<3, 4>>) -> Taped<Rank2<3, 4>>,
        f_runtime: impl Fn(&Taped<(usize, Const<4>)>) -> Taped<(usize, Const<4>)>,
    ) {
        let xd: Tensor<(usize, Const<4>), f64> =
            Tensor::from_vec_with((3, Const), x.to_vec()).unwrap();
        let tape = Tape::new();
        let (xt, xdt) = (tape.watch(x), tape.watch(&xd));
        let (y, yd) = (f_static(&xt), f_runtime(&xdt));
        assert_eq!(yd.to_vec(), y.to_vec());
        let g = (y.sum() + yd.sum()).backward();
        assert_eq!(g.get(&xdt).to_vec(), g.get(&xt).to_vec());
    }
}
