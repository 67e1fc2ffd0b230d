"""Loss modules (thin wrappers over ``functional``) and the recommended output head for each problem type."""
from __future__ import annotations

from typing import Any, NamedTuple

from ..ops import clip, log
from ..tensor import Tensor, as_tensor
from . import functional as F
from .activation import Sigmoid, Softmax
from .linear import Identity
from .module import Module

__all__ = ["Loss", "MSELoss", "HalfMSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss",
           "CategoricalCrossEntropyLoss", "Head", "head_for", "PROBLEMS"]


class Loss(Module):
    """A loss: ``loss(input, target)`` → a Tensor, reduced by ``reduction`` ("mean", "sum" or "none")."""

    function = staticmethod(F.mse_loss)
    takes_class_indices = False  # targets are integer labels (cross-entropy, NLL) rather than values

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in F.REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}; choose one of "
                             f"{F.REDUCTIONS}")
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return self.function(input, target, self.reduction)

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


class MSELoss(Loss):
    """Mean squared error: mean((input − target)²)."""

    function = staticmethod(F.mse_loss)


class HalfMSELoss(Loss):
    """Half the mean squared error, mean(½(input − target)²): the course's squared error, and TensorFlow
    Playground's loss (its gradient is (input − target) / n)."""

    function = staticmethod(F.half_mse_loss)


class L1Loss(Loss):
    """Mean absolute error: mean(|input − target|)."""

    function = staticmethod(F.l1_loss)


class BCELoss(Loss):
    """Binary cross-entropy of probabilities (after a sigmoid) against 0/1 targets."""

    function = staticmethod(F.binary_cross_entropy)


class BCEWithLogitsLoss(Loss):
    """Sigmoid + binary cross-entropy in one stable step: input are logits, targets 0/1."""

    function = staticmethod(F.binary_cross_entropy_with_logits)


class CrossEntropyLoss(Loss):
    """Softmax + categorical cross-entropy in one stable step: input (N, C) logits, target (N,) class indices."""

    function = staticmethod(F.cross_entropy)
    takes_class_indices = True


class NLLLoss(Loss):
    """Negative log-likelihood of log-probabilities (N, C) at the target class indices (N,)."""

    function = staticmethod(F.nll_loss)
    takes_class_indices = True


def _categorical_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    return F.nll_loss(log(clip(as_tensor(input), 1e-12, None)), target, reduction)


class CategoricalCrossEntropyLoss(Loss):
    """Categorical cross-entropy of probabilities (after a softmax) at the target class indices (Keras'
    ``categorical_crossentropy``); from logits, prefer CrossEntropyLoss."""

    function = staticmethod(_categorical_cross_entropy)
    takes_class_indices = True


class Head(NamedTuple):
    """The last layer's activation and the loss that fits it."""

    activation: Module
    loss: Loss


PROBLEMS = ("binary", "multiclass", "regression", "unit_interval")


def head_for(problem: str) -> Head:
    """The recommended (output activation, loss) for a problem type, as the course's table gives it:
    binary → sigmoid + BCE, multiclass → softmax + categorical CE, regression → identity + MSE,
    unit_interval (regression to values in [0, 1]) → sigmoid + MSE."""
    heads = {
        "binary": lambda: Head(Sigmoid(), BCELoss()),
        "multiclass": lambda: Head(Softmax(dim=-1), CategoricalCrossEntropyLoss()),
        "regression": lambda: Head(Identity(), MSELoss()),
        "unit_interval": lambda: Head(Sigmoid(), MSELoss()),
    }
    if problem not in heads:
        raise ValueError(f"unknown problem type {problem!r}; choose one of {PROBLEMS}")
    return heads[problem]()
