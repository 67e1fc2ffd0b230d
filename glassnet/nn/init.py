"""Weight initialisation with PyTorch's names and formulas (``torch.nn.init``), drawn from glassnet's seeded
generator (or ``generator=``). Each function fills the tensor in place, records nothing, and returns it."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Generator, Tensor, default_rng
from .placeholders import is_placeholder, placeholder

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "ones_", "zeros_", "eye_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "trunc_normal_"]


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended scale of weights for an activation (torch's table): tanh 5/3, relu √2, leaky_relu
    √(2/(1+slope²)), selu 3/4, linear/sigmoid/conv 1."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _fill(tensor: Tensor, values: Any) -> Tensor:
    """Write ``values`` into the tensor. While ``gn.load`` builds (see ``placeholders``), a placeholder stays as it
    is, and placeholder values (random draws) are put in place of the tensor's array, whose memory is never
    touched: the file's weights replace both."""
    if is_placeholder(tensor._data):
        return tensor
    if isinstance(values, np.ndarray) and is_placeholder(values) and values.shape == tensor._data.shape:
        tensor._data = placeholder(values.shape, tensor._data.dtype)
    else:
        tensor._data[...] = values
    return tensor


def _fans(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    shape = tensor._data.shape
    if len(shape) < 2:
        raise ValueError(f"fan in and fan out need a tensor of at least 2 dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Tensor, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None) -> Tensor:
    """U(a, b)."""
    return _fill(tensor, default_rng(generator).uniform(a, b, tensor._data.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None) -> Tensor:
    """N(mean, std²)."""
    return _fill(tensor, default_rng(generator).normal(mean, std, tensor._data.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (a 2-D tensor)."""
    if tensor._data.ndim != 2:
        raise ValueError(f"eye_ needs a 2-D tensor, got shape {tensor._data.shape}")
    return tensor if is_placeholder(tensor._data) else _fill(tensor, np.eye(*tensor._data.shape))


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """U(−a, a) with a = gain·√(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    fan_in, fan_out = _fans(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: Generator | None = None) -> Tensor:
    """U(−b, b) with b = gain·√(3 / fan) (He et al., 2015); ``a`` is the leaky ReLU's slope. Linear and Conv
    layers use a = √5, which gives b = 1/√fan_in."""
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: Generator | None = None) -> Tensor:
    """N(0, σ²) with σ = gain / √fan."""
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode)), generator)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a normal matrix (Saxe et al., 2013), times gain;
    dimensions after the first are flattened."""
    shape = tensor._data.shape
    if len(shape) < 2:
        raise ValueError(f"orthogonal_ needs a tensor of at least 2 dimensions, got shape {shape}")
    if is_placeholder(tensor._data):
        return tensor
    rows, cols = shape[0], math.prod(shape[1:])
    flat = default_rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: Generator | None = None) -> Tensor:
    """N(mean, std²) truncated to [a, b] (redrawn until inside)."""
    rng = default_rng(generator)
    values = rng.normal(mean, std, tensor._data.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = rng.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    return _fill(tensor, values)
