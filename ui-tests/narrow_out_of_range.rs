// A range must fit in its axis: columns 3..5 of a 4-column matrix do not exist (a const assertion:
// reported by `cargo build`).
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let _ = a.narrow::<1, 3, 2>();
}
