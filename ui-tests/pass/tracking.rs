// A model generic over its tracking: watched on a tape, every op on its parameters records (a
// transpose, a broadcast, a penalty on a parameter alone); stored, it records nothing.
use shaped::{Module, NoTape, Rank1, Rank2, Tape, Tensor, Tracking};

#[derive(Module)]
struct Affine<T: Tracking<f64> = NoTape> {
    w: Tensor<Rank2<2, 3>, f64, T>,
    b: Tensor<Rank1<2>, f64, T>,
}

impl<T: Tracking<f64>> Affine<T> {
    fn forward(&self, x: Tensor<Rank2<4, 3>, f64>) -> Tensor<Rank2<4, 2>, f64, T> {
        x.matmul(&self.w.transpose()) + self.b.broadcast_to::<Rank2<4, 2>>()
    }
}

fn main() {
    let model = Affine { w: Tensor::ones(), b: Tensor::zeros() };
    let x: Tensor<Rank2<4, 3>, f64> = Tensor::ones();
    // loss = sum(x W^T + b) + sum(W^2): d/dW = 4 + 2W = 6, d/db = 4
    let (loss, grads) = model.value_and_grad(|m| m.forward(x.clone()).sum() + m.w.powi(2).sum());
    assert_eq!(loss, 24.0 + 6.0);
    assert_eq!(grads.w.to_array(), [[6.0; 3]; 2]);
    assert_eq!(grads.b.to_vec(), vec![4.0, 4.0]);
    let tape = Tape::new();
    let m = tape.watch(&model);
    assert!(model.unused_params(&m.forward(x.clone()).sum().backward()).is_empty());
    let _: Tensor<Rank2<4, 2>, f64> = model.forward(x);
}
