//! `linear`: `y = x W^T + b` as in `torch.nn.functional.linear`, and the optional bias shared with
//! `bilinear`.

use std::sync::Arc;

use crate::buffer::Buffer;

use crate::gemm::{Mat, MatMut, gemm, gemm_grad};
use crate::ops::Merged;
use crate::shape::check_same;
use crate::tape::internal::{BackwardFn, Input, NodeId, Record};
use crate::{
    Const, Dim, Element, Merge, NoTape, Rank1, Rank2, Rank3, Rank4, ReplaceLast, SameDim, Shape,
    Tensor, Tracking, TupleShape,
};

/// The shape rule of [`Tensor::linear`], on the weight's shape: a weight `[OUT, IN]` applies to an input
/// `[.., IN]` of rank 1 to 4, giving `[.., OUT]`.
///
/// ```
/// use shaped::{Const, LinearShape, Rank2, Rank3, Shape, StaticShape};
/// type Out = <Rank2<5, 3> as LinearShape<Rank3<2, 4, 3>>>::Output;
/// assert_eq!(Out::DIMS, &[2, 4, 5]);
/// // With a run-time number of rows, the output keeps it.
/// let (out, rows) = Rank2::<5, 3>.linear_shape(&(8_usize, Const::<3>));
/// assert_eq!((out.dims(), rows), ([8, 5], 8));
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: linear weight `{Self}` does not fit input `{X}`: the weight must be `[OUT, IN]` with IN = the input's last dimension",
    label = "a weight `[OUT, IN]` takes inputs `[.., IN]`",
    note = "the weight is laid out as in PyTorch's `F.linear`: `[out_features, in_features]`, and \
            `y = x W^T + b`; a weight stored as `[IN, OUT]` must be transposed first",
    note = "the input has rank 1 to 4"
)]
pub trait LinearShape<X: Shape>: Shape {
    /// The input's shape with its last dimension replaced by `OUT`.
    type Output: Shape;
    /// The input width, the weight's second dimension.
    const IN: usize;
    /// The output width, the weight's first dimension.
    const OUT: usize;
    /// The output's shape and the number of input rows (the product of the input's leading axes).
    ///
    /// # Panics
    /// When the input's last dimension is run-time and is not `IN`; the message names both.
    #[doc(hidden)]
    #[track_caller]
    fn linear_shape(&self, x: &X) -> (Self::Output, usize);
}

macro_rules! linear_shapes {
    ($( $x:ident [$($a:ident),*] => $out:ty; )*) => {$(
        #[diagnostic::do_not_recommend]
        impl<$(const $a: usize,)* const OUT: usize, const IN: usize> LinearShape<$x<$($a,)* IN>>
            for Rank2<OUT, IN>
        {
            type Output = $out;
            const IN: usize = IN;
            const OUT: usize = OUT;
            #[inline]
            fn linear_shape(&self, _: &$x<$($a,)* IN>) -> (Self::Output, usize) {
                (Default::default(), 1 $(* $a)*)
            }
        }
    )*};
}

linear_shapes! {
    Rank1 [] => Rank1<OUT>;
    Rank2 [A] => Rank2<A, OUT>;
    Rank3 [A, B] => Rank3<A, B, OUT>;
    Rank4 [A, B, C] => Rank4<A, B, C, OUT>;
}

/// An input written as a tuple, any of whose dimensions may be run-time: its last one must be `IN`
/// (checked when the op runs if it is `usize`).
#[diagnostic::do_not_recommend]
impl<const OUT: usize, const IN: usize, X> LinearShape<X> for Rank2<OUT, IN>
where
    X: TupleShape + ReplaceLast<OUT>,
    X::Last: SameDim<Const<IN>>,
{
    type Output = <X as ReplaceLast<OUT>>::Output;
    const IN: usize = IN;
    const OUT: usize = OUT;
    #[inline]
    #[track_caller]
    fn linear_shape(&self, x: &X) -> (Self::Output, usize) {
        let (init, last) = x.split_last();
        check_same(
            "linear",
            "the input width and the weight's",
            last.size(),
            IN,
        );
        (x.replace_last(), init.numel())
    }
}

/// No bias: `x.linear(&w, NoBias)` is `x W^T`, and `x1.bilinear(&x2, &w, NoBias)` has no `+ b`.
///
/// ```
/// use shaped::{NoBias, Tensor};
/// let x = Tensor::from([[1.0, 2.0]]);
/// let w = Tensor::from([[3.0, 4.0], [1.0, -1.0]]);
/// // x W^T = [1 * 3 + 2 * 4, 1 * 1 + 2 * (-1)]
/// assert_eq!(x.linear(&w, NoBias).to_array(), [[11.0, -1.0]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoBias;

