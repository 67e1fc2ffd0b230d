"""Linear layers: ``Linear`` (y = x·Wᵀ + b) and ``Identity``."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from .. import tensor as _engine
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import functional as F
from .module import Module, Parameter

__all__ = ["Linear", "Identity"]


def _positive_int(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


class Linear(Module):
    """y = x · weightᵀ + bias. weight: (out_features, in_features), bias: (out_features,); both start
    U(−1/√in, 1/√in), as in PyTorch. Input (..., in_features) → (..., out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = _positive_int("Linear", "in_features", in_features)
        self.out_features = _positive_int("Linear", "out_features", out_features)
        dtype = np.dtype(dtype or get_default_dtype())
        bound = 1.0 / math.sqrt(in_features)
        rng = _engine.default_rng()
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dtype)) if bias else None

    def forward(self, x: Any) -> Tensor:
        """x · weightᵀ + bias."""
        return F.dense_stack(self.checked_input(x), ((self.weight, self.bias, None),))

    def checked_input(self, x: Any) -> Tensor:
        """``x`` as a Tensor of the weight's dtype; ValueError naming this layer if its last dimension does not fit."""
        if type(x) is not Tensor:
            x = as_tensor(x)
        shape = x._data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(f"{self!r} got input of shape {shape}: its last dimension must be "
                             f"{self.in_features}")
        if x._data.dtype != self.weight._data.dtype:
            x = ops.cast(x, self.weight._data.dtype)
        return x

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def get_config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "out_features": self.out_features, "bias": self.bias is not None}


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Any) -> Any:
        return x

    def get_config(self) -> dict[str, Any]:
        return {}
