// With a run-time number of rows, the static columns must still match to join the rows: 3 columns
// and 4 do not stack as rows.
use shaped::{Axis, Const, Tensor};

fn main() {
    let a: Tensor<(usize, Const<3>)> = Tensor::zeros_with((2, Const));
    let b: Tensor<(usize, Const<4>)> = Tensor::zeros_with((5, Const));
    let _ = a.concat(Axis::<0>, &b);
}