pub(crate) mod sealed {
    use std::sync::Arc;

    use crate::buffer::Buffer;
    use crate::tape::internal::Input;

    /// What an op needs from its bias argument, hidden from users.
    pub trait BiasInput<E: crate::Element> {
        /// The bias's values and its input to the tape; `None` for `NoBias`.
        fn parts(&self) -> Option<(&Arc<Buffer<E>>, Input<'_, E>)>;
    }
}
use sealed::BiasInput;

/// The optional bias of [`Tensor::linear`], [`Tensor::bilinear`], [`Tensor::conv1d`] and
/// [`Tensor::conv2d`] whose weight has shape `W`:
/// [`NoBias`], or a reference to a tensor `[OUT]` (`torch`'s layout) or `[1, OUT]` (a row), where
/// `OUT` is the weight's first dimension. The bias's gradient has the bias's shape.
///
/// ```
/// use shaped::{Bias, NoBias, Rank1, Rank2, Tensor};
/// fn takes<B: Bias<Rank2<3, 5>, f32>>(_: B) {}
/// takes(NoBias);
/// takes(&Tensor::<Rank1<3>>::zeros());
/// takes(&Tensor::<Rank2<1, 3>>::zeros());
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: bias `{Self}` does not fit weight `{W}`: the bias must be `[OUT]` or `[1, OUT]` with OUT = the weight's first dimension",
    label = "a bias has one value per output",
    note = "pass the bias by reference (`&b`), or `NoBias` for none; both operands of an op have the \
            same element type"
)]
pub trait Bias<W: Shape, E: Element>: BiasInput<E> {
    /// The tracking of the bias ([`NoTape`] for [`NoBias`]).
    type Tracking: Tracking<E>;
    /// The bias's tracking, to merge with the other operands'.
    #[doc(hidden)]
    fn tracking(&self) -> Self::Tracking;
}

impl<E: Element> BiasInput<E> for NoBias {
    #[inline]
    fn parts(&self) -> Option<(&Arc<Buffer<E>>, Input<'_, E>)> {
        None
    }
}

impl<E: Element, S: Shape, T: Tracking<E>> BiasInput<E> for &Tensor<S, E, T> {
    #[inline]
    fn parts(&self) -> Option<(&Arc<Buffer<E>>, Input<'_, E>)> {
        Some((self.data(), self.input()))
    }
}

/// `NoBias`, and `&Tensor` biases `[OUT]` and `[1, OUT]`, for a weight shape with first dimension `OUT`.
macro_rules! bias_impls {
    ($weight:ident [$($d:ident),*]) => {
        #[diagnostic::do_not_recommend]
        impl<E: Element, const OUT: usize, $(const $d: usize),*> Bias<$weight<OUT, $($d),*>, E>
            for NoBias
        {
            type Tracking = NoTape;
            #[inline]
            fn tracking(&self) -> NoTape {
                NoTape
            }
        }

        #[diagnostic::do_not_recommend]
        impl<E: Element, T: Tracking<E>, const OUT: usize, $(const $d: usize),*>
            Bias<$weight<OUT, $($d),*>, E> for &Tensor<Rank1<OUT>, E, T>
        {
            type Tracking = T;
            #[inline]
            fn tracking(&self) -> T {
                self.tape().clone()
            }
        }

        #[diagnostic::do_not_recommend]
        impl<E: Element, T: Tracking<E>, const OUT: usize, $(const $d: usize),*>
            Bias<$weight<OUT, $($d),*>, E> for &Tensor<Rank2<1, OUT>, E, T>
        {
            type Tracking = T;
            #[inline]
            fn tracking(&self) -> T {
                self.tape().clone()
            }
        }
    };
}

// The weights of `linear` (`[OUT, IN]`), of `bilinear` and `conv1d` (`[OUT, IN1, IN2]`, `[C_out,
// C_in, K]`) and of `conv2d` (`[C_out, C_in, KH, KW]`).
bias_impls!(Rank2[IN]);
bias_impls!(Rank3[IN1, IN2]);
bias_impls!(Rank4[IN, KH, KW]);

