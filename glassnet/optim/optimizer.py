"""The optimizer base class: param groups, per-parameter state, and a flat fast path.

Each optimizer writes its update rule once, as ``update(group, param, grad, buffers, step, scratch)`` on plain
arrays, in place. The parameters of a group live in one contiguous buffer (each ``Parameter._data`` is a view into
it), and so do their gradients and the rule's state buffers; when every parameter of the group has a gradient and
the same step count, the rule runs once on the whole buffers (a handful of NumPy calls for the whole model) instead
of once per parameter. Otherwise it runs per parameter on views, which is exactly PyTorch's behaviour (a parameter
without a gradient is skipped).
"""
from __future__ import annotations

from numbers import Real
from typing import Any, Callable, Iterable

import numpy as np

from ..autograd import mark_changed, offer_buffer
from ..tensor import Tensor, enable_grad

__all__ = ["Optimizer"]

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
    """Base class. Subclasses set ``defaults``-checked hyper-parameters, ``buffer_names`` and ``update``."""

    buffer_names: tuple[str, ...] = ()
    decaying_buffers: tuple[str, ...] = ()  # the buffers that decay while a gradient is 0 (see flush_subnormals)

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
        group = dict(group)
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {i} must be a Tensor with requires_grad=True, "
                                f"got {type(p).__name__}")
            if id(p) in taken:
                raise ValueError(f"{type(self).__name__}: parameter {i} appears in more than one param group")
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
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
    @property
    def state(self) -> dict[Tensor, dict[str, Any]]:
        """Per-parameter state as in PyTorch (``step`` and the rule's buffers, as views), for stepped params."""
        state = {}
        for group, flat in zip(self.param_groups, self._flat):
            for i, p in enumerate(group["params"]):
                if flat.steps[i]:
                    state[p] = {"step": flat.steps[i], **flat.buffer_views(i)}
        return state

    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {step, buffers…}}, "param_groups": [{hyper-parameters…, "params": [index…]}]}``."""
        state, groups, index = {}, [], 0
        for group, flat in zip(self.param_groups, self._flat):
            indices = list(range(index, index + len(group["params"])))
            for i, k in enumerate(indices):
                if flat.steps[i]:
                    state[k] = {"step": flat.steps[i],
                                **{name: v.copy() for name, v in flat.buffer_views(i).items()}}
            groups.append({**{key: v for key, v in group.items() if key != "params"}, "params": indices})
            index += len(indices)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(g["params"]) != len(mine["params"]) for g, mine in zip(groups, self.param_groups)):
            raise ValueError("optimizer state_dict does not match: different numbers of param groups or parameters")
        for saved, group, flat in zip(groups, self.param_groups, self._flat):
            group.update({k: v for k, v in saved.items() if k != "params"})
            for i, k in enumerate(saved["params"]):
                entry = state_dict["state"].get(k, state_dict["state"].get(str(k)))
                flat.steps[i] = 0 if entry is None else int(entry["step"])
                for name, view in flat.buffer_views(i).items():
                    view[...] = np.asarray(entry[name]) if entry is not None else 0.0
            flat.uniform = len(set(flat.steps)) == 1

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _positive(optimizer: Optimizer, name: str, value: Any) -> None:
    if not isinstance(value, Real) or value <= 0:
        raise ValueError(f"{type(optimizer).__name__}: {name} must be a number > 0, got {value!r}")


def _at_least_zero(optimizer: Optimizer, name: str, value: Any) -> None:
    if not isinstance(value, Real) or value < 0:
        raise ValueError(f"{type(optimizer).__name__}: {name} must be a number ≥ 0, got {value!r}")


def _fraction(optimizer: Optimizer, name: str, value: Any) -> None:
    if not isinstance(value, Real) or not 0 <= value < 1:
        raise ValueError(f"{type(optimizer).__name__}: {name} must lie in [0, 1), got {value!r}")
