// An optimizer takes the gradients of its own model's type only.
use shaped::nn::Linear;
use shaped::optim::{Optimizer, Sgd};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::Module;

#[derive(Module)]
struct Small {
    l1: Linear<4, 4>,
}

#[derive(Module)]
struct Other {
    l1: Linear<4, 4>,
    l2: Linear<4, 2>,
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut small = Small { l1: Linear::new(&mut rng) };
    let other = Other { l1: Linear::new(&mut rng), l2: Linear::new(&mut rng) };
    let mut opt = Sgd::new(&small, 0.1);
    let grads: OtherGrads = other.zeros_like();
    opt.step(&mut small, &grads);
}
