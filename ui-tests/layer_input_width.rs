// A layer must be fed inputs of its width: here a 5-wide output reaches a layer that takes 4.
use shaped::nn::Linear;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Rank2, Tensor};

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let l1: Linear<3, 5> = Linear::new(&mut rng);
    let l2: Linear<4, 2> = Linear::new(&mut rng);
    let x: Tensor<Rank2<8, 3>> = Tensor::zeros();
    let _ = l2.forward(l1.forward(x));
}
