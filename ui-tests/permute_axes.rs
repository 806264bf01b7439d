// `permute::<P>()` needs `P` to name every axis of the tensor exactly once.
use shaped::{Axes3, Axes6, Rank2, Rank3, Rank6, Tensor};

fn main() {
    let a: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let _ = a.permute::<Axes3<0, 0, 1>>();
    let m: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let _ = m.permute::<Axes3<2, 0, 1>>();
    let h: Tensor<Rank6<1, 2, 3, 4, 5, 6>> = Tensor::zeros();
    let _ = h.permute::<Axes6<5, 4, 3, 2, 1, 1>>();
    let _ = h.permute::<Axes6<0, 1, 2, 3, 4, 6>>();
}
