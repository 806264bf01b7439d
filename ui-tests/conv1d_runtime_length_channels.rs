// With a run-time batch and a run-time length, the channels of a sequence must still be the
// convolution's input channels: a layer made for 3 channels cannot take 8.
use shaped::nn::Conv1d;
use shaped::{Const, Tensor};

fn main() {
    let layer: Conv1d<3, 4, 3> = Conv1d::zeros();
    let x: Tensor<(usize, Const<8>, usize)> = Tensor::zeros_with((2, Const, 100));
    let _: Tensor<(usize, Const<4>, usize)> = layer.forward(x);
}
