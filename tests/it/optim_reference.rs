//! The optimizers' update rules against torch.optim: three steps from the same start with the same
//! gradients, and four steps with a parameter frozen for the first two; gradient clipping against
//! torch.nn.utils; learning-rate schedules against torch.optim.lr_scheduler over hundreds of steps.
//! The expected values were recorded from PyTorch 2.15 in float64 by `scripts/optim_reference.py`
//! (printed and copied here, or written to `tests/data/optim_schedules.txt` for the schedules); the
//! first two SGD cases can also be checked by hand (comments). A step on parameters of sizes other
//! than the optimizer's panics before it changes the model or the optimizer.

use std::collections::{BTreeMap, HashMap};

use shaped::optim::schedule::{
    CosineAnnealingLr, ExponentialLr, LinearLr, MultiStepLr, OneCycleLr, Schedule, StepLr,
};
use shaped::optim::{Adagrad, Adam, AdamW, Gradients, Optimizer, RMSprop, Sgd};
use shaped::{Module, Rank1, Rank2, Tensor};

type P = Tensor<Rank1<3>, f64>;

fn run(mut opt: impl Optimizer<P>, mut p: P) -> Vec<f64> {
    for g in [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.1], [0.2, 0.2, -0.6]] {
        opt.step(&mut p, &Tensor::from(g));
    }
    p.to_vec()
}

fn start() -> P {
    Tensor::from([0.5, -1.0, 2.0])
}

fn assert_close(got: &[f64], want: &[f64]) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-15 + 1e-13 * w.abs(),
            "got {got:?}, want {want:?}"
        );
    }
}

#[test]
fn plain_sgd() {
    // p - 0.1 * (g1 + g2 + g3) = [0.5, -1, 2] - 0.1 * [-0.1, 0.5, -0.2]
    let p = start();
    assert_close(&run(Sgd::new(&p, 0.1), p), &[0.51, -1.05, 2.02]);
}

#[test]
fn sgd_with_momentum() {
    // buf1 = g1, buf2 = 0.9 g1 + g2, buf3 = 0.81 g1 + 0.9 g2 + g3; p -= 0.1 (buf1 + buf2 + buf3)
    let p = start();
    assert_close(
        &run(Sgd::new(&p, 0.1).momentum(0.9), p),
        &[0.5289, -1.0608, 1.9597],
    );
}

#[test]
fn sgd_with_dampening() {
    let p = start();
    assert_close(
        &run(Sgd::new(&p, 0.1).momentum(0.9).dampening(0.1), p),
        &[0.5233, -1.0493, 1.9556],
    );
}

#[test]
fn sgd_nesterov_with_weight_decay() {
    let p = start();
    let opt = Sgd::new(&p, 0.1)
        .momentum(0.9)
        .nesterov(true)
        .weight_decay(0.01);
    assert_close(
        &run(opt, p),
        &[0.5319509619805, -1.096710223961, 1.9680046365119999],
    );
}

#[test]
fn adam() {
    let p = start();
    assert_close(
        &run(Adam::new(&p, 0.01), p),
        &[0.49669677234642673, -0.9998515828128192, 1.9838046980740491],
    );
}

#[test]
fn adam_with_l2_weight_decay_and_betas() {
    let p = start();
    let opt = Adam::new(&p, 0.01).betas(0.8, 0.99).weight_decay(0.1);
    assert_close(
        &run(opt, p),
        &[0.49374063866212287, -0.9957187813659137, 1.9789834387463816],
    );
}

#[test]
fn adam_with_a_small_beta1() {
    // 1 - beta1 = 0.7: PyTorch's lerp computes the moment from the gradient's side.
    let p = start();
    assert_close(
        &run(Adam::new(&p, 0.01).betas(0.3, 0.999), p),
        &[0.4973401864893654, -1.006088392716247, 1.9934358012293114],
    );
}

#[test]
fn adamw_decoupled_weight_decay() {
    let p = start();
    assert_close(
        &run(AdamW::new(&p, 0.01).weight_decay(0.1), p),
        &[0.4952126668096792, -0.996870149659298, 1.9778393967125003],
    );
}

