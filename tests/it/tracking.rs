//! Every path from a watched parameter to the loss is differentiated, in free code and in model
//! code: a parameter transposed, broadcast or penalised on its own before it meets anything else, a
//! parameter used many times (one leaf, one gradient buffer), a parameter the loss does not reach (a
//! typed zero, and named by `unused_params`), and ops written outside the crate.

#[path = "../../examples/gelu/op.rs"]
mod gelu_op;

use shaped::nn::{Labels, Linear, accuracy, cross_entropy};
use shaped::optim::{Adam, Optimizer};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{
    GradCheck, Module, NoTape, Rank1, Rank2, StaticShape, Tape, Tensor, Tracking, gradcheck,
};

fn random<S: StaticShape>(seed: u64) -> Tensor<S, f64> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -2.0, 2.0)
}

#[test]
fn a_transposed_parameter_gets_its_gradient_in_free_code() {
    // loss = sum(x W^T) with x [3, 2], W [4, 2]: d/dW[o, i] = sum_n x[n, i] (the column sums of x,
    // on every row of W).
    let x = Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    let w: Tensor<Rank2<4, 2>, f64> = random(1);
    let tape = Tape::new();
    let wt = tape.watch(&w);
    let grads = tape.input(&x).matmul(&wt.transpose()).sum().backward();
    assert_eq!(grads.get(&wt).to_array(), [[9.0, 12.0]; 4]);
    gradcheck(|w| x.matmul(&w.transpose()).sum(), &w).unwrap();
}

/// A model written the natural way: a weight transposed and a bias broadcast inside `forward`.
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

#[test]
fn a_model_with_a_transposed_weight_and_a_broadcast_bias_trains_both() {
    // loss = sum((x W^T + b) * v): d/dW = v^T x, d/db = the column sums of v.
    let x: Tensor<Rank2<4, 3>, f64> = random(2);
    let v: Tensor<Rank2<4, 2>, f64> = random(3);
    let model = Affine {
        w: random(4),
        b: random(5),
    };
    let (_, grads) = model.value_and_grad(|m| (m.forward(x.clone()) * &v).sum());
    let want_w = v.transpose().matmul(&x);
    approx::assert_relative_eq!(grads.w, want_w, epsilon = 1e-12);
    approx::assert_relative_eq!(grads.b, v.sum_axis::<0>(), epsilon = 1e-12);
    // The same against central differences, one parameter at a time.
    gradcheck(
        |(w, b)| {
            let m = Affine { w, b };
            (m.forward(x.clone()) * &v).sum()
        },
        (&model.w, &model.b),
    )
    .unwrap();
}

#[test]
fn a_penalty_on_a_parameter_alone_is_differentiated() {
    // loss = sum(x * w) + sum(w^2) at w = 1, x = 4: d/dw = x + 2w = 6 (without the penalty's path it
    // would read 4).
    let w = Tensor::from([1.0]);
    let x = Tensor::from([4.0]);
    let tape = Tape::new();
    let wt = tape.watch(&w);
    let loss = (&wt * &x).sum() + wt.powi(2).sum();
    assert_eq!(loss.backward().get(&wt).to_vec(), vec![6.0]);
    gradcheck(|w| (&w * &x).sum() + w.powi(2).sum(), &w).unwrap();
    // In model code, through value_and_grad: sum(forward) + sum(W^2): d/dW = 4 + 2W at x = ones.
    let model = Affine {
        w: Tensor::ones(),
        b: Tensor::zeros(),
    };
    let ones: Tensor<Rank2<4, 3>, f64> = Tensor::ones();
    let (loss, grads) = model.value_and_grad(|m| m.forward(ones.clone()).sum() + m.w.powi(2).sum());
    assert_eq!(loss, 24.0 + 6.0);
    assert_eq!(grads.w.to_array(), [[6.0; 3]; 2]);
}

#[test]
fn a_weight_used_ten_times_is_one_leaf_and_its_uses_add_up() {
    // f = sum_k sum(tanh(x_k W^T)) for ten inputs x_k, all through the same W (an unrolled
    // recurrence's tied weight): one leaf on the tape, and the gradient is the sum of the ten.
    let w: Tensor<Rank2<3, 3>, f64> = random(6);
    let xs: Vec<Tensor<Rank2<2, 3>, f64>> = (0..10).map(|k| random(10 + k)).collect();
    let f = |w: Tensor<Rank2<3, 3>, f64, Tape<f64>>| {
        let mut h = xs[0].matmul(&w.transpose()).tanh();
        for x in &xs[1..] {
            h = (h + x).matmul(&w.transpose()).tanh();
        }
        h.sum()
    };
    let tape = Tape::new();
    let wt = tape.watch(&w);
    let loss = f(wt.clone());
    assert_eq!(tape.leaves(), 1);
    assert_eq!(loss.backward().len(), 1);
    gradcheck(f, &w).unwrap();
}

