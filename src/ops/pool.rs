//! `max_pool2d` and `avg_pool2d`: the maximum or the mean of each window of an image, as PyTorch's
//! `F.max_pool2d` and `F.avg_pool2d`.

use core::ops::Range;
use std::sync::Arc;

use crate::buffer::Buffer;
use crate::ops::conv::{Window, WindowRule, check_windows};
use crate::{Const, Dim, Element, Rank4, Shape, Tensor, Tracking};

/// The window of [`Tensor::max_pool2d`] and [`Tensor::avg_pool2d`]: its size, stride and padding, in
/// PyTorch's argument order (`F.max_pool2d(x, kernel_size, stride, padding)`), the same on both
/// spatial axes. The stride defaults to the kernel size, as in PyTorch: `Pool::<2>` halves an image,
/// `Pool::<3, 1, 1>` keeps its size.
///
/// ```
/// use shaped::{Pool, Rank4, Tensor};
/// let x: Tensor<Rank4<1, 1, 4, 4>> = Tensor::from_fn(|[_, _, i, j]| (4 * i + j) as f32);
/// let halved: Tensor<Rank4<1, 1, 2, 2>> = x.max_pool2d(Pool::<2>);
/// assert_eq!(halved.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
/// let same: Tensor<Rank4<1, 1, 4, 4>> = x.max_pool2d(Pool::<3, 1, 1>);
/// assert_eq!(same[[0, 0, 0, 0]], 5.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pool<const KERNEL: usize, const STRIDE: usize = KERNEL, const PADDING: usize = 0>;

/// The shape rule of [`Tensor::max_pool2d`] and [`Tensor::avg_pool2d`]: an input `Self = [N, C, H, W]`
/// gives an output `O = [N, C, H_out, W_out]` with the same batch and channels.
///
/// `H_out` and `W_out`, written by the caller, are checked by a `const` assertion in the op (reported
/// by `cargo build`). A tuple input, `(usize, Const<C>, Const<H>, Const<W>)` say, whose batch and
/// channels may be run-time, gives a tuple output with the same batch and channels.
///
/// ```
/// use shaped::{Const, Pool2dShape, Rank4};
/// fn fits<X: Pool2dShape<O>, O: shaped::Shape>() {}
/// fits::<Rank4<2, 3, 8, 8>, Rank4<2, 3, 4, 4>>();
/// fits::<(usize, Const<3>, Const<8>, Const<8>), (usize, Const<3>, Const<4>, Const<4>)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: pooling an input `{Self}` cannot give `{O}`",
    label = "pooling keeps the batch and the channels: `[N, C, H, W]` gives `[N, C, H_out, W_out]`",
    note = "a static input gives a static output, and a tuple input (a run-time batch) a tuple output"
)]
pub trait Pool2dShape<O: Shape>: Shape {
    /// The input's and the output's spatial sizes.
    #[doc(hidden)]
    const SIZES: [[usize; 2]; 2];
    /// The output's shape and the number of image planes, `N C`.
    #[doc(hidden)]
    fn pool_shape(&self) -> (O, usize);
}

#[diagnostic::do_not_recommend]
impl<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
> Pool2dShape<Rank4<N, C, OH, OW>> for Rank4<N, C, H, W>
{
    const SIZES: [[usize; 2]; 2] = [[H, W], [OH, OW]];
    #[inline]
    fn pool_shape(&self) -> (Rank4<N, C, OH, OW>, usize) {
        (Rank4, N * C)
    }
}

/// A static input with an output written as a tuple of `Const`s.
#[diagnostic::do_not_recommend]
impl<
    const N: usize,
    const C: usize,
    const H: usize,
    const W: usize,
    const OH: usize,
    const OW: usize,
> Pool2dShape<(Const<N>, Const<C>, Const<OH>, Const<OW>)> for Rank4<N, C, H, W>
{
    const SIZES: [[usize; 2]; 2] = [[H, W], [OH, OW]];
    #[inline]
    fn pool_shape(&self) -> ((Const<N>, Const<C>, Const<OH>, Const<OW>), usize) {
        ((Const, Const, Const, Const), N * C)
    }
}

