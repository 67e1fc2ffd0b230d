"""L1 and L2 penalties on a model's weights (not its biases, as TensorFlow Playground does)."""
from __future__ import annotations

from typing import Iterator

from .. import ops
from ..tensor import Tensor
from .module import Module, Parameter

__all__ = ["weights", "l1_penalty", "l2_penalty", "penalty"]


def weights(model: Module) -> Iterator[Parameter]:
    """The parameters that regularization applies to: all but biases."""
    for name, param in model.named_parameters():
        if name.rsplit(".", 1)[-1] != "bias":
            yield param


def l1_penalty(model: Module, rate: float) -> Tensor:
    """rate · Σ|w| over the weights; its gradient is rate · sign(w)."""
    return _total((ops.sum(ops.abs(w)) for w in weights(model)), rate)


def l2_penalty(model: Module, rate: float) -> Tensor:
    """rate · ½ Σ w² over the weights; its gradient is rate · w (PyTorch's weight_decay, TFP's L2)."""
    return _total((ops.sum(w * w) for w in weights(model)), rate * 0.5)


def penalty(model: Module, kind: str, rate: float) -> Tensor:
    """``l1_penalty`` or ``l2_penalty`` by name ("l1" or "l2")."""
    functions = {"l1": l1_penalty, "l2": l2_penalty}
    if kind.lower() not in functions:
        raise ValueError(f"unknown regularization {kind!r}; choose 'l1' or 'l2'")
    if rate < 0:
        raise ValueError(f"regularization rate must be ≥ 0, got {rate}")
    return functions[kind.lower()](model, rate)


def _total(terms: Iterator[Tensor], scale: float) -> Tensor:
    total = None
    for term in terms:
        total = term if total is None else total + term
    if total is None:
        raise ValueError("regularization: the model has no weights")
    return total * scale
