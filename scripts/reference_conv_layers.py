"""Reference values of the convolution layers (nn.Conv1d, nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d,
nn.Flatten) with given weights, and the gradients of the input and of every parameter, from PyTorch in
float64, for tests/it/reference_conv_layers.rs.

The parameters are inputs of the case under their names in the model's state_dict (`conv1.weight`),
and the modules are called with them through torch.func.functional_call, so that the gradients are
those of PyTorch's layers as they are.

Run: python3 scripts/reference_conv_layers.py  (writes tests/data/reference/conv_layers.txt)
"""
from torch import nn
from torch.func import functional_call

from reference import Fixture, rand

fx = Fixture("conv_layers")


class Cnn(nn.Module):
    """conv 3x3 padding 1 (2 -> 3) -> ReLU -> max pool 2 -> conv 2x2 padding 1, no bias (3 -> 4) ->
    avg pool 2 -> flatten -> linear (16 -> 5), on images of 2 x 6 x 6."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 3, 3, padding=1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(3, 4, 2, padding=1, bias=False)
        self.pool2 = nn.AvgPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        h = self.pool1(self.conv1(x).relu())
        h = self.pool2(self.conv2(h))
        return self.fc(self.flatten(h))


def call(module):
    """A function of the input `x` and the module's parameters, by their state_dict names."""
    def f(x, **params):
        return functional_call(module, params, (x,))
    return f


cnn = Cnn()
params = {name: rand(*p.shape, seed=10 + i, low=-0.5, high=0.5)
          for i, (name, p) in enumerate(cnn.named_parameters())}
# Read by the Rust test both as a static batch of 3 and as a run-time batch.
fx.case("cnn", call(cnn), dict(x=rand(3, 2, 6, 6, seed=1), **params), seed=1)

conv1d = nn.Conv1d(2, 3, 3, stride=2, padding=1, dilation=2)
fx.case("conv1d", call(conv1d),
        dict(x=rand(2, 2, 9, seed=2), weight=rand(3, 2, 3, seed=3), bias=rand(3, seed=4)), seed=2)

# Strided max pooling with padding, and average pooling whose windows overlap.
pools = nn.Sequential(nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(2, 1))
fx.case("pools", pools, dict(input=rand(2, 3, 7, 7, seed=5)), seed=3)

fx.write()