#[diagnostic::do_not_recommend]
impl<N: Dim, C: Dim, const H: usize, const W: usize, const OH: usize, const OW: usize>
    Pool2dShape<(N, C, Const<OH>, Const<OW>)> for (N, C, Const<H>, Const<W>)
{
    const SIZES: [[usize; 2]; 2] = [[H, W], [OH, OW]];
    #[inline]
    fn pool_shape(&self) -> ((N, C, Const<OH>, Const<OW>), usize) {
        (
            (self.0, self.1, Const, Const),
            self.0.size() * self.1.size(),
        )
    }
}

/// The windows of a pooling op, checked at compile time (where this is called in a `const` block).
const fn pool_windows(
    op: &'static str,
    sizes: [[usize; 2]; 2],
    [k, s, p]: [usize; 3],
) -> [Window; 2] {
    let [[h, w], [oh, ow]] = sizes;
    let height = Window {
        input: h,
        kernel: k,
        output: oh,
        stride: s,
        padding: p,
        dilation: 1,
    };
    let windows = [
        height,
        Window {
            input: w,
            output: ow,
            ..height
        },
    ];
    let rule = WindowRule {
        op,
        axes: "height x width",
        formula: "out = (in + 2 padding - kernel) / stride + 1",
        pooling: true,
    };
    check_windows(&rule, &windows, &[false; 2]);
    windows
}

/// The input elements that one window covers inside an image plane: a block of rows and columns
/// (a pooling window has no dilation).
#[derive(Clone, Debug)]
struct Block {
    /// The plane's first element.
    start: usize,
    /// The plane's width.
    width: usize,
    rows: Range<usize>,
    cols: Range<usize>,
}

impl Block {
    /// The indices of the block's elements, row by row.
    fn indices(&self) -> impl Iterator<Item = usize> + use<> {
        let (start, width, cols) = (self.start, self.width, self.cols.clone());
        self.rows
            .clone()
            .flat_map(move |r| cols.clone().map(move |c| start + r * width + c))
    }
}

/// The sizes of one pooling: the number of image planes and the two axes.
#[derive(Clone, Copy, Debug)]
struct Pooling {
    planes: usize,
    axes: [Window; 2],
}

impl Pooling {
    fn plane_in(self) -> usize {
        self.axes[0].input * self.axes[1].input
    }

    fn plane_out(self) -> usize {
        self.axes[0].output * self.axes[1].output
    }

    /// Calls `visit(out, window)` for every output element: `out` its index, `window` the input
    /// elements its window covers inside the input (the padding is skipped).
    fn for_each_window(self, mut visit: impl FnMut(usize, Block)) {
        let [ay, ax] = self.axes;
        let (plane_in, plane_out) = (self.plane_in(), self.plane_out());
        for plane in 0..self.planes {
            for oy in 0..ay.output {
                let ky = ay.taps_inside(oy);
                let rows = ay.input_index(oy, ky.start)..ay.input_index(oy, ky.start) + ky.len();
                for ox in 0..ax.output {
                    let kx = ax.taps_inside(ox);
                    let cols =
                        ax.input_index(ox, kx.start)..ax.input_index(ox, kx.start) + kx.len();
                    let block = Block {
                        start: plane * plane_in,
                        width: ax.input,
                        rows: rows.clone(),
                        cols,
                    };
                    visit(plane * plane_out + oy * ax.output + ox, block);
                }
            }
        }
    }

