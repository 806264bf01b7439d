"""PyTorch's values and gradients for the losses with a reduction (tests/it/reference_losses.rs).
Run: python3 scripts/reference_losses.py"""
import torch
import torch.nn.functional as F

from reference import Fixture, rand

f = Fixture("losses")
REDUCTIONS = ["mean", "sum", "none"]

for red in REDUCTIONS:
    f.case(f"mse_{red}", lambda p, t, red=red: F.mse_loss(p, t, reduction=red),
           {"p": rand(3, 4, seed=1), "t": rand(3, 4, seed=2)})
    f.case(f"l1_{red}", lambda p, t, red=red: F.l1_loss(p, t, reduction=red),
           {"p": rand(3, 4, seed=3), "t": rand(3, 4, seed=4)})
    f.case(f"huber_{red}", lambda p, t, red=red: F.huber_loss(p, t, reduction=red, delta=0.8),
           {"p": rand(3, 4, seed=5), "t": rand(3, 4, seed=6)})
    f.case(f"smooth_l1_{red}", lambda p, t, red=red: F.smooth_l1_loss(p, t, reduction=red, beta=0.6),
           {"p": rand(3, 4, seed=7), "t": rand(3, 4, seed=8)})

# Ties and exact bounds: l1 at d = 0, huber at |d| = delta.
f.case("l1_equal", lambda p, t: F.l1_loss(p, t, reduction="sum"),
       {"p": torch.tensor([1.0, -2.0, 0.5], requires_grad=True), "t": torch.tensor([1.0, 0.0, 0.5], requires_grad=True)})
f.case("huber_at_delta", lambda p, t: F.huber_loss(p, t, reduction="sum", delta=1.0),
       {"p": torch.tensor([1.0, -1.0, 0.25], requires_grad=True), "t": torch.tensor([0.0, 0.0, 0.0], requires_grad=True)})

for red in ["mean", "sum", "batchmean", "none"]:
    logq = torch.log_softmax(rand(3, 4, seed=9, grad=False), dim=1).requires_grad_(True)
    p = torch.softmax(rand(3, 4, seed=10, grad=False), dim=1).requires_grad_(True)
    f.case(f"kl_div_{red}", lambda x, t, red=red: F.kl_div(x, t, reduction=red), {"x": logq, "t": p})
logq = torch.log_softmax(rand(2, 3, seed=11, grad=False), dim=1).requires_grad_(True)
logp = torch.log_softmax(rand(2, 3, seed=12, grad=False), dim=1).requires_grad_(True)
f.case("kl_div_log_target", lambda x, t: F.kl_div(x, t, reduction="sum", log_target=True), {"x": logq, "t": logp})

PW = torch.tensor([0.5, 1.0, 2.0, 4.0])
for red in REDUCTIONS:
    t = torch.rand(3, 4, generator=torch.Generator().manual_seed(13)).requires_grad_(True)
    f.case(f"bce_pos_weight_{red}",
           lambda x, t, red=red: F.binary_cross_entropy_with_logits(x, t, pos_weight=PW, reduction=red),
           {"x": rand(3, 4, seed=14, low=-5, high=5), "t": t})
big = torch.tensor([[1000.0, -1000.0, 30.0, -30.0]], requires_grad=True)
f.case("bce_pos_weight_large", lambda x, t: F.binary_cross_entropy_with_logits(x, t, pos_weight=PW, reduction="sum"),
       {"x": big, "t": torch.tensor([[1.0, 1.0, 0.0, 0.5]], requires_grad=True)})

for red in REDUCTIONS:
    lp = torch.log_softmax(rand(4, 3, seed=15, grad=False), dim=1).requires_grad_(True)
    f.case(f"nll_{red}", lambda x, y, red=red: F.nll_loss(x, y, reduction=red),
           {"x": lp, "y": torch.tensor([2, 0, 1, 2])})

f.write()
