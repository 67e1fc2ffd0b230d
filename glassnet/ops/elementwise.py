"""Elementwise ops: arithmetic, math functions, comparisons, and the in-place forms (``add_``, ``+=`` …).

Each op computes its output and, right beside it, its local backward ``g ↦ one gradient per input``. Operands of
different dtypes are promoted as in PyTorch (``_args.operands``); gradients may have the broadcast shape: the engine
sums them back.
"""
from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from ..tensor import DtypeError, ShapeError, Tensor, _inplace, _wrap, as_tensor, get_default_dtype, result
from ._args import array_of, cast, floating, operands

__all__ = [
    "add", "sub", "mul", "div", "true_divide", "floor_divide", "remainder", "pow", "neg", "maximum", "minimum",
    "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "rsqrt", "square", "reciprocal", "abs", "sign", "sin",
    "cos", "tan", "erf", "floor", "ceil", "round", "trunc", "clamp", "clip", "where", "cast", "eq", "ne", "lt",
    "le", "gt", "ge", "equal", "allclose", "isclose", "logical_and", "logical_or", "logical_not", "bitwise_not",
    "isnan", "isinf", "isfinite",
    "add_", "sub_", "mul_", "div_", "pow_", "neg_", "clamp_", "copy_", "fill_", "zero_",
]


# ------------------------------------------------------------------------------------------ arithmetic

