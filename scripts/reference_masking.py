"""Reference values of the comparison, masking and reduction ops (permute of rank 5 and 6,
transpose_axes, eq/ne/lt/le/gt/ge, where, masked_fill, maximum/minimum, clamp, amin, argmax/argmin,
var/std, gather, sums and means over several axes) and their gradients, computed by PyTorch in float64.

Run: python3 scripts/reference_masking.py  (writes tests/data/reference/masking.txt, read by
tests/it/reference_masking.rs). Each case is named after the op and what it exercises: ties, NaN,
infinities, the bounds of clamp, corrections 0, 1 and fractions, axes of size 1; cases named `runtime_` are
built with run-time dimensions in the Rust test.
"""
import math

import torch

from reference import Fixture, rand

fx = Fixture("masking")


def t(values, grad=True):
    """A tensor of exact values (ties, NaN, infinities where the case needs them)."""
    return torch.tensor(values, dtype=torch.float64).requires_grad_(grad)


def mask(values):
    return torch.tensor(values, dtype=torch.bool)


# --- permute and transpose_axes --------------------------------------------------------------------
fx.case("permute_rank5", lambda x: x.permute(4, 2, 0, 3, 1), {"x": rand(2, 1, 3, 2, 2, seed=1)}, seed=1)
fx.case("permute_rank6", lambda x: x.permute(5, 4, 3, 2, 1, 0),
        {"x": rand(1, 2, 2, 1, 3, 2, seed=2)}, seed=2)
fx.case("transpose_axes_0_2_rank3", lambda x: x.transpose(0, 2), {"x": rand(2, 3, 4, seed=3)}, seed=3)
fx.case("transpose_axes_1_3_rank4", lambda x: x.transpose(1, 3), {"x": rand(2, 3, 1, 2, seed=4)}, seed=4)

# --- comparisons: ties, NaN (every comparison with NaN is false, but ne), infinities ---------------
CA = [[1.0, 2.0, math.nan, math.inf], [-0.0, -math.inf, 3.0, 5.0]]
CB = [[1.0, 3.0, math.nan, math.inf], [0.0, 0.0, math.nan, 4.0]]
for op in ["eq", "ne", "lt", "le", "gt", "ge"]:
    fx.case(f"{op}_tensor", lambda a, b, op=op: getattr(torch, op)(a, b),
            {"a": t(CA, grad=False), "b": t(CB, grad=False)})
    fx.case(f"{op}_scalar_2", lambda a, op=op: getattr(torch, op)(a, 2.0), {"a": t(CA, grad=False)})

# --- where and masked_fill -------------------------------------------------------------------------
fx.case("where_rank2", lambda m, a, b: torch.where(m, a, b),
        {"m": mask([[True, False, True], [False, False, True]]), "a": rand(2, 3, seed=10),
         "b": rand(2, 3, seed=11)}, seed=10)
fx.case("where_nan_in_the_unselected", lambda m, a, b: torch.where(m, a, b),
        {"m": mask([True, False, True, False]), "a": t([1.0, math.nan, math.inf, 2.0]),
         "b": t([math.nan, -1.0, 0.0, -math.inf])}, seed=11)
fx.case("masked_fill_rank3", lambda m, x: x.masked_fill(m, -1.5),
        {"m": mask([[[True, False], [False, False]], [[True, True], [False, True]]]),
         "x": rand(2, 2, 2, seed=12)}, seed=12)
fx.case("masked_fill_neg_inf", lambda m, x: x.masked_fill(m, -math.inf),
        {"m": mask([[False, True, True], [False, False, False]]), "x": rand(2, 3, seed=13)}, seed=13)

# --- maximum and minimum: ties split the gradient evenly ---------------------------------------------
MA = [[1.0, 2.0, -3.0], [4.0, 0.5, 2.0]]
MB = [[1.0, 5.0, -3.0], [-4.0, 0.5, 1.0]]
fx.case("maximum_ties", lambda a, b: torch.maximum(a, b), {"a": t(MA), "b": t(MB)}, seed=20)
fx.case("minimum_ties", lambda a, b: torch.minimum(a, b), {"a": t(MA), "b": t(MB)}, seed=21)
fx.case("maximum_scalar_1", lambda a: torch.maximum(a, torch.tensor(1.0)), {"a": t(MA)}, seed=22)
fx.case("minimum_scalar_2", lambda a: torch.minimum(a, torch.tensor(2.0)), {"a": t(MA)}, seed=23)
fx.case("maximum_nan", lambda a, b: torch.maximum(a, b),
        {"a": t([math.nan, 1.0, math.inf]), "b": t([0.0, math.nan, -math.inf])}, seed=24)

