"""The two training steps of benches/training.rs in PyTorch eager mode, for comparison.

Same models, batch sizes, losses and plain SGD as the Rust benches; prints the median time per step.
Run: python3 scripts/bench_pytorch.py [threads]
"""
import statistics
import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
torch.set_num_threads(threads)
torch.manual_seed(0)


def median_step_us(step, iters, rounds=15):
    for _ in range(iters):
        step()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iters):
            step()
        times.append((time.perf_counter() - start) / iters)
    return statistics.median(times) * 1e6


mlp = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
mlp_opt = torch.optim.SGD(mlp.parameters(), lr=0.01)
x = torch.rand(64, 784)
labels = torch.randint(0, 10, (64,))


def mlp_step():
    mlp_opt.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(mlp(x), labels)
    loss.backward()
    mlp_opt.step()


tiny = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
tiny_opt = torch.optim.SGD(tiny.parameters(), lr=0.01)
tx = torch.rand(32, 2) * 2 - 1
ty = torch.sign(tx[:, :1] * tx[:, 1:])


def tiny_step():
    tiny_opt.zero_grad(set_to_none=True)
    loss = nn.functional.mse_loss(tiny(tx), ty)
    loss.backward()
    tiny_opt.step()


print(f"torch {torch.__version__}, {threads} thread(s)")
print(f"mlp 784-128-10, batch 64: {median_step_us(mlp_step, 50):.1f} us")
print(f"tiny 2-16-16-1, batch 32: {median_step_us(tiny_step, 500):.1f} us")
