//! Fields marked `#[module(frozen)]`: parameters of the model that are never trained. No optimizer
//! changes them (weight decay and momentum included), their gradients read as zeros, they are not
//! listed as unused, and they are saved and loaded with the model.

use shaped::nn::{Dropout, Linear};
use shaped::optim::{Adagrad, Adam, AdamW, Optimizer, RMSprop, Sgd};
use shaped::rand::{SeedableRng, rngs::StdRng};
use shaped::{ErrorKind, Module, NoTape, Rank1, Tape, Tensor, Tracking};

/// A model not generic over its tracking, nested frozen.
#[derive(Module, Clone)]
struct Body {
    l: Linear<2, 2, f64>,
}

#[derive(Module)]
struct Tuned<T: Tracking<f64> = NoTape> {
    #[module(frozen)]
    body: Body,
    #[module(frozen)]
    scale: Tensor<Rank1<2>, f64>,
    head: Linear<2, 1, f64, T>,
    drop: Dropout<f64>,
}

impl<T: Tracking<f64>> Tuned<T> {
    /// `head(body(x) * scale)`.
    fn forward(&self, x: &Tensor<Rank1<2>, f64>) -> Tensor<Rank1<1>, f64, T> {
        let h = self.body.l.forward(x.clone()) * &self.scale;
        self.head.forward(self.drop.forward(h))
    }
}

fn tuned(seed: u64) -> Tuned {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut drop = Dropout::new(0.5, seed);
    drop.set_training(false);
    Tuned {
        body: Body {
            l: Linear::new(&mut rng),
        },
        scale: Tensor::from([2.0, -3.0]),
        head: Linear::new(&mut rng),
        drop,
    }
}

fn bits(m: &impl Module<Elem = f64>) -> Vec<u64> {
    let mut out = Vec::new();
    m.visit(&mut String::new(), &mut |_, v, _| {
        out.extend(v.iter().map(|x| x.to_bits()));
    });
    out
}

const FROZEN: [&str; 3] = ["body.l.weight", "body.l.bias", "scale"];

/// Five steps of `opt` on the loss `(head(body(x) * scale) - 1)^2`: the frozen fields stay
/// bit-identical while the head moves.
fn train(name: &str, mut opt: impl Optimizer<Tuned>, model: &mut Tuned) {
    let (body, scale, head) = (bits(&model.body), bits(&model.scale), bits(&model.head));
    assert_eq!(opt.frozen(), FROZEN, "{name}");
    let x = Tensor::from([0.5, -1.5]);
    for _ in 0..5 {
        let (_, g) = model.value_and_grad(|m| (m.forward(&x) - 1.0).powi(2).sum());
        opt.step(model, &g);
    }
    assert_eq!(bits(&model.body), body, "{name}: body moved");
    assert_eq!(bits(&model.scale), scale, "{name}: scale moved");
    assert_ne!(bits(&model.head), head, "{name}: the head did not move");
}

#[test]
fn no_optimizer_changes_a_frozen_field() {
    train(
        "Sgd",
        Sgd::new(&tuned(0), 0.1).momentum(0.9).weight_decay(0.5),
        &mut tuned(0),
    );
    train(
        "Sgd nesterov",
        Sgd::new(&tuned(0), 0.1)
            .momentum(0.9)
            .nesterov(true)
            .weight_decay(0.5),
        &mut tuned(0),
    );
    train(
        "Adam",
        Adam::new(&tuned(1), 0.1).weight_decay(0.5),
        &mut tuned(1),
    );
    train(
        "AdamW",
        AdamW::new(&tuned(2), 0.1).weight_decay(0.5),
        &mut tuned(2),
    );
    train(
        "RMSprop",
        RMSprop::new(&tuned(3), 0.1).momentum(0.9).weight_decay(0.5),
        &mut tuned(3),
    );
    train(
        "Adagrad",
        Adagrad::new(&tuned(4), 0.1).weight_decay(0.5),
        &mut tuned(4),
    );
}

/// A linear score of the input plus a fixed positional offset: `pos` is a constant of the model,
/// saved with it and never trained.
#[derive(Module)]
struct Offset<T: Tracking<f64> = NoTape> {
    #[module(frozen)]
    pos: Tensor<Rank1<3>, f64>,
    head: Linear<3, 1, f64, T>,
}

