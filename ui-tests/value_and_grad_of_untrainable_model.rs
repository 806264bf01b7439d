// `value_and_grad` on a model that is not generic over its tracking: the error says why it cannot
// be trained (rather than "no method named `value_and_grad`", with a hint to call it on a field).
use shaped::nn::Linear;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Module, Rank2, Tensor};

#[derive(Module)]
struct Net {
    l1: Linear<4, 2>,
}

fn main() {
    let net = Net { l1: Linear::new(&mut StdRng::seed_from_u64(0)) };
    let x: Tensor<Rank2<3, 4>> = Tensor::ones();
    let _ = net.value_and_grad(|m| m.l1.forward(x.clone()).sum());
}
