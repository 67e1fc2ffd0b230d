"""The optimizer base class: param groups, per-parameter state, and a flat fast path.

Each optimizer writes its update rule once, as ``update(group, param, grad, buffers, step, scratch)`` on plain
arrays, in place. The parameters of a group live in one contiguous buffer (each ``Parameter._data`` is a view into
it), and so do their gradients and the rule's state buffers; when every parameter of the group has a gradient and
the same step count, the rule runs once on the whole buffers (a handful of NumPy calls for the whole model) instead
of once per parameter. Otherwise it runs per parameter on views, which is exactly PyTorch's behaviour (a parameter
without a gradient is skipped).
"""
from __future__ import annotations

import math
from numbers import Real
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..autograd import mark_changed, offer_buffer
from ..tensor import Tensor, enable_grad

__all__ = ["Optimizer"]

# what learning-rate schedulers keep in a param group besides the optimizer's options (PyTorch's names)
SCHEDULE_KEYS = frozenset({"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"})
GROUP_KEYS = SCHEDULE_KEYS | {"params", "param_names"}  # a group's keys besides the optimizer's options
FLUSH_EVERY = 16  # steps between two flushes of subnormal numbers from the state buffers (a flush: 3 passes)
SLICE = 1 << 16  # elements of one slice of a large group's update (256 KiB per float32 array)


class _FlatGroup:
    """One param group's parameters, gradients and state buffers, each in one contiguous array.

    Each parameter is offered its view of the flat gradient, where backward writes a first gradient (see
    ``autograd``'s gradient buffer): when every gradient is found there, ``step`` reads them without gathering them.
    """

    def __init__(self, params: list[Tensor], buffer_names: tuple[str, ...], initial: dict[str, float]) -> None:
        self.params = params
        self.shapes = [p._data.shape for p in params]
        ends = np.cumsum([p._data.size for p in params])
        self.spans = [(int(end - p._data.size), int(end)) for p, end in zip(params, ends)]
        self.steps = [0] * len(params)  # steps taken by each parameter
        self.uniform = True  # every parameter has taken the same number of steps
        self.updates = 0  # calls of step()
        self.buffers: dict[str, np.ndarray] = {}
        self._flatten()
        self.buffers = {name: np.full(self._data.size, initial.get(name, 0.0), dtype=self._data.dtype)
                        for name in buffer_names}

    def _flatten(self) -> None:
        dtypes = {p._data.dtype for p in self.params}
        if len(dtypes) > 1:
            raise TypeError(f"the parameters of one param group must share one dtype, got {sorted(map(str, dtypes))};"
                            f" call model.float() or model.double() first")
        for p, shape in zip(self.params, self.shapes):
            if p._data.shape != shape:
                raise ValueError(f"a parameter changed shape from {shape} to {p._data.shape} after the optimizer "
                                 f"was created; create a new optimizer")
        dtype = dtypes.pop()
        size = self.spans[-1][1] if self.spans else 0
        self._data, self.grad, self.scratch = (np.empty(size, dtype=dtype) for _ in range(3))
        for p, (start, end) in zip(self.params, self.spans):
            self._data[start:end] = p._data.reshape(-1)
            p._data = self._data[start:end].reshape(p._data.shape)
            offer_buffer(p, self.grad[start:end].reshape(p._data.shape))
        self.views = [p._data for p in self.params]
        for name, buffer in self.buffers.items():
            self.buffers[name] = buffer.astype(dtype, copy=False)

    def gradient(self) -> np.ndarray | None:
        """The group's gradient as one flat array, or None when a parameter has no gradient.

        Re-flattens first if a parameter's array was replaced (``p._data = …``, ``model.double()``)."""
        in_place = True
        for p, view in zip(self.params, self.views):
            if p._data is not view:
                self._flatten()
                return self.gradient()
            grad = p.grad
            if grad is None:
                return None
            if grad._data.base is not self.grad:  # not in this group's buffer (only offered views are views of it)
                in_place = False
        if not in_place:
            np.concatenate([p.grad._data for p in self.params], axis=None, out=self.grad)
        return self.grad

    def flush_subnormals(self, names: tuple[str, ...]) -> None:
        """Set the subnormal numbers (below the dtype's smallest normal one) of the state buffers ``names`` to zero.

        A parameter whose gradient stays zero (e.g. behind a dead ReLU) has moving averages that decay geometrically
        into subnormal numbers, and x86 arithmetic on those is 10–100× slower: an Adam step on a ReLU net ran 3.5×
        slower. They carry no information (an Adam step of 1e-30), and flushing them, as TensorFlow's flush-to-zero
        mode does, every `FLUSH_EVERY` steps keeps them from piling up.
        """
        tiny = np.finfo(self._data.dtype).tiny
        for name in names:
            buffer = self.buffers[name]
            for start in range(0, buffer.size, SLICE):
                part, magnitude = buffer[start:start + SLICE], self.scratch[start:start + SLICE]
                np.abs(part, out=magnitude)
                part[magnitude < tiny] = 0

    def view(self, flat: np.ndarray, i: int) -> np.ndarray:
        """Parameter i's part of a flat array of the group, in the parameter's shape."""
        start, end = self.spans[i]
        return flat[start:end].reshape(self.shapes[i])

    def buffer_views(self, i: int) -> dict[str, np.ndarray]:
        return {name: self.view(buffer, i) for name, buffer in self.buffers.items()}


