"""The Tensor and its reverse-mode autodiff engine.

A Tensor wraps a NumPy array (``._data``; the public ``.data`` is, as in PyTorch, a detached Tensor sharing it). An
op that builds a Tensor from others records its parents and a ``backward`` function that maps the output's gradient
to one gradient per parent (see ``glassnet/ops/``: each op's forward and backward stand side by side; the Tensor's
methods below are one-line calls of those ops). ``Tensor.backward()`` walks the graph from the output to the leaves
in reverse topological order (newest node first, iteratively: no recursion limit), sums gradients that arrive along
several paths (the multiple-path chain rule), undoes broadcasting in one place, and accumulates into the leaves'
``.grad`` (a leaf's first gradient may go straight into a buffer that the leaf offers: ``autograd.gradient_buffer``).

In-place changes are checked, never silently wrong (PyTorch's version counters, see "in-place changes" below): an
in-place op stamps the memory it changed with the creation clock, and a backward function whose saved arrays were
changed after its node was recorded raises instead of computing a wrong gradient.
"""
from __future__ import annotations

import builtins
import functools
import itertools
import threading
import types
import weakref
from heapq import heappop, heappush
from typing import Any, Callable, Iterator, NamedTuple, Sequence

import numpy as np

__all__ = [
    "Tensor", "tensor", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "set_default_dtype", "get_default_dtype", "manual_seed", "default_rng", "Generator",
    "default_generator", "GraphError", "ShapeError", "DtypeError", "DeviceError", "device", "cuda", "accelerator",
    "result_type", "promote_types", "can_cast", "is_tensor", "is_floating_point", "numel",
    "float16", "float32", "float64", "half", "double", "int8", "int16", "int32", "int64", "uint8", "short", "long",
    "bool_", "dtype",
]

_default_dtype = np.dtype(np.float32)

class _ThreadState(threading.local):
    grad_enabled = True  # per thread, as in PyTorch: no_grad() in one thread leaves the others recording
    inference = False


_thread = _ThreadState()
_creation = itertools.count(1)  # creation number of graph nodes: newest first is a reverse topological order


# ---------------------------------------------------------------------------------------------------- errors

class GraphError(RuntimeError):
    """A backward pass that cannot run: freed graph, non-scalar output without a gradient, no grad required, an
    input changed in place after it was saved."""


class ShapeError(ValueError, RuntimeError):
    """Shapes that do not fit (PyTorch raises RuntimeError; code written for either class catches it)."""


class DtypeError(TypeError, RuntimeError):
    """A dtype that an op cannot take or produce (PyTorch raises RuntimeError)."""


class DeviceError(RuntimeError, ValueError):
    """A device other than the CPU: glassnet computes with NumPy on the CPU only."""


# ---------------------------------------------------------------------------------------------------- dtypes
# PyTorch's dtype names are NumPy dtypes (``gn.float32 == np.dtype("float32")``), so either spelling works as
# ``dtype=``. The names that shadow Python builtins (float, int, bool) are bound in ``glassnet/__init__.py`` only.

dtype = np.dtype
float16 = half = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = double = np.dtype(np.float64)
int8, int16, int32, int64, uint8 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8))
short, long = int16, int64
bool_ = np.dtype(np.bool_)
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}  # PyTorch's promotion categories: bool < integer < float


def _as_dtype(value: Any) -> np.dtype:
    """A dtype from a NumPy dtype, a NumPy type, a name or a Python type (``float`` is float64, as in PyTorch)."""
    try:
        return np.dtype(value)
    except TypeError:
        raise DtypeError(f"not a dtype: {value!r} (use e.g. gn.float32, gn.int64 or np.float64)") from None


def promote_types(a: Any, b: Any) -> np.dtype:
    """The dtype of an op on tensors of dtypes a and b, both with dimensions (PyTorch's ``promote_types``): the
    higher category wins (bool < integer < float), within a category the wider type."""
    a, b = _as_dtype(a), _as_dtype(b)
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:
        return np.promote_types(a, b)
    return a if ca > cb else b


def _number_dtype(value: Any, dtype: np.dtype) -> np.dtype:
    """The result dtype of a tensor of ``dtype`` with the Python (or NumPy scalar) number ``value``: the tensor's
    dtype unless the number's category is higher (then the default float dtype, or int64)."""
    category = 0 if isinstance(value, (bool, np.bool_)) else 1 if isinstance(value, (int, np.integer)) else \
        2 if isinstance(value, (float, np.floating)) else 3
    if category <= _CATEGORY[dtype.kind]:
        return dtype
    return (bool_, int64, _default_dtype, np.dtype(np.complex64))[category]


def result_type(a: Any, b: Any) -> np.dtype:
    """The dtype of an op on a and b (Tensors, arrays or numbers) by PyTorch's promotion rules: tensors with
    dimensions decide over 0-d tensors, and those over Python numbers, unless the weaker operand is of a higher
    category (an int tensor divided by a float is float; a float64 0-d tensor does not upcast a float32 one)."""
    def rank(x: Any) -> tuple[int, np.dtype | None]:
        if isinstance(x, Tensor):
            x = x._data
            return (2 if x.ndim else 1), x.dtype  # a 0-d op result may hold a NumPy scalar: still a 0-d tensor
        if isinstance(x, np.ndarray):
            return (2 if x.ndim else 1), x.dtype
        return 0, None
    (ra, da), (rb, db) = rank(a), rank(b)
    if da is None and db is None:
        return _number_dtype(b, _number_dtype(a, bool_))
    if da is None:
        return _number_dtype(a, db)
    if db is None:
        return _number_dtype(b, da)
    if ra == rb:
        return promote_types(da, db)
    strong, weak = (da, db) if ra > rb else (db, da)
    return weak if _CATEGORY[weak.kind] > _CATEGORY[strong.kind] else strong


def can_cast(from_: Any, to: Any) -> bool:
    """Whether an in-place op may write a result of dtype ``from_`` into a tensor of dtype ``to`` (PyTorch's rule:
    never to a lower category)."""
    return _CATEGORY[_as_dtype(from_).kind] <= _CATEGORY[_as_dtype(to).kind]


# ---------------------------------------------------------------------------------------------------- devices

