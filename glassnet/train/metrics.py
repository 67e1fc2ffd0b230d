"""Metrics on a model's raw outputs: ``accuracy`` (binary or multiclass), ``mse``, ``mae``.

Each metric is ``metric(output, target, from_logits) -> float`` on ndarrays; ``from_logits`` says whether binary
outputs are logits (threshold 0) or probabilities (threshold 0.5); ±1 targets (TensorFlow Playground's) are
classified by the output's sign.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["accuracy", "mse", "mae", "METRICS", "get"]


def accuracy(output: np.ndarray, target: np.ndarray, from_logits: bool = False) -> float:
    """Fraction of correct classes: argmax for (N, C>1) outputs, a threshold for one output."""
    output = np.asarray(output)
    target = np.asarray(target)
    if output.ndim == 2 and output.shape[1] > 1:
        labels = target.argmax(axis=1) if target.ndim == 2 and target.shape[1] > 1 else target
        return float(np.mean(output.argmax(axis=1) == labels.reshape(-1)))
    output, target = output.reshape(-1), target.reshape(-1)
    if target.size and target.min() < 0:  # ±1 targets
        return float(np.mean((output >= 0) == (target > 0)))
    return float(np.mean((output >= (0.0 if from_logits else 0.5)) == (target >= 0.5)))


def mse(output: np.ndarray, target: np.ndarray, from_logits: bool = False) -> float:
    """Mean squared error."""
    return float(np.mean((np.asarray(output) - np.asarray(target).reshape(np.shape(output))) ** 2))


def mae(output: np.ndarray, target: np.ndarray, from_logits: bool = False) -> float:
    """Mean absolute error."""
    return float(np.mean(np.abs(np.asarray(output) - np.asarray(target).reshape(np.shape(output)))))


METRICS: dict[str, Callable[..., float]] = {"accuracy": accuracy, "acc": accuracy, "mse": mse, "mae": mae}


def get(name: str) -> Callable[..., float]:
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; choose from {sorted(set(METRICS) - {'acc'})}")
    return METRICS[name]
