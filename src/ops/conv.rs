//! `conv1d` and `conv2d`: a bank of filters slid over signals or images, as PyTorch's `F.conv1d` and
//! `F.conv2d` (cross-correlation, `groups = 1`), computed as im2col and matrix products; and the sliding
//! window geometry that the pooling ops share.

use core::ops::Range;
use std::sync::Arc;

use crate::buffer::Buffer;
use crate::const_msg::ConstMsg;
use crate::gemm::{Mat, MatMut, gemm};
use crate::ops::Merged;
use crate::ops::sum::sum_slice;
use crate::shape::check_same;
use crate::tape::internal::{BackwardFn, NodeId, Record};
use crate::{Bias, Const, Dim, Element, Merge, Rank3, Rank4, Shape, Tensor, Tracking};

/// The stride, padding and dilation of [`Tensor::conv1d`] and [`Tensor::conv2d`], in PyTorch's
/// argument order (`F.conv2d(x, w, b, stride, padding, dilation)`), the same on every spatial axis.
///
/// Written at the call as a value: `Conv::<1>` (stride 1, no padding, no dilation: PyTorch's
/// defaults), `Conv::<1, 1>` (padding 1), `Conv::<2, 1, 2>` (stride 2, padding 1, dilation 2). The
/// parameters after the first default to PyTorch's, but the first must be written: a bare `Conv`
/// does not say which convolution it is.
///
/// ```
/// use shaped::{Conv, NoBias, Rank4, Tensor};
/// let x: Tensor<Rank4<1, 1, 5, 5>> = Tensor::ones();
/// let w: Tensor<Rank4<1, 1, 3, 3>> = Tensor::ones();
/// let same: Tensor<Rank4<1, 1, 5, 5>> = x.conv2d(&w, NoBias, Conv::<1, 1>);
/// let strided: Tensor<Rank4<1, 1, 2, 2>> = x.conv2d(&w, NoBias, Conv::<2>);
/// let dilated: Tensor<Rank4<1, 1, 1, 1>> = x.conv2d(&w, NoBias, Conv::<1, 0, 2>);
/// assert_eq!(same[[0, 0, 2, 2]], 9.0);
/// assert_eq!(strided.to_vec(), vec![9.0; 4]);
/// assert_eq!(dilated[[0, 0, 0, 0]], 9.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Conv<const STRIDE: usize = 1, const PADDING: usize = 0, const DILATION: usize = 1>;

/// One spatial axis of a sliding window (a convolution's kernel, a pooling window): the sizes that
/// the kernels take at run time, and PyTorch's output size rule for the `const` checks.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub(crate) input: usize,
    pub(crate) kernel: usize,
    pub(crate) output: usize,
    pub(crate) stride: usize,
    pub(crate) padding: usize,
    pub(crate) dilation: usize,
}

impl Window {
    /// The axis of size 1 that makes a one-dimensional op two-dimensional.
    const FLAT: Self = Self {
        input: 1,
        kernel: 1,
        output: 1,
        stride: 1,
        padding: 0,
        dilation: 1,
    };

    /// The input position of kernel tap `k` at output position `o`, counted on the padded input:
    /// `o * stride + k * dilation`; the input element is this minus the padding.
    #[inline]
    fn padded_position(self, o: usize, k: usize) -> usize {
        o * self.stride + k * self.dilation
    }

    /// The output positions at which kernel tap `k` reads inside the input (not in the padding): a
    /// range, since the input position grows with the output position.
    fn outputs_inside(self, k: usize) -> Range<usize> {
        let offset = k * self.dilation;
        let first = self.padding.saturating_sub(offset).div_ceil(self.stride);
        let end = if self.input + self.padding > offset {
            ((self.input + self.padding - offset - 1) / self.stride + 1).min(self.output)
        } else {
            0
        };
        first.min(end)..end
    }

    /// The kernel taps that read inside the input at output position `o`.
    pub(crate) fn taps_inside(self, o: usize) -> Range<usize> {
        let start = o * self.stride;
        let first = self.padding.saturating_sub(start).div_ceil(self.dilation);
        let end = if self.input + self.padding > start {
            ((self.input + self.padding - start - 1) / self.dilation + 1).min(self.kernel)
        } else {
            0
        };
        first.min(end)..end
    }

    /// The input element that tap `k` reads at output position `o`, which must be inside the input.
    #[inline]
    pub(crate) fn input_index(self, o: usize, k: usize) -> usize {
        self.padded_position(o, k) - self.padding
    }
}

/// What a window op checks at compile time, and how its error names the rule.
pub(crate) struct WindowRule {
    /// The op, as the user calls it.
    pub(crate) op: &'static str,
    /// The names of the spatial axes, joined by " x " (`height x width`).
    pub(crate) axes: &'static str,
    /// The output size rule, for the message.
    pub(crate) formula: &'static str,
    /// A pooling window: no dilation, and a padding of at most half the kernel (PyTorch's rule).
    pub(crate) pooling: bool,
}

/// What [`sizes`] appends of each window.
const INPUT: usize = 0;
const KERNEL: usize = 1;
const OUTPUT: usize = 2;
const PADDED: usize = 3;
const EXPECTED: usize = 4;

/// Appends one size of every window, as `8 x 8`: the `INPUT`, `KERNEL`, `OUTPUT` (as written),
/// `PADDED` input or `EXPECTED` output (as computed, for a kernel that fits). A size of an axis in
/// `run_time` other than the kernel's is written `_`: it is known when the op runs.
const fn sizes(mut m: ConstMsg, windows: &[Window], run_time: &[bool], what: usize) -> ConstMsg {
    let mut i = 0;
    while i < windows.len() {
        if i > 0 {
            m = m.str(" x ");
        }
        let w = windows[i];
        if run_time[i] && what != KERNEL {
            m = m.str("_");
            i += 1;
            continue;
        }
        m = m.num(match what {
            INPUT => w.input,
            KERNEL => w.kernel,
            OUTPUT => w.output,
            PADDED => w.input + 2 * w.padding,
            _ => (w.input + 2 * w.padding - w.dilation * (w.kernel - 1) - 1) / w.stride + 1,
        });
        i += 1;
    }
    m
}

/// The output size PyTorch computes on one axis, `(in + 2 padding - dilation (kernel - 1) - 1) /
/// stride + 1`, if the kernel fits in the padded input; and panics (at compile time, where it is called
/// in a `const` block) with the rule's message when the spec or the sizes break it. The first line of
/// a failed check names the output sizes the op computes and the ones written in the output type.
///
/// The sizes of the axes marked in `run_time` (whose input or output is a run-time size) are not
/// checked here but when the op runs, by [`run_time_axis`]; their spec is.
pub(crate) const fn check_windows(rule: &WindowRule, windows: &[Window], run_time: &[bool]) {
    let op = rule.op;
    let mut i = 0;
    let mut fits = true;
    let mut matches = true;
    while i < windows.len() {
        let w = windows[i];
        let m = ConstMsg::new().str(op);
        assert!(
            w.stride > 0,
            "{}",
            m.str(": the stride must be at least 1").as_str()
        );
        assert!(
            w.dilation > 0,
            "{}",
            m.str(": the dilation must be at least 1").as_str()
        );
        if w.kernel == 0 {
            let m = m.str(": the kernel's ").str(rule.axes).str(" is ");
            let m = sizes(m, windows, run_time, KERNEL);
            panic!(
                "{}",
                m.str(": every kernel size must be at least 1").as_str()
            );
        }
        if rule.pooling && 2 * w.padding > w.kernel {
            let m = m
                .str(": the padding ")
                .num(w.padding)
                .str(" is more than half the kernel ");
            let m = sizes(m.str(rule.axes).str(" "), windows, run_time, KERNEL);
            panic!("{}", m.str(" (PyTorch's rule for pooling)").as_str());
        }
        let span = w.dilation * (w.kernel - 1) + 1;
        if run_time[i] {
            // Checked when the op runs.
        } else if span > w.input + 2 * w.padding {
            fits = false;
        } else if (w.input + 2 * w.padding - span) / w.stride + 1 != w.output {
            matches = false;
        }
        i += 1;
    }
    if !fits {
        let m = m_op(op).str(": the kernel does not fit in the padded input ");
        let m = sizes(m, windows, run_time, PADDED).str(" (input ");
        let m = sizes(m, windows, run_time, INPUT)
            .str(", padding ")
            .num(windows[0].padding);
        let m = sizes(m.str("): a kernel "), windows, run_time, KERNEL);
        let m = if rule.pooling {
            m
        } else {
            m.str(" with dilation ").num(windows[0].dilation)
        };
        panic!("{}", m.str(" spans more").as_str());
    }
    if !matches {
        let m = m_op(op).str(": the output's ").str(rule.axes).str(" is ");
        let m = sizes(m, windows, run_time, EXPECTED).str(", not ");
        let m = sizes(m, windows, run_time, OUTPUT).str(" as written in the output type: ");
        let m = m.str(rule.formula).str(", with input ");
        let m = sizes(m, windows, run_time, INPUT).str(", kernel ");
        let m = spec(rule, sizes(m, windows, run_time, KERNEL), windows[0]);
        panic!("{}", m.as_str());
    }
}

