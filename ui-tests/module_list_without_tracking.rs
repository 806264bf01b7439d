// In a trainable model, a list of blocks whose element type does not pass on the tracking
// parameter `T` holds parameters that would silently get no gradient: it does not compile unless
// the field is marked `#[module(frozen)]`, as a single layer would not.
use shaped::nn::Linear;
use shaped::{Module, NoTape, Tracking};

#[derive(Module)]
struct Deep<T: Tracking<f64> = NoTape> {
    head: Linear<2, 1, f64, T>,
    blocks: [Linear<2, 2, f64>; 3],
    more: Vec<Linear<2, 2, f64>>,
}

fn main() {}
