//! Elementwise ops and reductions on `f32` matrices of 64 x 64 and 512 x 512, and a classifier's
//! cross-entropy on 64 rows of 10 scores, forward alone and forward + backward through a tape. Run:
//! `cargo bench --bench elementwise`.
//!
//! `cargo bench --bench elementwise -- pytorch` times the same ops against PyTorch instead, without
//! criterion: it starts `scripts/bench_pytorch_elementwise.py --serve` (one thread) and, op by op,
//! alternates rounds of ours and rounds of PyTorch's, so that drift on a shared machine hits both. It
//! prints the medians and the range of the per-round ratios. Names after `pytorch` keep only those
//! ops: `cargo bench --bench elementwise -- pytorch add mul`.

#[path = "common/pytorch.rs"]
mod pytorch;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use pytorch::PyTorch;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shaped::{Rank2, StaticShape, Tape, Tensor};

fn uniform<S: StaticShape>(seed: u64, (lo, hi): (f32, f32)) -> Tensor<S> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), lo, hi)
}

/// The range of most inputs; `ln` gets positive ones.
const SIGNED: (f32, f32) = (-1.0, 1.0);
const POSITIVE: (f32, f32) = (0.01, 2.0);

fn short(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(600));
}

/// Calls `$m!(group-or-driver, name, size, input range, |x, b| op)` for every elementwise op compared
/// with PyTorch (`scripts/bench_pytorch_elementwise.py` has the same list). `b` is a second operand,
/// uniform in `[-1, 1)`, watched in the backward case like `x`.
macro_rules! pytorch_ops {
    ($m:ident, $g:expr) => {
        $m!($g, "add", 512, SIGNED, |x, b| x + b);
        $m!($g, "mul", 512, SIGNED, |x, b| x * b);
        $m!($g, "exp", 512, SIGNED, |x, _b| x.exp());
        $m!($g, "ln", 512, POSITIVE, |x, _b| x.ln());
        $m!($g, "relu", 512, SIGNED, |x, _b| x.relu());
        $m!($g, "sigmoid", 512, SIGNED, |x, _b| x.sigmoid());
        $m!($g, "tanh", 512, SIGNED, |x, _b| x.tanh());
        $m!($g, "gelu", 512, SIGNED, |x, _b| x.gelu());
        $m!($g, "gelu_tanh", 512, SIGNED, |x, _b| x.gelu_tanh());
        $m!($g, "silu", 512, SIGNED, |x, _b| x.silu());
        $m!($g, "softplus", 512, SIGNED, |x, _b| x.softplus());
        $m!($g, "log_sigmoid", 512, SIGNED, |x, _b| x.log_sigmoid());
        $m!($g, "softmax", 512, SIGNED, |x, b| x.softmax::<1>() * b);
        $m!($g, "log_softmax", 512, SIGNED, |x, b| x.log_softmax::<1>()
            * b);
        $m!($g, "logsumexp_axis1", 512, SIGNED, |x, _b| x
            .logsumexp_axis::<1>());
        $m!($g, "sum_axis0", 512, SIGNED, |x, _b| x.sum_axis::<0>());
    };
}

