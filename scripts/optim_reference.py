"""Parameters after optimizer steps computed by torch.optim in float64 (three steps, or four with a
parameter frozen for the first two), and gradients clipped by torch.nn.utils.

tests/optim_reference.rs asserts these values. Run: python3 scripts/optim_reference.py
"""
import math

import torch

torch.set_printoptions(precision=17)
P0 = [0.5, -1.0, 2.0]
GRADS = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.1], [0.2, 0.2, -0.6]]

CASES = {
    "sgd": lambda p: torch.optim.SGD([p], lr=0.1),
    "sgd_momentum": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9),
    "sgd_dampening": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1),
    "sgd_nesterov_wd": lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    "adam": lambda p: torch.optim.Adam([p], lr=0.01),
    "adam_wd_betas": lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
    "adam_small_beta1": lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.3, 0.999)),
    "adamw": lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1),
    "rmsprop": lambda p: torch.optim.RMSprop([p], lr=0.01),
    "rmsprop_momentum": lambda p: torch.optim.RMSprop([p], lr=0.01, momentum=0.5),
    "rmsprop_centered": lambda p: torch.optim.RMSprop([p], lr=0.01, alpha=0.3, centered=True),
    "rmsprop_all": lambda p: torch.optim.RMSprop(
        [p], lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.9, centered=True),
    "adagrad": lambda p: torch.optim.Adagrad([p], lr=0.1),
    "adagrad_all": lambda p: torch.optim.Adagrad(
        [p], lr=0.1, lr_decay=0.5, weight_decay=0.1, initial_accumulator_value=0.2, eps=1e-6),
}

print(f"# torch {torch.__version__}")
for name, make in CASES.items():
    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    opt = make(p)
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    print(name, [repr(v) for v in p.detach().tolist()])

# Freezing: `a` has no gradient (PyTorch skips it: no update, no state, no step) for the first two
# of four steps, `b` has one at every step.
A0, B0 = [0.5, -1.0, 2.0], [0.3, -0.7]
GA = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.1], [0.2, 0.2, -0.6], [0.3, -0.1, 0.2]]
GB = [[0.2, 0.1], [-0.3, 0.4], [0.5, -0.5], [0.1, 0.1]]
FROZEN = {
    "adamw_freeze": lambda ps: torch.optim.AdamW(ps, lr=0.1, weight_decay=0.1),
    "adagrad_freeze": lambda ps: torch.optim.Adagrad(ps, lr=0.1, lr_decay=0.5),
    "sgd_freeze": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5),
}
for name, make in FROZEN.items():
    a = torch.tensor(A0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(B0, dtype=torch.float64, requires_grad=True)
    opt = make([a, b])
    for k in range(4):
        a.grad = None if k < 2 else torch.tensor(GA[k], dtype=torch.float64)
        b.grad = torch.tensor(GB[k], dtype=torch.float64)
        opt.step()
    print(name, "a", [repr(v) for v in a.detach().tolist()], "b", [repr(v) for v in b.detach().tolist()])

# Clipping two gradient tensors, w [2, 2] and b [3].
W = [[0.3, -1.2], [2.0, 0.25]]
B = [-0.5, 0.75, 1.5]
for label, clip in [
    ("norm2_max1", lambda ps: torch.nn.utils.clip_grad_norm_(ps, 1.0)),
    ("norm1_max100", lambda ps: torch.nn.utils.clip_grad_norm_(ps, 100.0, norm_type=1.0)),
    ("norminf_max0.5", lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.5, norm_type=math.inf)),
    ("norm3_max0.7", lambda ps: torch.nn.utils.clip_grad_norm_(ps, 0.7, norm_type=3.0)),
    ("value0.6", lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.6)),
]:
    w = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor(W, dtype=torch.float64)
    b.grad = torch.tensor(B, dtype=torch.float64)
    total = clip([w, b])
    total = "-" if total is None else repr(total.item())
    print("clip", label, total, [repr(v) for v in w.grad.reshape(-1).tolist()],
          [repr(v) for v in b.grad.tolist()])
