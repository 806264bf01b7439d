//! Broadcasting in the elementwise ops of two tensors (`+`, `-`, `*`, `/`): numpy's rule, with every
//! part of it that a type can express checked by `cargo check`.

use crate::ops::Merged;
use crate::{
    Const, Dim, Element, Merge, Rank0, Rank1, Rank2, Rank3, Rank4, Rank5, Rank6, Shape, Tensor,
    Tracking, TupleShape,
};

/// The shape rule of the elementwise ops of two tensors (`a + b`, `a - b`, `a * b`, `a / b`): `Self`
/// (the left operand's shape) and `Rhs` broadcast together to `Output`.
///
/// numpy's rule aligns the two shapes on their last axes; the shorter one is repeated along the
/// leading axes only the longer one has, and a dimension of 1 is repeated to match the other. The
/// types check it this way:
///
/// | left | right | output |
/// |---|---|---|
/// | `S` | `S` | `S` |
/// | `[B, N]` | `[N]` | `[B, N]` (any rank: the shorter shape is a suffix of the longer) |
/// | `[N]` | `[B, N]` | `[B, N]` |
/// | `[]` | any `S` | `S` (and the other way round) |
/// | `(usize, Const<N>)` | `[N]` or `[1]` at run time | `(usize, Const<N>)` |
///
/// - Static dimensions must be equal: a static dimension of 1 does not stretch here, because an
///   implementation for "size 1" would overlap the one for "equal sizes" on stable Rust. Stretch it
///   with [`broadcast_to`](Tensor::broadcast_to) first (`x - m.broadcast_to::<Rank2<B, N>>()` for a
///   `m` of shape `[B, 1]`).
/// - A run-time dimension (`usize`) meets any dimension; it must equal the other or be 1 (then it
///   stretches), or the other must be 1: checked when the op runs.
/// - Tuples of [`Const`]s and static shapes mix: a static operand is seen as a tuple of `Const`s.
///
/// ```
/// use shaped::{BroadcastShapes, Const, Rank1, Rank2, Rank3, Shape};
/// type Out = <Rank1<4> as BroadcastShapes<Rank3<2, 3, 4>>>::Output;
/// assert_eq!(Out::default().dims(), [2, 3, 4]);
/// // a run-time dimension of 1 stretches to the other operand's 5
/// let out = (1_usize, Const::<4>).broadcast_shapes(&Rank2::<5, 4>);
/// assert_eq!(out.map(|s| s.dims()), Some([5, 4]));
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: `{Self}` and `{Rhs}` cannot be broadcast together",
    label = "an elementwise op needs equal shapes, or one shape equal to the last axes of the other",
    note = "numpy's rule, as far as types check it: the shapes are aligned on their last axes, and \
            aligned static dimensions must be equal; the shorter shape is repeated along the leading \
            axes only the longer one has",
    note = "a static dimension of 1 stretches only with `broadcast_to`; a run-time one (`usize`) \
            stretches when the op runs"
)]
pub trait BroadcastShapes<Rhs: Shape>: Shape {
    /// The shape both operands are broadcast to.
    type Output: Shape;
    /// The broadcast shape, or `None` when run-time dimensions do not fit (neither equal nor 1).
    ///
    /// ```
    /// use shaped::{BroadcastShapes, Const, Rank1, Shape};
    /// let rows = (3_usize, Const::<4>);
    /// assert_eq!(rows.broadcast_shapes(&Rank1::<4>).map(|s| s.dims()), Some([3, 4]));
    /// assert_eq!((3_usize,).broadcast_shapes(&(5_usize,)), None); // 3 and 5: neither is 1
    /// assert_eq!((1_usize,).broadcast_shapes(&(5_usize,)), Some((5,)));
    /// ```
    fn broadcast_shapes(&self, rhs: &Rhs) -> Option<Self::Output>;
}

