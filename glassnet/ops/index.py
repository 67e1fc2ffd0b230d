"""Indexing: ``x[i]`` and ``x[i] = v`` with PyTorch's rules, gather, index_select, masked_fill, nonzero.

Repeated indices accumulate their gradients. Integers mixed with index arrays select first (PyTorch's rule: for
x of shape (2, 3, 4, 5), ``x[1, :, :, [0, 1]]`` has shape (3, 4, 2); NumPy would give (2, 3, 4)).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import (ShapeError, Tensor, _check_inplace, _inplace, _previous_value, _rebase, _stamp, _wrap,
                      as_tensor, result)
from ._args import array_of, dims, to_dtype
from .elementwise import where

__all__ = ["getitem", "setitem", "gather", "index_select", "masked_fill", "masked_fill_", "nonzero"]


def _plain_index(index: Any) -> tuple:
    """The index as a tuple NumPy takes: Tensors become arrays, one-element integer tensors and 0-d integer arrays
    plain ints."""
    parts = index if isinstance(index, tuple) else (index,)
    plain = []
    for part in parts:
        if isinstance(part, Tensor):
            part = part._data
        if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
            part = int(part)
        elif isinstance(part, range):
            part = np.arange(part.start, part.stop, part.step)
        elif isinstance(part, list):
            part = np.asarray([p._data if isinstance(p, Tensor) else p for p in part])
        plain.append(part)
    return tuple(plain)


def _is_array(part: Any) -> bool:
    return isinstance(part, np.ndarray) and not (part.ndim == 0 and part.dtype.kind == "b")


def _torch_order(index: tuple) -> tuple[tuple, tuple] | None:
    """For an index mixing ints with index arrays: (the basic part with the ints, the rest), applied in turn;
    None for any other index."""
    if not any(isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in index) or \
            not any(_is_array(p) for p in index):
        return None
    first, second = [], []
    for part in index:
        if isinstance(part, (int, np.integer)):
            first.append(part)
        elif _is_array(part):
            first += [slice(None)] * (part.ndim if part.dtype.kind == "b" else 1)
            second.append(part)
        elif part is Ellipsis:
            first.append(part)
            second.append(part)
        else:  # a slice or None
            first.append(part)
            second.append(slice(None))
    return tuple(first), tuple(second)


def getitem(a: Any, index: Any) -> Tensor:
    """``a[index]``: ints, slices (a negative step too), None, ..., int arrays/lists/tensors, bool masks."""
    a = as_tensor(a)
    index = _plain_index(index)
    split = _torch_order(index)
    if split is not None:
        return getitem(getitem(a, split[0]), split[1])
    try:
        out = a._data[index]
    except IndexError as e:
        raise IndexError(f"index {index if len(index) > 1 else index[0]!r} does not fit a tensor of shape "
                         f"{a._data.shape}: {e}") from None
    shape, advanced = a._data.shape, any(_is_array(p) for p in index)

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(shape, g.dtype)
        if advanced:
            np.add.at(grad, index, g)
        else:
            grad[index] = g
        return (grad,)
    return result(out, (a,), backward)


def _assigned(target: Tensor, index: tuple, value: Any) -> Tensor:
    """``target`` with ``target[index] = value``, out of place (for the graph): the gradient of the overwritten
    elements goes to ``value``, the rest to ``target``."""
    value = to_dtype(value, target._data.dtype)
    out = target._data.copy()
    _write(out, index, value._data)

    def backward(g: np.ndarray) -> tuple:
        kept = g.copy()
        _write(kept, index, 0)
        return kept, _read(g, index)
    return result(out, (target, value), backward)


def _write(array: np.ndarray, index: tuple, value: Any) -> None:
    split = _torch_order(index)
    if split is not None:
        array[split[0]][split[1]] = value
    else:
        array[index] = value


def _read(array: np.ndarray, index: tuple) -> np.ndarray:
    split = _torch_order(index)
    return array[split[0]][split[1]] if split is not None else array[index]


def setitem(target: Tensor, index: Any, value: Any) -> None:
    """``target[index] = value`` in place (checked and recorded like every in-place op; see ``tensor._inplace``)."""
    index = _plain_index(index)
    if _check_inplace(target, value):
        _rebase(target, _assigned(_previous_value(target), index, value))
        return
    try:
        _write(target._data, index, np.asarray(array_of(value)).astype(target._data.dtype, copy=False))
    except ValueError as e:
        raise ShapeError(f"x[{index}] = value: a value of shape {np.shape(array_of(value))} does not fit "
                         f"x[{index}] of shape {_read(target._data, index).shape} ({e})") from None
    _stamp(target._data)


def gather(a: Any, dim: int, index: Any) -> Tensor:
    """out[i][j][k] = a[i][index[i][j][k]][k] for dim 1 (PyTorch's ``gather``); ``index`` may be smaller than
    ``a`` in the other dims."""
    a = as_tensor(a)
    index = np.asarray(array_of(index))
    if index.dtype.kind not in "iu":
        raise TypeError(f"gather: the index must be an integer tensor, got dtype {index.dtype}")
    axis = dims(None, dim, a._data.ndim)
    if index.ndim != a._data.ndim:
        raise ShapeError(f"gather: index of shape {index.shape} must have as many dims as the input {a._data.shape}")
    full = list(np.indices(index.shape, sparse=True))
    full[axis] = index
    full = tuple(full)
    try:
        out = a._data[full]
    except IndexError as e:
        raise IndexError(f"gather: index out of range for dim {dim} of shape {a._data.shape}: {e}") from None
    shape = a._data.shape

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros(shape, g.dtype)
        np.add.at(grad, full, g)
        return (grad,)
    return result(out, (a,), backward)


def index_select(a: Any, dim: int, index: Any) -> Tensor:
    """The slices ``index`` (1-D) along ``dim``."""
    a = as_tensor(a)
    index = np.asarray(array_of(index))
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise TypeError(f"index_select: the index must be a 1-D integer tensor, got shape {index.shape} of dtype "
                        f"{index.dtype}")
    axis = dims(None, dim, a._data.ndim)
    return getitem(a, (slice(None),) * axis + (index.reshape(-1),))


def masked_fill(a: Any, mask: Any, value: Any) -> Tensor:
    """``value`` where ``mask`` is True, else ``a`` (the mask broadcasts)."""
    a = as_tensor(a)
    mask = np.asarray(array_of(mask))
    if mask.dtype != np.bool_:
        raise TypeError(f"masked_fill: the mask must be a bool tensor, got dtype {mask.dtype}")
    if isinstance(value, Tensor) and value._data.ndim:
        raise ValueError(f"masked_fill: the value must be a number or a 0-d tensor, got shape {value._data.shape}")
    return where(mask, to_dtype(value, a._data.dtype), a)


def masked_fill_(target: Tensor, mask: Any, value: Any) -> Tensor:
    return _inplace(target, masked_fill, mask, value)


def nonzero(a: Any, *, as_tuple: bool = False) -> Any:
    """The indices of the non-zero elements: an (n, ndim) int64 tensor, or one 1-D tensor per dim."""
    found = np.nonzero(array_of(as_tensor(a)))
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in found)
    return _wrap(np.stack(found, axis=1).astype(np.int64) if found else np.zeros((1, 0), np.int64))
