// A frozen field is not put on the tape, so its type cannot use the tracking parameter.
use shaped::nn::Linear;
use shaped::{Module, NoTape, Tracking};

#[derive(Module)]
struct Net<T: Tracking<f32> = NoTape> {
    #[module(frozen)]
    body: Linear<2, 2, f32, T>,
    head: Linear<2, 1, f32, T>,
}

fn main() {}