class Optimizer:
    """Base class. Subclasses set ``defaults``-checked hyper-parameters, ``buffer_names`` and ``update``.

    ``state_dict()`` has PyTorch's layout, so that a torch optimizer's state dict (tensors converted to arrays)
    loads here and glassnet's loads into torch: ``{"state": {index: {"step": float, buffer: array, …}},
    "param_groups": [{hyper-parameter: value, …, "params": [index, …]}]}``, parameters numbered across the groups
    in order, each with the buffers PyTorch keeps for its group's options (``state_names``).
    """

    buffer_names: tuple[str, ...] = ()
    decaying_buffers: tuple[str, ...] = ()  # the buffers that decay while a gradient is 0 (see flush_subnormals)
    counts_steps = True  # PyTorch keeps "step" in a parameter's state (SGD keeps none)
    state_from_start = False  # PyTorch has a state for every parameter from the start (Adagrad), not its first step

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self.param_groups: list[dict[str, Any]] = []
        self._flat: list[_FlatGroup] = []
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for group in params if isinstance(params[0], dict) else [{"params": params}]:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (the others from ``defaults``), also after
        steps (e.g. when unfreezing layers); its parameters start without state, as in PyTorch."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{type(self).__name__}.add_param_group: expected a dict with a 'params' list, got "
                            f"{type(group).__name__}")
        group = dict(group)
        params = group["params"]
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{type(self).__name__}: parameters must be given in an ordered collection (a list), "
                            f"not a set, whose order changes between runs")
        params = [params] if isinstance(params, Tensor) else list(params)
        if params and all(isinstance(p, tuple) and len(p) == 2 for p in params):  # model.named_parameters()
            group["param_names"] = [name for name, _ in params]
            params = [p for _, p in params]
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Tensor with requires_grad=True, "
                                f"got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: parameter {i} is not a leaf (it is computed from other "
                                 f"tensors); optimize the tensors it is computed from, or detach() it")
            if id(p) in taken:
                raise ValueError(f"{type(self).__name__}: parameter {i} appears in more than one param group")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: a parameter appears twice in one param group")
        unknown = set(group) - set(self.defaults) - GROUP_KEYS
        if unknown:
            raise TypeError(f"{type(self).__name__}: unknown option(s) {sorted(unknown)}; options are "
                            f"{sorted(self.defaults)}")
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.check(group)
        group["params"] = params
        self.param_groups.append(group)
        self._flat.append(_FlatGroup(params, self.buffer_names, self.initial_buffers(group)))

    # ---- what subclasses define
    def check(self, group: dict[str, Any]) -> None:
        """Validate a group's hyper-parameters (raise ValueError naming the bad one)."""
        _positive(self, "lr", group["lr"])
        if group.get("differentiable"):
            raise NotImplementedError(f"{type(self).__name__}: differentiable=True (autograd through the "
                                      f"optimizer's step) is not supported")

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        """The buffers PyTorch keeps for each parameter of ``group`` (its state's keys besides ``step``)."""
        return self.buffer_names

    def initial_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        """Starting value of each state buffer that does not start at 0."""
        return {}

    def update(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, buffers: dict[str, np.ndarray],
               step: int, scratch: np.ndarray) -> None:
        """Apply one step of the rule in place to ``param`` (one parameter's array, or the group's flat array).

        ``scratch`` is an array of param's shape for temporaries: in-place work on it allocates nothing, which on
        large models is 3× faster than temporaries (each a fresh allocation of the model's size)."""
        raise NotImplementedError

    # ---- the loop
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient. ``closure`` re-evaluates the model and returns the loss.

        The rules work on the parameters' arrays, so no graph is recorded."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group, flat in zip(self.param_groups, self._flat):
            grad = flat.gradient()
            if grad is not None and flat.uniform:
                step = flat.steps[0] + 1
                flat.steps = [step] * len(flat.steps)
                self._update_flat(group, flat, -grad if group["maximize"] else grad, step)
            else:
                for i, p in enumerate(group["params"]):
                    if p.grad is not None:
                        flat.steps[i] += 1
                        grad = -p.grad._data if group["maximize"] else p.grad._data
                        self.update(group, p._data, grad.astype(p._data.dtype, copy=False), flat.buffer_views(i),
                                    flat.steps[i], flat.view(flat.scratch, i))
                flat.uniform = len(set(flat.steps)) == 1
            mark_changed(flat._data)  # one stamp for the group's parameters (views of this buffer)
            flat.updates += 1
            if flat.updates % FLUSH_EVERY == 0:
                flat.flush_subnormals(self.decaying_buffers)
        return loss

    def _update_flat(self, group: dict[str, Any], flat: _FlatGroup, grad: np.ndarray, step: int) -> None:
        """The rule on the group's flat arrays; a large group in slices of `SLICE` elements, whose arrays stay in the
        CPU's cache through the rule's dozen passes (a quarter faster on a 500k-parameter model). The rules are
        elementwise, so slices are independent."""
        if flat._data.size <= SLICE:
            self.update(group, flat._data, grad, flat.buffers, step, flat.scratch)
            return
        for start in range(0, flat._data.size, SLICE):
            part = slice(start, start + SLICE)
            self.update(group, flat._data[part], grad[part], {name: b[part] for name, b in flat.buffers.items()}, step,
                        flat.scratch[part])

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad._data = np.zeros_like(p._data)

    # ---- state
    def _entries(self) -> Iterator[tuple[int, dict[str, Any], _FlatGroup, int]]:
        """(index across the groups, group, flat group, index in the group) of every parameter with state (none
        before its first step, except for Adagrad; none for SGD without momentum, as PyTorch)."""
        index = 0
        for group, flat in zip(self.param_groups, self._flat):
            kept = self.counts_steps or self.state_names(group)
            for i in range(len(group["params"])):
                if kept and (flat.steps[i] or self.state_from_start):
                    yield index, group, flat, i
                index += 1

    def _entry(self, group: dict[str, Any], flat: _FlatGroup, i: int) -> dict[str, Any]:
        """Parameter i's state as PyTorch keeps it: ``step`` (a float, as torch's) and the group's buffers (views)."""
        entry: dict[str, Any] = {"step": float(flat.steps[i])} if self.counts_steps else {}
        views = flat.buffer_views(i)
        entry.update((name, views[name]) for name in self.state_names(group))
        return entry

    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """Per-parameter state as in PyTorch, for the parameters that have one: ``step`` and the rule's buffers
        (Tensors sharing the optimizer's memory)."""
        state = {}
        for _, group, flat, i in self._entries():
            entry = self._entry(group, flat, i)
            state[group["params"][i]] = {key: Tensor._wrap(value) if isinstance(value, np.ndarray) else value
                                         for key, value in entry.items()}
        return state

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {"step": …, buffer: array…}}, "param_groups": [{hyper-parameters…, "params":
        [index…]}]}`` in PyTorch's layout; the arrays are copies."""
        state = {index: {key: value.copy() if isinstance(value, np.ndarray) else value
                         for key, value in self._entry(group, flat, i).items()}
                 for index, group, flat, i in self._entries()}
        groups, start = [], 0
        for group in self.param_groups:
            count = len(group["params"])
            groups.append({**{key: v for key, v in group.items() if key != "params"},
                           "params": list(range(start, start + count))})
            start += count
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict of ``state_dict()``'s layout (also a torch optimizer's, its tensors converted to
        arrays): the hyper-parameters of each group, and each parameter's step and buffers."""
        name = type(self).__name__
        groups, entries = state_dict["param_groups"], state_dict.get("state", {})
        if len(groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(groups)} param group(s), the "
                             f"optimizer {len(self.param_groups)}")
        for k, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{name}.load_state_dict: param group {k} has {len(saved['params'])} parameters "
                                 f"in the state dict, {len(group['params'])} in the optimizer")
            unknown = set(saved) - set(self.defaults) - GROUP_KEYS
            if unknown:
                raise ValueError(f"{name}.load_state_dict: param group {k} has option(s) {sorted(unknown)} that "
                                 f"{name} does not have (a state dict of another optimizer?)")
            self.check({**group, **saved})
        for saved, group, flat in zip(groups, self.param_groups, self._flat):
            options = {key: v for key, v in saved.items() if key != "params"}
            if "betas" in options:
                options["betas"] = tuple(options["betas"])
            group.update(options)
            initial = self.initial_buffers(group)
            for i, index in enumerate(saved["params"]):
                entry = entries.get(index, entries.get(str(index)))
                flat.steps[i] = self._load_entry(group, flat, i, index, entry, initial)
            flat.uniform = len(set(flat.steps)) == 1

    def _load_entry(self, group: dict[str, Any], flat: _FlatGroup, i: int, index: Any, entry: dict[str, Any] | None,
                    initial: dict[str, float]) -> int:
        """Write one parameter's saved buffers into the flat state; returns its step count."""
        name, views = type(self).__name__, flat.buffer_views(i)
        entry = entry or {}
        unknown = set(entry) - set(self.buffer_names) - {"step"}
        if unknown:
            raise ValueError(f"{name}.load_state_dict: the state of parameter {index} has {sorted(unknown)}, which "
                             f"{name} does not keep (it keeps {sorted(self.state_names(group))})")
        for buffer, view in views.items():
            if buffer not in entry:
                view[...] = initial.get(buffer, 0.0)
                continue
            value = np.asarray(entry[buffer])
            if value.shape != view.shape:
                raise ValueError(f"{name}.load_state_dict: {buffer} of parameter {index} has shape {value.shape}, "
                                 f"the parameter {view.shape}")
            view[...] = value
        if "step" in entry:
            return int(float(np.asarray(entry["step"])))
        return 1 if entry else 0  # SGD keeps no step: a momentum buffer means it has stepped

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _finite(value: Any) -> bool:
    """Whether value is a finite real number (NaN and ±inf are refused with the other bad values)."""
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _positive(optimizer: Optimizer, name: str, value: Any) -> None:
    if not _finite(value) or value <= 0:
        raise ValueError(f"{type(optimizer).__name__}: {name} must be a number > 0, got {value!r}")


def _at_least_zero(optimizer: Optimizer, name: str, value: Any) -> None:
    if not _finite(value) or value < 0:
        raise ValueError(f"{type(optimizer).__name__}: {name} must be a number ≥ 0, got {value!r}")


def _fraction(optimizer: Optimizer, name: str, value: Any) -> None:
    if not _finite(value) or not 0 <= value < 1:
        raise ValueError(f"{type(optimizer).__name__}: {name} must lie in [0, 1), got {value!r}")
