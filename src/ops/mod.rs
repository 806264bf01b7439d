//! The ops, one per file. Each file holds the op's docs, its forward as a method of [`Tensor`] whose
//! signature is its shape rule, its backward closure right under the forward, and its tests.
//!
//! This module holds what the ops share: the elementwise drivers and the operator-trait macros.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::tape::internal::Input;
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
    /// `f` and `df` are generic, so each loop is compiled with them inlined, for AVX-512, AVX2 and the
    /// baseline, the best one the CPU has chosen at the first call (as the crate's kernels are): plain
    /// arithmetic in `f` and `df` is vectorized; a call into libm (`f32::tanh`) stays one call per
    /// element. `df` runs during `backward` and must be `'static`.
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
        map_pass(&mut y, x, &f);
        let y = Arc::new(y);
        let tape = self.tape().record([self.input()], n, |[node]| {
            let (x, y) = (Arc::clone(x), Arc::clone(&y));
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                // The one-operand case of a binary op's backward loop, `x` standing for both.
                accumulate_one(grads.acc_fresh(node), [&x, &x, &y, dy], &|x, _, y| df(x, y));
            })
        });
        Tensor::from_parts(y, self.typed_shape(), tape)
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
        &a.tape().merge(b.tape()),
        (a.data(), a.input()),
        (b.data(), b.input()),
        a.typed_shape(),
        f,
        fa,
        fb,
    )
}