/// Two dimensions that broadcast together to `Output`: equal static sizes, or a run-time size that
/// must (when the op runs) equal the other or be 1, or meet a 1.
///
/// ```
/// use shaped::{BroadcastDim, Const};
/// assert_eq!(Const::<3>.broadcast_dim(Const::<3>), Some(Const::<3>));
/// assert_eq!(1_usize.broadcast_dim(Const::<3>), Some(Const::<3>));
/// assert_eq!(4_usize.broadcast_dim(1_usize), Some(4));
/// assert_eq!(4_usize.broadcast_dim(Const::<3>), None);
/// ```
#[diagnostic::on_unimplemented(
    message = "dimension mismatch: `{Self}` and `{Rhs}` cannot be broadcast together",
    label = "aligned static dimensions must be equal"
)]
pub trait BroadcastDim<Rhs: Dim>: Dim {
    /// The broadcast dimension.
    type Output: Dim;
    /// The broadcast dimension, or `None` when the sizes are neither equal nor 1.
    ///
    /// ```
    /// use shaped::{BroadcastDim, Const};
    /// assert_eq!(5_usize.broadcast_dim(5_usize), Some(5));
    /// assert_eq!(5_usize.broadcast_dim(1_usize), Some(5));
    /// assert_eq!(Const::<2>.broadcast_dim(1_usize), Some(Const::<2>));
    /// assert_eq!(Const::<2>.broadcast_dim(3_usize), None);
    /// ```
    fn broadcast_dim(self, rhs: Rhs) -> Option<Self::Output>;
}

impl<const N: usize> BroadcastDim<Const<N>> for Const<N> {
    type Output = Const<N>;
    #[inline]
    fn broadcast_dim(self, _: Const<N>) -> Option<Const<N>> {
        Some(Const)
    }
}

impl<const N: usize> BroadcastDim<usize> for Const<N> {
    type Output = Const<N>;
    #[inline]
    fn broadcast_dim(self, rhs: usize) -> Option<Const<N>> {
        (rhs == N || rhs == 1).then_some(Const)
    }
}

impl<const N: usize> BroadcastDim<Const<N>> for usize {
    type Output = Const<N>;
    #[inline]
    fn broadcast_dim(self, _: Const<N>) -> Option<Const<N>> {
        (self == N || self == 1).then_some(Const)
    }
}

impl BroadcastDim<usize> for usize {
    type Output = usize;
    #[inline]
    fn broadcast_dim(self, rhs: usize) -> Option<usize> {
        if self == rhs || rhs == 1 {
            Some(self)
        } else if self == 1 {
            Some(rhs)
        } else {
            None
        }
    }
}

macro_rules! static_broadcast {
    ($( $long:ident [$($d:ident),*] $short:ident [$($s:ident),*]; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize),*> BroadcastShapes<$short<$($s),*>> for $long<$($d),*> {
            type Output = Self;
            #[inline]
            fn broadcast_shapes(&self, _: &$short<$($s),*>) -> Option<Self> {
                Some(*self)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize),*> BroadcastShapes<$long<$($d),*>> for $short<$($s),*> {
            type Output = $long<$($d),*>;
            #[inline]
            fn broadcast_shapes(&self, rhs: &$long<$($d),*>) -> Option<Self::Output> {
                Some(*rhs)
            }
        }
    )*};
}

/// Equal shapes, written the same way: any shape, so that code generic over a shape `S` can add two
/// `Tensor<S>`s. Only run-time dimensions can differ here; one of 1 stretches to the other.
#[diagnostic::do_not_recommend]
impl<S: Shape> BroadcastShapes<S> for S {
    type Output = S;
    #[inline]
    fn broadcast_shapes(&self, rhs: &S) -> Option<S> {
        if self == rhs {
            return Some(*self);
        }
        let mut dims = self.dims();
        for (d, &r) in dims.as_mut().iter_mut().zip(rhs.dims().as_ref()) {
            if *d == 1 {
                *d = r;
            } else if r != *d && r != 1 {
                return None;
            }
        }
        S::from_dims(dims.as_ref())
    }
}

static_broadcast! {
    Rank1 [A] Rank0 [];
    Rank2 [A, B] Rank0 [];
    Rank2 [A, B] Rank1 [B];
    Rank3 [A, B, C] Rank0 [];
    Rank3 [A, B, C] Rank1 [C];
    Rank3 [A, B, C] Rank2 [B, C];
    Rank4 [A, B, C, D] Rank0 [];
    Rank4 [A, B, C, D] Rank1 [D];
    Rank4 [A, B, C, D] Rank2 [C, D];
    Rank4 [A, B, C, D] Rank3 [B, C, D];
    Rank5 [A, B, C, D, F] Rank0 [];
    Rank5 [A, B, C, D, F] Rank1 [F];
    Rank5 [A, B, C, D, F] Rank2 [D, F];
    Rank5 [A, B, C, D, F] Rank3 [C, D, F];
    Rank5 [A, B, C, D, F] Rank4 [B, C, D, F];
    Rank6 [A, B, C, D, F, G] Rank0 [];
    Rank6 [A, B, C, D, F, G] Rank1 [G];
    Rank6 [A, B, C, D, F, G] Rank2 [F, G];
    Rank6 [A, B, C, D, F, G] Rank3 [D, F, G];
    Rank6 [A, B, C, D, F, G] Rank4 [C, D, F, G];
    Rank6 [A, B, C, D, F, G] Rank5 [B, C, D, F, G];
}

