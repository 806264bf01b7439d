//! Every path from a watched parameter to the loss is differentiated, in free code and in model
//! code: a parameter transposed, broadcast or penalised on its own before it meets anything else, a
//! parameter used many times (one leaf, one gradient buffer), a parameter the loss does not reach (a
//! typed zero, and named by `unused_params`), two layers made by cloning one (two sets of
//! parameters), the stored tensor of a watched parameter used inside `value_and_grad`, and ops written
//! outside the crate.

#[path = "../../examples/gelu/op.rs"]
mod gelu_op;

use shaped::nn::{Labels, Linear, accuracy, cross_entropy};
use shaped::optim::{Adam, Optimizer, Sgd};
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
    /// Frozen: it does not take the tracking parameter, and says so.
    #[module(frozen)]
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
    let (model, grads) = gradients_of_another_model();
    let _ = model.grads(&grads);
}

/// A layer, and the gradients of a backward pass on which another layer was watched and it was not.
fn gradients_of_another_model() -> (Linear<2, 1, f64>, shaped::Grads<f64>) {
    let mut rng = StdRng::seed_from_u64(8);
    let model: Linear<2, 1, f64> = Linear::new(&mut rng);
    let other: Linear<2, 1, f64> = Linear::new(&mut rng);
    let tape = Tape::new();
    let grads = tape
        .watch(&other)
        .forward(Tensor::from([1.0, 2.0]))
        .sum()
        .backward();
    (model, grads)
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

/// Two heads of the same shape, built from one layer by cloning it.
#[derive(Module, Clone)]
struct Twin<T: Tracking<f64> = NoTape> {
    a: Linear<2, 1, f64, T>,
    b: Linear<2, 1, f64, T>,
}

impl<T: Tracking<f64>> Twin<T> {
    /// sum(a(x)) + 3 sum(b(x))
    fn loss(&self, x: &Tensor<Rank1<2>, f64>) -> shaped::Tensor<shaped::Rank0, f64, T> {
        self.a.forward(x.clone()).sum() + self.b.forward(x.clone()).sum() * 3.0
    }
}

fn twin(seed: u64) -> Twin {
    let layer: Linear<2, 1, f64> = Linear::new(&mut StdRng::seed_from_u64(seed));
    Twin {
        a: layer.clone(),
        b: layer,
    }
}

#[test]
fn two_layers_made_by_cloning_one_have_their_own_gradients() {
    // loss = sum(A x + a) + 3 sum(B x + b) at x = [1, 2]:
    // d/dA = x = [[1, 2]], d/da = [1], d/dB = 3x = [[3, 6]], d/db = [3].
    let model = twin(0);
    let x = Tensor::from([1.0, 2.0]);
    let (_, g) = model.value_and_grad(|m| m.loss(&x));
    assert_eq!(g.a.weight.to_array(), [[1.0, 2.0]]);
    assert_eq!(g.a.bias.unwrap().to_vec(), vec![1.0]);
    assert_eq!(g.b.weight.to_array(), [[3.0, 6.0]]);
    assert_eq!(g.b.bias.unwrap().to_vec(), vec![3.0]);
    // The same against central differences, the four parameters as four inputs.
    let bias = |l: &Linear<2, 1, f64>| l.bias.clone().unwrap();
    gradcheck(
        |(aw, ab, bw, bb)| {
            let m = Twin {
                a: Linear {
                    weight: aw,
                    bias: Some(ab),
                },
                b: Linear {
                    weight: bw,
                    bias: Some(bb),
                },
            };
            m.loss(&x)
        },
        (
            &model.a.weight,
            &bias(&model.a),
            &model.b.weight,
            &bias(&model.b),
        ),
    )
    .unwrap();
}

#[test]
fn two_layers_made_by_cloning_one_train_apart() {
    // The loss is linear in the parameters, so every SGD step moves them by lr times the constant
    // gradient: after 3 steps at lr 0.1, A by -0.3 [1, 2] and B by -0.9 [1, 2].
    let mut model = twin(1);
    let start = model.a.weight.to_array()[0];
    let x = Tensor::from([1.0, 2.0]);
    let mut opt = Sgd::new(&model, 0.1);
    for _ in 0..3 {
        let (_, g) = model.value_and_grad(|m| m.loss(&x));
        opt.step(&mut model, &g);
    }
    let (a, b) = (model.a.weight.to_array()[0], model.b.weight.to_array()[0]);
    for i in 0..2 {
        let xi = x.as_slice()[i];
        approx::assert_relative_eq!(a[i], start[i] - 0.3 * xi, epsilon = 1e-12);
        approx::assert_relative_eq!(b[i], start[i] - 0.9 * xi, epsilon = 1e-12);
    }
}

#[test]
fn a_head_made_by_cloning_the_used_one_is_named_unused() {
    let model = twin(5);
    let tape = Tape::new();
    let m = tape.watch(&model);
    assert_eq!(tape.leaves(), 4);
    let grads = m.a.forward(Tensor::from([1.0, 2.0])).sum().backward();
    assert_eq!(model.unused_params(&grads), ["b.weight", "b.bias"]);
    let g = model.grads(&grads);
    assert_eq!(g.b.weight.to_array(), [[0.0, 0.0]]);
    // d(sum(A x + a))/dA = x
    assert_eq!(g.a.weight.to_array(), [[1.0, 2.0]]);
}

/// `x w` and the penalty `sum(w^2)`.
#[derive(Module)]
struct Scale<T: Tracking<f64> = NoTape> {
    w: Tensor<Rank1<1>, f64, T>,
}

impl<T: Tracking<f64>> Scale<T> {
    fn forward(&self, x: &Tensor<Rank1<1>, f64>) -> Tensor<Rank1<1>, f64, T> {
        x * &self.w
    }

    fn penalty(&self) -> shaped::Tensor<shaped::Rank0, f64, T> {
        self.w.powi(2).sum()
    }
}

#[test]
fn the_stored_parameter_used_inside_value_and_grad_is_that_parameter() {
    // At w = 1, x = 4. The stored tensor `model.w` meets the taped `m` in an op, and stands for the
    // watched parameter there.
    let model = Scale {
        w: Tensor::from([1.0]),
    };
    let x = Tensor::from([4.0]);
    // loss = sum(x w * w): d/dw = 2 x w = 8
    let (loss, g) = model.value_and_grad(|m| (m.forward(&x) * &model.w).sum());
    assert_eq!((loss, g.w.to_vec()), (4.0, vec![8.0]));
    // loss = x w + sum(w * w), the second factor stored: d/dw = x + 2w = 6
    let (loss, g) = model.value_and_grad(|m| m.forward(&x).sum() + (&m.w * &model.w).sum());
    assert_eq!((loss, g.w.to_vec()), (5.0, vec![6.0]));
    // The same through an explicit watch, and a stored tensor repeated by broadcasting:
    // loss = sum over 3 rows of x w * w = 3 x w^2, d/dw = 6 x w = 24.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let rows = m.forward(&x).broadcast_to::<Rank2<3, 1>>();
    let grads = (rows * &model.w).sum().backward();
    assert_eq!(model.grads(&grads).w.to_vec(), vec![24.0]);
    assert!(model.unused_params(&grads).is_empty());
    // Both against central differences.
    gradcheck(|w| (&x * &w * &w).sum(), &model.w).unwrap();
    gradcheck(|w| (&x * &w).sum() + (&w * &w).sum(), &model.w).unwrap();
    // A value computed from the stored model inside `value_and_grad` is differentiated too:
    // loss = x w + sum(w^2), d/dw = x + 2w = 6, whether the penalty reads `model` or `m`.
    let (loss, g) = model.value_and_grad(|m| m.forward(&x).sum() + model.penalty());
    assert_eq!((loss, g.w.to_vec()), (5.0, vec![6.0]));
    let (_, g) = model.value_and_grad(|m| m.forward(&x).sum() + m.penalty());
    assert_eq!(g.w.to_vec(), vec![6.0]);
}

/// One parameter of two values.
#[derive(Module)]
struct Pair<T: Tracking<f64> = NoTape> {
    w: Tensor<Rank1<2>, f64, T>,
}

#[test]
fn values_computed_from_the_stored_model_while_it_is_watched_are_differentiated() {
    // At w = [1, 2], x = [4, 3].
    let model = Pair {
        w: Tensor::from([1.0, 2.0]),
    };
    let x = Tensor::from([4.0, 3.0]);
    // A chain of ops on the stored tensor, a clone on the way, then the taped value:
    // loss = sum(x w) + sum(exp(w)^2 / 2) = sum(x w) + sum(e^(2w)) / 2, d/dw = x + e^(2w).
    let (loss, g) = model.value_and_grad(|m| {
        let e = model.w.exp();
        let penalty = (e.clone() * e).sum() * 0.5;
        (&x * &m.w).sum() + penalty
    });
    let want = [4.0 + 2.0_f64.exp(), 3.0 + 4.0_f64.exp()];
    assert!((loss - (10.0 + (2.0_f64.exp() + 4.0_f64.exp()) / 2.0)).abs() < 1e-12);
    for (got, want) in g.w.to_vec().iter().zip(want) {
        assert!((got - want).abs() < 1e-12, "{got} against {want}");
    }
    // The same function against central differences.
    gradcheck(
        |w| (&x * &w).sum() + (w.exp() * w.exp()).sum() * 0.5,
        &model.w,
    )
    .unwrap();
    // With an explicit watch: a penalty computed after the watch from the stored model alone,
    // added to a taped term of gradient zero. loss = 0 sum(w) + sum(w^2), d/dw = 2w.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let penalty = model.w.powi(2).sum();
    let grads = ((&m.w * 0.0).sum() + penalty).backward();
    assert_eq!(model.grads(&grads).w.to_vec(), vec![2.0, 4.0]);
}

#[test]
fn values_computed_before_the_watch_or_after_backward_are_constants() {
    let model = Pair {
        w: Tensor::from([1.0, 2.0]),
    };
    let x = Tensor::from([4.0, 3.0]);
    // Computed before any tape: c = sum(w^2) = 5 is a number; loss = sum(x w) + c, d/dw = x.
    let c = model.w.powi(2).sum();
    let (loss, g) = model.value_and_grad(|m| (&x * &m.w).sum() + &c);
    assert_eq!((loss, g.w.to_vec()), (15.0, vec![4.0, 3.0]));
    // After backward the tape records nothing more, and inference records nothing at all.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let grads = (&x * &m.w).sum().backward();
    let ops = tape.len();
    let _ = model.w.powi(2).sum();
    assert_eq!(tape.len(), ops);
    assert_eq!(model.grads(&grads).w.to_vec(), vec![4.0, 3.0]);
    // A detached value is a constant, and so is what is computed from it:
    // loss = sum(w * stop(w)) + sum(exp(stop(w))), d/dw = stop(w) = w.
    let (_, g) = model.value_and_grad(|m| {
        let stopped = m.w.detach();
        (&m.w * &stopped).sum() + stopped.exp().sum()
    });
    assert_eq!(g.w.to_vec(), vec![1.0, 2.0]);
}

#[test]
#[should_panic(expected = "Module::unused_params: the model was not watched on the tape")]
fn naming_unused_parameters_from_another_tape_panics() {
    let (model, grads) = gradients_of_another_model();
    let _ = model.unused_params(&grads);
}
