//! Checkpoints of training: a model and its optimizer saved after some steps and loaded into new
//! objects go on exactly as uninterrupted training does, bit for bit, with every optimizer (with a
//! schedule, gradient clipping and a parameter frozen for part of the run); a load of the wrong
//! state fails, naming every problem, and changes nothing.

use shaped::nn::{Labels, Linear, cross_entropy};
use shaped::optim::schedule::{ExponentialLr, OneCycleLr, Schedule, StepLr};
use shaped::optim::{Adagrad, Adam, AdamW, Gradients, Optimizer, RMSprop, Sgd};
use shaped::rand::{RngExt, SeedableRng, rngs::StdRng};
use shaped::{Const, ErrorKind, Module, NoTape, Rank2, Tensor, Tracking};

#[derive(Module)]
struct Mlp<T: Tracking<f32> = NoTape> {
    l1: Linear<4, 8, f32, T>,
    l2: Linear<8, 3, f32, T>,
}

impl Mlp {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        Self {
            l1: Linear::new(&mut rng),
            l2: Linear::new(&mut rng),
        }
    }
}

impl<T: Tracking<f32>> Mlp<T> {
    fn forward(&self, x: Tensor<Rank2<6, 4>>) -> Tensor<Rank2<6, 3>, f32, T> {
        self.l2.forward(self.l1.forward(x).tanh())
    }
}

type Batch = (Tensor<Rank2<6, 4>>, Labels<Const<6>, 3>);

fn data() -> Vec<Batch> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..4)
        .map(|_| {
            let x = Tensor::uniform(&mut rng, -2.0, 2.0);
            let ids: [usize; 6] = core::array::from_fn(|_| rng.random_range(0..3));
            (x, Labels::new(ids).unwrap())
        })
        .collect()
}

const STEPS: usize = 12;
const STOP: usize = 5;
const UNFREEZE: usize = 8;

/// Steps `from..to` of a run: the schedule's rate, clipped gradients, `l1.bias` frozen until step
/// `UNFREEZE`.
fn train<O: Optimizer<Mlp>, S: Schedule>(
    model: &mut Mlp,
    opt: &mut O,
    schedule: Option<&S>,
    from: usize,
    to: usize,
) {
    let data = data();
    for k in from..to {
        if k == 0 {
            opt.freeze("l1.bias").unwrap();
        }
        if k == UNFREEZE {
            opt.unfreeze("l1.bias").unwrap();
        }
        if let Some(s) = schedule {
            s.apply(opt);
        }
        let (x, y) = &data[k % data.len()];
        let (_, mut grads) = model.value_and_grad(|m| cross_entropy(&m.forward(x.clone()), y));
        grads.clip_grad_norm(1.0, 2.0);
        opt.step(model, &grads);
    }
}

fn bits(model: &Mlp) -> Vec<(String, Vec<u32>)> {
    let mut out = Vec::new();
    model.visit(&mut String::new(), &mut |name, values, _| {
        out.push((
            name.to_owned(),
            values.iter().map(|v| v.to_bits()).collect(),
        ));
    });
    out
}

