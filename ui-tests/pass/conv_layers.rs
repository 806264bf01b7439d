// A CNN of layers with `#[derive(Module)]`: Conv2d, ReLU, MaxPool2d, AvgPool2d, Flatten and Linear,
// written once for any batch; its typed gradients on a static batch, and a run on a run-time one.
// Conv1d builds with stride, padding and dilation.
use shaped::nn::{AvgPool2d, Conv1d, Conv2d, Flatten, Linear, MaxPool2d};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Dim, Module, NoTape, Rank3, Rank4, Tape, Tensor, Tracking};

#[derive(Module)]
struct Cnn<T: Tracking<f32> = NoTape> {
    conv1: Conv2d<3, 8, 3, f32, T, 1, 1>,
    conv2: Conv2d<8, 16, 3, f32, T>,
    fc: Linear<64, 10, f32, T>,
}

impl<T: Tracking<f32>> Cnn<T> {
    fn forward<B: Dim>(&self, x: Tensor<(B, Const<3>, Const<16>, Const<16>)>) -> Tensor<(B, Const<10>), f32, T> {
        let h: Tensor<(B, Const<8>, Const<16>, Const<16>), f32, T> = self.conv1.forward(x);
        let h: Tensor<(B, Const<8>, Const<8>, Const<8>), f32, T> = MaxPool2d::<2>.forward(h.relu());
        // no padding: 8 - 3 + 1 = 6
        let h: Tensor<(B, Const<16>, Const<6>, Const<6>), f32, T> = self.conv2.forward(h);
        let h: Tensor<(B, Const<16>, Const<2>, Const<2>), f32, T> = AvgPool2d::<3>.forward(h.relu());
        self.fc.forward(Flatten.forward(h))
    }
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Cnn { conv1: Conv2d::new(&mut rng), conv2: Conv2d::without_bias(&mut rng), fc: Linear::new(&mut rng) };
    assert_eq!(model.param_count(), 8 * 3 * 9 + 8 + 16 * 8 * 9 + 64 * 10 + 10);
    let x: Tensor<Rank4<4, 3, 16, 16>> = Tensor::uniform(&mut rng, 0.0, 1.0);
    let (_, g): (f32, CnnGrads) = model.value_and_grad(|m| m.forward(x.clone().into_dims()).sum());
    let _: Tensor<Rank4<8, 3, 3, 3>> = g.conv1.weight;
    assert!(g.conv2.bias.is_none());
    let n = 5;
    let x: Tensor<(usize, Const<3>, Const<16>, Const<16>)> = Tensor::zeros_with((n, Const, Const, Const));
    assert_eq!(model.forward(x).shape(), [n, 10]);

    let layer: Conv1d<2, 4, 3, f32, NoTape, 2, 1, 2> = Conv1d::zeros();
    let tape = Tape::new();
    let y: Tensor<Rank3<1, 4, 4>, f32, Tape<f32>> = tape.watch(&layer).forward(Tensor::<Rank3<1, 2, 9>>::ones());
    assert_eq!(y.shape(), [1, 4, 4]);
}