/// Benchmarks `op` forward and forward + backward (through a `sum`) on an `N x N` input.
/// Both operands are watched in the backward case, so an op of two operands computes both gradients.
macro_rules! bench_op {
    ($group:expr, $name:literal, $n:expr, $range:expr, |$x:ident, $b:ident| $body:expr) => {{
        type S = Rank2<{ $n }, { $n }>;
        let x0: Tensor<S> = uniform(1, $range);
        let b0: Tensor<S> = uniform(2, SIGNED);
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
    bench_op!(group, "add", 64, SIGNED, |x, b| x + b);
    pytorch_ops!(bench_op, group);
    // The same ReLU as a user-defined op, and an op the crate does not have (softsign,
    // x / (1 + |x|)), through `Tensor::unary`.
    bench_op!(group, "unary_relu", 512, SIGNED, |x, _b| x.unary(
        |v| if v <= 0.0 { 0.0 } else { v },
        |v, _| if v > 0.0 { 1.0 } else { 0.0 }
    ));
    bench_op!(group, "unary_softsign", 512, SIGNED, |x, _b| x.unary(
        |v| v / (1.0 + v.abs()),
        |v, _| 1.0 / ((1.0 + v.abs()) * (1.0 + v.abs()))
    ));
    group.finish();
}

fn reductions(c: &mut Criterion) {
    let mut group = c.benchmark_group("reductions");
    short(&mut group);
    bench_op!(group, "sum", 512, SIGNED, |x, _b| x
        .sum()
        .reshape::<shaped::Rank1<1>>());
    bench_op!(group, "sum_axis1", 512, SIGNED, |x, _b| x.sum_axis::<1>());
    bench_op!(group, "max_axis1", 512, SIGNED, |x, _b| x.max_axis::<1>());
    bench_op!(group, "transpose", 512, SIGNED, |x, b| x.transpose() * b);
    group.finish();
    classifier_loss(c);
}

/// A classifier's loss: `cross_entropy` on 64 rows of 10 scores, rows shorter than a kernel chunk.
fn classifier_loss(c: &mut Criterion) {
    use shaped::Const;
    use shaped::nn::{Labels, cross_entropy};
    let mut group = c.benchmark_group("loss");
    short(&mut group);
    let x: Tensor<Rank2<64, 10>> = uniform(3, (-4.0, 4.0));
    let ids: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
    let labels: Labels<Const<64>, 10> = Labels::from_slice(&ids).expect("ids are below 10");
    group.bench_function("cross_entropy_64x10/forward", |bench| {
        bench.iter(|| black_box(cross_entropy(black_box(&x), &labels)))
    });
    group.bench_function("cross_entropy_64x10/forward_backward", |bench| {
        bench.iter(|| {
            let tape = Tape::new();
            let xt = tape.watch(black_box(&x));
            black_box(cross_entropy(&xt, &labels).backward())
        })
    });
    group.finish();
}

// ---- interleaved ratios to PyTorch ----

/// Compares `f`, one call of `op` in `mode`, with PyTorch: more calls a round forward than backward.
fn compare(torch: &mut PyTorch, op: &str, mode: &str, f: impl FnMut()) {
    let iters = if mode == "forward" { 40 } else { 15 };
    torch.compare(op, mode, iters, f);
}

/// The PyTorch side and the ops to compare (all when empty).
struct Driver {
    torch: PyTorch,
    only: Vec<String>,
}

/// Compares one op, forward and forward + backward, as in [`bench_op`], unless the driver leaves it out.
macro_rules! compare_op {
    ($driver:expr, $name:literal, $n:expr, $range:expr, |$x:ident, $b:ident| $body:expr) => {{
        type S = Rank2<{ $n }, { $n }>;
        let driver: &mut Driver = $driver;
        if driver.only.is_empty() || driver.only.iter().any(|o| o == $name) {
            let torch = &mut driver.torch;
            let x0: Tensor<S> = uniform(1, $range);
            let b0: Tensor<S> = uniform(2, SIGNED);
            compare(torch, $name, "forward", || {
                let ($x, $b) = (black_box(&x0).clone(), black_box(&b0));
                black_box($body);
            });
            compare(torch, $name, "forward_backward", || {
                let tape = Tape::new();
                let bt = tape.watch(black_box(&b0));
                let ($x, $b) = (tape.watch(black_box(&x0)), &bt);
                let y = $body;
                black_box(y.sum().backward());
            });
        }
    }};
}

fn pytorch_ratios(only: Vec<String>) {
    let mut driver = Driver {
        torch: PyTorch::start("bench_pytorch_elementwise.py"),
        only,
    };
    PyTorch::header("512 x 512 f32, one thread");
    pytorch_ops!(compare_op, &mut driver);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "pytorch") {
        // cargo bench passes `--bench`; the rest after `pytorch` names ops.
        let only = args[at + 1..]
            .iter()
            .filter(|a| !a.starts_with('-'))
            .cloned()
            .collect();
        pytorch_ratios(only);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    elementwise(&mut c);
    reductions(&mut c);
    c.final_summary();
}
