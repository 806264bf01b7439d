//! Dimensions known only at run time: a model written once for any batch gives bit for bit the same
//! outputs and gradients on a static batch and on a run-time one; gradients through run-time shapes
//! match finite differences (also as property tests over random sizes); a run-time mismatch panics
//! with the op and both sizes; data, labels, predictions, save and load work with run-time sizes.

use proptest::prelude::*;
use shaped::data::Dataset;
use shaped::nn::{Labels, Linear, Mean, Sum, accuracy, cross_entropy, mse, nll_loss, predict};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{
    Const, Dim, ErrorKind, Module, NoBias, NoTape, Rank1, Rank2, Shape, StaticShape, Tape, Tensor,
    Tracking, gradcheck,
};

fn random<S: StaticShape>(seed: u64) -> Tensor<S, f64> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

fn random_with<S: Shape>(shape: S, seed: u64) -> Tensor<S, f64> {
    Tensor::uniform_with(shape, &mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

/// A classifier written once for any batch dimension `B`.
#[derive(Module)]
struct Mlp<T: Tracking<f64> = NoTape> {
    l1: Linear<4, 8, f64, T>,
    l2: Linear<8, 3, f64, T>,
}

impl<T: Tracking<f64>> Mlp<T> {
    fn forward<B: Dim>(&self, x: Tensor<(B, Const<4>), f64>) -> Tensor<(B, Const<3>), f64, T> {
        self.l2.forward(self.l1.forward(x).tanh())
    }
}

fn mlp(seed: u64) -> Mlp {
    let mut rng = StdRng::seed_from_u64(seed);
    Mlp {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    }
}

#[test]
fn a_model_gives_the_same_bits_on_a_static_and_a_run_time_batch() {
    let model = mlp(1);
    let x: Tensor<Rank2<6, 4>, f64> = random(2);
    let labels: Labels<Const<6>, 3> = Labels::new([0, 2, 1, 1, 0, 2]).unwrap();
    let xd: Tensor<(usize, Const<4>), f64> = Tensor::from_vec_with((6, Const), x.to_vec()).unwrap();
    let ld: Labels<usize, 3> = Labels::from_slice(labels.as_slice()).unwrap();

    let ys = model.forward(x.clone().into_dims());
    let yd = model.forward(xd.clone());
    assert_eq!(yd.shape(), [6, 3]);
    let bits = |t: &[f64]| t.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(ys.as_slice()), bits(yd.as_slice()));

    // The same loss and the same gradients, with the same gradient struct.
    let (ls, gs): (f64, MlpGrads) =
        model.value_and_grad(|m| cross_entropy(&m.forward(x.clone().into_dims()), &labels));
    let (ld_, gd): (f64, MlpGrads) =
        model.value_and_grad(|m| cross_entropy(&m.forward(xd.clone()), &ld));
    assert_eq!(ls.to_bits(), ld_.to_bits());
    assert_eq!(bits(gs.l1.weight.as_slice()), bits(gd.l1.weight.as_slice()));
    assert_eq!(
        bits(gs.l2.bias.as_ref().unwrap().as_slice()),
        bits(gd.l2.bias.as_ref().unwrap().as_slice())
    );
    assert_eq!(accuracy(&ys, &labels), accuracy(&yd, &ld));
    assert_eq!(predict(&ys).as_slice(), predict(&yd).as_slice());
}

#[test]
fn one_compiled_forward_serves_every_batch_size() {
    let model = mlp(3);
    let all: Tensor<Rank2<5, 4>, f64> = random(4);
    let full = model.forward(all.clone().into_dims());
    // Row by row, and in batches of 2, 2 and 1: the same rows give the same bits.
    for n in [1, 2] {
        let mut out = Vec::new();
        for chunk in all.as_slice().chunks(4 * n) {
            let rows = chunk.len() / 4;
            let x: Tensor<(usize, Const<4>), f64> =
                Tensor::from_slice_with((rows, Const), chunk).unwrap();
            out.extend(model.forward(x).to_vec());
        }
        assert_eq!(out, full.to_vec(), "batches of {n}");
    }
}

/// One forward, not generic: a single compiled function for every batch size.
fn forward(m: &Mlp, x: Tensor<(usize, Const<4>), f64>) -> Tensor<(usize, Const<3>), f64> {
    m.forward(x)
}

/// The type of `forward` as a function pointer.
type Forward = fn(&Mlp, Tensor<(usize, Const<4>), f64>) -> Tensor<(usize, Const<3>), f64>;

#[test]
fn one_function_pointer_runs_every_batch_size_row_for_row() {
    let model = mlp(5);
    let f: Forward = forward;
    for (rows, seed) in [(1, 60), (5, 61), (64, 62)] {
        let x = random_with((rows, Const::<4>), seed);
        let y = f(&model, x.clone());
        assert_eq!(y.shape(), [rows, 3]);
        for (r, (x_row, y_row)) in x
            .as_slice()
            .chunks(4)
            .zip(y.as_slice().chunks(3))
            .enumerate()
        {
            let alone = f(&model, Tensor::from_slice_with((1, Const), x_row).unwrap());
            let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(alone.as_slice()), bits(y_row), "row {r} of {rows}");
        }
    }
}

