// argmax along an axis that does not exist: a matrix has axes 0 and 1.
use shaped::{Const, Rank2, Tensor};

fn main() {
    let x: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let _ = x.argmax_axis::<2>();
    let rows: Tensor<(usize, Const<3>)> = Tensor::zeros_with((4, Const));
    let _ = rows.argmin_axis::<2>();
}
