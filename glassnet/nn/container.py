"""Containers: ``Sequential`` (modules applied in order)."""
from __future__ import annotations

from typing import Any, Iterator

from ..ops import Activation
from ..tensor import Tensor
from . import functional as F
from .activation import ActivationLayer
from .linear import Linear
from .module import Module

__all__ = ["Sequential"]


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
