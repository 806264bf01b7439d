// With a run-time height, the static width of a convolution's output is still checked when the
// crate is built: a 3 x 3 kernel on a width of 8 gives 6, not 8. The run-time height is written `_`.
use shaped::{Const, Conv, NoBias, Rank4, Tensor};

fn main() {
    let x: Tensor<(usize, Const<1>, usize, Const<8>)> = Tensor::zeros_with((2, Const, 10, Const));
    let w: Tensor<Rank4<4, 1, 3, 3>> = Tensor::zeros();
    let _: Tensor<(usize, Const<4>, usize, Const<8>)> = x.conv2d(&w, NoBias, Conv::<1>);
}
