"""Reference values of broadcasting in the elementwise ops of two tensors (+, -, *, /) and in
matmul's batch axes, with their gradients, computed by PyTorch in float64.

Run: python3 scripts/reference_broadcast.py  (writes tests/data/reference/broadcast.txt, read by
tests/it/reference_broadcast.rs). Case names say the shapes; `runtime` cases are built in Rust with
run-time dimensions.
"""
import math

import torch

from reference import Fixture, rand

fx = Fixture("broadcast")


def away_from_zero(*shape, seed=0):
    """Values in [0.5, 2) with random signs: safe denominators."""
    mag = rand(*shape, seed=seed, low=0.5, high=2.0, grad=False)
    sign = torch.sign(rand(*shape, seed=seed + 1000, grad=False))
    sign[sign == 0] = 1.0
    return (mag * sign).requires_grad_(True)


# --- elementwise ----------------------------------------------------------------------------------
fx.case("add_2x3_3", lambda a, b: a + b, {"a": rand(2, 3, seed=1), "b": rand(3, seed=2)}, seed=1)
fx.case("sub_3_2x3", lambda a, b: a - b, {"a": rand(3, seed=3), "b": rand(2, 3, seed=4)}, seed=2)
fx.case("mul_2x3x4_3x4", lambda a, b: a * b,
        {"a": rand(2, 3, 4, seed=5), "b": rand(3, 4, seed=6)}, seed=3)
fx.case("div_4_2x3x4", lambda a, b: a / b,
        {"a": rand(4, seed=7), "b": away_from_zero(2, 3, 4, seed=8)}, seed=4)
fx.case("mul_scalar_2x3", lambda s, a: s * a,
        {"s": rand(seed=9), "a": rand(2, 3, seed=10)}, seed=5)
fx.case("div_2x2x2x3_scalar", lambda a, s: a / s,
        {"a": rand(2, 2, 2, 3, seed=11), "s": away_from_zero(seed=12)}, seed=6)


def with_edges(t):
    t = t.detach().clone()
    t.view(-1)[:3] = torch.tensor([math.inf, -math.inf, math.nan])
    return t.requires_grad_(True)


fx.case("add_edge_values_2x3_3", lambda a, b: a + b,
        {"a": with_edges(rand(2, 3, seed=13)), "b": with_edges(rand(3, seed=14))}, seed=7)
# run-time rows: 4 rows against 1 row (the 1 stretches), and against a static row
fx.case("mul_runtime_4x3_1x3", lambda a, b: a * b,
        {"a": rand(4, 3, seed=15), "b": rand(1, 3, seed=16)}, seed=8)
fx.case("sub_runtime_5x2_2", lambda a, b: a - b,
        {"a": rand(5, 2, seed=17), "b": rand(2, seed=18)}, seed=9)

# --- matmul batch axes ----------------------------------------------------------------------------
fx.case("matmul_2x1x3x4_3x4x2", lambda a, b: a @ b,
        {"a": rand(2, 1, 3, 4, seed=20), "b": rand(3, 4, 2, seed=21)}, seed=20)
fx.case("matmul_2x3x2x4_3x4x5", lambda a, b: a @ b,
        {"a": rand(2, 3, 2, 4, seed=22), "b": rand(3, 4, 5, seed=23)}, seed=21)
fx.case("matmul_3x2x4_2x3x4x5", lambda a, b: a @ b,
        {"a": rand(3, 2, 4, seed=24), "b": rand(2, 3, 4, 5, seed=25)}, seed=22)
fx.case("matmul_1x3x2x2_2x1x2x3", lambda a, b: a @ b,
        {"a": rand(1, 3, 2, 2, seed=26), "b": rand(2, 1, 2, 3, seed=27)}, seed=23)
fx.case("matmul_runtime_1x2x3_4x3x2", lambda a, b: a @ b,
        {"a": rand(1, 2, 3, seed=28), "b": rand(4, 3, 2, seed=29)}, seed=24)

fx.write()