#[test]
#[should_panic(expected = "nesterov momentum requires a momentum and zero dampening")]
fn nesterov_without_momentum_is_refused() {
    let mut p = start();
    let mut opt = Sgd::new(&p, 0.1)
        .momentum(0.9)
        .dampening(0.5)
        .nesterov(true);
    opt.step(&mut p, &Tensor::zeros());
}

#[test]
#[should_panic(expected = "invalid learning rate: -1")]
fn a_negative_learning_rate_is_refused() {
    let _ = Sgd::new(&start(), -1.0);
}

#[test]
#[should_panic(expected = "nesterov momentum requires a momentum and zero dampening")]
fn nesterov_with_zero_momentum_is_refused() {
    let mut p = start();
    let mut opt = Sgd::new(&p, 0.1).nesterov(true);
    opt.step(&mut p, &Tensor::zeros());
}

#[test]
fn rmsprop() {
    let p = start();
    assert_close(
        &run(RMSprop::new(&p, 0.01), p),
        &[0.4532111545062486, -1.0279025060930336, 1.95688155406591],
    );
}

#[test]
fn rmsprop_with_momentum() {
    let p = start();
    assert_close(
        &run(RMSprop::new(&p, 0.01).momentum(0.5), p),
        &[0.42673261584054956, -0.9993584191008678, 1.8659985606615637],
    );
}

#[test]
fn rmsprop_centered_with_a_small_alpha() {
    let p = start();
    assert_close(
        &run(RMSprop::new(&p, 0.01).alpha(0.3).centered(true), p),
        &[0.48834541561964223, -1.006724442289306, 1.9848129226655378],
    );
}

#[test]
fn rmsprop_with_every_setting() {
    let p = start();
    let opt = RMSprop::new(&p, 0.01)
        .alpha(0.9)
        .eps(1e-6)
        .weight_decay(0.1)
        .momentum(0.9)
        .centered(true);
    assert_close(
        &run(opt, p),
        &[0.4485010766508906, -0.9658542465614615, 1.8939538835446519],
    );
}

#[test]
fn adagrad() {
    let p = start();
    assert_close(
        &run(Adagrad::new(&p, 0.1), p),
        &[0.4533706720533291, -1.0276632003063635, 1.956842397121544],
    );
}

#[test]
fn adagrad_with_every_setting() {
    let p = start();
    let opt = Adagrad::new(&p, 0.1)
        .lr_decay(0.5)
        .weight_decay(0.1)
        .initial_accumulator_value(0.2)
        .eps(1e-6);
    assert_close(
        &run(opt, p),
        &[0.4885750867265944, -0.9918462382196905, 1.9232583105812742],
    );
}

/// A model of two tensors: `a` is frozen for the first two of four steps.
#[derive(Module)]
struct Two {
    a: Tensor<Rank1<3>, f64>,
    b: Tensor<Rank1<2>, f64>,
}

/// Four steps with `a` frozen for the first two (PyTorch: `a.grad = None`, so `a` is skipped).
fn run_frozen<O: Optimizer<Two>>(make: impl FnOnce(&Two) -> O) -> (Vec<f64>, Vec<f64>) {
    let mut m = Two {
        a: Tensor::from([0.5, -1.0, 2.0]),
        b: Tensor::from([0.3, -0.7]),
    };
    let ga = [
        [0.1, -0.2, 0.3],
        [-0.4, 0.5, 0.1],
        [0.2, 0.2, -0.6],
        [0.3, -0.1, 0.2],
    ];
    let gb = [[0.2, 0.1], [-0.3, 0.4], [0.5, -0.5], [0.1, 0.1]];
    let mut opt = make(&m);
    opt.freeze("a").unwrap();
    for k in 0..4 {
        if k == 2 {
            assert_eq!(m.a.to_vec(), vec![0.5, -1.0, 2.0], "frozen: not updated");
            opt.unfreeze("a").unwrap();
        }
        let g = TwoGrads {
            a: Tensor::from(ga[k]),
            b: Tensor::from(gb[k]),
        };
        opt.step(&mut m, &g);
    }
    assert_eq!(opt.step_count(), 4);
    (m.a.to_vec(), m.b.to_vec())
}