impl<T: Tracking<f64>> Offset<T> {
    /// `w . (x + pos) + b`.
    fn score(&self, x: &Tensor<Rank1<3>, f64>) -> Tensor<Rank1<1>, f64, T> {
        self.head.forward(x.clone() + &self.pos)
    }
}

/// `pos = [1, -2, 0.5]`, head `w = [[0.5, -1, 2]]`, `b = [0.25]`.
fn offset() -> Offset {
    Offset {
        pos: Tensor::from([1.0, -2.0, 0.5]),
        head: Linear::from_weights(Tensor::from([[0.5, -1.0, 2.0]]), Some(Tensor::from([0.25]))),
    }
}

/// The input of the `Offset` tests: `x + pos = [1.5, -1.5, 0.5]`, so the loss `w . (x + pos) + b`
/// has the constant derivatives `d/dw = x + pos = [1.5, -1.5, 0.5]` and `d/db = 1`.
const X: [f64; 3] = [0.5, 0.5, 0.0];
const DW: [f64; 3] = [1.5, -1.5, 0.5];

/// Three steps of `opt` on `Offset`'s loss; returns the head's `w` and `b` after each step, and
/// checks that `pos` kept its bits and that its gradient was zero.
fn steps(mut opt: impl Optimizer<Offset>, model: &mut Offset) -> Vec<([f64; 3], f64)> {
    let pos = bits(&model.pos);
    let x = Tensor::from(X);
    let mut out = Vec::new();
    for _ in 0..3 {
        let (_, g) = model.value_and_grad(|m| m.score(&x).sum());
        assert_eq!(g.head.weight.to_array(), [DW]);
        assert_eq!(g.head.bias.as_ref().unwrap().to_vec(), vec![1.0]);
        assert_eq!(g.pos.to_vec(), vec![0.0; 3]);
        opt.step(model, &g);
        assert_eq!(bits(&model.pos), pos, "pos moved");
        out.push((
            model.head.weight.to_array()[0],
            model.head.bias.as_ref().unwrap().to_array()[0],
        ));
    }
    out
}

#[test]
fn adamw_decays_the_trained_fields_and_leaves_the_frozen_one() {
    let mut model = offset();
    let opt = AdamW::new(&model, 0.1).weight_decay(0.5);
    let got = steps(opt, &mut model);
    // AdamW at step t: p = p (1 - lr wd); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    // p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps). With a constant gradient the
    // corrected moments are g and g^2, so each step is p = 0.95 p - 0.1 g / (|g| + 1e-8):
    // w = [0.5, -1, 2] -> [0.375, -0.85, 1.8] (up to eps) after the first step.
    let mut w = [0.5, -1.0, 2.0];
    let mut b: f64 = 0.25;
    let step = |p: f64, g: f64| 0.95 * p - 0.1 * g / (g.abs() + 1e-8);
    for (t, (gw, gb)) in got.iter().enumerate() {
        for i in 0..3 {
            w[i] = step(w[i], DW[i]);
            approx::assert_relative_eq!(gw[i], w[i], epsilon = 1e-12);
        }
        b = step(b, 1.0);
        approx::assert_relative_eq!(*gb, b, epsilon = 1e-12);
        if t == 0 {
            approx::assert_relative_eq!(gw[..], [0.375, -0.85, 1.8][..], epsilon = 1e-8);
            approx::assert_relative_eq!(*gb, 0.1375, epsilon = 1e-8);
        }
    }
    // Had the decay reached `pos`, it would now be 0.95^3 times itself.
    assert_eq!(model.pos.to_vec(), vec![1.0, -2.0, 0.5]);
}

#[test]
fn sgd_with_weight_decay_and_momentum_leaves_the_frozen_field() {
    let mut model = offset();
    let opt = Sgd::new(&model, 0.1).momentum(0.9).weight_decay(0.5);
    let got = steps(opt, &mut model);
    // SGD: g = grad + wd p; buf = g at the first step, then buf = 0.9 buf + g; p -= lr buf.
    // First step: w[0]: g = 1.5 + 0.5 * 0.5 = 1.75, p = 0.5 - 0.1 * 1.75 = 0.325; w[2]:
    // g = 0.5 + 0.5 * 2 = 1.5, p = 2 - 0.15 = 1.85.
    let (mut w, mut b) = ([0.5, -1.0, 2.0], 0.25);
    let (mut buf_w, mut buf_b) = ([0.0; 3], 0.0);
    for (t, (gw, gb)) in got.iter().enumerate() {
        for i in 0..3 {
            let g = DW[i] + 0.5 * w[i];
            buf_w[i] = if t == 0 { g } else { 0.9 * buf_w[i] + g };
            w[i] -= 0.1 * buf_w[i];
            approx::assert_relative_eq!(gw[i], w[i], epsilon = 1e-12);
        }
        let g = 1.0 + 0.5 * b;
        buf_b = if t == 0 { g } else { 0.9 * buf_b + g };
        b -= 0.1 * buf_b;
        approx::assert_relative_eq!(*gb, b, epsilon = 1e-12);
    }
    approx::assert_relative_eq!(got[0].0[..], [0.325, -0.8, 1.85][..], epsilon = 1e-12);
    assert_eq!(model.pos.to_vec(), vec![1.0, -2.0, 0.5]);
}

