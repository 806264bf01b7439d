// The output type of a concat names the joined size: 3 + 4 columns are 7, not 8 (a const assertion:
// reported by `cargo build`).
use shaped::{Axis, Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let _: Tensor<Rank2<2, 8>> = a.concat(Axis::<1>, &b);
}