#[test]
fn a_frozen_parameter_keeps_its_adamw_state_and_step_count() {
    // Unfrozen, `a` takes AdamW's first step (bias corrections of step 1) with no decay before.
    let (a, b) = run_frozen(|m| AdamW::new(m, 0.1).weight_decay(0.1));
    assert_close(
        &a,
        &[0.29196928238222736, -1.1057336973313243, 2.0992218546503474],
    );
    assert_close(&b, &[0.13303568816485492, -0.8545253016689686]);
}

#[test]
fn a_frozen_parameter_keeps_its_adagrad_decay_at_its_own_step() {
    let (a, b) = run_frozen(|m| Adagrad::new(m, 0.1).lr_decay(0.5));
    assert_close(
        &a,
        &[0.34452998044286165, -1.0701857602633362, 2.0789181489188775],
    );
    assert_close(&b, &[0.2085095382298487, -0.8322002718884726]);
}

#[test]
fn a_frozen_parameter_starts_its_momentum_buffer_when_unfrozen() {
    // With dampening, the first momentum step (buf = g) differs from the later ones.
    let (a, b) = run_frozen(|m| Sgd::new(m, 0.1).momentum(0.9).dampening(0.5));
    assert_close(&a, &[0.44699999999999995, -1.033, 2.104]);
    assert_close(&b, &[0.21936999999999995, -0.74609]);
}

/// A model of two tensors, `w` [2, 2] and `b` [3], for its gradient struct.
#[derive(Module)]
#[allow(dead_code)] // only `PairGrads` is used
struct Pair {
    w: Tensor<Rank2<2, 2>, f64>,
    b: Tensor<Rank1<3>, f64>,
}

fn pair_grads() -> PairGrads {
    PairGrads {
        w: Tensor::from([[0.3, -1.2], [2.0, 0.25]]),
        b: Tensor::from([-0.5, 0.75, 1.5]),
    }
}

fn check_clip(g: &PairGrads, total: f64, want_total: f64, w: [f64; 4], b: [f64; 3]) {
    assert_close(&[total], &[want_total]);
    assert_close(&g.w.to_vec(), &w);
    assert_close(&g.b.to_vec(), &b);
}

#[test]
fn clip_grad_norm_by_the_two_norm() {
    let mut g = pair_grads();
    let total = g.clip_grad_norm(1.0, 2.0);
    let w = [
        0.10197355759693136,
        -0.40789423038772543,
        0.6798237173128757,
        0.08497796466410946,
    ];
    let b = [-0.16995592932821893, 0.2549338939923284, 0.5098677879846568];
    check_clip(&g, total, 2.94193813667113, w, b);
}

#[test]
fn clip_grad_norm_under_the_bound_changes_nothing() {
    let mut g = pair_grads();
    let total = g.clip_grad_norm(100.0, 1.0);
    check_clip(&g, total, 6.5, [0.3, -1.2, 2.0, 0.25], [-0.5, 0.75, 1.5]);
}

#[test]
fn clip_grad_norm_by_the_largest_magnitude() {
    let mut g = pair_grads();
    let total = g.clip_grad_norm(0.5, f64::INFINITY);
    let w = [
        0.07499996250001874,
        -0.29999985000007495,
        0.499999750000125,
        0.06249996875001562,
    ];
    let b = [
        -0.12499993750003124,
        0.18749990625004687,
        0.37499981250009373,
    ];
    check_clip(&g, total, 2.0, w, b);
}