class device:
    """``gn.device("cpu")``: the only device glassnet has (NumPy computes on the CPU)."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any = "cpu", index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index
        name = str(type)
        if ":" in name:
            name, _, number = name.partition(":")
            index = int(number)
        _check_device(name)
        self.type, self.index = name, index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and other.type == self.type

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


def _check_device(value: Any) -> None:
    """Raise one clear error for any device but the CPU."""
    if value is None or isinstance(value, device):
        return
    name = str(value).partition(":")[0]
    if name != "cpu":
        raise DeviceError(f"device {str(value)!r} is not available: glassnet runs on the CPU only (NumPy); use "
                          f"'cpu', or pick the device with gn.cuda.is_available(), which is False")


_CPU = device("cpu")
cuda = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0,
                             manual_seed=lambda seed: None, manual_seed_all=lambda seed: None)
accelerator = types.SimpleNamespace(is_available=lambda: False, device_count=lambda: 0)


# ---------------------------------------------------------------------------------------------------- settings

def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype of new tensors and parameters (``np.float32`` by default, ``np.float64`` for checks)."""
    global _default_dtype
    dtype = _as_dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"default dtype must be a floating type such as np.float32 or np.float64, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    return _default_dtype


class Generator:
    """A seeded source of random numbers, PyTorch's ``torch.Generator``: ``gn.Generator().manual_seed(0)`` can be
    passed as ``generator=`` wherever randomness is drawn; ``default_generator`` serves everything else."""

    def __init__(self, device: Any = "cpu") -> None:
        _check_device(device)
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


def is_inference_mode_enabled() -> bool:
    return _thread.inference


class _GradMode:
    """Context manager and decorator that sets whether ops record the graph."""

    enabled: bool = True
    inference: bool = False

    def __enter__(self) -> None:
        self._previous = _thread.grad_enabled, _thread.inference
        _thread.grad_enabled, _thread.inference = self.enabled, self.inference or _thread.inference

    def __exit__(self, *exc: object) -> None:
        _thread.grad_enabled, _thread.inference = self._previous

    def __call__(self, fn: Callable) -> Callable:
        mode = self

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mode._copy():
                return fn(*args, **kwargs)
        return wrapper

    def _copy(self) -> _GradMode:
        copy = object.__new__(type(self))
        copy.enabled, copy.inference = self.enabled, self.inference
        return copy


class no_grad(_GradMode):
    """``with gn.no_grad():`` ops inside record no graph (evaluation, weight updates)."""

    enabled = False


class enable_grad(_GradMode):
    """``with gn.enable_grad():`` record the graph again inside a ``no_grad`` block."""

    enabled = True


class set_grad_enabled(_GradMode):
    """``gn.set_grad_enabled(False)`` switches recording off (for the thread); as a context manager or decorator
    it restores the previous mode afterwards, as in PyTorch."""

    def __init__(self, mode: bool) -> None:
        self._previous = _thread.grad_enabled, _thread.inference
        self.enabled = bool(mode)
        _thread.grad_enabled = self.enabled

    def __enter__(self) -> None:  # the mode is already set by the constructor; __exit__ restores
        pass


class inference_mode(_GradMode):
    """``with gn.inference_mode():`` as ``no_grad`` (the tensors made inside are plain constants);
    ``inference_mode(False)`` leaves the mode unchanged."""

    def __init__(self, mode: bool = True) -> None:
        self.enabled = not mode and _thread.grad_enabled
        self.inference = bool(mode)

    def __enter__(self) -> None:
        self._previous = _thread.grad_enabled, _thread.inference
        if self.inference:
            _thread.grad_enabled, _thread.inference = False, True


# ---------------------------------------------------------------------------------------------------- Tensor

def _freed(grad: np.ndarray) -> tuple:
    raise GraphError(
        "Trying to backward through the graph a second time: its intermediate results were freed by the first "
        "backward(). Call backward(retain_graph=True) the first time, or recompute the forward pass.")


class _Node(NamedTuple):
    """What ``Tensor.grad_fn`` shows: the op that made a tensor (``MulBackward0``) and its inputs' nodes."""

    tensor: Tensor

    def name(self) -> str:
        backward = self.tensor._backward
        op = getattr(backward, "__qualname__", type(backward).__name__).split(".")[0].strip("_")
        if op == "apply_activation":  # named after the activation it applies
            op = next(c.cell_contents.name for c in backward.__closure__ if hasattr(c.cell_contents, "derivative"))
        return _GRAD_FN_NAMES.get(op) or "".join(part[:1].upper() + part[1:] for part in op.split("_")) + "Backward0"

    @property
    def next_functions(self) -> tuple:
        return tuple((p.grad_fn if p._backward is not None else None, 0) for p in self.tensor._parents)

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self.tensor):#x}>"


@functools.lru_cache(maxsize=None)
def _node_class(name: str) -> type:
    """The class of a ``grad_fn`` called ``name`` (``type(y.grad_fn).__name__`` is ``"SumBackward0"``, as in
    PyTorch), one per name."""
    return type(name, (_Node,), {"__slots__": ()})


_GRAD_FN_NAMES = {  # ops whose PyTorch node name is not their own name + "Backward0"
    "scale": "MulBackward0", "getitem": "IndexBackward0", "freed": "FreedBackward0", "assigned": "CopySlices",
    "matmul": "MmBackward0", "cast": "ToCopyBackward0", "concatenate": "CatBackward0", "permute": "PermuteBackward0",
    "reshape": "ViewBackward0", "dense_stack": "AddmmBackward0",
}


# ---------------------------------------------------------------------------------------------------- the engine

