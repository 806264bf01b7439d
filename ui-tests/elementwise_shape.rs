// Elementwise ops need both operands to have the same shape.
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<3, 2>> = Tensor::zeros();
    let _ = a + b;
}
