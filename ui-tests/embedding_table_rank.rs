// An embedding table is a matrix [V, D]: a rank-3 tensor is not one.
use shaped::{Const, Indices, Rank3, Tensor};

fn main() {
    let table: Tensor<Rank3<4, 2, 2>> = Tensor::zeros();
    let ids = Indices::<usize, Const<4>>::from_slice(&[1, 2]).unwrap();
    let _ = table.embedding(&ids);
}
