//! Convolutional networks as tuples of layers: `Conv2d`, `Conv1d`, `MaxPool2d`, `AvgPool2d` and
//! `Flatten` in an `Out` with their output shape, `ReLU`, `Softmax` and `Linear`. The tuple gives
//! PyTorch's values and gradients (the `cnn` case of `tests/data/reference/conv_layers.txt`, the
//! model of `reference_conv_layers` written as a tuple), the same bits as the layers called one
//! after the other, on a static and on a run-time batch, and gradients that match finite
//! differences.

use crate::reference::{self, Case};
use shaped::nn::{
    AvgPool2d, Conv1d, Conv2d, Flatten, Forward, Linear, MaxPool2d, Out, ReLU, Softmax,
};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{
    Const, Dim, Module, NoTape, Rank1, Rank2, Rank3, Rank4, Tape, Tensor, Tracking, gradcheck,
};

/// How far from PyTorch's values the layers may be, relative: sums of products in another order.
const RTOL: f64 = 1e-12;

/// The `cnn` case's model, `Cnn` of `scripts/reference_conv_layers.py`, as a tuple: conv 3x3 with
/// padding 1 (2 -> 3 channels, 6 x 6 kept), ReLU, max pool 2 (3 x 3), conv 2x2 with padding 1 and
/// no bias (3 -> 4 channels, 4 x 4), average pool 2 (2 x 2), flatten (16), linear 16 -> 5.
type ReferenceCnn<T = NoTape> = (
    Out<Conv2d<2, 3, 3, f64, T, 1, 1>, Rank3<3, 6, 6>>,
    ReLU,
    Out<MaxPool2d<2>, Rank3<3, 3, 3>>,
    Out<Conv2d<3, 4, 2, f64, T, 1, 1>, Rank3<4, 4, 4>>,
    Out<AvgPool2d<2>, Rank3<4, 2, 2>>,
    Out<Flatten, Rank1<16>>,
    Linear<16, 5, f64, T>,
);

fn reference_cnn(c: &Case) -> ReferenceCnn {
    (
        Out::new(Conv2d::from_weights(
            c.input("conv1.weight"),
            Some(c.input("conv1.bias")),
        )),
        ReLU,
        Out::new(MaxPool2d),
        Out::new(Conv2d::from_weights(c.input("conv2.weight"), None)),
        Out::new(AvgPool2d),
        Out::new(Flatten),
        Linear::from_weights(c.input("fc.weight"), Some(c.input("fc.bias"))),
    )
}

/// The tuple on the case's input seen with the batch `B`: PyTorch's output, and its gradients of
/// the input and of every parameter.
fn check_reference_cnn<B: Dim>(c: &Case, x: Tensor<(B, Const<2>, Const<6>, Const<6>), f64>) {
    let model = reference_cnn(c);
    let tape = Tape::new();
    let (xt, m) = (tape.watch(&x), tape.watch(&model));
    let y: Tensor<(B, Const<5>), f64, Tape<f64>> = m.forward(xt.clone());
    c.check_out(&y, RTOL);
    let up: Tensor<(B, Const<5>), f64> = c.up();
    let grads = (y * &up).sum().backward();
    c.check_grad("x", &grads, &xt, RTOL);
    c.check_grad("conv1.weight", &grads, &m.0.layer.weight, RTOL);
    c.check_grad("conv1.bias", &grads, m.0.layer.bias.as_ref().unwrap(), RTOL);
    c.check_grad("conv2.weight", &grads, &m.3.layer.weight, RTOL);
    c.check_grad("fc.weight", &grads, &m.6.weight, RTOL);
    c.check_grad("fc.bias", &grads, m.6.bias.as_ref().unwrap(), RTOL);
    // The typed gradients hold the same values, the convolutions' in their own gradient type.
    let g = model.grads(&grads);
    assert_eq!(g.0.weight, grads.get(&m.0.layer.weight));
    assert!(g.3.bias.is_none());
    assert_eq!(g.6.weight, grads.get(&m.6.weight));
    // Without the tape, the same output.
    assert_eq!(model.forward(x).as_slice(), m.forward(xt).as_slice());
}