def _backward_pass(root: Tensor, gradient: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
                   inputs: Sequence[Tensor] | Tensor | None = None, *, collect: bool = False) -> dict | None:
    """``tensor.backward()``: compute d(root)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``.

    ``gradient`` is d(loss)/d(root) (defaults to 1 for a one-element tensor). The graph's intermediate results are
    freed afterwards unless ``retain_graph`` (nodes that saved nothing stay, as in PyTorch). With ``inputs``, only
    those tensors get gradients; with ``collect`` too (``autograd.grad``), nothing is accumulated and the gradients
    are returned as a dict id → array. A leaf's post-accumulate hooks run once its gradient of this pass is
    complete.
    """
    if create_graph:
        raise NotImplementedError("backward(create_graph=True): glassnet computes first-order gradients only")
    if not root.requires_grad:
        raise GraphError("backward() on a tensor that does not require grad: no input of the computation "
                         "has requires_grad=True (or it ran inside no_grad()).")
    if root._backward is _freed:
        _freed(None)
    data = root._data
    if gradient is None:
        if data.size != 1:
            raise GraphError(f"backward() without a gradient needs a one-element output, got shape "
                             f"{data.shape}; pass a gradient of that shape or reduce (e.g. .sum()) first.")
        grad = _one(data.dtype) if data.ndim == 0 else np.ones(data.shape, data.dtype)
    else:
        grad = np.asarray(gradient._data if isinstance(gradient, Tensor) else gradient, dtype=data.dtype)
        if grad.shape != data.shape:
            raise ShapeError(f"backward(gradient): the gradient has shape {grad.shape}, the tensor has {data.shape}")
    wanted = found = None  # with inputs: their ids, and the gradients found for them
    if inputs is not None:
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        wanted, found = {id(t): t for t in inputs}, {}
    if root._backward is None:  # a leaf: d(self)/d(self) = 1
        if wanted is None:
            _accumulate(root, grad, grad)  # copied: the caller may still hold (and change) ``grad``
            _run_accumulate_hooks(root)
            return None
        if id(root) in wanted:
            found[id(root)] = grad.copy()
        return _delivered(found, inputs, collect)
    last_change = _last_inplace
    retaining = _retaining
    # leaves with post-accumulate hooks: [gradients still to come, gradients in all, leaf], by id
    hooked = _hooked_reach(root) if _hooked_leaves and wanted is None else None
    # Process nodes newest first: every consumer of a node was created after it, so by the time a node is
    # popped, all the gradient that flows into it has arrived (a max-heap on the creation number).
    grads = {id(root): grad}
    heap = [(-root._seq, root)]
    while heap:
        node = heappop(heap)[1]
        g = grads.pop(id(node))
        if retaining or wanted is not None:  # a non-leaf whose gradient someone asked for
            if retaining and id(node) in retaining:
                _accumulate(node, g, g)
            if wanted is not None and id(node) in wanted:
                found[id(node)] = g
        parents = node._parents
        if node._seq < last_change:  # something changed in place since this node was recorded: check it
            parents = _checked_parents(node)
        parent_grads = node._backward(g)
        if not retain_graph and _saves_arrays(node._backward):  # keep nodes that saved nothing, as in PyTorch
            node._parents, node._backward = (), _freed
        for parent, pg in zip(parents, parent_grads):
            if pg is None or not parent.requires_grad:
                continue
            if parent._backward is None:
                if wanted is None:
                    _accumulate(parent, pg, g)
                elif id(parent) in wanted:
                    if pg.shape != parent._data.shape:
                        pg = _unbroadcast(pg, parent._data.shape)
                    key = id(parent)
                    found[key] = found[key] + pg if key in found else pg.astype(parent._data.dtype, copy=True)
                continue
            if pg.shape != parent._data.shape:
                pg = _unbroadcast(pg, parent._data.shape)
            key = id(parent)
            if key in grads:
                grads[key] = grads[key] + pg
            else:
                grads[key] = pg
                heappush(heap, (-parent._seq, parent))
        if hooked:
            _count_down(parents, hooked)
    if hooked:  # leaves some of whose consumers got no gradient (an op returned None for them): complete now
        for left, total, leaf in list(hooked.values()):
            if left < total:
                _run_accumulate_hooks(leaf)
    if wanted is not None:
        return _delivered(found, inputs, collect)
    return None


def _hooked_reach(root: Tensor) -> dict[int, list]:
    """For every leaf with post-accumulate hooks that a backward from ``root`` reaches: [the number of gradients
    it will receive (one per edge into it), the same number, the leaf], by id; the pass counts the first down."""
    last_change = _last_inplace
    counts: dict[int, list] = {}
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in (_recorded_parents(node) if node._seq < last_change else node._parents):
            if not parent.requires_grad:
                continue
            if parent._backward is None:
                if parent._accumulate_hooks:
                    entry = counts.setdefault(id(parent), [0, 0, parent])
                    entry[0] += 1
                    entry[1] += 1
            elif id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return counts


def _count_down(parents: tuple[Tensor, ...], hooked: dict[int, list]) -> None:
    """A node has given its parents their gradients: run the hooks of the leaves that now have all of theirs."""
    for parent in parents:
        entry = hooked.get(id(parent))
        if entry is not None:
            entry[0] -= 1
            if entry[0] == 0:
                del hooked[id(parent)]
                _run_accumulate_hooks(parent)


def _run_accumulate_hooks(leaf: Tensor) -> None:
    if leaf._accumulate_hooks:
        for hook in list(leaf._accumulate_hooks.values()):
            hook(leaf)


_hooked_leaves: dict[int, weakref.ref] = {}  # id → leaf with post-accumulate hooks; the engine tests it per pass


def watch_accumulation(leaf: Tensor) -> None:
    """Have backward passes count the gradients ``leaf`` receives, so that they run its ``_accumulate_hooks``
    once the last one has arrived (called when its first hook is registered)."""
    key = id(leaf)
    _hooked_leaves[key] = weakref.ref(leaf, lambda _: _hooked_leaves.pop(key, None))


def _delivered(found: dict[int, np.ndarray], inputs: list[Tensor], collect: bool) -> dict | None:
    """The gradients of ``backward(inputs=…)`` added into those inputs' ``.grad`` (then their hooks run), or
    returned (``collect``)."""
    if collect:
        return found
    for t in inputs:
        if id(t) in found:
            _accumulate(t, found[id(t)], None)
            _run_accumulate_hooks(t)
    return None


@functools.lru_cache(maxsize=None)
def _one(dtype: np.dtype) -> np.ndarray:
    """The 0-d gradient 1 that starts a backward pass from a scalar, made once per dtype and read-only (a backward
    function must never change its upstream gradient in place)."""
    one = np.ones((), dtype)
    one.flags.writeable = False
    return one


def _accumulate(leaf: Tensor, grad: np.ndarray, upstream: np.ndarray | None) -> None:
    """Add ``grad`` into ``leaf.grad``; never keep an array that another tensor may also hold.

    A first gradient is copied into the buffer the leaf offers when it is free (see `autograd.gradient_buffer`;
    ops that can write it there themselves do so and return None for the leaf).
    """
    if grad.shape != leaf._data.shape:
        grad = _unbroadcast(grad, leaf._data.shape)
    if grad.dtype != leaf._data.dtype:
        grad = grad.astype(leaf._data.dtype)
    current = leaf.grad
    if current is not None:
        if _autograd.in_buffer(leaf):
            current._data += grad  # the buffer offered to the leaf: add in place, as PyTorch does
        else:
            current._data = current._data + grad
        return
    store = _autograd.gradient_buffer(leaf, grad.dtype)
    if store is not None:
        store[...] = grad
        return
    leaf.grad = _wrap(grad.copy() if grad is upstream or grad.base is not None or not grad.flags.writeable
                      else grad)


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


