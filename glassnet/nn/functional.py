"""Stateless neural-network functions (``import glassnet.nn.functional as F``); modules are thin wrappers.

``linear`` is one graph node for x·Wᵀ + b and an optional activation, and ``dense_stack`` one node for several such
layers in turn (what ``nn.Sequential`` runs); each loss is one fused node whose backward
is the closed form (e.g. softmax − one-hot for cross-entropy), which is both faster and more stable than composing
the loss from elementwise ops.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .. import tensor as _engine
from ..ops import ACTIVATIONS, Activation, leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from ..tensor import Tensor, as_tensor, claim_gradient, result
from .functional_conv import *  # noqa: F401,F403  (convolutions, 1-D and 2-D pooling, interpolate)
from .functional_layers import *  # noqa: F401,F403  (batch_norm, dropout2d, embedding)

__all__ = [
    "linear", "dense_stack", "Dense", "dropout", "relu", "tanh", "sigmoid", "leaky_relu", "softmax", "log_softmax",
    "mse_loss", "half_mse_loss", "l1_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "REDUCTIONS",
]

REDUCTIONS = ("mean", "sum", "none")
# np.dot and np.vdot without their __array_function__ dispatch (a Python call: a sixth of a small dot's cost); the
# arrays here are always plain ndarrays
_dot = getattr(np.dot, "_implementation", np.dot)
_vdot = getattr(np.vdot, "_implementation", np.vdot)


Dense = tuple[Tensor, Tensor | None, Activation | None]  # one dense layer: (weight, bias, activation)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None, activation: Activation | None = None) -> Tensor:
    """activation(x · weightᵀ + bias) as one node.

    x: (..., in), weight: (out, in), bias: (out,) → (..., out).
    """
    x = as_tensor(x)
    if x._data.shape[-1:] != weight._data.shape[1:]:
        raise ValueError(f"linear: input of shape {x._data.shape} does not fit weight of shape {weight._data.shape} "
                         f"(the input's last dimension must be {weight._data.shape[1]})")
    return dense_stack(x, ((weight, bias, activation),))


def dense_stack(x: Tensor, layers: Sequence[Dense]) -> Tensor:
    """Dense layers applied in turn, a ← activation(a · weightᵀ + bias), as one graph node.

    x: (..., in) → (..., out of the last layer); each weight is (out, in) and fits the layer before it. The caller
    checks that x fits the first weight (``linear`` does; ``nn.Sequential`` runs each run of Linear layers, with the
    activation after each, through this one node). Backward goes through the layers in reverse: the activation's
    derivative, then ∂J/∂W = gᵀ·a_in, ∂J/∂b = Σ_batch g, and ∂J/∂a_in = g·W for the layer below.
    """
    X = x._data
    h = X if X.ndim == 2 else X.reshape(-1, X.shape[-1])
    saved = []  # (input, z, a) of each layer
    parents = [x]
    for weight, bias, activation in layers:
        z = _dot(h, weight._data.T)
        if bias is None:
            parents.append(weight)
        else:
            z += bias._data
            parents += (weight, bias)
        a = z if activation is None else activation.forward(z)
        saved.append((h, z, a))
        h = a
    out = h if X.ndim == 2 else h.reshape(X.shape[:-1] + h.shape[-1:])

    def backward(g: np.ndarray) -> list:
        if X.ndim != 2:
            g = g.reshape(h.shape)
        ones = np.empty(len(g), g.dtype)  # Σ_batch g as the product ones · g: one BLAS call
        ones.fill(1)
        grads = []  # in reverse order of the parents
        for depth in range(len(layers) - 1, -1, -1):
            weight, bias, activation = layers[depth]
            h_in, z, a = saved[depth]
            if activation is not None:
                g = activation.backward(g, z, a)
            if bias is not None:
                grads.append(_dot_for(bias, ones, g) if bias.requires_grad else None)
            grads.append(_dot_for(weight, g.T, h_in) if weight.requires_grad else None)
            if depth or x.requires_grad:
                g = _dot(g, weight._data)
        grads.append((g if X.ndim == 2 else g.reshape(X.shape)) if x.requires_grad else None)
        grads.reverse()
        return grads
    return result(out, tuple(parents), backward)


def _dot_for(param: Tensor, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """a · b, the gradient of ``param``: written straight into its gradient store when it can be (then None: the
    engine has nothing left to add), else returned."""
    out = claim_gradient(param, a.dtype)
    if out is None:
        return _dot(a, b)
    _dot(a, b, out=out)
    return None


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p) (identity if not
    training)."""
    if not training or p == 0:
        return x
    keep = _engine.default_rng().random(x._data.shape, dtype=x._data.dtype) >= p
    mask = keep * np.asarray(1.0 / (1.0 - p) if p < 1 else 0.0, dtype=x._data.dtype)
    return result(x._data * mask, (x,), lambda g: (g * mask,))


