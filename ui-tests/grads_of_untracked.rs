// A tensor that was never watched has no gradient to read: `grads.get` takes the watched tensor.
use shaped::{Tape, Tensor};

fn main() {
    let w = Tensor::from([1.0, 2.0]);
    let x = Tensor::from([3.0, 4.0]);
    let tape = Tape::new();
    let loss = (tape.input(&x) * &w).sum();
    let grads = loss.backward();
    let _ = grads.get(&w);
}