#[test]
fn a_relabelled_shape_keeps_its_place_on_the_tape() {
    // f(x) = sum(w * into_static(d * d)) with d = into_dims(x): df/dx = 2 w x elementwise.
    // x = [[1, 2], [3, 4]], w = [[1, 0], [2, -1]]: df/dx = [[2, 0], [12, -8]].
    let x: Tensor<Rank2<2, 2>, f64> = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
    let w = Tensor::from([[1.0, 0.0], [2.0, -1.0]]);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    let d = xt.clone().into_dims();
    let g = ((&d * &d).into_static() * &w).sum().backward();
    assert_eq!(g.get(&xt).to_array(), [[2.0, 0.0], [12.0, -8.0]]);
    // The relabelled tensor is the same variable: its gradient is x's, in its own shape.
    let gd: Tensor<(Const<2>, Const<2>), f64> = g.get(&d);
    assert_eq!(gd.to_vec(), vec![2.0, 0.0, 12.0, -8.0]);

    // A run-time batch checked into a static shape on the tape: d/dr sum(r^3) = 3 r^2.
    let r: Tensor<(usize, Const<2>), f64> =
        Tensor::from_vec_with((2, Const), vec![1.0, -2.0, 0.5, 3.0]).unwrap();
    let tape = Tape::new();
    let rt = tape.watch(&r);
    let s: Tensor<Rank2<2, 2>, f64, Tape<f64>> = rt.clone().try_into_static().unwrap();
    let g = s.powi(3).sum().backward();
    assert_eq!(g.get(&rt).to_vec(), vec![3.0, 12.0, 0.75, 27.0]);
}

#[test]
fn gradients_through_relabelled_shapes_match_finite_differences() {
    let x: Tensor<Rank2<3, 4>, f64> = random(63);
    let r = random_with((3, Const::<4>), 64);
    let w: Tensor<Rank2<5, 4>, f64> = random(65);
    let v: Tensor<Rank2<3, 5>, f64> = random(66);
    // x through a layer written for any batch and back; r checked into the static shape of x.
    gradcheck(
        |(x, r)| {
            let h = x
                .clone()
                .into_dims()
                .linear(&w, NoBias)
                .tanh()
                .into_static();
            let s: Tensor<Rank2<3, 4>, f64, Tape<f64>> = r.try_into_static().unwrap();
            (h * &v).sum() + (s.exp() * x.clone()).sum()
        },
        (&x, &r),
    )
    .unwrap();
}

