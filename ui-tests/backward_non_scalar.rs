// `backward` starts from a scalar loss; a vector needs `backward_with` or a reduction first.
use shaped::{Tape, Tensor};

fn main() {
    let tape = Tape::new();
    let x = tape.watch(&Tensor::from([1.0, 2.0, 3.0]));
    let y = x.exp();
    let _ = y.backward();
}