def _broadcasting(op: Any) -> Any:
    """A binary op whose operands' shapes do not broadcast raises ShapeError (a ValueError and, as in PyTorch, a
    RuntimeError) naming both shapes, instead of NumPy's bare ValueError."""
    @functools.wraps(op)
    def checked(a: Any, b: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return op(a, b, *args, **kwargs)
        except ValueError as error:
            shapes = [tuple(np.shape(x._data if isinstance(x, Tensor) else x)) for x in (a, b)]
            try:
                np.broadcast_shapes(*shapes)
            except ValueError:
                raise ShapeError(f"{op.__name__}: shapes {shapes[0]} and {shapes[1]} do not broadcast: from the "
                                 f"last dimension back, each pair of sizes must be equal or one of them 1") from None
            raise error
    return checked


@_broadcasting
def add(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """a + alpha·b."""
    if alpha != 1:
        b = mul(b, alpha)
    a, b = operands(a, b)
    return result(a._data + b._data, (a, b), lambda g: (g, g))


@_broadcasting
def sub(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """a − alpha·b."""
    if alpha != 1:
        b = mul(b, alpha)
    a, b = operands(a, b)
    if a._data.dtype.kind == "b":
        raise DtypeError("subtraction of bool tensors is not supported (as in PyTorch): use ^ or logical_xor")
    negate = b.requires_grad
    return result(a._data - b._data, (a, b), lambda g: (g, -g if negate else None))


@_broadcasting
def mul(a: Any, b: Any) -> Tensor:
    if type(b) in (float, int) and isinstance(a, Tensor) and a._data.dtype.kind == "f":
        return _scale(a, b)
    if type(a) in (float, int) and isinstance(b, Tensor) and b._data.dtype.kind == "f":
        return _scale(b, a)
    a, b = operands(a, b)

    def backward(g: np.ndarray) -> tuple:
        return (g * b._data if a.requires_grad else None, g * a._data if b.requires_grad else None)
    return result(a._data * b._data, (a, b), backward)


def _scale(a: Tensor, k: float) -> Tensor:
    """a · k for a Python number k: one parent, and k a NumPy weak scalar (float32 stays float32)."""
    return result(a._data * k, (a,), lambda g: (g * k,))


@_broadcasting
def div(a: Any, b: Any, *, rounding_mode: str | None = None) -> Tensor:
    """a / b (true division: integer tensors give the default float dtype, as in PyTorch); ``rounding_mode``
    "floor" or "trunc" rounds the quotient (no gradient)."""
    a, b = operands(a, b)
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        if rounding_mode == "floor":
            return floor_divide(a, b)
        quotient = np.trunc(a._data / b._data)
        return _wrap(quotient if a._data.dtype.kind == "f" else quotient.astype(a._data.dtype))
    if a._data.dtype.kind != "f":
        a, b = cast(a, get_default_dtype()), cast(b, get_default_dtype())
    out = a._data / b._data

    def backward(g: np.ndarray) -> tuple:
        ga = g / b._data if a.requires_grad else None
        gb = -g * out / b._data if b.requires_grad else None
        return ga, gb
    return result(out, (a, b), backward)


true_divide = div


def floor_divide(a: Any, b: Any) -> Tensor:
    """⌊a / b⌋ (no gradient)."""
    a, b = operands(a, b)
    return _wrap(np.floor_divide(a._data, b._data))


@_broadcasting
def remainder(a: Any, b: Any) -> Tensor:
    """a mod b with the sign of b (Python's and PyTorch's ``%``); d/da = 1, d/db = −⌊a/b⌋."""
    a, b = operands(a, b)
    out = np.remainder(a._data, b._data)
    return result(out, (a, b), lambda g: (g, -g * np.floor_divide(a._data, b._data) if b.requires_grad else None))


@_broadcasting
def pow(a: Any, exponent: Any) -> Tensor:
    """a ** exponent; d/da = exponent · a^(exponent−1) (0 where the exponent is 0), d/dexponent = a^exponent · ln a
    (0 where a = 0 and exponent ≥ 0; NaN for a negative base, as in PyTorch)."""
    a, b = operands(a, exponent)
    if a._data.dtype.kind in "iu" and np.any(b._data < 0):
        raise DtypeError("pow: integers to negative integer powers are not allowed (as in PyTorch); use a float "
                         "tensor")
    out = a._data ** b._data

    def backward(g: np.ndarray) -> tuple:
        A, B = a._data, b._data
        ga = gb = None
        if a.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                ga = g * np.where(B == 0, 0, B * A ** (B - 1))
        if b.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = g * np.where((A == 0) & (B >= 0), 0, out * np.log(A))
        return ga, gb
    return result(out, (a, b), backward)


def neg(a: Tensor) -> Tensor:
    return result(-a._data, (a,), lambda g: (-g,))


negative = neg


@_broadcasting
def maximum(a: Any, b: Any) -> Tensor:
    """The elementwise larger; a tie splits the gradient in halves (as in PyTorch)."""
    return _pick_larger(a, b, np.maximum)


@_broadcasting
def minimum(a: Any, b: Any) -> Tensor:
    return _pick_larger(a, b, np.minimum)


def _pick_larger(a: Any, b: Any, pick: Any) -> Tensor:
    a, b = operands(a, b)
    out = pick(a._data, b._data)

    def backward(g: np.ndarray) -> tuple:
        share_a = (a._data == out) * np.where(a._data == b._data, 0.5, 1.0).astype(g.dtype)
        return (g * share_a if a.requires_grad else None, g * (1 - share_a) if b.requires_grad else None)
    return result(out, (a, b), backward)


# ------------------------------------------------------------------------------------------ math functions

def exp(a: Any) -> Tensor:
    a = floating(a)
    out = np.exp(a._data)
    return result(out, (a,), lambda g: (g * out,))


def expm1(a: Any) -> Tensor:
    a = floating(a)
    out = np.expm1(a._data)
    return result(out, (a,), lambda g: (g * (out + 1),))


def log(a: Any) -> Tensor:
    a = floating(a)
    return result(np.log(a._data), (a,), lambda g: (g / a._data,))


def log1p(a: Any) -> Tensor:
    a = floating(a)
    return result(np.log1p(a._data), (a,), lambda g: (g / (1 + a._data),))


def log2(a: Any) -> Tensor:
    a = floating(a)
    return result(np.log2(a._data), (a,), lambda g: (g / (a._data * math.log(2)),))


def log10(a: Any) -> Tensor:
    a = floating(a)
    return result(np.log10(a._data), (a,), lambda g: (g / (a._data * math.log(10)),))


def sqrt(a: Any) -> Tensor:
    a = floating(a)
    out = np.sqrt(a._data)
    return result(out, (a,), lambda g: (g / (2 * out),))


def rsqrt(a: Any) -> Tensor:
    """1 / √a; d/da = −½ a^(−3/2)."""
    a = floating(a)
    out = 1 / np.sqrt(a._data)
    return result(out, (a,), lambda g: (g * -0.5 * out * out * out,))


def square(a: Any) -> Tensor:
    a = as_tensor(a)
    return result(a._data * a._data, (a,), lambda g: (2 * g * a._data,))


def reciprocal(a: Any) -> Tensor:
    a = floating(a)
    out = 1 / a._data
    return result(out, (a,), lambda g: (-g * out * out,))


def abs(a: Any) -> Tensor:
    a = as_tensor(a)
    return result(np.abs(a._data), (a,), lambda g: (g * np.sign(a._data),))


def sign(a: Any) -> Tensor:
    """−1, 0 or 1 (gradient 0)."""
    a = as_tensor(a)
    return result(np.sign(a._data), (a,), lambda g: (np.zeros_like(g),))


def sin(a: Any) -> Tensor:
    a = floating(a)
    return result(np.sin(a._data), (a,), lambda g: (g * np.cos(a._data),))


def cos(a: Any) -> Tensor:
    a = floating(a)
    return result(np.cos(a._data), (a,), lambda g: (-g * np.sin(a._data),))


def tan(a: Any) -> Tensor:
    a = floating(a)
    out = np.tan(a._data)
    return result(out, (a,), lambda g: (g * (1 + out * out),))


def erf(a: Any) -> Tensor:
    """The error function (2/√π) ∫₀ᵃ e^(−t²) dt; d/da = (2/√π) e^(−a²) (values from ``activations.erf_array``)."""
    from .activations import erf_array
    a = floating(a)
    return result(erf_array(a._data), (a,), lambda g: (g * (2 / math.sqrt(math.pi)) * np.exp(-a._data * a._data),))


def _rounding(fn: Any) -> Any:
    def op(a: Any) -> Tensor:
        a = as_tensor(a)
        return result(fn(a._data), (a,), lambda g: (np.zeros_like(g),))  # piecewise constant: gradient 0
    op.__name__ = op.__qualname__ = fn.__name__
    op.__doc__ = f"{fn.__name__} of each element (gradient 0, as in PyTorch)."
    return op


floor, ceil, trunc = _rounding(np.floor), _rounding(np.ceil), _rounding(np.trunc)


def round(a: Any, decimals: int = 0) -> Tensor:
    """Round half to even (as PyTorch and NumPy), to ``decimals`` places (gradient 0)."""
    a = as_tensor(a)
    return result(np.round(a._data, decimals), (a,), lambda g: (np.zeros_like(g),))


def clamp(a: Any, min: Any = None, max: Any = None) -> Tensor:
    """Clamp to [min, max]; the gradient passes where min ≤ a ≤ max (as ``torch.clamp``)."""
    a = as_tensor(a)
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    low, high = array_of(min), array_of(max)
    out = np.clip(a._data, low, high)
    if out.dtype != a._data.dtype and a._data.dtype.kind == "f":
        out = out.astype(a._data.dtype)

    def backward(g: np.ndarray) -> tuple:
        inside = np.ones(a._data.shape, dtype=bool)
        if low is not None:
            inside &= a._data >= low
        if high is not None:
            inside &= a._data <= high
        return (g * inside,)
    return result(out, (a,), backward)


clip = clamp


def where(condition: Any, a: Any = None, b: Any = None) -> Any:
    """Elements of ``a`` where ``condition``, else of ``b``; ``where(condition)`` alone: the indices of the True
    elements, one tensor per dim (as ``nonzero(as_tuple=True)``)."""
    if a is None and b is None:
        return tuple(_wrap(i.astype(np.int64)) for i in np.nonzero(array_of(condition)))
    cond = np.asarray(array_of(condition), dtype=bool)
    a, b = operands(a, b)

    def backward(g: np.ndarray) -> tuple:
        zero = np.zeros((), dtype=g.dtype)
        return (np.where(cond, g, zero) if a.requires_grad else None,
                np.where(cond, zero, g) if b.requires_grad else None)
    return result(np.where(cond, a._data, b._data), (a, b), backward)


# ------------------------------------------------------------------------------------------ comparisons and logic
# Elementwise, bool tensors, no graph (as in PyTorch).

def _compare(ufunc: Any) -> Any:
    def op(a: Any, b: Any) -> Tensor:
        a, b = operands(a, b)
        return _wrap(ufunc(a._data, b._data))
    op.__name__ = op.__qualname__ = ufunc.__name__
    op.__doc__ = f"a {ufunc.__name__} b, elementwise, as a bool tensor."
    return op


lt, le, gt, ge = _compare(np.less), _compare(np.less_equal), _compare(np.greater), _compare(np.greater_equal)
_equal, _not_equal = _compare(np.equal), _compare(np.not_equal)


def eq(a: Any, b: Any) -> Tensor | bool:
    """a == b elementwise (a bool tensor); comparing with None or a non-number is False, as in PyTorch."""
    if b is None or isinstance(b, (str, bytes, dict, set)):
        return False
    return _equal(a, b)


def ne(a: Any, b: Any) -> Tensor | bool:
    if b is None or isinstance(b, (str, bytes, dict, set)):
        return True
    return _not_equal(a, b)


def equal(a: Tensor, b: Tensor) -> bool:
    """Whether a and b have one shape and equal elements."""
    return a._data.shape == b._data.shape and bool(np.array_equal(a._data, b._data))


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(np.allclose(array_of(a), array_of(b), rtol, atol, equal_nan))


def isclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    return _wrap(np.isclose(array_of(a), array_of(b), rtol, atol, equal_nan))


def logical(ufunc: Any, a: Any, b: Any) -> Tensor:
    """``& | ^`` on bool (or integer) tensors."""
    a, b = operands(a, b)
    if a._data.dtype.kind == "f":
        raise DtypeError(f"{ufunc.__name__} is defined for bool and integer tensors, not {a._data.dtype}")
    return _wrap(ufunc(a._data, b._data))


def logical_and(a: Any, b: Any) -> Tensor:
    return _wrap(np.logical_and(array_of(a), array_of(b)))


def logical_or(a: Any, b: Any) -> Tensor:
    return _wrap(np.logical_or(array_of(a), array_of(b)))


def logical_not(a: Any) -> Tensor:
    return _wrap(np.logical_not(array_of(a)))


def bitwise_not(a: Tensor) -> Tensor:
    """``~a``: logical not of a bool tensor, bitwise not of an integer one."""
    if a._data.dtype.kind == "f":
        raise DtypeError(f"~ is defined for bool and integer tensors, not {a._data.dtype}")
    return _wrap(np.invert(a._data))


def isnan(a: Any) -> Tensor:
    return _wrap(np.isnan(array_of(a)))


def isinf(a: Any) -> Tensor:
    return _wrap(np.isinf(array_of(a)))


def isfinite(a: Any) -> Tensor:
    return _wrap(np.isfinite(array_of(a)))


# ------------------------------------------------------------------------------------------ in place
# ``target ← op(target, …)`` through ``tensor._inplace``: checked (leaves that require grad only under no_grad),
# recorded in the graph when needed, and stamped for the version check of nodes that saved the target.

def add_(target: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return _inplace(target, add, other, alpha=alpha)


def sub_(target: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    return _inplace(target, sub, other, alpha=alpha)


def mul_(target: Tensor, other: Any) -> Tensor:
    return _inplace(target, mul, other)


def div_(target: Tensor, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    return _inplace(target, div, other, rounding_mode=rounding_mode)


def pow_(target: Tensor, exponent: Any) -> Tensor:
    return _inplace(target, pow, exponent)


def neg_(target: Tensor) -> Tensor:
    return _inplace(target, neg)


def clamp_(target: Tensor, min: Any = None, max: Any = None) -> Tensor:
    return _inplace(target, clamp, min, max)


def _copied(target: Tensor, src: Any) -> Tensor:
    """``src`` broadcast to ``target``'s shape in its dtype; the gradient goes to ``src`` only."""
    src = as_tensor(src)
    if src._data.dtype != target._data.dtype:
        src = cast(src, target._data.dtype) if target._data.dtype.kind == "f" else _wrap(
            src._data.astype(target._data.dtype))
    out = np.broadcast_to(src._data, target._data.shape)
    return result(out, (target, src), lambda g: (np.zeros_like(g), g))  # the previous values get 0, as in torch


def copy_(target: Tensor, src: Any) -> Tensor:
    """Copy ``src`` (broadcast, cast) into ``target``."""
    return _inplace(target, _copied, src)


def _filled(target: Tensor, value: Any) -> Tensor:
    if isinstance(value, Tensor):
        if value._data.size != 1:
            raise ValueError(f"fill_ takes a number or a one-element tensor, got shape {value._data.shape}")
        return _copied(target, value.reshape(()))
    return result(np.full(target._data.shape, value, dtype=target._data.dtype), (target,),
                  lambda g: (np.zeros_like(g),))


def fill_(target: Tensor, value: Any) -> Tensor:
    """Set every element to ``value`` (a number or a one-element tensor)."""
    return _inplace(target, _filled, value)


def zero_(target: Tensor) -> Tensor:
    return _inplace(target, _filled, 0)


def apply_(target: Tensor, op: Any, *args: Any) -> Tensor:
    """``target ← op(target, *args)`` in place for any op (``relu_``, ``exp_`` …)."""
    return _inplace(target, op, *args)

