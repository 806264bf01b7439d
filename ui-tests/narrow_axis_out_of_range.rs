// A range along an axis that does not exist: a matrix has axes 0 and 1.
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let _ = a.narrow::<2, 0, 1>();
}
