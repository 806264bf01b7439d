// gather's index has the rank of the tensor it gathers from: a rank-2 index cannot pick from a
// rank-3 tensor.
use shaped::{Axis, Const, IndexTensor, Rank2, Rank3, Tensor};

fn main() {
    let x: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let index = IndexTensor::<Rank2<2, 3>, Const<4>>::from_slice(&[0; 6]).unwrap();
    let _ = x.gather(Axis::<2>, &index);
}
