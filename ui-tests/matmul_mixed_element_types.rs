// matmul cannot mix f32 and f64 operands.
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>, f32> = Tensor::zeros();
    let b: Tensor<Rank2<3, 4>, f64> = Tensor::zeros();
    let _ = a.matmul(&b);
}