    /// For every output element, the index of the input element that `max_pool2d` takes: PyTorch's
    /// choice, the first largest in row-major order within the window, or the last NaN if there is one.
    fn argmax<E: Element>(self, x: &[E], mut visit: impl FnMut(usize, usize)) {
        self.for_each_window(|out, taps| {
            let mut taps = taps.indices();
            let Some(mut best) = taps.next() else { return };
            for i in taps {
                if x[i] > x[best] || x[i].is_nan() {
                    best = i;
                }
            }
            visit(out, best);
        });
    }
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The maximum of each window of each image, as `torch.nn.functional.max_pool2d(x, kernel_size,
    /// stride, padding)` (no dilation, `ceil_mode=False`).
    ///
    /// `x` is `[N, C, H, W]`; the window [`Pool::<KERNEL, STRIDE, PADDING>`](Pool) (stride = kernel by
    /// default) is the same on both axes. The output `[N, C, H_out, W_out]` is the type the caller
    /// writes, and is checked: `H_out = (H + 2 PADDING - KERNEL) / STRIDE + 1`, and the same for
    /// `W_out`. The padding is never the maximum (PyTorch pads with `-inf`):
    ///
    /// `y[n, c, i, j] = max_{k, l} x[n, c, STRIDE i + k - PADDING, STRIDE j + l - PADDING]`.
    ///
    /// Derivative: the gradient of each output goes to the input element it took, and an element
    /// taken by several overlapping windows receives the sum. Ties go as in PyTorch's CPU kernel: the
    /// window is scanned row by row and the first largest element is taken (a later equal one is not);
    /// a NaN is always taken, so with several NaNs, the last.
    ///
    /// Rules: the output's batch and channels must be the input's (a type rule); a wrong `H_out` or
    /// `W_out`, a padding of more than half the kernel (PyTorch's rule), a stride or a kernel of 0 are
    /// `const` assertions, reported by `cargo build`, not `cargo check`, with a first line naming the
    /// output sizes the pooling makes and the ones written. The batch and the channels may be
    /// run-time: `(usize, Const<C>, Const<H>, Const<W>)` gives `(usize, Const<C>, Const<H_out>,
    /// Const<W_out>)`.
    ///
    /// # Panics
    /// Never: the run-time batch and channels carry over to the output unchecked, since no rule
    /// relates them to anything else.
    ///
    /// Edge values, as PyTorch: a NaN in a window gives NaN, and its gradient goes to that NaN; `inf`
    /// wins; a window whose elements are all `-inf` gives `-inf`, and its gradient goes to the first of
    /// them. Empty batches or channels give an empty output.
    ///
    /// ```
    /// use shaped::{Pool, Rank4, Tape, Tensor};
    ///
    /// let x = Tensor::from([[[[1.0, 3.0, 3.0, 1.0], [3.0, 2.0, 0.0, 3.0], [1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 0.0]]]]);
    /// let y: Tensor<Rank4<1, 1, 2, 2>, f64> = x.max_pool2d(Pool::<2>);
    /// assert_eq!(y.to_array(), [[[[3.0, 3.0], [1.0, 1.0]]]]);
    ///
    /// // Ties: the gradient goes to the first largest element of each window, row by row.
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let y: Tensor<Rank4<1, 1, 2, 2>, f64, Tape<f64>> = xt.max_pool2d(Pool::<2>);
    /// assert_eq!(
    ///     y.sum().backward().get(&xt).to_array(),
    ///     [[[[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]]]
    /// );
    /// ```
    ///
    /// ```compile_fail,E0080
    /// use shaped::{Pool, Rank4, Tensor};
    /// let x: Tensor<Rank4<1, 1, 8, 8>> = Tensor::zeros();
    /// // max_pool2d: the output's height x width is 4 x 4, not 3 x 3 as written in the output type: ..
    /// let y: Tensor<Rank4<1, 1, 3, 3>> = x.max_pool2d(Pool::<2>);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // the window is a unit value written at the call
    pub fn max_pool2d<O, const KERNEL: usize, const STRIDE: usize, const PADDING: usize>(
        &self,
        window: Pool<KERNEL, STRIDE, PADDING>,
    ) -> Tensor<O, E, T>
    where
        S: Pool2dShape<O>,
        O: Shape,
    {
        let _ = window;
        let axes = const { pool_windows("max_pool2d", S::SIZES, [KERNEL, STRIDE, PADDING]) };
        let x = self.data();
        self.pooled(
            axes,
            |pooling, y| pooling.argmax(x, |out, best| y[out] = x[best]),
            |pooling| {
                let x = Arc::clone(x);
                move |dy, dx| pooling.argmax(&x, |out, best| dx[best] += dy[out])
            },
        )
    }

