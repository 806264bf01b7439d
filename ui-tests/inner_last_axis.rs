// inner contracts the last axis of both operands: their last dimensions must be equal.
use shaped::{Rank1, Rank3, Tensor};

fn main() {
    let a: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let b: Tensor<Rank1<5>> = Tensor::zeros();
    let _ = a.inner(&b);
}