#[test]
fn a_cnn_as_a_tuple_matches_pytorch() {
    let cases = reference::load("conv_layers");
    let c = &cases["cnn"];
    check_reference_cnn::<Const<3>>(c, c.input("x"));
    check_reference_cnn::<usize>(c, c.input("x"));
    // The parameters are the layers', named by position.
    let names: Vec<String> = reference_cnn(c)
        .params()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "3.weight", "6.weight", "6.bias"]
    );
}

/// conv 3x3 (1 -> 4 channels), ReLU, max pool 2, flatten, linear 36 -> 10, on 8 x 8 images.
type SmallCnn<E = f32, T = NoTape> = (
    Out<Conv2d<1, 4, 3, E, T>, Rank3<4, 6, 6>>,
    ReLU,
    Out<MaxPool2d<2>, Rank3<4, 3, 3>>,
    Out<Flatten, Rank1<36>>,
    Linear<36, 10, E, T>,
);

fn small_cnn(seed: u64) -> SmallCnn {
    let mut rng = StdRng::seed_from_u64(seed);
    (
        Out::new(Conv2d::new(&mut rng)),
        ReLU,
        Out::new(MaxPool2d),
        Out::new(Flatten),
        Linear::new(&mut rng),
    )
}

/// The bits of each value, so that equal means equal to the last bit (and `-0.0` is not `0.0`).
fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// `SmallCnn`'s layers called one after the other, each output's type written.
fn small_cnn_by_hand<B: Dim, T: Tracking<f32>>(
    conv: &Conv2d<1, 4, 3, f32, T>,
    fc: &Linear<36, 10, f32, T>,
    x: Tensor<(B, Const<1>, Const<8>, Const<8>)>,
) -> Tensor<(B, Const<10>), f32, T> {
    let h: Tensor<(B, Const<4>, Const<6>, Const<6>), f32, T> = conv.forward(x);
    let h = ReLU.forward(h);
    let h: Tensor<(B, Const<4>, Const<3>, Const<3>), f32, T> = MaxPool2d::<2>.forward(h);
    let h: Tensor<(B, Const<36>), f32, T> = Flatten.forward(h);
    fc.forward(h)
}

#[test]
fn a_cnn_as_a_tuple_gives_the_bits_of_its_layers_called_by_hand() {
    let model = small_cnn(1);
    let mut rng = StdRng::seed_from_u64(2);
    let x: Tensor<Rank4<5, 1, 8, 8>> = Tensor::uniform(&mut rng, -1.0, 1.0);

    // A static batch: the output type follows from the input's.
    let y: Tensor<Rank2<5, 10>> = model.forward(x.clone());
    let by_hand = small_cnn_by_hand(&model.0.layer, &model.4, x.clone().into_dims());
    assert_eq!(bits(y.as_slice()), bits(by_hand.as_slice()));
    // The ReLU has values of both signs to act on.
    let pre: Tensor<Rank4<5, 4, 6, 6>> = model.0.layer.forward(x.clone());
    assert!(pre.as_slice().iter().any(|v| *v < 0.0) && pre.as_slice().iter().any(|v| *v > 0.0));

    // A run-time batch through the same model.
    let xr: Tensor<(usize, Const<1>, Const<8>, Const<8>)> = x.clone().reshape();
    let yr: Tensor<(usize, Const<10>)> = model.forward(xr.clone());
    assert_eq!(yr.shape(), [5, 10]);
    assert_eq!(bits(yr.as_slice()), bits(y.as_slice()));

    // The gradients of value_and_grad are those of the layers by hand on one tape.
    let up: Tensor<Rank2<5, 10>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let (loss, g) = model.value_and_grad(|m| (m.forward(x.clone()) * &up).sum());
    let tape = Tape::new();
    let (conv, fc) = (tape.watch(&model.0.layer), tape.watch(&model.4));
    let hand =
        (small_cnn_by_hand(&conv, &fc, x.clone().into_dims()) * &up.clone().into_dims()).sum();
    assert_eq!(loss.to_bits(), hand.item().to_bits());
    let grads = hand.backward();
    assert_eq!(
        bits(g.0.weight.as_slice()),
        bits(grads.get(&conv.weight).as_slice())
    );
    let conv_bias = grads.get(conv.bias.as_ref().unwrap());
    assert_eq!(
        bits(g.0.bias.as_ref().unwrap().as_slice()),
        bits(conv_bias.as_slice())
    );
    assert_eq!(
        bits(g.4.weight.as_slice()),
        bits(grads.get(&fc.weight).as_slice())
    );
    let fc_bias = grads.get(fc.bias.as_ref().unwrap());
    assert_eq!(
        bits(g.4.bias.as_ref().unwrap().as_slice()),
        bits(fc_bias.as_slice())
    );
    // d loss / d fc.bias = the upstream gradient summed over the batch.
    let up_sums: Vec<f32> = (0..10)
        .map(|j| (0..5).map(|i| up.as_slice()[10 * i + j]).sum())
        .collect();
    for (got, want) in g.4.bias.as_ref().unwrap().as_slice().iter().zip(&up_sums) {
        assert!((got - want).abs() <= 1e-6, "{got} vs {want}");
    }

    // And on the run-time batch, the same gradients.
    let upr: Tensor<(usize, Const<10>)> = up.reshape();
    let (loss_r, gr) = model.value_and_grad(|m| (m.forward(xr.clone()) * &upr).sum());
    assert_eq!(loss_r.to_bits(), loss.to_bits());
    assert_eq!(bits(gr.0.weight.as_slice()), bits(g.0.weight.as_slice()));
    assert_eq!(bits(gr.4.weight.as_slice()), bits(g.4.weight.as_slice()));
}

