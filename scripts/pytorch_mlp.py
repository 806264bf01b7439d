"""The digits MLP of examples/digits.rs in PyTorch, for tests/it/pytorch_interop.rs, both
directions.

    python3 scripts/pytorch_mlp.py export
        Trains the MLP for a few epochs (seeded) and writes tests/data/mlp_torch.safetensors (its
        state_dict, float32) and tests/data/mlp_torch_logits.csv (its logits on the first rows of
        examples/data/digits.csv.gz). The Rust test loads the file and must give the same logits.

    python3 scripts/pytorch_mlp.py check [MODEL LOGITS]
        Loads a file written by the crate (default: target/tmp/pytorch_interop/mlp_shaped.safetensors,
        written by `cargo test --test it pytorch_interop::`) into the same PyTorch module and
        compares its logits with the ones the crate wrote beside it. Exits with status 1 if they
        differ.

Logits agree when the argmax is equal on every row and no logit differs by more than 1e-5.
"""
import gzip
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
ROWS = 16  # rows of digits.csv.gz (from the first) whose logits are compared
TOLERANCE = 1e-5


class Mlp(nn.Module):
    """64 -> 64 -> ReLU -> 10; state_dict names l1.weight, l1.bias, l2.weight, l2.bias."""

    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(64, 64)
        self.l2 = nn.Linear(64, 10)

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x)))


def digits():
    """Pixels scaled to [0, 1] (float32) and labels, in file order."""
    with gzip.open(ROOT / "examples/data/digits.csv.gz", "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    x = torch.tensor(data[:, :64] / 16.0, dtype=torch.float32)
    y = torch.tensor(data[:, 64], dtype=torch.int64)
    return x, y


def write_logits(path, logits, labels):
    with open(path, "w") as f:
        f.write(f"# logits of the first {len(labels)} rows of examples/data/digits.csv.gz (pixels / 16)\n")
        f.write("# row,label,logit0,...,logit9\n")
        for i, (row, label) in enumerate(zip(logits.tolist(), labels.tolist())):
            f.write(f"{i},{label}," + ",".join(repr(np.float32(v).item()) for v in row) + "\n")


def read_logits(path):
    rows = [line.split(",") for line in open(path) if line.strip() and not line.startswith("#")]
    return torch.tensor([[float(v) for v in r[2:]] for r in rows], dtype=torch.float32)


def export():
    torch.manual_seed(0)
    x, y = digits()
    model = Mlp()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(3):
        for batch in torch.randperm(len(y)).split(32):
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
        logits = model(x[:ROWS])
    print(f"torch {torch.__version__}: trained 3 epochs, accuracy {accuracy:.3f} on all rows")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()},
              ROOT / "tests/data/mlp_torch.safetensors")
    write_logits(ROOT / "tests/data/mlp_torch_logits.csv", logits, y[:ROWS])
    print("wrote tests/data/mlp_torch.safetensors and tests/data/mlp_torch_logits.csv")


def check(model_path, logits_path):
    model = Mlp()
    state = load_file(model_path)
    print("tensors:", {k: (str(v.dtype), tuple(v.shape)) for k, v in state.items()})
    model.load_state_dict(state, strict=True)
    expected = read_logits(logits_path)
    x, _ = digits()
    with torch.no_grad():
        logits = model(x[: len(expected)])
    diff = (logits - expected).abs().max().item()
    same_argmax = bool((logits.argmax(1) == expected.argmax(1)).all())
    print(f"{len(expected)} rows: argmax equal: {same_argmax}, max |logit difference| {diff:.3g}")
    if not same_argmax or diff > TOLERANCE:
        sys.exit(1)
    print("PyTorch reproduces the crate's logits")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "export"
    if mode == "export":
        export()
    elif mode == "check":
        out = ROOT / "target/tmp/pytorch_interop"
        paths = sys.argv[2:4] if len(sys.argv) >= 4 else [out / "mlp_shaped.safetensors", out / "mlp_shaped_logits.csv"]
        check(*paths)
    else:
        sys.exit(f"unknown mode {mode!r}: use export or check")
