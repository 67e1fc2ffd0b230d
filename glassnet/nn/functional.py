"""Stateless neural-network functions (``import glassnet.nn.functional as F``); modules are thin wrappers.

``linear`` is one graph node for x·Wᵀ + b and an optional activation, and ``dense_stack`` one node for several such
layers in turn (what ``nn.Sequential`` runs); each loss is one fused node whose backward
is the closed form (e.g. softmax − one-hot for cross-entropy), which is both faster and more stable than composing
the loss from elementwise ops.
"""
from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .. import tensor as _engine
from ..autograd import gradient_buffer
from ..ops import (ACTIVATIONS, Activation, elu, gelu, leaky_relu, log_softmax, relu, sigmoid, silu, softmax, softplus,
                   tanh)
from ..tensor import Tensor, as_tensor, result

__all__ = [
    "linear", "dense_stack", "Dense", "dropout", "one_hot", "pad", "normalize",
    "relu", "tanh", "sigmoid", "leaky_relu", "softmax", "log_softmax", "gelu", "silu", "softplus", "elu",
    "mse_loss", "half_mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
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
    """a · b, the gradient of ``param``: written straight into the buffer the parameter offers when it can be
    (``autograd.gradient_buffer``; then None: the engine has nothing left to add), else returned."""
    out = gradient_buffer(param, a.dtype)
    if out is None:
        return _dot(a, b)
    _dot(a, b, out=out)
    return None


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout: zero each element with probability p and scale the rest by 1/(1−p) (identity if not
    training)."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p!r}")
    if inplace:
        raise NotImplementedError("dropout(inplace=True) is not supported; use the result of dropout(x)")
    x = as_tensor(input)
    if not training or p == 0:
        return x
    keep = _engine.default_rng().random(x._data.shape, dtype=x._data.dtype) >= p
    mask = keep * np.asarray(1.0 / (1.0 - p) if p < 1 else 0.0, dtype=x._data.dtype)
    return result(x._data * mask, (x,), lambda g: (g * mask,))


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """(…) integer class indices → (…, num_classes) int64 one-hot rows; num_classes=-1 takes max + 1."""
    labels = np.asarray(tensor._data if isinstance(tensor, Tensor) else tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: needs a tensor of integer class indices, got dtype {labels.dtype}")
    if labels.size and labels.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {labels.min()}")
    largest = int(labels.max()) if labels.size else -1
    if num_classes == -1:
        if not labels.size:
            raise ValueError("one_hot: cannot infer the number of classes of an empty tensor; pass num_classes")
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {largest}")
    return _engine._wrap((labels[..., None] == np.arange(num_classes)).astype(np.int64))


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative sizes, crop) the last dimensions, as PyTorch: ``pad`` = (left, right) of the last dim,
    then (top, bottom) of the one before it, and so on.

    mode "constant" fills with ``value`` (0 by default); "reflect" mirrors the input about its edges (the edge not
    repeated: each size < the dim's), "replicate" repeats the edge, "circular" wraps around (each size ≤ the dim's).
    The last three pad the last 1, 2 or 3 dims of an input with 1 or 2 dims more (e.g. (N, C, H, W) by 4 sizes)."""
    x = as_tensor(input)
    pad = [int(size) for size in pad]
    if mode != "constant":
        return _pad_by_index(x, pad, mode)
    if len(pad) % 2 or len(pad) // 2 > x._data.ndim:
        raise ValueError(f"pad: needs (left, right) pairs for at most {x._data.ndim} dims of the input of shape "
                         f"{x._data.shape}, got {tuple(pad)}")
    out_shape, inner, source = list(x._data.shape), [slice(None)] * x._data.ndim, [slice(None)] * x._data.ndim
    for k in range(len(pad) // 2):
        dim, before, after = x._data.ndim - 1 - k, pad[2 * k], pad[2 * k + 1]
        size = x._data.shape[dim] + before + after
        if size < 0:
            raise ValueError(f"pad: padding {(before, after)} of dim {dim} (size {x._data.shape[dim]}) leaves a "
                             f"negative size")
        out_shape[dim] = size
        # which part of the input is kept (negative sizes crop), and where it lies in the output
        source[dim] = slice(max(-before, 0), x._data.shape[dim] - max(-after, 0))
        kept = max(x._data.shape[dim] + min(before, 0) + min(after, 0), 0)
        inner[dim] = slice(max(before, 0), max(before, 0) + kept)
    out = np.full(out_shape, 0 if value is None else value, dtype=x._data.dtype)
    out[tuple(inner)] = x._data[tuple(source)]

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = np.zeros_like(x._data)
        grad[tuple(source)] = g[tuple(inner)]
        return (grad,)
    return result(out, (x,), backward)


def _pad_index(n: int, before: int, after: int, mode: str, dim: int, shape: tuple[int, ...]) -> np.ndarray:
    """Which input index each output position of a dim of size ``n`` padded by (before, after) copies."""
    if mode == "reflect" and max(before, after) >= n:
        raise ValueError(f"pad: padding size should be less than the corresponding input dimension for "
                         f"mode='reflect', but got: padding {(before, after)} at dimension {dim} of input "
                         f"{list(shape)}")
    if mode == "circular" and (max(before, after) > n or min(before, after) < 0):
        raise ValueError(f"pad: padding {(before, after)} at dimension {dim} of input {list(shape)} with "
                         f"mode='circular' " + ("causes wrapping around more than once" if min(before, after) >= 0
                                                else "must not be negative here"))
    index = np.arange(-before, n + after)
    if mode == "reflect":
        index = np.abs(index)
        return np.where(index >= n, 2 * (n - 1) - index, index)
    return np.clip(index, 0, n - 1) if mode == "replicate" else index % n


def _pad_by_index(x: Tensor, pad: list[int], mode: str) -> Tensor:
    """``pad``'s modes other than "constant": one gather per padded dim; backward adds each output's gradient
    back onto the input position it copies."""
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: unrecognised padding mode {mode!r}; choose 'constant', 'reflect', "
                                  f"'replicate' or 'circular'")
    X, k = x._data, len(pad) // 2
    if len(pad) % 2 or not 1 <= k <= 3 or X.ndim not in (k + 1, k + 2):
        raise NotImplementedError(f"pad: padding size {len(pad)} is not supported for {X.ndim}D input tensor with "
                                  f"mode={mode!r}: 2 sizes pad a 2D or 3D input, 4 a 3D or 4D one, 6 a 4D or 5D one")
    dims = [X.ndim - 1 - j for j in range(k)]
    indices = [_pad_index(X.shape[d], pad[2 * j], pad[2 * j + 1], mode, d, X.shape) for j, d in enumerate(dims)]
    out = X
    for d, index in zip(dims, indices):
        out = np.take(out, index, axis=d)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        for d, index in zip(reversed(dims), reversed(indices)):
            shape = list(g.shape)
            shape[d] = X.shape[d]
            grad = np.zeros(shape, g.dtype)
            np.add.at(grad, (slice(None),) * d + (index,), g)
            g = grad
        return (g,)
    return result(out, (x,), backward)


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(‖x‖_p, eps) along ``dim``: unit vectors in the p-norm."""
    x = as_tensor(input)
    X = x._data
    if not 0 < p < math.inf:
        raise ValueError(f"normalize: p must be a finite number > 0, got {p!r}")
    magnitude = np.abs(X)
    norm = np.add.reduce(magnitude ** p, axis=dim, keepdims=True) ** (1 / p)
    denominator = np.maximum(norm, eps)
    out = X / denominator

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        # ∂(x/d)/∂x = 1/d − x·(∂d/∂x)ᵀ/d², with ∂d/∂x = sign(x)·|x|^(p−1) / ‖x‖^(p−1) where the norm exceeds eps
        with np.errstate(divide="ignore", invalid="ignore"):
            norm_slope = np.where(norm > eps, np.sign(X) * (magnitude / norm) ** (p - 1), 0)
        along = np.add.reduce(g * X, axis=dim, keepdims=True) / (denominator * denominator)
        return (g / denominator - along * norm_slope,)
    return result(out, (x,), backward)


