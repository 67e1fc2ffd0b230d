"""Argument handling shared by the op families: operands of one dtype, dims, arrays of constants."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import DtypeError, ShapeError, Tensor, _as_array, _wrap, get_default_dtype, result, result_type


def operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """a and b as Tensors of one dtype, by PyTorch's promotion (``tensor.result_type``); numbers and arrays become
    constants. Tensors of one dtype, and a float tensor with a Python number, pass without further work."""
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            if a._data.dtype is b._data.dtype:
                return a, b
        elif type(b) is float or type(b) is int:
            dtype = a._data.dtype
            if dtype.kind == "f":
                return a, _wrap(np.asarray(b, dtype))
    dtype = result_type(a, b)
    return to_dtype(a, dtype), to_dtype(b, dtype)


def to_dtype(value: Any, dtype: np.dtype) -> Tensor:
    """``value`` as a Tensor of ``dtype``: a Tensor through a cast (a graph node), anything else as a constant."""
    if isinstance(value, Tensor):
        return value if value._data.dtype == dtype else cast(value, dtype)
    return _wrap(np.asarray(value, dtype=dtype))


def cast(a: Tensor, dtype: Any) -> Tensor:
    """``a`` converted to ``dtype``; the gradient flows back converted to a's dtype (none for integer results, as
    in PyTorch)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        return _wrap(a._data.astype(dtype))
    source = a._data.dtype
    return result(a._data.astype(dtype), (a,), lambda g: (g.astype(source),))


def floating(a: Any) -> Tensor:
    """``a`` as a float Tensor: integer and bool tensors take the default dtype (``exp`` of an int tensor is a
    float tensor, as in PyTorch)."""
    if not isinstance(a, Tensor):
        a = _wrap(_as_array(a, None))
    if a._data.dtype.kind == "f":
        return a
    return cast(a, get_default_dtype())


def array_of(value: Any) -> Any:
    """The ndarray of a Tensor; numbers and arrays unchanged."""
    return value._data if isinstance(value, Tensor) else value


def dims(axis: Any, dim: Any, ndim: int, aliases: dict[str, Any] | None = None) -> Any:
    """One reduction/shape axis argument from PyTorch's ``dim=`` or NumPy's ``axis=`` (not both): None, an int or
    a tuple of ints, each within [-ndim, ndim). A 0-d tensor takes dim 0 or −1 (as in PyTorch)."""
    if aliases:
        unknown = set(aliases) - {"axis", "dim", "keepdims", "keepdim"}
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)}")
        if "axis" in aliases:
            axis = aliases["axis"] if axis is None else _both()
        if "dim" in aliases:
            dim = aliases["dim"] if dim is None else _both()
    if dim is not None:
        if axis is not None:
            _both()
        axis = dim
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        axes = tuple(int(d) for d in axis)
    else:
        axes = (int(axis),)
    bound = max(ndim, 1)
    for d in axes:
        if not -bound <= d < bound:
            raise IndexError(f"dimension {d} is out of range for a tensor with {ndim} dimension(s) (expected one in "
                             f"[{-bound}, {bound - 1}])")
    if ndim == 0:
        return None
    axes = tuple(d % ndim for d in axes)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"dimension repeated in {axis}")
    return axes if isinstance(axis, (list, tuple)) else axes[0]


def keepdim_of(keepdim: bool, aliases: dict[str, Any] | None) -> bool:
    """``keepdim`` (PyTorch) or ``keepdims`` (NumPy)."""
    if aliases:
        if "keepdims" in aliases:
            return bool(aliases["keepdims"])
        if "keepdim" in aliases:
            return bool(aliases["keepdim"])
    return bool(keepdim)


def _both() -> None:
    raise TypeError("give axis= or dim=, not both")


def require_float(name: str, a: Tensor) -> None:
    if a._data.dtype.kind != "f":
        raise DtypeError(f"{name}: expected a floating-point tensor, got dtype {a._data.dtype} (convert it with "
                         f".float() first)")
