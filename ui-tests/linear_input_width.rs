// linear needs the input's last dimension to equal the weight's IN (its second dimension).
use shaped::{NoBias, Rank2, Rank3, Tensor};

fn main() {
    let x: Tensor<Rank3<8, 4, 5>> = Tensor::zeros();
    let w: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let _ = x.linear(&w, NoBias);
}
