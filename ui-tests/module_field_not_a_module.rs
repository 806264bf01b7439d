// A model's fields are tensors or modules; a field without parameters is marked #[module(skip)].
use shaped::nn::{Linear, ReLU};
use shaped::Module;

#[derive(Module)]
struct Mlp {
    l1: Linear<4, 4>,
    act: ReLU,
}

fn main() {}