#[test]
fn a_run_time_shape_converts_to_a_static_one_when_its_sizes_fit() {
    let t: Tensor<(usize, Const<2>)> =
        Tensor::from_fn_with((3, Const), |[i, j]| (10 * i + j) as f32);
    let m: Tensor<Rank2<3, 2>> = t.clone().try_into_static().unwrap();
    assert_eq!(m.to_array(), [[0.0, 1.0], [10.0, 11.0], [20.0, 21.0]]);
    assert!(m.shares_data(&t));
    let c: Tensor<(Const<3>, Const<2>)> = t.clone().try_into_static().unwrap();
    assert_eq!(c.into_static().to_array(), m.to_array());
    let err = t.try_into_static::<Rank2<2, 3>>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert_eq!(
        err.to_string(),
        "sizes [3, 2] do not fit a tensor of shape type Rank2<2, 3>"
    );
}

#[test]
fn losses_take_run_time_logits_with_static_labels() {
    let x: Tensor<Rank2<4, 3>, f64> = random(67);
    let labels: Labels<Const<4>, 3> = Labels::new([2, 0, 1, 2]).unwrap();
    let ids: Labels<usize, 3> = Labels::from_slice(labels.as_slice()).unwrap();
    let xd: Tensor<(usize, Const<3>), f64> = Tensor::from_vec_with((4, Const), x.to_vec()).unwrap();
    // Every pairing of a static and a run-time batch gives the same bits.
    let want = cross_entropy(&x, &labels).item().to_bits();
    assert_eq!(cross_entropy(&xd, &labels).item().to_bits(), want);
    assert_eq!(cross_entropy(&x, &ids).item().to_bits(), want);
    assert_eq!(cross_entropy(&xd, &ids).item().to_bits(), want);
    assert_eq!(accuracy(&xd, &labels), accuracy(&x, &labels));
    assert_eq!(accuracy(&x, &ids), accuracy(&x, &labels));
    let lp = x.log_softmax::<1>();
    let lpd = xd.log_softmax::<1>();
    let want = nll_loss(&lp, &labels, Mean).item().to_bits();
    assert_eq!(nll_loss(&lpd, &labels, Mean).item().to_bits(), want);
    assert_eq!(nll_loss(&lp, &ids, Mean).item().to_bits(), want);
    gradcheck(|x| cross_entropy(&x, &labels), &xd).unwrap();
    gradcheck(|x| nll_loss(&x.log_softmax::<1>(), &labels, Sum), &xd).unwrap();
}

#[test]
#[should_panic(
    expected = "cross_entropy: the rows of the logits and the number of labels differ: 5 and 16"
)]
fn run_time_logits_and_static_labels_of_other_sizes_panic_with_both() {
    let logits: Tensor<(usize, Const<10>)> = Tensor::zeros_with((5, Const));
    let labels: Labels<Const<16>, 10> = Labels::new([0; 16]).unwrap();
    let _ = cross_entropy(&logits, &labels);
}

#[test]
#[should_panic(
    expected = "accuracy: the rows of the logits and the number of labels differ: 4 and 2"
)]
fn static_logits_and_run_time_labels_of_other_sizes_panic_with_both() {
    let logits: Tensor<Rank2<4, 3>> = Tensor::zeros();
    let labels: Labels<usize, 3> = Labels::from_slice(&[0, 1]).unwrap();
    let _ = accuracy(&logits, &labels);
}

