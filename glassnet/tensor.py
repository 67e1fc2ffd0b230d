"""The Tensor and its reverse-mode autodiff engine.

A Tensor wraps a NumPy array (``._data``; the public ``.data`` is, as in PyTorch, a detached Tensor sharing it). An op that builds a Tensor from others records its parents and a
``backward`` function that maps the output's gradient to one gradient per parent (see ``ops.py``: each op's
forward and backward stand side by side). ``Tensor.backward()`` walks the graph from the output to the leaves in
reverse topological order (newest node first, iteratively: no recursion limit), sums gradients that arrive along several paths
(the multiple-path chain rule), undoes broadcasting in one place, and accumulates into the leaves' ``.grad``.
A Parameter's first gradient goes straight into its optimizer's flat gradient buffer (``claim_gradient``).
"""
from __future__ import annotations

import functools
import itertools
import threading
from heapq import heappop, heappush
from sys import getrefcount
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "Tensor", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "set_default_dtype", "get_default_dtype",
    "manual_seed", "default_rng", "Generator", "default_generator", "GraphError",
]

_default_dtype = np.dtype(np.float32)

class _ThreadState(threading.local):
    grad_enabled = True  # per thread, as in PyTorch: no_grad() in one thread leaves the others recording


_thread = _ThreadState()
_creation = itertools.count(1)  # creation number of graph nodes: newest first is a reverse topological order


class GraphError(RuntimeError):
    """A backward pass that cannot run: freed graph, non-scalar output without a gradient, no grad required."""


# ---------------------------------------------------------------------------------------------------- settings

def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype of new tensors and parameters (``np.float32`` by default, ``np.float64`` for checks)."""
    global _default_dtype
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"default dtype must be a floating type such as np.float32 or np.float64, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    return _default_dtype


class Generator:
    """A seeded source of random numbers, PyTorch's ``torch.Generator``: ``gn.Generator().manual_seed(0)`` can be
    passed as ``generator=`` wherever randomness is drawn; ``default_generator`` serves everything else."""

    def __init__(self, device: Any = "cpu") -> None:
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed``; returns the generator (as torch does)."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed glassnet's default generator (weight initialisation, dropout, shuffling in ``fit``)."""
    return default_generator.manual_seed(seed)


def default_rng(generator: Generator | None = None) -> np.random.Generator:
    """The NumPy generator of ``generator``, or of the default generator that ``manual_seed`` seeds."""
    return (generator or default_generator).rng


def is_grad_enabled() -> bool:
    return _thread.grad_enabled


class _GradMode:
    """Context manager and decorator that sets whether ops record the graph."""

    enabled: bool

    def __enter__(self) -> None:
        self._previous, _thread.grad_enabled = _thread.grad_enabled, self.enabled

    def __exit__(self, *exc: object) -> None:
        _thread.grad_enabled = self._previous

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """``with gn.no_grad():`` ops inside record no graph (evaluation, weight updates)."""

    enabled = False


class enable_grad(_GradMode):
    enabled = True


# ---------------------------------------------------------------------------------------------------- Tensor

def _freed(grad: np.ndarray) -> tuple:
    raise GraphError(
        "Trying to backward through the graph a second time: its intermediate results were freed by the first "
        "backward(). Call backward(retain_graph=True) the first time, or recompute the forward pass.")


