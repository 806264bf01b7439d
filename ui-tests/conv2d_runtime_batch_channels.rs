// With a run-time batch, the static channels of a convolution must still agree with its weight's.
use shaped::{Const, Conv, NoBias, Rank4, Tensor};

fn main() {
    let x: Tensor<(usize, Const<1>, Const<8>, Const<8>)> = Tensor::zeros_with((5, Const, Const, Const));
    let w: Tensor<Rank4<16, 3, 3, 3>> = Tensor::zeros();
    let _: Tensor<(usize, Const<16>, Const<8>, Const<8>)> = x.conv2d(&w, NoBias, Conv::<1, 1>);
}
