// numpy's broadcasting aligns shapes on their last axes: `[2, 3]` and `[2]` do not broadcast,
// and a static 4 does not meet a 3, even beside a run-time batch.
use shaped::{Const, Rank1, Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let v: Tensor<Rank1<2>> = Tensor::zeros();
    let _ = &a * &v;

    let batch: Tensor<(usize, Const<3>)> = Tensor::zeros_with((5, Const));
    let w: Tensor<Rank1<4>> = Tensor::zeros();
    let _ = batch - w;
}