#[test]
fn gradients_through_run_time_shapes_match_finite_differences() {
    let n = 5;
    let x = random_with((n, Const::<4>), 10);
    let w: Tensor<Rank2<3, 4>, f64> = random(11);
    let b: Tensor<Rank1<3>, f64> = random(12);
    let v = random_with((n, Const::<3>), 13);
    // linear over a run-time batch, and the batch's own gradient
    gradcheck(|(x, w)| (x.linear(&w, &b) * &v).sum(), (&x, &w)).unwrap();
    // matmul contracting over a run-time dimension: [3, n] x [n, 4]
    let a = random_with((Const::<3>, n), 14);
    gradcheck(|(a, x)| a.matmul(&x).powi(2).sum(), (&a, &x)).unwrap();
    // elementwise ops, reductions, softmax, transpose, broadcast and reshape on run-time shapes
    gradcheck(
        |x| {
            (x.softmax::<1>()
                * x.exp()
                    .sum_axis_keepdim::<0>()
                    .broadcast_to_shape((n, Const::<4>)))
            .sum()
        },
        &x,
    )
    .unwrap();
    gradcheck(|x| x.transpose().matmul(&x).mean(), &x).unwrap();
    gradcheck(
        |x| x.reshape::<(usize, Const<2>)>().max_axis::<1>().sum(),
        &x,
    )
    .unwrap();
    gradcheck(
        |x| x.logsumexp_axis::<1>().sum() + x.mean_axis::<0>().sum(),
        &x,
    )
    .unwrap();
    // losses over a run-time batch
    let labels: Labels<usize, 4> = Labels::from_slice(&[0, 3, 1, 1, 2]).unwrap();
    gradcheck(|x| cross_entropy(&x, &labels), &x).unwrap();
    let t = random_with((n, Const::<4>), 15);
    gradcheck(|x| mse(&x, &t), &x).unwrap();
    // a bilinear layer on run-time rows
    let x2 = random_with((n, Const::<2>), 16);
    let wb: Tensor<shaped::Rank3<3, 4, 2>, f64> = random(17);
    gradcheck(|(x, x2)| x.bilinear(&x2, &wb, &b).sum(), (&x, &x2)).unwrap();
}

#[test]
fn a_sequence_axis_can_be_run_time_too() {
    // [batch, seq, features] with batch and seq both run-time: a linear map of the features, a
    // softmax over the sequence, and attention-like scores over two run-time axes.
    let (batch, seq) = (2, 3);
    let x = random_with((batch, seq, Const::<4>), 20);
    let w: Tensor<Rank2<5, 4>, f64> = random(21);
    let y = x.linear(&w, shaped::NoBias);
    assert_eq!(y.shape(), [2, 3, 5]);
    // scores[b, i, j] = x[b, i] . x[b, j]: a batched product contracting over the features
    let scores = x.matmul(&x.transpose());
    assert_eq!(scores.shape(), [2, 3, 3]);
    gradcheck(
        |x| x.matmul(&x.transpose()).softmax::<2>().matmul(&x).sum(),
        &x,
    )
    .unwrap();
    gradcheck(
        |x| x.linear(&w, shaped::NoBias).softmax::<1>().powi(2).sum(),
        &x,
    )
    .unwrap();
}

#[test]
#[should_panic(expected = "add: shapes [3, 2] and [4, 2] cannot be broadcast together")]
fn adding_two_batches_of_different_sizes_panics_with_both() {
    let a: Tensor<(usize, Const<2>)> = Tensor::zeros_with((3, Const));
    let b: Tensor<(usize, Const<2>)> = Tensor::zeros_with((4, Const));
    let _ = a + b;
}

#[test]
#[should_panic(expected = "matmul: the inner dimensions differ: 3 and 4")]
fn a_product_over_run_time_dimensions_of_different_sizes_panics_with_both() {
    let a: Tensor<(Const<2>, usize)> = Tensor::zeros_with((Const, 3));
    let b: Tensor<(usize, Const<5>)> = Tensor::zeros_with((4, Const));
    let _ = a.matmul(&b);
}

#[test]
#[should_panic(
    expected = "cross_entropy: the rows of the logits and the number of labels differ: 3 and 2"
)]
fn logits_and_labels_of_different_lengths_panic_with_both() {
    let logits: Tensor<(usize, Const<4>)> = Tensor::zeros_with((3, Const));
    let labels: Labels<usize, 4> = Labels::from_slice(&[0, 1]).unwrap();
    let _ = cross_entropy(&logits, &labels);
}

#[test]
#[should_panic(expected = "linear: the input width and the weight's differ: 5 and 4")]
fn a_run_time_width_that_does_not_fit_a_layer_panics_with_both() {
    let layer: Linear<4, 2> = Linear::new(&mut StdRng::seed_from_u64(0));
    let x: Tensor<(Const<3>, usize)> = Tensor::zeros_with((Const, 5));
    let _ = layer.forward(x);
}

