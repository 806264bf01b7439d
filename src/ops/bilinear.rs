//! `bilinear`: `y[.., k] = x1 W_k x2^T + b_k`, as in `torch.nn.functional.bilinear`.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::gemm::{Mat, MatMut, gemm, gemm_grad};
use crate::ops::Merged;
use crate::ops::linear::add_column_sums;
use crate::shape::check_same;
use crate::tape::internal::{BackwardFn, NodeId, Record};
use crate::{
    Bias, Const, Dim, Element, Merge, NonScalar, Rank1, Rank2, Rank3, Rank4, ReplaceLast, SameDim,
    Shape, Tensor, Tracking, TupleShape,
};

/// The rule that the two inputs of [`Tensor::bilinear`] have the same leading axes: `Self` (the second
/// input's shape) and `X1` (the first's) may differ only in their last dimension.
///
/// ```
/// use shaped::{NoBias, Rank3, Tensor};
/// let x1 = Tensor::from([[1.0, 2.0]]); // [1, 2]
/// let x2 = Tensor::from([[3.0, 4.0, 5.0]]); // [1, 3]: the same leading axes, another width
/// let w = Tensor::<Rank3<1, 2, 3>, f64>::ones();
/// // x1 W x2^T with W all ones: (1 + 2) (3 + 4 + 5)
/// assert_eq!(x1.bilinear(&x2, &w, NoBias).to_array(), [[36.0]]);
/// ```
///
/// ```compile_fail
/// use shaped::{NoBias, Rank3, Tensor};
/// let x1 = Tensor::from([[1.0, 2.0]]); // [1, 2]
/// let x2 = Tensor::from([[3.0, 4.0, 5.0], [6.0, 7.0, 8.0]]); // [2, 3]: 2 rows, not 1
/// let w = Tensor::<Rank3<1, 2, 3>, f64>::ones();
/// let _ = x1.bilinear(&x2, &w, NoBias); // bilinear inputs must have the same leading axes
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: bilinear inputs `{X1}` and `{Self}` must have the same leading axes (all but the last)",
    label = "its leading axes differ from the first input's",
    note = "`x1.bilinear(&x2, ..)` pairs row `n` of `x1` with row `n` of `x2`: `[.., IN1]` and `[.., IN2]` \
            with the same `..`, of rank 1 to 4"
)]
pub trait BilinearPair<X1: Shape>: Shape {
    /// The number of rows (the product of the leading axes).
    ///
    /// # Panics
    /// When run-time leading dimensions differ; the message names both shapes.
    #[doc(hidden)]
    #[track_caller]
    fn pair_rows(&self, x1: &X1) -> usize;
}

/// The rule of [`Tensor::bilinear`] for the first input: the weight `[OUT, IN1, IN2]` takes a first
/// input `[.., IN1]`, and the result is `[.., OUT]`.
///
/// ```
/// use shaped::{BilinearIn1, Rank2, Rank3, StaticShape};
/// type Out = <Rank3<5, 3, 4> as BilinearIn1<Rank2<2, 3>>>::Output;
/// assert_eq!(Out::DIMS, &[2, 5]);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: bilinear weight `{Self}` does not fit the first input `{X1}`: the weight must be `[OUT, IN1, IN2]` with IN1 = the first input's last dimension",
    label = "a weight `[OUT, IN1, IN2]` takes a first input `[.., IN1]`",
    note = "the weight is laid out as in PyTorch's `F.bilinear`: `[out_features, in1_features, \
            in2_features]`, and `y[.., k] = x1 W[k] x2^T + b[k]`"
)]
pub trait BilinearIn1<X1: Shape>: Shape {
    /// The first input's shape with its last dimension replaced by `OUT`.
    type Output: Shape;
    /// The output's shape.
    ///
    /// # Panics
    /// When the first input's last dimension is run-time and is not `IN1`.
    #[doc(hidden)]
    #[track_caller]
    fn bilinear_shape(&self, x1: &X1) -> Self::Output;
    /// The output width, the weight's first dimension.
    const OUT: usize;
    /// The first input's width, the weight's second dimension.
    const IN1: usize;
    /// The second input's width, the weight's third dimension.
    const IN2: usize;
}