/// Uninterrupted training against training saved to files after `STOP` steps and resumed in a new
/// model (another initialization) and a new optimizer (another learning rate).
fn resumes_bit_for_bit<O: Optimizer<Mlp>, S: Schedule>(
    name: &str,
    make: impl Fn(&Mlp, f32) -> O,
    schedule: Option<S>,
) {
    let start = Mlp::new(1);
    let mut straight = Mlp::new(1);
    let mut opt = make(&straight, 0.05);
    train(&mut straight, &mut opt, schedule.as_ref(), 0, STEPS);

    let mut first = Mlp::new(1);
    let mut first_opt = make(&first, 0.05);
    train(&mut first, &mut first_opt, schedule.as_ref(), 0, STOP);
    let dir = std::env::temp_dir();
    let model_path = dir.join(format!(
        "shaped_checkpoint_{name}_{}_model.safetensors",
        std::process::id()
    ));
    let opt_path = dir.join(format!(
        "shaped_checkpoint_{name}_{}_optim.safetensors",
        std::process::id()
    ));
    first.save(&model_path).unwrap();
    first_opt.save(&opt_path).unwrap();
    // The frozen parameter is saved and loaded like the others, with the values it started with.
    assert_eq!(
        first.l1.bias, start.l1.bias,
        "{name}: frozen for the first steps"
    );
    drop((first, first_opt));

    let mut resumed = Mlp::new(99);
    let mut resumed_opt = make(&resumed, 0.5);
    resumed.load(&model_path).unwrap();
    resumed_opt.load(&opt_path).unwrap();
    std::fs::remove_file(&model_path).unwrap();
    std::fs::remove_file(&opt_path).unwrap();
    assert_eq!(resumed_opt.step_count(), STOP, "{name}");
    assert_eq!(resumed_opt.frozen(), ["l1.bias"], "{name}");
    if schedule.is_none() {
        assert_eq!(
            resumed_opt.lr(),
            0.05,
            "{name}: the learning rate comes from the file"
        );
    }
    train(
        &mut resumed,
        &mut resumed_opt,
        schedule.as_ref(),
        STOP,
        STEPS,
    );

    assert_eq!(resumed_opt.step_count(), STEPS);
    assert_eq!(
        bits(&resumed),
        bits(&straight),
        "{name}: resumed training differs"
    );
    assert_ne!(
        straight.l1.bias, start.l1.bias,
        "{name}: unfrozen, it trains"
    );
    assert_ne!(straight.l2.weight, start.l2.weight, "{name}: it trains");
}

#[test]
fn sgd_with_momentum_and_one_cycle_resumes_bit_for_bit() {
    let make = |m: &Mlp, lr| {
        Sgd::new(m, lr)
            .momentum(0.9)
            .dampening(0.1)
            .weight_decay(1e-3)
    };
    resumes_bit_for_bit("sgd", make, Some(OneCycleLr::new(0.2, STEPS)));
}

#[test]
fn sgd_nesterov_resumes_bit_for_bit() {
    let make = |m: &Mlp, lr| Sgd::new(m, lr).momentum(0.9).nesterov(true);
    resumes_bit_for_bit("nesterov", make, None::<StepLr>);
}

#[test]
fn adam_with_one_cycle_resumes_bit_for_bit() {
    let make = |m: &Mlp, lr| Adam::new(m, lr).betas(0.8, 0.99).weight_decay(1e-3);
    resumes_bit_for_bit("adam", make, Some(OneCycleLr::new(0.05, STEPS)));
}

#[test]
fn adamw_with_a_step_schedule_resumes_bit_for_bit() {
    let make = |m: &Mlp, lr| AdamW::new(m, lr).weight_decay(0.05);
    resumes_bit_for_bit("adamw", make, Some(StepLr::new(0.05, 4).gamma(0.5)));
}

#[test]
fn rmsprop_resumes_bit_for_bit() {
    let make = |m: &Mlp, lr| {
        RMSprop::new(m, lr)
            .alpha(0.9)
            .momentum(0.5)
            .centered(true)
            .weight_decay(1e-3)
    };
    resumes_bit_for_bit("rmsprop", make, None::<StepLr>);
}

#[test]
fn adagrad_with_an_exponential_schedule_resumes_bit_for_bit() {
    let make = |m: &Mlp, lr| {
        Adagrad::new(m, lr)
            .lr_decay(0.01)
            .initial_accumulator_value(0.1)
            .weight_decay(1e-3)
    };
    resumes_bit_for_bit("adagrad", make, Some(ExponentialLr::new(0.1, 0.9)));
}

/// A model whose second layer is wider.
#[derive(Module)]
struct Wider {
    l1: Linear<4, 8>,
    l2: Linear<8, 5>,
}

/// A model whose layers have other names.
#[derive(Module)]
struct Renamed {
    hidden: Linear<4, 8>,
    l2: Linear<8, 3>,
}

fn trained_adam_state() -> Vec<u8> {
    let mut model = Mlp::new(1);
    let mut opt = Adam::new(&model, 0.01);
    train(&mut model, &mut opt, None::<&StepLr>, 0, 3);
    opt.to_safetensors()
}

