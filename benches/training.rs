//! One training step of two fixed-shape models, written with the crate's public API as a user would
//! (a model generic over its tracking, layers, loss, `value_and_grad`, optimizer step), next to the
//! same step written by hand on `matrixmultiply` with preallocated buffers
//! (`benches/common/reference.rs`):
//!
//! - `mlp`: 784 -> 128 -> ReLU -> 10, batch 64, cross-entropy from logits, SGD;
//! - `tiny`: 2 -> 16 -> ReLU -> 16 -> ReLU -> 1, batch 32, mean squared error, SGD.
//!
//! Before criterion runs, the binary checks that both versions compute the same losses, then times them
//! interleaved in this process and prints `shaped / hand-written` for each model. Run:
//! `cargo bench --bench training`. The heap allocations of one step are counted by
//! `tests/allocations.rs` (`cargo test --release --test allocations -- --nocapture`).

#[path = "common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::cases::{Case, mlp_case, tiny_case};
use criterion::Criterion;

// ---- checks and ratios ----

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
