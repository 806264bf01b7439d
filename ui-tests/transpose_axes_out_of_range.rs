// `transpose_axes::<A, B>()` needs both axes to exist: a rank-3 tensor has axes 0, 1 and 2.
use shaped::{Const, Rank3, Tensor};

fn main() {
    let a: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let _ = a.transpose_axes::<0, 3>();
    let rows = 5;
    let b: Tensor<(usize, Const<3>)> = Tensor::zeros_with((rows, Const));
    let _ = b.transpose_axes::<2, 1>();
}