#[test]
fn the_state_of_a_model_with_other_shapes_does_not_load() {
    let mut rng = StdRng::seed_from_u64(0);
    let wider = Wider {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let mut opt = Adam::new(&wider, 0.5);
    let err = opt.load_safetensors(&trained_adam_state()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Shape);
    assert_eq!(
        err.to_string(),
        "cannot load the Adam state: tensor `exp_avg.l2.weight` has shape [3, 8] in the file, the \
         optimizer needs [5, 8]; tensor `exp_avg_sq.l2.weight` has shape [3, 8] in the file, the \
         optimizer needs [5, 8]; tensor `exp_avg.l2.bias` has shape [3] in the file, the optimizer \
         needs [5]; tensor `exp_avg_sq.l2.bias` has shape [3] in the file, the optimizer needs [5]"
    );
    // All or nothing: the optimizer is as it was.
    assert_eq!((opt.lr(), opt.step_count()), (0.5, 0));
}

#[test]
fn the_state_of_a_model_with_other_names_does_not_load() {
    let mut rng = StdRng::seed_from_u64(0);
    let renamed = Renamed {
        hidden: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let err = Adam::new(&renamed, 0.5)
        .load_safetensors(&trained_adam_state())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Missing);
    // `l1.bias` was frozen: it has a step count and no moments.
    assert_eq!(
        err.to_string(),
        "cannot load the Adam state: missing from the file: `step.hidden.weight`, \
         `step.hidden.bias`; in the file and not in the optimizer: `exp_avg.l1.weight`, \
         `exp_avg_sq.l1.weight`, `step.l1.bias`, `step.l1.weight`; the file freezes a parameter \
         `l1.bias` that the model does not have"
    );
}

#[test]
fn another_optimizers_state_or_a_models_parameters_do_not_load() {
    let model = Mlp::new(1);
    let err = RMSprop::new(&model, 0.01)
        .load_safetensors(&trained_adam_state())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
    assert_eq!(
        err.to_string(),
        "the file holds the state of Adam, not of RMSprop"
    );
    let err = Adam::new(&model, 0.01)
        .load_safetensors(&model.to_safetensors())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the file holds no optimizer state (its metadata names no `optimizer`): the parameters \
         of a model?"
    );
    let err = Adam::new(&model, 0.01)
        .load_safetensors(b"nonsense")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Format);
}

#[test]
fn an_f32_state_does_not_load_into_an_f64_optimizer() {
    let model: Linear<4, 8, f64> = Linear::new(&mut StdRng::seed_from_u64(0));
    let mut rng = StdRng::seed_from_u64(0);
    let narrow: Linear<4, 8> = Linear::new(&mut rng);
    let mut opt32 = Sgd::new(&narrow, 0.1).momentum(0.9);
    let mut narrow2 = narrow.clone();
    opt32.step(&mut narrow2, &narrow.zeros_like());
    let err = Sgd::new(&model, 0.1)
        .load_safetensors(&opt32.to_safetensors())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Dtype);
    assert_eq!(
        err.to_string(),
        "cannot load the Sgd state: tensor `momentum_buffer.weight` is f32 in the file, the \
         optimizer needs f64; tensor `momentum_buffer.bias` is f32 in the file, the optimizer \
         needs f64"
    );
}

/// `bytes` with `from` replaced by `to` (of the same length) in the header.
fn edit(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("`{from}` is not in the file"));
    let mut out = bytes.to_vec();
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    out
}

#[test]
fn invalid_settings_in_the_file_are_named() {
    let p: Tensor<shaped::Rank1<2>> = Tensor::zeros();
    let state = Sgd::new(&p, 0.5).momentum(0.25).to_safetensors();
    let mut opt = Sgd::new(&p, 0.1);
    let err = opt
        .load_safetensors(&edit(&state, "\"lr\":\"0.5\"", "\"lr\":\"abc\""))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert_eq!(
        err.to_string(),
        "cannot load the Sgd state: setting `lr` is `abc` in the file, not a number"
    );
    let err = opt
        .load_safetensors(&edit(
            &state,
            "\"momentum\":\"0.25\"",
            "\"momentum\":\"-0.5\"",
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OutOfRange);
    assert_eq!(
        err.to_string(),
        "cannot load the Sgd state: setting `momentum` is -0.5 in the file, which is invalid"
    );
    assert_eq!(opt.lr(), 0.1);
    opt.load_safetensors(&state).unwrap();
    assert_eq!(opt.lr(), 0.5);
}
