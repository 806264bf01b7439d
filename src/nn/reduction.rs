//! How a loss reduces its elementwise values: [`Mean`], [`Sum`], [`BatchMean`] (the sum divided by
//! the first dimension) or [`NoReduction`] (one value per element), as PyTorch's `reduction=`
//! argument, with the output shape in the type.
//!
//! ```
//! use shaped::nn::{l1_loss, Mean, NoReduction, Sum};
//! use shaped::{Rank1, Tensor};
//! let (p, t) = (Tensor::from([1.0, -2.0, 3.0]), Tensor::from([0.0, 0.0, 0.0]));
//! assert_eq!(l1_loss(&p, &t, Mean).item(), 2.0);
//! assert_eq!(l1_loss(&p, &t, Sum).item(), 6.0);
//! let each: Tensor<Rank1<3>, f64> = l1_loss(&p, &t, NoReduction);
//! assert_eq!(each.to_vec(), vec![1.0, 2.0, 3.0]);
//! ```

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::ops::Merged;
use crate::tape::internal::Record;
use crate::{Element, Merge, Rank0, Shape, Tensor, Tracking};

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Mean {}
    impl Sealed for super::Sum {}
    impl Sealed for super::BatchMean {}
    impl Sealed for super::NoReduction {}
}

/// The mean over all elements (PyTorch's `reduction='mean'`, the default): a scalar.
///
/// ```
/// use shaped::nn::{Mean, mse_loss};
/// use shaped::Tensor;
/// let (p, t) = (Tensor::from([[1.0, 2.0], [3.0, 4.0]]), Tensor::from([[0.0, 0.0], [0.0, 0.0]]));
/// assert_eq!(mse_loss(&p, &t, Mean).item(), 7.5); // (1 + 4 + 9 + 16) / 4
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mean;

/// The sum over all elements (`reduction='sum'`): a scalar.
///
/// ```
/// use shaped::nn::{Sum, mse_loss};
/// use shaped::Tensor;
/// let (p, t) = (Tensor::from([[1.0, 2.0], [3.0, 4.0]]), Tensor::from([[0.0, 0.0], [0.0, 0.0]]));
/// assert_eq!(mse_loss(&p, &t, Sum).item(), 30.0); // 1 + 4 + 9 + 16
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sum;

/// The sum over all elements divided by the size of the first axis (`reduction='batchmean'` of
/// `kl_div`, the mathematically correct KL divergence per sample): a scalar.
///
/// ```
/// use shaped::nn::{BatchMean, mse_loss};
/// use shaped::Tensor;
/// let (p, t) = (Tensor::from([[1.0, 2.0], [3.0, 4.0]]), Tensor::from([[0.0, 0.0], [0.0, 0.0]]));
/// assert_eq!(mse_loss(&p, &t, BatchMean).item(), 15.0); // (1 + 4 + 9 + 16) / 2 rows
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BatchMean;

/// No reduction (`reduction='none'`): one value per element, with the input's shape.
///
/// ```
/// use shaped::nn::{NoReduction, mse_loss};
/// use shaped::Tensor;
/// let (p, t) = (Tensor::from([[1.0, 2.0], [3.0, 4.0]]), Tensor::from([[0.0, 1.0], [0.0, 1.0]]));
/// assert_eq!(mse_loss(&p, &t, NoReduction).to_array(), [[1.0, 1.0], [9.0, 9.0]]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoReduction;