# --- clamp: exact at the bounds. PyTorch gives the gradient 0 on a bound; the crate passes it there
# (the Rust test checks that difference element by element) ------------------------------------------
fx.case("clamp_bounds", lambda x: torch.clamp(x, -1.0, 1.0),
        {"x": t([-2.0, -1.0, -0.5, 0.0, 1.0, 1.5, math.inf, -math.inf])}, seed=30)
fx.case("clamp_min_only_bound", lambda x: torch.clamp(x, min=-1.0),
        {"x": t([-2.0, -1.0, -0.5, 0.0, 1.0, math.inf, -math.inf])}, seed=32)
fx.case("clamp_rank2", lambda x: torch.clamp(x, -0.5, 0.75), {"x": rand(3, 4, seed=31)}, seed=31)

# --- amin: ties split the gradient evenly --------------------------------------------------------------
MIN = [[3.0, 1.0, 1.0, 2.0], [0.0, 5.0, -2.0, -2.0], [7.0, 7.0, 7.0, 7.0]]
fx.case("min_all_ties", lambda x: torch.amin(x), {"x": t(MIN)}, seed=40)
fx.case("min_axis1_ties", lambda x: torch.amin(x, 1), {"x": t(MIN)}, seed=41)
fx.case("min_axis0_ties", lambda x: torch.amin(x, 0), {"x": t(MIN)}, seed=42)
fx.case("min_axis1_keepdim", lambda x: torch.amin(x, 1, keepdim=True), {"x": rand(2, 3, 2, seed=43)},
        seed=43)
fx.case("min_axis_nan_values", lambda x: torch.amin(x, 1),
        {"x": t([[1.0, math.nan, -1.0], [-math.inf, 0.0, math.inf]], grad=False)})

# --- argmax and argmin: the first of ties; NaN counts as the largest and the smallest ---------------
ARG = [[2.0, 5.0, 5.0, 1.0], [math.nan, 9.0, math.nan, 1.0], [-math.inf, math.inf, 0.0, -0.0],
       [3.0, 3.0, 3.0, 3.0]]
for ax in [0, 1]:
    fx.case(f"argmax_axis{ax}", lambda x, ax=ax: torch.argmax(x, ax), {"x": t(ARG, grad=False)})
    fx.case(f"argmin_axis{ax}", lambda x, ax=ax: torch.argmin(x, ax), {"x": t(ARG, grad=False)})
fx.case("argmax_all", lambda x: torch.argmax(x), {"x": t(ARG, grad=False)})
fx.case("argmin_all", lambda x: torch.argmin(x), {"x": t(ARG, grad=False)})
fx.case("argmax_axis2_rank3", lambda x: torch.argmax(x, 2), {"x": rand(2, 3, 4, seed=50, grad=False)})
fx.case("argmin_axis1_rank3", lambda x: torch.argmin(x, 1), {"x": rand(2, 3, 4, seed=51, grad=False)})
fx.case("argmax_axis1_rank3_keepdim", lambda x: torch.argmax(x, 1, keepdim=True),
        {"x": rand(2, 3, 4, seed=53, grad=False)})
fx.case("argmin_axis0_rank4", lambda x: torch.argmin(x, 0), {"x": rand(3, 2, 2, 2, seed=54, grad=False)})
fx.case("argmax_runtime_rows_axis1", lambda x: torch.argmax(x, 1), {"x": rand(5, 3, seed=52, grad=False)})

# --- var and std: corrections 0 and 1, axes of size 1 ------------------------------------------------
for c in [0, 1]:
    fx.case(f"var_all_c{c}", lambda x, c=c: torch.var(x, correction=c), {"x": rand(3, 4, seed=60)},
            seed=60 + c)
    fx.case(f"std_all_c{c}", lambda x, c=c: torch.std(x, correction=c), {"x": rand(3, 4, seed=61)},
            seed=62 + c)
    for ax in [0, 1, 2]:
        fx.case(f"var_axis{ax}_c{c}", lambda x, c=c, ax=ax: torch.var(x, ax, correction=c),
                {"x": rand(2, 3, 4, seed=63 + ax)}, seed=64 + 3 * c + ax)
        fx.case(f"std_axis{ax}_c{c}", lambda x, c=c, ax=ax: torch.std(x, ax, correction=c),
                {"x": rand(2, 3, 4, seed=66 + ax)}, seed=70 + 3 * c + ax)
    fx.case(f"var_single_element_axis_c{c}", lambda x, c=c: torch.var(x, 1, correction=c),
            {"x": rand(3, 1, seed=75)}, seed=76 + c)
    fx.case(f"std_single_element_axis_c{c}", lambda x, c=c: torch.std(x, 1, correction=c),
            {"x": rand(3, 1, seed=77)}, seed=78 + c)
fx.case("std_equal_elements", lambda x: torch.std(x, 1, correction=1),
        {"x": t([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])}, seed=80)
fx.case("var_nan_and_inf", lambda x: torch.var(x, 1, correction=1),
        {"x": t([[1.0, math.nan, 2.0], [1.0, math.inf, 2.0], [1.0, 2.0, 4.0]])}, seed=81)
