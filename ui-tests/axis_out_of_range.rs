// A reduction axis must exist: a rank-3 tensor has axes 0, 1 and 2.
use shaped::{Rank3, Tensor};

fn main() {
    let a: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let _ = a.sum_axis::<3>();
}
