// Off the gathered axis, the index is no larger than the input: 3 rows of indices cannot pick
// from a tensor of 2 rows (a const assertion: reported by `cargo build`).
use shaped::{Axis, Const, IndexTensor, Rank2, Tensor};

fn main() {
    let x: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let index = IndexTensor::<Rank2<3, 1>, Const<4>>::from_slice(&[0, 1, 2]).unwrap();
    let _ = x.gather(Axis::<1>, &index);
}
