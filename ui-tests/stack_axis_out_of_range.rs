// A new axis goes before an axis of the tensors or last: vectors stack along a new axis 0 or 1, not 2.
use shaped::{Axis, Rank1, Tensor};

fn main() {
    let a: Tensor<Rank1<3>> = Tensor::zeros();
    let _ = Tensor::stack(Axis::<2>, [&a, &a]);
}
