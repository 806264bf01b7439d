//! Convolutions over spatial axes whose sizes are known only at run time: a signal whose length is a
//! `usize` gives bit for bit the values and the gradients of the same signal with a static length
//! (for several lengths, strides, paddings and dilations, through `conv1d`, the `Conv1d` layer and
//! `conv2d`); gradients through run-time lengths match finite differences, also as a property test
//! over random lengths; a length too short for the kernel panics with the op and the sizes.

use proptest::prelude::*;
use shaped::nn::{Conv1d, Forward, Out, ReLU};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{
    Const, Conv, Dim, Module, NoBias, NoTape, Rank1, Rank3, Rank4, Shape, StaticShape, Tape,
    Tensor, Tracking, gradcheck,
};

fn random<S: StaticShape>(seed: u64) -> Tensor<S, f64> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

fn random_with<S: Shape>(shape: S, seed: u64) -> Tensor<S, f64> {
    Tensor::uniform_with(shape, &mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// `conv1d` of two signals of 3 channels and static length `L` by four filters of 3 taps, with the
/// spec `Conv::<S, P, D>` and the output length `OL` that it gives, against the same signals with a
/// run-time length (and a static or a run-time batch): the same output and the same gradients of
/// `sum(y * v)` in the input, the weight and the bias, bit for bit.
fn same_bits<const L: usize, const OL: usize, const S: usize, const P: usize, const D: usize>(
    seed: u64,
) where
    Rank3<4, 3, 3>: shaped::ConvShape<Rank3<2, 3, L>, Rank3<2, 4, OL>, 1>,
{
    let x: Tensor<Rank3<2, 3, L>, f64> = random(seed);
    let w: Tensor<Rank3<4, 3, 3>, f64> = random(seed + 1);
    let b: Tensor<Rank1<4>, f64> = random(seed + 2);
    let v: Tensor<Rank3<2, 4, OL>, f64> = random(seed + 3);

    let tape = Tape::new();
    let (xs, ws, bs) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
    let ys: Tensor<Rank3<2, 4, OL>, f64, Tape<f64>> = xs.conv1d(&ws, &bs, Conv::<S, P, D>);
    let want = ys.to_vec();
    let gs = (ys * &v).sum().backward();

    // A static batch and a run-time length.
    let xr: Tensor<(Const<2>, Const<3>, usize), f64> =
        Tensor::from_vec_with((Const, Const, L), x.to_vec()).unwrap();
    let vr: Tensor<(Const<2>, Const<4>, usize), f64> =
        Tensor::from_vec_with((Const, Const, OL), v.to_vec()).unwrap();
    let tape = Tape::new();
    let (xt, wt, bt) = (tape.watch(&xr), tape.watch(&w), tape.watch(&b));
    let yr: Tensor<(Const<2>, Const<4>, usize), f64, Tape<f64>> =
        xt.conv1d(&wt, &bt, Conv::<S, P, D>);
    assert_eq!(yr.shape(), [2, 4, OL], "L = {L}, spec {S} {P} {D}");
    assert_eq!(
        bits(yr.as_slice()),
        bits(&want),
        "L = {L}, spec {S} {P} {D}"
    );
    let gr = (yr * &vr).sum().backward();
    assert_eq!(bits(gr.get(&xt).as_slice()), bits(gs.get(&xs).as_slice()));
    assert_eq!(bits(gr.get(&wt).as_slice()), bits(gs.get(&ws).as_slice()));
    assert_eq!(bits(gr.get(&bt).as_slice()), bits(gs.get(&bs).as_slice()));

    // A run-time batch and a run-time length, without bias.
    let xr: Tensor<(usize, Const<3>, usize), f64> =
        Tensor::from_vec_with((2, Const, L), x.to_vec()).unwrap();
    let y: Tensor<(usize, Const<4>, usize), f64> = xr.conv1d(&w, NoBias, Conv::<S, P, D>);
    let y_static: Tensor<Rank3<2, 4, OL>, f64> = x.conv1d(&w, NoBias, Conv::<S, P, D>);
    assert_eq!(y.shape(), [2, 4, OL]);
    assert_eq!(bits(y.as_slice()), bits(y_static.as_slice()));
}

#[test]
fn a_run_time_length_gives_the_bits_of_a_static_one() {
    // out = (L + 2 padding - dilation (3 - 1) - 1) / stride + 1
    same_bits::<3, 1, 1, 0, 1>(1); // the kernel just fits: (3 - 2 - 1) / 1 + 1 = 1
    same_bits::<10, 8, 1, 0, 1>(10);
    same_bits::<10, 10, 1, 1, 1>(20); // "same": (10 + 2 - 3) + 1 = 10
    same_bits::<11, 5, 2, 0, 1>(30); // (11 - 3) / 2 + 1 = 5
    same_bits::<12, 6, 2, 1, 1>(40); // (12 + 2 - 3) / 2 + 1 = 6
    same_bits::<9, 9, 1, 2, 2>(50); // (9 + 4 - 4 - 1) / 1 + 1 = 9
    same_bits::<17, 5, 3, 2, 3>(60); // (17 + 4 - 6 - 1) / 3 + 1 = 5
    same_bits::<1, 1, 1, 1, 1>(70); // one sample padded to 3
    same_bits::<2, 1, 4, 1, 1>(80); // (2 + 2 - 3) / 4 + 1 = 1
}

/// A model over signals of 3 channels, written once for any batch `B` and any length: two
/// convolutions and a ReLU between them.
#[derive(Module)]
struct Net<T: Tracking<f64> = NoTape> {
    c1: Conv1d<3, 5, 3, f64, T, 1, 1>,
    c2: Conv1d<5, 2, 2, f64, T, 2>,
}

impl<T: Tracking<f64>> Net<T> {
    /// `L` samples in, `(L - 2) / 2 + 1` out: `c1` keeps the length, `c2` takes pairs with stride 2.
    fn forward<B: Dim>(
        &self,
        x: Tensor<(B, Const<3>, usize), f64>,
    ) -> Tensor<(B, Const<2>, usize), f64, T> {
        let h: Tensor<(B, Const<5>, usize), f64, T> = self.c1.forward(x);
        self.c2.forward(h.relu())
    }

    /// The same model on a static length `L`, with the output length written.
    fn forward_static<const L: usize, const OL: usize>(
        &self,
        x: Tensor<Rank3<2, 3, L>, f64>,
    ) -> Tensor<Rank3<2, 2, OL>, f64, T>
    where
        Rank3<5, 3, 3>: shaped::ConvShape<Rank3<2, 3, L>, Rank3<2, 5, L>, 1>,
        Rank3<2, 5, 2>: shaped::ConvShape<Rank3<2, 5, L>, Rank3<2, 2, OL>, 1>,
    {
        let h: Tensor<Rank3<2, 5, L>, f64, T> = self.c1.forward(x);
        self.c2.forward(h.relu())
    }
}

fn net(seed: u64) -> Net {
    let mut rng = StdRng::seed_from_u64(seed);
    Net {
        c1: Conv1d::new(&mut rng),
        c2: Conv1d::new(&mut rng),
    }
}

fn layer_same_bits<const L: usize, const OL: usize>(seed: u64)
where
    Rank3<5, 3, 3>: shaped::ConvShape<Rank3<2, 3, L>, Rank3<2, 5, L>, 1>,
    Rank3<2, 5, 2>: shaped::ConvShape<Rank3<2, 5, L>, Rank3<2, 2, OL>, 1>,
{
    let model = net(seed);
    let x: Tensor<Rank3<2, 3, L>, f64> = random(seed + 1);
    let v: Tensor<Rank3<2, 2, OL>, f64> = random(seed + 2);
    let xr: Tensor<(usize, Const<3>, usize), f64> =
        Tensor::from_vec_with((2, Const, L), x.to_vec()).unwrap();
    let vr: Tensor<(usize, Const<2>, usize), f64> =
        Tensor::from_vec_with((2, Const, OL), v.to_vec()).unwrap();

    let (ls, gs): (f64, NetGrads) =
        model.value_and_grad(|m| (m.forward_static(x.clone()) * &v).sum());
    let (lr, gr): (f64, NetGrads) = model.value_and_grad(|m| (m.forward(xr.clone()) * &vr).sum());
    assert_eq!(ls.to_bits(), lr.to_bits(), "L = {L}");
    assert_eq!(bits(gr.c1.weight.as_slice()), bits(gs.c1.weight.as_slice()));
    assert_eq!(bits(gr.c2.weight.as_slice()), bits(gs.c2.weight.as_slice()));
    let (b1s, b1r) = (gs.c1.bias.unwrap(), gr.c1.bias.unwrap());
    assert_eq!(bits(b1r.as_slice()), bits(b1s.as_slice()));
    let (b2s, b2r) = (gs.c2.bias.unwrap(), gr.c2.bias.unwrap());
    assert_eq!(bits(b2r.as_slice()), bits(b2s.as_slice()));

    // The same model on a static batch with a run-time length, and its output's length.
    let xb: Tensor<(Const<2>, Const<3>, usize), f64> =
        Tensor::from_vec_with((Const, Const, L), x.to_vec()).unwrap();
    let y = model.forward(xb);
    assert_eq!(y.shape(), [2, 2, OL]);
    assert_eq!(bits(y.as_slice()), bits(model.forward_static(x).as_slice()));
}

#[test]
fn a_model_over_any_length_gives_the_bits_of_a_static_one() {
    // OL = (L - 2) / 2 + 1
    layer_same_bits::<2, 1>(100);
    layer_same_bits::<7, 3>(110);
    layer_same_bits::<16, 8>(120);
    layer_same_bits::<33, 16>(130);
}

#[test]
fn a_model_takes_signals_of_different_lengths_one_after_another() {
    let model = net(140);
    for (len, out) in [(2, 1), (3, 1), (4, 2), (50, 25), (51, 25)] {
        let x: Tensor<(usize, Const<3>, usize), f64> = random_with((3, Const, len), 141);
        assert_eq!(model.forward(x).shape(), [3, 2, out], "length {len}");
    }
}

#[test]
fn conv2d_with_run_time_height_and_width_gives_the_bits_of_a_static_one() {
    // H_out = (7 + 2 - 2 (3 - 1) - 1) / 2 + 1 = 3, W_out = (10 + 2 - 2 (2 - 1) - 1) / 2 + 1 = 5
    let x: Tensor<Rank4<2, 3, 7, 10>, f64> = random(200);
    let w: Tensor<Rank4<4, 3, 3, 2>, f64> = random(201);
    let b: Tensor<Rank1<4>, f64> = random(202);
    let v: Tensor<Rank4<2, 4, 3, 5>, f64> = random(203);
    let tape = Tape::new();
    let (xs, ws, bs) = (tape.watch(&x), tape.watch(&w), tape.watch(&b));
    let ys: Tensor<Rank4<2, 4, 3, 5>, f64, Tape<f64>> = xs.conv2d(&ws, &bs, Conv::<2, 1, 2>);
    let want = ys.to_vec();
    let gs = (ys * &v).sum().backward();

    let xr: Tensor<(usize, Const<3>, usize, usize), f64> =
        Tensor::from_vec_with((2, Const, 7, 10), x.to_vec()).unwrap();
    let vr: Tensor<(usize, Const<4>, usize, usize), f64> =
        Tensor::from_vec_with((2, Const, 3, 5), v.to_vec()).unwrap();
    let tape = Tape::new();
    let (xt, wt, bt) = (tape.watch(&xr), tape.watch(&w), tape.watch(&b));
    let yr: Tensor<(usize, Const<4>, usize, usize), f64, Tape<f64>> =
        xt.conv2d(&wt, &bt, Conv::<2, 1, 2>);
    assert_eq!(yr.shape(), [2, 4, 3, 5]);
    assert_eq!(bits(yr.as_slice()), bits(&want));
    let gr = (yr * &vr).sum().backward();
    assert_eq!(bits(gr.get(&xt).as_slice()), bits(gs.get(&xs).as_slice()));
    assert_eq!(bits(gr.get(&wt).as_slice()), bits(gs.get(&ws).as_slice()));
    assert_eq!(bits(gr.get(&bt).as_slice()), bits(gs.get(&bs).as_slice()));

    // A run-time height with a static width, and the other way round.
    let xh: Tensor<(Const<2>, Const<3>, usize, Const<10>), f64> =
        Tensor::from_vec_with((Const, Const, 7, Const), x.to_vec()).unwrap();
    let yh: Tensor<(Const<2>, Const<4>, usize, Const<5>), f64> = xh.conv2d(&w, &b, Conv::<2, 1, 2>);
    assert_eq!(bits(yh.as_slice()), bits(&want));
    let xw: Tensor<(usize, usize, Const<7>, usize), f64> =
        Tensor::from_vec_with((2, 3, Const, 10), x.to_vec()).unwrap();
    let yw: Tensor<(usize, Const<4>, Const<3>, usize), f64> = xw.conv2d(&w, &b, Conv::<2, 1, 2>);
    assert_eq!(bits(yw.as_slice()), bits(&want));
}

#[test]
fn a_static_length_may_give_a_run_time_output_and_the_other_way_round() {
    // (12 + 2 - 3) / 2 + 1 = 6
    let x: Tensor<Rank3<1, 2, 12>, f64> = random(210);
    let w: Tensor<Rank3<3, 2, 3>, f64> = random(211);
    let want: Tensor<Rank3<1, 3, 6>, f64> = x.conv1d(&w, NoBias, Conv::<2, 1>);
    let y: Tensor<(Const<1>, Const<3>, usize), f64> =
        x.clone().into_dims().conv1d(&w, NoBias, Conv::<2, 1>);
    assert_eq!(y.shape(), [1, 3, 6]);
    assert_eq!(bits(y.as_slice()), bits(want.as_slice()));
    // A run-time length with the output's length written: checked when the op runs.
    let xr: Tensor<(usize, Const<2>, usize), f64> =
        Tensor::from_vec_with((1, Const, 12), x.to_vec()).unwrap();
    let z: Tensor<(usize, Const<3>, Const<6>), f64> = xr.conv1d(&w, NoBias, Conv::<2, 1>);
    assert_eq!(bits(z.as_slice()), bits(want.as_slice()));
}

#[test]
fn gradients_through_a_run_time_length_match_finite_differences() {
    let w: Tensor<Rank3<2, 3, 3>, f64> = random(300);
    let b: Tensor<Rank1<2>, f64> = random(301);
    for (len, seed) in [(3, 310), (8, 320), (13, 330)] {
        let x: Tensor<(usize, Const<3>, usize), f64> = random_with((2, Const, len), seed);
        // stride 2, padding 1, dilation 2: (len + 2 - 4 - 1) / 2 + 1
        let out = (len - 3) / 2 + 1;
        let v: Tensor<(usize, Const<2>, usize), f64> = random_with((2, Const, out), seed + 1);
        gradcheck(
            |(x, w, b)| {
                let y: Tensor<(usize, Const<2>, usize), f64, Tape<f64>> =
                    x.conv1d(&w, &b, Conv::<2, 1, 2>);
                (y * &v).sum()
            },
            (&x, &w, &b),
        )
        .unwrap();
    }
    // conv2d over a run-time height and width, "same" padding.
    let x: Tensor<(usize, Const<2>, usize, usize), f64> = random_with((1, Const, 4, 5), 340);
    let w: Tensor<Rank4<2, 2, 3, 3>, f64> = random(341);
    let v: Tensor<(usize, Const<2>, usize, usize), f64> = random_with((1, Const, 4, 5), 342);
    gradcheck(
        |(x, w)| {
            let y: Tensor<(usize, Const<2>, usize, usize), f64, Tape<f64>> =
                x.conv2d(&w, NoBias, Conv::<1, 1>);
            (y * &v).sum()
        },
        (&x, &w),
    )
    .unwrap();
}

/// `y[n, o, i] = b[o] + sum_{c, k} w[o, c, k] x[n, c, stride i + dilation k - padding]`, with zeros
/// in the padding, by its definition: `[n, c_out, out]` flat.
fn by_definition(
    x: &[f64],
    [n, c, len]: [usize; 3],
    w: &[f64],
    [o, k]: [usize; 2],
    b: &[f64],
    [stride, padding, dilation]: [usize; 3],
    out: usize,
) -> Vec<f64> {
    let mut y = vec![0.0; n * o * out];
    for ni in 0..n {
        for oi in 0..o {
            for i in 0..out {
                let mut acc = b[oi];
                for ci in 0..c {
                    for ki in 0..k {
                        let Some(p) = (stride * i + dilation * ki).checked_sub(padding) else {
                            continue;
                        };
                        if p < len {
                            acc += w[(oi * c + ci) * k + ki] * x[(ni * c + ci) * len + p];
                        }
                    }
                }
                y[(ni * o + oi) * out + i] = acc;
            }
        }
    }
    y
}

/// `conv1d` of a signal of run-time length `len` by a kernel of 4 taps with the spec `Conv::<S, P,
/// D>`: the output length of the formula and the values of the definition, or the panic that names
/// the length when the kernel does not fit.
fn against_definition<const S: usize, const P: usize, const D: usize>(len: usize, seed: u64) {
    let x: Tensor<(usize, Const<2>, usize), f64> = random_with((2, Const, len), seed);
    let w: Tensor<Rank3<3, 2, 4>, f64> = random(seed + 1);
    let b: Tensor<Rank1<3>, f64> = random(seed + 2);
    let span = D * 3 + 1;
    if len + 2 * P < span {
        let panic = std::panic::catch_unwind(|| {
            let _: Tensor<(usize, Const<3>, usize), f64> = x.conv1d(&w, &b, Conv::<S, P, D>);
        })
        .unwrap_err();
        let msg = panic.downcast_ref::<String>().unwrap();
        let want = format!("conv1d: the input's length {len} is too short for the kernel");
        assert!(msg.starts_with(&want), "{msg}");
        return;
    }
    let out = (len + 2 * P - span) / S + 1;
    let y: Tensor<(usize, Const<3>, usize), f64> = x.conv1d(&w, &b, Conv::<S, P, D>);
    assert_eq!(y.shape(), [2, 3, out]);
    let want = by_definition(
        x.as_slice(),
        [2, 2, len],
        w.as_slice(),
        [3, 4],
        b.as_slice(),
        [S, P, D],
        out,
    );
    for (i, (g, e)) in y.as_slice().iter().zip(&want).enumerate() {
        assert!(
            (g - e).abs() <= 1e-12 * (1.0 + e.abs()),
            "[{i}]: {g}, want {e}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_run_time_length_follows_the_formula_and_the_definition(len in 0usize..40, seed in 0u64..1000) {
        against_definition::<1, 0, 1>(len, seed);
        against_definition::<2, 1, 1>(len, seed);
        against_definition::<3, 2, 2>(len, seed);
        against_definition::<1, 3, 3>(len, seed);
    }
}

#[test]
#[should_panic(
    expected = "conv1d: the input's length 4 is too short for the kernel: padded with 1 on each side it is 6, and a kernel of 4 taps with dilation 2 spans 7"
)]
fn a_length_too_short_for_the_kernel_panics_with_the_sizes() {
    let x: Tensor<(usize, Const<2>, usize)> = Tensor::zeros_with((1, Const, 4));
    let w: Tensor<Rank3<3, 2, 4>> = Tensor::zeros();
    let _: Tensor<(usize, Const<3>, usize)> = x.conv1d(&w, NoBias, Conv::<1, 1, 2>);
}

#[test]
#[should_panic(
    expected = "conv1d: the input's length 1 is too short for the kernel: padded with 0 on each side it is 1, and a kernel of 2 taps with dilation 1 spans 2"
)]
fn a_length_too_short_for_a_layer_panics_with_the_sizes() {
    let model = net(400);
    // c1 keeps the length 1, c2 needs 2.
    let x: Tensor<(usize, Const<3>, usize), f64> = Tensor::zeros_with((1, Const, 1));
    let _ = model.forward(x);
}

