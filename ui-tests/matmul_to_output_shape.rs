// matmul_to's output shape is written by the caller and checked when the program is built (a const
// assertion: reported by `cargo build`): (2, 1, 3, 4) x (3, 4, 2) is (2, 3, 3, 2), not (2, 3, 3, 3).
use shaped::{Rank3, Rank4, Tensor};

fn main() {
    let a: Tensor<Rank4<2, 1, 3, 4>> = Tensor::zeros();
    let b: Tensor<Rank3<3, 4, 2>> = Tensor::zeros();
    let _: Tensor<Rank4<2, 3, 3, 3>> = a.matmul_to(&b);
}
