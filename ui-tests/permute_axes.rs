// `permute::<P>()` needs `P` to name every axis of the tensor exactly once.
use shaped::{Axes3, Rank2, Rank3, Tensor};

fn main() {
    let a: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let _ = a.permute::<Axes3<0, 0, 1>>();
    let m: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let _ = m.permute::<Axes3<2, 0, 1>>();
}