/// The rule of [`Tensor::bilinear`] for the second input: the weight `[OUT, IN1, IN2]` takes a second
/// input `[.., IN2]`.
///
/// ```
/// use shaped::{NoBias, Tensor};
/// let x1 = Tensor::from([1.0, 0.0]);
/// let x2 = Tensor::from([0.0, 1.0, 0.0]);
/// let w = Tensor::from([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]); // [OUT = 1, IN1 = 2, IN2 = 3]
/// // x1 W[0] x2^T picks W[0][0][1]
/// assert_eq!(x1.bilinear(&x2, &w, NoBias).to_array(), [2.0]);
/// ```
///
/// ```compile_fail
/// use shaped::{NoBias, Tensor};
/// let x1 = Tensor::from([1.0, 0.0]);
/// let x2 = Tensor::from([0.0, 1.0]); // IN2 = 2, but the weight takes 3
/// let w = Tensor::from([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]);
/// let _ = x1.bilinear(&x2, &w, NoBias);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: bilinear weight `{Self}` does not fit the second input `{X2}`: the weight must be `[OUT, IN1, IN2]` with IN2 = the second input's last dimension",
    label = "a weight `[OUT, IN1, IN2]` takes a second input `[.., IN2]`",
    note = "the weight is laid out as in PyTorch's `F.bilinear`: `[out_features, in1_features, \
            in2_features]`, and `y[.., k] = x1 W[k] x2^T + b[k]`"
)]
pub trait BilinearIn2<X2: Shape>: Shape {
    /// Checks a run-time last dimension of the second input against `IN2`.
    #[doc(hidden)]
    #[track_caller]
    fn check_in2(&self, x2: &X2);
}

// Written out rather than generated: rustc quotes this impl in its help when the leading axes differ.
impl<const IN1: usize, const IN2: usize> BilinearPair<Rank1<IN1>> for Rank1<IN2> {
    fn pair_rows(&self, _: &Rank1<IN1>) -> usize {
        1
    }
}
impl<const A: usize, const IN1: usize, const IN2: usize> BilinearPair<Rank2<A, IN1>>
    for Rank2<A, IN2>
{
    fn pair_rows(&self, _: &Rank2<A, IN1>) -> usize {
        A
    }
}
impl<const A: usize, const B: usize, const IN1: usize, const IN2: usize>
    BilinearPair<Rank3<A, B, IN1>> for Rank3<A, B, IN2>
{
    fn pair_rows(&self, _: &Rank3<A, B, IN1>) -> usize {
        A * B
    }
}
impl<const A: usize, const B: usize, const C: usize, const IN1: usize, const IN2: usize>
    BilinearPair<Rank4<A, B, C, IN1>> for Rank4<A, B, C, IN2>
{
    fn pair_rows(&self, _: &Rank4<A, B, C, IN1>) -> usize {
        A * B * C
    }
}

macro_rules! bilinear_shapes {
    ($( $x:ident [$($a:ident),*] => $out:ty; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $a: usize,)* const OUT: usize, const IN1: usize, const IN2: usize>
            BilinearIn1<$x<$($a,)* IN1>> for Rank3<OUT, IN1, IN2>
        {
            type Output = $out;
            const OUT: usize = OUT;
            const IN1: usize = IN1;
            const IN2: usize = IN2;
            #[inline]
            #[track_caller]
            fn bilinear_shape(&self, _: &$x<$($a,)* IN1>) -> Self::Output {
                Default::default()
            }
        }

        #[diagnostic::do_not_recommend]
        impl<$(const $a: usize,)* const OUT: usize, const IN1: usize, const IN2: usize>
            BilinearIn2<$x<$($a,)* IN2>> for Rank3<OUT, IN1, IN2>
        {
            #[inline]
            #[track_caller]
            fn check_in2(&self, _: &$x<$($a,)* IN2>) {}
        }
    )*};
}

