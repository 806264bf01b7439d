// A reduction over several axes needs each axis to exist, listed once, smallest first: a rank-3
// tensor has axes 0, 1 and 2.
use shaped::{Axes2, Rank3, Tensor};

fn main() {
    let x: Tensor<Rank3<2, 3, 4>> = Tensor::zeros();
    let _ = x.sum_axes::<Axes2<0, 3>>();
    let _ = x.mean_axes::<Axes2<2, 0>>();
}
