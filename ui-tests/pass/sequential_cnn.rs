// CNNs as tuples of layers: the convolutions, the poolings and Flatten in an `Out` with the output
// shape of one sample, next to ReLU, Softmax and Linear. One model takes a static and a run-time
// batch, trains with typed gradients, and can be a layer of a derived model.
use shaped::nn::{AvgPool2d, Conv1d, Conv2d, Flatten, Forward, Linear, MaxPool2d, Out, ReLU, Softmax};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Module, NoTape, Rank1, Rank2, Rank3, Rank4, Tensor, Tracking};

// conv 3x3 padding 1 (3 -> 8, 16 x 16 kept), max pool 2 (8 x 8), conv 3x3 (8 -> 16, 6 x 6),
// average pool 3 (2 x 2), flatten (64), linear 64 -> 10.
type Cnn<T = NoTape> = (
    Out<Conv2d<3, 8, 3, f32, T, 1, 1>, Rank3<8, 16, 16>>,
    ReLU,
    Out<MaxPool2d<2>, Rank3<8, 8, 8>>,
    Out<Conv2d<8, 16, 3, f32, T>, Rank3<16, 6, 6>>,
    ReLU,
    Out<AvgPool2d<3>, Rank3<16, 2, 2>>,
    Out<Flatten, Rank1<64>>,
    Linear<64, 10, f32, T>,
);

// The tuple as a field of a derived model, generic over its tracking.
#[derive(Module)]
struct Classifier<T: Tracking<f32> = NoTape> {
    cnn: Cnn<T>,
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let cnn: Cnn = (
        Out::new(Conv2d::new(&mut rng)),
        ReLU,
        Out::new(MaxPool2d),
        Out::new(Conv2d::without_bias(&mut rng)),
        ReLU,
        Out::new(AvgPool2d),
        Out::new(Flatten),
        Linear::new(&mut rng),
    );
    assert_eq!(cnn.param_count(), 8 * 3 * 9 + 8 + 16 * 8 * 9 + 64 * 10 + 10);

    let x: Tensor<Rank4<4, 3, 16, 16>> = Tensor::uniform(&mut rng, 0.0, 1.0);
    let y: Tensor<Rank2<4, 10>> = cnn.forward(x.clone());
    let (_, g) = cnn.value_and_grad(|m| m.forward(x.clone()).sum());
    let _: Tensor<Rank4<8, 3, 3, 3>> = g.0.weight;
    assert!(g.3.bias.is_none());

    let n = 5;
    let xr: Tensor<(usize, Const<3>, Const<16>, Const<16>)> = Tensor::zeros_with((n, Const, Const, Const));
    let yr: Tensor<(usize, Const<10>)> = cnn.forward(xr);
    assert_eq!(yr.shape(), [n, 10]);

    let model = Classifier { cnn };
    let (_, g): (f32, ClassifierGrads) = model.value_and_grad(|m| m.cnn.forward(x.clone()).sum());
    let _: Tensor<Rank2<10, 64>> = g.cnn.7.weight;
    let _ = y;

    // conv1d (stride 2, padding 1, dilation 2: 9 -> 4), softmax over the channels, flatten.
    let signal: (Out<Conv1d<2, 4, 3, f32, NoTape, 2, 1, 2>, Rank2<4, 4>>, Softmax<1>, Out<Flatten, Rank1<16>>) =
        (Out::new(Conv1d::zeros()), Softmax, Out::new(Flatten));
    let s: Tensor<Rank2<1, 16>> = signal.forward(Tensor::<Rank3<1, 2, 9>>::ones());
    assert_eq!(s.to_vec(), vec![0.25; 16]);
}
