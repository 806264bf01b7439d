//! The contractions at sizes 8, 64 and 256, forward alone and forward + backward through a tape, in
//! `f32`; and the same square product through `matrixmultiply::sgemm` directly, so that the cost of
//! going through `Tensor::matmul` (allocating the result, recording) shows as a ratio: `raw_sgemm`
//! writes into a buffer allocated once, `raw_sgemm_alloc` into a fresh zeroed one each time.
//!
//! Sizes: `matmul` and `inner` multiply two `n x n` matrices; `linear` maps `n` rows of width `n` to
//! width `n` with a bias; `bilinear` takes `n` rows of widths `n` and `n` to 4 outputs (its weight is
//! `4 x n x n`, its cost `n^3 * 8` multiply-adds).
//!
//! Run with `cargo bench --bench contractions`; each benchmark is kept short (about a second).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group};
use rand::SeedableRng;
use rand::rngs::StdRng;
use shaped::{Rank1, Rank2, Rank3, StaticShape, Tape, Tensor};

const BILINEAR_OUT: usize = 4;

fn random<S: StaticShape>(seed: u64) -> Tensor<S> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -1.0, 1.0)
}

fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1000));
}

/// `C = A B` for `n x n` row-major matrices, straight through `matrixmultiply::sgemm`.
fn raw_sgemm(n: usize, a: &[f32], b: &[f32], c: &mut [f32]) {
    assert!(a.len() == n * n && b.len() == n * n && c.len() == n * n);
    let s = isize::try_from(n).expect("n fits isize");
    // SAFETY: the three slices hold n x n elements each (checked above), the strides (n, 1) describe
    // row-major n x n matrices inside them, and `c` is a unique borrow that overlaps neither input.
    unsafe {
        matrixmultiply::sgemm(
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            s,
            1,
            b.as_ptr(),
            s,
            1,
            0.0,
            c.as_mut_ptr(),
            s,
            1,
        );
    }
}

fn matmul_at<const N: usize>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let a: Tensor<Rank2<N, N>> = random(1);
    let b: Tensor<Rank2<N, N>> = random(2);
    group.bench_function(BenchmarkId::new("forward", N), |bench| {
        bench.iter(|| black_box(black_box(&a).matmul(black_box(&b))));
    });
    group.bench_function(BenchmarkId::new("forward_backward", N), |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let y = tape.watch(&a).matmul(&tape.watch(&b)).sum();
            black_box(y.backward())
        });
    });
}

fn raw_at<const N: usize>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let a: Tensor<Rank2<N, N>> = random(1);
    let b: Tensor<Rank2<N, N>> = random(2);
    let mut c = vec![0.0_f32; N * N];
    group.bench_function(BenchmarkId::new("raw_sgemm", N), |bench| {
        bench.iter(|| raw_sgemm(N, black_box(a.as_slice()), black_box(b.as_slice()), &mut c));
    });
    // The same with a fresh zeroed result buffer per product, as `Tensor::matmul` must allocate one:
    // the difference between the two raw timings is the allocation's share.
    group.bench_function(BenchmarkId::new("raw_sgemm_alloc", N), |bench| {
        bench.iter(|| {
            let mut c = vec![0.0_f32; N * N];
            raw_sgemm(N, black_box(a.as_slice()), black_box(b.as_slice()), &mut c);
            c
        });
    });
    // The result must be the crate's, to the last bit: the same kernel on the same strides.
    raw_sgemm(N, a.as_slice(), b.as_slice(), &mut c);
    assert_eq!(c.as_slice(), a.matmul(&b).as_slice());
}

fn matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul");
    short(&mut group);
    matmul_at::<8>(&mut group);
    matmul_at::<64>(&mut group);
    matmul_at::<256>(&mut group);
    raw_at::<256>(&mut group);
    let a: Tensor<Rank2<512, 512>> = random(1);
    let b: Tensor<Rank2<512, 512>> = random(2);
    group.bench_function(BenchmarkId::new("forward", 512), |bench| {
        bench.iter(|| black_box(black_box(&a).matmul(black_box(&b))));
    });
    raw_at::<512>(&mut group);
    group.finish();
}

fn inner_at<const N: usize>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let a: Tensor<Rank2<N, N>> = random(3);
    let b: Tensor<Rank2<N, N>> = random(4);
    group.bench_function(BenchmarkId::new("forward", N), |bench| {
        bench.iter(|| black_box(black_box(&a).inner(black_box(&b))));
    });
    group.bench_function(BenchmarkId::new("forward_backward", N), |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let y = tape.watch(&a).inner(&tape.watch(&b)).sum();
            black_box(y.backward())
        });
    });
}

fn inner(c: &mut Criterion) {
    let mut group = c.benchmark_group("inner");
    short(&mut group);
    inner_at::<8>(&mut group);
    inner_at::<64>(&mut group);
    inner_at::<256>(&mut group);
    group.finish();
}