/// A message that starts with the op's name.
const fn m_op(op: &str) -> ConstMsg {
    ConstMsg::new().str(op)
}

/// Appends the stride, the padding and (for a convolution) the dilation of a window.
const fn spec(rule: &WindowRule, m: ConstMsg, w: Window) -> ConstMsg {
    let m = m
        .str(", stride ")
        .num(w.stride)
        .str(", padding ")
        .num(w.padding);
    if rule.pooling {
        m
    } else {
        m.str(", dilation ").num(w.dilation)
    }
}

/// The windows of a convolution with weight `W`, input `X`, output `O` and the spec `[stride,
/// padding, dilation]`, checked (at compile time, where this is called in a `const` block).
const fn conv_axes<W: ConvShape<X, O, D>, X: Shape, O: Shape, const D: usize>(
    op: &'static str,
    axes: &'static str,
    [stride, padding, dilation]: [usize; 3],
) -> [Window; D] {
    let windows = W::SIZES.windows(stride, padding, dilation);
    let rule = WindowRule {
        op,
        axes,
        formula: CONV_FORMULA,
        pooling: false,
    };
    check_windows(&rule, &windows, &W::SIZES.run_time);
    windows
}

/// PyTorch's output size rule of a convolution, as the messages write it.
const CONV_FORMULA: &str = "out = (in + 2 padding - dilation (kernel - 1) - 1) / stride + 1";

/// The compile-time size of a dimension, or 0 for a run-time one (whose size the `const` checks
/// skip).
const fn static_size(size: Option<usize>) -> usize {
    match size {
        Some(n) => n,
        None => 0,
    }
}

/// One spatial axis of a convolution whose input or output size is run-time: sets the window's input
/// size to `input`'s, computes its output size by PyTorch's rule, and gives it as the output's
/// dimension `O`. On an axis whose sizes are both static, this gives what the `const` check has
/// already checked.
///
/// # Panics
/// When the kernel spans more than the padded input, or the output size is not the `Const` written
/// in the output type; the message names the op, the axis and the sizes.
#[inline]
#[track_caller]
fn run_time_axis<I: Dim, O: Dim>(op: &str, axis: &str, input: I, w: &mut Window) -> O {
    w.input = input.size();
    let span = w.dilation * (w.kernel - 1) + 1;
    let padded = w.input + 2 * w.padding;
    if span > padded {
        too_short(op, axis, *w);
    }
    w.output = (padded - span) / w.stride + 1;
    match O::from_size(w.output) {
        Some(out) => out,
        None => not_as_written(op, axis, *w, static_size(O::STATIC)),
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn too_short(op: &str, axis: &str, w: Window) -> ! {
    let (input, padding, kernel, dilation) = (w.input, w.padding, w.kernel, w.dilation);
    panic!(
        "{op}: the input's {axis} {input} is too short for the kernel: padded with {padding} on \
         each side it is {}, and a kernel of {kernel} taps with dilation {dilation} spans {}",
        input + 2 * padding,
        dilation * (kernel - 1) + 1
    )
}

#[cold]
#[inline(never)]
#[track_caller]
fn not_as_written(op: &str, axis: &str, w: Window, written: usize) -> ! {
    let Window {
        input,
        kernel,
        output,
        stride,
        padding,
        dilation,
    } = w;
    panic!(
        "{op}: the output's {axis} is {output}, not {written} as written in the output type: \
         {CONV_FORMULA}, with input {input}, kernel {kernel}, stride {stride}, padding {padding}, \
         dilation {dilation}"
    )
}

/// The static sizes of a convolution's spatial axes, given by its shape rule.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct ConvSizes<const D: usize> {
    /// The input's spatial sizes.
    pub input: [usize; D],
    /// The kernel's spatial sizes.
    pub kernel: [usize; D],
    /// The output's spatial sizes, as written in the output type.
    pub output: [usize; D],
    /// The number of filters, `C_out`.
    pub c_out: usize,
    /// The axes whose input or output size is run-time: their sizes above are 0, and are found
    /// when the op runs.
    pub run_time: [bool; D],
}

impl<const D: usize> ConvSizes<D> {
    /// The windows of the spatial axes with the spec's stride, padding and dilation.
    const fn windows(self, stride: usize, padding: usize, dilation: usize) -> [Window; D] {
        let mut out = [Window::FLAT; D];
        let mut i = 0;
        while i < D {
            out[i] = Window {
                input: self.input[i],
                kernel: self.kernel[i],
                output: self.output[i],
                stride,
                padding,
                dilation,
            };
            i += 1;
        }
        out
    }
}

/// The shape rule of [`Tensor::conv1d`] (`D = 1`) and [`Tensor::conv2d`] (`D = 2`), on the weight's
/// shape: a weight `Self = [C_out, C_in, KH, KW]` convolves an input `X = [N, C_in, H, W]` into an
/// output `O = [N, C_out, H_out, W_out]` (for conv1d: `[C_out, C_in, K]`, `[N, C_in, L]` and `[N,
/// C_out, L_out]`).
///
/// The channels and the batch are type rules (a weight whose `C_in` is not the input's does not
/// compile); the output's spatial sizes, written by the caller, are checked by a `const` assertion in
/// the op (reported by `cargo build`), since stable Rust cannot compute them in a type. The input may
/// be a tuple with a run-time batch, `(usize, Const<C_in>, Const<H>, Const<W>)`, and even run-time
/// channels, `(usize, usize, Const<H>, Const<W>)` (checked when the op runs); the output is then
/// `(usize, Const<C_out>, Const<H_out>, Const<W_out>)`.
///
/// The spatial sizes of a tuple may be run-time too: a sequence of run-time length, `(usize,
/// Const<C_in>, usize)`, gives `(usize, Const<C_out>, usize)`, whose length is computed when the op
/// runs by the same rule. Each spatial axis of the output is `usize` (computed), or a `Const` that the
/// rule checks: at compile time when the input's size on that axis is a `Const` too, when the op runs
/// when it is a `usize`.
///
/// ```
/// use shaped::{Const, ConvShape, Rank3, Rank4, Shape};
/// fn fits<W: ConvShape<X, O, D>, X: Shape, O: Shape, const D: usize>() {}
/// fits::<Rank4<16, 3, 3, 3>, Rank4<2, 3, 8, 8>, Rank4<2, 16, 6, 6>, 2>();
/// fits::<Rank4<16, 3, 3, 3>, (usize, Const<3>, Const<8>, Const<8>), (usize, Const<16>, Const<6>, Const<6>), 2>();
/// fits::<Rank3<4, 3, 3>, Rank3<2, 3, 10>, Rank3<2, 4, 8>, 1>();
/// // A run-time length, and a run-time height and width.
/// fits::<Rank3<4, 3, 3>, (usize, Const<3>, usize), (usize, Const<4>, usize), 1>();
/// fits::<Rank4<16, 3, 3, 3>, (usize, Const<3>, usize, usize), (usize, Const<16>, usize, usize), 2>();
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: conv{D}d weight `{Self}` does not fit input `{X}`: the weight must be `[C_out, C_in, kernel..]` with C_in = the input's channels, and the output `[N, C_out, output..]`",
    label = "a weight `[C_out, C_in, kernel..]` takes inputs `[N, C_in, input..]` and gives `[N, C_out, output..]`",
    note = "the layout is PyTorch's `F.conv{D}d`, with {D} spatial axes: conv1d takes `[N, C_in, L]` by `[C_out, C_in, K]`, conv2d `[N, C_in, H, W]` by `[C_out, C_in, KH, KW]`",
    note = "a static input gives a static output, and a tuple input (a run-time batch) a tuple output; a run-time spatial size (`usize`) gives a `usize` output size, computed when the op runs"
)]
pub trait ConvShape<X: Shape, O: Shape, const D: usize>: Shape {
    /// The spatial sizes of the input, the kernel and the output, and `C_out`.
    #[doc(hidden)]
    const SIZES: ConvSizes<D>;
    /// The output's shape, the batch and the input's channels; the run-time sizes of the spatial
    /// axes go into `axes`, the windows of the spec.
    ///
    /// # Panics
    /// When the input's channels are run-time and are not the weight's `C_in`, when the kernel spans
    /// more than a run-time spatial axis padded, or when a run-time spatial axis gives another
    /// output size than the `Const` written; the message names the sizes.
    #[doc(hidden)]
    fn conv_shape(x: &X, axes: &mut [Window; D]) -> (O, usize, usize);
}

