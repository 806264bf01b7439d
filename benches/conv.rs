//! `conv2d` forward, and forward + backward through a tape (the gradients of the input, the weight and
//! the bias of `sum(conv2d(x, w, b))`), in `f32`, on two shapes: a small CNN's first layer on 8 x 8
//! digits (64 images, 1 -> 16 channels, 3 x 3, padding 1) and a larger layer (32 images of 32 x 32,
//! 16 -> 32 channels, 3 x 3, padding 1). Run: `cargo bench --bench conv`.
//!
//! `cargo bench --bench conv -- pytorch` times the same calls against PyTorch instead, without
//! criterion: it starts `scripts/bench_pytorch_conv.py --serve` (one thread) and, case by case,
//! alternates rounds of ours and rounds of PyTorch's (`common/pytorch.rs`). No product here reaches
//! the size at which the `threading` feature splits one over two threads, so both run on one thread.

#[path = "common/pytorch.rs"]
mod pytorch;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion};
use pytorch::PyTorch;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shaped::{Conv, Grads, Rank1, Rank4, StaticShape, Tape, Tensor};

fn random<S: StaticShape>(seed: u64) -> Tensor<S> {
    Tensor::uniform(&mut StdRng::seed_from_u64(seed), -1.0, 1.0)
}

/// One layer: `N` images of `C x H x W` through `O` filters of 3 x 3 with padding 1 (same size out).
struct Layer<const N: usize, const C: usize, const H: usize, const W: usize, const O: usize> {
    x: Tensor<Rank4<N, C, H, W>>,
    w: Tensor<Rank4<O, C, 3, 3>>,
    b: Tensor<Rank1<O>>,
}

impl<const N: usize, const C: usize, const H: usize, const W: usize, const O: usize>
    Layer<N, C, H, W, O>
{
    fn new() -> Self {
        Self {
            x: random(1),
            w: random(2),
            b: random(3),
        }
    }

    fn forward(&self) -> Tensor<Rank4<N, O, H, W>> {
        black_box(&self.x).conv2d(black_box(&self.w), black_box(&self.b), Conv::<1, 1>)
    }

    fn forward_backward(&self) -> Grads<f32> {
        let tape = Tape::new();
        let (x, w, b) = (
            tape.watch(black_box(&self.x)),
            tape.watch(black_box(&self.w)),
            tape.watch(black_box(&self.b)),
        );
        let y: Tensor<Rank4<N, O, H, W>, f32, Tape<f32>> = x.conv2d(&w, &b, Conv::<1, 1>);
        y.sum().backward()
    }
}

/// The two layers, under the names `scripts/bench_pytorch_conv.py` knows them by.
fn layers() -> (Layer<64, 1, 8, 8, 16>, Layer<32, 16, 32, 32, 32>) {
    (Layer::new(), Layer::new())
}

fn conv2d(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv2d");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    let (digits, large) = layers();
    group.bench_function(BenchmarkId::new("forward", "digits"), |bench| {
        bench.iter(|| black_box(digits.forward()));
    });
    group.bench_function(BenchmarkId::new("forward_backward", "digits"), |bench| {
        bench.iter(|| black_box(digits.forward_backward()));
    });
    group.bench_function(BenchmarkId::new("forward", "large"), |bench| {
        bench.iter(|| black_box(large.forward()));
    });
    group.bench_function(BenchmarkId::new("forward_backward", "large"), |bench| {
        bench.iter(|| black_box(large.forward_backward()));
    });
    group.finish();
}

fn pytorch_ratios() {
    let mut torch = PyTorch::start("bench_pytorch_conv.py");
    PyTorch::header("conv2d 3 x 3, padding 1, f32, one thread");
    let (digits, large) = layers();
    torch.compare("digits", "forward", 100, || {
        black_box(digits.forward());
    });
    torch.compare("digits", "forward_backward", 40, || {
        black_box(digits.forward_backward());
    });
    torch.compare("large", "forward", 4, || {
        black_box(large.forward());
    });
    torch.compare("large", "forward_backward", 2, || {
        black_box(large.forward_backward());
    });
}

fn main() {
    if std::env::args().skip(1).any(|a| a == "pytorch") {
        pytorch_ratios();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    conv2d(&mut c);
    c.final_summary();
}
