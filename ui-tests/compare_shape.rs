// A comparison needs the other operand to have the same shape (or to be a scalar).
use shaped::{Const, Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<3, 2>> = Tensor::zeros();
    let _ = a.lt(&b);
    let rows = 4;
    let x: Tensor<(usize, Const<3>)> = Tensor::zeros_with((rows, Const));
    let y: Tensor<(usize, Const<4>)> = Tensor::zeros_with((rows, Const));
    let _ = x.eq(&y);
}
