//! `MaxPool2d` and `AvgPool2d`: pooling layers, PyTorch's `nn.MaxPool2d` and `nn.AvgPool2d`; and
//! `Flatten`, PyTorch's `nn.Flatten`, which takes pooled images to a `Linear` layer.
//!
//! None has parameters: in a model with `#[derive(Module)]`, a field holding one is marked
//! `#[module(skip)]`. In a tuple of layers each stands in an [`Out`](crate::nn::Out) with its output
//! shape per sample: `Out<MaxPool2d<2>, Rank3<C, H_out, W_out>>`, `Out<Flatten, Rank1<F>>`.

use crate::const_msg::ConstMsg;
use crate::{Const, Dim, Element, Pool, Pool2dShape, Rank2, Rank3, Rank4, Shape, Tensor, Tracking};

/// A pooling layer running `Tensor::$op`; its `forward`'s example is given after `forward:`.
macro_rules! pool_layer {
    ($(#[$doc:meta])* $Layer:ident, $op:ident; forward: $(#[$forward:meta])*) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $Layer<const KERNEL: usize, const STRIDE: usize = KERNEL, const PADDING: usize = 0>;

        impl<const KERNEL: usize, const STRIDE: usize, const PADDING: usize>
            $Layer<KERNEL, STRIDE, PADDING>
        {
            #[doc = concat!("[`Tensor::", stringify!($op), "`] of `x` with the layer's window. The")]
            /// output's type is written by the caller; its height and width are checked by a `const`
            /// assertion at `cargo build`.
            ///
            $(#[$forward])*
            #[must_use]
            #[track_caller]
            pub fn forward<S, O, E, T>(&self, x: Tensor<S, E, T>) -> Tensor<O, E, T>
            where
                S: Pool2dShape<O>,
                O: Shape,
                E: Element,
                T: Tracking<E>,
            {
                x.$op(Pool::<KERNEL, STRIDE, PADDING>)
            }
        }
    };
}

pool_layer!(
    /// The maximum of each `KERNEL x KERNEL` window, PyTorch's `nn.MaxPool2d(KERNEL, STRIDE,
    /// PADDING)` (the stride defaults to the kernel): [`Tensor::max_pool2d`] as a layer.
    ///
    /// ```
    /// use shaped::nn::MaxPool2d;
    /// use shaped::{Rank4, Tensor};
    /// let x: Tensor<Rank4<1, 1, 4, 4>> = Tensor::from_fn(|[_, _, i, j]| (4 * i + j) as f32);
    /// let y: Tensor<Rank4<1, 1, 2, 2>> = MaxPool2d::<2>.forward(x);
    /// assert_eq!(y.to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    MaxPool2d,
    max_pool2d;
    forward:
    /// ```
    /// use shaped::nn::MaxPool2d;
    /// use shaped::{Const, Tensor};
    /// // 2 x 2 windows with stride 1 over [[1, 2, 3], [4, 5, 6], [7, 8, 9]]: each window's maximum
    /// // is its bottom-right element. The batch is known at run time only.
    /// let x: Tensor<(usize, Const<1>, Const<3>, Const<3>)> =
    ///     Tensor::from([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]).reshape();
    /// let y: Tensor<(usize, Const<1>, Const<2>, Const<2>)> = MaxPool2d::<2, 1>.forward(x);
    /// assert_eq!(y.to_vec(), vec![5.0, 6.0, 8.0, 9.0]);
    /// ```
);

pool_layer!(
    /// The mean of each `KERNEL x KERNEL` window, PyTorch's `nn.AvgPool2d(KERNEL, STRIDE, PADDING)`
    /// (the stride defaults to the kernel, the padding counts as zeros): [`Tensor::avg_pool2d`] as a
    /// layer.
    ///
    /// ```
    /// use shaped::nn::AvgPool2d;
    /// use shaped::{Rank4, Tensor};
    /// let x: Tensor<Rank4<1, 1, 2, 4>> = Tensor::from_fn(|[_, _, i, j]| (4 * i + j) as f32);
    /// let y: Tensor<Rank4<1, 1, 1, 2>> = AvgPool2d::<2>.forward(x);
    /// assert_eq!(y.to_vec(), vec![2.5, 4.5]);
    /// ```
    AvgPool2d,
    avg_pool2d;
    forward:
    /// ```
    /// use shaped::nn::AvgPool2d;
    /// use shaped::{Rank4, Tensor};
    /// // Padding 1 frames [[1, 2], [3, 4]] with zeros; each 2 x 2 window (stride 2) holds one
    /// // element and three zeros, and their mean is a quarter of the element.
    /// let x = Tensor::from([[[[1.0, 2.0], [3.0, 4.0]]]]);
    /// let y: Tensor<Rank4<1, 1, 2, 2>> = AvgPool2d::<2, 2, 1>.forward(x);
    /// assert_eq!(y.to_vec(), vec![0.25, 0.5, 0.75, 1.0]);
    /// ```
);

/// Every axis of an image but the batch flattened into one, PyTorch's `nn.Flatten()`: `[N, C, H, W]`
/// (or `[N, C, L]`) to `[N, C H W]`, the same elements in the same order (a reshape: nothing is
/// copied, and the gradient is reshaped back).
///
/// The output's type is written by the caller, and its width is checked by a `const` assertion at
/// `cargo build` whose message names the image's sizes and the width written. The batch may be
/// run-time: `(usize, Const<C>, Const<H>, Const<W>)` gives `(usize, Const<C H W>)`.
///
/// ```
/// use shaped::nn::Flatten;
/// use shaped::{Const, Rank2, Rank4, Tensor};
/// let x: Tensor<Rank4<2, 3, 2, 2>> = Tensor::from_fn(|[n, c, i, j]| (12 * n + 4 * c + 2 * i + j) as f32);
/// let y: Tensor<Rank2<2, 12>> = Flatten.forward(x.clone());
/// assert_eq!(y[[1, 5]], 17.0);
/// // A run-time batch.
/// let xr: Tensor<(usize, Const<3>, Const<2>, Const<2>)> = x.reshape();
/// let r: Tensor<(usize, Const<12>)> = Flatten.forward(xr);
/// assert_eq!(r.shape(), [2, 12]);
/// ```
///
/// ```compile_fail,E0080
/// use shaped::nn::Flatten;
/// use shaped::{Rank2, Rank4, Tensor};
/// let x: Tensor<Rank4<2, 16, 4, 4>> = Tensor::zeros();
/// // flatten: an image [16, 4, 4] has 256 elements, not 255 as written in the output type
/// let y: Tensor<Rank2<2, 255>> = Flatten.forward(x);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Flatten;

impl Flatten {
    /// `x` with every axis but the first flattened into one; see [`Flatten`].
    ///
    /// ```
    /// use shaped::nn::Flatten;
    /// use shaped::{Rank2, Tensor};
    /// // [N, C, L] = [2, 2, 2] to [2, 4]: each sample's channels one after the other.
    /// let x = Tensor::from([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]);
    /// let y: Tensor<Rank2<2, 4>> = Flatten.forward(x);
    /// assert_eq!(y.to_array(), [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
    /// ```
    #[must_use]
    #[track_caller]
    #[allow(clippy::needless_pass_by_value)] // by value, so that layers chain
    pub fn forward<S, O, E, T>(&self, x: Tensor<S, E, T>) -> Tensor<O, E, T>
    where
        S: FlattenShape<O>,
        O: Shape,
        E: Element,
        T: Tracking<E>,
    {
        const {
            if S::IMAGE_NUMEL != S::WRITTEN {
                let m = ConstMsg::new()
                    .str("flatten: an image ")
                    .dims(S::IMAGE)
                    .str(" has ")
                    .num(S::IMAGE_NUMEL)
                    .str(" elements, not ")
                    .num(S::WRITTEN)
                    .str(" as written in the output type");
                panic!("{}", m.as_str());
            }
        }
        x.reshape_to(x.typed_shape().flattened())
    }
}

/// The shape rule of [`Flatten`]: an input `Self = [N, axes..]` gives `O = [N, F]` with the same
/// batch, where `F`, written by the caller, must be the product of the axes (a `const` assertion).
///
/// It is the bound of a function generic over the images it flattens:
///
/// ```
/// use shaped::nn::{Flatten, FlattenShape};
/// use shaped::{Rank2, Rank4, Shape, Tensor};
/// fn features<S: FlattenShape<O>, O: Shape>(x: Tensor<S>) -> Tensor<O> {
///     Flatten.forward(x)
/// }
/// // One image of 2 channels of 1 x 2 pixels: 2 x 1 x 2 = 4 features.
/// let x: Tensor<Rank4<1, 2, 1, 2>> = Tensor::from([[[[1.0, 2.0]], [[3.0, 4.0]]]]);
/// let y: Tensor<Rank2<1, 4>> = features(x);
/// assert_eq!(y.to_vec(), vec![1.0, 2.0, 3.0, 4.0]);
/// ```
#[diagnostic::on_unimplemented(
    message = "shape mismatch: flattening `{Self}` cannot give `{O}`",
    label = "flatten keeps the batch: `[N, C, H, W]` gives `[N, C H W]`",
    note = "a static input gives a static output, and a tuple input (a run-time batch) a tuple output"
)]
pub trait FlattenShape<O: Shape>: Shape {
    /// The sizes of one image (every axis but the first).
    #[doc(hidden)]
    const IMAGE: &'static [usize];
    /// Their product.
    #[doc(hidden)]
    const IMAGE_NUMEL: usize;
    /// The output's second axis, as written.
    #[doc(hidden)]
    const WRITTEN: usize;
    /// The output shape, with the input's batch.
    #[doc(hidden)]
    fn flattened(&self) -> O;
}

/// The static and tuple implementations of [`FlattenShape`] for images of the axes `$a..`.
macro_rules! flatten_shapes {
    ($Rank:ident, $($a:ident),+) => {
        #[diagnostic::do_not_recommend]
        impl<const N: usize, $(const $a: usize,)+ const F: usize> FlattenShape<Rank2<N, F>>
            for $Rank<N, $($a),+>
        {
            const IMAGE: &'static [usize] = &[$($a),+];
            const IMAGE_NUMEL: usize = 1 $(* $a)+;
            const WRITTEN: usize = F;
            fn flattened(&self) -> Rank2<N, F> {
                Rank2
            }
        }

        #[diagnostic::do_not_recommend]
        impl<B: Dim, $(const $a: usize,)+ const F: usize> FlattenShape<(B, Const<F>)>
            for (B, $(Const<$a>,)+)
        {
            const IMAGE: &'static [usize] = &[$($a),+];
            const IMAGE_NUMEL: usize = 1 $(* $a)+;
            const WRITTEN: usize = F;
            fn flattened(&self) -> (B, Const<F>) {
                (self.0, Const)
            }
        }
    };
}

flatten_shapes!(Rank3, C, L);
flatten_shapes!(Rank4, C, H, W);
