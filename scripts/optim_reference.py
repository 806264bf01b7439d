"""Parameters after three optimizer steps, computed by torch.optim in float64.

tests/optim_reference.rs asserts these values. Run: python3 scripts/optim_reference.py
"""
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
}

print(f"# torch {torch.__version__}")
for name, make in CASES.items():
    p = torch.tensor(P0, dtype=torch.float64, requires_grad=True)
    opt = make(p)
    for g in GRADS:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    print(name, [repr(v) for v in p.detach().tolist()])
