// `backward` needs a value recorded on a tape: here nothing was watched, so nothing was recorded.
use shaped::Tensor;

fn main() {
    let x = Tensor::from([1.0, 2.0, 3.0]);
    let loss = (x * 2.0).sum();
    let _ = loss.backward();
}