#[test]
fn a_frozen_constant_is_saved_loaded_and_never_unused() {
    let model = offset();
    let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["pos", "head.weight", "head.bias"]);
    assert_eq!(model.frozen_params(), ["pos"]);
    // The loss does not use the head's bias: it alone is unused; `pos` is not listed.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let grads = m.head.weight.sum().backward();
    assert_eq!(model.unused_params(&grads), ["head.bias"]);
    // Save, then load into a model whose `pos` differs.
    let bytes = model.to_safetensors();
    let mut back = Offset {
        pos: Tensor::from([9.0, 9.0, 9.0]),
        head: Linear::zeros(),
    };
    back.load_safetensors(&bytes).unwrap();
    assert_eq!(back.pos.to_vec(), vec![1.0, -2.0, 0.5]);
    assert_eq!(back.head.weight.to_array(), [[0.5, -1.0, 2.0]]);
}

/// The model of the gradient tests: body `W = [[1, 2], [3, -1]]`, `b = [0.5, -0.5]`, scale
/// `[2, -3]`, head `w = [[0.25, 0.5]]`, `b = [0.1]`.
fn fixed() -> Tuned {
    let mut drop = Dropout::new(0.5, 0);
    drop.set_training(false);
    Tuned {
        body: Body {
            l: Linear::from_weights(
                Tensor::from([[1.0, 2.0], [3.0, -1.0]]),
                Some(Tensor::from([0.5, -0.5])),
            ),
        },
        scale: Tensor::from([2.0, -3.0]),
        head: Linear::from_weights(Tensor::from([[0.25, 0.5]]), Some(Tensor::from([0.1]))),
        drop,
    }
}

#[test]
fn a_frozen_fields_gradient_is_zero_and_the_trained_ones_are_exact() {
    let model = fixed();
    let x = Tensor::from([1.0, 1.0]);
    // h = body(x) * scale = [3.5, 1.5] * [2, -3] = [7, -4.5]; loss = w . h + b = 1.75 - 2.25 + 0.1.
    let (loss, g) = model.value_and_grad(|m| m.forward(&x).sum());
    assert!((loss - -0.4).abs() < 1e-15, "{loss}");
    // d/dw = h = [7, -4.5], d/db = 1.
    assert_eq!(g.head.weight.to_array(), [[7.0, -4.5]]);
    assert_eq!(g.head.bias.unwrap().to_vec(), vec![1.0]);
    // The loss does depend on the frozen fields (d/dscale = w * body(x) = [0.875, 0.75]), but a
    // frozen field is not put on the tape: its gradient is documented to read as zeros.
    assert_eq!(g.scale.to_vec(), vec![0.0, 0.0]);
    assert_eq!(g.body.l.weight.to_array(), [[0.0; 2]; 2]);
    assert_eq!(g.body.l.bias.unwrap().to_vec(), vec![0.0; 2]);
}

#[test]
fn frozen_fields_are_not_unused_parameters() {
    let model = fixed();
    let x = Tensor::from([1.0, 1.0]);
    assert_eq!(model.frozen_params(), FROZEN);
    // A loss that uses every field: nothing is unused.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let grads = m.forward(&x).sum().backward();
    assert!(model.unused_params(&grads).is_empty());
    // A loss that uses the frozen fields only: the head is unused, the frozen fields are not listed.
    let tape = Tape::new();
    let m = tape.watch(&model);
    let h: Tensor<Rank1<2>, f64> = m.body.l.forward(x.clone()) * &m.scale;
    let grads = (m.head.weight.sum() * h.sum().item()).backward();
    assert_eq!(model.unused_params(&grads), ["head.bias"]);
}

