//! One training step of two fixed-shape models, written with the crate's public API as a user would
//! (layers, loss, `backward`, optimizer step), next to the same step written by hand on
//! `matrixmultiply` with preallocated buffers (`benches/common/reference.rs`):
//!
//! - `mlp`: 784 -> 128 -> ReLU -> 10, batch 64, cross-entropy from logits, SGD;
//! - `tiny`: 2 -> 16 -> ReLU -> 16 -> ReLU -> 1, batch 32, mean squared error, SGD.
//!
//! Before criterion runs, the binary checks that both versions compute the same losses, then times them
//! interleaved in this process and prints `shaped / hand-written` for each model, and counts the heap
//! allocations of one steady-state step. Run: `cargo bench --bench training`.

#[path = "common/reference.rs"]
mod reference;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::Criterion;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use shaped::nn::{Labels, Linear, cross_entropy, mse};
use shaped::optim::{Optimizer, Sgd};
use shaped::{Module, Rank2, Tape, Tensor, Tracking};

/// Counts heap allocations, to report how many one training step makes.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_of(mut f: impl FnMut()) -> usize {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    f();
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

const LR: f32 = 0.01;

// ---- the 784 -> 128 -> 10 MLP ----

const B: usize = 64;

#[derive(Module, Clone)]
struct Mlp {
    l1: Linear<784, 128>,
    l2: Linear<128, 10>,
}

impl Mlp {
    fn forward<T: Tracking<f32>>(
        &self,
        x: Tensor<Rank2<B, 784>, f32, T>,
    ) -> Tensor<Rank2<B, 10>, f32, T> {
        self.l2.forward(self.l1.forward(x).relu())
    }
}

fn mlp_step(
    model: &mut Mlp,
    opt: &mut Sgd<Mlp>,
    x: &Tensor<Rank2<B, 784>>,
    labels: &Labels<B, 10>,
) -> f32 {
    let tape = Tape::new();
    let loss = cross_entropy(&model.forward(tape.input(x)), labels);
    let grads = model.grads(&loss.backward());
    opt.step(model, &grads);
    loss.item()
}

struct MlpCase {
    model: Mlp,
    opt: Sgd<Mlp>,
    x: Tensor<Rank2<B, 784>>,
    labels: Labels<B, 10>,
    reference: reference::Mlp,
    x_flat: Vec<f32>,
}

fn bias(layer: &Linear<784, 128>) -> Vec<f32> {
    layer.bias.as_ref().map(Tensor::to_vec).unwrap_or_default()
}

fn mlp_case() -> MlpCase {
    let mut rng = StdRng::seed_from_u64(7);
    let model = Mlp {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
    };
    let x: Tensor<Rank2<B, 784>> = Tensor::uniform(&mut rng, 0.0, 1.0);
    let ids: [usize; B] = std::array::from_fn(|_| rng.random_range(0..10));
    let reference = reference::Mlp::new(
        (B, 784, 128, 10),
        model.l1.weight.to_vec(),
        bias(&model.l1),
        model.l2.weight.to_vec(),
        model
            .l2
            .bias
            .as_ref()
            .map(Tensor::to_vec)
            .unwrap_or_default(),
    );
    MlpCase {
        opt: Sgd::new(&model, LR),
        model,
        x_flat: x.to_vec(),
        x,
        labels: Labels::new(ids).expect("ids are below 10"),
        reference,
    }
}

impl MlpCase {
    fn shaped(&mut self) -> f32 {
        mlp_step(&mut self.model, &mut self.opt, &self.x, &self.labels)
    }
    fn hand_written(&mut self) -> f32 {
        self.reference
            .step(&self.x_flat, self.labels.as_slice(), LR)
    }
}

// ---- the tiny 2 -> 16 -> 16 -> 1 MLP ----

const TB: usize = 32;

#[derive(Module, Clone)]
struct TinyNet {
    l1: Linear<2, 16>,
    l2: Linear<16, 16>,
    l3: Linear<16, 1>,
}

impl TinyNet {
    fn forward<T: Tracking<f32>>(
        &self,
        x: Tensor<Rank2<TB, 2>, f32, T>,
    ) -> Tensor<Rank2<TB, 1>, f32, T> {
        self.l3
            .forward(self.l2.forward(self.l1.forward(x).relu()).relu())
    }
}

struct TinyCase {
    model: TinyNet,
    opt: Sgd<TinyNet>,
    x: Tensor<Rank2<TB, 2>>,
    target: Tensor<Rank2<TB, 1>>,
    reference: reference::Tiny,
    x_flat: Vec<f32>,
    target_flat: Vec<f32>,
}

