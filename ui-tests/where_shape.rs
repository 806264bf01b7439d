// `where` (`Mask::select`) and `masked_fill` need the mask and the operands to have the same shape.
use shaped::{Mask, Rank1, Rank2, Tensor};

fn main() {
    let a: Tensor<Rank2<2, 3>> = Tensor::zeros();
    let b: Tensor<Rank2<2, 4>> = Tensor::zeros();
    let m: Mask<Rank2<2, 3>> = a.gt(0.0);
    let _ = m.select(&a, &b);
    let row: Mask<Rank1<3>> = Mask::from([true, false, true]);
    let _ = a.masked_fill(&row, 0.0);
}
