"""Optimizer steps, gradient clipping and learning-rate schedules computed by torch.optim and
torch.nn.utils in float64.

Prints the parameters after three optimizer steps (and the other short cases), which
tests/it/optim_reference.rs asserts as literals, and writes the schedules' learning rates over many
steps to tests/data/optim_schedules.txt, which it reads. Run: python3 scripts/optim_reference.py
"""
import math
import os
import warnings

import torch

warnings.filterwarnings("ignore")  # the schedulers' notes on `optimizer.step()` order
torch.set_printoptions(precision=17)
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
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

# Schedules: the learning rate of every step as the scheduler sets it (`lr`), its closed form
# (`closed`, where PyTorch has one) and the momentum it sets (`momentum`).
L = torch.optim.lr_scheduler


def trajectory(make_opt, make_sched, n, closed=True):
    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = make_opt([p])
    sched = make_sched(opt)
    group = opt.param_groups[0]
    lrs, momenta, closed_lrs = [], [], []
    for k in range(n):
        lrs.append(group["lr"])
        momenta.append(group["betas"][0] if "betas" in group else group.get("momentum", 0.0))
        if k < n - 1:
            p.grad = torch.ones(1, dtype=torch.float64)
            opt.step()
            sched.step()
    if closed:
        for k in range(n):
            sched.last_epoch = k
            closed_lrs.append(sched._get_closed_form_lr()[0])
    return lrs, momenta, closed_lrs


def sgd(ps):
    return torch.optim.SGD(ps, lr=0.1, momentum=0.9)


SCHEDULES = {
    "step": (sgd, lambda o: L.StepLR(o, step_size=7, gamma=0.7), 300, True, False),
    "multistep": (sgd, lambda o: L.MultiStepLR(o, milestones=[150, 30, 80, 80], gamma=0.5), 300, True, False),
    "exponential": (sgd, lambda o: L.ExponentialLR(o, gamma=0.99), 1000, True, False),
    "cosine": (sgd, lambda o: L.CosineAnnealingLR(o, T_max=50, eta_min=1e-3), 300, True, False),
    "cosine_long": (sgd, lambda o: L.CosineAnnealingLR(o, T_max=500), 501, True, False),
    "linear_default": (sgd, lambda o: L.LinearLR(o), 20, True, False),
    "linear_warmup": (sgd, lambda o: L.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=20), 100, True, False),
    "linear_decay": (sgd, lambda o: L.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=50), 100, True, False),
    "warmup_cosine": (sgd, lambda o: L.SequentialLR(o, [
        L.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=10),
        L.CosineAnnealingLR(o, T_max=90)], milestones=[10]), 101, False, False),
    "sequential_three": (sgd, lambda o: L.SequentialLR(o, [
        L.LinearLR(o, start_factor=0.5, total_iters=4),
        L.ExponentialLR(o, gamma=0.9),
        L.StepLR(o, step_size=5, gamma=0.5)], milestones=[10, 40]), 80, False, False),
    "one_cycle": (sgd, lambda o: L.OneCycleLR(o, max_lr=0.1, total_steps=100), 101, False, True),
    "one_cycle_three_phase_linear": (
        lambda ps: torch.optim.Adam(ps, lr=0.01),
        lambda o: L.OneCycleLR(o, max_lr=0.05, total_steps=77, pct_start=0.25, anneal_strategy="linear",
                               three_phase=True, div_factor=10.0, final_div_factor=100.0,
                               base_momentum=0.8, max_momentum=0.9), 78, False, True),
}

lines = [
    f"# torch {torch.__version__}, float64; written by scripts/optim_reference.py",
    "# NAME KIND VALUES: the learning rates of steps 0, 1, ... as the scheduler sets them (lr), its",
    "# closed form (closed), and the momentum it sets (momentum)",
]
for name, (make_opt, make_sched, n, closed, momentum) in SCHEDULES.items():
    lrs, momenta, closed_lrs = trajectory(make_opt, make_sched, n, closed)
    lines.append(f"{name} lr " + " ".join(repr(float(v)) for v in lrs))
    if closed:
        lines.append(f"{name} closed " + " ".join(repr(float(v)) for v in closed_lrs))
    if momentum:
        lines.append(f"{name} momentum " + " ".join(repr(float(v)) for v in momenta))
path = os.path.join(ROOT, "tests", "data", "optim_schedules.txt")
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"# wrote {path}: {len(SCHEDULES)} schedules")
