//! The convolution layers against PyTorch's with the same weights: `Conv2d`, `MaxPool2d`,
//! `AvgPool2d`, `Flatten` and `Linear` in a small CNN (on a static and on a run-time batch), `Conv1d`
//! with stride, padding and dilation, and two poolings in a row. Values and the gradients of the input
//! and of every parameter, recorded in float64 by `scripts/reference_conv_layers.py`
//! (`tests/data/reference/conv_layers.txt`), whose parameters are named as in the model's state_dict.

use crate::reference::{self, Case};
use shaped::nn::{AvgPool2d, Conv1d, Conv2d, Flatten, Linear, MaxPool2d};
use shaped::{Const, Dim, Module, NoTape, Rank3, Rank4, Tape, Tensor, Tracking};

/// How far from PyTorch's values the layers may be, relative: sums of products in another order.
const RTOL: f64 = 1e-12;

/// The script's `Cnn`, with its field names.
#[derive(Module)]
struct Cnn<T: Tracking<f64> = NoTape> {
    conv1: Conv2d<2, 3, 3, f64, T, 1, 1>,
    conv2: Conv2d<3, 4, 2, f64, T, 1, 1>,
    fc: Linear<16, 5, f64, T>,
}

impl Cnn {
    /// The model with the case's parameters.
    fn from_case(c: &Case) -> Self {
        Cnn {
            conv1: Conv2d::from_weights(c.input("conv1.weight"), Some(c.input("conv1.bias"))),
            conv2: Conv2d::from_weights(c.input("conv2.weight"), None),
            fc: Linear::from_weights(c.input("fc.weight"), Some(c.input("fc.bias"))),
        }
    }
}

impl<T: Tracking<f64>> Cnn<T> {
    fn forward<B: Dim>(
        &self,
        x: Tensor<(B, Const<2>, Const<6>, Const<6>), f64>,
    ) -> Tensor<(B, Const<5>), f64, T> {
        let h: Tensor<(B, Const<3>, Const<6>, Const<6>), f64, T> = self.conv1.forward(x);
        let h: Tensor<(B, Const<3>, Const<3>, Const<3>), f64, T> = MaxPool2d::<2>.forward(h.relu());
        let h: Tensor<(B, Const<4>, Const<4>, Const<4>), f64, T> = self.conv2.forward(h);
        let h: Tensor<(B, Const<4>, Const<2>, Const<2>), f64, T> = AvgPool2d::<2>.forward(h);
        let h: Tensor<(B, Const<16>), f64, T> = Flatten.forward(h);
        self.fc.forward(h)
    }
}

/// The CNN on the case's input seen with the batch `x` gives (static or run-time): output, and the
/// gradients of the input and of every parameter, read from the typed gradients of the model.
fn check_cnn<B: Dim>(c: &Case, x: Tensor<(B, Const<2>, Const<6>, Const<6>), f64>) {
    let model = Cnn::from_case(c);
    let tape = Tape::new();
    let (xt, m) = (tape.watch(&x), tape.watch(&model));
    // The input on the tape too, for its gradient: the forward takes a constant input, so the
    // layers are called here on the watched one.
    let h: Tensor<(B, Const<3>, Const<6>, Const<6>), f64, Tape<f64>> = m.conv1.forward(xt.clone());
    let h: Tensor<(B, Const<3>, Const<3>, Const<3>), f64, Tape<f64>> =
        MaxPool2d::<2>.forward(h.relu());
    let h: Tensor<(B, Const<4>, Const<4>, Const<4>), f64, Tape<f64>> = m.conv2.forward(h);
    let h: Tensor<(B, Const<4>, Const<2>, Const<2>), f64, Tape<f64>> = AvgPool2d::<2>.forward(h);
    let h: Tensor<(B, Const<16>), f64, Tape<f64>> = Flatten.forward(h);
    let y = m.fc.forward(h);
    c.check_out(&y, RTOL);
    // The model's own forward (the input a constant) computes the same.
    assert_eq!(model.forward(x).as_slice(), y.as_slice());
    let up: Tensor<(B, Const<5>), f64> = c.up();
    let grads = (y * &up).sum().backward();
    c.check_grad("x", &grads, &xt, RTOL);
    c.check_grad("conv1.weight", &grads, &m.conv1.weight, RTOL);
    c.check_grad("conv1.bias", &grads, m.conv1.bias.as_ref().unwrap(), RTOL);
    c.check_grad("conv2.weight", &grads, &m.conv2.weight, RTOL);
    c.check_grad("fc.weight", &grads, &m.fc.weight, RTOL);
    c.check_grad("fc.bias", &grads, m.fc.bias.as_ref().unwrap(), RTOL);
    // The typed gradients hold the same values, under PyTorch's parameter names.
    let g: CnnGrads = model.grads(&grads);
    assert_eq!(g.conv1.weight, grads.get(&m.conv1.weight));
    assert!(g.conv2.bias.is_none());
    let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "conv1.weight",
            "conv1.bias",
            "conv2.weight",
            "fc.weight",
            "fc.bias"
        ]
    );
}

#[test]
fn layers_match_pytorch() {
    let cases = reference::load("conv_layers");

    let c = &cases["cnn"];
    check_cnn::<Const<3>>(c, c.input("x"));
    check_cnn::<usize>(c, c.input("x"));

    let c = &cases["conv1d"];
    let layer: Conv1d<2, 3, 3, f64, NoTape, 2, 1, 2> =
        Conv1d::from_weights(c.input("weight"), Some(c.input("bias")));
    let tape = Tape::new();
    let (x, l) = (
        tape.watch(&c.input::<Rank3<2, 2, 9>>("x")),
        tape.watch(&layer),
    );
    // (9 + 2 - 2 (3 - 1) - 1) / 2 + 1 = 4
    let y: Tensor<Rank3<2, 3, 4>, f64, Tape<f64>> = l.forward(x.clone());
    c.check_out(&y, RTOL);
    let grads = (y * &c.up::<Rank3<2, 3, 4>>()).sum().backward();
    c.check_grad("x", &grads, &x, RTOL);
    c.check_grad("weight", &grads, &l.weight, RTOL);
    c.check_grad("bias", &grads, l.bias.as_ref().unwrap(), RTOL);

    let c = &cases["pools"];
    let tape = Tape::new();
    let x = tape.watch(&c.input::<Rank4<2, 3, 7, 7>>("input"));
    // max pool 3, stride 2, padding 1: 7 -> 4; average pool 2, stride 1: 4 -> 3
    let h: Tensor<Rank4<2, 3, 4, 4>, f64, Tape<f64>> = MaxPool2d::<3, 2, 1>.forward(x.clone());
    let y: Tensor<Rank4<2, 3, 3, 3>, f64, Tape<f64>> = AvgPool2d::<2, 1>.forward(h);
    c.check_out(&y, RTOL);
    let grads = (y * &c.up::<Rank4<2, 3, 3, 3>>()).sum().backward();
    c.check_grad("input", &grads, &x, RTOL);
}
