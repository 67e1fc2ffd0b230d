"""Reductions: sums, means, products, spreads, norms, extremes (with their indices), sorting, cumulative sums.

Every reduction takes PyTorch's ``dim=`` / ``keepdim=`` (one int or a tuple) or NumPy's ``axis=`` / ``keepdims=``.
``max(dim)``, ``min(dim)``, ``sort`` and ``topk`` return ``(values, indices)`` named tuples whose gradient goes to
the chosen elements, as in PyTorch; full ``max()`` / ``amax`` share it among ties.
"""
from __future__ import annotations

import builtins
from typing import Any, NamedTuple

import numpy as np

from ..tensor import DtypeError, ShapeError, Tensor, _wrap, as_tensor, get_default_dtype, result
from ._args import array_of, dims, floating, keepdim_of

__all__ = ["sum", "mean", "prod", "var", "std", "norm", "logsumexp", "cumsum", "amax", "amin", "max", "min",
           "argmax", "argmin", "any", "all", "sort", "argsort", "topk", "unique", "ValuesIndices"]


class ValuesIndices(NamedTuple):
    """What ``max(dim)``, ``min(dim)``, ``sort`` and ``topk`` return (PyTorch's ``torch.return_types``)."""

    values: Tensor
    indices: Tensor


def _expand(g: np.ndarray, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Undo a reduction over ``axis``: give ``g`` back the reduced axes, then broadcast it to ``shape``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def sum(a: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **aliases: Any) -> Tensor:
    """Σ over ``dim`` (all elements by default); bool and integer tensors sum to int64, as in PyTorch."""
    a = as_tensor(a)
    data = a._data
    axis = dims(None, dim, data.ndim, aliases)
    keepdims = keepdim_of(keepdim, aliases)
    if dtype is not None:
        a = a.to(dtype)
        data = a._data
    elif data.dtype.kind in "bui":
        data = data.astype(np.int64)
    undo = (data.shape, axis, keepdims)  # one tuple: what the node keeps are shapes, not values (see _saves_arrays)
    return result(np.add.reduce(data, axis=axis, keepdims=keepdims), (a,), lambda g: (_expand(g, *undo),))


def mean(a: Any, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, **aliases: Any) -> Tensor:
    a = as_tensor(a)
    if dtype is not None:
        a = a.to(dtype)
    if a._data.dtype.kind != "f":
        raise DtypeError(f"mean(): could not infer output dtype: the input must be a floating-point tensor, got "
                         f"{a._data.dtype} (use .float() first, or pass dtype=)")
    axis = dims(None, dim, a._data.ndim, aliases)
    keepdims = keepdim_of(keepdim, aliases)
    total = np.add.reduce(a._data, axis=axis, keepdims=keepdims)
    count = a._data.size // total.size if total.size else 1
    undo = (a._data.shape, axis, keepdims, count)  # shapes, not values (see sum)
    return result(total / count, (a,), lambda g: (_expand(g / undo[3], *undo[:3]),))


def prod(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Π over ``dim``; d/da_i = Π_{j≠i} a_j (computed without dividing, so zeros are exact)."""
    a = as_tensor(a)
    axis = dims(None, dim, a._data.ndim, aliases)
    if isinstance(axis, tuple):
        raise TypeError("prod takes one dim (as in PyTorch)")
    keepdims = keepdim_of(keepdim, aliases)
    data = a._data.astype(np.int64) if a._data.dtype.kind in "bui" else a._data
    out = np.multiply.reduce(data, axis=axis, keepdims=keepdims)

    def backward(g: np.ndarray) -> tuple:
        flat = data.reshape(-1) if axis is None else np.moveaxis(data, axis, -1)
        ones = np.ones_like(flat[..., :1])
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.flip(np.cumprod(np.concatenate([ones, np.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = before * after
        others = others.reshape(data.shape) if axis is None else np.moveaxis(others, -1, axis)
        return (_expand(g, data.shape, axis, keepdims) * others,)
    return result(out, (a,), backward)


def var(a: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None,
        **aliases: Any) -> Tensor:
    """Σ(a − mean)² / (N − correction) over ``dim`` (correction 1 by default: the unbiased estimate, as in
    PyTorch; ``unbiased=False`` is correction 0)."""
    a = floating(a)
    axis = dims(None, dim, a._data.ndim, aliases)
    keepdims = keepdim_of(keepdim, aliases)
    if correction is None:
        correction = 0 if unbiased is False else 1
    centred = a._data - a._data.mean(axis=axis, keepdims=True)
    n = a._data.size // builtins.max(np.add.reduce(centred, axis=axis, keepdims=True).size, 1)
    denominator = builtins.max(n - correction, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.add.reduce(centred * centred, axis=axis, keepdims=keepdims) / np.asarray(denominator,
                                                                                           a._data.dtype)
    shape = a._data.shape
    return result(out, (a,), lambda g: (_expand(g, shape, axis, keepdims) * centred * (2 / denominator),))


def std(a: Any, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *, correction: Any = None,
        **aliases: Any) -> Tensor:
    """√var (see ``var``)."""
    from .elementwise import sqrt
    return sqrt(var(a, dim, unbiased, keepdim, correction=correction, **aliases))


def norm(a: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """The p-norm (Σ|a|^p)^(1/p) over ``dim`` (all elements by default): p = 2 or "fro" the Euclidean norm, 1 the
    sum of magnitudes, inf the largest magnitude."""
    from .elementwise import abs, pow, sqrt
    a = floating(a)
    if p in ("fro", 2, 2.0):
        return sqrt(sum(a * a, dim, keepdim, **aliases))
    if p in (1, 1.0):
        return sum(abs(a), dim, keepdim, **aliases)
    if p in (np.inf, float("inf")):
        return amax(abs(a), dim, keepdim, **aliases)
    return pow(sum(pow(abs(a), p), dim, keepdim, **aliases), 1.0 / p)


def logsumexp(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """log Σ exp(a) over ``dim``, shifted by the max (never overflows); the gradient is the softmax."""
    a = floating(a)
    axis = dims(None, dim, a._data.ndim, aliases)
    keepdims = keepdim_of(keepdim, aliases)
    top = np.max(a._data, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0)
    kept = np.log(np.add.reduce(np.exp(a._data - top), axis=axis, keepdims=True)) + top
    out = kept if keepdims else kept.reshape(()) if axis is None else np.squeeze(kept, axis)
    return result(out, (a,), lambda g: (np.exp(a._data - kept) * g.reshape(kept.shape),))


def cumsum(a: Any, dim: Any = None, *, dtype: Any = None, **aliases: Any) -> Tensor:
    """Running sums along ``dim``; the gradient is the reversed running sum of the upstream gradient."""
    a = as_tensor(a if dtype is None else as_tensor(a).to(dtype))
    axis = dims(None, dim, a._data.ndim, aliases)
    if axis is None:
        if a._data.ndim > 1:
            raise TypeError("cumsum needs dim= (as in PyTorch)")
        axis = 0 if a._data.ndim else None
    if axis is None:
        return result(a._data.copy(), (a,), lambda g: (g,))
    data = a._data.astype(np.int64) if a._data.dtype.kind in "bui" else a._data
    return result(np.cumsum(data, axis=axis), (a,),
                  lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),))


def _extreme(a: Tensor, axis: Any, keepdims: bool, reduce: Any) -> Tensor:
    """amax/amin; the gradient is shared equally among tied extremes (as ``torch.amax``)."""
    kept = reduce(a._data, axis=axis, keepdims=True)
    out = kept if keepdims else kept.reshape(()) if axis is None else np.squeeze(kept, axis)

    def backward(g: np.ndarray) -> tuple:
        mask = a._data == kept
        share = mask / np.sum(mask, axis=axis, keepdims=True)
        return ((share * g.reshape(kept.shape)).astype(a._data.dtype, copy=False),)
    return result(out, (a,), backward)


def amax(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    a = as_tensor(a)
    return _extreme(a, dims(None, dim, a._data.ndim, aliases), keepdim_of(keepdim, aliases), np.max)


def amin(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    a = as_tensor(a)
    return _extreme(a, dims(None, dim, a._data.ndim, aliases), keepdim_of(keepdim, aliases), np.min)


def _chosen(a: Tensor, axis: int, indices: np.ndarray, keepdims: bool) -> Tensor:
    """The elements of ``a`` at ``indices`` along ``axis`` (indices with that axis kept, of length k); the gradient
    goes to those elements."""
    values = np.take_along_axis(a._data, indices, axis)
    if not keepdims:
        values = np.squeeze(values, axis)

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(a._data.shape, g.dtype)
        np.put_along_axis(grad, indices, g if keepdims else np.expand_dims(g, axis), axis)
        return (grad,)
    return result(values, (a,), backward)


def _extreme_with_index(name: str, a: Any, dim: Any, keepdim: bool, aliases: dict, reduce: Any,
                        pick: Any, elementwise: Any) -> Any:
    if isinstance(dim, Tensor) or isinstance(dim, np.ndarray):  # max(a, b): the elementwise one
        return elementwise(a, dim)
    a = as_tensor(a)
    axis = dims(None, dim, a._data.ndim, aliases)
    keepdims = keepdim_of(keepdim, aliases)
    if axis is None and dim is None and "dim" not in aliases and "axis" not in aliases:
        return _extreme(a, None, keepdims, reduce)
    if isinstance(axis, tuple):
        raise TypeError(f"{name}(dim) takes one dim and returns (values, indices); for several dims use "
                        f"a{name}(dims)")
    if a._data.size == 0:
        raise ShapeError(f"{name}(): the tensor of shape {a._data.shape} is empty")
    if axis is None:  # a 0-d tensor with dim 0
        return ValuesIndices(result(a._data.copy(), (a,), lambda g: (g,)), _wrap(np.zeros((), np.int64)))
    indices = np.expand_dims(pick(a._data, axis=axis), axis)
    return ValuesIndices(_chosen(a, axis, indices, keepdims),
                         _wrap(indices if keepdims else np.squeeze(indices, axis)))


def max(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Any:
    """``max(a)``: the largest element; ``max(a, dim)``: the named tuple (values, indices) along ``dim``;
    ``max(a, b)`` with a tensor b: the elementwise maximum."""
    from .elementwise import maximum
    return _extreme_with_index("max", a, dim, keepdim, aliases, np.max, np.argmax, maximum)


def min(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Any:
    from .elementwise import minimum
    return _extreme_with_index("min", a, dim, keepdim, aliases, np.min, np.argmin, minimum)


def argmax(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """The index of the largest element (of the flattened tensor without ``dim``), int64."""
    data = array_of(as_tensor(a))
    axis = dims(None, dim, data.ndim, aliases)
    return _wrap(np.asarray(np.argmax(data, axis=axis, keepdims=keepdim_of(keepdim, aliases) and axis is not None),
                            dtype=np.int64))


def argmin(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    data = array_of(as_tensor(a))
    axis = dims(None, dim, data.ndim, aliases)
    return _wrap(np.asarray(np.argmin(data, axis=axis, keepdims=keepdim_of(keepdim, aliases) and axis is not None),
                            dtype=np.int64))


def any(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    data = array_of(as_tensor(a))
    return _wrap(np.any(data, axis=dims(None, dim, data.ndim, aliases), keepdims=keepdim_of(keepdim, aliases)))


def all(a: Any, dim: Any = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    data = array_of(as_tensor(a))
    return _wrap(np.all(data, axis=dims(None, dim, data.ndim, aliases), keepdims=keepdim_of(keepdim, aliases)))


def _sort_axis(a: Tensor, dim: Any, aliases: dict) -> int | None:
    axis = dims(None, dim, a._data.ndim, aliases)
    if isinstance(axis, tuple):
        raise TypeError("sort/topk take one dim")
    return axis


def _order(data: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """Indices that sort ``data`` along ``axis``, stable (ties keep their order, also when descending)."""
    keys = -(data.astype(np.float64) if data.dtype.kind in "bu" else data) if descending else data
    return np.argsort(keys, axis=axis, kind="stable")


def sort(a: Any, dim: int = -1, descending: bool = False, *, stable: bool = False, **aliases: Any) -> ValuesIndices:
    """(values, indices) sorted along ``dim``; the gradient goes back to each value's place."""
    a = as_tensor(a)
    axis = _sort_axis(a, dim, aliases)
    if axis is None:
        return ValuesIndices(result(a._data.copy(), (a,), lambda g: (g,)), _wrap(np.zeros((), np.int64)))
    indices = _order(a._data, axis, descending)
    return ValuesIndices(_chosen(a, axis, indices, True), _wrap(indices.astype(np.int64)))


def argsort(a: Any, dim: int = -1, descending: bool = False, **aliases: Any) -> Tensor:
    return sort(a, dim, descending, **aliases).indices


def topk(a: Any, k: int, dim: int = -1, largest: bool = True, sorted: bool = True, **aliases: Any) -> ValuesIndices:
    """The k largest (or smallest) elements along ``dim`` and their indices, largest first."""
    a = as_tensor(a)
    axis = _sort_axis(a, dim, aliases)
    axis = 0 if axis is None else axis
    data = a._data if a._data.ndim else a._data.reshape(1)
    if not 0 <= k <= data.shape[axis]:
        raise ShapeError(f"topk: k={k} is out of range for dimension {axis} of size {data.shape[axis]}")
    order = _order(data, axis, largest)
    indices = np.take(order, np.arange(k), axis=axis)
    source = a if a._data.ndim else a.reshape(1)
    return ValuesIndices(_chosen(source, axis, indices, True), _wrap(indices.astype(np.int64)))


def unique(a: Any, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
           dim: int | None = None) -> Any:
    """The distinct elements, sorted (no gradient); with ``return_inverse`` / ``return_counts`` also each
    element's position among them and how often each occurs."""
    data = array_of(as_tensor(a))
    found = np.unique(data, return_inverse=return_inverse, return_counts=return_counts, axis=dim)
    if not (return_inverse or return_counts):
        return _wrap(found)
    values, *rest = found
    rest = [_wrap(np.asarray(r, dtype=np.int64).reshape(data.shape if i == 0 and return_inverse and dim is None
                                                        else -1)) for i, r in enumerate(rest)]
    return (_wrap(values), *rest)