/// The loop of [`zip_with`] on two operands' values and inputs, of `out`'s number of elements,
/// recorded on `tape` (the operands' trackings merged).
#[inline]
pub(crate) fn zip_parts<O: Shape, E: Element, T: Tracking<E>>(
    tape: &T,
    (av, ia): (&Arc<Buffer<E>>, Input<'_, E>),
    (bv, ib): (&Arc<Buffer<E>>, Input<'_, E>),
    out: O,
    f: impl Fn(E, E) -> E,
    fa: impl Fn(E, E, E) -> E + 'static,
    fb: impl Fn(E, E, E) -> E + 'static,
) -> Tensor<O, E, T> {
    let n = av.len();
    debug_assert!(bv.len() == n && out.numel() == n);
    let mut y = Buffer::uninit(n);
    zip_pass(&mut y, av, bv, &f);
    let y = Arc::new(y);
    let tape = tape.record([ia, ib], n, |[na, nb]| {
        let (av, bv, y) = (Arc::clone(av), Arc::clone(bv), Arc::clone(&y));
        Box::new(move |dy, grads| {
            // Two different nodes: both gradients in one pass, which reads `dy` once.
            if let (Some(na), Some(nb)) = (na, nb)
                && let Some([da, db]) = grads.acc_fresh_pair(na, nb)
            {
                accumulate_both(da, db, [&av, &bv, &y, dy], &fa, &fb);
                return;
            }
            // One operand needs a gradient, or one node is on both sides (`a * a`): a pass each.
            if let Some(na) = na {
                accumulate_one(grads.acc_fresh(na), [&av, &bv, &y, dy], &fa);
            }
            if let Some(nb) = nb {
                accumulate_one(grads.acc_fresh(nb), [&av, &bv, &y, dy], &fb);
            }
        })
    });
    Tensor::from_parts(y, out, tape)
}

/// Compiles the elementwise loop that follows also for AVX-512 and for AVX2, the best one the CPU
/// supports chosen at run time, as the kernels of `crate::kernels` are. No multiply-add is fused, so
/// every version gives the same bits. A loop using it starts its vector stores at a 64-byte boundary
/// of the buffer it writes ([`to_line`]): a large buffer starts 16 bytes past one, and 32- and 64-byte
/// stores that straddle two cache lines make such a loop slower than the baseline's 16-byte ones.
macro_rules! wide {
    ($(#[$attr:meta])* fn $($rest:tt)*) => {
        $(#[$attr])*
        #[multiversion::multiversion(targets(
            "x86_64+avx512f+avx512bw+avx512cd+avx512dq+avx512vl+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
            "x86_64+avx2+fma+bmi1+bmi2+lzcnt+popcnt",
        ))]
        fn $($rest)*
    };
}
pub(crate) use wide;

/// The number of leading elements of `d` before its first 64-byte boundary (at most all of them).
#[inline]
pub(crate) fn to_line<E>(d: &[E]) -> usize {
    let offset = d.as_ptr().addr() % 64;
    ((64 - offset) % 64 / size_of::<E>()).min(d.len())
}

wide! {
    /// `y = f(a, b)` elementwise: the forward loop of [`zip_parts`].
    fn zip_pass<E: Element, F: Fn(E, E) -> E>(y: &mut [E], a: &[E], b: &[E], f: &F) {
        let at = to_line(y);
        let (y0, y1) = y.split_at_mut(at);
        zip_loop(y0, a, b, f);
        zip_loop(y1, &a[at..], &b[at..], f);
    }
}

/// The loop of [`zip_pass`] over `y`'s length.
// Always inlined, so that it is compiled into each version with that version's features.
#[allow(clippy::inline_always)]
#[inline(always)]
fn zip_loop<E: Element, F: Fn(E, E) -> E>(y: &mut [E], a: &[E], b: &[E], f: &F) {
    let n = y.len();
    for ((o, &x), &z) in y.iter_mut().zip(&a[..n]).zip(&b[..n]) {
        *o = f(x, z);
    }
}

wide! {
    /// `y = f(x)` elementwise: the forward loop of [`Tensor::unary`], so that a user's function is
    /// compiled with the best vector instructions the CPU has, as the crate's own kernels are.
    fn map_pass<E: Element, F: Fn(E) -> E>(y: &mut [E], x: &[E], f: &F) {
        let at = to_line(y);
        let (y0, y1) = y.split_at_mut(at);
        map_loop(y0, x, f);
        map_loop(y1, &x[at..], f);
    }
}

/// The loop of [`map_pass`] over `y`'s length.
// Always inlined, so that it is compiled into each version with that version's features.
#[allow(clippy::inline_always)]
#[inline(always)]
fn map_loop<E: Element, F: Fn(E) -> E>(y: &mut [E], x: &[E], f: &F) {
    let n = y.len();
    for (o, &v) in y.iter_mut().zip(&x[..n]) {
        *o = f(v);
    }
}

/// Writes (when the gradient is fresh) or adds `dy * f(a, b, y)` into the gradient `d`, in one pass
/// over the four inputs `[a, b, y, dy]`.
#[inline]
fn accumulate_one<E: Element>(
    (d, fresh): (&mut [E], bool),
    inputs: [&[E]; 4],
    f: &impl Fn(E, E, E) -> E,
) {
    if fresh {
        one_pass::<E, true, _>(d, inputs, f);
    } else {
        one_pass::<E, false, _>(d, inputs, f);
    }
}

wide! {
    /// The loop of [`accumulate_one`]: `W` writes `d` instead of adding into it (a constant, so that
    /// each loop is vectorized without a branch).
    fn one_pass<E: Element, const W: bool, F: Fn(E, E, E) -> E>(
        d: &mut [E],
        inputs: [&[E]; 4],
        f: &F,
    ) {
        let at = to_line(d);
        let (d0, d1) = d.split_at_mut(at);
        one_loop::<E, W, F>(d0, inputs, f);
        one_loop::<E, W, F>(d1, inputs.map(|v| &v[at..]), f);
    }
}

/// The loop of [`one_pass`] over `d`'s length.
// Always inlined, so that it is compiled into each version with that version's features.
#[allow(clippy::inline_always)]
#[inline(always)]
fn one_loop<E: Element, const W: bool, F: Fn(E, E, E) -> E>(
    d: &mut [E],
    [a, b, y, dy]: [&[E]; 4],
    f: &F,
) {
    let n = d.len();
    let (a, b, y, dy) = (&a[..n], &b[..n], &y[..n], &dy[..n]);
    for ((((d, &a), &b), &y), &g) in d.iter_mut().zip(a).zip(b).zip(y).zip(dy) {
        let v = g * f(a, b, y);
        if W {
            *d = v;
        } else {
            *d += v;
        }
    }
}

/// [`accumulate_one`] for two gradients at once: `dy * fa(a, b, y)` into `da` and
/// `dy * fb(a, b, y)` into `db`, in one pass that reads the inputs once.
#[inline]
fn accumulate_both<E: Element>(
    (da, fresh_a): (&mut [E], bool),
    (db, fresh_b): (&mut [E], bool),
    inputs: [&[E]; 4],
    fa: &impl Fn(E, E, E) -> E,
    fb: &impl Fn(E, E, E) -> E,
) {
    match (fresh_a, fresh_b) {
        (true, true) => both_pass::<E, true, true, _, _>(da, db, inputs, fa, fb),
        (true, false) => both_pass::<E, true, false, _, _>(da, db, inputs, fa, fb),
        (false, true) => both_pass::<E, false, true, _, _>(da, db, inputs, fa, fb),
        (false, false) => both_pass::<E, false, false, _, _>(da, db, inputs, fa, fb),
    }
}

wide! {
    /// The loop of [`accumulate_both`]: `WA` (`WB`) writes `da` (`db`) instead of adding into it.
    fn both_pass<E: Element, const WA: bool, const WB: bool, FA, FB>(
        da: &mut [E],
        db: &mut [E],
        inputs: [&[E]; 4],
        fa: &FA,
        fb: &FB,
    ) where
        FA: Fn(E, E, E) -> E,
        FB: Fn(E, E, E) -> E,
    {
        let at = to_line(da);
        let (da0, da1) = da.split_at_mut(at);
        let (db0, db1) = db.split_at_mut(at);
        both_loop::<E, WA, WB, FA, FB>(da0, db0, inputs, fa, fb);
        both_loop::<E, WA, WB, FA, FB>(da1, db1, inputs.map(|v| &v[at..]), fa, fb);
    }
}

/// The loop of [`both_pass`] over `da`'s length (`db` is as long).
// Always inlined, so that it is compiled into each version with that version's features.
#[allow(clippy::inline_always)]
#[inline(always)]
fn both_loop<E: Element, const WA: bool, const WB: bool, FA, FB>(
    da: &mut [E],
    db: &mut [E],
    [a, b, y, dy]: [&[E]; 4],
    fa: &FA,
    fb: &FB,
) where
    FA: Fn(E, E, E) -> E,
    FB: Fn(E, E, E) -> E,
{
    let n = da.len();
    let (db, a, b, y, dy) = (&mut db[..n], &a[..n], &b[..n], &y[..n], &dy[..n]);
    for (((((ga, gb), &a), &b), &y), &g) in da.iter_mut().zip(db).zip(a).zip(b).zip(y).zip(dy) {
        let (va, vb) = (g * fa(a, b, y), g * fb(a, b, y));
        if WA {
            *ga = va;
        } else {
            *ga += va;
        }
        if WB {
            *gb = vb;
        } else {
            *gb += vb;
        }
    }
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
