//! One training step of two fixed-shape models, written with the crate's public API as a user would
//! (a model generic over its tracking, layers, loss, `value_and_grad`, optimizer step), next to the
//! same step written by hand on `matrixmultiply` with preallocated buffers
//! (`benches/common/reference.rs`):
//!
//! - `mlp`: 784 -> 128 -> ReLU -> 10, batch 64, cross-entropy from logits, SGD;
//! - `tiny`: 2 -> 16 -> ReLU -> 16 -> ReLU -> 1, batch 32, mean squared error, SGD.
//!
//! Before criterion runs, the binary checks that both versions compute the same losses, then times them
//! interleaved in this process and prints `shaped / hand-written` for each model; then the MLP step on a
//! batch of 64 whose size is known only at run time against the same step on a static batch of 64,
//! and one row scored through a run-time batch against the same row as a static `[1, 784]` batch;
//! with the `threading` feature, each model's step on two threads against the same step on one
//! (`shaped::set_threads`). Run: `cargo bench --bench training`. The heap allocations of one step are counted by
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

/// Times `a` and `b` interleaved (so drift on a shared machine hits both) and prints `a / b`.
fn ratio(name: &str, labels: (&str, &str), iters: u32, mut a: impl FnMut(), mut b: impl FnMut()) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let mut buf = [Duration::ZERO; 5];
    for _ in 0..9 {
        ta.push(median_time(&mut buf, iters, &mut a));
        tb.push(median_time(&mut buf, iters, &mut b));
    }
    ta.sort();
    tb.sort();
    let (ta, tb) = (ta[ta.len() / 2], tb[tb.len() / 2]);
    println!(
        "{name}: {} {:.2} us, {} {:.2} us, ratio {:.3}",
        labels.0,
        ta.as_secs_f64() * 1e6,
        labels.1,
        tb.as_secs_f64() * 1e6,
        ta.as_secs_f64() / tb.as_secs_f64()
    );
}

/// The crate's step against the hand-written one.
fn report(name: &str, iters: u32, case: &mut impl Case) {
    let case = core::cell::RefCell::new(case);
    ratio(
        name,
        ("shaped", "hand-written"),
        iters,
        || {
            black_box(case.borrow_mut().shaped());
        },
        || {
            black_box(case.borrow_mut().hand_written());
        },
    );
}

/// The crate's step on two threads against the same step on one (`shaped::set_threads`), each on
/// its own model from the same seed; the two compute the same losses to the last bit.
#[cfg(feature = "threading")]
fn threads<C: Case>(name: &str, iters: u32, make: impl Fn() -> C) {
    let (mut two, mut one) = (make(), make());
    shaped::set_threads(2);
    let a: Vec<f32> = (0..3).map(|_| two.shaped()).collect();
    shaped::set_threads(1);
    let b: Vec<f32> = (0..3).map(|_| one.shaped()).collect();
    assert_eq!(a, b, "{name}: two threads compute one thread's losses");
    ratio(
        &format!("{name}, 2 threads vs 1"),
        ("2 threads", "1 thread"),
        iters,
        || {
            shaped::set_threads(2);
            black_box(two.shaped());
        },
        || {
            shaped::set_threads(1);
            black_box(one.shaped());
        },
    );
    shaped::set_threads(2);
}

/// `<bench binary> steps <mlp|tiny> <shaped|hand> <n> [threads]` runs `n` steps of one case and
/// nothing else, so that a profiler (`valgrind --tool=callgrind`, `perf record`) sees only that step,
/// on `threads` threads (`shaped::set_threads`; 2 if not given). `steps <mlp|tiny> threads <n>`
/// prints the 2-thread/1-thread ratio `n` times, and nothing else. Returns whether it ran.
fn steps_only() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let Some(at) = args.iter().position(|a| a == "steps") else {
        return false;
    };
    let [model, side, n] = [1, 2, 3].map(|i| args.get(at + i).map_or("", String::as_str));
    let n: u32 = n
        .parse()
        .expect("steps <mlp|tiny> <shaped|hand> <n>: n is a count");
    let mut case: Box<dyn Case> = match model {
        "mlp" => Box::new(mlp_case()),
        "tiny" => Box::new(tiny_case()),
        _ => panic!("steps <mlp|tiny> <shaped|hand> <n>: unknown model {model:?}"),
    };
    #[cfg(feature = "threading")]
    if side == "threads" {
        for _ in 0..n {
            match model {
                "mlp" => threads("mlp 784-128-10, batch 64", 20, mlp_case),
                "tiny" => threads("tiny 2-16-16-1, batch 32", 2000, tiny_case),
                _ => panic!("steps <mlp|tiny> threads <n>: unknown model {model:?}"),
            }
        }
        return true;
    }
    #[cfg(feature = "threading")]
    if let Some(t) = args.get(at + 4) {
        shaped::set_threads(t.parse().expect("steps ...: threads is a count"));
    }
    let shaped = match side {
        "shaped" => true,
        "hand" => false,
        _ => panic!("steps <mlp|tiny> <shaped|hand> <n>: unknown side {side:?}"),
    };
    for _ in 0..n {
        black_box(if shaped {
            case.shaped()
        } else {
            case.hand_written()
        });
    }
    true
}

fn main() {
    if steps_only() {
        return;
    }
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
    #[cfg(feature = "threading")]
    {
        threads("mlp 784-128-10, batch 64", 20, mlp_case);
        threads("tiny 2-16-16-1, batch 32", 2000, tiny_case);
    }

    // The same step on a batch whose size is known only at run time, against the static one.
    let mut fixed = mlp_case();
    let mut dynamic = fixed.run_time();
    let a: Vec<f32> = (0..3).map(|_| dynamic.step()).collect();
    let b: Vec<f32> = (0..3).map(|_| fixed.shaped()).collect();
    assert_eq!(
        a, b,
        "the run-time batch computes the static batch's losses"
    );
    ratio(
        "mlp 784-128-10, batch 64 known at run time vs static",
        ("run-time", "static"),
        20,
        || {
            black_box(dynamic.step());
        },
        || {
            black_box(fixed.shaped());
        },
    );
    let (row, row_dyn) = mlp.one_row();
    assert_eq!(mlp.score_run_time(&row_dyn), mlp.score_static(&row));
    ratio(
        "mlp 784-128-10, scoring one row: run-time batch vs static [1, 784]",
        ("run-time", "static"),
        2000,
        || {
            black_box(mlp.score_run_time(&row_dyn));
        },
        || {
            black_box(mlp.score_static(&row));
        },
    );

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
        g.bench_function("run_time_batch", |bch| {
            bch.iter(|| black_box(dynamic.step()))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("score_one_row/mlp_784_128_10");
        g.bench_function("static", |bch| {
            bch.iter(|| black_box(mlp.score_static(&row)))
        });
        g.bench_function("run_time_batch", |bch| {
            bch.iter(|| black_box(mlp.score_run_time(&row_dyn)))
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
