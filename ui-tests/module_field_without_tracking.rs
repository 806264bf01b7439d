// In a trainable model, a tensor field whose type does not pass on the tracking parameter `T`
// would not go on the tape and would silently get a zero gradient: it does not compile unless the
// field is marked `#[module(frozen)]`.
use shaped::nn::Linear;
use shaped::{Module, NoTape, Rank1, Tensor, Tracking};

#[derive(Module)]
struct Scaled<T: Tracking<f64> = NoTape> {
    l: Linear<2, 2, f64, T>,
    scale: Tensor<Rank1<2>, f64>,
}

fn main() {}