#[test]
fn clip_grad_norm_by_the_three_norm() {
    let mut g = pair_grads();
    let total = g.clip_grad_norm(0.7, 3.0);
    let w = [
        0.08777918211974124,
        -0.35111672847896497,
        0.5851945474649416,
        0.0731493184331177,
    ];
    let b = [-0.1462986368662354, 0.2194479552993531, 0.4388959105987062];
    check_clip(&g, total, 2.3923657882156277, w, b);
}

#[test]
fn clip_grad_value() {
    let mut g = pair_grads();
    g.clip_grad_value(0.6);
    assert_eq!(g.w.to_vec(), vec![0.3, -0.6, 0.6, 0.25]);
    assert_eq!(g.b.to_vec(), vec![-0.5, 0.6, 0.6]);
}

/// `tests/data/optim_schedules.txt`: `NAME KIND VALUES` by `"NAME KIND"`.
fn schedules() -> HashMap<String, Vec<f64>> {
    let path = format!(
        "{}/tests/data/optim_schedules.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split(' ');
            let key = format!("{} {}", words.next().unwrap(), words.next().unwrap());
            (key, words.map(|v| v.parse().unwrap()).collect())
        })
        .collect()
}

/// Checks `schedule` against every series recorded for `name`: the learning rates PyTorch's
/// scheduler set when stepped (within 1e-14 relative: PyTorch computes most of them recursively),
/// its closed form and the momentum (to the bit).
fn check_schedule(name: &str, schedule: &impl Schedule) {
    let table = schedules();
    let lrs = &table[&format!("{name} lr")];
    for (step, &want) in lrs.iter().enumerate() {
        let got = schedule.lr(step);
        assert!(
            (got - want).abs() <= 1e-14 * want.abs(),
            "{name}: step {step}: {got}, PyTorch's scheduler sets {want}"
        );
    }
    if let Some(closed) = table.get(&format!("{name} closed")) {
        for (step, &want) in closed.iter().enumerate() {
            assert_eq!(schedule.lr(step), want, "{name}: step {step}, closed form");
        }
    }
    if let Some(momenta) = table.get(&format!("{name} momentum")) {
        for (step, &want) in momenta.iter().enumerate() {
            assert_eq!(
                schedule.momentum(step),
                Some(want),
                "{name}: step {step}, momentum"
            );
        }
    }
}

#[test]
fn step_lr() {
    check_schedule("step", &StepLr::new(0.1, 7).gamma(0.7));
}

#[test]
fn multistep_lr_with_a_repeated_milestone() {
    check_schedule(
        "multistep",
        &MultiStepLr::new(0.1, [150, 30, 80, 80]).gamma(0.5),
    );
}

#[test]
fn exponential_lr_over_a_thousand_steps() {
    check_schedule("exponential", &ExponentialLr::new(0.1, 0.99));
}

#[test]
fn cosine_annealing_down_and_up_again() {
    // T_max = 50 over 300 steps: three times down to eta_min and back up.
    check_schedule("cosine", &CosineAnnealingLr::new(0.1, 50).eta_min(1e-3));
    check_schedule("cosine_long", &CosineAnnealingLr::new(0.1, 500));
}

#[test]
fn linear_lr() {
    check_schedule("linear_default", &LinearLr::new(0.1));
    let warmup = LinearLr::new(0.1).start_factor(0.1).total_iters(20);
    check_schedule("linear_warmup", &warmup);
    let decay = LinearLr::new(0.1)
        .start_factor(1.0)
        .end_factor(0.05)
        .total_iters(50);
    check_schedule("linear_decay", &decay);
}

#[test]
fn warm_up_then_cosine() {
    // SequentialLR([LinearLR(0.01, 1, 10), CosineAnnealingLR(T_max=90)], milestones=[10])
    let warmup = LinearLr::new(0.1).start_factor(0.01).total_iters(10);
    check_schedule(
        "warmup_cosine",
        &warmup.then(CosineAnnealingLr::new(0.1, 90), 10),
    );
}

#[test]
fn three_schedules_in_sequence() {
    let s = LinearLr::new(0.1)
        .start_factor(0.5)
        .total_iters(4)
        .then(ExponentialLr::new(0.1, 0.9), 10)
        .then(StepLr::new(0.1, 5).gamma(0.5), 40);
    check_schedule("sequential_three", &s);
}

