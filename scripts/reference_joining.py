"""Reference values of the joining, slicing and indexing ops (concat, stack, narrow, split,
index_select, embedding) and their gradients, computed by PyTorch in float64.

Run: python3 scripts/reference_joining.py  (writes tests/data/reference/joining.txt, read by
tests/it/reference_joining.rs). Each case is named after the op, the axis and what it exercises; the
Rust test builds the same inputs with static shapes or with run-time dimensions, as its name says.
"""
import math

import torch
import torch.nn.functional as F

from reference import Fixture, rand

fx = Fixture("joining")


def edge(*shape, seed=0):
    """Random values with NaN, infinities and a negative zero in the first elements."""
    t = rand(*shape, seed=seed, grad=False)
    flat = t.view(-1)
    for i, v in enumerate([math.nan, math.inf, -math.inf, -0.0]):
        if i < flat.numel():
            flat[i] = v
    return t.requires_grad_(True)


def idx(*values):
    return torch.tensor(values, dtype=torch.int64)


# --- concat ----------------------------------------------------------------------------------------
fx.case("concat_axis0_rank2", lambda a, b: torch.cat((a, b), 0),
        {"a": rand(2, 3, seed=1), "b": rand(1, 3, seed=2)}, seed=1)
fx.case("concat_axis1_rank3", lambda a, b: torch.cat((a, b), 1),
        {"a": rand(2, 3, 2, seed=3), "b": rand(2, 1, 2, seed=4)}, seed=2)
fx.case("concat_axis2_rank3", lambda a, b: torch.cat((a, b), 2),
        {"a": rand(2, 2, 1, seed=5), "b": rand(2, 2, 3, seed=6)}, seed=3)
fx.case("concat_axis0_rank1_edge_values", lambda a, b: torch.cat((a, b), 0),
        {"a": edge(3, seed=7), "b": edge(2, seed=8)}, seed=4)
fx.case("concat_axis1_empty_left", lambda a, b: torch.cat((a, b), 1),
        {"a": rand(2, 0, seed=9), "b": rand(2, 3, seed=10)}, seed=5)
fx.case("concat_runtime_rows_axis0", lambda a, b: torch.cat((a, b), 0),
        {"a": rand(4, 3, seed=11), "b": rand(2, 3, seed=12)}, seed=6)
fx.case("concat_runtime_rows_axis1", lambda a, b: torch.cat((a, b), 1),
        {"a": rand(5, 2, seed=13), "b": rand(5, 1, seed=14)}, seed=7)

# --- stack -----------------------------------------------------------------------------------------
for ax in range(3):
    fx.case(f"stack_axis{ax}_of_three", lambda a, b, c, ax=ax: torch.stack((a, b, c), ax),
            {"a": rand(2, 3, seed=20 + ax), "b": rand(2, 3, seed=30 + ax),
             "c": edge(2, 3, seed=40 + ax)}, seed=10 + ax)
fx.case("stack_runtime_rows_axis1", lambda a, b: torch.stack((a, b), 1),
        {"a": rand(3, 2, seed=50), "b": rand(3, 2, seed=51)}, seed=13)

# --- narrow and split ------------------------------------------------------------------------------
fx.case("narrow_axis1_1_2_rank3", lambda x: x.narrow(1, 1, 2), {"x": rand(2, 4, 3, seed=60)}, seed=20)
fx.case("narrow_axis0_last_row", lambda x: x.narrow(0, 2, 1), {"x": edge(3, 2, seed=61)}, seed=21)
fx.case("narrow_axis2_empty", lambda x: x.narrow(2, 3, 0), {"x": rand(2, 2, 3, seed=62)}, seed=22)
fx.case("narrow_runtime_rows_axis0", lambda x: x.narrow(0, 1, 3), {"x": rand(5, 2, seed=63)}, seed=23)
fx.case("split_axis0_2_3_first", lambda x: torch.split(x, [2, 3], 0)[0],
        {"x": rand(5, 2, seed=64)}, seed=24)
fx.case("split_axis0_2_3_second", lambda x: torch.split(x, [2, 3], 0)[1],
        {"x": rand(5, 2, seed=64)}, seed=25)
fx.case("split_axis1_0_3_second", lambda x: torch.split(x, [0, 3], 1)[1],
        {"x": edge(2, 3, seed=65)}, seed=26)

# --- index_select ----------------------------------------------------------------------------------
fx.case("index_select_axis0_repeated", lambda x, i: torch.index_select(x, 0, i),
        {"x": rand(4, 3, seed=70), "i": idx(3, 0, 3, 3, 1)}, seed=30)
fx.case("index_select_axis1_rank3", lambda x, i: torch.index_select(x, 1, i),
        {"x": edge(2, 4, 2, seed=71), "i": idx(2, 2, 0)}, seed=31)
fx.case("index_select_axis2_rank3", lambda x, i: torch.index_select(x, 2, i),
        {"x": rand(2, 3, 3, seed=72), "i": idx(1)}, seed=32)
fx.case("index_select_axis0_empty", lambda x, i: torch.index_select(x, 0, i),
        {"x": rand(3, 2, seed=73), "i": idx()}, seed=33)
fx.case("index_select_runtime_rows_axis0", lambda x, i: torch.index_select(x, 0, i),
        {"x": rand(6, 2, seed=74), "i": idx(5, 0, 5)}, seed=34)

# --- embedding -------------------------------------------------------------------------------------
fx.case("embedding_repeated_ids", lambda table, ids: F.embedding(ids, table),
        {"table": rand(5, 3, seed=80), "ids": idx(4, 0, 4, 2, 4)}, seed=40)
fx.case("embedding_edge_values", lambda table, ids: F.embedding(ids, table),
        {"table": edge(3, 2, seed=81), "ids": idx(0, 1, 0)}, seed=41)
fx.case("embedding_no_ids", lambda table, ids: F.embedding(ids, table),
        {"table": rand(4, 2, seed=82), "ids": idx()}, seed=42)
fx.case("embedding_runtime_vocabulary", lambda table, ids: F.embedding(ids, table),
        {"table": rand(7, 2, seed=83), "ids": idx(6, 6, 1)}, seed=43)

fx.write()
