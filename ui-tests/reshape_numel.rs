// A reshape must keep the number of elements (a const assertion: reported by `cargo build`).
use shaped::{Rank2, Rank3, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let _ = a.reshape::<Rank3<2, 2, 2>>();
}
