// linear's weight is `[OUT, IN]` (PyTorch's layout); a weight given as `[IN, OUT]` is an error.
use shaped::{NoBias, Rank2, Tensor};

fn main() {
    let x: Tensor<Rank2<4, 3>> = Tensor::zeros();
    let w: Tensor<Rank2<3, 2>> = Tensor::zeros();
    let _ = x.linear(&w, NoBias);
}
