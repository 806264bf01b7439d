// BatchNorm1d on a batch `[B, C]` and on sequences `[B, C, L]`, written once for any batch size and
// length, in a model with `#[derive(Module)]`.
use shaped::nn::BatchNorm1d;
use shaped::{Const, Dim, Module, NoTape, Rank3, Tensor, Tracking};

#[derive(Module)]
struct Seq<T: Tracking<f32> = NoTape> {
    bn: BatchNorm1d<4, f32, T>,
}

impl<T: Tracking<f32>> Seq<T> {
    fn forward<B: Dim, L: Dim>(&self, x: Tensor<(B, Const<4>, L)>) -> Tensor<(B, Const<4>, L), f32, T> {
        self.bn.forward(x)
    }
}

fn main() {
    let model = Seq { bn: BatchNorm1d::new() };
    let x: Tensor<Rank3<2, 4, 3>> = Tensor::ones();
    let y = model.forward(x.clone().into_dims());
    assert_eq!(y.shape(), [2, 4, 3]);
    let rt: Tensor<(usize, Const<4>, usize)> = Tensor::from_vec_with((3, Const, 5), vec![1.0; 60]).unwrap();
    assert_eq!(model.forward(rt).shape(), [3, 4, 5]);
    let rows: Tensor<(usize, Const<4>)> = Tensor::zeros_with((2, Const));
    assert_eq!(model.bn.forward(rows).shape(), [2, 4]);
    assert_eq!(model.bn.num_batches_tracked(), 3);
}