/// conv1d with kernel 3, stride 2, padding 1, dilation 2 (2 -> 3 channels, length 9 -> 4), softmax
/// over the channels, flatten (12), linear 12 -> 2.
type Signal<T = NoTape> = (
    Out<Conv1d<2, 3, 3, f64, T, 2, 1, 2>, Rank2<3, 4>>,
    Softmax<1>,
    Out<Flatten, Rank1<12>>,
    Linear<12, 2, f64, T>,
);

#[test]
fn conv1d_and_softmax_in_a_tuple_are_their_layers() {
    let mut rng = StdRng::seed_from_u64(3);
    let model: Signal = (
        Out::new(Conv1d::new(&mut rng)),
        Softmax,
        Out::new(Flatten),
        Linear::new(&mut rng),
    );
    let x: Tensor<Rank3<2, 2, 9>, f64> = Tensor::uniform(&mut rng, -2.0, 2.0);
    let y: Tensor<Rank2<2, 2>, f64> = model.forward(x.clone());

    let h: Tensor<Rank3<2, 3, 4>, f64> = model.0.layer.forward(x.clone());
    let p = Softmax::<1>.forward(h);
    // Softmax over the channels: at each position the 3 channels sum to 1.
    for n in 0..2 {
        for i in 0..4 {
            let s: f64 = (0..3).map(|ch| p[[n, ch, i]]).sum();
            assert!((s - 1.0).abs() < 1e-12, "{s}");
        }
    }
    let f: Tensor<Rank2<2, 12>, f64> = Flatten.forward(p);
    assert_eq!(y.as_slice(), model.3.forward(f).as_slice());

    let xr: Tensor<(usize, Const<2>, Const<9>), f64> = x.reshape();
    let yr: Tensor<(usize, Const<2>), f64> = model.forward(xr);
    assert_eq!(yr.as_slice(), y.as_slice());
}

#[test]
fn gradients_through_a_tuple_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(4);
    let x: Tensor<Rank4<2, 1, 8, 8>, f64> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let conv_w: Tensor<Rank4<4, 1, 3, 3>, f64> = Tensor::uniform(&mut rng, -0.5, 0.5);
    let conv_b: Tensor<Rank1<4>, f64> = Tensor::uniform(&mut rng, -0.5, 0.5);
    let fc_w: Tensor<Rank2<10, 36>, f64> = Tensor::uniform(&mut rng, -0.5, 0.5);
    let up: Tensor<Rank2<2, 10>, f64> = Tensor::uniform(&mut rng, -1.0, 1.0);
    gradcheck(
        |(x, conv_w, conv_b, fc_w)| {
            // The layers built around the taped tensors, so that the check covers the input and
            // every parameter; the linear layer without bias (a fifth tensor).
            let model: SmallCnn<f64, Tape<f64>> = (
                Out::new(Conv2d {
                    weight: conv_w,
                    bias: Some(conv_b),
                }),
                ReLU,
                Out::new(MaxPool2d),
                Out::new(Flatten),
                Linear {
                    weight: fc_w,
                    bias: None,
                },
            );
            (model.forward(x) * &up).sum()
        },
        (&x, &conv_w, &conv_b, &fc_w),
    )
    .unwrap();
}
