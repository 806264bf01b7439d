// bilinear's two inputs must have the same leading axes (all but the last).
use shaped::{NoBias, Rank3, Tensor};

fn main() {
    let x1: Tensor<Rank3<8, 4, 2>> = Tensor::zeros();
    let x2: Tensor<Rank3<8, 5, 3>> = Tensor::zeros();
    let w: Tensor<Rank3<6, 2, 3>> = Tensor::zeros();
    let _ = x1.bilinear(&x2, &w, NoBias);
}
