"""The two training steps of benches/training.rs in PyTorch eager mode, for comparison.

Same models, batch sizes, losses and plain SGD as the Rust benches; prints the median time per step.
Run: python3 scripts/bench_pytorch.py [threads]
"""
from torch import nn

from bench_serve import median_us, threads, torch

n_threads = threads()
torch.manual_seed(0)

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


print(f"torch {torch.__version__}, {n_threads} thread(s)")
print(f"mlp 784-128-10, batch 64: {median_us(mlp_step, 50, 15):.1f} us")
print(f"tiny 2-16-16-1, batch 32: {median_us(tiny_step, 500, 15):.1f} us")
