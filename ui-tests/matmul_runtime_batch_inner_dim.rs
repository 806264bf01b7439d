// With a run-time number of rows, the static inner dimensions of a product must still agree: a row
// of 3 cannot meet a weight of 4 rows.
use shaped::{Const, Rank2, Tensor};

fn main() {
    let rows = 10;
    let x: Tensor<(usize, Const<3>)> = Tensor::zeros_with((rows, Const));
    let w: Tensor<Rank2<4, 5>> = Tensor::zeros();
    let _ = x.matmul(&w);
}
