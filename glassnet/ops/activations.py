"""Activations: each an ``Activation`` (forward and derivative on arrays, shared with the fused dense kernels of
``nn.functional``) and a differentiable op; softmax and log-softmax along a dim."""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from ..tensor import Tensor, result
from ._args import dims, floating

__all__ = ["Activation", "ACTIVATIONS", "activation", "apply_activation", "tanh", "sigmoid", "relu", "leaky_relu",
           "softmax", "log_softmax"]


class Activation(NamedTuple):
    """An activation g(z): ``forward(z) -> a`` and ``backward(grad_a, z, a) -> grad_z`` (= grad_a · g'(z))."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """g'(z), elementwise."""
        return self.backward(np.ones_like(z), z, a)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−z), written as ½·tanh(z/2) + ½ so that it never overflows."""
    a = np.tanh(z * 0.5)
    a *= 0.5
    a += 0.5
    return a


def _leaky(slope: float) -> Activation:
    return Activation("leaky_relu", lambda z: np.where(z > 0, z, z * slope),
                      lambda g, z, a: np.where(z > 0, g, g * slope))


def _tanh_backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """g · (1 − a²), as g − g·a·a in place: array operands only (a Python scalar costs a conversion a call)."""
    ga2 = g * a
    ga2 *= a
    return np.subtract(g, ga2, out=ga2)


def _sigmoid_backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """g · a(1 − a), as g·a − g·a·a."""
    ga = g * a
    return np.subtract(ga, ga * a, out=ga)


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", lambda z: z, lambda g, z, a: g),
    "tanh": Activation("tanh", np.tanh, _tanh_backward),
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_backward),
    "relu": Activation("relu", lambda z: np.maximum(z, 0), lambda g, z, a: g * (a > 0)),
    "leaky_relu": _leaky(0.01),
}
ACTIVATIONS["linear"] = ACTIVATIONS["identity"]


def activation(name: str, negative_slope: float | None = None) -> Activation:
    """The activation called ``name`` (identity/linear, tanh, sigmoid, relu, leaky_relu)."""
    if name == "leaky_relu" and negative_slope is not None:
        return _leaky(negative_slope)
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


def apply_activation(x: Tensor, act: Activation) -> Tensor:
    """``act`` on a tensor, one node. The kernels work in place on arrays; a 0-d input runs as one element (NumPy
    turns 0-d results into scalars, which take no ``out=``)."""
    x = floating(x)
    z = x._data
    if not z.ndim:
        z = z.reshape(1)
        out = act.forward(z)
        return result(out.reshape(()), (x,), lambda g: (act.backward(g.reshape(1), z, out).reshape(()),))
    out = act.forward(z)
    return result(out, (x,), lambda g: (act.backward(g, z, out),))


def tanh(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["tanh"])


def sigmoid(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["sigmoid"])


def relu(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["relu"])


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply_activation(a, activation("leaky_relu", negative_slope))


def softmax(a: Tensor, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor:
    """exp(a_i) / Σ_j exp(a_j) along ``dim`` (default −1; shifted by the max: never overflows)."""
    a = floating(a if dtype is None else a.to(dtype))
    axis = dims(axis, dim, a._data.ndim)
    axis = -1 if axis is None else axis
    e = np.exp(a._data - a._data.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    return result(s, (a,), lambda g: (s * (g - (g * s).sum(axis=axis, keepdims=True)),))


def log_softmax(a: Tensor, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor:
    """a_i − log Σ_j exp(a_j) along ``dim`` (default −1), computed stably."""
    a = floating(a if dtype is None else a.to(dtype))
    axis = dims(axis, dim, a._data.ndim)
    axis = -1 if axis is None else axis
    shifted = a._data - a._data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return result(out, (a,), lambda g: (g - np.exp(out) * g.sum(axis=axis, keepdims=True),))
