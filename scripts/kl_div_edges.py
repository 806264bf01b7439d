"""F.kl_div at the edges of its domain, in float64: a target of 0 (finite, -inf and +inf input), a
target > 0 with an infinite input, and with log_target a target of -inf (probability 0), for every
reduction, with the gradients of both the input and the target.

PyTorch computes `xlogy(t, t) - t * x` (`exp(t) * (t - x)` with log_target), so a target of 0 gives
0 against a finite input and NaN (`0 * inf`) against an infinite one; the target's gradient
`xlogy(t != 0, t) + t / t - x` is NaN at a target of 0 (`0 / 0`).

Prints one Rust tuple per case, `(inputs, log_target, reduction, out, grad input, grad target)`,
which tests/it/kl_div_edges.rs holds as literals. Run: python3 scripts/kl_div_edges.py
"""
import math

import torch
import torch.nn.functional as F

INF = math.inf

# Inputs (log-probabilities) and targets, element by element.
INPUTS = {
    # t = 0 against x = -1.5, 0.5, 0, -inf, inf; t > 0 against -inf, inf; a regular point.
    "edges": ([-1.5, 0.5, 0.0, -INF, INF, -INF, INF, -0.25],
              [0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.25]),
    # Only finite inputs: the reductions stay finite, the target's gradient is NaN at its zeros.
    "finite": ([-1.5, 0.5, 0.0, -0.25], [0.0, 0.0, 0.0, 0.25]),
    # log_target: t = -inf against x = -1.5, -inf, inf; t finite against -inf, inf; regular points.
    "log_edges": ([-1.5, -INF, INF, -INF, INF, -0.25, -1.0],
                  [-INF, -INF, -INF, 0.0, -0.5, -1.0, -0.5]),
}
# The upstream gradient of the unreduced output, for "none".
UP = [1.0, 2.0, 0.5, 3.0, 1.5, 0.25, 4.0, 0.75]


def rust(v):
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INF" if v > 0 else "-INF"
    return repr(v)


def row(vs):
    return "&[" + ", ".join(rust(v) for v in vs) + "]"


print(f"// torch {torch.__version__}")
for name, (xs, ts) in INPUTS.items():
    log_target = name.startswith("log")
    for reduction in ["none", "sum", "mean", "batchmean"]:
        x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
        t = torch.tensor(ts, dtype=torch.float64, requires_grad=True)
        out = F.kl_div(x, t, reduction=reduction, log_target=log_target)
        if reduction == "none":
            out.backward(torch.tensor(UP[: len(xs)], dtype=torch.float64))
        else:
            out.backward()
        print(f'("{name}", {str(log_target).lower()}, "{reduction}",')
        print(f"    {row(out.detach().reshape(-1).tolist())},")
        print(f"    {row(x.grad.tolist())},")
        print(f"    {row(t.grad.tolist())}),")