fn linear_at<const N: usize>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let x: Tensor<Rank2<N, N>> = random(5);
    let w: Tensor<Rank2<N, N>> = random(6);
    let b: Tensor<Rank1<N>> = random(7);
    group.bench_function(BenchmarkId::new("forward", N), |bench| {
        bench.iter(|| black_box(black_box(&x).linear(black_box(&w), black_box(&b))));
    });
    group.bench_function(BenchmarkId::new("forward_backward", N), |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let y = tape
                .input(&x)
                .linear(&tape.watch(&w), &tape.watch(&b))
                .sum();
            black_box(y.backward())
        });
    });
}

fn linear(c: &mut Criterion) {
    let mut group = c.benchmark_group("linear");
    short(&mut group);
    linear_at::<8>(&mut group);
    linear_at::<64>(&mut group);
    linear_at::<256>(&mut group);
    group.finish();
}

fn bilinear_at<const N: usize>(group: &mut BenchmarkGroup<'_, WallTime>) {
    let x1: Tensor<Rank2<N, N>> = random(8);
    let x2: Tensor<Rank2<N, N>> = random(9);
    let w: Tensor<Rank3<BILINEAR_OUT, N, N>> = random(10);
    let b: Tensor<Rank1<BILINEAR_OUT>> = random(11);
    group.bench_function(BenchmarkId::new("forward", N), |bench| {
        bench.iter(|| black_box(black_box(&x1).bilinear(black_box(&x2), black_box(&w), &b)));
    });
    group.bench_function(BenchmarkId::new("forward_backward", N), |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let y = tape
                .watch(&x1)
                .bilinear(&tape.watch(&x2), &tape.watch(&w), &tape.watch(&b))
                .sum();
            black_box(y.backward())
        });
    });
}

fn bilinear(c: &mut Criterion) {
    let mut group = c.benchmark_group("bilinear");
    short(&mut group);
    bilinear_at::<8>(&mut group);
    bilinear_at::<64>(&mut group);
    bilinear_at::<256>(&mut group);
    group.finish();
}

/// Median time per call of `f` over rounds of `iters` calls.
fn median_per_call(iters: u32, mut f: impl FnMut()) -> Duration {
    let mut rounds: Vec<Duration> = (0..7)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..iters {
                f();
            }
            start.elapsed() / iters
        })
        .collect();
    rounds.sort();
    rounds[rounds.len() / 2]
}

/// `Tensor::matmul` against `matrixmultiply::sgemm` on the same operands, timed interleaved (so drift
/// on a shared machine hits both) in this process.
fn matmul_ratio<const N: usize>(iters: u32) {
    let a: Tensor<Rank2<N, N>> = random(1);
    let b: Tensor<Rank2<N, N>> = random(2);
    let mut c = vec![0.0_f32; N * N];
    let (mut t, mut r) = (Vec::new(), Vec::new());
    for _ in 0..9 {
        t.push(median_per_call(iters, || {
            black_box(black_box(&a).matmul(black_box(&b)));
        }));
        r.push(median_per_call(iters, || {
            raw_sgemm(N, black_box(a.as_slice()), black_box(b.as_slice()), &mut c);
        }));
    }
    t.sort();
    r.sort();
    let (t, r) = (t[t.len() / 2], r[r.len() / 2]);
    let threads = if cfg!(feature = "threading") && N * N * N >= 1 << 20 {
        "two threads"
    } else {
        "one thread"
    };
    println!(
        "matmul {N}x{N}: Tensor ({threads}) {:.1} us, raw sgemm (one thread) {:.1} us, ratio {:.3}",
        t.as_secs_f64() * 1e6,
        r.as_secs_f64() * 1e6,
        t.as_secs_f64() / r.as_secs_f64()
    );
}

criterion_group!(benches, matmul, inner, linear, bilinear);

/// The time of one `N x N` product through `Tensor::matmul`, for the thread-count table.
fn matmul_time<const N: usize>() {
    let a: Tensor<Rank2<N, N>> = random(1);
    let b: Tensor<Rank2<N, N>> = random(2);
    let iters = u32::try_from((1 << 26) / (N * N * N))
        .unwrap_or(1)
        .clamp(2, 20_000);
    let t = median_per_call(iters, || {
        black_box(black_box(&a).matmul(black_box(&b)));
    });
    println!("matmul {N}x{N}: {:.2} us", t.as_secs_f64() * 1e6);
}

fn main() {
    // A summary before criterion: `cargo bench --bench contractions -- summary` prints only this (no
    // criterion benchmark is named `summary`). With the default features, products of 2^20
    // multiply-adds and more run on two threads; `--no-default-features` keeps every product on one.
    matmul_ratio::<256>(20);
    matmul_ratio::<512>(4);
    matmul_time::<64>();
    matmul_time::<96>();
    matmul_time::<128>();
    matmul_time::<192>();
    matmul_time::<256>();
    matmul_time::<384>();
    matmul_time::<512>();
    matmul_time::<1024>();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
