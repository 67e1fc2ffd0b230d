"""Layer normalization (Ba et al., 2016) with PyTorch's names: ``LayerNorm`` and ``F.layer_norm``.

Each sample is normalised over its last ``len(normalized_shape)`` dimensions, y = (x − mean) / √(var + eps)·weight +
bias (biased variance), as one graph node whose backward is the closed form.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..tensor import Tensor, as_tensor, get_default_dtype, result
from . import placeholders
from .module import Module, Parameter
from .workspace import empty

__all__ = ["LayerNorm", "layer_norm"]


def _shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not shape or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 for n in shape):
        raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them, got "
                         f"{normalized_shape!r}")
    return tuple(int(n) for n in shape)


def layer_norm(input: Any, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the last dimensions given by ``normalized_shape``; weight and bias have that shape.

    input: (..., *normalized_shape) → same shape. Backward, with x̂ the normalised input and ĝ = g·weight:
    ∂x = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(var + eps), ∂weight = Σ g·x̂, ∂bias = Σ g (sums over the leading dims).
    """
    x = as_tensor(input)
    shape = _shape(normalized_shape)
    X = x._data
    if X.shape[X.ndim - len(shape):] != shape or X.ndim < len(shape):
        raise ValueError(f"layer_norm: input of shape {X.shape} does not end in normalized_shape {shape}")
    axes = tuple(range(X.ndim - len(shape), X.ndim))
    lead = tuple(range(X.ndim - len(shape)))
    count = 1.0 / math.prod(shape)

    def mean(a: np.ndarray) -> np.ndarray:
        """The mean over the normalised axes, kept as size-1 axes."""
        m = np.add.reduce(a, axis=axes, keepdims=True)
        m *= count
        return m
    # scratch arrays from the workspace (see workspace.py: fresh large arrays cost page faults)
    x_hat = np.subtract(X, mean(X), out=empty(X.shape, X.dtype))
    inv_std = mean(np.multiply(x_hat, x_hat, out=empty(X.shape, X.dtype)))
    inv_std += eps
    np.sqrt(inv_std, out=inv_std)
    np.divide(1, inv_std, out=inv_std)
    x_hat *= inv_std
    out = x_hat
    if weight is not None:
        out = np.multiply(x_hat, weight._data, out=empty(X.shape, X.dtype))
    if bias is not None:
        out = out + bias._data if out is x_hat else np.add(out, bias._data, out=out)

    def backward(g: np.ndarray) -> list:
        g_hat = g if weight is None else np.multiply(g, weight._data, out=empty(g.shape, g.dtype))
        grads: list = [None]
        if x.requires_grad:
            scratch = np.multiply(g_hat, x_hat, out=empty(g.shape, g.dtype))
            projection = mean(scratch)
            gx = np.subtract(g_hat, mean(g_hat), out=empty(g.shape, g.dtype))
            gx -= np.multiply(x_hat, projection, out=scratch)
            gx *= inv_std
            grads[0] = gx
        if weight is not None:
            grads.append(np.add.reduce(np.multiply(g, x_hat, out=empty(g.shape, g.dtype)), axis=lead)
                         if weight.requires_grad else None)
        if bias is not None:
            grads.append(np.add.reduce(g, axis=lead) if bias.requires_grad else None)
        return grads
    parents = (x, *(p for p in (weight, bias) if p is not None))
    return result(out, parents, backward)


class LayerNorm(Module):
    """Layer normalization over the last dimensions: ``LayerNorm(normalized_shape, eps=1e-5,
    elementwise_affine=True, bias=True)``; weight starts at ones and bias at zeros, both of ``normalized_shape``."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.normalized_shape = _shape(normalized_shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        dtype, shape = np.dtype(dtype or get_default_dtype()), self.normalized_shape
        self.weight = Parameter(placeholders.full(shape, 1, dtype)) if elementwise_affine else None
        self.bias = Parameter(placeholders.full(shape, 0, dtype)) if elementwise_affine and bias else None

    def forward(self, input: Any) -> Tensor:
        x = as_tensor(input)
        n = len(self.normalized_shape)
        if x._data.shape[x._data.ndim - n:] != self.normalized_shape or x._data.ndim < n:
            raise ValueError(f"{self!r} got input of shape {x._data.shape}: its last {n} dimension(s) must be "
                             f"{self.normalized_shape}")
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")

    def get_config(self) -> dict[str, Any]:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None}