/// Two heads over one body; the loss may use only one of them.
#[derive(Module)]
struct TwoHeads<T: Tracking<f32> = NoTape> {
    body: Linear<3, 4, f32, T>,
    left: Linear<4, 2, f32, T>,
    right: Linear<4, 2, f32, T>,
    /// Frozen: it does not take the tracking parameter.
    frozen: Linear<2, 2>,
}

#[test]
fn unused_parameters_read_as_zeros_and_are_named() {
    let mut rng = StdRng::seed_from_u64(7);
    let model = TwoHeads {
        body: Linear::new(&mut rng),
        left: Linear::new(&mut rng),
        right: Linear::new(&mut rng),
        frozen: Linear::new(&mut rng),
    };
    let x: Tensor<Rank2<5, 3>> = Tensor::ones();
    let tape = Tape::new();
    let m = tape.watch(&model);
    let loss = m.frozen.forward(m.left.forward(m.body.forward(x))).sum();
    let grads = loss.backward();
    assert_eq!(model.unused_params(&grads), ["right.weight", "right.bias"]);
    let g: TwoHeadsGrads = model.grads(&grads);
    assert_eq!(g.right.weight, Tensor::zeros());
    assert_eq!(g.right.bias.unwrap(), Tensor::zeros());
    assert_eq!(g.frozen.weight, Tensor::zeros());
    assert_ne!(g.left.weight, Tensor::zeros());
    assert_ne!(g.body.weight, Tensor::zeros());
}

#[test]
#[should_panic(expected = "the model was not watched on the tape")]
fn reading_a_models_gradients_from_another_tape_panics() {
    let mut rng = StdRng::seed_from_u64(8);
    let model: Linear<2, 1, f64> = Linear::new(&mut rng);
    let other: Linear<2, 1, f64> = Linear::new(&mut rng);
    let tape = Tape::new();
    let grads = tape
        .watch(&other)
        .forward(Tensor::from([1.0, 2.0]))
        .sum()
        .backward();
    let _ = model.grads(&grads);
}

#[test]
fn the_gelu_custom_op_passes_gradcheck_and_trains() {
    // gelu(x) = x Φ(x); its derivative Φ(x) + x φ(x) against central differences in f64 and f32.
    let x: Tensor<Rank2<4, 5>, f64> = random(20).map(|v| 2.0 * v);
    gradcheck(|x| (gelu_op::gelu(&x) * &x).sum(), &x).unwrap();
    let x32: Tensor<Rank2<4, 5>> = Tensor::uniform(&mut StdRng::seed_from_u64(21), -4.0, 4.0);
    GradCheck::F32
        .run(|x| gelu_op::gelu(&x).sum(), &x32)
        .unwrap();
    // PyTorch's F.gelu at 1 and -1: Φ(1) and -(1 - Φ(1)).
    let y = gelu_op::gelu(&Tensor::from([1.0, -1.0]));
    approx::assert_relative_eq!(
        y,
        Tensor::from([0.841_344_746_068_543, -0.158_655_253_931_457]),
        epsilon = 1e-15
    );

    // A 2 -> 8 -> GELU -> 2 classifier learns XOR-like quadrants.
    #[derive(Module)]
    struct Net<T: Tracking<f32> = NoTape> {
        l1: Linear<2, 8, f32, T>,
        l2: Linear<8, 2, f32, T>,
    }
    impl<T: Tracking<f32>> Net<T> {
        fn forward(&self, x: Tensor<Rank2<4, 2>>) -> Tensor<Rank2<4, 2>, f32, T> {
            self.l2.forward(gelu_op::gelu(&self.l1.forward(x)))
        }
    }
    let mut rng = StdRng::seed_from_u64(22);
    let mut net = Net {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let x = Tensor::from([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]);
    let labels = Labels::new([0, 0, 1, 1]).unwrap();
    let mut opt = Adam::new(&net, 0.05);
    let mut losses = Vec::new();
    for _ in 0..200 {
        let (loss, grads) = net.value_and_grad(|m| cross_entropy(&m.forward(x.clone()), &labels));
        losses.push(loss);
        opt.step(&mut net, &grads);
    }
    assert!(
        losses[199] < losses[0] / 20.0,
        "loss {} -> {}",
        losses[0],
        losses[199]
    );
    assert_eq!(accuracy(&net.forward(x), &labels), 1.0);
}
