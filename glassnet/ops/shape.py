"""Shape ops: views and rearrangements (reshape, permute, expand, flip …), joins (cat, stack) and splits.

The backward of each undoes the rearrangement on the gradient; none of them saves the input's values, so a graph
made only of them can be walked twice (as in PyTorch).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tensor import ShapeError, Tensor, as_tensor, promote_types, result
from ._args import dims, to_dtype

__all__ = ["reshape", "view", "flatten", "unflatten", "unsqueeze", "squeeze", "permute", "transpose", "swapaxes",
           "expand", "broadcast_to", "repeat", "tile", "chunk", "split", "unbind", "narrow", "flip", "roll", "tril",
           "triu", "concatenate", "cat", "concat", "stack", "hstack", "vstack", "clone", "movedim"]


def _sizes(sizes: tuple) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` → (2, 3)."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    return tuple(int(n) for n in sizes)


def reshape(a: Any, *shape: Any) -> Tensor:
    a = as_tensor(a)
    shape = _sizes(shape)
    source = a._data.shape
    try:
        out = a._data.reshape(shape)
    except ValueError:
        raise ShapeError(f"reshape: cannot reshape a tensor of shape {source} ({a._data.size} elements) "
                         f"into {shape}") from None
    return result(out, (a,), lambda g: (g.reshape(source),))


view = reshape


def flatten(a: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim … end_dim into one (a 0-d tensor becomes 1-d, as in PyTorch)."""
    a = as_tensor(a)
    shape = a._data.shape
    if not shape:
        return reshape(a, 1)
    start, end = dims(None, start_dim, len(shape)), dims(None, end_dim, len(shape))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(a, shape[:start] + (-1,) + shape[end + 1:])


def unflatten(a: Any, dim: int, sizes: Sequence[int]) -> Tensor:
    a = as_tensor(a)
    axis = dims(None, dim, a._data.ndim)
    return reshape(a, a._data.shape[:axis] + tuple(sizes) + a._data.shape[axis + 1:])


def unsqueeze(a: Any, dim: int) -> Tensor:
    """Insert a dim of size 1 at ``dim`` (−1 appends)."""
    a = as_tensor(a)
    ndim = a._data.ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"unsqueeze: dimension {dim} is out of range for the result's {ndim} dimensions")
    return reshape(a, np.expand_dims(a._data, dim % ndim).shape)


def squeeze(a: Any, dim: Any = None) -> Tensor:
    """Remove dims of size 1 (only ``dim``'s, when given; a dim of another size stays, as in PyTorch)."""
    a = as_tensor(a)
    shape = a._data.shape
    axis = dims(None, dim, len(shape))
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    drop = {d for d in axes if shape[d] == 1}
    return reshape(a, tuple(n for d, n in enumerate(shape) if d not in drop))


def permute(a: Any, *order: Any) -> Tensor:
    """Reorder the dims (``permute(2, 0, 1)`` or ``permute((2, 0, 1))``); negative dims count from the end."""
    a = as_tensor(a)
    order = _sizes(order)
    ndim = a._data.ndim
    if len(order) != ndim or sorted(d % ndim for d in order) != list(range(ndim)):
        raise ShapeError(f"permute: {order} is not an order of the {ndim} dims of a tensor of shape {a._data.shape}")
    order = tuple(d % ndim for d in order)
    inverse = tuple(sorted(range(ndim), key=order.__getitem__))  # argsort in Python: np.argsort costs ~3 µs
    return result(np.transpose(a._data, order), (a,), lambda g: (np.transpose(g, inverse),))


def transpose(a: Any, *axes: Any) -> Tensor:
    """``transpose(a, d0, d1)`` swaps two dims (PyTorch); ``transpose(a)`` reverses the dims and
    ``transpose(a, (order…))`` permutes them (NumPy)."""
    a = as_tensor(a)
    ndim = a._data.ndim
    if len(axes) == 2 and not isinstance(axes[0], (tuple, list)):
        order = list(range(ndim))
        d0, d1 = dims(None, axes[0], ndim), dims(None, axes[1], ndim)
        if ndim:
            order[d0], order[d1] = order[d1], order[d0]
        return permute(a, tuple(order))
    if not axes:
        return permute(a, tuple(reversed(range(ndim))))
    return permute(a, *axes)


swapaxes = transpose


def movedim(a: Any, source: int, destination: int) -> Tensor:
    a = as_tensor(a)
    order = list(range(a._data.ndim))
    order.insert(destination % a._data.ndim, order.pop(source % a._data.ndim))
    return permute(a, tuple(order))


