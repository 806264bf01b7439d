"""Reference values of the layers (Embedding with and without padding_idx, LayerNorm, BatchNorm1d on
[B, C] and [B, C, L] in training and evaluation, Dropout for a given mask (float32),
scaled dot-product attention, MultiheadAttention) and the gradients of their inputs and parameters,
computed by PyTorch in float64 with the same weights.

Run: python3 scripts/reference_layers.py  (writes tests/data/reference/layers.txt, read by
tests/it/reference_layers.rs). A layer's parameters are inputs of the case under their state_dict
names; `torch.func.functional_call` runs the PyTorch module with them, so that their gradients are
recorded. Cases whose output is a running statistic have no gradient.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from reference import Fixture, rand

fx = Fixture("layers")


def edge(*shape, seed=0):
    """Random values with NaN, an infinity and a negative zero in the first elements."""
    t = rand(*shape, seed=seed, grad=False)
    flat = t.view(-1)
    for i, v in enumerate([math.nan, math.inf, -0.0]):
        if i < flat.numel():
            flat[i] = v
    return t.requires_grad_(True)


# --- Embedding -------------------------------------------------------------------------------------
emb = nn.Embedding(5, 3)
fx.case("embedding_repeated_ids",
        lambda weight, ids: functional_call(emb, {"weight": weight}, (ids,)),
        {"weight": rand(5, 3, seed=1), "ids": torch.tensor([4, 0, 4, 2, 4])}, seed=1)
# padding_idx=1: that row is looked up (here with values: a table loaded as from_pretrained) and gets
# no gradient; the padding id appears twice.
emb_pad = nn.Embedding(5, 3, padding_idx=1)
fx.case("embedding_padding_idx",
        lambda weight, ids: functional_call(emb_pad, {"weight": weight}, (ids,)),
        {"weight": rand(5, 3, seed=15), "ids": torch.tensor([1, 3, 1, 0, 3, 4])}, seed=15)

# --- LayerNorm -------------------------------------------------------------------------------------
ln = nn.LayerNorm(4)
for name, x, seed in [("layer_norm_rank3", rand(2, 3, 4, seed=2), 2),
                      ("layer_norm_runtime_rows", rand(5, 4, seed=3, low=-50, high=50), 3),
                      ("layer_norm_edge_values", edge(3, 4, seed=4), 4)]:
    fx.case(name, lambda x, weight, bias: functional_call(ln, {"weight": weight, "bias": bias}, (x,)),
            {"x": x, "weight": rand(4, seed=10 + seed), "bias": rand(4, seed=20 + seed)}, seed=seed)
ln_eps = nn.LayerNorm(4, eps=0.5)
fx.case("layer_norm_eps_0_5",
        lambda x, weight, bias: functional_call(ln_eps, {"weight": weight, "bias": bias}, (x,)),
        {"x": rand(2, 4, seed=5, low=-0.1, high=0.1), "weight": rand(4, seed=6), "bias": rand(4, seed=7)},
        seed=5)

# elementwise_affine=False: no parameters, the gradient of x only.
ln_plain = nn.LayerNorm(4, elementwise_affine=False)
assert len(ln_plain.state_dict()) == 0
for name, x, seed in [("layer_norm_no_affine_rank3", rand(2, 3, 4, seed=8), 18),
                      ("layer_norm_no_affine_edge_values", edge(3, 4, seed=9), 19)]:
    fx.case(name, lambda x: ln_plain(x), {"x": x}, seed=seed)

# --- BatchNorm1d -----------------------------------------------------------------------------------
def batch_norm(training, what="out"):
    def run(x, weight, bias, running_mean, running_var):
        bn = nn.BatchNorm1d(3)
        with torch.no_grad():
            bn.running_mean.copy_(running_mean)
            bn.running_var.copy_(running_var)
        bn.train(training)
        state = {"weight": weight, "bias": bias, "running_mean": bn.running_mean,
                 "running_var": bn.running_var, "num_batches_tracked": bn.num_batches_tracked}
        y = functional_call(bn, state, (x,))
        return {"out": y, "running_mean": bn.running_mean, "running_var": bn.running_var}[what]
    return run


def bn_inputs(grad=True, shape=(5, 3)):
    return {"x": rand(*shape, seed=30, grad=grad), "weight": rand(3, seed=31, grad=grad),
            "bias": rand(3, seed=32, grad=grad),
            "running_mean": rand(3, seed=33, grad=False),
            "running_var": rand(3, seed=34, low=0.5, high=2.0, grad=False)}


fx.case("batch_norm_train", batch_norm(True), bn_inputs(), seed=6)
fx.case("batch_norm_eval", batch_norm(False), bn_inputs(), seed=7)
fx.case("batch_norm_train_running_mean", batch_norm(True, "running_mean"), bn_inputs(False))
fx.case("batch_norm_train_running_var", batch_norm(True, "running_var"), bn_inputs(False))
# Sequences [B, C, L]: each channel over its B * L values (the unbiased variance over B * L too).
fx.case("batch_norm_seq_train", batch_norm(True), bn_inputs(shape=(2, 3, 4)), seed=16)
fx.case("batch_norm_seq_eval", batch_norm(False), bn_inputs(shape=(2, 3, 4)), seed=17)
fx.case("batch_norm_seq_train_running_mean", batch_norm(True, "running_mean"),
        bn_inputs(False, shape=(2, 3, 4)))
fx.case("batch_norm_seq_train_running_var", batch_norm(True, "running_var"),
        bn_inputs(False, shape=(2, 3, 4)))

# --- Dropout (float32) -----------------------------------------------------------------------------
# The random streams differ: the cases record PyTorch's F.dropout for a seed, and its mask
# (`out != 0`, the inputs having no zeros), so that the same mask gives the same float32 values
# and gradient (PyTorch scales by the float32 `1 / (1 - p)`: `noise = mask / (1 - p)`, `x * noise`).
def dropout_case(name, shape, p, seed, training=True, grad=True, edge_values=False):
    x = (edge(*shape, seed=seed) if edge_values else rand(*shape, seed=seed)).detach().float()
    if not edge_values:
        x[x == 0] = 0.5
    torch.manual_seed(seed)
    mask = F.dropout(x, p, training=training) != 0
    x.requires_grad_(grad)

    def run(x, mask):
        torch.manual_seed(seed)
        y = F.dropout(x, p, training=training)
        if not edge_values:
            assert torch.equal(y != 0, mask)
            # The same values as the explicit product with PyTorch's float32 scale.
            assert torch.equal(y, x * (mask.float() / (1 - p))) or p in (0.0, 1.0)
        return y
    fx.case(name, run, {"x": x, "mask": mask}, seed=seed)


dropout_case("dropout_mask_p0_3", (4, 5), 0.3, 80)
dropout_case("dropout_mask_p0_1_runtime", (3, 7), 0.1, 81)
# Many draws, for properties only (no gradient): kept values exact, kept fraction binomial.
dropout_case("dropout_draws_p0_3", (40, 50), 0.3, 82, grad=False)
dropout_case("dropout_eval", (3, 4), 0.5, 83, training=False, edge_values=True)
dropout_case("dropout_p0", (3, 4), 0.0, 84, edge_values=True)
dropout_case("dropout_p1", (3, 4), 1.0, 85, edge_values=True)

# --- scaled dot-product attention ------------------------------------------------------------------
for causal in [False, True]:
    tag = "causal" if causal else "full"
    fx.case(f"sdpa_rank3_{tag}",
            lambda q, k, v, causal=causal: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
            {"q": rand(2, 3, 4, seed=40), "k": rand(2, 5, 4, seed=41), "v": rand(2, 5, 2, seed=42)},
            seed=8 + causal)
    fx.case(f"sdpa_rank4_square_{tag}",
            lambda q, k, v, causal=causal: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
            {"q": rand(1, 2, 4, 3, seed=43), "k": rand(1, 2, 4, 3, seed=44), "v": rand(1, 2, 4, 3, seed=45)},
            seed=10 + causal)

# --- MultiheadAttention (batch_first) --------------------------------------------------------------
mha = nn.MultiheadAttention(4, 2, batch_first=True)


def mha_params(seed):
    return {"in_proj_weight": rand(12, 4, seed=seed), "in_proj_bias": rand(12, seed=seed + 1),
            "out_proj.weight": rand(4, 4, seed=seed + 2), "out_proj.bias": rand(4, seed=seed + 3)}


def mha_run(causal):
    def run(query, key, value, **params):
        mask = None
        if causal:
            L, S = query.shape[1], key.shape[1]
            mask = torch.triu(torch.full((L, S), -math.inf), 1)
        y, _ = functional_call(mha, params, (query, key, value),
                               {"need_weights": False, "attn_mask": mask})
        return y
    return run


for causal in [False, True]:
    tag = "causal" if causal else "full"
    x = rand(2, 3, 4, seed=50)
    fx.case(f"mha_self_{tag}", lambda x, causal=causal, **p: mha_run(causal)(x, x, x, **p),
            {"x": x, **mha_params(60)}, seed=12 + causal)
fx.case("mha_cross_runtime_lengths", mha_run(False),
        {"query": rand(2, 3, 4, seed=51), "key": rand(2, 5, 4, seed=52), "value": rand(2, 5, 4, seed=53),
         **mha_params(70)}, seed=14)

fx.write()
