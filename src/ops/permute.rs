//! `permute`: the axes of a tensor of rank 2, 3 or 4 in any order, named by a type such as
//! [`Axes3<2, 0, 1>`].

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::shape::strides_of;
use crate::{Dim, Element, Rank2, Rank3, Rank4, Shape, Tensor, Tracking};

/// An order of the two axes of a rank-2 tensor, for [`Tensor::permute`]: output axis 0 is input axis
/// `A`, output axis 1 is input axis `B`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes2<const A: usize, const B: usize>;

/// An order of the three axes of a rank-3 tensor, for [`Tensor::permute`]: output axis `i` is input
/// axis `[A, B, C][i]`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes3<const A: usize, const B: usize, const C: usize>;

/// An order of the four axes of a rank-4 tensor, for [`Tensor::permute`]: output axis `i` is input
/// axis `[A, B, C, D][i]`.
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq, Hash)]
pub struct Axes4<const A: usize, const B: usize, const C: usize, const D: usize>;

/// The rule of [`Tensor::permute`]: `P` (an [`Axes2`], [`Axes3`] or [`Axes4`]) names every axis of the
/// shape exactly once, and `Output` is the shape with its axes in that order.
///
/// Implemented for each of the 2 + 6 + 24 permutations of ranks 2, 3 and 4, so a repeated axis, a
/// missing axis, an axis out of range or an `AxesN` of the wrong rank is a type error.
///
/// ```
/// use shaped::{Axes3, PermuteTo, Rank3};
/// let _: <Rank3<2, 3, 4> as PermuteTo<Axes3<2, 0, 1>>>::Output = Rank3::<4, 2, 3>;
/// assert_eq!(<Rank3<2, 3, 4> as PermuteTo<Axes3<2, 0, 1>>>::AXES, &[2, 0, 1]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{P}` is not a permutation of the axes of `{Self}`",
    label = "`{P}` must name each axis of `{Self}` exactly once",
    note = "`permute` takes `Axes2<..>` for rank 2, `Axes3<..>` for rank 3 and `Axes4<..>` for rank 4, \
            listing every axis (counted from 0) once: output axis i is input axis P[i]"
)]
pub trait PermuteTo<P>: Shape {
    /// The shape with its axes reordered: output axis `i` has the size of input axis `AXES[i]`.
    type Output: Shape;
    /// The permutation as a list: output axis `i` is input axis `AXES[i]`.
    const AXES: &'static [usize];
    /// The shape with its axes reordered.
    fn permuted(&self) -> Self::Output;
}