#[test]
fn the_data_set_yields_every_row_in_run_time_batches() {
    let text: String = (0..7).map(|i| format!("{i},{}.5,{}\n", i, i % 3)).collect();
    let data = Dataset::<2, 3>::from_csv(&text, false).unwrap();
    let sizes: Vec<usize> = data
        .batches_of::<f32>(3)
        .map(|(x, l)| {
            assert_eq!(x.shape()[0], l.len());
            l.len()
        })
        .collect();
    assert_eq!(sizes, [3, 3, 1]);
    let (x, labels) = data.all::<f64>();
    assert_eq!(x.shape(), [7, 2]);
    assert_eq!(labels.as_slice(), data.labels());
    // one-hot rows for a run-time batch
    let one_hot = labels.to_one_hot::<f64>();
    assert_eq!(one_hot.shape(), [7, 3]);
    assert_eq!(one_hot.sum_axis::<1>().to_vec(), vec![1.0; 7]);
}

#[test]
fn run_time_tensors_print_save_and_load() {
    let t: Tensor<(usize, Const<2>)> =
        Tensor::from_fn_with((3, Const), |[i, j]| (10 * i + j) as f32);
    assert_eq!(
        t.to_string(),
        "[[ 0.0,  1.0],\n [10.0, 11.0],\n [20.0, 21.0]]"
    );
    let bytes = t.to_safetensors();
    let back = Tensor::<(usize, Const<2>)>::from_safetensors(&bytes, "").unwrap();
    assert_eq!(back, t);
    // Any number of rows fits a run-time first axis; a different width does not.
    let err = Tensor::<(usize, Const<3>)>::from_safetensors(&bytes, "").unwrap_err();
    assert_eq!(err.kind(), shaped::ErrorKind::Shape);
    let err = Tensor::<(usize, Const<2>)>::from_dims_vec(&[3], vec![0.0; 3]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "sizes [3] do not fit a tensor of shape type (usize, Const<2>)"
    );
}

#[test]
fn watching_and_custom_ops_work_on_run_time_shapes() {
    let x = random_with((4_usize, Const::<3>), 30);
    let tape = Tape::new();
    let xt = tape.watch(&x);
    // d/dx sum(x * x) = 2x, through an op written with `unary` (square)
    let y = xt.unary(|v| v * v, |v, _| 2.0 * v).sum();
    let g = y.backward().get(&xt);
    assert_eq!(g.shape(), [4, 3]);
    assert_eq!(
        g.to_vec(),
        x.to_vec().iter().map(|v| 2.0 * v).collect::<Vec<_>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The gradient of a two-layer network with respect to its first weight, over a random number
    /// of rows, against central differences.
    #[test]
    fn network_gradients_over_any_number_of_rows(rows in 1_usize..7, seed in 0_u64..1000) {
        let x = random_with((rows, Const::<4>), seed);
        let w1: Tensor<Rank2<5, 4>, f64> = random(seed + 1);
        let w2: Tensor<Rank2<3, 5>, f64> = random(seed + 2);
        let ids: Vec<usize> = (0..rows).map(|i| (i + seed as usize) % 3).collect();
        let labels: Labels<usize, 3> = Labels::from_slice(&ids).unwrap();
        let f = |w1: Tensor<Rank2<5, 4>, f64, Tape<f64>>| {
            cross_entropy(&x.linear(&w1, shaped::NoBias).tanh().linear(&w2, shaped::NoBias), &labels)
        };
        prop_assert!(gradcheck(f, &w1).is_ok());
    }

    /// A batched product over run-time batch and inner dimensions, both operands at once.
    #[test]
    fn batched_products_over_run_time_dimensions(b in 1_usize..4, k in 1_usize..5, seed in 0_u64..1000) {
        let a = random_with((b, Const::<2>, k), seed);
        let c = random_with((b, k, Const::<3>), seed + 1);
        prop_assert!(gradcheck(|(a, c)| a.matmul(&c).sum(), (&a, &c)).is_ok());
    }
}
