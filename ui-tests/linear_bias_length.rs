// linear's bias has one value per output: `[OUT]` or `[1, OUT]`, OUT being the weight's first dimension.
use shaped::{Rank1, Rank2, Tensor};

fn main() {
    let x: Tensor<Rank2<4, 3>> = Tensor::zeros();
    let w: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank1<3>> = Tensor::zeros();
    let _ = x.linear(&w, &b);
}