# ------------------------------------------------------------------------------------------ losses
# Each loss is one node whose backward is the closed form. A target that requires grad (a Tensor with
# requires_grad=True) is a second parent and gets its gradient too, as in PyTorch.

def _reduce(loss: str, per_element: np.ndarray | tuple[Any, Any], local_grad: Callable[[Any], np.ndarray],
            reduction: str, input: Tensor, target: Tensor | None = None,
            target_grad: Callable[[Any], np.ndarray] | None = None) -> Tensor:
    """Apply ``reduction`` to per-element losses; ``local_grad(w)`` = ∂(Σ wᵢ·lossᵢ)/∂input, and ``target_grad(w)``
    the same for ``target`` (the target Tensor when it requires grad, else None).

    For "mean" and "sum", ``per_element`` may be (Σ lossᵢ, n) when the sum is cheaper to get directly, or when
    "mean" divides by something else than the count (the sum of the class weights, the batch size)."""
    parents = (input,) if target is None else (input, target)
    if reduction == "none":
        if target is None:
            return result(per_element, parents, lambda g: (local_grad(g),))
        return result(per_element, parents, lambda g: (local_grad(g), target_grad(g)))
    if reduction not in REDUCTIONS:
        raise ValueError(f"{loss}: unknown reduction {reduction!r}; choose one of {REDUCTIONS}")
    total, n = per_element if type(per_element) is tuple else (np.add.reduce(per_element, axis=None),
                                                                per_element.size)
    if reduction == "sum":
        n = 1
    value = np.asarray(total / n if n else math.nan, dtype=input._data.dtype)  # the mean of nothing is nan
    n = n or 1
    # the upstream gradient of a scalar loss is used as a Python float: no NumPy call
    if target is None:
        return result(value, parents, lambda g: (local_grad(float(g) / n),))
    return result(value, parents, lambda g: (local_grad(float(g) / n), target_grad(float(g) / n)))


