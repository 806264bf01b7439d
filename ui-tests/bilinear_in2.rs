// bilinear's weight `[OUT, IN1, IN2]` needs IN2 to be the second input's last dimension.
use shaped::{NoBias, Rank2, Rank3, Tensor};

fn main() {
    let x1: Tensor<Rank2<4, 2>> = Tensor::zeros();
    let x2: Tensor<Rank2<4, 3>> = Tensor::zeros();
    let w: Tensor<Rank3<5, 2, 6>> = Tensor::zeros();
    let _ = x1.bilinear(&x2, &w, NoBias);
}
