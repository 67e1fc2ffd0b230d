"""Loss modules (thin wrappers over ``functional``, with PyTorch's names and options) and the recommended output
head for each problem type."""
from __future__ import annotations

from typing import Any, NamedTuple

from ..ops import clip, log
from ..tensor import Tensor, as_tensor, tensor
from . import functional as F
from .activation import Sigmoid, Softmax
from .linear import Identity
from .module import Module

__all__ = ["Loss", "MSELoss", "HalfMSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
           "CrossEntropyLoss", "NLLLoss", "KLDivLoss", "CategoricalCrossEntropyLoss", "Head", "head_for", "PROBLEMS"]


class Loss(Module):
    """A loss: ``loss(input, target)`` → a Tensor, reduced by ``reduction`` ("mean", "sum" or "none").

    Subclasses set ``function`` (called with ``reduction=``; see ``_LossWithOptions`` for more keywords)."""

    function = staticmethod(F.mse_loss)
    takes_class_indices = False  # targets are integer labels (cross-entropy, NLL) rather than values
    reductions = F.REDUCTIONS

    def __init__(self, *, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__}: unknown reduction {reduction!r}; choose one of "
                             f"{self.reductions}")
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:
        return self.function(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config().items()
                         if value != _DEFAULTS.get(key))

    def get_config(self) -> dict[str, Any]:
        return {"reduction": self.reduction}


_DEFAULTS = {"reduction": "mean", "ignore_index": -100, "label_smoothing": 0.0, "beta": 1.0, "delta": 1.0,
             "log_target": False}


class _LossWithOptions(Loss):
    """A loss whose function takes keywords besides ``reduction`` (class weights, ignore_index, …): ``options()``.
    (A separate class, so that the plain losses of the hot path pay nothing for it.)"""

    def options(self) -> dict[str, Any]:
        raise NotImplementedError

    def forward(self, input: Any, target: Any) -> Tensor:
        return self.function(input, target, reduction=self.reduction, **self.options())


def _buffer(value: Any) -> Tensor | None:
    """A weight argument as the Tensor a loss keeps as a buffer (moved by ``.to()``/``.double()``, as PyTorch)."""
    return value if value is None or isinstance(value, Tensor) else tensor(value)


class _WeightedLoss(_LossWithOptions):
    """A loss with an optional ``weight`` buffer, passed on to its function."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.register_buffer("weight", _buffer(weight))

    def options(self) -> dict[str, Any]:
        return {"weight": self.weight}


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


class SmoothL1Loss(_LossWithOptions):
    """½d²/beta where |d| < beta, else |d| − ½beta, for d = input − target."""

    function = staticmethod(F.smooth_l1_loss)

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: beta must be ≥ 0, got {beta!r}")
        self.beta = beta

    def options(self) -> dict[str, Any]:
        return {"beta": self.beta}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self.beta}


class HuberLoss(_LossWithOptions):
    """½d² where |d| < delta, else delta·(|d| − ½delta), for d = input − target."""

    function = staticmethod(F.huber_loss)

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta!r}")
        self.delta = delta

    def options(self) -> dict[str, Any]:
        return {"delta": self.delta}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "delta": self.delta}


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities (after a sigmoid) against targets in [0, 1]; ``weight`` broadcasts to
    the input."""

    function = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight: Any = None, *, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """Sigmoid + binary cross-entropy in one stable step: input are logits, targets in [0, 1]; ``pos_weight``
    (e.g. one per class) weighs the positive targets."""

    function = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight: Any = None, *, reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input: Any, target: Any) -> Tensor:  # options spelled out, no dict: a hot path
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax + categorical cross-entropy in one stable step: input (N, C) logits (or (N, C, d1, …)), target (N,)
    class indices or (N, C) class probabilities; ``weight`` (C,) per class, ``ignore_index``, ``label_smoothing``
    as ``F.cross_entropy``."""

    function = staticmethod(F.cross_entropy)
    takes_class_indices = True

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must lie in [0, 1], got {label_smoothing!r}")
        self.ignore_index, self.label_smoothing = int(ignore_index), float(label_smoothing)

    def forward(self, input: Any, target: Any) -> Tensor:  # options spelled out, no dict: the hot path of W2/W3
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "ignore_index": self.ignore_index, "label_smoothing": self.label_smoothing}


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of log-probabilities (N, C) at the target class indices (N,); ``weight`` (C,) and
    ``ignore_index`` as ``CrossEntropyLoss``."""

    function = staticmethod(F.nll_loss)
    takes_class_indices = True

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = int(ignore_index)

    def options(self) -> dict[str, Any]:
        return {"weight": self.weight, "ignore_index": self.ignore_index}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "ignore_index": self.ignore_index}


class KLDivLoss(_LossWithOptions):
    """Kullback–Leibler divergence of the targets from log-probabilities ``input``; use reduction="batchmean"
    for the divergence per sample (PyTorch's "mean" divides by the number of elements)."""

    function = staticmethod(F.kl_div)
    reductions = (*F.REDUCTIONS, "batchmean")

    def __init__(self, *, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.log_target = bool(log_target)

    def options(self) -> dict[str, Any]:
        return {"log_target": self.log_target}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "log_target": self.log_target}


def _categorical_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    return F.nll_loss(log(clip(as_tensor(input), 1e-12, None)), target, reduction=reduction)


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