# ------------------------------------------------------------------------------------------ losses

def _reduce(loss: str, per_element: np.ndarray | tuple[Any, int], local_grad: Callable[[np.ndarray], np.ndarray],
            reduction: str, input: Tensor) -> Tensor:
    """Apply ``reduction`` to per-element losses; ``local_grad(w)`` = ∂(Σ wᵢ·lossᵢ)/∂input.

    For "mean" and "sum", ``per_element`` may be (Σ lossᵢ, count) when the sum is cheaper to get directly.
    """
    if reduction == "none":
        return result(per_element, (input,), lambda g: (local_grad(g),))
    if reduction not in REDUCTIONS:
        raise ValueError(f"{loss}: unknown reduction {reduction!r}; choose one of {REDUCTIONS}")
    total, n = per_element if type(per_element) is tuple else (np.add.reduce(per_element, axis=None),
                                                                per_element.size)
    if reduction == "sum":
        n = 1
    # the upstream gradient of a scalar loss is used as a Python float: no NumPy call
    return result(np.asarray(total / n, dtype=input._data.dtype), (input,), lambda g: (local_grad(float(g) / n),))


def _pair(loss: str, input: Any, target: Any) -> tuple[Tensor, np.ndarray]:
    if type(input) is not Tensor:
        input = as_tensor(input)
    if isinstance(target, Tensor):
        target = target._data
    if type(target) is not np.ndarray:
        target = np.asarray(target)
    if input._data.shape != target.shape:
        raise ValueError(f"{loss}: input shape {input._data.shape} and target shape {target.shape} differ; "
                         f"they must be equal (reshape the target, e.g. y.reshape(-1, 1) for one output)")
    if target.dtype != input._data.dtype:
        target = target.astype(input._data.dtype)
    return input, target