    /// The mean of each window of each image, as `torch.nn.functional.avg_pool2d(x, kernel_size,
    /// stride, padding)` with PyTorch's defaults (`count_include_pad=True`, `ceil_mode=False`).
    ///
    /// Shapes, the window [`Pool::<KERNEL, STRIDE, PADDING>`](Pool), the output size rule and its
    /// checks are those of [`max_pool2d`](Tensor::max_pool2d). The padding counts as zeros: every
    /// window is divided by `KERNEL^2`, also at the borders:
    ///
    /// `y[n, c, i, j] = sum_{k, l} x[n, c, STRIDE i + k - PADDING, STRIDE j + l - PADDING] / KERNEL^2`.
    ///
    /// Derivative: each input element receives `G[n, c, i, j] / KERNEL^2` from every window that
    /// covers it.
    ///
    /// # Panics
    /// Never: the run-time batch and channels carry over to the output unchecked.
    ///
    /// Edge values, as PyTorch: a NaN in a window gives NaN, `inf` and `-inf` in one window give NaN.
    /// The sum of a window is taken in row-major order, then divided (as PyTorch does), so the last
    /// bit may differ from a mean computed otherwise.
    ///
    /// ```
    /// use shaped::{Pool, Rank4, Tape, Tensor};
    ///
    /// let x = Tensor::from([[[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]]]);
    /// let y: Tensor<Rank4<1, 1, 1, 2>, f64> = x.avg_pool2d(Pool::<2>);
    /// assert_eq!(y.to_array(), [[[[3.5, 5.5]]]]);
    ///
    /// // Padding 1, stride 1: a corner window covers one element and three zeros of padding.
    /// let ones: Tensor<Rank4<1, 1, 2, 2>, f64> = Tensor::ones();
    /// let p: Tensor<Rank4<1, 1, 3, 3>, f64> = ones.avg_pool2d(Pool::<2, 1, 1>);
    /// assert_eq!(p[[0, 0, 0, 0]], 0.25);
    ///
    /// let tape = Tape::new();
    /// let xt = tape.watch(&x);
    /// let y: Tensor<Rank4<1, 1, 1, 2>, f64, Tape<f64>> = xt.avg_pool2d(Pool::<2>);
    /// assert_eq!(y.sum().backward().get(&xt).to_array(), [[[[0.25; 4]; 2]]]);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // the window is a unit value written at the call
    pub fn avg_pool2d<O, const KERNEL: usize, const STRIDE: usize, const PADDING: usize>(
        &self,
        window: Pool<KERNEL, STRIDE, PADDING>,
    ) -> Tensor<O, E, T>
    where
        S: Pool2dShape<O>,
        O: Shape,
    {
        let _ = window;
        let axes = const { pool_windows("avg_pool2d", S::SIZES, [KERNEL, STRIDE, PADDING]) };
        let x = self.data();
        let count = E::from_usize(KERNEL * KERNEL).unwrap_or_else(E::nan);
        self.pooled(
            axes,
            |pooling, y| {
                pooling.for_each_window(|out, taps| {
                    y[out] = taps.indices().fold(E::zero(), |acc, i| acc + x[i]) / count;
                });
            },
            |pooling| {
                move |dy, dx| {
                    pooling.for_each_window(|out, taps| {
                        let g = dy[out] / count;
                        for i in taps.indices() {
                            dx[i] += g;
                        }
                    });
                }
            },
        )
    }

    /// A pooling of `self` over the windows `axes`: `forward(pooling, y)` writes the output; on a
    /// tape, `make_backward(pooling)` (called only when the input needs a gradient) gives the
    /// closure that adds the output's gradient `dy` into the input's, `dx`.
    fn pooled<O, B>(
        &self,
        axes: [Window; 2],
        forward: impl FnOnce(Pooling, &mut [E]),
        make_backward: impl FnOnce(Pooling) -> B,
    ) -> Tensor<O, E, T>
    where
        S: Pool2dShape<O>,
        O: Shape,
        B: FnOnce(&[E], &mut [E]) + 'static,
    {
        let (out_shape, planes) = self.typed_shape().pool_shape();
        let pooling = Pooling { planes, axes };
        let n = planes * pooling.plane_out();
        let mut y = Buffer::uninit(n);
        forward(pooling, &mut y);
        let tape = self.tape().record([self.input()], n, |[node]| {
            let backward = make_backward(pooling);
            Box::new(move |dy, grads| {
                let Some(node) = node else { return };
                backward(dy, grads.acc(node));
            })
        });
        Tensor::from_parts(Arc::new(y), out_shape, tape)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Pool, Rank4, Tape, Tensor, gradcheck};

