// Every parameter of a model has the same element type.
use shaped::nn::Linear;
use shaped::{Module, Rank1, Tensor};

#[derive(Module)]
struct Mixed {
    layer: Linear<4, 4>,
    scale: Tensor<Rank1<4>, f64>,
}

fn main() {}
