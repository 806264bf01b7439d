"""The conv2d cases of benches/conv.rs in PyTorch eager mode, for comparison.

Same shapes, float32, inputs uniform in [-1, 1), 3 x 3 kernels with padding 1; forward alone (without
autograd), and forward + backward of sum(conv2d(x, w, b)) with the gradients of x, w and b. One thread
unless told otherwise. Prints the median time per call.

Run: python3 scripts/bench_pytorch_conv.py [threads]

With --serve it answers `<case> <mode> <iters>` lines with median times (scripts/bench_serve.py), so
that `cargo bench --bench conv -- pytorch` can time both sides interleaved, case by case.
"""
import torch.nn.functional as F

from bench_serve import median_us, serve, threads, torch

# name: (N, C_in, H, W, C_out), as in the Rust bench.
CASES = {
    "digits": (64, 1, 8, 8, 16),
    "large": (32, 16, 32, 32, 32),
}


def uniform(seed, *shape):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g) * 2 - 1


def timer(name, mode):
    """A function running one call of case `name` in `mode`."""
    n, c, h, w, o = CASES[name]
    x, k, b = uniform(1, n, c, h, w), uniform(2, o, c, 3, 3), uniform(3, o)
    if mode == "forward":
        def run():
            with torch.no_grad():
                F.conv2d(x, k, b, padding=1)
        return run
    for t in (x, k, b):
        t.requires_grad_(True)

    def run():
        x.grad = k.grad = b.grad = None
        F.conv2d(x, k, b, padding=1).sum().backward()
    return run


def main():
    n = threads()
    if serve(timer):
        return
    print(f"torch {torch.__version__}, {n} thread(s), float32, 3 x 3 conv2d with padding 1, "
          f"median us per call")
    print(f"{'case':<28} {'forward':>10} {'fwd+bwd':>10}")
    for name, (n, c, h, w, o) in CASES.items():
        fwd = median_us(timer(name, "forward"), 20, 15)
        both = median_us(timer(name, "forward_backward"), 10, 15)
        print(f"{f'{name} {n}x{c}x{h}x{w} -> {o}':<28} {fwd:>10.1f} {both:>10.1f}")


if __name__ == "__main__":
    main()
