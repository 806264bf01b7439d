// Tensors joined along axis 1 must have the same number of rows: 2 rows and 3 rows do not join.
use shaped::{Axis, Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<3, 4>> = Tensor::zeros();
    let _: Tensor<Rank2<2, 7>> = a.concat(Axis::<1>, &b);
}
