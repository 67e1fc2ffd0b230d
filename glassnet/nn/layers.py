"""Built-in layers: Linear, activations, Dropout, Flatten and the Sequential container."""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .. import ops
from .. import tensor as _engine
from ..ops import Activation
from ..tensor import Tensor, as_tensor, get_default_dtype
from . import functional as F
from .module import Module, Parameter

__all__ = ["Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Identity", "Softmax", "LogSoftmax", "Dropout",
           "Flatten", "Sequential", "ActivationLayer"]


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


class Identity(Module):
    """Returns its input."""

    def forward(self, x: Any) -> Any:
        return x

    def get_config(self) -> dict[str, Any]:
        return {}


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


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability p and scale the rest by 1/(1−p); in
    ``eval()`` mode, the identity."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(as_tensor(x), self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}


class Flatten(Module):
    """(N, d1, d2, …) → (N, d1·d2·…), from ``start_dim`` on."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return ops.reshape(x, x._data.shape[:self.start_dim] + (-1,))

    def get_config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim}


class Sequential(Module):
    """Modules applied in order. Consecutive Linear layers, each with the activation after it, run as one fused
    graph node (`F.dense_stack`)."""

    children_are_arguments = True  # gn.save rebuilds it as Sequential(*children)

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], dict):
            modules = tuple(modules[0].values())
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a Module")
            self.add_module(str(i), module)

    def _structure_changed(self) -> None:
        object.__setattr__(self, "_plan", None)

    def _build_plan(self) -> list[tuple[int, str, Any]]:
        """(index, name, step) for each step of forward: a module, or a `_DenseRun` of consecutive Linear layers
        (each with the activation that follows it) that runs as one graph node."""
        layers = list(self._modules.values())
        plan: list[tuple[int, str, Any]] = []
        run, i = None, 0
        while i < len(layers):
            layer = layers[i]
            if type(layer) is not Linear:
                plan.append((i, type(layer).__name__, layer))
                run, i = None, i + 1
                continue
            following = layers[i + 1] if i + 1 < len(layers) else None
            activation = following.activation if isinstance(following, ActivationLayer) else None
            if run is None or run.layers[-1][0].out_features != layer.in_features:
                run = _DenseRun()
                plan.append((i, "Linear", run))
            run.layers.append((layer, activation))
            i += 1 if activation is None else 2
        object.__setattr__(self, "_plan", plan)
        return plan

    def forward(self, x: Any) -> Any:
        for i, name, step in self.__dict__.get("_plan") or self._build_plan():
            try:
                x = step(x)
            except ValueError as error:
                raise ValueError(f"layer {i} ({name}) of the Sequential: {error}") from None
        return x

    def __getitem__(self, index: int | slice) -> Any:
        layers = list(self._modules.values())
        return Sequential(*layers[index]) if isinstance(index, slice) else layers[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self._modules)), module)
        return self

    def get_config(self) -> dict[str, Any]:
        return {}


class _DenseRun:
    """Consecutive Linear layers of a Sequential, each with the activation after it (or None): one graph node."""

    def __init__(self) -> None:
        self.layers: list[tuple[Linear, Activation | None]] = []

    def __call__(self, x: Any) -> Tensor:
        x = self.layers[0][0].checked_input(x)
        return F.dense_stack(x, [(linear.weight, linear.bias, activation) for linear, activation in self.layers])