def _target(target: Any) -> tuple[np.ndarray, Tensor | None]:
    """(the target's array, the target when it is a Tensor that requires grad, else None)."""
    node = None
    if isinstance(target, Tensor):
        node = target if target.requires_grad else None
        target = target._data
    return (target if type(target) is np.ndarray else np.asarray(target)), node


def _pair(loss: str, input: Any, target: Any) -> tuple[Tensor, np.ndarray, Tensor | None]:
    """(input, target's array in input's dtype, target when it is a Tensor that requires grad) of an elementwise
    loss, whose input and target have one shape."""
    if type(input) is not Tensor:
        input = as_tensor(input)
    if type(target) is Tensor:  # the common case inline: this is the hot path of MSELoss (W1)
        target, node = target._data, (target if target.requires_grad else None)
    else:
        target, node = _target(target)
    if input._data.shape != target.shape:
        raise ValueError(f"{loss}: input shape {input._data.shape} and target shape {target.shape} differ; "
                         f"they must be equal (reshape the target, e.g. y.reshape(-1, 1) for one output)")
    if target.dtype != input._data.dtype:
        target = target.astype(input._data.dtype)
    return input, target, node


def _elementwise_weight(loss: str, name: str, weight: Any, input: Tensor) -> np.ndarray:
    """A rescaling weight (``weight``, ``pos_weight``) that broadcasts to the input, in the input's dtype."""
    weight = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=input._data.dtype)
    try:
        fits = np.broadcast_shapes(weight.shape, input._data.shape) == input._data.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{loss}: {name} of shape {weight.shape} does not broadcast to the input's shape "
                         f"{input._data.shape}")
    return weight


def _check_unit_interval(loss: str, target: np.ndarray) -> None:
    if target.size and (target.min() < 0 or target.max() > 1):
        raise ValueError(f"{loss}: targets must lie in [0, 1] (class labels 0/1), got values from {target.min()} "
                         f"to {target.max()}")


