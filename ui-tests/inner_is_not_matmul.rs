// inner is not matmul: `[3, 4]` inner `[4, 5]` is an error (the last dimensions 4 and 5 differ),
// although `[3, 4]` matmul `[4, 5]` is valid.
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<3, 4>> = Tensor::zeros();
    let b: Tensor<Rank2<4, 5>> = Tensor::zeros();
    let _ = a.matmul(&b);
    let _ = a.inner(&b);
}
