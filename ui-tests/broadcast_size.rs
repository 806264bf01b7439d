// `broadcast_to` needs each source dimension to equal the target's or be 1 (a const assertion:
// reported by `cargo build`).
use shaped::{Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let _ = a.broadcast_to::<Rank2<4, 3>>();
}
