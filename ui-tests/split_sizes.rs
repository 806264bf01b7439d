// The two parts of a split must add up to the axis: 1 + 1 rows are not 3 (a const assertion: reported
// by `cargo build`).
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<3, 4>> = Tensor::zeros();
    let _ = a.split::<0, 1, 1>();
}
