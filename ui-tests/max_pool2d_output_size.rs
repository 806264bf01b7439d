// A pooling's output size is checked when the crate builds: 2 x 2 windows at stride 2 (PyTorch's
// default stride) make a 7 x 7 image 3 x 3, not 4 x 4 (the last row and column are left out).
use shaped::{Pool, Rank4, Tensor};

fn main() {
    let x: Tensor<Rank4<1, 16, 7, 7>> = Tensor::zeros();
    let _: Tensor<Rank4<1, 16, 4, 4>> = x.max_pool2d(Pool::<2>);
}
