"""The elementwise ops of benches/elementwise.rs in PyTorch eager mode, for comparison.

Same ops, shapes (512 x 512, float32), input ranges and reductions to a scalar as the Rust bench; one
thread unless told otherwise. Prints the median time per call, forward alone and forward + backward.

Run: python3 scripts/bench_pytorch_elementwise.py [threads]

With --serve it reads lines `<op> <mode> <iters>` (mode `forward` or `forward_backward`) on standard
input and answers each with the median time in microseconds (scripts/bench_serve.py), so that
`cargo bench --bench elementwise -- pytorch` can time both sides interleaved, op by op.
"""
from bench_serve import median_us, serve, threads, torch

N = 512


def uniform(seed, lo, hi):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(N, N, generator=g) * (hi - lo) + lo


# name: (function of (x, b), input range of x); b is uniform in [-1, 1). Each matches the Rust bench's
# closure, including the product with `b` that softmax and log_softmax are followed by.
OPS = {
    "add": (lambda x, b: x + b, (-1.0, 1.0)),
    "mul": (lambda x, b: x * b, (-1.0, 1.0)),
    "exp": (lambda x, b: torch.exp(x), (-1.0, 1.0)),
    "ln": (lambda x, b: torch.log(x), (0.01, 2.0)),
    "relu": (lambda x, b: torch.relu(x), (-1.0, 1.0)),
    "sigmoid": (lambda x, b: torch.sigmoid(x), (-1.0, 1.0)),
    "tanh": (lambda x, b: torch.tanh(x), (-1.0, 1.0)),
    "gelu": (lambda x, b: torch.nn.functional.gelu(x), (-1.0, 1.0)),
    "gelu_tanh": (lambda x, b: torch.nn.functional.gelu(x, approximate="tanh"), (-1.0, 1.0)),
    "silu": (lambda x, b: torch.nn.functional.silu(x), (-1.0, 1.0)),
    "softplus": (lambda x, b: torch.nn.functional.softplus(x), (-1.0, 1.0)),
    "log_sigmoid": (lambda x, b: torch.nn.functional.logsigmoid(x), (-1.0, 1.0)),
    "softmax": (lambda x, b: torch.softmax(x, dim=1) * b, (-1.0, 1.0)),
    "log_softmax": (lambda x, b: torch.log_softmax(x, dim=1) * b, (-1.0, 1.0)),
    "logsumexp_axis1": (lambda x, b: torch.logsumexp(x, dim=1), (-1.0, 1.0)),
    "sum_axis0": (lambda x, b: torch.sum(x, dim=0), (-1.0, 1.0)),
}


def timer(name, mode):
    """A function running one call of `name` in `mode`, on fresh inputs of the op's range."""
    f, (lo, hi) = OPS[name]
    x = uniform(1, lo, hi)
    b = uniform(2, -1.0, 1.0)
    if mode == "forward":
        def run():
            with torch.no_grad():
                f(x, b)
        return run
    # Both operands need a gradient, as in the Rust bench, which watches both.
    x.requires_grad_(True)
    b.requires_grad_(True)

    def run():
        x.grad = None
        b.grad = None
        f(x, b).sum().backward()
    return run


def main():
    n = threads()
    if serve(timer):
        return
    print(f"torch {torch.__version__}, {n} thread(s), {N} x {N} float32, median us per call")
    print(f"{'op':<16} {'forward':>10} {'fwd+bwd':>10}")
    for name in OPS:
        fwd = median_us(timer(name, "forward"), 50, 15)
        both = median_us(timer(name, "forward_backward"), 20, 15)
        print(f"{name:<16} {fwd:>10.1f} {both:>10.1f}")


if __name__ == "__main__":
    main()