/// Adds the column sums of `dy` (`[rows, width]`) to `db` (`[width]`).
pub(crate) fn add_column_sums<E: Element>(dy: &[E], width: usize, db: &mut [E]) {
    if width == 0 {
        return;
    }
    for row in dy.chunks_exact(width) {
        for (d, &g) in db.iter_mut().zip(row) {
            *d += g;
        }
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// A linear map of the last axis: `y = x W^T + b`, as `torch.nn.functional.linear(x, weight, bias)`.
    ///
    /// `x` is `[.., IN]` (rank 1 to 4), the weight is `[OUT, IN]` (`torch`'s layout: one row per
    /// output), the bias is [`NoBias`], `&[OUT]` or `&[1, OUT]` (a row); the result is
    /// `[.., OUT]` with either bias (a `[1, OUT]` bias adds no axis):
    /// `y[.., o] = sum_i x[.., i] W[o, i] + b[o]`.
    ///
    /// Derivatives, with `x` seen as `[N, IN]` and the gradient `G` of `y` as `[N, OUT]`:
    /// `dx = G W`, `dW = G^T x`, `db = sum_n G[n, ..]`. Every gradient has its operand's shape: the
    /// weight's and the bias's are summed over all the leading axes of `x`.
    ///
    /// A weight given as `[IN, OUT]`, an input whose last dimension is not `IN`, or a bias whose length
    /// is not `OUT` does not compile. (A square weight given transposed cannot be told apart from the
    /// right one.)
    ///
    /// The input may have run-time dimensions (`(usize, Const<IN>)`: any number of rows); the output
    /// keeps them.
    ///
    /// # Panics
    /// When the input's last dimension is run-time and is not `IN`; the message names both.
    ///
    /// Edge values, as PyTorch: NaN and infinity spread as in any sum of products. `IN = 0` gives the
    /// bias on every row (zeros without one); an input with no rows gives an empty result, and the
    /// weight's and the bias's gradients are zeros.
    ///
    /// ```
    /// use shaped::{NoBias, Tape, Tensor};
    ///
    /// let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    /// let w = Tensor::from([[5.0, 6.0], [7.0, 8.0]]); // [OUT, IN]
    /// let b = Tensor::from([[9.0, 10.0]]); // [1, OUT], or [OUT]
    /// assert_eq!(x.linear(&w, &b).to_array(), [[26.0, 33.0], [48.0, 63.0]]);
    /// assert_eq!(x.linear(&w, NoBias).to_array(), [[17.0, 23.0], [39.0, 53.0]]);
    ///
    /// let tape = Tape::new();
    /// let (xt, wt, bt) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
    /// let grads = xt.linear(&wt, &bt).sum().backward();
    /// assert_eq!(grads.get(&xt).to_array(), [[12.0, 14.0], [12.0, 14.0]]); // ones W
    /// assert_eq!(grads.get(&wt).to_array(), [[4.0, 6.0], [4.0, 6.0]]); // ones^T x
    /// assert_eq!(grads.get(&bt).to_array(), [[2.0, 2.0]]); // summed over the 2 rows
    /// ```
    ///
    /// ```compile_fail,E0277
    /// use shaped::{NoBias, Rank2, Tensor};
    /// let x: Tensor<Rank2<4, 3>> = Tensor::zeros();
    /// let w: Tensor<Rank2<3, 2>> = Tensor::zeros(); // [IN, OUT]: should be [2, 3]
    /// let _ = x.linear(&w, NoBias);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity)]
    // `bias` by value reads best at the call (`NoBias`, `&b`); it is a reference or a unit.
    #[allow(clippy::needless_pass_by_value)]
    pub fn linear<W, T2, B>(
        &self,
        weight: &Tensor<W, E, T2>,
        bias: B,
    ) -> Tensor<<W as LinearShape<S>>::Output, E, Merged<E, Merged<E, T, T2>, B::Tracking>>
    where
        W: LinearShape<S>,
        B: Bias<W, E>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
        Merged<E, T, T2>: Merge<E, B::Tracking>,
    {
        let (out_shape, rows) = weight.typed_shape().linear_shape(&self.typed_shape());
        let (n_in, n_out) = (W::IN, W::OUT);
        let (x, w) = (self.data(), weight.data());
        let bias_parts = bias.parts();
        // y = b (each row), then y += x W^T with W transposed by its strides.
        let mut y = match bias_parts {
            Some((b, _)) => Buffer::tile(b, rows),
            _ => Buffer::uninit(rows * n_out),
        };
        let beta = if bias_parts.is_some() {
            E::one()
        } else {
            E::zero()
        };
        gemm(
            E::one(),
            Mat::new(x, rows, n_in),
            Mat::new(w, n_out, n_in).t(),
            beta,
            MatMut::new(&mut y, rows, n_out),
        );

        let tape = self.tape().merge(weight.tape()).merge(&bias.tracking());
        let make = |nx: Option<NodeId>, nw: Option<NodeId>, nb: Option<NodeId>| -> BackwardFn<E> {
            let w = nx.map(|_| Arc::clone(w));
            let x = nw.map(|_| Arc::clone(x));
            Box::new(move |dy, grads| {
                if let (Some(nx), Some(w)) = (nx, &w) {
                    // dx = G W: [N, OUT] x [OUT, IN]
                    let (dx, fresh) = grads.acc_fresh(nx);
                    gemm_grad(
                        Mat::new(dy, rows, n_out),
                        Mat::new(w, n_out, n_in),
                        MatMut::new(dx, rows, n_in),
                        fresh,
                    );
                }
                if let (Some(nw), Some(x)) = (nw, &x) {
                    // dW = G^T x: [OUT, N] x [N, IN]; the sum over the rows is the product's.
                    let (dw, fresh) = grads.acc_fresh(nw);
                    gemm_grad(
                        Mat::new(dy, rows, n_out).t(),
                        Mat::new(x, rows, n_in),
                        MatMut::new(dw, n_out, n_in),
                        fresh,
                    );
                }
                if let Some(nb) = nb {
                    add_column_sums(dy, n_out, grads.acc(nb));
                }
            })
        };
        let (xi, wi) = (self.input(), weight.input());
        let tape = match bias_parts {
            None => tape.record([xi, wi], rows * n_out, |[nx, nw]| make(nx, nw, None)),
            Some((_, bi)) => {
                tape.record([xi, wi, bi], rows * n_out, |[nx, nw, nb]| make(nx, nw, nb))
            }
        };
        Tensor::from_parts(Arc::new(y), out_shape, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{
        LinearShape, NoBias, Rank1, Rank2, Rank3, Rank4, StaticShape, Tape, Tensor, gradcheck,
    };

    // Worked examples with values computed by hand are in tests/it/contraction_examples.rs.

    #[test]
    fn gradient_literal() {
        // f = sum(linear(x, W, b) * v) = sum_n,o v[n,o] (sum_i x[n,i] W[o,i] + b[o]).
        // df/dx = v W, df/dW = v^T x, df/db = column sums of v.
        // x = [[1, 2], [3, 4], [5, 6]], W = [[1, 0], [1, -1]], b = [0.5, -0.5],
        // v = [[1, 0], [0, 1], [2, 2]]:
        // v W = [[1, 0], [1, -1], [4, -2]]; v^T x = [[11, 14], [13, 16]]; sums [3, 3].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
        let w = Tensor::from([[1.0, 0.0], [1.0, -1.0]]);
        let b = Tensor::from([0.5, -0.5]);
        let v = Tensor::from([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]);
        let tape = Tape::new();
        let (xt, wt, bt) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
        let y = xt.linear(&wt, &bt);
        assert_eq!(y.to_array(), [[1.5, -1.5], [3.5, -1.5], [5.5, -1.5]]);
        let g = (y * &v).sum().backward();
        assert_eq!(
            g.get(&xt).to_array(),
            [[1.0, 0.0], [1.0, -1.0], [4.0, -2.0]]
        );
        assert_eq!(g.get(&wt).to_array(), [[11.0, 14.0], [13.0, 16.0]]);
        assert_eq!(g.get(&bt).to_array(), [3.0, 3.0]);
    }

    /// Checks d/dx, d/dW and d/db (as `[OUT]` and as `[1, OUT]`) of `sum(linear(x, W, b) * v)`.
    fn check<X, const OUT: usize, const IN: usize>(seed: u64)
    where
        X: StaticShape,
        Rank2<OUT, IN>: LinearShape<X>,
        <Rank2<OUT, IN> as LinearShape<X>>::Output: StaticShape,
    {
        let x: Tensor<X, f64> = random(seed);
        let w: Tensor<Rank2<OUT, IN>, f64> = random(seed + 1);
        let b: Tensor<Rank1<OUT>, f64> = random(seed + 2);
        let b2 = b.reshape::<Rank2<1, OUT>>();
        let v: Tensor<<Rank2<OUT, IN> as LinearShape<X>>::Output, f64> = random(seed + 3);
        gradcheck(|x| (x.linear(&w, &b) * &v).sum(), &x).unwrap();
        gradcheck(|x| (x.linear(&w, NoBias) * &v).sum(), &x).unwrap();
        gradcheck(|w| (x.linear(&w, &b) * &v).sum(), &w).unwrap();
        gradcheck(|w| (x.linear(&w, NoBias) * &v).sum(), &w).unwrap();
        gradcheck(|b| (x.linear(&w, &b) * &v).sum(), &b).unwrap();
        gradcheck(|b2| (x.linear(&w, &b2) * &v).sum(), &b2).unwrap();
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_rank() {
        check::<Rank1<3>, 2, 3>(10);
        check::<Rank2<4, 3>, 2, 3>(20);
        check::<Rank3<2, 2, 3>, 4, 3>(30);
        check::<Rank4<2, 1, 2, 3>, 2, 3>(40);
    }

    #[test]
    fn weight_and_bias_gradients_are_summed_over_all_leading_axes() {
        // With x of shape [2, 3, IN], dW = sum over the 6 rows, the same as for x reshaped to [6, IN].
        let x: Tensor<Rank3<2, 3, 4>, f64> = random(50);
        let w: Tensor<Rank2<5, 4>, f64> = random(51);
        let b: Tensor<Rank1<5>, f64> = random(52);
        let tape = Tape::new();
        let (wt3, bt3) = (tape.watch(&w), tape.watch(&b));
        let g3 = tape.input(&x).linear(&wt3, &bt3).sum().backward();
        let tape = Tape::new();
        let (wt2, bt2) = (tape.watch(&w), tape.watch(&b));
        let g2 = tape
            .input(&x.reshape::<Rank2<6, 4>>())
            .linear(&wt2, &bt2)
            .sum()
            .backward();
        approx::assert_relative_eq!(g3.get(&wt3), g2.get(&wt2), epsilon = 1e-12);
        assert_eq!(g3.get(&bt3).to_array(), [6.0; 5]);
        assert_eq!(g3.get(&wt3).shape(), [5, 4]);
    }

    #[test]
    fn an_operand_used_twice_counts_twice() {
        // f = sum(linear(x, x, NoBias)) = sum_n,o x_n . x_o; df/dx = 2 * (column sums of x), repeated.
        // x = [[1, 2], [3, 4]]: column sums [4, 6], df/dx = [[8, 12], [8, 12]].
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let g = xt.linear(&xt, NoBias).sum().backward();
        assert_eq!(g.get(&xt).to_array(), [[8.0, 12.0], [8.0, 12.0]]);
        // A vector as both input and bias: f = sum(W v + v).
        let v: Tensor<Rank1<3>, f64> = random(60);
        let w: Tensor<Rank2<3, 3>, f64> = random(61);
        let u: Tensor<Rank1<3>, f64> = random(62);
        gradcheck(|v| (v.linear(&w, &v) * &u).sum(), &v).unwrap();
        gradcheck(|w| (w.linear(&w, &w.sum_axis::<0>()) * &w).sum(), &w).unwrap();
    }

    #[test]
    fn the_bias_may_be_on_the_tape_and_f32_works() {
        let x = Tensor::from([[1.0_f32, 2.0]]);
        let w = Tensor::from([[1.0_f32, 1.0]]);
        let b = Tensor::from([0.5_f32]);
        let tape = Tape::new();
        let (wt, bt) = (tape.watch(&w), tape.watch(&b));
        let y = tape.input(&x).linear(&wt, &bt);
        assert_eq!(y.to_array(), [[3.5]]);
        let g = (y * 3.0).sum().backward();
        assert_eq!(g.get(&bt).to_array(), [3.0]);
        assert_eq!(g.get(&wt).to_array(), [[3.0, 6.0]]);
    }

    #[test]
    fn ieee_values_and_empty_widths() {
        let x = Tensor::from([[f64::INFINITY, 1.0]]);
        let w = Tensor::from([[1.0, 0.0], [-1.0, 0.0]]);
        let y = x.linear(&w, &Tensor::from([0.0, f64::NAN]));
        assert_eq!(y[[0, 0]], f64::INFINITY);
        assert!(y[[0, 1]].is_nan());
        let x0: Tensor<Rank2<2, 0>, f64> = Tensor::zeros();
        let w0: Tensor<Rank2<3, 0>, f64> = Tensor::zeros();
        let b0 = Tensor::from([1.0, 2.0, 3.0]);
        assert_eq!(x0.linear(&w0, &b0).to_array(), [[1.0, 2.0, 3.0]; 2]);
    }
}
