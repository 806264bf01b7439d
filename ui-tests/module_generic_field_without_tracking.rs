// The check also covers a field whose type uses the model's other generic parameters but not `T`.
use shaped::nn::Linear;
use shaped::{Element, Module, NoTape, Tracking};

#[derive(Module)]
struct Head<const N: usize, E: Element, T: Tracking<E> = NoTape> {
    body: Linear<N, N, E>,
    out: Linear<N, 1, E, T>,
}

fn main() {}