def result(data: np.ndarray, parents: tuple[Tensor, ...], backward: Callable[[np.ndarray], Sequence]) -> Tensor:
    """The output of an op: records ``parents`` and ``backward`` when a parent needs a gradient.

    ``backward(g)`` receives d(loss)/d(output) and returns one array (or None) per parent, in order; shapes may be
    broadcast shapes: the engine sums them back to each parent's shape. What ``backward`` captures (its closure's
    Tensors and arrays) is what the op saved: the in-place check and the freeing after backward look there.
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


class Tensor:
    """An n-dimensional array that can record the ops applied to it and compute gradients (PyTorch's Tensor).

    ``gn.Tensor([1, 2])`` is a float tensor of the default dtype, as ``torch.Tensor``; ``gn.tensor`` keeps the
    data's kind (integers stay int64). ``grad`` is a Tensor of the same shape (or None) filled by ``backward()``.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_parents", "_backward", "_seq", "__weakref__")
    __array_priority__ = 1000  # ndarray + Tensor goes to Tensor.__radd__
    _grad_store: np.ndarray | None = None  # a buffer for the first gradient (see autograd.gradient_buffer)
    _accumulate_hooks: dict[int, Callable] | None = None  # hooks run once backward completes the gradient (Parameter)

    def __init__(self, *data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> None:
        _check_device(device)
        if len(data) == 1 and not isinstance(data[0], (int, np.integer)) or not data:
            value = data[0] if data else []
            array = _as_array(value, dtype)
            if dtype is None and array.dtype.kind != "f":
                array = array.astype(_default_dtype)  # torch.Tensor(data) is always floating
        else:  # gn.Tensor(2, 3): uninitialised, of that shape
            array = np.empty(tuple(builtins.int(n) for n in data), _as_dtype(dtype or _default_dtype))
        self._data = array
        if requires_grad and array.dtype.kind != "f":
            raise DtypeError(f"only floating-point tensors can require gradients, got dtype {array.dtype}")
        self.grad: Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Callable | None = None
        self._seq = 0

    @staticmethod
    def _wrap(data: np.ndarray) -> Tensor:
        """A constant Tensor around an ndarray, no checks or copies (the internal fast path, for other modules)."""
        return _wrap(data)

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
    def device(self) -> device:
        return _CPU

    is_cuda = False

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (and every tensor that does not require grad), False for op results
        that require grad."""
        return self._backward is None

    @property
    def grad_fn(self) -> _Node | None:
        """The op that made this tensor (e.g. ``MulBackward0``), None for a leaf."""
        if self._backward is None:
            return None
        return _node_class(_Node(self).name())(self)

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.nbytes

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the length of dimension ``dim`` (a method, as in PyTorch; ``numel()`` is the count)."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return self._data.flags.c_contiguous

    def numpy(self, force: bool = False) -> np.ndarray:
        """The ndarray itself (shared memory, as ``torch.Tensor.numpy``)."""
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def item(self) -> builtins.float | builtins.int | builtins.bool:
        if self._data.size != 1:
            raise ShapeError(f"a Tensor with {self._data.size} elements cannot be converted to a Python number "
                             f"(item() needs exactly one; shape {self._data.shape})")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        if not self._data.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self._data)))

    def __float__(self) -> builtins.float:
        return builtins.float(self.item())

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, got dtype "
                            f"{self._data.dtype} with {self._data.size} elements")
        return builtins.int(self._data.item())

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            raise ShapeError(f"Boolean value of a Tensor with {self._data.size} elements is ambiguous (shape "
                             f"{self._data.shape}): use .any() or .all()")
        return builtins.bool(self._data.item())

    def __format__(self, spec: str) -> str:
        if self._data.size == 1 and spec:
            return format(self._data.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        prefix = "tensor("
        if self._data.size == 0:
            body = f"[], size={self._data.shape}" if self._data.ndim > 1 else "[]"
        else:
            data = self._data
            whole = data.dtype.kind != "f" or bool(np.all(np.isfinite(data) <= (data == np.round(data))))
            body = np.array2string(data, separator=", ", precision=4, prefix=prefix,
                                   floatmode="maxprec" if whole else "fixed")  # torch: 1. or 1.0000
        extras = ""
        if self._data.dtype != _default_dtype and self._data.dtype not in (int64, bool_):
            extras += f", dtype={_dtype_name(self._data.dtype)}"
        if self._backward is not None:
            extras += f", grad_fn=<{self.grad_fn.name()}>"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"{prefix}{body}{extras})"

    __str__ = __repr__

    def __hash__(self) -> builtins.int:  # by identity, as in PyTorch (== is elementwise)
        return id(self)

    # ---- graph and copies
    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return _wrap(self._data)

    def detach_(self) -> Tensor:
        """Cut this tensor from its graph: it becomes a leaf that does not require grad."""
        self._parents, self._backward, self._seq, self.requires_grad = (), None, 0, False
        return self

    def clone(self, *, memory_format: Any = None) -> Tensor:
        return _shp.clone(self)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        return self if self._data.flags.c_contiguous else _shp.clone(self)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> Tensor:
        if requires_grad and self._data.dtype.kind != "f":
            raise DtypeError(f"only floating-point tensors can require gradients, got dtype {self._data.dtype}")
        if not requires_grad and self._backward is not None:
            raise GraphError("requires_grad_(False) on a non-leaf tensor: use detach() to cut it from the graph")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` at the next backward (leaves always keep theirs)."""
        if not self.requires_grad:
            raise GraphError("retain_grad() on a tensor that does not require grad")
        if self._backward is not None:
            key = id(self)
            _retaining[key] = weakref.ref(self, lambda _: _retaining.pop(key, None))

    @property
    def retains_grad(self) -> builtins.bool:
        return id(self) in _retaining

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """PyTorch's hook that runs after backward completes a leaf's gradient: glassnet's parameters take it
        (``nn.Parameter.register_post_accumulate_grad_hook``)."""
        kind = "a non-leaf tensor" if self._backward is not None else "a plain tensor"
        raise GraphError(f"register_post_accumulate_grad_hook on {kind}: only a Parameter (nn.Parameter, a leaf "
                         f"that a module owns) takes post-accumulate hooks")

    backward = _backward_pass  # a function of the engine (below), bound as the method: no extra call per step

    # ---- dtype and device conversions
    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: builtins.bool = False,
           non_blocking: builtins.bool = False) -> Tensor:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)`` or ``to(other_tensor)``: a cast (a graph node) or
        this tensor itself when nothing changes."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg._data.dtype
            elif isinstance(arg, (str, globals()["device"])):
                device = arg
            else:
                dtype = arg
        _check_device(device)
        if dtype is None or _as_dtype(dtype) == self._data.dtype:
            return _shp.clone(self) if copy else self
        return _ew.cast(self, dtype)

    def type(self, dtype: Any = None) -> str | Tensor:
        """Without an argument the type's name (``"torch.FloatTensor"``-style), else a cast to ``dtype``."""
        if dtype is None:
            return f"glassnet.{_TYPE_NAMES.get(self._data.dtype, str(self._data.dtype))}"
        return self.to(dtype)

    def astype(self, dtype: Any) -> Tensor:
        return _ew.cast(self, dtype)

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def short(self) -> Tensor:
        return self.to(int16)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def cpu(self) -> Tensor:
        return self

    def cuda(self, device: Any = None) -> Tensor:
        _check_device("cuda")

    # ---- arithmetic (glassnet/ops/elementwise.py)
    def __add__(self, other: Any) -> Tensor:
        return _ew.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ew.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ew.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ew.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ew.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ew.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ew.div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ew.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ew.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ew.remainder(self, other)

    def __pow__(self, other: Any) -> Tensor:
        return _ew.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ew.pow(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _la.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _la.matmul(other, self)

    def __neg__(self) -> Tensor:
        return _ew.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return _ew.abs(self)

    # ---- comparisons and logic: elementwise, bool tensors without a graph
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ew.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return _ew.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _ew.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return _ew.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _ew.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _ew.ge(self, other)

    def __and__(self, other: Any) -> Tensor:
        return _ew.logical(np.bitwise_and, self, other)

    __rand__ = __and__

    def __or__(self, other: Any) -> Tensor:
        return _ew.logical(np.bitwise_or, self, other)

    __ror__ = __or__

    def __xor__(self, other: Any) -> Tensor:
        return _ew.logical(np.bitwise_xor, self, other)

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        return _ew.bitwise_not(self)

    def eq(self, other: Any) -> Tensor:
        return _ew.eq(self, other)

    def ne(self, other: Any) -> Tensor:
        return _ew.ne(self, other)

    def lt(self, other: Any) -> Tensor:
        return _ew.lt(self, other)

    def le(self, other: Any) -> Tensor:
        return _ew.le(self, other)

    def gt(self, other: Any) -> Tensor:
        return _ew.gt(self, other)

    def ge(self, other: Any) -> Tensor:
        return _ew.ge(self, other)

    def equal(self, other: Tensor) -> builtins.bool:
        return _ew.equal(self, other)

    def allclose(self, other: Any, rtol: builtins.float = 1e-5, atol: builtins.float = 1e-8,
                 equal_nan: builtins.bool = False) -> builtins.bool:
        return _ew.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other: Any, rtol: builtins.float = 1e-5, atol: builtins.float = 1e-8,
                equal_nan: builtins.bool = False) -> Tensor:
        return _ew.isclose(self, other, rtol, atol, equal_nan)

    def __contains__(self, value: Any) -> builtins.bool:
        return builtins.bool(np.any(self._data == (value._data if isinstance(value, Tensor) else value)))

    def unique(self, sorted: builtins.bool = True, return_inverse: builtins.bool = False,
               return_counts: builtins.bool = False, dim: builtins.int | None = None) -> Any:
        return _red.unique(self, sorted, return_inverse, return_counts, dim)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other._data.dtype)

    def data_ptr(self) -> builtins.int:
        """The address of the first element (tensors sharing memory from the start have the same one)."""
        return self._data.__array_interface__["data"][0]

    def isnan(self) -> Tensor:
        return _wrap(np.isnan(self._data))

    def isinf(self) -> Tensor:
        return _wrap(np.isinf(self._data))

    def isfinite(self) -> Tensor:
        return _wrap(np.isfinite(self._data))

    def logical_not(self) -> Tensor:
        return _wrap(np.logical_not(self._data))

    # ---- math as methods
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ew.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other: Any) -> Tensor:
        return _ew.mul(self, other)

    multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _ew.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def pow(self, exponent: Any) -> Tensor:
        return _ew.pow(self, exponent)

    def neg(self) -> Tensor:
        return _ew.neg(self)

    negative = neg

    def maximum(self, other: Any) -> Tensor:
        return _ew.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        return _ew.minimum(self, other)

    def exp(self) -> Tensor:
        return _ew.exp(self)

    def expm1(self) -> Tensor:
        return _ew.expm1(self)

    def log(self) -> Tensor:
        return _ew.log(self)

    def log1p(self) -> Tensor:
        return _ew.log1p(self)

    def log2(self) -> Tensor:
        return _ew.log2(self)

    def log10(self) -> Tensor:
        return _ew.log10(self)

    def sqrt(self) -> Tensor:
        return _ew.sqrt(self)

    def rsqrt(self) -> Tensor:
        return _ew.rsqrt(self)

    def square(self) -> Tensor:
        return _ew.square(self)

    def reciprocal(self) -> Tensor:
        return _ew.reciprocal(self)

    def abs(self) -> Tensor:
        return _ew.abs(self)

    def sign(self) -> Tensor:
        return _ew.sign(self)

    def sin(self) -> Tensor:
        return _ew.sin(self)

    def cos(self) -> Tensor:
        return _ew.cos(self)

    def tan(self) -> Tensor:
        return _ew.tan(self)

    def erf(self) -> Tensor:
        return _ew.erf(self)

    def floor(self) -> Tensor:
        return _ew.floor(self)

    def ceil(self) -> Tensor:
        return _ew.ceil(self)

    def round(self, decimals: builtins.int = 0) -> Tensor:
        return _ew.round(self, decimals=decimals)

    def trunc(self) -> Tensor:
        return _ew.trunc(self)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        return _ew.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min: Any) -> Tensor:
        return _ew.clamp(self, min, None)

    def clamp_max(self, max: Any) -> Tensor:
        return _ew.clamp(self, None, max)

    def where(self, condition: Any, other: Any) -> Tensor:
        return _ew.where(condition, self, other)

    def lerp(self, end: Any, weight: Any) -> Tensor:
        return self + (end - self) * weight

    # ---- activations (glassnet/ops/activations.py)
    def tanh(self) -> Tensor:
        return _act.tanh(self)

    def sigmoid(self) -> Tensor:
        return _act.sigmoid(self)

    def relu(self) -> Tensor:
        return _act.relu(self)

    def leaky_relu(self, negative_slope: builtins.float = 0.01) -> Tensor:
        return _act.leaky_relu(self, negative_slope)

    def softmax(self, dim: Any = None, axis: Any = None) -> Tensor:
        return _act.softmax(self, axis, dim=dim)

    def log_softmax(self, dim: Any = None, axis: Any = None) -> Tensor:
        return _act.log_softmax(self, axis, dim=dim)

    # ---- reductions (glassnet/ops/reduce.py); dim= and keepdim=, or NumPy's axis= and keepdims=
    def sum(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None, **aliases: Any) -> Tensor:
        return _red.sum(self, dim, keepdim, dtype=dtype, **aliases)

    def mean(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None, **aliases: Any) -> Tensor:
        return _red.mean(self, dim, keepdim, dtype=dtype, **aliases)

    def prod(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.prod(self, dim, keepdim, **aliases)

    def var(self, dim: Any = None, unbiased: Any = None, keepdim: builtins.bool = False, *, correction: Any = None,
            **aliases: Any) -> Tensor:
        return _red.var(self, dim, unbiased, keepdim, correction=correction, **aliases)

    def std(self, dim: Any = None, unbiased: Any = None, keepdim: builtins.bool = False, *, correction: Any = None,
            **aliases: Any) -> Tensor:
        return _red.std(self, dim, unbiased, keepdim, correction=correction, **aliases)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.norm(self, p, dim, keepdim, **aliases)

    def logsumexp(self, dim: Any, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.logsumexp(self, dim, keepdim, **aliases)

    def cumsum(self, dim: Any = None, **aliases: Any) -> Tensor:
        return _red.cumsum(self, dim, **aliases)

    def amax(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.amax(self, dim, keepdim, **aliases)

    def amin(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.amin(self, dim, keepdim, **aliases)

    def max(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Any:
        """``max()`` the largest element; ``max(dim)`` the named tuple (values, indices); ``max(other)`` the
        elementwise maximum."""
        return _red.max(self, dim, keepdim, **aliases)

    def min(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Any:
        return _red.min(self, dim, keepdim, **aliases)

    def argmax(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.argmax(self, dim, keepdim, **aliases)

    def argmin(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.argmin(self, dim, keepdim, **aliases)

    def any(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.any(self, dim, keepdim, **aliases)

    def all(self, dim: Any = None, keepdim: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.all(self, dim, keepdim, **aliases)

    def sort(self, dim: builtins.int = -1, descending: builtins.bool = False, **aliases: Any) -> Any:
        return _red.sort(self, dim, descending, **aliases)

    def argsort(self, dim: builtins.int = -1, descending: builtins.bool = False, **aliases: Any) -> Tensor:
        return _red.argsort(self, dim, descending, **aliases)

    def topk(self, k: builtins.int, dim: builtins.int = -1, largest: builtins.bool = True,
             sorted: builtins.bool = True, **aliases: Any) -> Any:
        return _red.topk(self, k, dim, largest, sorted, **aliases)

    # ---- shape (glassnet/ops/shape.py)
    def reshape(self, *shape: Any) -> Tensor:
        return _shp.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and not isinstance(shape[0], (builtins.int, np.integer, tuple, list)):
            return self.to(shape[0])  # view(dtype)
        return _shp.reshape(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return _shp.reshape(self, other._data.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return _shp.reshape(self, other._data.shape)

    def flatten(self, start_dim: builtins.int = 0, end_dim: builtins.int = -1) -> Tensor:
        return _shp.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: builtins.int, sizes: Sequence[builtins.int]) -> Tensor:
        return _shp.unflatten(self, dim, sizes)

    def unsqueeze(self, dim: builtins.int) -> Tensor:
        return _shp.unsqueeze(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        return _shp.squeeze(self, dim)

    def permute(self, *dims: Any) -> Tensor:
        return _shp.permute(self, *dims)

    def transpose(self, *dims: Any) -> Tensor:
        """``transpose(d0, d1)`` swaps two dims (PyTorch); ``transpose()`` reverses them, ``transpose(perm)`` with
        one sequence permutes them (NumPy)."""
        return _shp.transpose(self, *dims)

    swapaxes = swapdims = transpose

    def t(self) -> Tensor:
        if self._data.ndim > 2:
            raise ShapeError(f"t() expects a tensor with at most 2 dimensions, got {self._data.ndim}; use "
                             f"transpose(d0, d1) or mT")
        return _shp.transpose(self)

    @property
    def T(self) -> Tensor:
        return _shp.transpose(self)

    @property
    def mT(self) -> Tensor:
        return _shp.transpose(self, -2, -1)

    def expand(self, *sizes: Any) -> Tensor:
        return _shp.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        return _shp.expand(self, other._data.shape)

    def broadcast_to(self, shape: Sequence[builtins.int]) -> Tensor:
        return _shp.expand(self, tuple(shape))

    def repeat(self, *sizes: Any) -> Tensor:
        return _shp.repeat(self, *sizes)

    def tile(self, *dims: Any) -> Tensor:
        return _shp.tile(self, *dims)

    def chunk(self, chunks: builtins.int, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _shp.chunk(self, chunks, dim)

    def split(self, split_size_or_sections: Any, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _shp.split(self, split_size_or_sections, dim)

    def unbind(self, dim: builtins.int = 0) -> tuple[Tensor, ...]:
        return _shp.unbind(self, dim)

    def narrow(self, dim: builtins.int, start: builtins.int, length: builtins.int) -> Tensor:
        return _shp.narrow(self, dim, start, length)

    def flip(self, *dims: Any) -> Tensor:
        return _shp.flip(self, *dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return _shp.roll(self, shifts, dims)

    def tril(self, diagonal: builtins.int = 0) -> Tensor:
        return _shp.tril(self, diagonal)

    def triu(self, diagonal: builtins.int = 0) -> Tensor:
        return _shp.triu(self, diagonal)

    # ---- indexing (glassnet/ops/index.py)
    def __getitem__(self, index: Any) -> Tensor:
        return _idx.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        _idx.setitem(self, index, value)

    def gather(self, dim: builtins.int, index: Any) -> Tensor:
        return _idx.gather(self, dim, index)

    def index_select(self, dim: builtins.int, index: Any) -> Tensor:
        return _idx.index_select(self, dim, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return _idx.masked_fill(self, mask, value)

    def masked_select(self, mask: Any) -> Tensor:
        return _idx.getitem(self, _ew.array_of(mask).astype(bool))

    def nonzero(self, *, as_tuple: builtins.bool = False) -> Any:
        return _idx.nonzero(self, as_tuple=as_tuple)

    # ---- linear algebra (glassnet/ops/linalg.py)
    def matmul(self, other: Any) -> Tensor:
        return _la.matmul(self, other)

    def mm(self, other: Any) -> Tensor:
        return _la.mm(self, other)

    def bmm(self, other: Any) -> Tensor:
        return _la.bmm(self, other)

    def dot(self, other: Any) -> Tensor:
        return _la.dot(self, other)

    def outer(self, other: Any) -> Tensor:
        return _la.outer(self, other)

    # ---- in place (glassnet/ops/elementwise.py, index.py): change the tensor itself, checked (see below)
    def __iadd__(self, other: Any) -> Tensor:
        return _ew.add_(self, other)

    def __isub__(self, other: Any) -> Tensor:
        return _ew.sub_(self, other)

    def __imul__(self, other: Any) -> Tensor:
        return _ew.mul_(self, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return _ew.div_(self, other)

    def __ipow__(self, other: Any) -> Tensor:
        return _ew.pow_(self, other)

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ew.add_(self, other, alpha=alpha)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return _ew.sub_(self, other, alpha=alpha)

    def mul_(self, other: Any) -> Tensor:
        return _ew.mul_(self, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return _ew.div_(self, other, rounding_mode=rounding_mode)

    def pow_(self, exponent: Any) -> Tensor:
        return _ew.pow_(self, exponent)

    def neg_(self) -> Tensor:
        return _ew.neg_(self)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return _ew.clamp_(self, min, max)

    clip_ = clamp_

    def copy_(self, src: Any, non_blocking: builtins.bool = False) -> Tensor:
        return _ew.copy_(self, src)

    def zero_(self) -> Tensor:
        return _ew.fill_(self, 0)

    def fill_(self, value: Any) -> Tensor:
        return _ew.fill_(self, value)

    def relu_(self) -> Tensor:
        return _ew.apply_(self, _act.relu)

    def sigmoid_(self) -> Tensor:
        return _ew.apply_(self, _act.sigmoid)

    def tanh_(self) -> Tensor:
        return _ew.apply_(self, _act.tanh)

    def exp_(self) -> Tensor:
        return _ew.apply_(self, _ew.exp)

    def sqrt_(self) -> Tensor:
        return _ew.apply_(self, _ew.sqrt)

    def abs_(self) -> Tensor:
        return _ew.apply_(self, _ew.abs)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return _idx.masked_fill_(self, mask, value)

    def normal_(self, mean: builtins.float = 0.0, std: builtins.float = 1.0, *,
                generator: Generator | None = None) -> Tensor:
        return _new.normal_(self, mean, std, generator=generator)

    def uniform_(self, a: builtins.float = 0.0, b: builtins.float = 1.0, *,
                 generator: Generator | None = None) -> Tensor:
        return _new.uniform_(self, a, b, generator=generator)

    # ---- new tensors like this one (glassnet/ops/creation.py)
    def new_zeros(self, *size: Any, dtype: Any = None, **options: Any) -> Tensor:
        return _new.zeros(*size, dtype=dtype or self._data.dtype, **options)

    def new_ones(self, *size: Any, dtype: Any = None, **options: Any) -> Tensor:
        return _new.ones(*size, dtype=dtype or self._data.dtype, **options)

    def new_full(self, size: Sequence[builtins.int], fill_value: Any, *, dtype: Any = None,
                 **options: Any) -> Tensor:
        return _new.full(size, fill_value, dtype=dtype or self._data.dtype, **options)

    def new_empty(self, *size: Any, dtype: Any = None, **options: Any) -> Tensor:
        return _new.empty(*size, dtype=dtype or self._data.dtype, **options)

    def new_tensor(self, data: Any, *, dtype: Any = None, **options: Any) -> Tensor:
        return _new.tensor(data, dtype=dtype or self._data.dtype, **options)


_TYPE_NAMES = {float32: "FloatTensor", float64: "DoubleTensor", float16: "HalfTensor", int64: "LongTensor",
               int32: "IntTensor", int16: "ShortTensor", int8: "CharTensor", uint8: "ByteTensor",
               bool_: "BoolTensor"}


def _dtype_name(dtype: np.dtype) -> str:
    return f"glassnet.{'bool' if dtype == bool_ else dtype}"


_retaining: dict[int, weakref.ref] = {}  # id → non-leaf whose .grad backward keeps (retain_grad); a plain dict:
# the engine tests it once per node


def is_tensor(value: Any) -> bool:
    return isinstance(value, Tensor)


def is_floating_point(value: Tensor) -> bool:
    return value._data.dtype.kind == "f"


def numel(value: Tensor) -> int:
    return value._data.size


# ---------------------------------------------------------------------------------------------------- in-place changes
# PyTorch's version counters, kept where the memory is: an in-place op stamps the array that owns the memory it
# changed (``ndarray.base``, so a tensor and all its views share one stamp, as they share one version counter) with
# the creation clock. Nothing is paid until an in-place op happens: ``backward`` checks a node only when the last
# in-place stamp is newer than the node. The check looks at what the node's backward saved (the Tensors and arrays
# its closure holds, and its own output): if any was stamped after the node was recorded, the gradient would be
# computed from changed values, so it raises. An in-place op on a tensor that is part of a graph moves the tensor
# onto a new node whose first parent is the tensor's previous value (``_rebase``); nodes recorded before that follow
# the first parent back to the value they used.

_stamps: dict[int, list] = {}  # id(owner array) → [weak reference to it, creation number of its last change]
_last_inplace = 0


def _owner(array: np.ndarray) -> Any:
    """The object that owns an array's memory (NumPy collapses a view's ``base`` to it)."""
    base = array.base
    return array if base is None else base


def _stamp(array: np.ndarray) -> int:
    """Record that ``array``'s memory (shared by all its views) changed now; returns the stamp
    (``autograd.mark_changed``)."""
    global _last_inplace
    stamp = _last_inplace = next(_creation)
    owner = array.base
    if owner is None:
        owner = array
    key = id(owner)
    entry = _stamps.get(key)
    if entry is not None and entry[0]() is owner:
        entry[1] = stamp
        return stamp
    try:
        ref = weakref.ref(owner, lambda _, key=key: _stamps.pop(key, None))
    except TypeError:  # an owner that takes no weak references (bytes): the array is kept alive instead
        ref = (lambda kept: lambda: kept)(owner)
    _stamps[key] = [ref, stamp]
    return stamp


def _changed_at(array: np.ndarray) -> int:
    """The stamp of the last in-place change of ``array``'s memory (0 if none)."""
    owner = _owner(array)
    entry = _stamps.get(id(owner))
    return entry[1] if entry is not None and entry[0]() is owner else 0


def _saved(fn: Any) -> Iterator[np.ndarray]:
    """The arrays a backward function saved: those in its closure, directly, in Tensors, in lists/tuples or in
    the closure of a helper function it calls (a loss's ``local_grad``)."""
    cells = getattr(fn, "__closure__", None) or ()
    for cell in cells:
        yield from _arrays_in(cell.cell_contents, 0)


def _arrays_in(value: Any, depth: int) -> Iterator[np.ndarray]:
    """The arrays in one saved value, looking ``depth`` levels into containers and helper closures."""
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, Tensor):
        yield value._data
    elif isinstance(value, (list, tuple)) and depth < 3:
        for item in value:
            yield from _arrays_in(item, depth + 1)
    elif callable(value) and depth < 1 and getattr(value, "__closure__", None):
        for cell in value.__closure__:
            yield from _arrays_in(cell.cell_contents, depth + 1)


def _saves_arrays(fn: Any) -> bool:
    """Whether a backward function saved values (arrays, tensors, or a number operand: PyTorch saves a scalar
    operand too) that freeing the graph releases; a node whose closure holds only shapes and dims in tuples, flags
    and functions stays usable for a second backward (as in PyTorch). Runs once per node and backward: the
    common case (an array in the first cell) returns at once."""
    try:
        closure = fn.__closure__
    except AttributeError:  # not a plain function (a callable object): free it
        return True
    if closure is None:
        return False
    for cell in closure:
        value = cell.cell_contents
        kind = type(value)
        if kind is np.ndarray or kind is builtins.float or kind is builtins.int or isinstance(value, (Tensor,
                                                                                                   np.generic)):
            return True
        if (kind is list or kind is tuple) and builtins.any(True for _ in _arrays_in(value, 1)):
            return True
    return False


def _checked_parents(node: Tensor) -> tuple[Tensor, ...]:
    """The parents of a node recorded before an in-place change (``_recorded_parents``): raise if what it saved
    changed after it was recorded."""
    seq = node._seq
    for array in itertools.chain(_saved(node._backward), (node._data,)):
        if _changed_at(array) > seq:
            raise GraphError(
                f"one of the tensors needed to compute the gradient of {node.grad_fn.name()} (output of shape "
                f"{node._data.shape}) was modified by an in-place operation after it was used (an in-place op such "
                f"as add_, +=, x[i] = v, or an optimizer step). Use the out-of-place op (x = x + 1) or clone() the "
                f"tensor before changing it.")
    return _recorded_parents(node)


def _recorded_parents(node: Tensor) -> tuple[Tensor, ...]:
    """The parents a node used: a parent moved onto a newer node by an in-place change (``_rebase``) is replaced by
    the value the node used."""
    seq = node._seq
    parents = []
    for parent in node._parents:
        while parent._seq > seq:
            parent = parent._parents[0]
        parents.append(parent)
    return tuple(parents)


def _check_inplace(target: Tensor, *others: Any) -> bool:
    """Raise for an in-place op PyTorch forbids; return whether it must be recorded in the graph."""
    if type(target._data) is not np.ndarray:  # a 0-d op result holding a NumPy scalar: give it an array to change
        target._data = np.array(target._data)
    if not _thread.grad_enabled:
        return False
    recorded = target.requires_grad or builtins.any(isinstance(o, Tensor) and o.requires_grad for o in others)
    if recorded and target.requires_grad and target._backward is None:
        raise GraphError(f"a leaf tensor that requires grad (shape {target._data.shape}) cannot be changed in place "
                         f"while the graph is recorded: wrap the update in `with gn.no_grad():` (as an optimizer "
                         f"does), or change .data")
    if recorded and target._backward is not None and _owner(target._data) is not target._data and builtins.any(
            _owner(p._data) is _owner(target._data) for p in target._parents):
        raise GraphError("in-place change of a view of another tensor that requires grad (e.g. x[0].add_(1) or "
                         "x.T.mul_(2)): assign through the tensor itself (x[0] = x[0] + 1) or use out-of-place ops")
    return recorded


def _rebase(target: Tensor, new: Tensor) -> Tensor:
    """Write ``new`` (an op's result computed from ``target``'s previous value) into ``target`` in place; if ``new``
    is part of a graph, ``target`` takes its node, the previous value being the node's first parent."""
    if not can_cast(new._data.dtype, target._data.dtype):
        raise DtypeError(f"in-place result of dtype {new._data.dtype} cannot be written into a tensor of dtype "
                         f"{target._data.dtype}")
    if new._data.shape != target._data.shape:
        raise ShapeError(f"in-place result of shape {new._data.shape} does not fit the tensor of shape "
                         f"{target._data.shape} it would be written into (broadcasting may not grow the target)")
    np.copyto(target._data, new._data, casting="unsafe")
    _stamp(target._data)
    if new.requires_grad:
        target._parents, target._backward, target.requires_grad = new._parents, new._backward, True
        target._seq = next(_creation)  # newer than the stamp: its own output is the changed array
    return target


def _previous_value(target: Tensor) -> Tensor:
    """A tensor holding ``target``'s current value and graph position, to compute an in-place op from (a copy:
    ``target``'s array is about to change)."""
    old = Tensor.__new__(Tensor)
    old._data, old.grad, old.requires_grad = target._data.copy(), None, target.requires_grad
    old._parents, old._backward, old._seq = target._parents, target._backward, target._seq
    return old


def _inplace(target: Tensor, op: Callable[..., Tensor], *args: Any, **kwargs: Any) -> Tensor:
    """``target ← op(target, *args)`` in place: PyTorch's ``add_``, ``+=``, ``x[i] = v`` … (checked, stamped)."""
    if _check_inplace(target, *args):
        return _rebase(target, op(_previous_value(target), *args, **kwargs))
    with no_grad():
        return _rebase(target, op(target, *args, **kwargs))


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data._data
    if dtype is not None:
        return np.array(data, dtype=_as_dtype(dtype), copy=None)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and builtins.any(isinstance(item, Tensor) for item in data):
        data = [item._data if isinstance(item, Tensor) else item for item in data]
    array = np.asarray(data)
    if array.dtype == np.float64:  # Python floats take the default dtype, as in PyTorch
        array = array.astype(_default_dtype)
    elif array.dtype.kind not in "biufc":
        raise DtypeError(f"cannot make a tensor from {type(data).__name__} data of dtype {array.dtype}")
    return array


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> Tensor:
    """A new Tensor holding a copy of a number, nested list, ndarray or Tensor (as ``torch.tensor``: Python floats
    become the default dtype, integers int64)."""
    _check_device(device)
    array = _as_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) or array is data:
        array = array.copy()
    out = _wrap(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def as_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """``value`` as a Tensor; Python numbers take the dtype of ``like`` so float32 stays float32."""
    if isinstance(value, Tensor):
        return value
    if like is not None and isinstance(value, (int, float, bool)):
        return _wrap(np.asarray(value, dtype=_number_dtype(value, like._data.dtype)))
    return _wrap(_as_array(value, None))


# The ops, by family; imported last because they build on the engine above (the Tensor's methods call them).
from . import autograd as _autograd  # noqa: E402
from .ops import activations as _act  # noqa: E402
from .ops import creation as _new  # noqa: E402
from .ops import elementwise as _ew  # noqa: E402
from .ops import index as _idx  # noqa: E402
from .ops import linalg as _la  # noqa: E402
from .ops import reduce as _red  # noqa: E402
from .ops import shape as _shp  # noqa: E402