#[test]
fn one_cycle_with_its_momentum() {
    check_schedule("one_cycle", &OneCycleLr::new(0.1, 100));
}

#[test]
fn one_cycle_in_three_linear_phases() {
    let s = OneCycleLr::new(0.05, 77)
        .pct_start(0.25)
        .linear_anneal(true)
        .three_phase(true)
        .div_factor(10.0)
        .final_div_factor(100.0)
        .momentum_range(0.8, 0.9);
    check_schedule("one_cycle_three_phase_linear", &s);
}

#[test]
#[should_panic(expected = "OneCycleLr: step 101 is past the 100 steps of the cycle")]
fn one_cycle_past_its_end_panics() {
    let _ = OneCycleLr::new(0.1, 100).lr(101);
}

#[test]
fn one_cycle_sets_adams_beta1_and_sgds_momentum() {
    let s = OneCycleLr::new(0.1, 10);
    let p: P = start();
    // At step 0, PyTorch's OneCycleLR sets beta1 to max_momentum, 0.95.
    let mut adam = Adam::new(&p, 0.01);
    s.apply(&mut adam);
    assert_eq!(adam.lr(), s.lr(0));
    let mut by_hand = Adam::new(&p, s.lr(0)).betas(0.95, 0.999);
    let (mut p1, mut p2) = (p.clone(), p.clone());
    for g in [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.1]] {
        adam.step(&mut p1, &Tensor::from(g));
        by_hand.step(&mut p2, &Tensor::from(g));
    }
    assert_eq!(p1, p2);
    let mut sgd = Sgd::new(&p, 0.01);
    s.apply(&mut sgd);
    let mut q = p.clone();
    sgd.step(&mut q, &Tensor::ones());
    sgd.step(&mut q, &Tensor::ones());
    // buf = 1, then 0.95 * 1 + 1: the momentum was set on an Sgd made without one.
    let lr = s.lr(0);
    assert_close(
        &q.to_vec(),
        &[0.5 - lr * 2.95, -1.0 - lr * 2.95, 2.0 - lr * 2.95],
    );
}

#[test]
#[should_panic(expected = "Adagrad has no momentum to set to 0.95")]
fn one_cycle_with_adagrad_needs_cycle_momentum_off() {
    let p = start();
    let mut opt = Adagrad::new(&p, 0.1);
    OneCycleLr::new(0.1, 10).apply(&mut opt);
}

#[test]
fn one_cycle_without_momentum_runs_adagrad() {
    let p = start();
    let mut opt = Adagrad::new(&p, 0.1);
    let s = OneCycleLr::new(0.1, 10).cycle_momentum(false);
    s.apply(&mut opt);
    assert_eq!(opt.lr(), s.lr(0));
}

/// Two parameters whose sizes are known at run time, so that a model can change them.
#[derive(Module)]
struct Resizable {
    a: Tensor<(usize,), f64>,
    b: Tensor<(usize,), f64>,
}

fn dyn1(v: &[f64]) -> Tensor<(usize,), f64> {
    Tensor::from_vec_with((v.len(),), v.to_vec()).unwrap()
}

fn resizable(a: &[f64], b: &[f64]) -> Resizable {
    Resizable {
        a: dyn1(a),
        b: dyn1(b),
    }
}

fn resizable_grads(a: &[f64], b: &[f64]) -> ResizableGrads {
    ResizableGrads {
        a: dyn1(a),
        b: dyn1(b),
    }
}

/// The model's values as bits, in field order.
fn resizable_bits(m: &Resizable) -> Vec<u64> {
    m.a.to_vec()
        .into_iter()
        .chain(m.b.to_vec())
        .map(f64::to_bits)
        .collect()
}