#[test]
fn frozen_fields_are_saved_and_loaded_with_the_model() {
    let model = fixed();
    let bytes = model.to_safetensors();
    let names: Vec<String> = model.params().into_iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "body.l.weight",
            "body.l.bias",
            "scale",
            "head.weight",
            "head.bias"
        ]
    );
    let mut back = tuned(9);
    back.scale = Tensor::from([5.0, 5.0]);
    assert_ne!(bits(&back), bits(&model));
    back.load_safetensors(&bytes).unwrap();
    assert_eq!(bits(&back), bits(&model));
    assert_eq!(back.scale.to_vec(), vec![2.0, -3.0]);
}

/// `Tuned` with every field trained: the same parameter names and sizes, nothing frozen.
#[derive(Module)]
struct TrainedBody<T: Tracking<f64> = NoTape> {
    l: Linear<2, 2, f64, T>,
}

#[derive(Module)]
struct AllTrained<T: Tracking<f64> = NoTape> {
    body: TrainedBody<T>,
    scale: Tensor<Rank1<2>, f64, T>,
    head: Linear<2, 1, f64, T>,
}

#[test]
fn an_optimizer_checkpoint_keeps_frozen_fields_frozen() {
    // A checkpoint of the same parameters, none of them frozen, with moments for every one.
    let mut twin = AllTrained {
        body: TrainedBody {
            l: Linear::new(&mut StdRng::seed_from_u64(5)),
        },
        scale: Tensor::from([2.0, -3.0]),
        head: Linear::new(&mut StdRng::seed_from_u64(6)),
    };
    let mut opt = AdamW::new(&twin, 0.1).weight_decay(0.5);
    let x = Tensor::from([0.5, -1.5]);
    let (_, g) = twin.value_and_grad(|m| {
        let h = m.body.l.forward(x.clone()) * &m.scale;
        (m.head.forward(h) - 1.0).powi(2).sum()
    });
    opt.step(&mut twin, &g);
    assert!(opt.frozen().is_empty());
    let state = opt.to_safetensors();
    // Loaded for `Tuned`, it does not unfreeze what the model freezes.
    let mut model = tuned(5);
    let mut resumed = AdamW::new(&model, 0.1);
    resumed.load_safetensors(&state).unwrap();
    assert_eq!(resumed.frozen(), FROZEN);
    let (body, scale, head) = (bits(&model.body), bits(&model.scale), bits(&model.head));
    for _ in 0..3 {
        let (_, g) = model.value_and_grad(|m| (m.forward(&x) - 1.0).powi(2).sum());
        resumed.step(&mut model, &g);
    }
    assert_eq!(bits(&model.body), body);
    assert_eq!(bits(&model.scale), scale);
    assert_ne!(bits(&model.head), head);
}

#[test]
fn unfreeze_does_not_reach_a_field_frozen_in_the_model() {
    let model = tuned(6);
    let mut opt = Sgd::new(&model, 0.1).weight_decay(0.5);
    // The optimizer's own freezing is undone by `unfreeze`, the model's is not.
    opt.freeze("head").unwrap();
    assert_eq!(opt.frozen().len(), 5);
    opt.unfreeze("head").unwrap();
    assert_eq!(opt.frozen(), FROZEN);
    assert_eq!(opt.unfreeze("body").unwrap_err().kind(), ErrorKind::Missing);
    let err = opt.unfreeze("scale").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    assert_eq!(
        err.to_string(),
        "cannot unfreeze `scale`: it is frozen in the model (a field marked `#[module(frozen)]`), \
         and no optimizer updates it"
    );
}

#[test]
fn a_frozen_field_inside_a_tuple_is_still_frozen() {
    // A tuple of layers passes the frozen names of its parts on, under their indices.
    let mut pair = (
        Linear::<2, 2, f64>::new(&mut StdRng::seed_from_u64(8)),
        tuned(7),
    );
    assert_eq!(
        pair.frozen_params(),
        ["1.body.l.weight", "1.body.l.bias", "1.scale"]
    );
    let (first, body) = (bits(&pair.0), bits(&pair.1.body));
    let mut opt = Sgd::new(&pair, 0.1).weight_decay(0.5);
    // Gradients of ones everywhere, the frozen fields' too (as a hand-made gradient could be).
    let mut g = pair.zeros_like();
    g.visit_mut(&mut String::new(), &mut |_, v, _| v.fill(1.0));
    opt.step(&mut pair, &g);
    assert_eq!(bits(&pair.1.body), body);
    assert_ne!(bits(&pair.0), first);
}
