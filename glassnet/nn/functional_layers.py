"""Batch normalization, channel dropout and embedding lookups as graph nodes, each with its backward beside it
(``F.batch_norm``, ``F.dropout2d``, ``F.embedding``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import tensor as _engine
from ..tensor import Tensor, as_tensor, result

__all__ = ["batch_norm", "dropout2d", "embedding"]


def batch_norm(input: Any, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """y = (x − mean) / √(var + eps) · weight + bias per channel (axis 1), PyTorch's ``F.batch_norm``, one node.

    input (N, C, *): in training, mean and (biased) var are the batch's over every axis but 1, and the running
    statistics (when given) move towards them by ``momentum``, the variance unbiased (·n/(n−1)), in place; out
    of training, the running statistics are used. The backward is the closed form
    ∂x = (weight/σ) · (g − mean(g) − x̂ · mean(g·x̂)).
    """
    x = as_tensor(input)
    X = x._data
    if X.ndim < 2:
        raise ValueError(f"batch_norm expects input (N, C, *), got shape {X.shape}")
    C = X.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t._data.shape != (C,):
            raise ValueError(f"batch_norm: {name} has shape {t._data.shape} but the input (N, C, *) = {X.shape} "
                             f"has C={C} channels")
    axes = (0, *range(2, X.ndim))
    shape = (1, C) + (1,) * (X.ndim - 2)  # a per-channel array broadcast against the input
    count = X.size // C if C else 0
    if training:
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {X.shape}")
        mean = np.add.reduce(X, axis=axes, keepdims=True) / count
        centred = X - mean
        var = np.add.reduce(centred * centred, axis=axes, keepdims=True) / count
        if running_mean is not None:
            running_mean._data *= 1 - momentum
            running_mean._data += momentum * mean.reshape(C).astype(running_mean._data.dtype)
        if running_var is not None:
            running_var._data *= 1 - momentum
            running_var._data += (momentum * count / (count - 1)) * var.reshape(C).astype(running_var._data.dtype)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when not training")
        mean = running_mean._data.reshape(shape).astype(X.dtype, copy=False)
        var = running_var._data.reshape(shape).astype(X.dtype, copy=False)
        centred = X - mean
    inv_std = (1.0 / np.sqrt(var + eps)).astype(X.dtype, copy=False)
    normalized = centred * inv_std
    scale = inv_std if weight is None else inv_std * weight._data.reshape(shape)
    out = normalized if weight is None else normalized * weight._data.reshape(shape)
    if bias is not None:
        out = out + bias._data.reshape(shape)

    def backward(g: np.ndarray) -> tuple:
        gx = gw = gb = None
        if x.requires_grad:
            if training:
                g_mean = np.add.reduce(g, axis=axes, keepdims=True) / count
                gx_hat_mean = np.add.reduce(g * normalized, axis=axes, keepdims=True) / count
                gx = (g - g_mean - normalized * gx_hat_mean) * scale
            else:
                gx = g * scale
        if weight is not None and weight.requires_grad:
            gw = np.add.reduce(g * normalized, axis=axes)
        if bias is not None and bias.requires_grad:
            gb = np.add.reduce(g, axis=axes)
        return tuple(grad for grad, t in ((gx, x), (gw, weight), (gb, bias)) if t is not None)
    parents = tuple(t for t in (x, weight, bias) if t is not None)
    return result(out, parents, backward)


def dropout2d(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels with probability p and scale the rest by 1/(1−p) (PyTorch's ``F.dropout2d``); the
    identity when not training. input (N, C, H, W); a 3-D input is read, as torch does, as one sample (C, H, W)
    whose channels are dropped. ``inplace`` is accepted for torch's code; the result is always a new tensor."""
    x = as_tensor(input)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout2d: p must be a probability in [0, 1], got {p}")
    X = x._data
    if X.ndim not in (3, 4):
        raise ValueError(f"dropout2d expects input (N, C, H, W) or (C, H, W), got shape {X.shape}")
    if not training or p == 0:
        return x
    channels = X.shape[:2] if X.ndim == 4 else X.shape[:1]
    keep = _engine.default_rng().random(channels, dtype=X.dtype) >= p
    mask = (keep * np.asarray(1.0 / (1.0 - p) if p < 1 else 0.0, dtype=X.dtype)).reshape(
        channels + (1,) * (X.ndim - len(channels)))
    return result(X * mask, (x,), lambda g: (g * mask,))


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` (num_embeddings, embedding_dim) picked by the integer ``input`` of any shape →
    input.shape + (embedding_dim,) (PyTorch's ``F.embedding``), one node; the row ``padding_idx`` gets no
    gradient, repeated indices add their gradients."""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not implemented")
    indices = np.asarray(input._data if isinstance(input, Tensor) else input)
    W = weight._data
    if W.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got shape {W.shape}")
    if indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers (int64), got dtype {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= len(W)):
        raise IndexError(f"embedding: indices must lie in [0, {len(W) - 1}] for {len(W)} embeddings, got values "
                         f"from {indices.min()} to {indices.max()}")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += len(W)

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros_like(W)
        np.add.at(grad, indices.reshape(-1), g.reshape(-1, W.shape[1]))
        if padding_idx is not None:
            grad[padding_idx] = 0
        return (grad,)
    return result(W[indices], (weight,), backward)
