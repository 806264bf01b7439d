"""PyTorch's values and gradients for the activations and elementary functions
(tests/it/reference_activations.rs). Run: python3 scripts/reference_activations.py"""
import torch
import torch.nn.functional as F

from reference import Fixture, rand

f = Fixture("activations")

# name: (function, input range of the random case, edge values)
BIG = [-1000.0, -40.0, -20.5, -20.0, -1.0, -0.0, 0.0, 1e-20, 1.0, 19.5, 20.0, 20.5, 40.0, 1000.0]
OPS = {
    "gelu": (F.gelu, (-6, 6), [-40.0, -8.0, -5.0, -1.0, -0.0, 0.0, 1e-20, 1.0, 5.0, 40.0, 1000.0]),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), (-6, 6), [-8.0, -3.0, -1.0, 0.0, 1.0, 5.0, 40.0, 1000.0]),
    "silu": (F.silu, (-6, 6), BIG),
    "softplus": (F.softplus, (-25, 25), BIG),
    "softplus_with": (lambda x: F.softplus(x, 2.0, 3.0), (-4, 4), [-500.0, -1.0, 0.0, 1.0, 1.5, 1.6, 500.0]),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), (-3, 3), [-1000.0, -1.0, -0.0, 0.0, 1.0, 1000.0]),
    "elu": (lambda x: F.elu(x, 0.7), (-3, 3), [-1000.0, -40.0, -1.0, -0.0, 0.0, 1.0, 1000.0]),
    "log_sigmoid": (F.logsigmoid, (-10, 10), BIG),
    "hardtanh": (lambda x: F.hardtanh(x, -0.5, 2.0), (-3, 3), [-1000.0, -0.5, -0.4999, 0.0, 1.9999, 2.0, 1000.0]),
    "log1p": (torch.log1p, (-0.9, 4), [-0.999, -0.5, -1e-20, -0.0, 0.0, 1e-20, 1e-8, 1.0, 1e10]),
    "expm1": (torch.expm1, (-4, 4), [-1000.0, -40.0, -1.0, -1e-20, -0.0, 0.0, 1e-20, 1e-8, 1.0, 40.0, 700.0]),
    "erf": (torch.erf, (-4, 4), [-1000.0, -6.0, -5.9, -1.0, -0.0, 0.0, 1e-20, 0.5, 0.84375, 1.25, 2.857, 3.0, 5.9, 6.0]),
    "sin": (torch.sin, (-7, 7), [-1000.0, -0.0, 0.0, 1e-20, 1.0, 1e6]),
    "cos": (torch.cos, (-7, 7), [-1000.0, -0.0, 0.0, 1e-20, 1.0, 1e6]),
    "square": (torch.square, (-3, 3), [-1e100, -1.0, -0.0, 0.0, 1.0, 1e100]),
    "recip": (torch.reciprocal, (0.2, 3), [-1e100, -3.0, -1e-20, 1e-20, 0.5, 1e100]),
}

for i, (name, (op, (lo, hi), edges)) in enumerate(OPS.items()):
    def fn(x, op=op):
        return op(x)
    f.case(name, fn, {"x": rand(3, 4, seed=10 + i, low=lo, high=hi)}, seed=i)
    f.case(f"{name}_edge", fn, {"x": torch.tensor(edges, requires_grad=True)}, seed=100 + i)
    # NaN: the values only (the crate's gradients at NaN are NaN; some of PyTorch's are not).
    f.case(f"{name}_nan", fn, {"x": torch.tensor([float("nan"), 1.0])})

f.write()