/// [`BroadcastShapes`] between shapes written as tuples of dimensions (and the scalar shape).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "shape mismatch: `{Self}` and `{Rhs}` cannot be broadcast together",
    label = "an elementwise op needs equal shapes, or one shape equal to the last axes of the other",
    note = "numpy's rule, as far as types check it: the shapes are aligned on their last axes, and \
            aligned static dimensions must be equal (a static operand is shown as a tuple of \
            `Const`s); a run-time dimension (`usize`) meets any other, checked when the op runs"
)]
pub trait TupleBroadcast<Rhs: Shape>: Shape {
    /// The broadcast shape.
    type Output: Shape;
    /// The broadcast shape, or `None` when run-time dimensions do not fit.
    fn tuple_broadcast(&self, rhs: &Rhs) -> Option<Self::Output>;
}

/// `$l` and `$r` name the operands' dimensions; the output has the longer operand's `$lead`ing
/// dimensions, then each aligned pair `$a ~ $b` broadcast. Pairs of tuples of different ranks are
/// also [`BroadcastShapes`] (`ranks`); pairs of one rank only meet a static shape here, as two
/// tuples of one rank are the same type or go through the blanket impl for equal shapes.
macro_rules! tuple_broadcast {
    (same $( <$($p:ident),*> ($($l:ident),*) ($($r:ident),*) => [$($lead:ident),*] [$($a:ident ~ $b:ident),*]; )*) => {$(
        tuple_broadcast!(@tuple <$($p),*> ($($l),*) ($($r),*) => [$($lead),*] [$($a ~ $b),*]);
    )*};
    (ranks $( <$($p:ident),*> ($($l:ident),*) ($($r:ident),*) => [$($lead:ident),*] [$($a:ident ~ $b:ident),*]; )*) => {$(
        tuple_broadcast!(@tuple <$($p),*> ($($l),*) ($($r),*) => [$($lead),*] [$($a ~ $b),*]);

        #[diagnostic::do_not_recommend]
        impl<$($p: Dim),*> BroadcastShapes<($($r,)*)> for ($($l,)*)
        where
            $($a: BroadcastDim<$b>,)*
        {
            type Output = <Self as TupleBroadcast<($($r,)*)>>::Output;
            #[inline]
            fn broadcast_shapes(&self, rhs: &($($r,)*)) -> Option<Self::Output> {
                self.tuple_broadcast(rhs)
            }
        }
    )*};
    (@tuple <$($p:ident),*> ($($l:ident),*) ($($r:ident),*) => [$($lead:ident),*] [$($a:ident ~ $b:ident),*]) => {
        #[diagnostic::do_not_recommend]
        impl<$($p: Dim),*> TupleBroadcast<($($r,)*)> for ($($l,)*)
        where
            $($a: BroadcastDim<$b>,)*
        {
            type Output = ($($lead,)* $(<$a as BroadcastDim<$b>>::Output,)*);
            #[inline]
            #[allow(non_snake_case)]
            fn tuple_broadcast(&self, rhs: &($($r,)*)) -> Option<Self::Output> {
                let ($($l,)*) = *self;
                let ($($r,)*) = *rhs;
                Some(($($lead,)* $($a.broadcast_dim($b)?,)*))
            }
        }
    };
}

tuple_broadcast! { same
    <L0, R0> (L0) (R0) => [] [L0 ~ R0];
    <L0, L1, R0, R1> (L0, L1) (R0, R1) => [] [L0 ~ R0, L1 ~ R1];
    <L0, L1, L2, R0, R1, R2> (L0, L1, L2) (R0, R1, R2) => [] [L0 ~ R0, L1 ~ R1, L2 ~ R2];
    <L0, L1, L2, L3, R0, R1, R2, R3> (L0, L1, L2, L3) (R0, R1, R2, R3) => [] [L0 ~ R0, L1 ~ R1, L2 ~ R2, L3 ~ R3];
    <L0, L1, L2, L3, L4, R0, R1, R2, R3, R4> (L0, L1, L2, L3, L4) (R0, R1, R2, R3, R4) => [] [L0 ~ R0, L1 ~ R1, L2 ~ R2, L3 ~ R3, L4 ~ R4];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2, R3, R4, R5> (L0, L1, L2, L3, L4, L5) (R0, R1, R2, R3, R4, R5) => [] [L0 ~ R0, L1 ~ R1, L2 ~ R2, L3 ~ R3, L4 ~ R4, L5 ~ R5];
}