def mse_loss(input: Any, target: Any, *, reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean squared error (input − target)²; input and target of one shape. With ``weight`` (the input's shape)
    each element's error is weighed, and the mean divides by Σ weight (as PyTorch)."""
    if weight is not None:
        input, target, node = _pair("MSELoss", input, target)
        diff = input._data - target
        return _weighted("MSELoss", input, node, reduction, diff * diff, lambda: 2 * diff, weight, True)
    return _squared_error("MSELoss", input, target, reduction, 1.0)


def half_mse_loss(input: Any, target: Any, *, reduction: str = "mean") -> Tensor:
    """½(input − target)²: the squared error of the course and of TensorFlow Playground, whose gradient is
    input − target (divided by the number of elements for the mean)."""
    return _squared_error("HalfMSELoss", input, target, reduction, 0.5)


def _squared_error(loss: str, input: Any, target: Any, reduction: str, factor: float) -> Tensor:
    """factor · (input − target)², one node."""
    input, target, node = _pair(loss, input, target)
    diff = input._data - target
    if reduction == "none":
        squares = diff * diff
        if factor != 1:
            squares *= factor
    else:
        squares = (float(_vdot(diff, diff)) * factor, diff.size)  # Σ diff²: one BLAS call
    return _reduce(loss, squares, lambda w: diff * (2 * factor * w), reduction, input, node,
                   lambda w: diff * (-2 * factor * w))


def _weighted(loss: str, input: Tensor, node: Tensor | None, reduction: str, per: np.ndarray,
              slope: Callable[[], np.ndarray], weight: Any, mean_over_weights: bool) -> Tensor:
    """weight · per-element losses ``per`` of (input − target), whose derivative is ``slope()``; the mean divides
    by Σ weight or by the count, as PyTorch's loss does."""
    weight = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=input._data.dtype)
    if weight.shape != input._data.shape:
        raise ValueError(f"{loss}: weight of shape {weight.shape} must have the input's shape {input._data.shape}")
    per = per * weight
    if reduction == "mean" and mean_over_weights:
        per = (np.add.reduce(per, axis=None), np.add.reduce(weight, axis=None))
    return _reduce(loss, per, lambda w: slope() * weight * w, reduction, input, node,
                   lambda w: slope() * weight * -w)


def l1_loss(input: Any, target: Any, *, reduction: str = "mean", weight: Any = None) -> Tensor:
    """Mean absolute error |input − target|; ``weight`` as in ``mse_loss``."""
    input, target, node = _pair("L1Loss", input, target)
    diff = input._data - target
    if weight is not None:
        return _weighted("L1Loss", input, node, reduction, np.abs(diff), lambda: np.sign(diff), weight, True)
    return _reduce("L1Loss", np.abs(diff), lambda w: np.sign(diff) * w, reduction, input, node,
                   lambda w: np.sign(diff) * -w)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0, weight: Any = None) -> Tensor:
    """½d² where |d| < delta, else delta·(|d| − ½delta), for d = input − target: quadratic near 0, linear
    (gradient ±delta) beyond. With ``weight`` (the input's shape) the mean is the mean of the weighted losses
    (as PyTorch's)."""
    if not delta > 0:
        raise ValueError(f"HuberLoss: delta must be > 0, got {delta!r}")
    return _huber("HuberLoss", input, target, reduction, delta, 1.0, weight)


