// 12 features split into 3 heads of 4: builds and runs.
use shaped::nn::MultiheadAttention;
use shaped::{Rank3, Tensor};

fn main() {
    let mha: MultiheadAttention<12, 3, 4> = MultiheadAttention::zeros();
    let x: Tensor<Rank3<1, 2, 12>> = Tensor::ones();
    assert_eq!(mha.forward(&x, &x, &x, true).shape(), [1, 2, 12]);
}