#[test]
#[should_panic(expected = "conv2d: the input's width 2 is too short for the kernel")]
fn a_run_time_width_too_short_panics_with_the_sizes() {
    let x: Tensor<(usize, Const<1>, usize, usize)> = Tensor::zeros_with((1, Const, 5, 2));
    let w: Tensor<Rank4<1, 1, 3, 3>> = Tensor::zeros();
    let _: Tensor<(usize, Const<1>, usize, usize)> = x.conv2d(&w, NoBias, Conv::<1>);
}

#[test]
#[should_panic(
    expected = "conv1d: the output's length is 6, not 5 as written in the output type: out = (in + 2 padding - dilation (kernel - 1) - 1) / stride + 1, with input 8, kernel 3, stride 1, padding 0, dilation 1"
)]
fn a_written_output_length_that_a_run_time_length_does_not_give_panics() {
    let x: Tensor<(usize, Const<1>, usize)> = Tensor::zeros_with((1, Const, 8));
    let w: Tensor<Rank3<1, 1, 3>> = Tensor::zeros();
    let _: Tensor<(usize, Const<1>, Const<5>)> = x.conv1d(&w, NoBias, Conv::<1>);
}

#[test]
fn a_sequence_of_layers_takes_a_run_time_length() {
    // (Conv1d(2, 4, 3, padding=1), ReLU, Conv1d(4, 1, 2)): L in, L - 1 out.
    let mut rng = StdRng::seed_from_u64(500);
    type Seq = (
        Out<Conv1d<2, 4, 3, f64, NoTape, 1, 1>, (Const<4>, usize)>,
        ReLU,
        Out<Conv1d<4, 1, 2, f64>, (Const<1>, usize)>,
    );
    let model: Seq = (
        Out::new(Conv1d::new(&mut rng)),
        ReLU,
        Out::new(Conv1d::new(&mut rng)),
    );
    let x: Tensor<Rank3<3, 2, 9>, f64> = random(501);
    let want: Tensor<Rank3<3, 1, 8>, f64> = {
        let h: Tensor<Rank3<3, 4, 9>, f64> = model.0.layer.forward(x.clone());
        model.2.layer.forward(h.relu())
    };
    let xr: Tensor<(usize, Const<2>, usize), f64> =
        Tensor::from_vec_with((3, Const, 9), x.to_vec()).unwrap();
    let y: Tensor<(usize, Const<1>, usize), f64> = model.forward(xr);
    assert_eq!(y.shape(), [3, 1, 8]);
    assert_eq!(bits(y.as_slice()), bits(want.as_slice()));
}
