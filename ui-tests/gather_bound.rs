// gather's indices are checked against the size of the axis they pick along: indices below 5
// cannot pick along an axis of 4.
use shaped::{Axis, Const, IndexTensor, Rank2, Tensor};

fn main() {
    let x: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let index = IndexTensor::<Rank2<2, 1>, Const<5>>::from_slice(&[4, 0]).unwrap();
    let _ = x.gather(Axis::<1>, &index);
}