/// An optimizer's saved state, comparable: every tensor's bytes by name (the per-parameter `step`
/// counts and the update rule's buffers) and the metadata (`step_count`, the settings).
fn saved_state(bytes: &[u8]) -> (BTreeMap<String, Vec<u8>>, BTreeMap<String, String>) {
    let tensors = safetensors::SafeTensors::deserialize(bytes).unwrap();
    let data = tensors
        .tensors()
        .into_iter()
        .map(|(name, view)| (name, view.data().to_vec()))
        .collect();
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes).unwrap();
    let meta = meta
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    (data, meta)
}

/// One step, then a step on the model with its second (and last) parameter of another size: it
/// panics naming the parameter and both sizes, and leaves the model, the step counts and the
/// buffers bit for bit as they were, so that the next correct step gives what it gives without
/// the failed one.
fn a_step_of_the_wrong_size_changes_nothing<O: Optimizer<Resizable>>(
    name: &str,
    make: impl Fn(&Resizable) -> O,
) {
    let (a0, b0) = ([0.5, -1.0, 2.0], [0.3, -0.7]);
    let (ga, gb) = ([0.1, -0.2, 0.3], [0.2, 0.1]);
    let (ga2, gb2) = ([-0.4, 0.5, 0.1], [-0.3, 0.4]);

    let mut model = resizable(&a0, &b0);
    let mut opt = make(&model);
    opt.step(&mut model, &resizable_grads(&ga, &gb));

    let b1 = model.b.to_vec();
    model.b = dyn1(&[1.0, 2.0, 3.0]);
    let (bits, count, state) = (
        resizable_bits(&model),
        opt.step_count(),
        opt.to_safetensors(),
    );
    let wrong = resizable_grads(&ga2, &[0.1, 0.1, 0.1]);
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        opt.step(&mut model, &wrong);
    }))
    .expect_err(name);
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert_eq!(
        message, "parameter `b` has 3 elements and its gradient 3; the optimizer was made for 2",
        "{name}"
    );
    assert_eq!(resizable_bits(&model), bits, "{name}: the model");
    assert_eq!(opt.step_count(), count, "{name}: the step count");
    assert_eq!(
        saved_state(&opt.to_safetensors()),
        saved_state(&state),
        "{name}: the per-parameter steps and buffers"
    );

    // Back to the right size: the second step is the one of an optimizer that never failed.
    model.b = dyn1(&b1);
    opt.step(&mut model, &resizable_grads(&ga2, &gb2));
    let mut clean = resizable(&a0, &b0);
    let mut clean_opt = make(&clean);
    clean_opt.step(&mut clean, &resizable_grads(&ga, &gb));
    clean_opt.step(&mut clean, &resizable_grads(&ga2, &gb2));
    assert_eq!(
        resizable_bits(&model),
        resizable_bits(&clean),
        "{name}: the next step"
    );
    assert_eq!(opt.step_count(), 2, "{name}");
}

#[test]
fn a_step_on_parameters_of_another_size_panics_before_changing_anything() {
    a_step_of_the_wrong_size_changes_nothing("sgd", |m| Sgd::new(m, 0.1).momentum(0.9));
    a_step_of_the_wrong_size_changes_nothing("adam", |m| Adam::new(m, 0.01));
    a_step_of_the_wrong_size_changes_nothing("adamw", |m| AdamW::new(m, 0.01));
    a_step_of_the_wrong_size_changes_nothing("rmsprop", |m| RMSprop::new(m, 0.01).momentum(0.5));
    a_step_of_the_wrong_size_changes_nothing("adagrad", |m| Adagrad::new(m, 0.1));
}

#[test]
#[should_panic(
    expected = "parameter `b` has 2 elements and its gradient 3; the optimizer was made for 2"
)]
fn a_gradient_of_another_size_panics() {
    let mut model = resizable(&[0.5, -1.0, 2.0], &[0.3, -0.7]);
    let mut opt = Sgd::new(&model, 0.1);
    opt.step(
        &mut model,
        &resizable_grads(&[0.1, 0.1, 0.1], &[0.1, 0.1, 0.1]),
    );
}