def _check_unit_interval(loss: str, target: np.ndarray) -> None:
    if target.size and (target.min() < 0 or target.max() > 1):
        raise ValueError(f"{loss}: targets must lie in [0, 1] (class labels 0/1), got values from {target.min()} "
                         f"to {target.max()}")


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error (input − target)²."""
    return _squared_error("MSELoss", input, target, reduction, 1.0)


def half_mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """½(input − target)²: the squared error of the course and of TensorFlow Playground, whose gradient is
    input − target (divided by the number of elements for the mean)."""
    return _squared_error("HalfMSELoss", input, target, reduction, 0.5)


def _squared_error(loss: str, input: Any, target: Any, reduction: str, factor: float) -> Tensor:
    """factor · (input − target)², one node."""
    input, target = _pair(loss, input, target)
    diff = input._data - target
    if reduction == "none":
        squares = diff * diff
        if factor != 1:
            squares *= factor
    else:
        squares = (float(_vdot(diff, diff)) * factor, diff.size)  # Σ diff²: one BLAS call
    return _reduce(loss, squares, lambda w: diff * (2 * factor * w), reduction, input)


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error |input − target|."""
    input, target = _pair("L1Loss", input, target)
    diff = input._data - target
    return _reduce("L1Loss", np.abs(diff), lambda w: np.sign(diff) * w, reduction, input)


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """−[t·log p + (1−t)·log(1−p)] for probabilities p (logs clamped at −100, as PyTorch)."""
    input, target = _pair("BCELoss", input, target)
    _check_unit_interval("BCELoss", target)
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError("BCELoss: inputs must be probabilities in [0, 1]; for raw scores use BCEWithLogitsLoss")
    with np.errstate(divide="ignore"):
        per = -(target * np.maximum(np.log(p), -100) + (1 - target) * np.maximum(np.log1p(-p), -100))
    return _reduce("BCELoss", per, lambda w: (p - target) / np.maximum(p * (1 - p), 1e-12) * w, reduction, input)


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of sigmoid(input), computed from the logits without overflow."""
    input, target = _pair("BCEWithLogitsLoss", input, target)
    _check_unit_interval("BCEWithLogitsLoss", target)
    z = input._data
    per = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
    return _reduce("BCEWithLogitsLoss", per, lambda w: (ACTIVATIONS["sigmoid"].forward(z) - target) * w, reduction,
                   input)


def _class_targets(loss: str, input: Tensor, target: Any) -> np.ndarray:
    """The (N,) integer labels, checked against the (N, C) input (labels ≥ C are caught by ``_pick``)."""
    target = np.asarray(target._data if isinstance(target, Tensor) else target)
    if input._data.ndim != 2:
        raise ValueError(f"{loss}: input must be (batch, classes), got shape {input._data.shape}")
    n = input._data.shape[0]
    if target.shape != (n,):
        raise ValueError(f"{loss}: target must be {n} class indices of shape ({n},), got shape {target.shape}")
    if target.dtype.kind not in "iu":
        if target.dtype.kind == "f" and np.array_equal(target, np.round(target)):
            target = target.astype(np.int64)
        else:
            raise TypeError(f"{loss}: target must hold integer class indices, got dtype {target.dtype}")
    if n and np.minimum.reduce(target) < 0:
        _bad_labels(loss, input, target)
    return target


def _bad_labels(loss: str, input: Tensor, labels: np.ndarray) -> None:
    classes = input._data.shape[1]
    raise ValueError(f"{loss}: class labels must lie in [0, {classes - 1}] for {classes} outputs, got labels "
                     f"from {labels.min()} to {labels.max()}")


def _pick(loss: str, input: Tensor, matrix: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, matrix[rows, labels]): each row's entry at its label."""
    rows = np.arange(len(labels))
    try:
        return rows, matrix[rows, labels]
    except IndexError:
        _bad_labels(loss, input, labels)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax + negative log-likelihood in one stable node. input: (N, C) logits; target: (N,) class indices,
    or (N, C) class probabilities."""
    input = as_tensor(input)
    z = input._data
    shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    total = np.add.reduce(e, axis=-1, keepdims=True)
    log_total = np.log(total)
    probs_target = np.asarray(target._data if isinstance(target, Tensor) else target)
    if probs_target.ndim == 2 and probs_target.dtype.kind == "f":
        if probs_target.shape != z.shape:
            raise ValueError(f"CrossEntropyLoss: probability targets of shape {probs_target.shape} must match "
                             f"the input {z.shape}")
        t = probs_target.astype(z.dtype, copy=False)
        per = -np.add.reduce((shifted - log_total) * t, axis=-1)
        return _reduce("CrossEntropyLoss", per, lambda w: (e / total - t) * _rows(w), reduction, input)
    labels = _class_targets("CrossEntropyLoss", input, probs_target)
    rows, picked = _pick("CrossEntropyLoss", input, shifted, labels)
    per = log_total[:, 0] - picked

    def local_grad(w: np.ndarray | float) -> np.ndarray:
        grad = e / total  # softmax − one-hot, scaled by each sample's weight
        grad[rows, labels] -= 1
        grad *= _rows(w)
        return grad
    return _reduce("CrossEntropyLoss", per, local_grad, reduction, input)


def nll_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """−input[i, target_i]: the negative log-likelihood of log-probabilities (e.g. from log_softmax)."""
    input = as_tensor(input)
    labels = _class_targets("NLLLoss", input, target)
    rows, picked = _pick("NLLLoss", input, input._data, labels)

    def local_grad(w: np.ndarray | float) -> np.ndarray:
        grad = np.zeros_like(input._data)
        grad[rows, labels] = -w
        return grad
    return _reduce("NLLLoss", -picked, local_grad, reduction, input)


def _rows(w: np.ndarray) -> np.ndarray:
    """Per-sample weights as a column, so that they scale each row of a (N, C) gradient."""
    return w[:, None] if np.ndim(w) else w


from .attention import scaled_dot_product_attention  # noqa: E402,F401  (beside MultiheadAttention)
from .layernorm import layer_norm  # noqa: E402,F401  (F.layer_norm lives beside LayerNorm)
