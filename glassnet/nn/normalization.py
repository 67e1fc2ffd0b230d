"""Batch normalization with PyTorch's arguments, parameters and buffers: ``BatchNorm1d``, ``BatchNorm2d`` (the
kernel is ``F.batch_norm``)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor, get_default_dtype
from . import functional_layers as K
from . import placeholders
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d"]


class _BatchNorm(Module):
    """Per-channel normalization by the batch's statistics in training and by running estimates in ``eval()``.

    weight (num_features,) starts at 1 and bias at 0 (``affine``); the buffers running_mean (0), running_var (1)
    and num_batches_tracked (int64 0) follow each training batch (``track_running_stats``): new = (1 − momentum)
    · old + momentum · batch statistic, the variance unbiased; ``momentum=None`` gives the cumulative average.
    Without running statistics the batch's are used in eval mode too.
    """

    input_dims: tuple[int, ...]

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"{name}: num_features must be a positive integer, got {num_features!r}")
        if momentum is not None and not 0 <= momentum <= 1:
            raise ValueError(f"{name}: momentum must lie in [0, 1] or be None, got {momentum}")
        self.num_features, self.eps, self.momentum = int(num_features), float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dtype = np.dtype(dtype or get_default_dtype())
        self.weight = Parameter(placeholders.full(num_features, 1, dtype)) if affine else None
        self.bias = Parameter(placeholders.full(num_features, 0, dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor._wrap(placeholders.full(num_features, 0, dtype)))
            self.register_buffer("running_var", Tensor._wrap(placeholders.full(num_features, 1, dtype)))
            self.register_buffer("num_batches_tracked", Tensor._wrap(placeholders.full((), 0, np.int64)))
        else:
            for buffer in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(buffer, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean._data[...] = 0
            self.running_var._data[...] = 1
            self.num_batches_tracked._data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            self.weight._data[...] = 1
            self.bias._data[...] = 0

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        if x._data.ndim not in self.input_dims:
            raise ValueError(f"{self!r} expects {' or '.join(f'{d}D' for d in self.input_dims)} input "
                             f"{self.expected}, got shape {x._data.shape} ({x._data.ndim}D)")
        if x._data.shape[1] != self.num_features:
            raise ValueError(f"{self!r} expects {self.num_features} channels, input {self.expected} with "
                             f"C={self.num_features}, but got shape {x._data.shape} (C={x._data.shape[1]})")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked._data)
        batch_stats = self.training or self.running_mean is None
        return K.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, batch_stats, factor,
                            self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")

    def get_config(self) -> dict[str, Any]:
        return dict(num_features=self.num_features, eps=self.eps, momentum=self.momentum, affine=self.affine,
                    track_running_stats=self.track_running_stats)


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs over every axis but the channels C."""

    input_dims = (2, 3)
    expected = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs over N, H and W, per channel C."""

    input_dims = (4,)
    expected = "(N, C, H, W)"
