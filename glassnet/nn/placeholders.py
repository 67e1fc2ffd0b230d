"""Placeholders for the state a file replaces: how ``gn.load`` builds modules without allocating their weights.

While ``building()`` is active in a thread, a placeholder stands in for every array that a constructor would fill
only for the file to replace it: the random draws of glassnet's generator, and the parameters and persistent buffers
that built-in layers create with ``empty`` and ``full`` (ones, zeros, sinusoids). A placeholder is a zero-stride
view of one element, of the right shape and dtype: nothing is allocated or computed for it, so ``gn.load`` can
compare a huge architecture's shapes with the file's before it allocates anything. ``nn.init`` leaves placeholders
as they are, and ``deepcopy`` copies a module (a Transformer's layer) without copying them.
"""
from __future__ import annotations

import copy
import threading
from contextlib import contextmanager
from typing import Any, Iterator, TypeVar

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import tensor as _engine
from .module import Module

__all__ = ["building", "placeholder", "is_placeholder", "empty", "full", "deepcopy"]

M = TypeVar("M", bound=Module)

_BASES: dict[int, np.ndarray] = {}  # data address → the base element of every live placeholder


class _Placeholder(np.ndarray):
    """A placeholder whose every operation gives another one (of the broadcast shape and result dtype) without
    computing anything: ``gain * rng.uniform(...)`` in an initialiser stays a placeholder."""

    def astype(self, dtype: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        return placeholder(self.shape, dtype)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs.get("out") is not None or ufunc.nout != 1:
            plain = [np.asarray(i) if isinstance(i, _Placeholder) else i for i in inputs]
            return getattr(ufunc, method)(*plain, **kwargs)
        shape = np.broadcast_shapes(*(np.shape(i) for i in inputs))
        dtype = np.result_type(*(i.dtype if isinstance(i, np.ndarray) else i for i in inputs))
        return placeholder(shape, dtype)


def placeholder(shape: Any, dtype: Any = np.float64) -> np.ndarray:
    """A zero-stride array of ``shape`` and ``dtype`` over one element (valid until the load that made it ends)."""
    shape = tuple(int(n) for n in np.atleast_1d(shape)) if shape is not None else ()
    base = np.zeros(1, dtype=dtype)
    _BASES[base.ctypes.data] = base
    return as_strided(base, shape, (0,) * len(shape), writeable=True).view(_Placeholder)


def is_placeholder(array: np.ndarray) -> bool:
    """Whether ``array`` (or a view of it with the same strides, e.g. ``np.asarray``'s) is a placeholder."""
    return not any(array.strides) and array.ctypes.data in _BASES


def _building_here() -> bool:
    generator = _engine.default_generator
    return isinstance(generator, _ShapeOnlyInThisThread) and generator.thread == threading.get_ident()


def empty(shape: Any, dtype: Any) -> np.ndarray:
    """A new parameter's or persistent buffer's array, to be filled by its initialiser (``np.empty``), or a
    placeholder while ``building()``."""
    return placeholder(shape, dtype) if _building_here() else np.empty(shape, dtype)


def full(shape: Any, value: float, dtype: Any) -> np.ndarray:
    """A new parameter's or persistent buffer's array of ``value`` (``np.full``), or a placeholder while
    ``building()``."""
    return placeholder(shape, dtype) if _building_here() else np.full(shape, value, dtype)


def deepcopy(module: M) -> M:
    """``copy.deepcopy(module)``, each of whose placeholders becomes a new one rather than a copy of its size."""
    memo: dict[int, Any] = {}
    for tensor in (*module.parameters(), *module.buffers()):
        if is_placeholder(tensor._data):
            memo[id(tensor._data)] = placeholder(tensor._data.shape, tensor._data.dtype)
    return copy.deepcopy(module, memo)


class _ShapeOnlyRandom:
    """Stands in for glassnet's NumPy generator while a file's modules are built: random draws of a given size come
    out as placeholders (nothing drawn: the global random stream is left as it was); other draws come from a private
    generator. Once the modules are built (``active`` False), a module that kept this object draws from glassnet's
    generator through it."""

    SIZE_AT = {"uniform": 2, "normal": 2, "standard_normal": 0, "random": 0}  # the position of ``size``

    def __init__(self) -> None:
        self.active = True
        self._private = np.random.default_rng(0)

    def _draw(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if not self.active:
            return getattr(_engine.default_rng(), method)(*args, **kwargs)
        at = self.SIZE_AT[method]
        size = kwargs.get("size", args[at] if len(args) > at else None)
        if size is None:
            return getattr(self._private, method)(*args, **kwargs)
        return placeholder(size, kwargs.get("dtype", args[1] if at == 0 and len(args) > 1 else np.float64))

    def uniform(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("uniform", *args, **kwargs)

    def normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("normal", *args, **kwargs)

    def standard_normal(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("standard_normal", *args, **kwargs)

    def random(self, *args: Any, **kwargs: Any) -> Any:
        return self._draw("random", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._private if self.active else _engine.default_rng(), name)


class _ShapeOnlyInThisThread:
    """glassnet's default generator as seen while one thread builds a file's modules: that thread draws shapes
    only; every other thread draws from the real generator, as before."""

    def __init__(self, real: Any) -> None:
        self._real, self.thread, self._shapes = real, threading.get_ident(), _ShapeOnlyRandom()

    @property
    def rng(self) -> Any:
        return self._shapes if threading.get_ident() == self.thread else self._real.rng

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


_lock = threading.RLock()


@contextmanager
def building() -> Iterator[None]:
    """While loading: modules built in this thread get placeholders for what the file replaces (one load at a
    time; a load inside a constructor of a load joins the outer one). Placeholders are valid until it ends."""
    with _lock:
        current = _engine.default_generator
        if isinstance(current, _ShapeOnlyInThisThread):
            yield
            return
        stand_in = _ShapeOnlyInThisThread(current)
        _engine.default_generator = stand_in
        try:
            yield
        finally:
            _engine.default_generator = current
            stand_in._shapes.active = False
            _BASES.clear()
