// `broadcast_to` can add leading axes but never remove one: the target needs at least as many axes.
use shaped::{Rank2, Rank3, Tensor};

fn main() {
    let a: Tensor<Rank3<1, 2, 3>> = Tensor::zeros();
    let _ = a.broadcast_to::<Rank2<2, 3>>();
}
