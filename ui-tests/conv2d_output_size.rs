// A convolution's output size is written in the output type and checked when the crate builds (a
// const assertion): a 3 x 3 kernel with padding 1 keeps an 8 x 8 image 8 x 8, not 6 x 6.
use shaped::{Conv, NoBias, Rank4, Tensor};

fn main() {
    let x: Tensor<Rank4<64, 1, 8, 8>> = Tensor::zeros();
    let w: Tensor<Rank4<16, 1, 3, 3>> = Tensor::zeros();
    let _: Tensor<Rank4<64, 16, 6, 6>> = x.conv2d(&w, NoBias, Conv::<1, 1>);
}