tuple_broadcast! { ranks
    <L0, L1, R0> (L0, L1) (R0) => [L0] [L1 ~ R0];
    <L0, L1, R0> (R0) (L0, L1) => [L0] [R0 ~ L1];
    <L0, L1, L2, R0> (L0, L1, L2) (R0) => [L0, L1] [L2 ~ R0];
    <L0, L1, L2, R0> (R0) (L0, L1, L2) => [L0, L1] [R0 ~ L2];
    <L0, L1, L2, R0, R1> (L0, L1, L2) (R0, R1) => [L0] [L1 ~ R0, L2 ~ R1];
    <L0, L1, L2, R0, R1> (R0, R1) (L0, L1, L2) => [L0] [R0 ~ L1, R1 ~ L2];
    <L0, L1, L2, L3, R0> (L0, L1, L2, L3) (R0) => [L0, L1, L2] [L3 ~ R0];
    <L0, L1, L2, L3, R0> (R0) (L0, L1, L2, L3) => [L0, L1, L2] [R0 ~ L3];
    <L0, L1, L2, L3, R0, R1> (L0, L1, L2, L3) (R0, R1) => [L0, L1] [L2 ~ R0, L3 ~ R1];
    <L0, L1, L2, L3, R0, R1> (R0, R1) (L0, L1, L2, L3) => [L0, L1] [R0 ~ L2, R1 ~ L3];
    <L0, L1, L2, L3, R0, R1, R2> (L0, L1, L2, L3) (R0, R1, R2) => [L0] [L1 ~ R0, L2 ~ R1, L3 ~ R2];
    <L0, L1, L2, L3, R0, R1, R2> (R0, R1, R2) (L0, L1, L2, L3) => [L0] [R0 ~ L1, R1 ~ L2, R2 ~ L3];
    <L0, L1, L2, L3, L4, R0> (L0, L1, L2, L3, L4) (R0) => [L0, L1, L2, L3] [L4 ~ R0];
    <L0, L1, L2, L3, L4, R0> (R0) (L0, L1, L2, L3, L4) => [L0, L1, L2, L3] [R0 ~ L4];
    <L0, L1, L2, L3, L4, R0, R1> (L0, L1, L2, L3, L4) (R0, R1) => [L0, L1, L2] [L3 ~ R0, L4 ~ R1];
    <L0, L1, L2, L3, L4, R0, R1> (R0, R1) (L0, L1, L2, L3, L4) => [L0, L1, L2] [R0 ~ L3, R1 ~ L4];
    <L0, L1, L2, L3, L4, R0, R1, R2> (L0, L1, L2, L3, L4) (R0, R1, R2) => [L0, L1] [L2 ~ R0, L3 ~ R1, L4 ~ R2];
    <L0, L1, L2, L3, L4, R0, R1, R2> (R0, R1, R2) (L0, L1, L2, L3, L4) => [L0, L1] [R0 ~ L2, R1 ~ L3, R2 ~ L4];
    <L0, L1, L2, L3, L4, R0, R1, R2, R3> (L0, L1, L2, L3, L4) (R0, R1, R2, R3) => [L0] [L1 ~ R0, L2 ~ R1, L3 ~ R2, L4 ~ R3];
    <L0, L1, L2, L3, L4, R0, R1, R2, R3> (R0, R1, R2, R3) (L0, L1, L2, L3, L4) => [L0] [R0 ~ L1, R1 ~ L2, R2 ~ L3, R3 ~ L4];
    <L0, L1, L2, L3, L4, L5, R0> (L0, L1, L2, L3, L4, L5) (R0) => [L0, L1, L2, L3, L4] [L5 ~ R0];
    <L0, L1, L2, L3, L4, L5, R0> (R0) (L0, L1, L2, L3, L4, L5) => [L0, L1, L2, L3, L4] [R0 ~ L5];
    <L0, L1, L2, L3, L4, L5, R0, R1> (L0, L1, L2, L3, L4, L5) (R0, R1) => [L0, L1, L2, L3] [L4 ~ R0, L5 ~ R1];
    <L0, L1, L2, L3, L4, L5, R0, R1> (R0, R1) (L0, L1, L2, L3, L4, L5) => [L0, L1, L2, L3] [R0 ~ L4, R1 ~ L5];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2> (L0, L1, L2, L3, L4, L5) (R0, R1, R2) => [L0, L1, L2] [L3 ~ R0, L4 ~ R1, L5 ~ R2];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2> (R0, R1, R2) (L0, L1, L2, L3, L4, L5) => [L0, L1, L2] [R0 ~ L3, R1 ~ L4, R2 ~ L5];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2, R3> (L0, L1, L2, L3, L4, L5) (R0, R1, R2, R3) => [L0, L1] [L2 ~ R0, L3 ~ R1, L4 ~ R2, L5 ~ R3];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2, R3> (R0, R1, R2, R3) (L0, L1, L2, L3, L4, L5) => [L0, L1] [R0 ~ L2, R1 ~ L3, R2 ~ L4, R3 ~ L5];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2, R3, R4> (L0, L1, L2, L3, L4, L5) (R0, R1, R2, R3, R4) => [L0] [L1 ~ R0, L2 ~ R1, L3 ~ R2, L4 ~ R3, L5 ~ R4];
    <L0, L1, L2, L3, L4, L5, R0, R1, R2, R3, R4> (R0, R1, R2, R3, R4) (L0, L1, L2, L3, L4, L5) => [L0] [R0 ~ L1, R1 ~ L2, R2 ~ L3, R3 ~ L4, R4 ~ L5];
}

