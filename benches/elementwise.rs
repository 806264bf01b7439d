//! Elementwise ops and reductions on `f32` matrices of 64 x 64 and 512 x 512, forward alone and
//! forward + backward through a tape. Run: `cargo bench --bench elementwise`.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use shaped::{Rank2, StaticShape, Tape, Tensor};

fn random<S: StaticShape>(seed: u64) -> Tensor<S> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -1.0, 1.0)
}

fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600));
}

/// Benchmarks `op` forward and forward + backward on an `N x N` input (and a second operand `b`).
/// Both operands are watched in the backward case, so an op of two operands computes both gradients.
macro_rules! bench_op {
    ($group:expr, $name:literal, $n:expr, |$x:ident, $b:ident| $body:expr) => {{
        type S = Rank2<{ $n }, { $n }>;
        let x0: Tensor<S> = random(1);
        let b0: Tensor<S> = random(2);
        $group.bench_function(BenchmarkId::new(concat!($name, "/forward"), $n), |bench| {
            bench.iter(|| {
                let ($x, $b) = (black_box(&x0).clone(), black_box(&b0));
                black_box($body)
            })
        });
        $group.bench_function(
            BenchmarkId::new(concat!($name, "/forward_backward"), $n),
            |bench| {
                bench.iter(|| {
                    let tape = Tape::new();
                    let bt = tape.watch(black_box(&b0));
                    let ($x, $b) = (tape.watch(black_box(&x0)), &bt);
                    let y = $body;
                    black_box(y.sum().backward())
                })
            },
        );
    }};
}

fn elementwise(c: &mut Criterion) {
    let mut group = c.benchmark_group("elementwise");
    short(&mut group);
    bench_op!(group, "add", 64, |x, b| x + b);
    bench_op!(group, "add", 512, |x, b| x + b);
    bench_op!(group, "mul", 512, |x, b| x * b);
    bench_op!(group, "exp", 512, |x, _b| x.exp());
    bench_op!(group, "relu", 512, |x, _b| x.relu());
    bench_op!(group, "sigmoid", 512, |x, _b| x.sigmoid());
    bench_op!(group, "tanh", 512, |x, _b| x.tanh());
    group.finish();
}

fn reductions(c: &mut Criterion) {
    let mut group = c.benchmark_group("reductions");
    short(&mut group);
    bench_op!(group, "sum", 512, |x, _b| x
        .sum()
        .reshape::<shaped::Rank1<1>>());
    bench_op!(group, "sum_axis1", 512, |x, _b| x.sum_axis::<1>());
    bench_op!(group, "sum_axis0", 512, |x, _b| x.sum_axis::<0>());
    bench_op!(group, "max_axis1", 512, |x, _b| x.max_axis::<1>());
    bench_op!(group, "softmax", 512, |x, b| x.softmax::<1>() * b);
    bench_op!(group, "log_softmax", 512, |x, b| x.log_softmax::<1>() * b);
    bench_op!(group, "logsumexp_axis1", 512, |x, _b| x
        .logsumexp_axis::<1>());
    bench_op!(group, "transpose", 512, |x, b| x.transpose() * b);
    group.finish();
}

criterion_group!(benches, elementwise, reductions);
criterion_main!(benches);
