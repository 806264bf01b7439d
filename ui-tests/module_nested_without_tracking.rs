// A nested model that is not generic over its tracking, in a trainable model: its parameters would
// silently get zero gradients, so the field does not compile unless marked `#[module(frozen)]`.
use shaped::nn::Linear;
use shaped::{Module, NoTape, Tracking};

#[derive(Module, Clone)]
struct Inner {
    l: Linear<2, 2, f64>,
}

#[derive(Module)]
struct Outer<T: Tracking<f64> = NoTape> {
    first: Linear<2, 2, f64, T>,
    inner: Inner,
}

fn main() {}
