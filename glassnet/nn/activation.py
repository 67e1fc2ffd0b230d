"""Activation layers: elementwise (ReLU, Tanh, Sigmoid, LeakyReLU, GELU, SiLU, Softplus, ELU) and along a dimension
(Softmax, LogSoftmax)."""
from __future__ import annotations

from typing import Any

from .. import ops
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["ActivationLayer", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "Softplus", "ELU", "Softmax",
           "LogSoftmax"]


class ActivationLayer(Module):
    """An elementwise activation g applied by `ops.apply_activation` with ``self.activation`` (an
    `ops.Activation`, read at each call: a class attribute, or a property of the layer's settings). A Sequential
    fuses the built-in ones into the Linear before them. ``ActivationLayer("tanh")`` makes one by name."""

    activation: ops.Activation

    def __init__(self, name: str | None = None, **options: Any) -> None:
        super().__init__()
        if name is not None:
            self.activation = ops.activation(name, **options)

    def forward(self, input: Any) -> Tensor:
        return ops.apply_activation(as_tensor(input), self.activation)

    def get_config(self) -> dict[str, Any]:
        return {}


class ReLU(ActivationLayer):
    """max(0, z)."""

    activation = ops.ACTIVATIONS["relu"]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()


class Tanh(ActivationLayer):
    """(e^z − e^−z) / (e^z + e^−z)."""

    activation = ops.ACTIVATIONS["tanh"]


class Sigmoid(ActivationLayer):
    """1 / (1 + e^−z)."""

    activation = ops.ACTIVATIONS["sigmoid"]


class SiLU(ActivationLayer):
    """z·σ(z) (also called swish)."""

    activation = ops.ACTIVATIONS["silu"]

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()


class LeakyReLU(ActivationLayer):
    """max(negative_slope·z, z)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    @property
    def activation(self) -> ops.Activation:
        return ops.activation("leaky_relu", negative_slope=self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def get_config(self) -> dict[str, Any]:
        return {"negative_slope": self.negative_slope}


class GELU(ActivationLayer):
    """z·Φ(z), Φ the standard normal CDF (exact, with erf); ``approximate="tanh"``: with Φ(z) ≈
    ½(1 + tanh(√(2/π)(z + 0.044715z³)))."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        ops.activation("gelu", approximate=approximate)  # checks the name
        self.approximate = approximate

    @property
    def activation(self) -> ops.Activation:
        return ops.activation("gelu", approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def get_config(self) -> dict[str, Any]:
        return {"approximate": self.approximate}


class Softplus(ActivationLayer):
    """log(1 + e^(β·z))/β, and z itself where β·z > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = float(beta), float(threshold)

    @property
    def activation(self) -> ops.Activation:
        return ops.activation("softplus", beta=self.beta, threshold=self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"

    def get_config(self) -> dict[str, Any]:
        return {"beta": self.beta, "threshold": self.threshold}


class ELU(ActivationLayer):
    """z for z > 0, alpha·(e^z − 1) else."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = float(alpha)

    @property
    def activation(self) -> ops.Activation:
        return ops.activation("elu", alpha=self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def get_config(self) -> dict[str, Any]:
        return {"alpha": self.alpha}


class Softmax(Module):
    """exp(z_i) / Σ_j exp(z_j) along ``dim``."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Any) -> Tensor:
        return ops.softmax(as_tensor(input), self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}


class LogSoftmax(Softmax):
    """log(softmax(z)) along ``dim``, computed stably."""

    def forward(self, input: Any) -> Tensor:
        return ops.log_softmax(as_tensor(input), self.dim)