def smooth_l1_loss(input: Any, target: Any, *, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """½d²/beta where |d| < beta, else |d| − ½beta, for d = input − target (Huber's loss divided by beta; the L1
    loss when beta is 0)."""
    if not beta >= 0:
        raise ValueError(f"SmoothL1Loss: beta must be ≥ 0, got {beta!r}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    return _huber("SmoothL1Loss", input, target, reduction, beta, 1.0 / beta)


def _huber(loss: str, input: Any, target: Any, reduction: str, delta: float, scale: float,
           weight: Any = None) -> Tensor:
    """scale · Huber_delta(input − target), one node."""
    input, target, node = _pair(loss, input, target)
    diff = input._data - target
    size = np.abs(diff)
    small = size < delta
    per = np.where(small, 0.5 * diff * diff, delta * (size - 0.5 * delta))
    if scale != 1:
        per *= scale

    def slope() -> np.ndarray:  # ∂loss/∂input of each element
        return np.where(small, diff, delta * np.sign(diff)) * scale
    if weight is not None:
        return _weighted(loss, input, node, reduction, per, slope, weight, False)
    return _reduce(loss, per, lambda w: slope() * w, reduction, input, node, lambda w: slope() * -w)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *, reduction: str = "mean") -> Tensor:
    """−weight·[t·log p + (1−t)·log(1−p)] for probabilities p (logs clamped at −100, as PyTorch); ``weight``
    broadcasts to the input."""
    input, target, node = _pair("BCELoss", input, target)
    _check_unit_interval("BCELoss", target)
    if weight is not None:
        weight = _elementwise_weight("BCELoss", "weight", weight, input)
    p = input._data
    if p.size and (p.min() < 0 or p.max() > 1):
        raise ValueError("BCELoss: inputs must be probabilities in [0, 1]; for raw scores use BCEWithLogitsLoss")
    with np.errstate(divide="ignore"):
        log_p, log_q = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
    per = -(target * log_p + (1 - target) * log_q)
    if weight is not None:
        per *= weight
        weight_of = lambda w: weight * w  # noqa: E731
    else:
        weight_of = lambda w: w  # noqa: E731
    return _reduce("BCELoss", per, lambda w: (p - target) / np.maximum(p * (1 - p), 1e-12) * weight_of(w),
                   reduction, input, node, lambda w: (log_q - log_p) * weight_of(w))


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, *, reduction: str = "mean",
                                     pos_weight: Any = None) -> Tensor:
    """Binary cross-entropy of sigmoid(input), computed from the logits without overflow:
    weight·[(1−t)·z + (1 + (pos_weight−1)·t)·log(1 + e⁻ᶻ)]. ``pos_weight`` (e.g. one per class, shape (C,))
    weighs the positive targets; both weights broadcast to the input."""
    input, target, node = _pair("BCEWithLogitsLoss", input, target)
    _check_unit_interval("BCEWithLogitsLoss", target)
    if weight is not None:
        weight = _elementwise_weight("BCEWithLogitsLoss", "weight", weight, input)
    if pos_weight is not None:
        pos_weight = _elementwise_weight("BCEWithLogitsLoss", "pos_weight", pos_weight, input)
    z = input._data
    sigmoid_of = ACTIVATIONS["sigmoid"].forward
    if pos_weight is None:
        per = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
        if weight is None:  # the plain loss, without the weights' indirections: a hot path (playground, W-benches)
            return _reduce("BCEWithLogitsLoss", per, lambda w: (sigmoid_of(z) - target) * w, reduction, input,
                           node, lambda w: z * -w)
        slope = lambda: sigmoid_of(z) - target  # noqa: E731  (∂/∂input, then ∂/∂target)
        target_slope = lambda: -z  # noqa: E731
    else:
        softplus_neg = np.maximum(-z, 0) + np.log1p(np.exp(-np.abs(z)))  # log(1 + e⁻ᶻ) = −log sigmoid(z)
        log_weight = 1 + (pos_weight - 1) * target
        per = (1 - target) * z + log_weight * softplus_neg
        slope = lambda: log_weight * sigmoid_of(z) - pos_weight * target  # noqa: E731
        target_slope = lambda: (pos_weight - 1) * softplus_neg - z  # noqa: E731
    if weight is not None:
        per = per * weight
        weight_of = lambda w: weight * w  # noqa: E731
    else:
        weight_of = lambda w: w  # noqa: E731
    return _reduce("BCEWithLogitsLoss", per, lambda w: slope() * weight_of(w), reduction, input, node,
                   lambda w: target_slope() * weight_of(w))


