// `into_static` relabels a shape whose every dimension is a `Const`; a `usize` dimension is known only
// at run time, so the conversion must check it (`try_into_static`).
use shaped::{Const, Tensor};

fn main() {
    let x: Tensor<(usize, Const<3>)> = Tensor::zeros_with((2, Const));
    let _ = x.into_static();
}