class Tensor:
    """An n-dimensional array that can record the ops applied to it and compute gradients.

    ``data`` is the ndarray; ``grad`` is a Tensor of the same shape (or None) filled by ``backward()``.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_parents", "_backward", "_seq", "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor goes to Tensor.__radd__
    _grad_store: np.ndarray | None = None  # where a first gradient is written (see claim_gradient); Parameters have one

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = _as_array(data, dtype)
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self._data.dtype}")
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Callable | None = None
        self._seq = 0

    # ---- array protocol and properties
    @property
    def data(self) -> Tensor:
        """The same values as a Tensor cut from the graph, sharing this tensor's memory (PyTorch's ``.data``):
        ``p.data.add_(…)`` changes ``p`` without recording anything. Assigning a Tensor or array replaces the
        values' array."""
        return _wrap(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value._data if isinstance(value, Tensor) else np.asarray(value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    def numpy(self) -> np.ndarray:
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def item(self) -> float | int | bool:
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __len__(self) -> int:
        return len(self._data)

    def __float__(self) -> float:
        return float(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", precision=4, prefix="tensor(")
        extras = ""
        if self._data.dtype != _default_dtype:
            extras += f", dtype={self._data.dtype}"
        if self.requires_grad:
            extras += ", requires_grad=True"
        return f"tensor({body}{extras})"

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor(self._data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, got dtype {self._data.dtype}")
        self.requires_grad = requires_grad
        return self

    def astype(self, dtype: Any) -> Tensor:
        from .ops import cast
        return cast(self, dtype)

    # ---- the engine
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

        ``grad`` is d(loss)/d(self) (defaults to 1 for a one-element tensor). The graph's intermediate results are
        freed afterwards unless ``retain_graph``.
        """
        if not self.requires_grad:
            raise GraphError("backward() on a tensor that does not require grad: no input of the computation "
                             "has requires_grad=True (or it ran inside no_grad()).")
        if self._backward is _freed:
            _freed(None)
        if grad is None:
            if self._data.size != 1:
                raise GraphError(f"backward() without a gradient needs a one-element output, got shape "
                                 f"{self._data.shape}; pass grad= of that shape or reduce (e.g. .sum()) first.")
            grad = _one(self._data.dtype) if self._data.ndim == 0 else np.ones(self._data.shape, self._data.dtype)
        else:
            grad = np.asarray(grad._data if isinstance(grad, Tensor) else grad, dtype=self._data.dtype)
            if grad.shape != self._data.shape:
                raise ValueError(f"backward(grad): grad has shape {grad.shape}, the tensor has {self._data.shape}")
        if self._backward is None:  # a leaf: d(self)/d(self) = 1
            _accumulate(self, grad, grad)  # copied: the caller may still hold (and change) ``grad``
            return
        # Process nodes newest first: every consumer of a node was created after it, so by the time a node is
        # popped, all the gradient that flows into it has arrived (a max-heap on the creation number).
        grads = {id(self): grad}
        heap = [(-self._seq, self)]
        while heap:
            node = heappop(heap)[1]
            g = grads.pop(id(node))
            parents = node._parents
            parent_grads = node._backward(g)
            if not retain_graph:
                node._parents, node._backward = (), _freed
            for parent, pg in zip(parents, parent_grads):
                if pg is None or not parent.requires_grad:
                    continue
                if parent._backward is None:
                    _accumulate(parent, pg, g)
                    continue
                if pg.shape != parent._data.shape:
                    pg = _unbroadcast(pg, parent._data.shape)
                key = id(parent)
                if key in grads:
                    grads[key] = grads[key] + pg
                else:
                    grads[key] = pg
                    heappush(heap, (-parent._seq, parent))


@functools.lru_cache(maxsize=None)
def _one(dtype: np.dtype) -> np.ndarray:
    """The 0-d gradient 1 that starts a backward pass from a scalar, made once per dtype and read-only (a backward
    function must never change its upstream gradient in place)."""
    one = np.ones((), dtype)
    one.flags.writeable = False
    return one


def _accumulate(leaf: Tensor, grad: np.ndarray, upstream: np.ndarray | None) -> None:
    """Add ``grad`` into ``leaf.grad``; never keep an array that another tensor may also hold.

    A first gradient is copied into the leaf's gradient store when it is free (see `claim_gradient`; ops that can
    write it there themselves do so and return None for the leaf).
    """
    if grad.shape != leaf._data.shape:
        grad = _unbroadcast(grad, leaf._data.shape)
    if grad.dtype != leaf._data.dtype:
        grad = grad.astype(leaf._data.dtype)
    current = leaf.grad
    if current is not None:
        if current._data is leaf._grad_store:
            current._data += grad  # the store is the leaf's own: add in place, as PyTorch does
        else:
            current._data = current._data + grad
        return
    store = claim_gradient(leaf, grad.dtype)
    if store is not None:
        store[...] = grad
        return
    leaf.grad = _wrap(grad.copy() if grad is upstream or grad.base is not None else grad)


def claim_gradient(leaf: Tensor, dtype: np.dtype) -> np.ndarray | None:
    """The leaf's gradient store, for a backward function to write the leaf's first gradient into (``out=``),
    returning None for the leaf; or None when it cannot.

    The store is a view of the leaf's optimizer's flat gradient buffer, so that ``step`` finds every gradient in
    place, and writing there saves a copy (for a large layer, a pass over its weights per step). It is claimed, and
    becomes ``leaf.grad``, when the leaf has no gradient yet, ``dtype`` is the store's and nobody else holds the
    store (as PyTorch's AccumulateGrad reuses a buffer only when its use count says so). Call it with no reference
    to the store of your own, or the store does not look free.
    """
    store = leaf._grad_store
    if (store is None or leaf.grad is not None or store.dtype != dtype
            or getrefcount(store) != _FREE_STORE_REFS):
        return None
    leaf.grad = _wrap(store)
    return store


def _free_store_refs() -> int:
    """What ``claim_gradient`` counts for a store that only its leaf holds: the leaf's reference, the local name
    and getrefcount's argument (measured, as the count depends on the interpreter; same steps as there)."""
    leaf = _Holder()
    leaf._grad_store = np.empty(0)
    store = leaf._grad_store
    return getrefcount(store)


class _Holder:
    __slots__ = ("_grad_store",)


_FREE_STORE_REFS = _free_store_refs()


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so that it has ``shape``."""
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


def _wrap(data: np.ndarray) -> Tensor:
    """A constant Tensor around ``data`` without checks or copies (internal fast path)."""
    out = Tensor.__new__(Tensor)
    out._data, out.grad, out.requires_grad, out._parents, out._backward, out._seq = data, None, False, (), None, 0
    return out


Tensor._wrap = staticmethod(_wrap)


def result(data: np.ndarray, parents: tuple[Tensor, ...], backward: Callable[[np.ndarray], Sequence]) -> Tensor:
    """The output of an op: records ``parents`` and ``backward`` when a parent needs a gradient.

    ``backward(g)`` receives d(loss)/d(output) and returns one array (or None) per parent, in order; shapes may be
    broadcast shapes: the engine sums them back to each parent's shape.
    """
    out = Tensor.__new__(Tensor)
    out._data, out.grad = data, None
    if _thread.grad_enabled:
        for parent in parents:
            if parent.requires_grad:
                out.requires_grad, out._parents, out._backward, out._seq = True, parents, backward, next(_creation)
                return out
    out.requires_grad, out._parents, out._backward, out._seq = False, (), None, 0
    return out


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=dtype, copy=None)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    array = np.asarray(data)
    if array.dtype == np.float64:  # Python floats take the default dtype, as in PyTorch
        array = array.astype(_default_dtype)
    elif array.dtype.kind not in "biuf":
        raise TypeError(f"cannot make a tensor from {type(data).__name__} data of dtype {array.dtype}")
    return array


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new Tensor from a number, nested list, ndarray or Tensor (Python floats become the default dtype)."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; Python numbers take the dtype of ``like`` so float32 stays float32."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, (int, float, bool)):
        return _wrap(np.asarray(value, dtype=like._data.dtype))
    return Tensor(value)
