"""New tensors: from data (``tensor`` copies, ``as_tensor``/``from_numpy`` share), filled (zeros, ones, full, eye,
arange, linspace), random (rand, randn, randint, randperm, from glassnet's seeded generator or ``generator=``), the
``*_like`` forms, and the in-place random fills ``normal_`` / ``uniform_``.

Every creation function takes PyTorch's ``dtype=``, ``device=`` (the CPU only) and ``requires_grad=``.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..tensor import (DtypeError, Generator, Tensor, _as_array, _as_dtype, _check_device, _inplace, _wrap,
                      default_rng, get_default_dtype, result, tensor)

__all__ = ["tensor", "as_tensor", "asarray", "from_numpy", "zeros", "ones", "empty", "full", "eye", "arange",
           "linspace", "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "empty_like", "full_like",
           "rand_like", "randn_like", "randint_like", "normal", "multinomial", "normal_", "uniform_"]


def _made(array: np.ndarray, requires_grad: bool, device: Any) -> Tensor:
    _check_device(device)
    out = _wrap(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _shape(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    shape = tuple(int(n) for n in size)
    if any(n < 0 for n in shape):
        raise ValueError(f"negative dimension in size {shape}")
    return shape


def _float_dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else _as_dtype(dtype)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a Tensor, sharing the memory of an ndarray (or returning a Tensor itself) when the dtype fits."""
    _check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None or _as_dtype(dtype) == data._data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _as_dtype(dtype) == data.dtype):
        return _wrap(data)
    return _wrap(_as_array(data, dtype))


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """The ndarray as a Tensor sharing its memory (its dtype kept, as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects an ndarray, got {type(array).__name__}")
    return _wrap(array)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.zeros(_shape(size), _float_dtype(dtype)), requires_grad, device)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.ones(_shape(size), _float_dtype(dtype)), requires_grad, device)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.empty(_shape(size), _float_dtype(dtype)), requires_grad, device)


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value``; its dtype follows the value (bool, int64 or the default float) unless given."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, bool) else np.int64 if isinstance(fill_value, int) else \
            get_default_dtype()
    return _made(np.full(_shape((size,) if isinstance(size, int) else tuple(size)), fill_value, _as_dtype(dtype)),
                 requires_grad, device)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _made(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad, device)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, … below end; int64 when all three are integers, else the default float dtype."""
    if end is None:
        start, end = 0, start
    numbers = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = np.int64 if all(isinstance(v, (int, np.integer)) for v in numbers) else get_default_dtype()
    return _made(np.arange(*numbers, dtype=_as_dtype(dtype)), requires_grad, device)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    return _made(np.linspace(start, end, steps, dtype=np.float64).astype(_float_dtype(dtype)), requires_grad, device)


def rand(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    dtype = _float_dtype(dtype)
    return _made(default_rng(generator).random(_shape(size)).astype(dtype, copy=False), requires_grad, device)


def randn(*size: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    dtype = _float_dtype(dtype)
    return _made(default_rng(generator).standard_normal(_shape(size)).astype(dtype, copy=False), requires_grad,
                 device)


def randint(low: int, high: int | None = None, size: Sequence[int] = (), *, generator: Generator | None = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` starts at 0), int64 unless given."""
    if high is None or isinstance(high, (tuple, list)):
        low, high, size = 0, low, size if high is None else high
    array = default_rng(generator).integers(low, high, _shape(tuple(size)), dtype=np.int64)
    return _made(array.astype(_as_dtype(dtype or np.int64), copy=False), requires_grad, device)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random order of 0 … n−1 (int64)."""
    return _made(default_rng(generator).permutation(n).astype(_as_dtype(dtype or np.int64)), requires_grad, device)


def _like(a: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    return a._data.shape, a._data.dtype if dtype is None else _as_dtype(dtype)


def zeros_like(a: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(a, dtype)
    return _made(np.zeros(shape, dtype), requires_grad, device)


def ones_like(a: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(a, dtype)
    return _made(np.ones(shape, dtype), requires_grad, device)


def empty_like(a: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(a, dtype)
    return _made(np.empty(shape, dtype), requires_grad, device)


def full_like(a: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dtype = _like(a, dtype)
    return _made(np.full(shape, fill_value, dtype), requires_grad, device)


def _float_like(a: Tensor, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    shape, dtype = _like(a, dtype)
    if dtype.kind != "f":
        raise DtypeError(f"random floats need a floating dtype, got {dtype}")
    return shape, dtype


def rand_like(a: Tensor, *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    shape, dtype = _float_like(a, dtype)
    return rand(*shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(a: Tensor, *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    shape, dtype = _float_like(a, dtype)
    return randn(*shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(a: Tensor, low: int, high: int | None = None, *, generator: Generator | None = None,
                 dtype: Any = None, device: Any = None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, a._data.shape, generator=generator, dtype=dtype or a._data.dtype, device=device)


def normal(mean: Any, std: Any = 1.0, size: Sequence[int] | None = None, *, generator: Generator | None = None,
           dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Draws from N(mean, std²): of ``size`` for number arguments, else of the (broadcast) shape of the tensors."""
    mean_, std_ = (m._data if isinstance(m, Tensor) else m for m in (mean, std))
    shape = tuple(size) if size is not None else np.broadcast_shapes(np.shape(mean_), np.shape(std_))
    like = next((m._data.dtype for m in (mean, std) if isinstance(m, Tensor)), None)
    array = default_rng(generator).normal(mean_, std_, shape).astype(_float_dtype(dtype or like))
    return _made(array, requires_grad, device)


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """``num_samples`` class indices per row of (unnormalised, non-negative) ``probs`` (int64, shape (…, n))."""
    weights = np.asarray(probs._data if isinstance(probs, Tensor) else probs, dtype=np.float64)
    rows = weights.reshape(-1, weights.shape[-1])
    if np.any(rows < 0) or np.any(rows.sum(1) <= 0):
        raise ValueError("multinomial: probabilities must be non-negative with a positive sum in every row")
    if not replacement and num_samples > rows.shape[1]:
        raise ValueError(f"multinomial: cannot draw {num_samples} of {rows.shape[1]} categories without replacement")
    rng = default_rng(generator)
    picks = np.stack([rng.choice(rows.shape[1], num_samples, replace=replacement, p=row / row.sum()) for row in rows])
    return _wrap(picks.reshape(weights.shape[:-1] + (num_samples,)).astype(np.int64))


def _drawn(target: Tensor, array: np.ndarray) -> Tensor:
    """New values for ``target`` (no gradient flows to its previous ones)."""
    return result(array.astype(target._data.dtype, copy=False), (target,), lambda g: (np.zeros_like(g),))


def normal_(target: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill ``target`` in place with draws from N(mean, std²)."""
    draws = default_rng(generator).normal(mean, std, target._data.shape)
    return _inplace(target, _drawn, draws)


def uniform_(target: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    """Fill ``target`` in place with draws from U(a, b)."""
    draws = default_rng(generator).uniform(a, b, target._data.shape)
    return _inplace(target, _drawn, draws)
