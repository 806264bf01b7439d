"""A state_dict saved in half precision by PyTorch: tests/data/half_precision.safetensors holds a
Linear(3, 2) in float16 ("l1.*") and one in bfloat16 ("l2.*"), and tests/it/loading.rs checks that
they load into f32 and f64 models with the values PyTorch converts them to.
Run: python3 scripts/half_precision.py (needs the `safetensors` Python package)."""
import os

import torch
from safetensors.torch import save_file

torch.manual_seed(0)
l1 = torch.nn.Linear(3, 2)
l2 = torch.nn.Linear(3, 2)
state = {
    "l1.weight": l1.weight.detach().to(torch.float16),
    "l1.bias": l1.bias.detach().to(torch.float16),
    "l2.weight": l2.weight.detach().to(torch.bfloat16),
    "l2.bias": l2.bias.detach().to(torch.bfloat16),
}
# Edge values in half precision: a subnormal, the largest finite f16, an infinity, a negative zero.
state["edges"] = torch.tensor([2.0**-24, 65504.0, float("inf"), -0.0], dtype=torch.float16)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "half_precision.safetensors")
save_file(state, path)
for name, t in state.items():
    print(name, [repr(v) for v in t.to(torch.float64).reshape(-1).tolist()])
