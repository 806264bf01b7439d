// A small CNN for 8 x 8 digits, written once for any batch: convolution, ReLU, max pooling, a linear
// layer; trained a step on a static batch and run on a run-time one. conv1d, avg_pool2d and the
// specs with stride, padding and dilation build too (their output sizes are const assertions).
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{Const, Conv, Dim, NoBias, Pool, Rank1, Rank2, Rank3, Rank4, Tape, Tensor, Tracking};

struct Cnn<T: Tracking<f32>> {
    conv: Tensor<Rank4<8, 1, 3, 3>, f32, T>,
    bias: Tensor<Rank1<8>, f32, T>,
    fc: Tensor<Rank2<10, 128>, f32, T>,
}

impl<T: Tracking<f32>> Cnn<T> {
    fn forward<B: Dim>(&self, x: &Tensor<(B, Const<1>, Const<8>, Const<8>)>) -> Tensor<(B, Const<10>), f32, T> {
        let h: Tensor<(B, Const<8>, Const<8>, Const<8>), f32, T> =
            x.conv2d(&self.conv, &self.bias, Conv::<1, 1>);
        let p: Tensor<(B, Const<8>, Const<4>, Const<4>), f32, T> = h.relu().max_pool2d(Pool::<2>);
        let flat = p.reshape_to((p.typed_shape().0, Const::<128>));
        flat.linear(&self.fc, NoBias)
    }
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let model = Cnn {
        conv: Tensor::uniform(&mut rng, -0.3, 0.3),
        bias: Tensor::zeros(),
        fc: Tensor::uniform(&mut rng, -0.1, 0.1),
    };
    // One step's gradients on a static batch of 4.
    let x: Tensor<Rank4<4, 1, 8, 8>> = Tensor::uniform(&mut rng, 0.0, 1.0);
    let tape = Tape::new();
    let taped = Cnn { conv: tape.watch(&model.conv), bias: tape.watch(&model.bias), fc: tape.watch(&model.fc) };
    let grads = taped.forward(&x.clone().into_dims()).powi(2).sum().backward();
    let _: Tensor<Rank4<8, 1, 3, 3>> = grads.get(&taped.conv);
    let _: Tensor<Rank1<8>> = grads.get(&taped.bias);
    // Any number of images at run time.
    for n in [1, 7] {
        let x: Tensor<(usize, Const<1>, Const<8>, Const<8>)> = Tensor::zeros_with((n, Const, Const, Const));
        assert_eq!(model.forward(&x).shape(), [n, 10]);
    }

    // The other ops and specs.
    let s: Tensor<Rank3<2, 3, 16>> = Tensor::ones();
    let k: Tensor<Rank3<4, 3, 5>> = Tensor::ones();
    let y: Tensor<Rank3<2, 4, 5>> = s.conv1d(&k, NoBias, Conv::<2, 1, 2>);
    assert_eq!(y.shape(), [2, 4, 5]);
    let img: Tensor<Rank4<1, 2, 9, 9>> = Tensor::ones();
    let a: Tensor<Rank4<1, 2, 5, 5>> = img.avg_pool2d(Pool::<3, 2, 1>);
    assert_eq!(a[[0, 0, 2, 2]], 1.0);
    let w: Tensor<Rank4<3, 2, 3, 3>> = Tensor::ones();
    let d: Tensor<Rank4<1, 3, 5, 5>> = img.conv2d(&w, NoBias, Conv::<1, 0, 2>);
    assert_eq!(d[[0, 0, 0, 0]], 18.0);
}
