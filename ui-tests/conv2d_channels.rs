// A convolution's weight `[C_out, C_in, KH, KW]` must take the input's channels: a grey image
// (1 channel) cannot meet filters made for 3.
use shaped::{Conv, NoBias, Rank4, Tensor};

fn main() {
    let x: Tensor<Rank4<64, 1, 8, 8>> = Tensor::zeros();
    let w: Tensor<Rank4<16, 3, 3, 3>> = Tensor::zeros();
    let _: Tensor<Rank4<64, 16, 8, 8>> = x.conv2d(&w, NoBias, Conv::<1, 1>);
}