/// A reduction of elementwise values of shape `S`: [`Mean`], [`Sum`], [`BatchMean`] or
/// [`NoReduction`].
///
/// ```
/// use shaped::nn::{Mean, NoReduction, Reduction, l1_loss};
/// use shaped::{Rank1, Tensor};
/// // a helper that passes the caller's reduction on, output shape included
/// fn abs_error<R: Reduction<Rank1<2>>>(r: R) -> Tensor<R::Output, f64> {
///     l1_loss(&Tensor::from([1.0, -3.0]), &Tensor::from([0.0, 0.0]), r)
/// }
/// assert_eq!(abs_error(Mean).item(), 2.0);
/// assert_eq!(abs_error(NoReduction).to_vec(), vec![1.0, 3.0]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reduction of values of shape `{S}`",
    note = "losses take `Mean`, `Sum`, `BatchMean` (a shape with at least one axis) or `NoReduction`"
)]
pub trait Reduction<S: Shape>: sealed::Sealed + Copy {
    /// The reduced shape: `Rank0`, or `S` for [`NoReduction`].
    type Output: Shape;
    /// The output's shape, and the factor each element is scaled by (`None`: no reduction).
    #[doc(hidden)]
    fn plan(self, shape: S) -> (Self::Output, Option<f64>);
}

impl<S: Shape> Reduction<S> for Mean {
    type Output = Rank0;
    fn plan(self, shape: S) -> (Rank0, Option<f64>) {
        (Rank0, Some(1.0 / shape.numel() as f64))
    }
}

impl<S: Shape> Reduction<S> for Sum {
    type Output = Rank0;
    fn plan(self, _: S) -> (Rank0, Option<f64>) {
        (Rank0, Some(1.0))
    }
}

impl<S: crate::NonScalar> Reduction<S> for BatchMean {
    type Output = Rank0;
    fn plan(self, shape: S) -> (Rank0, Option<f64>) {
        (Rank0, Some(1.0 / shape.dims().as_ref()[0] as f64))
    }
}

impl<S: Shape> Reduction<S> for NoReduction {
    type Output = S;
    fn plan(self, shape: S) -> (S, Option<f64>) {
        (shape, None)
    }
}

/// A loss that is `f(i, a, b)` elementwise (`i` the element's position), reduced by `reduction`,
/// recording `da = g fa(i, a, b)` and `db = g fb(i, a, b)` with `g` the output's gradient (scaled by the reduction's factor, or per element
/// without reduction). Panics, naming `op` and both shapes, when run-time dimensions differ.
#[track_caller]
pub(crate) fn pair_loss<S: Shape, E: Element, T1, T2, R: Reduction<S>>(
    op: &str,
    a: &Tensor<S, E, T1>,
    b: &Tensor<S, E, T2>,
    reduction: R,
    f: impl Fn(usize, E, E) -> E,
    fa: impl Fn(usize, E, E) -> E + 'static,
    fb: impl Fn(usize, E, E) -> E + 'static,
) -> Tensor<R::Output, E, Merged<E, T1, T2>>
where
    T1: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
{
    crate::ops::same_shape(op, a.typed_shape(), b.typed_shape());
    let (av, bv) = (a.data(), b.data());
    let (out_shape, scale) = reduction.plan(a.typed_shape());
    let scale = scale.map(E::from_f64_lossy);
    let values = av
        .iter()
        .zip(bv.iter())
        .enumerate()
        .map(|(i, (&x, &y))| f(i, x, y));
    let out = match scale {
        Some(s) => Buffer::full(1, values.sum::<E>() * s),
        None => Buffer::collect(av.len(), values),
    };
    let tape = a.tape().merge(b.tape());
    let tape = tape.record([a.input(), b.input()], out.len(), |[na, nb]| {
        let (av, bv) = (Arc::clone(av), Arc::clone(bv));
        Box::new(move |dy, grads| {
            // The gradient reaching element i: the scaled scalar, or dy[i].
            let g = |i: usize| match scale {
                Some(s) => dy[0] * s,
                None => dy[i],
            };
            let pairs = || av.iter().zip(bv.iter()).enumerate();
            if let Some(na) = na {
                grads.add_from(na, pairs().map(|(i, (&x, &y))| g(i) * fa(i, x, y)));
            }
            if let Some(nb) = nb {
                grads.add_from(nb, pairs().map(|(i, (&x, &y))| g(i) * fb(i, x, y)));
            }
        })
    });
    Tensor::from_parts(Arc::new(out), out_shape, tape)
}
