"""Reference values for `MultiheadAttention::attend`: the key padding mask (with and without the
causal mask), and the attention weights per head and averaged over the heads, with the gradients
of the inputs and of every parameter, computed by PyTorch in float64 with the same weights.

Run: python3 scripts/reference_attention.py  (writes tests/data/reference/attention.txt, read by
tests/it/reference_attention.rs). The parameters are inputs of each case, `in_proj_weight`
`[3, 4, 4]` and `in_proj_bias` `[3, 4]` in the layer's typed shapes (PyTorch's `[12, 4]` and `[12]`
read as three blocks); `torch.func.functional_call` runs `nn.MultiheadAttention` with them, so that
their gradients are recorded. The key padding mask is a boolean input (`true`: ignore the key).
"""
import torch
from torch import nn
from torch.func import functional_call

from reference import Fixture, rand

fx = Fixture("attention")
mha = nn.MultiheadAttention(4, 2, batch_first=True)


def params(seed):
    return {"in_proj_weight": rand(3, 4, 4, seed=seed), "in_proj_bias": rand(3, 4, seed=seed + 1),
            "out_proj.weight": rand(4, 4, seed=seed + 2), "out_proj.bias": rand(4, seed=seed + 3)}


def run(what, causal=False):
    """The attention of `query` over `key` and `value` with `key_padding_mask`, giving the output
    (`what = "out"` through PyTorch's `need_weights=False` path, `"out_weights_path"` through its
    `need_weights=True` path), the weights averaged over the heads (`"avg"`) or the weights of each
    head (`"heads"`)."""
    def f(query, key, value, key_padding_mask, in_proj_weight, in_proj_bias, **out_proj):
        state = {"in_proj_weight": in_proj_weight.reshape(12, 4),
                 "in_proj_bias": in_proj_bias.reshape(12), **out_proj}
        attn_mask = None
        if causal:
            L, S = query.shape[1], key.shape[1]
            attn_mask = torch.ones(L, S, dtype=torch.bool).triu(1)
        need = what != "out"
        y, w = functional_call(mha, state, (query, key, value),
                               {"key_padding_mask": key_padding_mask, "need_weights": need,
                                "attn_mask": attn_mask, "average_attn_weights": what == "avg"})
        return y if what in ("out", "out_weights_path") else w
    return f


def inputs(seed, mask, lengths=(3, 5)):
    L, S = lengths
    return {"query": rand(2, L, 4, seed=seed), "key": rand(2, S, 4, seed=seed + 1),
            "value": rand(2, S, 4, seed=seed + 2), "key_padding_mask": torch.tensor(mask),
            **params(seed + 10)}


MASK = [[False, True, False, False, True], [False, False, False, True, True]]
fx.case("key_padding_mask_cross", run("out"), inputs(100, MASK), seed=1)
fx.case("key_padding_mask_causal", run("out", causal=True), inputs(200, MASK, (5, 5)), seed=2)
fx.case("weights_averaged", run("avg"), inputs(300, MASK), seed=3)
fx.case("weights_per_head", run("heads", causal=True), inputs(400, MASK, (4, 5)), seed=4)
# No mask at all (every key kept): the weights of plain attention, averaged.
fx.case("weights_averaged_unmasked", run("avg"), inputs(500, [[False] * 5] * 2), seed=5)
# The second batch's keys are all padding: NaN weights and output in PyTorch's need_weights=True
# path (its need_weights=False path gives zeros there).
fx.case("fully_padded_batch", run("out_weights_path"),
        inputs(600, [[False, False, True, False, False], [True] * 5]), seed=6)

fx.write()