fn tiny_case() -> TinyCase {
    let mut rng = StdRng::seed_from_u64(8);
    let model = TinyNet {
        l1: Linear::new(&mut rng),
        l2: Linear::new(&mut rng),
        l3: Linear::new(&mut rng),
    };
    let x: Tensor<Rank2<TB, 2>> = Tensor::uniform(&mut rng, -1.0, 1.0);
    let target = Tensor::<Rank2<TB, 1>>::from_fn(|[i, _]| (x[[i, 0]] * x[[i, 1]]).signum());
    let b =
        |v: &Option<Tensor<shaped::Rank1<16>>>| v.as_ref().map(Tensor::to_vec).unwrap_or_default();
    let reference = reference::Tiny::new(
        (TB, 2, 16),
        [
            model.l1.weight.to_vec(),
            model.l2.weight.to_vec(),
            model.l3.weight.to_vec(),
        ],
        [
            b(&model.l1.bias),
            b(&model.l2.bias),
            model
                .l3
                .bias
                .as_ref()
                .map(Tensor::to_vec)
                .unwrap_or_default(),
        ],
    );
    TinyCase {
        opt: Sgd::new(&model, LR),
        model,
        x_flat: x.to_vec(),
        target_flat: target.to_vec(),
        x,
        target,
        reference,
    }
}

impl TinyCase {
    fn shaped(&mut self) -> f32 {
        let tape = Tape::new();
        let loss = mse(&self.model.forward(tape.input(&self.x)), &self.target);
        let grads = self.model.grads(&loss.backward());
        self.opt.step(&mut self.model, &grads);
        loss.item()
    }
    fn hand_written(&mut self) -> f32 {
        self.reference.step(&self.x_flat, &self.target_flat, LR)
    }
}

// ---- checks, ratio and allocations ----

fn same_losses(name: &str, a: &[f32], b: &[f32]) {
    for (x, y) in a.iter().zip(b) {
        assert!(
            (x - y).abs() <= 1e-4 * x.abs().max(1.0),
            "{name}: shaped {a:?} vs hand-written {b:?}"
        );
    }
}

/// Median time per call of `f` over `rounds` rounds of `iters` calls.
fn median_time(rounds: &mut [Duration], iters: u32, mut f: impl FnMut()) -> Duration {
    for r in rounds.iter_mut() {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        *r = start.elapsed() / iters;
    }
    rounds.sort();
    rounds[rounds.len() / 2]
}

/// A model trained both ways.
trait Case {
    fn shaped(&mut self) -> f32;
    fn hand_written(&mut self) -> f32;
}

impl Case for MlpCase {
    fn shaped(&mut self) -> f32 {
        MlpCase::shaped(self)
    }
    fn hand_written(&mut self) -> f32 {
        MlpCase::hand_written(self)
    }
}

impl Case for TinyCase {
    fn shaped(&mut self) -> f32 {
        TinyCase::shaped(self)
    }
    fn hand_written(&mut self) -> f32 {
        TinyCase::hand_written(self)
    }
}

/// Times both versions interleaved (so drift on a shared machine hits both) and prints the ratio.
fn report(name: &str, iters: u32, case: &mut impl Case) {
    let (mut s, mut h) = (Vec::new(), Vec::new());
    let mut buf = [Duration::ZERO; 5];
    for _ in 0..9 {
        s.push(median_time(&mut buf, iters, || {
            black_box(case.shaped());
        }));
        h.push(median_time(&mut buf, iters, || {
            black_box(case.hand_written());
        }));
    }
    s.sort();
    h.sort();
    let (s, h) = (s[s.len() / 2], h[h.len() / 2]);
    println!(
        "{name}: shaped {:.1} us, hand-written {:.1} us, ratio {:.3}",
        s.as_secs_f64() * 1e6,
        h.as_secs_f64() * 1e6,
        s.as_secs_f64() / h.as_secs_f64()
    );
}

fn main() {
    let mut mlp = mlp_case();
    let a: Vec<f32> = (0..3).map(|_| mlp.shaped()).collect();
    let b: Vec<f32> = (0..3).map(|_| mlp.hand_written()).collect();
    same_losses("mlp", &a, &b);
    let mut tiny = tiny_case();
    let a: Vec<f32> = (0..3).map(|_| tiny.shaped()).collect();
    let b: Vec<f32> = (0..3).map(|_| tiny.hand_written()).collect();
    same_losses("tiny", &a, &b);

    println!("heap allocations per step (steady state):");
    println!(
        "  mlp:  shaped {}, hand-written {}",
        allocations_of(|| {
            black_box(mlp.shaped());
        }),
        allocations_of(|| {
            black_box(mlp.hand_written());
        })
    );
    println!(
        "  tiny: shaped {}, hand-written {}",
        allocations_of(|| {
            black_box(tiny.shaped());
        }),
        allocations_of(|| {
            black_box(tiny.hand_written());
        })
    );

    report("mlp 784-128-10, batch 64", 20, &mut mlp);
    report("tiny 2-16-16-1, batch 32", 2000, &mut tiny);

    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    {
        let mut g = c.benchmark_group("train_step/mlp_784_128_10_b64");
        g.bench_function("shaped", |bch| bch.iter(|| black_box(mlp.shaped())));
        g.bench_function("hand_written", |bch| {
            bch.iter(|| black_box(mlp.hand_written()))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("train_step/tiny_2_16_16_1_b32");
        g.bench_function("shaped", |bch| bch.iter(|| black_box(tiny.shaped())));
        g.bench_function("hand_written", |bch| {
            bch.iter(|| black_box(tiny.hand_written()))
        });
        g.finish();
    }
    c.final_summary();
}