def kl_div(input: Any, target: Any, *, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback–Leibler divergence t·(log t − input) of targets t from log-probabilities ``input`` (targets given
    as log-probabilities with ``log_target``). "batchmean" divides the sum by the batch size (the true KL
    divergence per sample); "mean" divides by the number of elements, as PyTorch."""
    if reduction == "batchmean":
        per = _kl_div(input, target, log_target, "none")
        batch = per._data.shape[0] if per._data.ndim else 1
        return _kl_div(input, target, log_target, "mean", batch)
    return _kl_div(input, target, log_target, reduction)


def _kl_div(input: Any, target: Any, log_target: bool, reduction: str, batch: int | None = None) -> Tensor:
    input, target, node = _pair("KLDivLoss", input, target)
    x = input._data
    if log_target:
        t = np.exp(target)
        per = t * (target - x)
        target_slope = lambda: t * (target - x + 1)  # noqa: E731
    else:
        t = target
        with np.errstate(divide="ignore", invalid="ignore"):
            log_t = np.log(t)
        per = np.where(t > 0, t * log_t, 0) - t * x  # t·log t is 0 at t = 0
        target_slope = lambda: log_t + 1 - x  # noqa: E731
    if batch is not None:
        per = (np.add.reduce(per, axis=None), batch)
    return _reduce("KLDivLoss", per, lambda w: t * -w, reduction, input, node, lambda w: target_slope() * w)


# ---- class losses: input (N, C) or (N, C, d1, …) or unbatched (C,); class dim 1, as PyTorch

def _classes_last(loss: str, z: np.ndarray) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray] | None]:
    """The scores as (rows, C), and the function that turns a gradient of the rows back into the input's shape
    (None when the input is (N, C) already)."""
    if z.ndim == 2:
        return z, None
    if z.ndim == 1:
        return z[None], lambda g: g[0]
    if z.ndim == 0:
        raise ValueError(f"{loss}: input must be (batch, classes), (batch, classes, d1, …) or (classes,), got a "
                         f"scalar")
    moved = np.moveaxis(z, 1, -1)
    return moved.reshape(-1, z.shape[1]), lambda g: np.moveaxis(g.reshape(moved.shape), -1, 1)


def _class_weight(loss: str, weight: Any, classes: int, dtype: np.dtype) -> np.ndarray | None:
    if weight is None:
        return None
    weight = np.asarray(weight._data if isinstance(weight, Tensor) else weight, dtype=dtype)
    if weight.shape != (classes,):
        raise ValueError(f"{loss}: weight must hold one value per class, shape ({classes},), got shape "
                         f"{weight.shape}")
    return weight


def _class_targets(loss: str, input: Tensor, target: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """The class indices as one flat integer array, and their shape (the input's without the class dim)."""
    shape = input._data.shape
    expected = shape[:1] + shape[2:] if len(shape) != 1 else ()
    if target.shape != expected:
        raise ValueError(f"{loss}: target of shape {target.shape} does not fit input of shape {shape} (batch, "
                         f"classes, …): give class indices of shape {expected} or class probabilities of shape "
                         f"{shape}")
    if target.dtype.kind not in "iu":
        if target.dtype.kind == "f" and np.array_equal(target, np.round(target)):
            target = target.astype(np.int64)
        else:
            raise TypeError(f"{loss}: target must hold integer class indices, got dtype {target.dtype}")
    return (target if target.ndim == 1 else target.reshape(-1)), expected


def _pick(loss: str, rows_of: np.ndarray, labels: np.ndarray,
          ignore_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """(rows, labels, rows_of[rows, labels], kept): each row's entry at its label. ``kept`` is None when no row is
    ``ignore_index``, else the mask of the other rows (whose labels become 0 so that they can be indexed)."""
    rows = np.arange(len(labels))
    kept = None
    negative = len(labels) and np.minimum.reduce(labels) < 0
    if negative or ignore_index >= 0:
        ignored = labels == ignore_index
        if ignored.any():
            kept, labels = ~ignored, np.where(ignored, 0, labels)
            negative = np.minimum.reduce(labels) < 0
    if not negative:
        try:
            return rows, labels, rows_of[rows, labels], kept
        except IndexError:
            pass
    bad, classes = labels if kept is None else labels[kept], rows_of.shape[1]
    raise ValueError(f"{loss}: class labels must lie in [0, {classes - 1}] for {classes} classes (or be "
                     f"ignore_index={ignore_index}), got labels from {bad.min()} to {bad.max()}")


def _row_weights(class_weight: np.ndarray | None, labels: np.ndarray, kept: np.ndarray | None,
                 dtype: np.dtype) -> np.ndarray | None:
    """Each row's weight (its class's weight, 0 if ignored), or None when all are 1."""
    if class_weight is None:
        return None if kept is None else kept.astype(dtype)
    weights = class_weight[labels]
    return weights if kept is None else weights * kept


def _per_row(w: Any, weights: np.ndarray | None = None) -> Any:
    """The upstream gradient ``w`` (a float, or one value per row in any shape) times each row's weight (None: 1):
    a float or a flat array."""
    if type(w) is not float:
        w = np.reshape(w, -1)
    return w if weights is None else weights * w


def _column(w: Any) -> Any:
    """Per-row values as a column, so that they scale each row of a (rows, C) gradient."""
    return w if type(w) is float else w[:, None]


class _Softmax(NamedTuple):
    """The softmax of score rows, in the parts the cross-entropy and its gradient use."""

    shifted: np.ndarray  # z − max z of each row
    e: np.ndarray  # exp(shifted)
    total: np.ndarray  # Σ e of each row, as a column
    log_total: np.ndarray  # log total: log softmax = shifted − log_total
    restore: Callable[[np.ndarray], np.ndarray] | None  # rows back to the input's shape (see _classes_last)


def cross_entropy(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax + negative log-likelihood in one stable node.

    input: (N, C) logits (or (N, C, d1, …), or (C,)); target: class indices of shape (N,) (or (N, d1, …), or ()),
    or class probabilities of the input's shape. ``weight`` (C,) weighs each class (the mean then divides by the
    summed weights of the targets); rows whose index is ``ignore_index`` count for nothing; ``label_smoothing`` ε
    mixes the targets with the uniform distribution: (1 − ε)·target + ε/C.
    """
    loss = "CrossEntropyLoss"
    if type(input) is not Tensor:
        input = as_tensor(input)
    target, node = _target(target)  # only probabilities can have a gradient
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"{loss}: label_smoothing must lie in [0, 1], got {label_smoothing!r}")
    z, restore = _classes_last(loss, input._data)
    classes = z.shape[1]
    class_weight = None if weight is None else _class_weight(loss, weight, classes, z.dtype)
    shifted = z - np.maximum.reduce(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    total = np.add.reduce(e, axis=-1, keepdims=True)
    softmax = _Softmax(shifted, e, total, np.log(total), restore)
    if target.shape == input._data.shape:
        return _cross_entropy_of_probabilities(input, target, node, class_weight, ignore_index, reduction,
                                               label_smoothing, softmax)
    labels, shape = _class_targets(loss, input, target)
    rows, labels, picked, kept = _pick(loss, shifted, labels, ignore_index)
    weights = None if class_weight is None and kept is None else _row_weights(class_weight, labels, kept, z.dtype)
    if label_smoothing:  # a probability target per row: (1 − ε)·one-hot + ε/C, each class by its weight
        mass = np.full(z.shape, label_smoothing / classes, z.dtype)
        if class_weight is not None:
            mass *= class_weight
        if kept is not None:
            mass *= kept[:, None]
        mass[rows, labels] += (1 - label_smoothing) * (1 if weights is None else weights)
        per, local_grad = _soft_cross_entropy(softmax, mass)
    else:
        per = softmax.log_total[:, 0] - picked
        if weights is not None:
            per *= weights

        def local_grad(w: Any) -> np.ndarray:
            grad = e / total  # softmax − one-hot, scaled by each row's weight
            grad[rows, labels] -= 1
            grad *= _column(_per_row(w, weights))
            return grad if restore is None else restore(grad)
    return _reduce_labelled(loss, per, shape, weights, local_grad, reduction, input)


def _cross_entropy_of_probabilities(input: Tensor, target: np.ndarray, node: Tensor | None,
                                    class_weight: np.ndarray | None, ignore_index: int, reduction: str,
                                    label_smoothing: float, softmax: _Softmax) -> Tensor:
    """Cross-entropy with class probabilities ``target`` (the input's shape): −Σ_c weight_c·t_c·log softmax_c per
    row, the mean over the rows; a target that requires grad gets ∂/∂t = −weight·(1 − ε)·log softmax."""
    loss = "CrossEntropyLoss"
    if target.dtype.kind != "f":
        raise TypeError(f"{loss}: a target of the input's shape {target.shape} holds class probabilities and must "
                        f"be floating point, got dtype {target.dtype}; class indices have shape "
                        f"{input._data.shape[:1] + input._data.shape[2:]}")
    if ignore_index != -100:
        raise ValueError(f"{loss}: ignore_index={ignore_index} needs class-index targets; these are class "
                         f"probabilities (the input's shape {target.shape})")
    t, _ = _classes_last(loss, target.astype(softmax.e.dtype, copy=False))
    coefficient = 1.0 if class_weight is None else class_weight  # of t in the mass of each class
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[1]
        coefficient = coefficient * (1 - label_smoothing)
    per, local_grad = _soft_cross_entropy(softmax, t if class_weight is None else t * class_weight)
    shape = input._data.shape[:1] + input._data.shape[2:] if input._data.ndim != 1 else ()
    per = per.reshape(shape) if reduction == "none" else (np.add.reduce(per, axis=None), len(t))

    def target_grad(w: Any) -> np.ndarray:
        grad = (softmax.log_total - softmax.shifted) * coefficient
        grad *= _column(_per_row(w))
        return grad if softmax.restore is None else softmax.restore(grad)
    return _reduce(loss, per, local_grad, reduction, input, node, target_grad)


def _reduce_labelled(loss: str, per: np.ndarray, shape: tuple[int, ...], weights: np.ndarray | None,
                     local_grad: Callable[[Any], np.ndarray], reduction: str, input: Tensor) -> Tensor:
    """``_reduce`` of the per-row losses of class-index targets: "none" in the targets' shape, "mean" divided by
    the rows' summed weights (the count when all weigh 1)."""
    if reduction == "none":
        per = per.reshape(shape)
    elif weights is not None:
        per = (np.add.reduce(per, axis=None), np.add.reduce(weights, axis=None))
    return _reduce(loss, per, local_grad, reduction, input)


def _soft_cross_entropy(softmax: _Softmax, mass: np.ndarray) -> tuple[np.ndarray, Callable]:
    """Per-row −Σ_c mass_c·log softmax_c, and its local gradient softmax·Σ_c mass_c − mass (the targets' mass need
    not sum to 1)."""
    per = np.add.reduce((softmax.log_total - softmax.shifted) * mass, axis=-1)

    def local_grad(w: Any) -> np.ndarray:
        grad = softmax.e / softmax.total
        grad *= np.add.reduce(mass, axis=-1, keepdims=True)
        grad -= mass
        grad *= _column(_per_row(w))
        return grad if softmax.restore is None else softmax.restore(grad)
    return per, local_grad


def nll_loss(input: Any, target: Any, weight: Any = None, *, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """−weight[t]·input[i, t]: the negative log-likelihood of log-probabilities (e.g. from log_softmax), input
    (N, C) (or (N, C, d1, …), or (C,)), target class indices (N,) (or (N, d1, …), or ()); ``weight`` and
    ``ignore_index`` as in ``cross_entropy``."""
    loss = "NLLLoss"
    if type(input) is not Tensor:
        input = as_tensor(input)
    x, restore = _classes_last(loss, input._data)
    class_weight = None if weight is None else _class_weight(loss, weight, x.shape[1], x.dtype)
    labels, shape = _class_targets(loss, input, _target(target)[0])
    rows, labels, picked, kept = _pick(loss, x, labels, ignore_index)
    weights = _row_weights(class_weight, labels, kept, x.dtype)
    per = -picked if weights is None else -picked * weights

    def local_grad(w: Any) -> np.ndarray:
        grad = np.zeros_like(x)
        grad[rows, labels] = -_per_row(w, weights)
        return grad if restore is None else restore(grad)
    return _reduce_labelled(loss, per, shape, weights, local_grad, reduction, input)


from .attention import scaled_dot_product_attention  # noqa: E402,F401  (beside MultiheadAttention)
from .layernorm import layer_norm  # noqa: E402,F401  (F.layer_norm lives beside LayerNorm)
from ..ops.conv import *  # noqa: E402,F401,F403  (convolutions, 1-D and 2-D pooling, interpolate)
from .functional_layers import *  # noqa: E402,F401,F403  (batch_norm, dropout2d, embedding)
from .interpolation import interpolate  # noqa: E402,F401,F811  (all modes; nearest's kernel in ops/conv.py)
