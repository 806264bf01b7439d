// Logits and labels must have the same batch: between static batches the sizes are compared by the
// compiler, so 4 rows of logits with 3 labels do not build (a run-time batch is checked when the
// loss runs).
use shaped::nn::{Labels, cross_entropy};
use shaped::{Const, Rank2, Tensor};

fn main() {
    let logits: Tensor<Rank2<4, 10>> = Tensor::zeros();
    let labels: Labels<Const<3>, 10> = Labels::new([0, 1, 2]).unwrap();
    let _ = cross_entropy(&logits, &labels);
}
