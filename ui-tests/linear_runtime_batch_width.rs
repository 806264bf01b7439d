// A layer must be fed inputs of its width, whatever the number of rows: 5-wide rows reach a layer
// that takes 4.
use shaped::nn::Linear;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Tensor};

fn main() {
    let layer: Linear<4, 2> = Linear::new(&mut StdRng::seed_from_u64(0));
    let x: Tensor<(usize, Const<5>)> = Tensor::zeros_with((7, Const));
    let _ = layer.forward(x);
}
