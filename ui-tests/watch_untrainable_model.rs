// A model whose fields do not take the tracking parameter cannot be put on a tape.
use shaped::nn::Linear;
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Module, Tape};

#[derive(Module)]
struct Frozen {
    layer: Linear<4, 2>,
}

fn main() {
    let model = Frozen { layer: Linear::new(&mut StdRng::seed_from_u64(0)) };
    let tape = Tape::<f32>::new();
    let _ = tape.watch(&model);
}
