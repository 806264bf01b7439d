// Batched matmul needs equal batch axes on both operands (or none on one of them).
use shaped::{Rank3, Tensor};

fn main() {
    let a: Tensor<Rank3<2, 4, 3>> = Tensor::zeros();
    let b: Tensor<Rank3<5, 3, 6>> = Tensor::zeros();
    let _ = a.matmul(&b);
}
