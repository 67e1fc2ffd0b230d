"""Gradient clipping and flat parameter vectors (``torch.nn.utils``)."""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from .. import ops
from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _tensors(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def _norm(values: np.ndarray, norm_type: float) -> float:
    """The p-norm of a flat array (p = inf: the largest |value|)."""
    if norm_type == math.inf:
        return float(np.max(np.abs(values))) if values.size else 0.0
    return float(np.sum(np.abs(values) ** norm_type) ** (1.0 / norm_type))


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm (the norm of all of them as one
    vector; ``float("inf")``: the largest |g|) is at most ``max_norm``, by max_norm / (norm + 1e-6) as torch.
    Returns the norm before clipping, as a 0-d Tensor. Parameters without a gradient are skipped."""
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be positive (or inf), got {norm_type}")
    grads = [p.grad._data for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return Tensor(np.zeros(()))
    per_tensor = np.array([_norm(g.ravel(), norm_type) for g in grads])
    total = _norm(per_tensor, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
                           f"pass error_if_nonfinite=False to clip anyway")
    scale = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= scale
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient, in place, to [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable, as torch's)."""
    return ops.concatenate([ops.reshape(p, -1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place (optimizers keep their parameters)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, got {type(vec).__name__}")
    params = list(parameters)
    sizes = [p._data.size for p in params]
    values = vec._data
    if values.ndim != 1 or values.size != sum(sizes):
        raise ValueError(f"vector_to_parameters: a vector of {sum(sizes)} values fits these parameters, got shape "
                         f"{values.shape}")
    start = 0
    for p, size in zip(params, sizes):
        p._data[...] = values[start:start + size].reshape(p._data.shape)
        start += size
