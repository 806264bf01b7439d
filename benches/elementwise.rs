//! Elementwise ops and reductions on `f32` matrices of 64 x 64 and 512 x 512, forward alone and
//! forward + backward through a tape. Run: `cargo bench --bench elementwise`.
//!
//! `cargo bench --bench elementwise -- pytorch` times the same ops against PyTorch instead, without
//! criterion: it starts `scripts/bench_pytorch_elementwise.py --serve` (one thread) and, op by op,
//! alternates rounds of ours and rounds of PyTorch's, so that drift on a shared machine hits both. It
//! prints the medians and the range of the per-round ratios.

use std::hint::black_box;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
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
        $m!($g, "softmax", 512, SIGNED, |x, b| x.softmax::<1>() * b);
        $m!($g, "log_softmax", 512, SIGNED, |x, b| x.log_softmax::<1>()
            * b);
        $m!($g, "logsumexp_axis1", 512, SIGNED, |x, _b| x
            .logsumexp_axis::<1>());
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
    group.finish();
}

fn reductions(c: &mut Criterion) {
    let mut group = c.benchmark_group("reductions");
    short(&mut group);
    bench_op!(group, "sum", 512, SIGNED, |x, _b| x
        .sum()
        .reshape::<shaped::Rank1<1>>());
    bench_op!(group, "sum_axis1", 512, SIGNED, |x, _b| x.sum_axis::<1>());
    bench_op!(group, "sum_axis0", 512, SIGNED, |x, _b| x.sum_axis::<0>());
    bench_op!(group, "max_axis1", 512, SIGNED, |x, _b| x.max_axis::<1>());
    bench_op!(group, "transpose", 512, SIGNED, |x, b| x.transpose() * b);
    group.finish();
}

// ---- interleaved ratios to PyTorch ----

/// The PyTorch side: the script in `--serve` mode, answering `<op> <mode> <iters>` with a median time.
struct PyTorch {
    child: std::process::Child,
    answers: BufReader<std::process::ChildStdout>,
}

impl PyTorch {
    fn start() -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/bench_pytorch_elementwise.py"
        );
        let mut child = Command::new("python3")
            .args([script, "1", "--serve"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with torch is needed for the comparison");
        let answers = BufReader::new(child.stdout.take().expect("piped"));
        Self { child, answers }
    }

    /// PyTorch's median time of `op` in `mode`, over five rounds of `iters` calls.
    fn time(&mut self, op: &str, mode: &str, iters: u32) -> Duration {
        let stdin = self.child.stdin.as_mut().expect("piped");
        writeln!(stdin, "{op} {mode} {iters}").expect("the PyTorch script stopped");
        let mut line = String::new();
        self.answers
            .read_line(&mut line)
            .expect("the PyTorch script stopped");
        let us: f64 = line.trim().parse().expect("a time in microseconds");
        Duration::from_secs_f64(us * 1e-6)
    }
}

/// Median time per call of `f` over five rounds of `iters` calls, after one round of warm-up.
fn median_time(iters: u32, mut f: impl FnMut()) -> Duration {
    let mut rounds = [Duration::ZERO; 6];
    for r in &mut rounds {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        *r = start.elapsed() / iters;
    }
    let rounds = &mut rounds[1..];
    rounds.sort();
    rounds[rounds.len() / 2]
}

/// Alternates seven rounds of ours (`f`) and PyTorch's, and prints both medians and the range of the
/// per-round ratios.
fn compare(torch: &mut PyTorch, op: &str, mode: &str, mut f: impl FnMut()) {
    let iters = if mode == "forward" { 40 } else { 15 };
    let (mut ours, mut theirs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..7 {
        let a = median_time(iters, &mut f);
        let b = torch.time(op, mode, iters);
        ratios.push(a.as_secs_f64() / b.as_secs_f64());
        ours.push(a);
        theirs.push(b);
    }
    ours.sort();
    theirs.sort();
    ratios.sort_by(f64::total_cmp);
    println!(
        "{op:<16} {mode:<17} {:>9.1} {:>9.1} {:>6.2} {:>5.2}-{:.2}",
        ours[3].as_secs_f64() * 1e6,
        theirs[3].as_secs_f64() * 1e6,
        ratios[3],
        ratios[0],
        ratios[6],
    );
}

/// Compares one op, forward and forward + backward, as in [`bench_op`].
macro_rules! compare_op {
    ($torch:expr, $name:literal, $n:expr, $range:expr, |$x:ident, $b:ident| $body:expr) => {{
        type S = Rank2<{ $n }, { $n }>;
        let x0: Tensor<S> = uniform(1, $range);
        let b0: Tensor<S> = uniform(2, SIGNED);
        compare($torch, $name, "forward", || {
            let ($x, $b) = (black_box(&x0).clone(), black_box(&b0));
            black_box($body);
        });
        compare($torch, $name, "forward_backward", || {
            let tape = Tape::new();
            let bt = tape.watch(black_box(&b0));
            let ($x, $b) = (tape.watch(black_box(&x0)), &bt);
            let y = $body;
            black_box(y.sum().backward());
        });
    }};
}

fn pytorch_ratios() {
    let mut torch = PyTorch::start();
    println!("512 x 512 f32, one thread; times in us (medians of 7 interleaved rounds)");
    println!(
        "{:<16} {:<17} {:>9} {:>9} {:>6} {:>9}",
        "op", "mode", "shaped", "pytorch", "ratio", "range"
    );
    pytorch_ops!(compare_op, &mut torch);
    drop(torch.child.stdin.take());
    let _ = torch.child.wait();
}

fn main() {
    if std::env::args().skip(1).any(|a| a == "pytorch") {
        pytorch_ratios();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    elementwise(&mut c);
    reductions(&mut c);
    c.final_summary();
}