/// Whether `p` holds each of `0..p.len()` exactly once.
const fn is_permutation(p: &[usize]) -> bool {
    let mut i = 0;
    while i < p.len() {
        if p[i] >= p.len() {
            return false;
        }
        let mut j = i + 1;
        while j < p.len() {
            if p[i] == p[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// The name of the input dimension with a given index, inside `permute_to!`.
macro_rules! dim {
    (0) => {
        D0
    };
    (1) => {
        D1
    };
    (2) => {
        D2
    };
    (3) => {
        D3
    };
}

/// One `PermuteTo` impl per listed permutation. The output dimensions are read off the indices, and a
/// `const` assertion checks that each listed entry is a permutation.
macro_rules! permute_to {
    ($rank:ident $axes:ident $dims:tt : $( $perm:tt )*) => {$(
        permute_to!(@one $rank $axes $dims $perm);
    )*};
    (@one $rank:ident $axes:ident [$($d:ident),*] ($($p:tt),*)) => {
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize),*> PermuteTo<$axes<$($p),*>> for $rank<$($d),*> {
            type Output = $rank<$({ dim!($p) }),*>;
            const AXES: &'static [usize] = &[$($p),*];
            #[inline]
            fn permuted(&self) -> Self::Output {
                $rank
            }
        }
        #[diagnostic::do_not_recommend]
        impl<$($d: Dim),*> PermuteTo<$axes<$($p),*>> for ($($d,)*) {
            type Output = ($(dim!($p),)*);
            const AXES: &'static [usize] = &[$($p),*];
            #[inline]
            fn permuted(&self) -> Self::Output {
                ($(self.$p,)*)
            }
        }
        const _: () = assert!(is_permutation(&[$($p),*]));
    };
}

permute_to! { Rank2 Axes2 [D0, D1]:
    (0, 1) (1, 0)
}

permute_to! { Rank3 Axes3 [D0, D1, D2]:
    (0, 1, 2) (0, 2, 1) (1, 0, 2) (1, 2, 0) (2, 0, 1) (2, 1, 0)
}

permute_to! { Rank4 Axes4 [D0, D1, D2, D3]:
    (0, 1, 2, 3) (0, 1, 3, 2) (0, 2, 1, 3) (0, 2, 3, 1) (0, 3, 1, 2) (0, 3, 2, 1)
    (1, 0, 2, 3) (1, 0, 3, 2) (1, 2, 0, 3) (1, 2, 3, 0) (1, 3, 0, 2) (1, 3, 2, 0)
    (2, 0, 1, 3) (2, 0, 3, 1) (2, 1, 0, 3) (2, 1, 3, 0) (2, 3, 0, 1) (2, 3, 1, 0)
    (3, 0, 1, 2) (3, 0, 2, 1) (3, 1, 0, 2) (3, 1, 2, 0) (3, 2, 0, 1) (3, 2, 1, 0)
}

/// The largest rank the permutation kernel handles.
const MAX_RANK: usize = 4;

/// Combines `src` (row-major, dimensions `src_dims`) permuted by `perm` into `dst` with
/// `put(&mut dst_elem, src_elem)`: `dst[i_0, .., i_r] = src[j]` where `j[perm[k]] = i_k`.
///
/// Walks `dst` in order; the last axis is the inner loop, reading `src` with that axis's stride.
pub(crate) fn permute_into<E: Copy>(
    src: &[E],
    src_dims: &[usize],
    perm: &[usize],
    dst: &mut [E],
    put: impl Fn(&mut E, E),
) {
    let rank = src_dims.len();
    debug_assert!((1..=MAX_RANK).contains(&rank) && perm.len() == rank);
    let src_strides = strides_of(src_dims);
    let mut dims = [1; MAX_RANK];
    let mut strides = [0; MAX_RANK];
    for (k, &p) in perm.iter().enumerate() {
        dims[k] = src_dims[p];
        strides[k] = src_strides[p];
    }
    let (n, step) = (dims[rank - 1], strides[rank - 1]);
    if dst.is_empty() || n == 0 {
        return;
    }
    let mut index = [0; MAX_RANK];
    let mut base = 0;
    for row in dst.chunks_exact_mut(n) {
        for (k, d) in row.iter_mut().enumerate() {
            put(d, src[base + k * step]);
        }
        // Odometer step over the outer axes.
        for axis in (0..rank - 1).rev() {
            index[axis] += 1;
            base += strides[axis];
            if index[axis] < dims[axis] {
                break;
            }
            base -= strides[axis] * dims[axis];
            index[axis] = 0;
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The axes reordered by the permutation `P`: output axis `i` is input axis `P[i]`, so
    /// `y[i_0, .., i_r] = x[j]` with `j[P[k]] = i_k`. `P` is a type, [`Axes2`], [`Axes3`] or [`Axes4`]
    /// for ranks 2, 3 and 4: `x.permute::<Axes3<2, 0, 1>>()` turns a `(A, B, C)` into a `(C, A, B)`.
    ///
    /// Derivative: the gradient is permuted back by the inverse permutation.
    ///
    /// PyTorch: `x.permute(P)`; numpy: `np.transpose(x, P)`. A `P` that repeats or misses an axis, or
    /// has the wrong rank, does not compile. Ranks 5 and 6 are not supported by `permute`:
    /// [`transpose`](Tensor::transpose) (the last two axes, any rank) and
    /// [`reshape`](Tensor::reshape) (merging or splitting neighbouring axes) cover the common cases.
    ///
    /// The result is a new buffer (a strided copy).
    ///
    /// Edge values: elements are moved, never computed, so NaN, infinities and the sign of zero come
    /// through bit for bit, and so do their gradients. Zero-sized dimensions are allowed.
    ///
    /// ```
    /// use shaped::{Axes2, Axes3, Rank3, Tensor};
    /// let x = Tensor::<Rank3<2, 3, 4>>::from_fn(|[a, b, c]| (100 * a + 10 * b + c) as f32);
    /// let y = x.permute::<Axes3<2, 0, 1>>();
    /// assert_eq!(y.shape(), [4, 2, 3]);
    /// assert_eq!(y[[3, 1, 2]], x[[1, 2, 3]]);
    /// // For a matrix the only non-trivial permutation is the transpose.
    /// let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.permute::<Axes2<1, 0>>(), m.transpose());
    /// ```
    ///
    /// ```compile_fail
    /// use shaped::{Axes3, Rank3, Tensor};
    /// let x: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    /// let _ = x.permute::<Axes3<0, 0, 1>>(); // axis 0 twice, axis 2 never
    /// ```
    #[must_use]
    pub fn permute<P>(&self) -> Tensor<<S as PermuteTo<P>>::Output, E, T>
    where
        S: PermuteTo<P>,
    {
        let perm = S::AXES;
        let shape = self.typed_shape();
        let out_shape = shape.permuted();
        let mut y = Buffer::uninit(self.numel());
        permute_into(self.data(), shape.dims().as_ref(), perm, &mut y, |d, s| {
            *d = s;
        });
        let tape = self.tape().record([self.input()], self.numel(), |[node]| {
            Box::new(move |dy, grads| {
                // `record` builds this closure only when the one input needs a gradient.
                let Some(node) = node else { return };
                let dx = grads.acc(node);
                // dy has the output's dimensions; the inverse permutation brings it back.
                let out_dims = out_shape.dims();
                let mut inverse = [0; MAX_RANK];
                for (k, &p) in perm.iter().enumerate() {
                    inverse[p] = k;
                }
                permute_into(dy, out_dims.as_ref(), &inverse[..perm.len()], dx, |d, s| {
                    *d += s;
                });
            })
        });
        Tensor::from_parts(Arc::new(y), out_shape, tape)
    }
}

#[cfg(test)]
mod tests {
    use super::is_permutation;
    use crate::ops::testing::random;
    use crate::{Axes2, Axes3, Axes4, Rank2, Rank3, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn permutation_check() {
        assert!(is_permutation(&[2, 0, 1]));
        assert!(!is_permutation(&[0, 0, 1]));
        assert!(!is_permutation(&[0, 1, 3]));
    }

    #[test]
    fn rank3_matches_the_definition() {
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(30);
        let y = x.permute::<Axes3<2, 0, 1>>();
        let want = Tensor::<Rank3<4, 2, 3>, f64>::from_fn(|[c, a, b]| x[[a, b, c]]);
        assert_eq!(y, want);
        let z = x.permute::<Axes3<1, 2, 0>>();
        let want = Tensor::<Rank3<3, 4, 2>, f64>::from_fn(|[b, c, a]| x[[a, b, c]]);
        assert_eq!(z, want);
        // (2, 0, 1) and (1, 2, 0) are inverses of each other.
        assert_eq!(y.permute::<Axes3<1, 2, 0>>(), x);
        assert_eq!(x.permute::<Axes3<0, 1, 2>>(), x);
    }

    #[test]
    fn rank4_matches_the_definition() {
        let x: Tensor<Rank4<2, 3, 4, 5>, f64> = random(31);
        let y = x.permute::<Axes4<3, 1, 0, 2>>();
        let want = Tensor::<Rank4<5, 3, 2, 4>, f64>::from_fn(|[d, b, a, c]| x[[a, b, c, d]]);
        assert_eq!(y, want);
        let z = x.permute::<Axes4<0, 1, 3, 2>>();
        assert_eq!(z, x.transpose());
        // (3, 1, 0, 2) sends output axis 0 to input 3, ...; its inverse is (2, 1, 3, 0).
        assert_eq!(y.permute::<Axes4<2, 1, 3, 0>>(), x);
    }

    #[test]
    fn rank2_is_the_transpose() {
        let x: Tensor<Rank2<3, 5>, f64> = random(32);
        assert_eq!(x.permute::<Axes2<1, 0>>(), x.transpose());
        assert_eq!(x.permute::<Axes2<0, 1>>(), x);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(permute(x, (1, 0)) * w): df/dx[i][j] = w[j][i], w permuted back by the inverse.
        let x = Tensor::from([[1.0, 2.0, 3.0]]);
        let w = Tensor::from([[10.0], [20.0], [30.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.permute::<Axes2<1, 0>>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[10.0, 20.0, 30.0]]);

        // f = sum(permute(x, (2, 0, 1)) * w) for x of shape (1, 2, 3): w has shape (3, 1, 2) and
        // df/dx[a][b][c] = w[c][a][b].
        let x = Tensor::from([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]);
        let w = Tensor::from([[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.permute::<Axes3<2, 0, 1>>() * &w).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x3: Tensor<Rank3<2, 3, 4>, f64> = random(33);
        let w3: Tensor<Rank3<4, 2, 3>, f64> = random(34);
        gradcheck(|x| (x.permute::<Axes3<2, 0, 1>>() * &w3).sum(), &x3).unwrap();
        let v3: Tensor<Rank3<3, 4, 2>, f64> = random(35);
        gradcheck(|x| (x.permute::<Axes3<1, 2, 0>>().exp() * &v3).sum(), &x3).unwrap();
        let x4: Tensor<Rank4<2, 3, 1, 2>, f64> = random(36);
        let w4: Tensor<Rank4<2, 2, 3, 1>, f64> = random(37);
        gradcheck(|x| (x.permute::<Axes4<3, 0, 1, 2>>() * &w4).sum(), &x4).unwrap();
        // used twice: two different permutations of the same input
        let x: Tensor<Rank3<2, 2, 2>, f64> = random(38);
        gradcheck(
            |x| (x.permute::<Axes3<2, 1, 0>>() * x.permute::<Axes3<1, 0, 2>>()).sum(),
            &x,
        )
        .unwrap();
    }

    #[test]
    fn used_twice_accumulates() {
        // f = sum(x^T (via permute) * x) for a 2x2: df/dx[i][j] = 2 x[j][i].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (xt.permute::<Axes2<1, 0>>() * &xt).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[2.0, 6.0], [4.0, 8.0]]);
    }
}
