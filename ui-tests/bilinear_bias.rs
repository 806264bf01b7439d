// bilinear's bias has one value per output: `[OUT]` or `[1, OUT]`, OUT being the weight's first dimension.
use shaped::{Rank2, Rank3, Tensor};

fn main() {
    let x1: Tensor<Rank2<4, 2>> = Tensor::zeros();
    let x2: Tensor<Rank2<4, 3>> = Tensor::zeros();
    let w: Tensor<Rank3<5, 2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<5, 1>> = Tensor::zeros();
    let _ = x1.bilinear(&x2, &w, &b);
}
