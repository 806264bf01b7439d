// A kernel must fit in the padded input (a const assertion): a 5 x 5 kernel cannot slide over a
// 2 x 2 image padded by 1.
use shaped::{Conv, NoBias, Rank4, Tensor};

fn main() {
    let x: Tensor<Rank4<1, 1, 2, 2>> = Tensor::zeros();
    let w: Tensor<Rank4<1, 1, 5, 5>> = Tensor::zeros();
    let _: Tensor<Rank4<1, 1, 1, 1>> = x.conv2d(&w, NoBias, Conv::<1, 1>);
}