    #[test]
    fn gradient_literal_of_overlapping_windows() {
        // x = [[1, 2, 3], [4, 9, 5], [6, 7, 8]] with 2 x 2 windows at stride 1: all four windows
        // hold the 9, so max_pool2d = [[9, 9], [9, 9]] and df/dx = 4 at the 9, 0 elsewhere for
        // f = sum(y). avg_pool2d = [[4, 4.75], [6.5, 7.25]], and df/dx[i, j] = (number of windows
        // covering (i, j)) / 4 = [[1, 2, 1], [2, 4, 2], [1, 2, 1]] / 4.
        let x = Tensor::from([[[[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]]]);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let m: Tensor<Rank4<1, 1, 2, 2>, f64, Tape<f64>> = xt.max_pool2d(Pool::<2, 1>);
        assert_eq!(m.to_array(), [[[[9.0, 9.0], [9.0, 9.0]]]]);
        let g = m.sum().backward().get(&xt);
        assert_eq!(
            g.to_array(),
            [[[[0.0, 0.0, 0.0], [0.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]]
        );
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let a: Tensor<Rank4<1, 1, 2, 2>, f64, Tape<f64>> = xt.avg_pool2d(Pool::<2, 1>);
        assert_eq!(a.to_array(), [[[[4.0, 4.75], [6.5, 7.25]]]]);
        let g = a.sum().backward().get(&xt);
        assert_eq!(
            g.to_array(),
            [[[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]]
        );
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let x: Tensor<Rank4<2, 3, 5, 6>, f64> = random(10);
        let v: Tensor<Rank4<2, 3, 3, 3>, f64> = random(11);
        // kernel 3, stride 2, padding 1: (5 + 2 - 3) / 2 + 1 = 3 and (6 + 2 - 3) / 2 + 1 = 3
        gradcheck(
            |x| {
                let y: Tensor<Rank4<2, 3, 3, 3>, f64, Tape<f64>> = x.max_pool2d(Pool::<3, 2, 1>);
                (y * &v).sum()
            },
            &x,
        )
        .unwrap();
        gradcheck(
            |x| {
                let y: Tensor<Rank4<2, 3, 3, 3>, f64, Tape<f64>> = x.avg_pool2d(Pool::<3, 2, 1>);
                (y * &v).sum()
            },
            &x,
        )
        .unwrap();
        // Windows that leave the last row and column out: (5 - 2) / 2 + 1 = 2, (6 - 2) / 2 + 1 = 3.
        let w: Tensor<Rank4<2, 3, 2, 3>, f64> = random(12);
        gradcheck(
            |x| {
                let a: Tensor<Rank4<2, 3, 2, 3>, f64, Tape<f64>> = x.avg_pool2d(Pool::<2>);
                let m: Tensor<Rank4<2, 3, 2, 3>, f64, Tape<f64>> = x.max_pool2d(Pool::<2>);
                // x used twice: both poolings' gradients add up
                ((a + m) * &w).sum()
            },
            &x,
        )
        .unwrap();
    }

    /// `max_pool2d` of one 2 x 2 window, and where the gradient of its output goes.
    fn max_of_window(x: [[f64; 2]; 2]) -> (f64, [[f64; 2]; 2]) {
        let tape = Tape::new();
        let xt = tape.watch(&Tensor::from([[x]]));
        let y: Tensor<Rank4<1, 1, 1, 1>, f64, Tape<f64>> = xt.max_pool2d(Pool::<2>);
        let value = y.to_vec()[0];
        (value, y.sum().backward().get(&xt).to_array()[0][0])
    }

    #[test]
    fn ties_nans_and_infinities_go_where_pytorch_sends_them() {
        let (nan, inf) = (f64::NAN, f64::INFINITY);
        // Ties: the first largest, row by row.
        assert_eq!(
            max_of_window([[1.0, 3.0], [3.0, 3.0]]),
            (3.0, [[0.0, 1.0], [0.0, 0.0]])
        );
        assert_eq!(
            max_of_window([[3.0, 3.0], [1.0, 3.0]]),
            (3.0, [[1.0, 0.0], [0.0, 0.0]])
        );
        // NaN: the output is NaN and the gradient goes to the last NaN.
        let (v, g) = max_of_window([[1.0, nan], [nan, 1.0]]);
        assert!(v.is_nan());
        assert_eq!(g, [[0.0, 0.0], [1.0, 0.0]]);
        // inf wins; a window of -inf takes its first element.
        assert_eq!(
            max_of_window([[1.0, 2.0], [inf, 3.0]]),
            (inf, [[0.0, 0.0], [1.0, 0.0]])
        );
        assert_eq!(
            max_of_window([[-inf; 2]; 2]),
            (-inf, [[1.0, 0.0], [0.0, 0.0]])
        );
        // With padding, every window takes the first of its elements inside the image: window
        // (i, j) of Pool::<2, 1, 1> starts at row max(i - 1, 0) and column max(j - 1, 0), so rows and
        // columns 0, 1, 2 are taken by 2, 1, 1 windows each way.
        let x: Tensor<Rank4<1, 1, 3, 3>, f64> = Tensor::full(-inf);
        let tape = Tape::new();
        let xt = tape.watch(&x);
        let y: Tensor<Rank4<1, 1, 4, 4>, f64, Tape<f64>> = xt.max_pool2d(Pool::<2, 1, 1>);
        assert!(y.as_slice().iter().all(|&v| v == -inf));
        let g = y.sum().backward().get(&xt);
        assert_eq!(
            g.to_array(),
            [[[[4.0, 2.0, 2.0], [2.0, 1.0, 1.0], [2.0, 1.0, 1.0]]]]
        );
        // The mean of a window with both infinities is NaN; the padding counts as zeros.
        let x = Tensor::from([[[[inf, -inf], [1.0, 2.0]]]]);
        let a: Tensor<Rank4<1, 1, 1, 1>, f64> = x.avg_pool2d(Pool::<2>);
        assert!(a.to_vec()[0].is_nan());
        let x: Tensor<Rank4<1, 1, 2, 2>, f64> = Tensor::full(-inf);
        let a: Tensor<Rank4<1, 1, 2, 2>, f64> = x.avg_pool2d(Pool::<2, 2, 1>);
        assert_eq!(a.to_vec(), vec![-inf; 4]);
    }

    #[test]
    fn a_run_time_batch_and_channels_carry_over() {
        let x: Tensor<Rank4<2, 3, 4, 4>, f64> = random(20);
        let want: Tensor<Rank4<2, 3, 2, 2>, f64> = x.max_pool2d(Pool::<2>);
        let xr: Tensor<(usize, usize, Const<4>, Const<4>), f64> =
            Tensor::from_vec_with((2, 3, Const, Const), x.to_vec()).unwrap();
        let tape = Tape::new();
        let xrt = tape.watch(&xr);
        let y: Tensor<(usize, usize, Const<2>, Const<2>), f64, Tape<f64>> =
            xrt.max_pool2d(Pool::<2>);
        assert_eq!(y.shape(), [2, 3, 2, 2]);
        assert_eq!(y.to_vec(), want.to_vec());
        let g = y.sum().backward().get(&xrt);
        assert_eq!(g.shape(), [2, 3, 4, 4]);
        assert_eq!(g.as_slice().iter().sum::<f64>(), 24.0);
        let a: Tensor<(usize, usize, Const<2>, Const<2>), f64> = xr.avg_pool2d(Pool::<2>);
        let want: Tensor<Rank4<2, 3, 2, 2>, f64> = x.avg_pool2d(Pool::<2>);
        assert_eq!(a.to_vec(), want.to_vec());
        // An empty batch gives an empty output.
        let e: Tensor<(usize, usize, Const<4>, Const<4>), f64> =
            Tensor::zeros_with((0, 3, Const, Const));
        let y: Tensor<(usize, usize, Const<2>, Const<2>), f64> = e.max_pool2d(Pool::<2>);
        assert_eq!(y.shape(), [0, 3, 2, 2]);
    }
}