fx.case("var_runtime_rows_axis0", lambda x: torch.var(x, 0, correction=1), {"x": rand(5, 3, seed=82)},
        seed=82)
fx.case("var_axis1_keepdim_c0.5", lambda x: torch.var(x, 1, keepdim=True, correction=0.5),
        {"x": rand(2, 3, 4, seed=83)}, seed=83)
fx.case("std_axis2_keepdim_c1.5", lambda x: torch.std(x, 2, keepdim=True, correction=1.5),
        {"x": rand(2, 3, 4, seed=84)}, seed=84)
fx.case("var_axis0_keepdim_c1", lambda x: torch.var(x, 0, keepdim=True, correction=1),
        {"x": rand(3, 4, seed=85)}, seed=85)
fx.case("var_all_c2.5", lambda x: torch.var(x, correction=2.5), {"x": rand(3, 4, seed=86)}, seed=86)
fx.case("var_correction_beyond_count", lambda x: torch.var(x, 1, correction=3.5),
        {"x": t([[1.0, 2.0], [3.0, 3.0]], grad=False)})
fx.case("std_runtime_rows_axis1_keepdim_c0.5",
        lambda x: torch.std(x, 1, keepdim=True, correction=0.5), {"x": rand(5, 3, seed=87)}, seed=87)

# --- gather: repeated indices add their gradients; the index may be smaller than the input off the
# axis -----------------------------------------------------------------------------------------------
def index(*shape, bound, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, bound, shape, generator=g)


fx.case("gather_axis0_rank2", lambda x, index: torch.gather(x, 0, index),
        {"x": rand(3, 4, seed=100), "index": index(2, 4, bound=3, seed=100)}, seed=100)
fx.case("gather_axis1_rank3_smaller_index", lambda x, index: torch.gather(x, 1, index),
        {"x": rand(2, 3, 4, seed=101), "index": index(2, 5, 3, bound=3, seed=101)}, seed=101)
fx.case("gather_axis2_rank3", lambda x, index: torch.gather(x, 2, index),
        {"x": rand(2, 3, 4, seed=102), "index": index(1, 2, 6, bound=4, seed=102)}, seed=102)
fx.case("gather_axis1_rank4", lambda x, index: torch.gather(x, 1, index),
        {"x": rand(2, 3, 2, 2, seed=103), "index": index(2, 4, 2, 1, bound=3, seed=103)}, seed=103)
fx.case("gather_edge_values", lambda x, index: torch.gather(x, 1, index),
        {"x": t([[math.nan, math.inf, -0.0], [-math.inf, 1.0, 0.0]]),
         "index": torch.tensor([[1, 0, 2, 2], [0, 0, 1, 2]])}, seed=104)
fx.case("gather_runtime_rows_axis1", lambda x, index: torch.gather(x, 1, index),
        {"x": rand(5, 3, seed=105), "index": index(4, 2, bound=3, seed=105)}, seed=105)

# --- sums and means over several axes, and full reductions kept in the shape -------------------------
fx.case("sum_axes_0_2", lambda x: x.sum((0, 2)), {"x": rand(2, 3, 4, seed=90)}, seed=90)
fx.case("sum_axes_1_3_keepdim", lambda x: x.sum((1, 3), keepdim=True), {"x": rand(2, 3, 2, 2, seed=91)},
        seed=91)
fx.case("sum_axes_0_1_3", lambda x: x.sum((0, 1, 3)), {"x": rand(2, 3, 2, 2, seed=92)}, seed=92)
fx.case("mean_axes_0_2", lambda x: x.mean((0, 2)), {"x": rand(2, 3, 4, seed=93)}, seed=93)
fx.case("mean_axes_1_2_keepdim", lambda x: x.mean((1, 2), keepdim=True), {"x": rand(2, 3, 4, seed=94)},
        seed=94)
fx.case("sum_axes_edge_values", lambda x: x.sum((0, 1)),
        {"x": t([[[1.0, math.inf], [2.0, -math.inf]], [[math.nan, 1.0], [3.0, math.inf]]])}, seed=95)
fx.case("sum_keepdim_rank3", lambda x: x.sum((0, 1, 2), keepdim=True), {"x": rand(2, 3, 2, seed=96)},
        seed=96)
fx.case("mean_keepdim_rank2", lambda x: x.mean((0, 1), keepdim=True), {"x": rand(3, 4, seed=97)}, seed=97)
fx.case("sum_axes_runtime_rows_0_2", lambda x: x.sum((0, 2)), {"x": rand(5, 2, 3, seed=98)}, seed=98)
fx.case("mean_axes_runtime_rows_1_2", lambda x: x.mean((1, 2)), {"x": rand(5, 2, 3, seed=99)}, seed=99)

fx.write()
