"""The writer of the reference fixtures: values of ops and their gradients computed by PyTorch in
float64, in a small text format that tests/it/reference.rs reads.

Each group of ops has a script (scripts/reference_<group>.py) that builds a `Fixture` and calls
`case(...)` for each case; the file goes to tests/data/reference/<group>.txt. A case records its
inputs, the op's output, a fixed upstream gradient `up` of the output's shape, and the gradient of
`sum(out * up)` with respect to every differentiable input:

    case NAME
    in LABEL DIMS : VALUES          (a float input; `grad LABEL` follows if it is differentiable)
    int LABEL DIMS : VALUES         (an integer input: indices, class ids)
    out DIMS : VALUES
    up DIMS : VALUES
    grad LABEL DIMS : VALUES

DIMS is comma-separated (`-` for a scalar), VALUES are space-separated Python reprs (exact in f64).
"""
import math
import os
import sys

import torch

torch.set_default_dtype(torch.float64)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def dims(t):
    return ",".join(str(d) for d in t.shape) if t.dim() > 0 else "-"


def values(t):
    return " ".join(repr(float(v)) for v in t.detach().reshape(-1).tolist())


def ints(t):
    return " ".join(str(int(v)) for v in t.reshape(-1).tolist())


class Fixture:
    def __init__(self, group):
        self.group = group
        self.lines = [f"# torch {torch.__version__}, float64; written by scripts/reference_{group}.py"]
        self.names = set()

    def case(self, name, fn, inputs, seed=0):
        """Records `fn(**inputs)`. Float tensors with requires_grad get a gradient line; integer
        and boolean tensors are written as `int`; other values (Python numbers) are not written and
        must be repeated in the Rust test."""
        assert name not in self.names, name
        self.names.add(name)
        self.lines.append(f"case {name}")
        for label, v in inputs.items():
            if isinstance(v, torch.Tensor):
                if v.dtype in (torch.int64, torch.int32, torch.bool):
                    self.lines.append(f"int {label} {dims(v)} : {ints(v)}")
                else:
                    self.lines.append(f"in {label} {dims(v)} : {values(v)}")
        out = fn(**inputs)
        if out.dtype in (torch.int64, torch.int32, torch.bool):
            self.lines.append(f"out {dims(out)} : {ints(out)}")
            return
        self.lines.append(f"out {dims(out)} : {values(out)}")
        diff = {k: v for k, v in inputs.items() if isinstance(v, torch.Tensor) and v.requires_grad}
        if not diff:
            return
        g = torch.Generator().manual_seed(1000 + seed)
        up = torch.rand(out.shape, generator=g) * 2 - 1
        self.lines.append(f"up {dims(up)} : {values(up)}")
        grads = torch.autograd.grad((out * up).sum(), list(diff.values()), allow_unused=True)
        for (label, v), gr in zip(diff.items(), grads):
            if gr is None:
                gr = torch.zeros_like(v)
            self.lines.append(f"grad {label} {dims(gr)} : {values(gr)}")

    def write(self):
        path = os.path.join(ROOT, "tests", "data", "reference", f"{self.group}.txt")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        print(f"wrote {path}: {len(self.names)} cases", file=sys.stderr)


def rand(*shape, seed=0, low=-2.0, high=2.0, grad=True):
    """Uniform values in [low, high) from a seeded generator, as a leaf that records gradients."""
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(shape, generator=g) * (high - low) + low
    return t.requires_grad_(grad)