def expand(a: Any, *sizes: Any) -> Tensor:
    """Broadcast to ``sizes`` without copying (−1 keeps a dim); the gradient sums over the stretched dims."""
    a = as_tensor(a)
    sizes = _sizes(sizes)
    shape = a._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        raise ShapeError(f"expand: the shape {sizes} has fewer dims than the tensor's {shape}")
    target = tuple(shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    try:
        out = np.broadcast_to(a._data, target)
    except ValueError:
        raise ShapeError(f"expand: a tensor of shape {shape} cannot be expanded to {sizes} (only dims of size 1 "
                         f"stretch)") from None
    return result(out, (a,), lambda g: (g,))  # the engine sums g back to the input's shape


def broadcast_to(a: Any, shape: Sequence[int]) -> Tensor:
    return expand(a, tuple(shape))


def repeat(a: Any, *sizes: Any) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along dim i (PyTorch's ``repeat``; leading sizes add dims)."""
    a = as_tensor(a)
    sizes = _sizes(sizes)
    shape = a._data.shape
    if len(sizes) < len(shape):
        raise ShapeError(f"repeat: give at least {len(shape)} sizes for a tensor of shape {shape}, got {sizes}")
    padded = (1,) * (len(sizes) - len(shape)) + shape
    out = np.tile(a._data.reshape(padded), sizes)

    def backward(g: np.ndarray) -> tuple:
        split = []
        for count, n in zip(sizes, padded):
            split += [count, n]
        return (g.reshape(split).sum(axis=tuple(range(0, len(split), 2))).reshape(shape),)
    return result(out, (a,), backward)


def tile(a: Any, *sizes: Any) -> Tensor:
    """``repeat`` with missing leading sizes taken as 1 (PyTorch's ``tile``)."""
    a = as_tensor(a)
    sizes = _sizes(sizes)
    return repeat(a, (1,) * (a._data.ndim - len(sizes)) + sizes)


def narrow(a: Any, dim: int, start: int, length: int) -> Tensor:
    a = as_tensor(a)
    axis = dims(None, dim, a._data.ndim)
    index = [slice(None)] * a._data.ndim
    start = start % a._data.shape[axis] if start < 0 else start
    index[axis] = slice(start, start + length)
    return a[tuple(index)]


def split(a: Any, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces along ``dim``: of ``split_size`` each (the last may be smaller), or of the given sizes."""
    a = as_tensor(a)
    axis = dims(None, dim, a._data.ndim)
    length = a._data.shape[axis]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != length:
            raise ShapeError(f"split: sizes {sizes} add up to {sum(sizes)}, not to dim {dim}'s length {length}")
    else:
        step = int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        sizes = [min(step, length - start) for start in range(0, length, step)] or [0]
    pieces, start = [], 0
    for n in sizes:
        pieces.append(narrow(a, axis, start, n))
        start += n
    return tuple(pieces)


def chunk(a: Any, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """At most ``chunks`` pieces of ⌈length / chunks⌉ along ``dim`` (as PyTorch)."""
    a = as_tensor(a)
    length = a._data.shape[dims(None, dim, a._data.ndim)]
    return split(a, max(-(-length // chunks), 1), dim)


def unbind(a: Any, dim: int = 0) -> tuple[Tensor, ...]:
    a = as_tensor(a)
    axis = dims(None, dim, a._data.ndim)
    return tuple(a[(slice(None),) * axis + (i,)] for i in range(a._data.shape[axis]))


def flip(a: Any, *dims_: Any) -> Tensor:
    a = as_tensor(a)
    axes = dims(None, _sizes(dims_), a._data.ndim)
    return result(np.flip(a._data, axes), (a,), lambda g: (np.flip(g, axes),))


def roll(a: Any, shifts: Any, dims_: Any = None) -> Tensor:
    """Shift elements along ``dims`` (of the flattened tensor without), wrapping around."""
    a = as_tensor(a)
    axes = None if dims_ is None else dims(None, dims_, a._data.ndim)
    back = tuple(-s for s in shifts) if isinstance(shifts, (tuple, list)) else -shifts
    return result(np.roll(a._data, shifts, axes), (a,), lambda g: (np.roll(g, back, axes),))


def tril(a: Any, diagonal: int = 0) -> Tensor:
    """The lower triangle (of the last two dims): elements above ``diagonal`` set to 0."""
    a = as_tensor(a)
    return result(np.tril(a._data, diagonal), (a,), lambda g: (np.tril(g, diagonal),))


def triu(a: Any, diagonal: int = 0) -> Tensor:
    a = as_tensor(a)
    return result(np.triu(a._data, diagonal), (a,), lambda g: (np.triu(g, diagonal),))


def _joinable(tensors: Sequence[Any], name: str) -> list[Tensor]:
    """The tensors to join, promoted to one dtype (as ``torch.cat`` does)."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty sequence of tensors")
    dtype = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype != dtype:
            dtype = promote_types(dtype, t._data.dtype)
    return [to_dtype(t, dtype) for t in tensors]


def concatenate(tensors: Sequence[Any], axis: int | None = None, *, dim: Any = None) -> Tensor:
    """Join along an existing dim (default 0)."""
    tensors = _joinable(tensors, "cat")
    axis = dims(axis, dim, max(t._data.ndim for t in tensors))
    axis = 0 if axis is None else axis
    try:
        joined = np.concatenate([t._data for t in tensors], axis=axis)
    except ValueError as e:
        raise ShapeError(f"cat along dim {axis}: shapes {[t.shape for t in tensors]} do not fit ({e})") from None
    ends = np.cumsum([t._data.shape[axis] for t in tensors])[:-1]
    return result(joined, tuple(tensors), lambda g: tuple(np.split(g, ends, axis=axis)))


cat = concat = concatenate


def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: Any = None) -> Tensor:
    """Join along a new dim (default 0); the tensors must share one shape."""
    tensors = _joinable(tensors, "stack")
    if len({t._data.shape for t in tensors}) > 1:
        raise ShapeError(f"stack needs tensors of one shape, got {[t.shape for t in tensors]}")
    axis = dims(axis, dim, tensors[0]._data.ndim + 1)
    axis = 0 if axis is None else axis
    return result(np.stack([t._data for t in tensors], axis=axis), tuple(tensors),
                  lambda g: tuple(np.moveaxis(g, axis, 0)))


def hstack(tensors: Sequence[Any]) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    return concatenate(tensors, 0 if tensors[0]._data.ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    return concatenate([t if as_tensor(t)._data.ndim > 1 else reshape(t, 1, -1) for t in tensors], 0)


def clone(a: Any) -> Tensor:
    """A copy with its own memory, in the graph (the gradient passes through)."""
    a = as_tensor(a)
    return result(a._data.copy(), (a,), lambda g: (g,))
