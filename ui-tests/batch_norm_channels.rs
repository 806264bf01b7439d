// BatchNorm1d<3> normalizes 3 channels on axis 1: a batch of sequences with 4 channels is not one.
use shaped::nn::BatchNorm1d;
use shaped::{Rank3, Tensor};

fn main() {
    let bn: BatchNorm1d<3> = BatchNorm1d::new();
    let x: Tensor<Rank3<2, 4, 5>> = Tensor::zeros();
    let _ = bn.forward(x);
}