bilinear_shapes! {
    Rank1 [] => Rank1<OUT>;
    Rank2 [A] => Rank2<A, OUT>;
    Rank3 [A, B] => Rank3<A, B, OUT>;
    Rank4 [A, B, C] => Rank4<A, B, C, OUT>;
}

/// Inputs written as tuples (any dimension may be run-time): the same leading dimensions, checked when
/// the op runs.
#[diagnostic::do_not_recommend]
impl<X1, X2> BilinearPair<X1> for X2
where
    X1: TupleShape + NonScalar,
    X2: TupleShape + NonScalar<Init = X1::Init>,
{
    #[inline]
    #[track_caller]
    fn pair_rows(&self, x1: &X1) -> usize {
        let (a, b) = (x1.split_last().0, self.split_last().0);
        assert!(
            a == b,
            "bilinear: the leading dimensions of the two inputs differ: {:?} and {:?}",
            x1.dims().as_ref(),
            self.dims().as_ref()
        );
        a.numel()
    }
}

#[diagnostic::do_not_recommend]
impl<const OUT: usize, const IN1: usize, const IN2: usize, X1> BilinearIn1<X1>
    for Rank3<OUT, IN1, IN2>
where
    X1: TupleShape + ReplaceLast<OUT>,
    X1::Last: SameDim<Const<IN1>>,
{
    type Output = <X1 as ReplaceLast<OUT>>::Output;
    const OUT: usize = OUT;
    const IN1: usize = IN1;
    const IN2: usize = IN2;
    #[inline]
    #[track_caller]
    fn bilinear_shape(&self, x1: &X1) -> Self::Output {
        check_same(
            "bilinear",
            "the first input's width and the weight's",
            x1.split_last().1.size(),
            IN1,
        );
        x1.replace_last()
    }
}

#[diagnostic::do_not_recommend]
impl<const OUT: usize, const IN1: usize, const IN2: usize, X2> BilinearIn2<X2>
    for Rank3<OUT, IN1, IN2>
where
    X2: TupleShape + NonScalar,
    X2::Last: SameDim<Const<IN2>>,
{
    #[inline]
    #[track_caller]
    fn check_in2(&self, x2: &X2) {
        check_same(
            "bilinear",
            "the second input's width and the weight's",
            x2.split_last().1.size(),
            IN2,
        );
    }
}

/// The sizes of one bilinear op: `rows` pairs of inputs `[in1]`, `[in2]`, and `out` outputs each.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    rows: usize,
    out: usize,
    in1: usize,
    in2: usize,
}

impl Sizes {
    /// `zt = x2 W^T`, `[rows, out * in1]`: `zt[n, (k, i)] = sum_j W[k, i, j] x2[n, j]`, with `W` seen as the
    /// contiguous `[out * in1, in2]` matrix, transposed by its strides.
    fn project<E: Element>(self, x2: &[E], w: &[E]) -> Buffer<E> {
        let Self {
            rows,
            out,
            in1,
            in2,
        } = self;
        let mut zt = Buffer::zeros(rows * out * in1);
        gemm(
            E::one(),
            Mat::new(x2, rows, in2),
            Mat::new(w, out * in1, in2).t(),
            E::zero(),
            MatMut::new(&mut zt, rows, out * in1),
        );
        zt
    }

    /// `y[n, k] += sum_i zt[n, (k, i)] x1[n, i]`: per row, `[out, in1] x [in1]`.
    fn contract_rows<E: Element>(self, zt: &[E], x1: &[E], y: &mut [E]) {
        let Self { rows, out, in1, .. } = self;
        for n in 0..rows {
            gemm(
                E::one(),
                Mat::new(&zt[n * out * in1..], out, in1),
                Mat::new(&x1[n * in1..], in1, 1),
                E::one(),
                MatMut::new(&mut y[n * out..], out, 1),
            );
        }
    }

