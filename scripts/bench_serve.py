"""Timing shared by the PyTorch side of the benches: a median over rounds, and the `--serve` loop that
lets a Rust bench time PyTorch interleaved with its own rounds.

A script calls `run(timer)` with its `timer(name, mode)`, which returns a function of no arguments
doing one call of case `name` in `mode` (`forward` or `forward_backward`). With `--serve` on the
command line, `run` reads lines `<name> <mode> <iters>` on standard input and answers each with the
median time per call in microseconds over five rounds of `iters` calls; otherwise it returns False and
the script prints its own table.
"""
import statistics
import sys
import time
import warnings

# torch warns when numpy is missing; the benches do not use numpy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402


def median_us(f, iters, rounds):
    """Median wall-clock time per call of `f` over `rounds` rounds of `iters` calls, after one round of
    warm-up, in microseconds."""
    for _ in range(iters):
        f()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iters):
            f()
        times.append((time.perf_counter() - start) / iters)
    return statistics.median(times) * 1e6


def threads():
    """The thread count given on the command line (1 unless told), set in torch."""
    args = [a for a in sys.argv[1:] if a != "--serve"]
    n = int(args[0]) if args else 1
    torch.set_num_threads(n)
    return n


def serve(timer):
    """With `--serve`, answers timing requests until standard input closes, and returns True."""
    if "--serve" not in sys.argv:
        return False
    for line in sys.stdin:
        name, mode, iters = line.split()
        print(f"{median_us(timer(name, mode), int(iters), 5):.3f}", flush=True)
    return True
