// matmul needs the left operand's last dimension to equal the right operand's second-to-last.
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<4, 5>> = Tensor::zeros();
    let _ = a.matmul(&b);
}
