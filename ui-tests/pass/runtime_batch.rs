// A model written once for any batch dimension `B: Dim`: trained on static batches of 4 and run on a
// run-time number of rows, with the same weights and the same gradient struct.
use shaped::nn::{Labels, Linear, cross_entropy, predict};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Dim, Module, NoTape, Rank2, Tensor, Tracking};

#[derive(Module)]
struct Mlp<T: Tracking<f32> = NoTape> {
    l1: Linear<3, 8, f32, T>,
    l2: Linear<8, 2, f32, T>,
}

impl<T: Tracking<f32>> Mlp<T> {
    fn forward<B: Dim>(&self, x: Tensor<(B, Const<3>)>) -> Tensor<(B, Const<2>), f32, T> {
        self.l2.forward(self.l1.forward(x).relu())
    }
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Mlp { l1: Linear::new(&mut rng), l2: Linear::new(&mut rng) };
    // A static batch: the type says 4 rows.
    let x: Tensor<Rank2<4, 3>> = Tensor::from_fn(|[i, j]| (i + j) as f32 / 4.0);
    let labels: Labels<Const<4>, 2> = Labels::new([0, 1, 0, 1]).unwrap();
    let (_, grads): (f32, MlpGrads) =
        model.value_and_grad(|m| cross_entropy(&m.forward(x.clone().into_dims()), &labels));
    let _: &Tensor<Rank2<8, 3>> = &grads.l1.weight;
    // A run-time batch: any number of rows, compiled once.
    for n in [1, 5, 9] {
        let x: Tensor<(usize, Const<3>)> = Tensor::zeros_with((n, Const));
        let logits = model.forward(x);
        assert_eq!(logits.shape(), [n, 2]);
        assert_eq!(predict(&logits).len(), n);
    }
}
