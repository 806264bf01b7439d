// With a run-time number of rows, the static last axes of an inner product must still agree.
use shaped::{Const, Rank2, Tensor};

fn main() {
    let a: Tensor<(usize, Const<3>)> = Tensor::zeros_with((6, Const));
    let b: Tensor<Rank2<5, 4>> = Tensor::zeros();
    let _ = a.inner(&b);
}