    /// `dx1[n, i] (+)= sum_k dy[n, k] zt[n, (k, i)]`: per row, `[out] x [out, in1]`.
    fn grad_x1<E: Element>(self, dy: &[E], zt: &[E], dx1: &mut [E], fresh: bool) {
        let Self { rows, out, in1, .. } = self;
        for n in 0..rows {
            gemm_grad(
                Mat::new(&dy[n * out..], 1, out),
                Mat::new(&zt[n * out * in1..], out, in1),
                MatMut::new(&mut dx1[n * in1..], 1, in1),
                fresh,
            );
        }
    }

    /// `p[n, (k, i)] = dy[n, k] x1[n, i]`, `[rows, out * in1]`: row `n` of `p` is the outer product of
    /// row `n` of `dy` and row `n` of `x1`.
    fn outer_rows<E: Element>(self, dy: &[E], x1: &[E]) -> Buffer<E> {
        let Self { rows, out, in1, .. } = self;
        let mut p = Buffer::zeros(rows * out * in1);
        if in1 == 0 || out == 0 {
            return p;
        }
        for ((p_n, dy_n), x1_n) in p
            .chunks_exact_mut(out * in1)
            .zip(dy.chunks_exact(out))
            .zip(x1.chunks_exact(in1))
        {
            for (p_nk, &g) in p_n.chunks_exact_mut(in1).zip(dy_n) {
                for (v, &x) in p_nk.iter_mut().zip(x1_n) {
                    *v = g * x;
                }
            }
        }
        p
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// A bilinear map of two inputs: `y[.., k] = sum_ij x1[.., i] W[k, i, j] x2[.., j] + b[k]`, that is
    /// `x1 W_k x2^T + b_k` for each output `k`, as `torch.nn.functional.bilinear(x1, x2, weight, bias)`.
    ///
    /// `self` is `x1: [.., IN1]`, `x2` is `[.., IN2]` with the same leading axes (rank 1 to 4), the
    /// weight is `[OUT, IN1, IN2]`, the bias is [`NoBias`](crate::NoBias), `&[OUT]` or `&[1, OUT]`
    /// (a row); the result is `[.., OUT]` with either bias (a `[1, OUT]` bias adds no axis).
    ///
    /// Derivatives, for the gradient `G` of `y`, row by row: `dx1[i] = sum_k G[k] (W_k x2^T)[i]`,
    /// `dx2[j] = sum_k G[k] (x1 W_k)[j]`, `dW[k, i, j] = sum_n G[n, k] x1[n, i] x2[n, j]`,
    /// `db[k] = sum_n G[n, k]`. The weight's and the bias's gradients are summed over every leading
    /// axis and have their operand's shape.
    ///
    /// Computed as matrix products: `Z = x2 W^T` with `W` seen as `[OUT * IN1, IN2]` (one product for
    /// all rows), then one `[OUT, IN1] x [IN1]` product per row; the backward pass is
    /// `dx2 = P W`, `dW = P^T x2` with `P[n, (k, i)] = G[n, k] x1[n, i]`, and `dx1` from `Z`.
    ///
    /// Inputs whose leading axes differ, a weight whose `IN1` or `IN2` does not match the inputs, or a
    /// bias whose length is not `OUT` do not compile.
    ///
    /// # Panics
    /// With run-time dimensions, when the two inputs' leading dimensions differ, or a last dimension
    /// is not the weight's; the message names both sizes.
    ///
    /// Edge values, as PyTorch: NaN and infinity spread as in any sum of products. `IN1 = 0` or
    /// `IN2 = 0` gives the bias on every row (zeros without one); inputs with no rows give an empty
    /// result, and the weight's and the bias's gradients are zeros.
    ///
    /// ```
    /// use shaped::{NoBias, Tape, Tensor};
    ///
    /// let x1 = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let x2 = Tensor::from([[5.0, 6.0], [7.0, 8.0]]);
    /// let w = Tensor::from([[[9.0, 10.0], [11.0, 12.0]]]); // [OUT = 1, IN1 = 2, IN2 = 2]
    /// let b = Tensor::from([[13.0]]); // [1, OUT], or [OUT]
    /// assert_eq!(x1.bilinear(&x2, &w, &b).to_array(), [[372.0], [1134.0]]);
    /// assert_eq!(x1.bilinear(&x2, &w, NoBias).to_array(), [[359.0], [1121.0]]);
    ///
    /// // x1, w and b are watched; x2 is a constant.
    /// let tape = Tape::new();
    /// let (x1t, wt, bt) = (tape.watch(&x1), tape.watch(&w), tape.watch(&b));
    /// let grads = x1t.bilinear(&x2, &wt, &bt).sum().backward();
    /// assert_eq!(grads.get(&x1t).to_array(), [[105.0, 127.0], [143.0, 173.0]]); // W x2^T per row
    /// assert_eq!(grads.get(&wt).to_array(), [[[26.0, 30.0], [38.0, 44.0]]]); // sum_n x1 (x) x2
    /// assert_eq!(grads.get(&bt).to_array(), [[2.0]]); // summed over the 2 rows
    /// ```
    ///
    /// ```compile_fail,E0277
    /// use shaped::{NoBias, Rank2, Rank3, Tensor};
    /// let x1: Tensor<Rank2<4, 2>> = Tensor::zeros();
    /// let x2: Tensor<Rank2<4, 3>> = Tensor::zeros();
    /// let w: Tensor<Rank3<5, 3, 2>> = Tensor::zeros(); // should be [5, 2, 3]
    /// let _ = x1.bilinear(&x2, &w, NoBias);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity)]
    // `bias` by value reads best at the call (`NoBias`, `&b`); it is a reference or a unit.
    #[allow(clippy::needless_pass_by_value)]
    pub fn bilinear<S2, W, T2, T3, B>(
        &self,
        x2: &Tensor<S2, E, T2>,
        weight: &Tensor<W, E, T3>,
        bias: B,
    ) -> Tensor<
        <W as BilinearIn1<S>>::Output,
        E,
        Merged<E, Merged<E, Merged<E, T, T2>, T3>, B::Tracking>,
    >
    where
        S2: BilinearPair<S>,
        W: BilinearIn1<S> + BilinearIn2<S2>,
        B: Bias<W, E>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
        T3: Tracking<E>,
        Merged<E, T, T2>: Merge<E, T3>,
        Merged<E, Merged<E, T, T2>, T3>: Merge<E, B::Tracking>,
    {
        let w_shape = weight.typed_shape();
        let out_shape = w_shape.bilinear_shape(&self.typed_shape());
        w_shape.check_in2(&x2.typed_shape());
        let sizes = Sizes {
            rows: x2.typed_shape().pair_rows(&self.typed_shape()),
            out: W::OUT,
            in1: W::IN1,
            in2: W::IN2,
        };
        let (rows, out) = (sizes.rows, sizes.out);
        let (x1, x2v, w) = (self.data(), x2.data(), weight.data());
        let bias_parts = bias.parts();
        let zt = sizes.project(x2v, w);
        let mut y = match bias_parts {
            Some((b, _)) => Buffer::tile(b, rows),
            None => Buffer::zeros(rows * out),
        };
        sizes.contract_rows(&zt, x1, &mut y);

        let tape = self
            .tape()
            .merge(x2.tape())
            .merge(weight.tape())
            .merge(&bias.tracking());
        let make = |n1: Option<NodeId>,
                    n2: Option<NodeId>,
                    nw: Option<NodeId>,
                    nb: Option<NodeId>|
         -> BackwardFn<E> {
            // Keep only what the gradients that are needed read.
            let zt = n1.map(|_| zt);
            let x1 = (n2.is_some() || nw.is_some()).then(|| Arc::clone(x1));
            let w = n2.map(|_| Arc::clone(w));
            let x2 = nw.map(|_| Arc::clone(x2v));
            Box::new(move |dy, grads| {
                let Sizes {
                    rows,
                    out,
                    in1,
                    in2,
                } = sizes;
                if let (Some(n1), Some(zt)) = (n1, &zt) {
                    let (dx1, fresh) = grads.acc_fresh(n1);
                    sizes.grad_x1(dy, zt, dx1, fresh);
                }
                if let Some(x1) = &x1 {
                    let p = sizes.outer_rows(dy, x1);
                    if let (Some(n2), Some(w)) = (n2, &w) {
                        // dx2 = P W: [N, OUT * IN1] x [OUT * IN1, IN2]
                        let (dx2, fresh) = grads.acc_fresh(n2);
                        gemm_grad(
                            Mat::new(&p, rows, out * in1),
                            Mat::new(w, out * in1, in2),
                            MatMut::new(dx2, rows, in2),
                            fresh,
                        );
                    }
                    if let (Some(nw), Some(x2)) = (nw, &x2) {
                        // dW = P^T x2: [OUT * IN1, N] x [N, IN2], summed over the rows.
                        let (dw, fresh) = grads.acc_fresh(nw);
                        gemm_grad(
                            Mat::new(&p, rows, out * in1).t(),
                            Mat::new(x2, rows, in2),
                            MatMut::new(dw, out * in1, in2),
                            fresh,
                        );
                    }
                }
                if let Some(nb) = nb {
                    add_column_sums(dy, out, grads.acc(nb));
                }
            })
        };
        let inputs = [self.input(), x2.input(), weight.input()];
        let [i1, i2, iw] = inputs;
        let tape = match bias_parts {
            None => tape.record(inputs, rows * out, |[n1, n2, nw]| make(n1, n2, nw, None)),
            Some((_, ib)) => tape.record([i1, i2, iw, ib], rows * out, |[n1, n2, nw, nb]| {
                make(n1, n2, nw, nb)
            }),
        };
        Tensor::from_parts(Arc::new(y), out_shape, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{
        BilinearIn1, BilinearIn2, BilinearPair, NoBias, Rank1, Rank2, Rank3, Rank4, StaticShape,
        Tape, Tensor, gradcheck,
    };

    // Worked examples with values computed by hand are in tests/it/contraction_examples.rs.

    #[test]
    fn gradient_literal() {
        // Two outputs, one row: y_k = x1 W_k x2^T + b_k, f = sum_k v_k y_k.
        // df/dx1 = sum_k v_k W_k x2^T, df/dx2 = sum_k v_k x1 W_k, df/dW_k = v_k x1^T x2, df/db = v.
        // x1 = [1, 2], x2 = [3, -1], W_0 = [[1, 0], [0, 1]], W_1 = [[0, 1], [2, 0]], b = [10, 20],
        // v = [1, 3]:
        // y_0 = 1*3 + 2*(-1) + 10 = 11; y_1 = 1*(-1) + 2*2*3 + 20 = 31.
        // W_0 x2^T = [3, -1], W_1 x2^T = [-1, 6]: df/dx1 = [3, -1] + 3 [-1, 6] = [0, 17].
        // x1 W_0 = [1, 2], x1 W_1 = [4, 1]: df/dx2 = [1, 2] + 3 [4, 1] = [13, 5].
        // x1^T x2 = [[3, -1], [6, -2]]: df/dW = [x1^T x2, 3 x1^T x2].
        let x1 = Tensor::from([1.0, 2.0]);
        let x2 = Tensor::from([3.0, -1.0]);
        let w = Tensor::from([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [2.0, 0.0]]]);
        let b = Tensor::from([10.0, 20.0]);
        let v = Tensor::from([1.0, 3.0]);
        let tape = Tape::new();
        let (x1t, x2t) = (tape.watch(&x1), tape.watch(&x2));
        let (wt, bt) = (tape.watch(&w), tape.watch(&b));
        let y = x1t.bilinear(&x2t, &wt, &bt);
        assert_eq!(y.to_array(), [11.0, 31.0]);
        let g = (y * &v).sum().backward();
        assert_eq!(g.get(&x1t).to_array(), [0.0, 17.0]);
        assert_eq!(g.get(&x2t).to_array(), [13.0, 5.0]);
        assert_eq!(
            g.get(&wt).to_array(),
            [[[3.0, -1.0], [6.0, -2.0]], [[9.0, -3.0], [18.0, -6.0]]]
        );
        assert_eq!(g.get(&bt).to_array(), [1.0, 3.0]);
    }

    #[test]
    fn matches_the_definition_on_random_values() {
        let x1: Tensor<Rank3<2, 3, 4>, f64> = random(1);
        let x2: Tensor<Rank3<2, 3, 5>, f64> = random(2);
        let w: Tensor<Rank3<6, 4, 5>, f64> = random(3);
        let b: Tensor<Rank1<6>, f64> = random(4);
        let y = x1.bilinear(&x2, &w, &b);
        assert_eq!(y.shape(), [2, 3, 6]);
        for (p, q, k) in [(0, 0, 0), (1, 2, 5), (0, 1, 3)] {
            let mut want = b[[k]];
            for i in 0..4 {
                for j in 0..5 {
                    want += x1[[p, q, i]] * w[[k, i, j]] * x2[[p, q, j]];
                }
            }
            approx::assert_relative_eq!(y[[p, q, k]], want, epsilon = 1e-12);
        }
    }

    /// Checks the gradients of `sum(bilinear(x1, x2, W, b) * v)` for all four operands, with the
    /// bias as `[OUT]` and as `[1, OUT]`, and without a bias.
    fn check<X1, X2, const OUT: usize, const IN1: usize, const IN2: usize>(seed: u64)
    where
        X1: StaticShape,
        X2: BilinearPair<X1> + StaticShape,
        Rank3<OUT, IN1, IN2>: BilinearIn1<X1> + BilinearIn2<X2>,
        <Rank3<OUT, IN1, IN2> as BilinearIn1<X1>>::Output: StaticShape,
    {
        let x1: Tensor<X1, f64> = random(seed);
        let x2: Tensor<X2, f64> = random(seed + 1);
        let w: Tensor<Rank3<OUT, IN1, IN2>, f64> = random(seed + 2);
        let b: Tensor<Rank1<OUT>, f64> = random(seed + 3);
        let b2 = b.reshape::<Rank2<1, OUT>>();
        let v: Tensor<<Rank3<OUT, IN1, IN2> as BilinearIn1<X1>>::Output, f64> = random(seed + 4);
        gradcheck(|x1| (x1.bilinear(&x2, &w, &b) * &v).sum(), &x1).unwrap();
        gradcheck(|x1| (x1.bilinear(&x2, &w, NoBias) * &v).sum(), &x1).unwrap();
        gradcheck(|x2| (x1.bilinear(&x2, &w, &b) * &v).sum(), &x2).unwrap();
        gradcheck(|w| (x1.bilinear(&x2, &w, &b2) * &v).sum(), &w).unwrap();
        gradcheck(|w| (x1.bilinear(&x2, &w, NoBias) * &v).sum(), &w).unwrap();
        gradcheck(|b| (x1.bilinear(&x2, &w, &b) * &v).sum(), &b).unwrap();
        gradcheck(|b2| (x1.bilinear(&x2, &w, &b2) * &v).sum(), &b2).unwrap();
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_rank() {
        check::<Rank1<3>, Rank1<2>, 2, 3, 2>(10);
        check::<Rank2<4, 3>, Rank2<4, 2>, 3, 3, 2>(20);
        check::<Rank3<2, 2, 2>, Rank3<2, 2, 3>, 2, 2, 3>(30);
        check::<Rank4<2, 1, 2, 3>, Rank4<2, 1, 2, 2>, 2, 3, 2>(40);
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = x W x^T (one output, one row): df/dx = x (W + W^T).
        // x = [1, 2], W = [[1, 2], [3, 4]]: W + W^T = [[2, 5], [5, 8]], x (W + W^T) = [12, 21].
        let x = Tensor::from([1.0, 2.0]);
        let w = Tensor::from([[[1.0, 2.0], [3.0, 4.0]]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y = xt.bilinear(&xt, &w, NoBias);
        assert_eq!(y.to_array(), [27.0]);
        let g = y.sum().backward();
        assert_eq!(g.get(&xt).to_array(), [12.0, 21.0]);
        let x: Tensor<Rank2<3, 4>, f64> = random(60);
        let w: Tensor<Rank3<2, 4, 4>, f64> = random(61);
        let v: Tensor<Rank2<3, 2>, f64> = random(62);
        gradcheck(|x| (x.bilinear(&x, &w, NoBias) * &v).sum(), &x).unwrap();
        // The same tensor as first input, second input and (reshaped) bias.
        let s: Tensor<Rank1<2>, f64> = random(63);
        let w2: Tensor<Rank3<2, 2, 2>, f64> = random(64);
        gradcheck(|s| s.bilinear(&s, &w2, &s).sum(), &s).unwrap();
    }

    #[test]
    fn ieee_values_and_empty_widths() {
        let x1 = Tensor::from([[1.0, 2.0]]);
        let x2 = Tensor::from([[f64::INFINITY]]);
        let w = Tensor::from([[[1.0], [1.0]], [[-1.0], [-1.0]]]);
        let y = x1.bilinear(&x2, &w, NoBias);
        assert_eq!(y.to_array(), [[f64::INFINITY, f64::NEG_INFINITY]]);
        // A zero weight meeting an infinite input is 0 * inf = NaN, as in PyTorch.
        let w = Tensor::from([[[1.0], [0.0]]]);
        assert!(x1.bilinear(&x2, &w, NoBias)[[0, 0]].is_nan());
        // IN1 = 0: no products, the output is the bias.
        let e1: Tensor<Rank2<2, 0>, f64> = Tensor::zeros();
        let e2: Tensor<Rank2<2, 3>, f64> = Tensor::ones();
        let w0: Tensor<Rank3<2, 0, 3>, f64> = Tensor::zeros();
        let b = Tensor::from([1.0, 2.0]);
        assert_eq!(e1.bilinear(&e2, &w0, &b).to_array(), [[1.0, 2.0]; 2]);
        let tape = Tape::new();
        let (e2t, bt) = (tape.watch(&e2), tape.watch(&b));
        let g = e2t
            .bilinear(&e1, &w0.reshape::<Rank3<2, 3, 0>>(), &bt)
            .sum()
            .backward();
        assert_eq!(g.get(&e2t).to_array(), [[0.0; 3]; 2]);
        assert_eq!(g.get(&bt).to_array(), [2.0, 2.0]);
    }

    #[test]
    fn f32_works() {
        let x1 = Tensor::from([[1.0_f32, 2.0], [3.0, 4.0]]);
        let x2 = Tensor::from([[5.0_f32, 6.0], [7.0, 8.0]]);
        let w = Tensor::from([[[9.0_f32, 10.0], [11.0, 12.0]]]);
        let b = Tensor::from([13.0_f32]);
        assert_eq!(x1.bilinear(&x2, &w, &b).to_array(), [[372.0], [1134.0]]);
    }
}