macro_rules! tuple_and_scalar {
    ($( ($($d:ident),*); )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$($d: Dim),*> TupleBroadcast<Rank0> for ($($d,)*) {
            type Output = Self;
            #[inline]
            fn tuple_broadcast(&self, _: &Rank0) -> Option<Self> {
                Some(*self)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$($d: Dim),*> TupleBroadcast<($($d,)*)> for Rank0 {
            type Output = ($($d,)*);
            #[inline]
            fn tuple_broadcast(&self, rhs: &($($d,)*)) -> Option<Self::Output> {
                Some(*rhs)
            }
        }
    )*};
}

tuple_and_scalar! {
    (A);
    (A, B);
    (A, B, C);
    (A, B, C, D);
    (A, B, C, D, F);
    (A, B, C, D, F, G);
}

/// A static shape meeting a tuple, on either side: the static one is seen as a tuple of `Const`s.
macro_rules! static_left_broadcast {
    ($( $rank:ident [$($d:ident),*] ; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize,)* R: TupleShape> BroadcastShapes<R> for $rank<$($d),*>
        where
            <$rank<$($d),*> as Shape>::Tuple: TupleBroadcast<R>,
        {
            type Output = <<$rank<$($d),*> as Shape>::Tuple as TupleBroadcast<R>>::Output;
            #[inline]
            fn broadcast_shapes(&self, rhs: &R) -> Option<Self::Output> {
                self.to_tuple().tuple_broadcast(rhs)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$(const $d: usize,)* L: TupleShape> BroadcastShapes<$rank<$($d),*>> for L
        where
            L: TupleBroadcast<<$rank<$($d),*> as Shape>::Tuple>,
        {
            type Output = <L as TupleBroadcast<<$rank<$($d),*> as Shape>::Tuple>>::Output;
            #[inline]
            fn broadcast_shapes(&self, rhs: &$rank<$($d),*>) -> Option<Self::Output> {
                self.tuple_broadcast(&rhs.to_tuple())
            }
        }
    )*};
}

static_left_broadcast! {
    Rank0 [];
    Rank1 [A];
    Rank2 [A, B];
    Rank3 [A, B, C];
    Rank4 [A, B, C, D];
    Rank5 [A, B, C, D, F];
    Rank6 [A, B, C, D, F, G];
}

/// Elementwise `y = f(a, b)` of two tensors broadcast together: an operand of another shape than the
/// result is first repeated to it ([`Tensor::broadcast_to_shape`]'s kernel, whose backward sums the
/// gradient back over the repeated axes). Panics, naming `op` and both shapes, when run-time
/// dimensions do not fit.
#[inline]
#[track_caller]
pub(crate) fn zip_broadcast<S1, S2, E, T1, T2>(
    op: &str,
    a: &Tensor<S1, E, T1>,
    b: &Tensor<S2, E, T2>,
    f: impl Fn(E, E) -> E,
    fa: impl Fn(E, E, E) -> E + 'static,
    fb: impl Fn(E, E, E) -> E + 'static,
) -> Tensor<S1::Output, E, Merged<E, T1, T2>>
where
    S1: BroadcastShapes<S2>,
    S2: Shape,
    E: Element,
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    let (sa, sb) = (a.shape(), b.shape());
    let Some(out) = a.typed_shape().broadcast_shapes(&b.typed_shape()) else {
        cannot_broadcast(op, sa.as_ref(), sb.as_ref())
    };
    let dims = out.dims();
    // An operand is put on the result's tape before it is repeated, so that the stored tensor of a
    // parameter watched there still stands for that parameter.
    let tape = a.tape().merge(b.tape());
    let a2 = (sa.as_ref() != dims.as_ref()).then(|| a.on_tape_of(&tape).broadcast_unchecked(out));
    let b2 = (sb.as_ref() != dims.as_ref()).then(|| b.on_tape_of(&tape).broadcast_unchecked(out));
    let pa = a2
        .as_ref()
        .map_or((a.data(), a.input()), |t| (t.data(), t.input()));
    let pb = b2
        .as_ref()
        .map_or((b.data(), b.input()), |t| (t.data(), t.input()));
    crate::ops::zip_parts(&tape, pa, pb, out, f, fa, fb)
}

#[cold]
#[inline(never)]
#[track_caller]
fn cannot_broadcast(op: &str, a: &[usize], b: &[usize]) -> ! {
    panic!("{op}: shapes {a:?} and {b:?} cannot be broadcast together")
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::{Taped, random};
    use crate::{Const, Rank0, Rank1, Rank2, Rank3, Shape, Tape, Tensor, gradcheck};

    #[test]
    fn a_row_is_added_to_every_row() {
        let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let b = Tensor::from([10.0, 20.0, 30.0]);
        let y: Tensor<Rank2<2, 3>> = &a + &b;
        assert_eq!(y.to_array(), [[11.0, 22.0, 33.0], [14.0, 25.0, 36.0]]);
        // the shorter operand on the left: `[3] - [2, 3]`
        let y: Tensor<Rank2<2, 3>> = &b - &a;
        assert_eq!(y.to_array(), [[9.0, 18.0, 27.0], [6.0, 15.0, 24.0]]);
        // a scalar tensor meets any shape
        let s = Tensor::<Rank0>::from_vec(vec![2.0]).unwrap();
        assert_eq!((&a * &s).to_array(), [[2.0, 4.0, 6.0], [8.0, 10.0, 12.0]]);
        assert_eq!((&s / &b).to_vec(), vec![0.2, 0.1, 2.0 / 30.0]);
        // `[2, 3, 4] * [3, 4]`: the trailing matrix repeats along the first axis
        let c: Tensor<Rank3<2, 3, 4>> = Tensor::from_fn(|[i, j, k]| (i * 12 + j * 4 + k) as f32);
        let m: Tensor<Rank2<3, 4>> = Tensor::from_fn(|[j, k]| (j * 4 + k) as f32);
        let y = &c * &m;
        assert_eq!(y.shape(), [2, 3, 4]);
        assert_eq!(y[[1, 2, 3]], 23.0 * 11.0);
        assert_eq!(y[[0, 1, 2]], 6.0 * 6.0);
    }

    #[test]
    fn gradient_literal() {
        // f = sum(a * b) with a: [2, 3], b: [3] repeated along the rows.
        // df/da[i][j] = b[j]; df/db[j] = sum_i a[i][j] (the gradient sums over the repeated axis).
        let a = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        let b = Tensor::from([10.0, 20.0, 30.0]);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = (&at * &bt).sum().backward();
        assert_eq!(
            g.get(&at).to_array(),
            [[10.0, 20.0, 30.0], [10.0, 20.0, 30.0]]
        );
        assert_eq!(g.get(&bt).to_array(), [5.0, 7.0, 9.0]);

        // f = sum(s - a) with a scalar tensor s: df/ds = 6 (six elements), df/da = -1.
        let s = Tensor::<Rank0, f64>::from_vec(vec![0.5]).unwrap();
        let tape = Tape::new();
        let (st, at) = (tape.watch(&s), tape.watch(&a));
        let g = (&st - &at).sum().backward();
        assert_eq!(g.get(&st).item(), 6.0);
        assert_eq!(g.get(&at).to_array(), [[-1.0; 3]; 2]);
    }

    #[test]
    fn an_operand_used_on_both_sides() {
        // f = sum(x + colsum(x)) for x: [2, 3], colsum(x)[j] = sum_i x[i][j] repeated over the 2 rows.
        // sum over (i, j) of colsum(x)[j] is 2 * sum(x), so df/dx = 1 + 2 = 3 everywhere.
        let x = Tensor::from([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = (&xt + xt.sum_axis::<0>()).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[3.0; 3]; 2]);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a: Tensor<Rank3<2, 3, 4>, f64> = random(1);
        let b: Tensor<Rank1<4>, f64> = random(2);
        let c: Tensor<Rank2<3, 4>, f64> = random(3);
        let w: Tensor<Rank3<2, 3, 4>, f64> = random(4);
        gradcheck(|(a, b)| ((a * b) * &w).sum(), (&a, &b)).unwrap();
        gradcheck(|(b, a)| ((b / (a.exp() + 1.0)) * &w).sum(), (&b, &a)).unwrap();
        gradcheck(|(c, a)| ((c - a) * &w).sum(), (&c, &a)).unwrap();
        gradcheck(|(a, c)| ((a + c).powi(2) * &w).sum(), (&a, &c)).unwrap();
    }

    /// An operand of the tests of both gradients.
    type Pair = Taped<Rank1<3>>;

    #[test]
    fn both_gradients_in_one_pass() {
        // With both operands watched, one pass writes both gradients, or adds into one that an op
        // recorded later has already written. a = [1, -2, 3], b = [4, 5, -0.5].
        let a = Tensor::from([1.0, -2.0, 3.0]);
        let b = Tensor::from([4.0, 5.0, -0.5]);
        let grads = |f: fn(&Pair, &Pair) -> Taped<Rank0>| {
            let tape = Tape::new();
            let (at, bt) = (tape.watch(&a), tape.watch(&b));
            let g = f(&at, &bt).backward();
            (g.get(&at).to_vec(), g.get(&bt).to_vec())
        };
        // f = sum(a * b): df/da = b, df/db = a (both gradients written).
        let (da, db) = grads(|a, b| (a * b).sum());
        assert_eq!((da, db), (b.to_vec(), a.to_vec()));
        // f = sum((a * b) * (a * b)) = sum(a^2 b^2): df/da = 2ab^2 = [32, -100, 1.5],
        // df/db = 2a^2b = [8, 40, -9]; the first product's pass adds into both gradients.
        let (da, db) = grads(|a, b| ((a * b) * (a * b)).sum());
        assert_eq!((da, db), (vec![32.0, -100.0, 1.5], vec![8.0, 40.0, -9.0]));
        // f = sum(a * (a * b)) = sum(a^2 b): df/da = 2ab = [8, -20, -3], df/db = a^2 = [1, 4, 9];
        // the pass of `a * b` adds into a's gradient and writes b's.
        let (da, db) = grads(|a, b| (a * (a * b)).sum());
        assert_eq!((da, db), (vec![8.0, -20.0, -3.0], vec![1.0, 4.0, 9.0]));
        // f = sum(b * (a * b)) = sum(a b^2): df/da = b^2 = [16, 25, 0.25], df/db = 2ab; the pass
        // of `a * b` writes a's gradient and adds into b's.
        let (da, db) = grads(|a, b| (b * (a * b)).sum());
        assert_eq!((da, db), (vec![16.0, 25.0, 0.25], vec![8.0, -20.0, -3.0]));
        // f = sum(a * a): one node on both sides, df/da = 2a = [2, -4, 6].
        let (da, _) = grads(|a, _| (a * a).sum());
        assert_eq!(da, vec![2.0, -4.0, 6.0]);
    }

    #[test]
    fn both_gradients_of_long_operands() {
        // 300 elements, so that the loops run their vector body as well as the elements before the
        // output's first 64-byte boundary. f = sum((a * b) * w): df/da = w b, df/db = w a, each the
        // same product of two floats as computed here; f = sum(a + b): both gradients are 1.
        let a: Tensor<Rank1<300>, f64> = random(11);
        let b: Tensor<Rank1<300>, f64> = random(12);
        let w: Tensor<Rank1<300>, f64> = random(13);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = ((&at * &bt) * &w).sum().backward();
        assert_eq!(g.get(&at), &w * &b);
        assert_eq!(g.get(&bt), &w * &a);
        let tape = Tape::new();
        let (at, bt) = (tape.watch(&a), tape.watch(&b));
        let g = (&at + &bt).sum().backward();
        assert_eq!((g.get(&at), g.get(&bt)), (Tensor::ones(), Tensor::ones()));
    }

    #[test]
    fn both_gradients_match_finite_differences() {
        let a: Tensor<Rank2<3, 4>, f64> = random(21);
        let b: Tensor<Rank2<3, 4>, f64> = random(22);
        let v: Tensor<Rank1<4>, f64> = random(23);
        let w: Tensor<Rank2<3, 4>, f64> = random(24);
        gradcheck(|(a, b)| ((&a * &b) * (&a * &b) * &w).sum(), (&a, &b)).unwrap();
        gradcheck(|(a, b)| (&a * (&a * &b) * &w).sum(), (&a, &b)).unwrap();
        gradcheck(|(a, b)| (&b * (&a * &b) * &w).sum(), (&a, &b)).unwrap();
        gradcheck(|a| ((&a * &a) * &w).sum(), &a).unwrap();
        // `[B, N] * [N]`, the row watched too, and the matrix used twice.
        gradcheck(|(a, v)| ((&a * &v) * &w + &a * &w).sum(), (&a, &v)).unwrap();
        gradcheck(|(a, v)| ((&a / &v) * &w).sum(), (&a, &v)).unwrap();
    }

    #[test]
    fn run_time_sizes_of_one_stretch() {
        // A run-time batch of one row against a batch of three: the row repeats.
        // df/d(row)[j] = sum over the 3 rows of w[i][j].
        let row = Tensor::from_vec_with((1_usize, Const::<2>), vec![1.0, 2.0]).unwrap();
        let batch =
            Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
                .unwrap();
        let y = &batch * &row;
        assert_eq!(y.shape(), [3, 2]);
        assert_eq!(y.to_vec(), vec![1.0, 2.0, 2.0, 4.0, 3.0, 6.0]);
        let w = Tensor::from_vec_with((3_usize, Const::<2>), vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0])
            .unwrap();
        let tape = Tape::new();
        let rt = tape.watch(&row);
        let g = ((&batch * &rt) * &w).sum().backward();
        // d/d(row)[j] = sum_i batch[i][j] * w[i][j]: 1 + 4 + 9 = 14 and 10 + 40 + 90 = 140
        assert_eq!(g.get(&rt).to_vec(), vec![14.0, 140.0]);
        assert_eq!(g.get(&rt).shape(), [1, 2]);

        // A static row meets the run-time batch; the output keeps the run-time form.
        let bias = Tensor::from([0.5, -0.5]);
        let y: Tensor<(usize, Const<2>)> = &batch + &bias;
        assert_eq!(y.to_vec(), vec![1.5, 0.5, 2.5, 1.5, 3.5, 2.5]);
        let y: Tensor<(usize, Const<2>)> = &bias - &batch;
        assert_eq!(y.to_vec()[..2], [-0.5, -1.5]);
        // A static matrix meets a run-time one of its rank: the static dims are kept.
        let m: Tensor<Rank2<3, 2>> = Tensor::full(1.0);
        let y: Tensor<(Const<3>, Const<2>)> = &batch + &m;
        assert_eq!(y.typed_shape().dims(), [3, 2]);
    }

    #[test]
    #[should_panic(expected = "add: shapes [2, 3] and [4, 3] cannot be broadcast together")]
    fn a_run_time_mismatch_names_both_shapes() {
        let a = Tensor::<(usize, Const<3>)>::zeros_with((2, Const));
        let b = Tensor::<(usize, Const<3>)>::zeros_with((4, Const));
        let _ = a + b;
    }

    /// Code generic over a shape multiplies two tensors of that shape with no bound beyond `Shape`.
    fn square_sum<S: Shape>(x: &Tensor<S, f64>) -> f64 {
        (x * x).sum().item()
    }

    #[test]
    fn generic_code_needs_no_broadcast_bound() {
        assert_eq!(square_sum(&Tensor::from([1.0, 2.0, 3.0])), 14.0);
        let x = Tensor::from_vec_with((2_usize,), vec![3.0, 4.0]).unwrap();
        assert_eq!(square_sum(&x), 25.0);
    }
}
