"""Activation layers: elementwise (ReLU, Tanh, Sigmoid, LeakyReLU) and along a dimension (Softmax, LogSoftmax)."""
from __future__ import annotations

from typing import Any

from .. import ops
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["ActivationLayer", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


class ActivationLayer(Module):
    """An elementwise activation; Sequential fuses it into a preceding Linear."""

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__()
        self.activation = ops.activation(name, **options)

    def forward(self, x: Any) -> Tensor:
        return ops.apply_activation(as_tensor(x), self.activation)

    def get_config(self) -> dict[str, Any]:
        return {}


class ReLU(ActivationLayer):
    """max(0, z)."""

    def __init__(self) -> None:
        super().__init__("relu")


class Tanh(ActivationLayer):
    """(e^z − e^−z) / (e^z + e^−z)."""

    def __init__(self) -> None:
        super().__init__("tanh")


class Sigmoid(ActivationLayer):
    """1 / (1 + e^−z)."""

    def __init__(self) -> None:
        super().__init__("sigmoid")


class LeakyReLU(ActivationLayer):
    """max(negative_slope·z, z)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__("leaky_relu", negative_slope=float(negative_slope))
        self.negative_slope = float(negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class Softmax(Module):
    """exp(z_i) / Σ_j exp(z_j) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return ops.softmax(as_tensor(x), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}


class LogSoftmax(Softmax):
    """log(softmax(z)) along ``dim``, computed stably."""

    def forward(self, x: Any) -> Tensor:
        return ops.log_softmax(as_tensor(x), self.dim)
