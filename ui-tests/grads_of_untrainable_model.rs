// A model that is not generic over its tracking has nothing on the tape, so it has no gradients to
// read: asking for them does not compile (rather than reading zeros).
use shaped::nn::Linear;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Module, Rank1, Tape, Tensor};

#[derive(Module)]
struct Net {
    l: Linear<2, 1>,
}

fn main() {
    let net = Net { l: Linear::new(&mut StdRng::seed_from_u64(0)) };
    let tape = Tape::new();
    let loss = net.l.forward(tape.input(&Tensor::<Rank1<2>>::ones())).sum();
    let _ = net.grads(&loss.backward());
}
