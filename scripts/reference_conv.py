"""Reference values of conv1d, conv2d, max_pool2d and avg_pool2d and their gradients, from PyTorch in
float64, for tests/it/reference_conv.rs.

Run: python3 scripts/reference_conv.py  (writes tests/data/reference/conv.txt)
"""
import torch
import torch.nn.functional as F

from reference import Fixture, rand

fx = Fixture("conv")


def conv2d(stride=1, padding=0, dilation=1):
    def f(x, w, b=None):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    return f


def conv1d(stride=1, padding=0, dilation=1):
    def f(x, w, b=None):
        return F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation)
    return f


def ints(*shape, seed, high=3):
    """Small integers as floats: many ties in every window."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, high, shape, generator=g).double().requires_grad_(True)


# conv2d: every combination of stride, padding and dilation, with and without a bias.
fx.case("conv2d_plain", conv2d(),
        dict(x=rand(2, 3, 5, 6, seed=1), w=rand(4, 3, 3, 2, seed=2), b=rand(4, seed=3)), seed=1)
fx.case("conv2d_padding", conv2d(padding=1),
        dict(x=rand(2, 2, 6, 6, seed=4), w=rand(3, 2, 3, 3, seed=5), b=rand(3, seed=6)), seed=2)
fx.case("conv2d_stride_padding", conv2d(stride=2, padding=1),
        dict(x=rand(2, 2, 7, 6, seed=7), w=rand(3, 2, 3, 3, seed=8), b=rand(3, seed=9)), seed=3)
fx.case("conv2d_dilation_padding", conv2d(padding=2, dilation=2),
        dict(x=rand(1, 2, 7, 7, seed=10), w=rand(2, 2, 3, 3, seed=11), b=rand(2, seed=12)), seed=4)
fx.case("conv2d_stride_padding_dilation", conv2d(stride=3, padding=1, dilation=2),
        dict(x=rand(2, 3, 8, 9, seed=13), w=rand(2, 3, 2, 3, seed=14), b=rand(2, seed=15)), seed=5)
fx.case("conv2d_no_bias", conv2d(padding=1),
        dict(x=rand(3, 1, 8, 8, seed=16), w=rand(4, 1, 3, 3, seed=17)), seed=6)
# Read by the Rust test as a run-time batch: `(usize, Const<2>, Const<5>, Const<5>)`.
fx.case("conv2d_runtime_batch", conv2d(padding=1),
        dict(x=rand(5, 2, 5, 5, seed=18), w=rand(3, 2, 3, 3, seed=19), b=rand(3, seed=20)), seed=7)
# Edge values: a NaN and infinities in the input spread to the outputs whose windows cover them and to
# the weight's gradient; the input's gradient does not depend on the input and stays finite.
x = rand(1, 2, 4, 4, seed=21, grad=False)
x[0, 0, 1, 1] = float("nan")
x[0, 1, 2, 3] = float("inf")
x[0, 1, 0, 0] = float("-inf")
fx.case("conv2d_edge_values", conv2d(padding=1),
        dict(x=x.requires_grad_(True), w=rand(2, 2, 3, 3, seed=22), b=rand(2, seed=23)), seed=8)

# conv1d
fx.case("conv1d_plain", conv1d(),
        dict(x=rand(2, 3, 10, seed=30), w=rand(4, 3, 3, seed=31), b=rand(4, seed=32)), seed=10)
fx.case("conv1d_stride_padding_dilation", conv1d(stride=2, padding=2, dilation=3),
        dict(x=rand(2, 3, 11, seed=33), w=rand(2, 3, 3, seed=34), b=rand(2, seed=35)), seed=11)
# Read as a run-time batch: `(usize, Const<2>, Const<7>)`.
fx.case("conv1d_runtime_batch", conv1d(padding=1),
        dict(x=rand(4, 2, 7, seed=36), w=rand(3, 2, 2, seed=37)), seed=12)

# max_pool2d (PyTorch's defaults: stride = kernel, no padding)
fx.case("max_pool2d_k2", lambda x: F.max_pool2d(x, 2), dict(x=rand(2, 3, 6, 6, seed=40)), seed=20)
fx.case("max_pool2d_k3_s2_p1", lambda x: F.max_pool2d(x, 3, stride=2, padding=1),
        dict(x=rand(2, 2, 7, 7, seed=41)), seed=21)
fx.case("max_pool2d_k2_odd_size", lambda x: F.max_pool2d(x, 2), dict(x=rand(1, 2, 5, 7, seed=42)),
        seed=22)
# Ties: values 0, 1, 2 only, in disjoint and in overlapping windows (where one element can be taken by
# several windows, and an equal element later in a window is not).
fx.case("max_pool2d_ties_k2", lambda x: F.max_pool2d(x, 2), dict(x=ints(2, 2, 6, 6, seed=43)),
        seed=23)
fx.case("max_pool2d_ties_k3_s1_p1", lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
        dict(x=ints(1, 2, 5, 5, seed=44)), seed=24)
x = rand(1, 1, 4, 6, seed=45, grad=False)
x[0, 0, 0, 0] = float("nan")
x[0, 0, 1, 1] = float("nan")
x[0, 0, 0, 2] = float("inf")
x[0, 0, 2:4, 0:2] = float("-inf")
x[0, 0, 3, 4] = float("-inf")
fx.case("max_pool2d_edge_values", lambda x: F.max_pool2d(x, 2), dict(x=x.requires_grad_(True)),
        seed=25)
# Read as a run-time batch and channels: `(usize, usize, Const<4>, Const<4>)`.
fx.case("max_pool2d_runtime_batch", lambda x: F.max_pool2d(x, 2, stride=1),
        dict(x=rand(3, 2, 4, 4, seed=46)), seed=26)

# avg_pool2d (count_include_pad=True: the padding counts as zeros)
fx.case("avg_pool2d_k2", lambda x: F.avg_pool2d(x, 2), dict(x=rand(2, 3, 6, 6, seed=50)), seed=30)
fx.case("avg_pool2d_k3_s2_p1", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1),
        dict(x=rand(2, 2, 7, 7, seed=51)), seed=31)
fx.case("avg_pool2d_k3_s1_p1", lambda x: F.avg_pool2d(x, 3, stride=1, padding=1),
        dict(x=rand(1, 2, 5, 7, seed=52)), seed=32)
x = rand(1, 1, 4, 4, seed=53, grad=False)
x[0, 0, 0, 0] = float("nan")
x[0, 0, 2, 2] = float("inf")
x[0, 0, 2, 3] = float("-inf")
x[0, 0, 3, 0] = float("inf")
fx.case("avg_pool2d_edge_values", lambda x: F.avg_pool2d(x, 2), dict(x=x.requires_grad_(True)),
        seed=33)
fx.case("avg_pool2d_runtime_batch", lambda x: F.avg_pool2d(x, 2),
        dict(x=rand(3, 2, 4, 4, seed=54)), seed=34)

fx.write()
