"""``F.interpolate``: PyTorch's resizing of (N, C, L) and (N, C, H, W) by nearest neighbour (the kernel in
``ops.conv``) or linearly: mode "linear" on (N, C, L), "bilinear" on (N, C, H, W).

A linear resize along one axis is a matrix R (out, in) with two weights per row, 1 − λ and λ on the two input
positions around the row's source position; so (N, C, H, W) → R_h · X · R_wᵀ, two broadcast matmuls, and the
gradient is R_hᵀ · g · R_w.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, as_tensor, result
from ..ops import conv as K

__all__ = ["interpolate"]

LINEAR_MODES = {"linear": 1, "bilinear": 2}  # mode → the spatial dims it resizes


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial axes to ``size`` or by ``scale_factor`` (one for all axes or one each), as PyTorch's
    ``F.interpolate``: modes "nearest", "nearest-exact" (input (N, C, L) or (N, C, H, W)), "linear" ((N, C, L))
    and "bilinear" ((N, C, H, W)). In the linear modes ``align_corners=True`` maps the corner pixels' centres onto
    each other (source i·(in − 1)/(out − 1)); False (the default) maps the pixel edges (source (i + ½)·in/out − ½,
    in/out being 1/scale_factor when that is given and not recomputed)."""
    if mode not in LINEAR_MODES:
        return K.interpolate(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if antialias:
        raise NotImplementedError(f"interpolate: antialias is not implemented for mode {mode!r}")
    x = as_tensor(input)
    X = x._data
    dims = LINEAR_MODES[mode]
    if X.ndim != dims + 2:
        raise NotImplementedError(f"interpolate: got {X.ndim}D input, but {mode} mode needs {dims + 2}D input "
                                  f"({'(N, C, L)' if dims == 1 else '(N, C, H, W)'}), got shape {X.shape}")
    sizes, scales = K.interpolation_sizes(X.shape[2:], size, scale_factor, recompute_scale_factor)
    resize = [_linear_weights(n, out, scale, bool(align_corners), X.dtype)
              for n, out, scale in zip(X.shape[2:], sizes, scales)]
    out = np.matmul(X, resize[-1].T)           # the last axis: X · R_wᵀ
    if dims == 2:
        out = np.matmul(resize[0], out)        # the rows: R_h · (X · R_wᵀ)

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        if dims == 2:
            g = np.matmul(resize[0].T, g)
        return (np.matmul(g, resize[-1]),)
    return result(out, (x,), backward)


def _linear_weights(size: int, out: int, scale: float | None, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    """R (out, size): row i weighs the two input positions around output i's source position (PyTorch's
    ``area_pixel_compute_source_index``; below 0 clamped to 0, the upper neighbour capped at size − 1)."""
    i = np.arange(out, dtype=np.float64)
    if align_corners:
        source = i * ((size - 1) / (out - 1)) if out > 1 else np.zeros(out)
    else:
        ratio = 1.0 / scale if scale else size / out
        source = np.maximum((i + 0.5) * ratio - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.int64), size - 1)
    high = np.minimum(low + 1, size - 1)
    weight = source - low
    R = np.zeros((out, size), dtype)
    rows = np.arange(out)
    np.add.at(R, (rows, low), 1 - weight)
    np.add.at(R, (rows, high), weight)
    return R