/// The implementations of a convolution's shape rule for a weight `$Rank<CO, CI, kernel..>`: a static
/// input with a static output or a tuple, and a tuple input whose batch may be run-time, with static
/// or run-time channels. The spatial axes of a tuple are any dimensions: each is written `$s ($x,
/// $name): $o $i`, the input's size, its field and its name in the messages, the output's size and
/// the axis' window in the spec.
macro_rules! conv_shapes {
    (
        $op:literal $d:literal, $Rank:ident, [$($k:ident),+],
        [$($s:ident ($x:tt, $name:literal): $o:ident $i:tt),+]
    ) => {
        #[diagnostic::do_not_recommend]
        impl<
            const CO: usize, const CI: usize, $(const $k: usize,)+
            const N: usize, $(const $s: usize,)+ $(const $o: usize,)+
        > ConvShape<$Rank<N, CI, $($s),+>, $Rank<N, CO, $($o),+>, $d> for $Rank<CO, CI, $($k),+>
        {
            const SIZES: ConvSizes<$d> = ConvSizes {
                input: [$($s),+],
                kernel: [$($k),+],
                output: [$($o),+],
                c_out: CO,
                run_time: [false; $d],
            };
            #[inline]
            fn conv_shape(
                _: &$Rank<N, CI, $($s),+>,
                _: &mut [Window; $d],
            ) -> ($Rank<N, CO, $($o),+>, usize, usize) {
                ($Rank, N, CI)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<
            const CO: usize, const CI: usize, $(const $k: usize,)+
            const N: usize, $(const $s: usize,)+ $($o: Dim,)+
        > ConvShape<$Rank<N, CI, $($s),+>, (Const<N>, Const<CO>, $($o,)+), $d>
            for $Rank<CO, CI, $($k),+>
        {
            const SIZES: ConvSizes<$d> = ConvSizes {
                input: [$($s),+],
                kernel: [$($k),+],
                output: [$(static_size($o::STATIC)),+],
                c_out: CO,
                run_time: [$($o::STATIC.is_none()),+],
            };
            #[inline]
            #[track_caller]
            fn conv_shape(
                _: &$Rank<N, CI, $($s),+>,
                axes: &mut [Window; $d],
            ) -> ((Const<N>, Const<CO>, $($o,)+), usize, usize) {
                let out = (
                    Const,
                    Const,
                    $(run_time_axis::<Const<$s>, $o>($op, $name, Const, &mut axes[$i]),)+
                );
                (out, N, CI)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<
            B: Dim, const CO: usize, const CI: usize, $(const $k: usize,)+
            $($s: Dim,)+ $($o: Dim,)+
        > ConvShape<(B, Const<CI>, $($s,)+), (B, Const<CO>, $($o,)+), $d>
            for $Rank<CO, CI, $($k),+>
        {
            const SIZES: ConvSizes<$d> = conv_sizes!(CO, [$($s),+], [$($k),+], [$($o),+]);
            #[inline]
            #[track_caller]
            fn conv_shape(
                x: &(B, Const<CI>, $($s,)+),
                axes: &mut [Window; $d],
            ) -> ((B, Const<CO>, $($o,)+), usize, usize) {
                let out = (
                    x.0,
                    Const,
                    $(run_time_axis::<$s, $o>($op, $name, x.$x, &mut axes[$i]),)+
                );
                (out, x.0.size(), CI)
            }
        }

        /// Run-time channels: checked when the op runs.
        #[diagnostic::do_not_recommend]
        impl<
            B: Dim, const CO: usize, const CI: usize, $(const $k: usize,)+
            $($s: Dim,)+ $($o: Dim,)+
        > ConvShape<(B, usize, $($s,)+), (B, Const<CO>, $($o,)+), $d>
            for $Rank<CO, CI, $($k),+>
        {
            const SIZES: ConvSizes<$d> = conv_sizes!(CO, [$($s),+], [$($k),+], [$($o),+]);
            #[inline]
            #[track_caller]
            fn conv_shape(
                x: &(B, usize, $($s,)+),
                axes: &mut [Window; $d],
            ) -> ((B, Const<CO>, $($o,)+), usize, usize) {
                check_same($op, "the input's channels and the weight's", x.1, CI);
                let out = (
                    x.0,
                    Const,
                    $(run_time_axis::<$s, $o>($op, $name, x.$x, &mut axes[$i]),)+
                );
                (out, x.0.size(), x.1)
            }
        }
    };
}

/// The sizes of a tuple's spatial axes `$s` (dimensions) with the output's `$o`: an axis is checked
/// at compile time when both are `Const`, and when the op runs otherwise.
macro_rules! conv_sizes {
    ($co:ident, [$($s:ident),+], [$($k:ident),+], [$($o:ident),+]) => {
        ConvSizes {
            input: [$(static_size($s::STATIC)),+],
            kernel: [$($k),+],
            output: [$(static_size($o::STATIC)),+],
            c_out: $co,
            run_time: [$($s::STATIC.is_none() || $o::STATIC.is_none()),+],
        }
    };
}

conv_shapes!("conv2d" 2, Rank4, [KH, KW], [H (2, "height"): OH 0, W (3, "width"): OW 1]);
conv_shapes!("conv1d" 1, Rank3, [K], [L (2, "length"): OL 0]);

/// The run-time sizes of a convolution's input and kernel; a one-dimensional one has height 1.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    batch: usize,
    c_in: usize,
    /// Height, then width.
    axes: [Window; 2],
}

/// The most elements of the im2col matrix of one group of images: the images of a batch are
/// convolved in groups of this many columns' worth (at least one image), each group by one matrix
/// product. Small images are then many to a product (one product for a whole batch of 8 x 8 digits),
/// and the matrix of large ones stays in the cache.
const COLS_PER_GROUP: usize = 1 << 16;

impl Geometry {
    /// The rows of the im2col matrix: `C_in KH KW`, one per weight of a filter.
    fn patch(&self) -> usize {
        self.c_in * self.axes[0].kernel * self.axes[1].kernel
    }

    /// The output positions of one image, `H_out W_out`.
    fn positions(&self) -> usize {
        self.axes[0].output * self.axes[1].output
    }

    /// The elements of one channel of one input image, `H W`.
    fn plane(&self) -> usize {
        self.axes[0].input * self.axes[1].input
    }

    /// How many images each matrix product takes.
    fn group(&self) -> usize {
        let per_image = (self.patch() * self.positions()).max(1);
        (COLS_PER_GROUP / per_image).clamp(1, self.batch.max(1))
    }

    /// The images of each matrix product, in order: the batch cut into groups of
    /// [`group`](Self::group) images (the last one may be smaller).
    fn groups(&self) -> impl Iterator<Item = Range<usize>> + use<> {
        let (batch, group) = (self.batch, self.group());
        (0..batch)
            .step_by(group)
            .map(move |start| start..(start + group).min(batch))
    }

    /// A buffer for one group's `[C_out, images H_out W_out]` matrix in the product's layout, to swap
    /// with the `[images, C_out, H_out W_out]` layout of the output; empty when a group is one image,
    /// whose two layouts are the same.
    fn swap_buffer<E: Element>(&self, c_out: usize) -> Buffer<E> {
        let group = self.group();
        Buffer::uninit(if group > 1 {
            c_out * group * self.positions()
        } else {
            0
        })
    }

    /// Walks the im2col matrix of the images `images` (`[C_in KH KW, images H_out W_out]`, row-major)
    /// one run of columns at a time: `run(col, Some(src), len)` for `len` columns from `col` that read
    /// the input from `src` on, `stride` apart along the width; `run(col, None, len)` for columns that
    /// read the padding.
    ///
    /// With stride 1 and an output as wide as the input (a "same" convolution), the runs of one row of
    /// the matrix and one image are merged into one run through all its output lines: its columns on
    /// the padding then read input elements of the neighbouring line, and are also given as padding
    /// runs, after the merged run when `padding_last` (im2col overwrites them with zeros) and before it
    /// otherwise (col2im zeroes them first, so that they add nothing).
    fn walk_cols(
        &self,
        images: Range<usize>,
        padding_last: bool,
        mut run: impl FnMut(usize, Option<usize>, usize),
    ) {
        let [ay, ax] = self.axes;
        let (plane, positions) = (self.plane(), self.positions());
        let width = images.len() * positions;
        let merged = ay.stride == 1 && ax.stride == 1 && ax.output == ax.input;
        let mut row = 0;
        for c in 0..self.c_in {
            for ky in 0..ay.kernel {
                let rows_inside = ay.outputs_inside(ky);
                for kx in 0..ax.kernel {
                    let cols_inside = ax.outputs_inside(kx);
                    for (b, n) in images.clone().enumerate() {
                        let image = (n * self.c_in + c) * plane;
                        let base = row * width + b * positions;
                        if rows_inside.is_empty() || cols_inside.is_empty() {
                            run(base, None, positions);
                            continue;
                        }
                        let first = image
                            + ay.input_index(rows_inside.start, ky) * ax.input
                            + ax.input_index(cols_inside.start, kx);
                        if !merged {
                            for oy in 0..ay.output {
                                let col = base + oy * ax.output;
                                if !rows_inside.contains(&oy) {
                                    run(col, None, ax.output);
                                    continue;
                                }
                                let src = first + (oy - rows_inside.start) * ay.stride * ax.input;
                                if cols_inside.start > 0 {
                                    run(col, None, cols_inside.start);
                                }
                                run(col + cols_inside.start, Some(src), cols_inside.len());
                                if cols_inside.end < ax.output {
                                    run(col + cols_inside.end, None, ax.output - cols_inside.end);
                                }
                            }
                            continue;
                        }
                        // One run from the first column inside to the last, and the padding around
                        // and between its lines.
                        let w = ax.output;
                        let start = rows_inside.start * w + cols_inside.start;
                        let end = (rows_inside.end - 1) * w + cols_inside.end;
                        let padding = |run: &mut dyn FnMut(usize, Option<usize>, usize)| {
                            run(base, None, start);
                            for oy in rows_inside.start..rows_inside.end - 1 {
                                let from = oy * w + cols_inside.end;
                                run(base + from, None, (oy + 1) * w + cols_inside.start - from);
                            }
                            run(base + end, None, positions - end);
                        };
                        if !padding_last {
                            padding(&mut run);
                        }
                        run(base + start, Some(first), end - start);
                        if padding_last {
                            padding(&mut run);
                        }
                    }
                    row += 1;
                }
            }
        }
    }

    /// Writes the im2col matrix of the images `images` of `x` into `cols`: column `(b, oy, ox)` holds
    /// the input patch under the kernel at output position `(oy, ox)` of image `b`, zeros in the padding.
    fn im2col<E: Element>(&self, x: &[E], images: Range<usize>, cols: &mut [E]) {
        let step = self.axes[1].stride;
        self.walk_cols(images, true, |col, src, len| {
            let dst = &mut cols[col..col + len];
            match src {
                None => dst.fill(E::zero()),
                Some(s) if step == 1 => dst.copy_from_slice(&x[s..s + len]),
                Some(s) => {
                    for (d, v) in dst.iter_mut().zip(x[s..].iter().step_by(step)) {
                        *d = *v;
                    }
                }
            }
        });
    }

    /// Adds the im2col matrix `cols` of the images `images` back into their input gradient `dx`: the
    /// adjoint of [`im2col`](Self::im2col). The columns on the padding are zeroed on the way.
    fn col2im<E: Element>(&self, cols: &mut [E], images: Range<usize>, dx: &mut [E]) {
        let step = self.axes[1].stride;
        self.walk_cols(images, false, |col, src, len| {
            let from = &mut cols[col..col + len];
            match src {
                None => from.fill(E::zero()),
                Some(s) if step == 1 => {
                    for (d, v) in dx[s..s + len].iter_mut().zip(from) {
                        *d += *v;
                    }
                }
                Some(s) => {
                    for (d, v) in dx[s..].iter_mut().step_by(step).zip(from) {
                        *d += *v;
                    }
                }
            }
        });
    }
}

/// Swaps the two outer axes of `src` (`[a, b, inner]`) into `dst` (`[b, a, inner]`).
fn swap_outer<E: Element>(src: &[E], a: usize, b: usize, inner: usize, dst: &mut [E]) {
    for i in 0..a {
        for j in 0..b {
            dst[(j * a + i) * inner..][..inner]
                .copy_from_slice(&src[(i * b + j) * inner..][..inner]);
        }
    }
}

/// The convolution of `x` by `weight` over the spatial axes `axes`, plus `bias`, recorded on the
/// merged tape: what `conv1d` and `conv2d` share once their sizes are checked.
#[allow(clippy::type_complexity, clippy::needless_pass_by_value)]
#[track_caller]
fn convolve<S, W, O, E, T, T2, B, const D: usize>(
    x: &Tensor<S, E, T>,
    weight: &Tensor<W, E, T2>,
    bias: B,
    mut axes: [Window; D],
) -> Tensor<O, E, Merged<E, Merged<E, T, T2>, B::Tracking>>
where
    S: Shape,
    W: ConvShape<S, O, D>,
    O: Shape,
    E: Element,
    B: Bias<W, E>,
    T: Tracking<E> + Merge<E, T2>,
    T2: Tracking<E>,
    Merged<E, T, T2>: Merge<E, B::Tracking>,
{
    let (out_shape, batch, c_in) = W::conv_shape(&x.typed_shape(), &mut axes);
    let c_out = W::SIZES.c_out;
    // A one-dimensional convolution is a two-dimensional one of height 1.
    let mut height_width = [Window::FLAT; 2];
    height_width[2 - D..].copy_from_slice(&axes);
    let geo = Geometry {
        batch,
        c_in,
        axes: height_width,
    };
    let (patch, positions) = (geo.patch(), geo.positions());
    let group = geo.group();
    let out_numel = batch * c_out * positions;
    let (xv, wv) = (x.data(), weight.data());
    let bias_parts = bias.parts();

    // y[n, o, p] = sum_r W[o, r] cols_n[r, p] + b[o]: per group, one product [C_out, r] x [r, g p]
    // into `prod` ([C_out, g, p]), whose two outer axes are then swapped into y ([g, C_out, p]). A
    // group of one image is already in y's layout: the product goes straight into y.
    let mut y = Buffer::uninit(out_numel);
    if out_numel > 0 {
        let mut cols = Buffer::uninit(patch * group * positions);
        let mut prod = geo.swap_buffer(c_out);
        for images in geo.groups() {
            let width = images.len() * positions;
            let cols = &mut cols[..patch * width];
            geo.im2col(xv, images.clone(), cols);
            let product = |dst: &mut [E]| {
                let beta = match bias_parts {
                    Some((b, _)) => {
                        for (row, &v) in dst.chunks_exact_mut(width).zip(b.iter()) {
                            row.fill(v);
                        }
                        E::one()
                    }
                    None => E::zero(),
                };
                gemm(
                    E::one(),
                    Mat::new(wv, c_out, patch),
                    Mat::new(cols, patch, width),
                    beta,
                    MatMut::new(dst, c_out, width),
                );
            };
            let out = &mut y[images.start * c_out * positions..images.end * c_out * positions];
            if images.len() == 1 {
                product(out);
            } else {
                let prod = &mut prod[..c_out * width];
                product(prod);
                swap_outer(prod, c_out, images.len(), positions, out);
            }
        }
    }

    let tape = x.tape().merge(weight.tape()).merge(&bias.tracking());
    let make = |nx: Option<NodeId>, nw: Option<NodeId>, nb: Option<NodeId>| -> BackwardFn<E> {
        let w = nx.map(|_| Arc::clone(wv));
        let x = nw.map(|_| Arc::clone(xv));
        Box::new(move |dy, grads| {
            if let Some(nb) = nb {
                // db[o] = sum over images and positions of G[n, o, p]
                let db = grads.acc(nb);
                if positions > 0 {
                    for image in dy.chunks_exact(c_out * positions) {
                        for (d, row) in db.iter_mut().zip(image.chunks_exact(positions)) {
                            *d += sum_slice(row);
                        }
                    }
                }
            }
            if out_numel == 0 {
                // Nothing to add: the gradients are zeros.
                for node in [nx, nw].into_iter().flatten() {
                    grads.acc(node);
                }
                return;
            }
            if nx.is_none() && nw.is_none() {
                return;
            }
            let mut gt = geo.swap_buffer(c_out);
            let mut cols = Buffer::uninit(patch * group * positions);
            let mut dw = nw.map(|_| Buffer::zeros(c_out * patch));
            for images in geo.groups() {
                let width = images.len() * positions;
                let cols = &mut cols[..patch * width];
                // G of the group as [C_out, g p], the layout of the forward product (G itself for
                // one image).
                let g = &dy[images.start * c_out * positions..images.end * c_out * positions];
                let gt: &[E] = if images.len() == 1 {
                    g
                } else {
                    swap_outer(g, images.len(), c_out, positions, &mut gt[..c_out * width]);
                    &gt[..c_out * width]
                };
                if let (Some(dw), Some(x)) = (&mut dw, &x) {
                    // dW = sum over groups of G cols^T: [C_out, g p] x [g p, r]
                    geo.im2col(x, images.clone(), cols);
                    gemm(
                        E::one(),
                        Mat::new(gt, c_out, width),
                        Mat::new(cols, patch, width).t(),
                        E::one(),
                        MatMut::new(dw, c_out, patch),
                    );
                }
                if let (Some(nx), Some(w)) = (nx, &w) {
                    // dcols = W^T G: [r, C_out] x [C_out, g p], added back where each column read.
                    gemm(
                        E::one(),
                        Mat::new(w, c_out, patch).t(),
                        Mat::new(gt, c_out, width),
                        E::zero(),
                        MatMut::new(cols, patch, width),
                    );
                    geo.col2im(cols, images, grads.acc(nx));
                }
            }
            if let (Some(nw), Some(dw)) = (nw, dw) {
                grads.add_from(nw, dw.iter().copied());
            }
        })
    };
    let (xi, wi) = (x.input(), weight.input());
    let tape = match bias_parts {
        None => tape.record([xi, wi], out_numel, |[nx, nw]| make(nx, nw, None)),
        Some((_, bi)) => tape.record([xi, wi, bi], out_numel, |[nx, nw, nb]| make(nx, nw, nb)),
    };
    Tensor::from_parts(Arc::new(y), out_shape, tape)
}

impl<S: Shape, E: Element, T: Tracking<E>> Tensor<S, E, T> {
    /// The two-dimensional convolution of a batch of images by a bank of filters, as
    /// `torch.nn.functional.conv2d(x, weight, bias, stride, padding, dilation)` with `groups = 1`.
    ///
    /// `x` is `[N, C_in, H, W]`, the weight `[C_out, C_in, KH, KW]`, the bias [`NoBias`](crate::NoBias)
    /// or `&[C_out]`; the spec [`Conv::<STRIDE, PADDING, DILATION>`](Conv) applies to both spatial
    /// axes. The output `[N, C_out, H_out, W_out]` is the type the caller writes, and is checked:
    /// `H_out = (H + 2 PADDING - DILATION (KH - 1) - 1) / STRIDE + 1`, and the same for `W_out`. As in
    /// PyTorch it is a cross-correlation (the kernel is not flipped), and the input is padded with zeros:
    ///
    /// `y[n, o, i, j] = b[o] + sum_{c, k, l} W[o, c, k, l] x[n, c, STRIDE i + DILATION k - PADDING,
    /// STRIDE j + DILATION l - PADDING]`.
    ///
    /// Derivatives, for the gradient `G` of `y`: `dW[o, c, k, l] = sum_{n, i, j} G[n, o, i, j] x[n, c,
    /// ..]` (the same input element as above), `dx[n, c, ..] += sum_o W[o, c, k, l] G[n, o, i, j]` for
    /// every tap that reads it (nothing flows into the padding), `db[o] = sum_{n, i, j} G[n, o, i, j]`.
    ///
    /// Rules: a weight whose `C_in` is not the input's, or an output whose batch or channels are not
    /// `N` and `C_out`, does not compile (the error's first line names the three shapes). A wrong
    /// `H_out` or `W_out`, a kernel that spans more than the padded input, a stride or a dilation of 0
    /// or a kernel of size 0 is a `const` assertion, reported by `cargo build` (and `cargo test`), not
    /// `cargo check`, with a first line that names the output sizes the convolution makes and the ones
    /// written. The input may have a run-time batch (and channels): `(usize, Const<C_in>, Const<H>,
    /// Const<W>)` gives `(usize, Const<C_out>, Const<H_out>, Const<W_out>)`, so that a model's forward
    /// written for a batch `B: Dim` runs on any number of images. So may its height and width:
    /// `(usize, Const<C_in>, usize, usize)` gives `(usize, Const<C_out>, usize, usize)`, the output
    /// sizes computed by the same rule when the op runs (an output axis written as a `Const` after a
    /// run-time input axis is checked then).
    ///
    /// Computed as im2col and matrix products: for a group of images, the input patches under the
    /// kernel are laid out as the columns of a `[C_in KH KW, images H_out W_out]` matrix, multiplied by
    /// the weight seen as `[C_out, C_in KH KW]`; the backward pass does the same products transposed.
    /// Small images are convolved many to a product.
    ///
    /// # Panics
    /// When the input's channels are run-time and are not the weight's `C_in`; the message names both
    /// (`conv2d: the input's channels and the weight's differ: 3 and 2`). When the input's height or
    /// width is run-time and the kernel spans more than it padded (`conv2d: the input's width 2 is too
    /// short for the kernel: padded with 0 on each side it is 2, and a kernel of 3 taps with dilation
    /// 1 spans 3`), or the output's size on that axis is written as a `Const` other than the one the
    /// rule gives (`conv2d: the output's width is 6, not 5 as written in the output type: ..`).
    ///
    /// Edge values, as PyTorch: a NaN or an infinity spreads to every output whose window covers it,
    /// also through a zero weight (`NaN * 0` is NaN); the padding is multiplied like any input, so an
    /// infinite or NaN weight gives NaN at the borders, as PyTorch gives in `f32` and `f64`. An empty
    /// batch gives an empty output and zero weight and bias gradients. Where the crate differs: `C_in =
    /// 0` gives the bias (zeros without one), where PyTorch raises an error.
    ///
    /// ```
    /// use shaped::{Conv, NoBias, Rank4, Tape, Tensor};
    ///
    /// // One 3 x 3 image, a 2 x 2 filter.
    /// let x = Tensor::from([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]);
    /// let w = Tensor::from([[[[1.0, 0.0], [0.0, -1.0]]]]);
    /// let b = Tensor::from([10.0]);
    /// let y: Tensor<Rank4<1, 1, 2, 2>, f64> = x.conv2d(&w, &b, Conv::<1>);
    /// assert_eq!(y.to_array(), [[[[6.0, 6.0], [6.0, 6.0]]]]); // x[i, j] - x[i + 1, j + 1] + 10
    ///
    /// // Padding 1 keeps the size ("same" convolution).
    /// let same: Tensor<Rank4<1, 1, 4, 4>, f64> = x.conv2d(&w, NoBias, Conv::<1, 1>);
    /// assert_eq!(same[[0, 0, 0, 0]], -1.0); // only the tap -1 is inside the image
    ///
    /// let tape = Tape::new();
    /// let (xt, wt, bt) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
    /// let y: Tensor<Rank4<1, 1, 2, 2>, f64, Tape<f64>> = xt.conv2d(&wt, &bt, Conv::<1>);
    /// let grads = y.sum().backward();
    /// // dW[k, l] = the sum of the input under tap (k, l) over the four positions
    /// assert_eq!(grads.get(&wt).to_array(), [[[[12.0, 16.0], [24.0, 28.0]]]]);
    /// assert_eq!(grads.get(&bt).to_array(), [4.0]);
    /// assert_eq!(
    ///     grads.get(&xt).to_array(),
    ///     [[[[1.0, 1.0, 0.0], [1.0, 0.0, -1.0], [0.0, -1.0, -1.0]]]]
    /// );
    /// ```
    ///
    /// ```compile_fail,E0080
    /// use shaped::{Conv, NoBias, Rank4, Tensor};
    /// let x: Tensor<Rank4<1, 1, 8, 8>> = Tensor::zeros();
    /// let w: Tensor<Rank4<4, 1, 3, 3>> = Tensor::zeros();
    /// // conv2d: the output's height x width is 6 x 6, not 8 x 8 as written in the output type: ..
    /// let y: Tensor<Rank4<1, 4, 8, 8>> = x.conv2d(&w, NoBias, Conv::<1>);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity)]
    // `bias` by value reads best at the call (`NoBias`, `&b`); it is a reference or a unit, and so is
    // the spec.
    #[allow(clippy::needless_pass_by_value)]
    pub fn conv2d<W, O, B, T2, const STRIDE: usize, const PADDING: usize, const DILATION: usize>(
        &self,
        weight: &Tensor<W, E, T2>,
        bias: B,
        spec: Conv<STRIDE, PADDING, DILATION>,
    ) -> Tensor<O, E, Merged<E, Merged<E, T, T2>, B::Tracking>>
    where
        W: ConvShape<S, O, 2>,
        O: Shape,
        B: Bias<W, E>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
        Merged<E, T, T2>: Merge<E, B::Tracking>,
    {
        let _ = spec;
        let axes = const {
            conv_axes::<W, S, O, 2>("conv2d", "height x width", [STRIDE, PADDING, DILATION])
        };
        convolve(self, weight, bias, axes)
    }

    /// The one-dimensional convolution of a batch of signals by a bank of filters, as
    /// `torch.nn.functional.conv1d(x, weight, bias, stride, padding, dilation)` with `groups = 1`.
    ///
    /// `x` is `[N, C_in, L]`, the weight `[C_out, C_in, K]`, the bias [`NoBias`](crate::NoBias) or
    /// `&[C_out]`, the spec [`Conv::<STRIDE, PADDING, DILATION>`](Conv); the output `[N, C_out,
    /// L_out]` is written by the caller and checked: `L_out = (L + 2 PADDING - DILATION (K - 1) - 1) /
    /// STRIDE + 1`. `y[n, o, i] = b[o] + sum_{c, k} W[o, c, k] x[n, c, STRIDE i + DILATION k -
    /// PADDING]`, zeros in the padding. Derivatives, rules, run-time batches and edge values are those
    /// of [`conv2d`](Tensor::conv2d) with one spatial axis (it is computed as one, of height 1).
    ///
    /// The length may be known only at run time: `(usize, Const<C_in>, usize)` gives `(usize,
    /// Const<C_out>, usize)`, with `L_out` computed by the same rule when the op runs, and the same
    /// values and gradients as a static length. The channels are still checked at compile time.
    ///
    /// # Panics
    /// When the input's channels are run-time and are not the weight's `C_in`; the message names both.
    /// When the length is run-time and the kernel spans more than it padded; the message names the
    /// length, the padding and the kernel's span (`conv1d: the input's length 2 is too short for the
    /// kernel: padded with 0 on each side it is 2, and a kernel of 3 taps with dilation 1 spans 3`).
    /// When the length is run-time and the output's is written as a `Const` other than `L_out`.
    ///
    /// ```
    /// use shaped::{Conv, NoBias, Rank3, Tape, Tensor};
    ///
    /// let x = Tensor::from([[[1.0, 2.0, 4.0, 8.0, 16.0]]]);
    /// let w = Tensor::from([[[1.0, -1.0]]]); // a difference filter
    /// let y: Tensor<Rank3<1, 1, 4>, f64> = x.conv1d(&w, NoBias, Conv::<1>);
    /// assert_eq!(y.to_array(), [[[-1.0, -2.0, -4.0, -8.0]]]);
    /// // stride 2, padding 1: the taps read [0, 1], [2, 4], [8, 16]
    /// let z: Tensor<Rank3<1, 1, 3>, f64> = x.conv1d(&w, NoBias, Conv::<2, 1>);
    /// assert_eq!(z.to_array(), [[[-1.0, -2.0, -8.0]]]);
    ///
    /// let tape = Tape::new();
    /// let wt = tape.watch(&w);
    /// let y: Tensor<Rank3<1, 1, 4>, f64, Tape<f64>> = x.conv1d(&wt, NoBias, Conv::<1>);
    /// // dW[k] = sum_i x[i + k]
    /// assert_eq!(y.sum().backward().get(&wt).to_array(), [[[15.0, 30.0]]]);
    ///
    /// // A batch of sequences whose length is known at run time only.
    /// use shaped::Const;
    /// let len = 6;
    /// let s: Tensor<(usize, Const<1>, usize), f64> =
    ///     Tensor::from_fn_with((1, Const, len), |[_, _, i]| (i * i) as f64);
    /// let d: Tensor<(usize, Const<1>, usize), f64> = s.conv1d(&w, NoBias, Conv::<2, 1>);
    /// // (6 + 2 - 1 - 1) / 2 + 1 = 4 outputs: 0 - 0, 1 - 4, 9 - 16, 25 - 0 (the padding)
    /// assert_eq!(d.shape(), [1, 1, 4]);
    /// assert_eq!(d.to_vec(), vec![0.0, -3.0, -7.0, 25.0]);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::type_complexity, clippy::needless_pass_by_value)]
    pub fn conv1d<W, O, B, T2, const STRIDE: usize, const PADDING: usize, const DILATION: usize>(
        &self,
        weight: &Tensor<W, E, T2>,
        bias: B,
        spec: Conv<STRIDE, PADDING, DILATION>,
    ) -> Tensor<O, E, Merged<E, Merged<E, T, T2>, B::Tracking>>
    where
        W: ConvShape<S, O, 1>,
        O: Shape,
        B: Bias<W, E>,
        T: Merge<E, T2>,
        T2: Tracking<E>,
        Merged<E, T, T2>: Merge<E, B::Tracking>,
    {
        let _ = spec;
        let axes =
            const { conv_axes::<W, S, O, 1>("conv1d", "length", [STRIDE, PADDING, DILATION]) };
        convolve(self, weight, bias, axes)
    }
}

#[cfg(test)]
mod tests {
    use crate::ops::testing::random;
    use crate::{Const, Conv, NoBias, Rank1, Rank3, Rank4, StaticShape, Tape, Tensor, gradcheck};

    #[test]
    fn gradient_literal_conv1d_with_padding() {
        // x = [1, 2, 3, 4] padded to [0, 1, 2, 3, 4, 0], w = [1, -2, 3], b = 0.5:
        // y[i] = sum_k w[k] xp[i + k] + b = [4, 6, 8, -5] + 0.5.
        // f = sum(y * v) with v = [1, 0, 2, -1]:
        // df/dw[k] = sum_i v[i] xp[i + k] = [1, 3, 10];
        // df/dx[j] = sum_{i + k = j + 1} v[i] w[k] = [-2, 5, -5, 8] (the padding takes the rest);
        // df/db = sum_i v[i] = 2.
        let x = Tensor::from([[[1.0, 2.0, 3.0, 4.0]]]);
        let w = Tensor::from([[[1.0, -2.0, 3.0]]]);
        let b = Tensor::from([0.5]);
        let v = Tensor::from([[[1.0, 0.0, 2.0, -1.0]]]);
        let tape = Tape::new();
        let (xt, wt, bt) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
        let y: Tensor<Rank3<1, 1, 4>, f64, Tape<f64>> = xt.conv1d(&wt, &bt, Conv::<1, 1>);
        assert_eq!(y.to_array(), [[[4.5, 6.5, 8.5, -4.5]]]);
        let g = (y * &v).sum().backward();
        assert_eq!(g.get(&wt).to_array(), [[[1.0, 3.0, 10.0]]]);
        assert_eq!(g.get(&xt).to_array(), [[[-2.0, 5.0, -5.0, 8.0]]]);
        assert_eq!(g.get(&bt).to_array(), [2.0]);
    }

    #[test]
    fn gradient_literal_conv2d_with_stride_and_dilation() {
        // x[i, j] = 4 i + j on a 4 x 4 image, one filter w = [[1, 2], [3, 4]] with dilation 2 and
        // stride 2, no padding: the taps of output (0, 0) read x[0, 0], x[0, 2], x[2, 0], x[2, 2], and
        // there is no other output ((4 - 2 - 1) / 2 + 1 = 1). y = 0 + 2 * 2 + 3 * 8 + 4 * 10 = 68.
        // df/dw = the four inputs read [[0, 2], [8, 10]]; df/dx = w at those four places, 0 elsewhere.
        let x: Tensor<Rank4<1, 1, 4, 4>, f64> = Tensor::from_fn(|[_, _, i, j]| (4 * i + j) as f64);
        let w = Tensor::from([[[[1.0, 2.0], [3.0, 4.0]]]]);
        let tape = Tape::new();
        let (xt, wt) = (tape.watch(&x), tape.watch(&w));
        let y: Tensor<Rank4<1, 1, 1, 1>, f64, Tape<f64>> = xt.conv2d(&wt, NoBias, Conv::<2, 0, 2>);
        assert_eq!(y.to_vec(), vec![68.0]);
        let g = y.sum().backward();
        assert_eq!(g.get(&wt).to_array(), [[[[0.0, 2.0], [8.0, 10.0]]]]);
        let dx = g.get(&xt).to_array()[0][0];
        assert_eq!(
            dx,
            [
                [1.0, 0.0, 2.0, 0.0],
                [0.0; 4],
                [3.0, 0.0, 4.0, 0.0],
                [0.0; 4]
            ]
        );
    }

    /// gradcheck of `sum(conv2d(x, w, b) * v)` in x, w and b for one spec and output size.
    fn check2d<O, const S: usize, const P: usize, const D: usize>(seed: u64)
    where
        O: StaticShape,
        Rank4<4, 3, 3, 2>: crate::ConvShape<Rank4<2, 3, 5, 6>, O, 2>,
    {
        let x: Tensor<Rank4<2, 3, 5, 6>, f64> = random(seed);
        let w: Tensor<Rank4<4, 3, 3, 2>, f64> = random(seed + 1);
        let b: Tensor<Rank1<4>, f64> = random(seed + 2);
        let v: Tensor<O, f64> = random(seed + 3);
        gradcheck(
            |(x, w, b)| {
                let y: Tensor<O, f64, Tape<f64>> = x.conv2d(&w, &b, Conv::<S, P, D>);
                (y * &v).sum()
            },
            (&x, &w, &b),
        )
        .unwrap();
    }

    #[test]
    fn conv2d_gradient_matches_finite_differences() {
        check2d::<Rank4<2, 4, 3, 5>, 1, 0, 1>(10);
        check2d::<Rank4<2, 4, 3, 4>, 2, 1, 1>(20);
        check2d::<Rank4<2, 4, 5, 8>, 1, 2, 2>(30);
        check2d::<Rank4<2, 4, 1, 2>, 3, 1, 2>(40);
    }

    #[test]
    fn conv1d_gradient_matches_finite_differences() {
        let x: Tensor<Rank3<2, 3, 7>, f64> = random(50);
        let w: Tensor<Rank3<2, 3, 3>, f64> = random(51);
        let b: Tensor<Rank1<2>, f64> = random(52);
        let v: Tensor<Rank3<2, 2, 3>, f64> = random(53);
        // stride 2, padding 1, dilation 2: (7 + 2 - 2 (3 - 1) - 1) / 2 + 1 = 3
        gradcheck(
            |(x, w, b)| {
                let y: Tensor<Rank3<2, 2, 3>, f64, Tape<f64>> = x.conv1d(&w, &b, Conv::<2, 1, 2>);
                (y * &v).sum()
            },
            (&x, &w, &b),
        )
        .unwrap();
    }

    /// The sizes of a convolution, for [`by_definition`].
    struct Sizes {
        x: [usize; 4],
        w: [usize; 4],
        out: [usize; 2],
        spec: [usize; 3],
    }

    /// The convolution by its definition, with its three gradients for the upstream gradient `v`:
    /// `(y, dx, dw, db)`, all as flat row-major vectors.
    #[allow(clippy::type_complexity)]
    fn by_definition(
        sizes: &Sizes,
        x: &[f64],
        wt: &[f64],
        b: &[f64],
        v: &[f64],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let ([n, c, h, w], [o, _, kh, kw], [oh, ow]) = (sizes.x, sizes.w, sizes.out);
        let [s, p, d] = sizes.spec;
        let mut y = vec![0.0; n * o * oh * ow];
        let (mut dx, mut dw, mut db) = (vec![0.0; x.len()], vec![0.0; wt.len()], vec![0.0; o]);
        // The input index that tap k reads at output i, if it is not in the padding.
        let inside =
            |i: usize, k: usize, len: usize| (i * s + k * d).checked_sub(p).filter(|&r| r < len);
        for ni in 0..n {
            for oi in 0..o {
                for i in 0..oh {
                    for j in 0..ow {
                        let out = ((ni * o + oi) * oh + i) * ow + j;
                        y[out] = b[oi];
                        db[oi] += v[out];
                        for ci in 0..c {
                            for k in 0..kh {
                                for l in 0..kw {
                                    let (Some(r), Some(q)) = (inside(i, k, h), inside(j, l, w))
                                    else {
                                        continue;
                                    };
                                    let xi = ((ni * c + ci) * h + r) * w + q;
                                    let wi = ((oi * c + ci) * kh + k) * kw + l;
                                    y[out] += wt[wi] * x[xi];
                                    dx[xi] += wt[wi] * v[out];
                                    dw[wi] += x[xi] * v[out];
                                }
                            }
                        }
                    }
                }
            }
        }
        (y, dx, dw, db)
    }

    fn assert_close(what: &str, got: &[f64], want: &[f64]) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                "{what}[{i}]: {g}, want {w}"
            );
        }
    }

    /// Checks `conv2d` of an input `[N, C, H, W]` by two filters `[2, C, KH, KW]`, and its
    /// gradients, against the definition for one spec.
    fn against_definition<
        const N: usize,
        const C: usize,
        const H: usize,
        const W: usize,
        const KH: usize,
        const KW: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        const D: usize,
    >(
        seed: u64,
    ) where
        Rank4<2, C, KH, KW>: crate::ConvShape<Rank4<N, C, H, W>, Rank4<N, 2, OH, OW>, 2>,
    {
        let x: Tensor<Rank4<N, C, H, W>, f64> = random(seed);
        let wt: Tensor<Rank4<2, C, KH, KW>, f64> = random(seed + 1);
        let b: Tensor<Rank1<2>, f64> = random(seed + 2);
        let v: Tensor<Rank4<N, 2, OH, OW>, f64> = random(seed + 3);
        let tape = Tape::new();
        let (xt, wtt, bt) = (tape.watch(&x), tape.watch(&wt), tape.watch(&b));
        let y: Tensor<Rank4<N, 2, OH, OW>, f64, Tape<f64>> = xt.conv2d(&wtt, &bt, Conv::<S, P, D>);
        let sizes = Sizes {
            x: [N, C, H, W],
            w: [2, C, KH, KW],
            out: [OH, OW],
            spec: [S, P, D],
        };
        let want = by_definition(
            &sizes,
            x.as_slice(),
            wt.as_slice(),
            b.as_slice(),
            v.as_slice(),
        );
        assert_close("y", y.as_slice(), &want.0);
        let g = (y * &v).sum().backward();
        assert_close("dx", g.get(&xt).as_slice(), &want.1);
        assert_close("dw", g.get(&wtt).as_slice(), &want.2);
        assert_close("db", g.get(&bt).as_slice(), &want.3);
    }

    #[test]
    fn matches_the_definition_when_images_are_grouped_or_not() {
        // 8 channels of 20 x 20 with a 3 x 3 kernel and padding 1 make an im2col matrix of 72 x 400
        // per image: two images to a product, so a batch of 3 is a group of 2 and a group of 1.
        against_definition::<3, 8, 20, 20, 3, 3, 20, 20, 1, 1, 1>(60);
        // 16 channels: one image to a product.
        against_definition::<2, 16, 20, 20, 3, 3, 10, 10, 2, 1, 1>(70);
        // Small images, many to a product, with stride, padding and dilation on a non-square image.
        against_definition::<5, 2, 7, 9, 3, 2, 3, 5, 2, 2, 3>(80);
    }

    #[test]
    fn one_tensor_as_input_and_weight() {
        // f = sum(conv2d(x, x, padding 1) * v): x is the image and the filter, and its gradient is
        // the sum of both roles'.
        let x: Tensor<Rank4<1, 1, 3, 3>, f64> = random(90);
        let v: Tensor<Rank4<1, 1, 3, 3>, f64> = random(91);
        gradcheck(
            |x| {
                let y: Tensor<Rank4<1, 1, 3, 3>, f64, Tape<f64>> =
                    x.conv2d(&x, NoBias, Conv::<1, 1>);
                (y * &v).sum()
            },
            &x,
        )
        .unwrap();
        // The same through two watches of one tensor (one leaf).
        let tape = Tape::new();
        let (a, b) = (tape.watch(&x), tape.watch(&x));
        let y: Tensor<Rank4<1, 1, 3, 3>, f64, Tape<f64>> = a.conv2d(&b, NoBias, Conv::<1, 1>);
        let g1 = (y * &v).sum().backward().get(&a);
        let tape = Tape::new();
        let a = tape.watch(&x);
        let y: Tensor<Rank4<1, 1, 3, 3>, f64, Tape<f64>> = a.conv2d(&a, NoBias, Conv::<1, 1>);
        let g2 = (y * &v).sum().backward().get(&a);
        assert_eq!(g1, g2);
    }

    #[test]
    fn a_run_time_batch_computes_what_a_static_one_does() {
        let x: Tensor<Rank4<3, 2, 6, 5>, f64> = random(100);
        let w: Tensor<Rank4<4, 2, 3, 3>, f64> = random(101);
        let b: Tensor<Rank1<4>, f64> = random(102);
        let tape = Tape::new();
        let (xs, ws) = (tape.watch(&x), tape.watch(&w));
        let ys: Tensor<Rank4<3, 4, 3, 3>, f64, Tape<f64>> = xs.conv2d(&ws, &b, Conv::<2, 1>);
        let ys_values = ys.to_vec();
        let gs = (ys * 2.0).sum().backward();

        let xr: Tensor<(usize, Const<2>, Const<6>, Const<5>), f64> =
            Tensor::from_vec_with((3, Const, Const, Const), x.to_vec()).unwrap();
        let tape = Tape::new();
        let (xrt, wr) = (tape.watch(&xr), tape.watch(&w));
        let yr: Tensor<(usize, Const<4>, Const<3>, Const<3>), f64, Tape<f64>> =
            xrt.conv2d(&wr, &b, Conv::<2, 1>);
        assert_eq!(yr.shape(), [3, 4, 3, 3]);
        assert_eq!(yr.to_vec(), ys_values);
        let gr = (yr * 2.0).sum().backward();
        assert_eq!(gr.get(&xrt).to_vec(), gs.get(&xs).to_vec());
        assert_eq!(gr.get(&wr), gs.get(&ws));

        // A static input may give a tuple output, and run-time channels are checked when the op runs.
        let yt: Tensor<(Const<3>, Const<4>, Const<3>, Const<3>), f64> =
            x.conv2d(&w, &b, Conv::<2, 1>);
        assert_eq!(yt.to_vec(), ys_values);
        let xc: Tensor<(usize, usize, Const<6>, Const<5>), f64> =
            Tensor::from_vec_with((3, 2, Const, Const), x.to_vec()).unwrap();
        let yc: Tensor<(usize, Const<4>, Const<3>, Const<3>), f64> =
            xc.conv2d(&w, &b, Conv::<2, 1>);
        assert_eq!(yc.to_vec(), ys_values);

        // conv1d on a run-time batch.
        let s: Tensor<Rank3<2, 2, 5>, f64> = random(103);
        let k: Tensor<Rank3<1, 2, 2>, f64> = random(104);
        let want: Tensor<Rank3<2, 1, 4>, f64> = s.conv1d(&k, NoBias, Conv::<1>);
        let sr: Tensor<(usize, Const<2>, Const<5>), f64> =
            Tensor::from_vec_with((2, Const, Const), s.to_vec()).unwrap();
        let got: Tensor<(usize, Const<1>, Const<4>), f64> = sr.conv1d(&k, NoBias, Conv::<1>);
        assert_eq!(got.to_vec(), want.to_vec());
    }

    #[test]
    #[should_panic(expected = "conv2d: the input's channels and the weight's differ: 3 and 2")]
    fn run_time_channels_that_differ_from_the_weight_panic() {
        let x: Tensor<(usize, usize, Const<4>, Const<4>)> =
            Tensor::zeros_with((1, 3, Const, Const));
        let w: Tensor<Rank4<1, 2, 3, 3>> = Tensor::zeros();
        let _: Tensor<(usize, Const<1>, Const<2>, Const<2>)> = x.conv2d(&w, NoBias, Conv::<1>);
    }

    #[test]
    #[should_panic(expected = "conv1d: the input's channels and the weight's differ: 1 and 2")]
    fn run_time_channels_of_conv1d_are_checked() {
        let x: Tensor<(usize, usize, Const<4>)> = Tensor::zeros_with((1, 1, Const));
        let w: Tensor<Rank3<1, 2, 3>> = Tensor::zeros();
        let _: Tensor<(usize, Const<1>, Const<2>)> = x.conv1d(&w, NoBias, Conv::<1>);
    }

    #[test]
    fn edge_values_and_empty_axes() {
        // A NaN spreads to every output whose window covers it, even through zero weights; an
        // infinite weight meets the zero padding at the borders and gives NaN there.
        let mut v = vec![1.0; 9];
        v[4] = f64::NAN;
        let x: Tensor<Rank4<1, 1, 3, 3>, f64> = Tensor::from_vec(v).unwrap();
        let zeros: Tensor<Rank4<1, 1, 3, 3>, f64> = Tensor::zeros();
        let y: Tensor<Rank4<1, 1, 3, 3>, f64> = x.conv2d(&zeros, NoBias, Conv::<1, 1>);
        assert!(y.as_slice().iter().all(|v| v.is_nan()));
        let mut k = vec![0.0; 9];
        k[0] = f64::INFINITY;
        let k: Tensor<Rank4<1, 1, 3, 3>, f64> = Tensor::from_vec(k).unwrap();
        let ones: Tensor<Rank4<1, 1, 3, 3>, f64> = Tensor::ones();
        let y: Tensor<Rank4<1, 1, 3, 3>, f64> = ones.conv2d(&k, NoBias, Conv::<1, 1>);
        for i in 0..3 {
            for j in 0..3 {
                let v = y[[0, 0, i, j]];
                // tap (0, 0) reads x[i - 1, j - 1], the padding on the first row and column
                assert!(if i == 0 || j == 0 {
                    v.is_nan()
                } else {
                    v == f64::INFINITY
                });
            }
        }
        // An empty batch: an empty output, and zero gradients for the weight and the bias.
        let x: Tensor<(usize, Const<2>, Const<3>, Const<3>), f64> =
            Tensor::zeros_with((0, Const, Const, Const));
        let w: Tensor<Rank4<4, 2, 2, 2>, f64> = random(110);
        let b: Tensor<Rank1<4>, f64> = random(111);
        let tape = Tape::new();
        let (wt, bt) = (tape.watch(&w), tape.watch(&b));
        let y: Tensor<(usize, Const<4>, Const<2>, Const<2>), f64, Tape<f64>> =
            x.conv2d(&wt, &bt, Conv::<1>);
        assert_eq!(y.shape(), [0, 4, 2, 2]);
        let g = y.sum().backward();
        assert_eq!(g.get(&wt).to_vec(), vec![0.0; 32]);
        assert_eq!(g.get(&bt).to_vec(), vec![0.0; 4]);
        // No input channels: the bias alone.
        let x: Tensor<Rank4<2, 0, 3, 3>, f64> = Tensor::zeros();
        let w: Tensor<Rank4<2, 0, 2, 2>, f64> = Tensor::zeros();
        let b = Tensor::from([1.5, -2.0]);
        let y: Tensor<Rank4<2, 2, 2, 2>, f64> = x.conv2d(&w, &b, Conv::<1>);
        assert_eq!(y.to_array(), [[[[1.5; 2]; 2], [[-2.0; 2]; 2]]; 2]);
    }
}
