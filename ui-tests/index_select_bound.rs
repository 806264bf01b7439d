// Indices checked against 5 rows cannot pick rows of a 4-row matrix.
use shaped::{Axis, Const, Indices, Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<4, 3>> = Tensor::zeros();
    let rows = Indices::<Const<2>, Const<5>>::new([4, 0]).unwrap();
    let _ = a.index_select(Axis::<0>, &rows);
}
