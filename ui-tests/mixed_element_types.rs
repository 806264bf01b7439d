// An op cannot mix f32 and f64 tensors.
use shaped::{Rank1, Tensor};

fn main() {
    let a: Tensor<Rank1<3>, f32> = Tensor::zeros();
    let b: Tensor<Rank1<3>, f64> = Tensor::zeros();
    let _ = a * b;
}
