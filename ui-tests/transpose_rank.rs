// `transpose` swaps the last two axes, so the tensor needs at least two axes.
use shaped::{Rank1, Tensor};

fn main() {
    let v: Tensor<Rank1<3>> = Tensor::zeros();
    let _ = v.transpose();
}
