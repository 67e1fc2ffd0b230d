"""``Module`` and ``Parameter``: state (weights, train/eval mode) around the stateless functions."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..autograd import offer_buffer
from ..tensor import Tensor, _check_device, get_default_dtype, no_grad
from ..tensor import device as _device

__all__ = ["Module", "Parameter", "evaluating"]


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer trains (``requires_grad=True``).

    ``_grad_store`` is the buffer offered for its first gradient (by the optimizer: a view of its flat gradient
    buffer; see ``autograd.offer_buffer``), which backward writes into.
    """

    __slots__ = ("_grad_store",)

    def __init__(self, data: Any, requires_grad: bool = True) -> None:
        array = np.asarray(data._data if isinstance(data, Tensor) else data)
        if array.dtype.kind != "f":
            array = array.astype(get_default_dtype())
        super().__init__(array, requires_grad=requires_grad)
        self._grad_store: np.ndarray | None = None

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        """Pickled and copied without the gradient store: a view of one optimizer's buffer is no part of the
        parameter (pickled, it would be a second copy of the gradient), and a copy gets a store of its own from
        the optimizer that takes it."""
        slots = {name: getattr(self, name) for name in Tensor.__slots__ if name != "__weakref__"}
        return None, dict(slots, _grad_store=None)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class LoadResult(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclasses set Parameters and sub-Modules as attributes and define
    ``forward``. Calling the module calls ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    # ---- registration
    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None and isinstance(value, (Parameter, Module)):
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
            self._structure_changed()
        elif registry is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer; assign a Tensor or None, not "
                                f"{type(value).__name__}")
            self._buffers[name] = value
        elif registry is not None:
            if name in self._parameters and value is not None:
                raise TypeError(f"{type(self).__name__}.{name} is a Parameter; assign a Parameter or None, "
                                f"not {type(value).__name__}")
            self._parameters.pop(name, None)
            if self._modules.pop(name, None) is not None:
                self._structure_changed()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        if self._modules.pop(name, None) is not None:
            self._structure_changed()
        object.__delattr__(self, name)

    def _structure_changed(self) -> None:
        """Hook: a sub-module was added, replaced or removed."""

    def add_module(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as state that is not trained (e.g. BatchNorm's running statistics): it is in
        ``state_dict()`` unless ``persistent=False``, and ``to()``/``double()`` cast it."""
        if "." in name or not name:
            raise KeyError(f"{type(self).__name__}.register_buffer: bad buffer name {name!r}")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}): expected a Tensor or None, got "
                            f"{type(tensor).__name__}")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists as a parameter or module")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    # ---- forward
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ---- traversal
    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, each parameter once even when shared."""
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if id(param) not in seen:
                    seen.add(id(param))
                    yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs of the buffers that are set (not None)."""
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, buffer in module._buffers.items():
                if buffer is not None:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def _persistent_buffers(self) -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules():
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield (f"{module_name}.{name}" if module_name else name), buffer

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, with dotted names."""
        stack = [(prefix, self)]
        seen: set[int] = set()
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(f"{name}.{child_name}" if name else child_name, child)
                                   for child_name, child in module._modules.items()]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def apply(self, fn: Callable[[Module], None]) -> Module:
        for module in self.modules():
            fn(module)
        return self

    # ---- modes and gradients
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad._data = np.zeros_like(param._data)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    # ---- dtype
    def to(self, *args: Any, dtype: Any = None, device: Any = None, non_blocking: bool = False) -> Module:
        """``to(dtype)``, ``to("cpu")``, ``to(device, dtype)`` or ``to(tensor)``: cast every parameter (and its
        gradient) and floating buffer to the dtype; the device must be the CPU (one clear error otherwise)."""
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg._data.dtype
            elif isinstance(arg, (str, _device)):
                device = arg
            else:
                dtype = arg
        _check_device(device)
        if dtype is None:
            return self
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"parameters must have a floating dtype, got {dtype}")
        for param in self.parameters():
            if param._data.dtype == dtype:
                continue
            param._data = param._data.astype(dtype)
            offer_buffer(param, None)  # of the old dtype: the optimizer offers a new one at its next step
            if param.grad is not None:
                param.grad._data = param.grad._data.astype(dtype)
        for buffer in self.buffers():
            if buffer._data.dtype.kind == "f":  # counters (e.g. num_batches_tracked) keep their integer type
                buffer._data = buffer._data.astype(dtype)
        return self

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        _check_device("cuda")
        return self

    def double(self) -> Module:
        return self.to(np.float64)

    def float(self) -> Module:
        return self.to(np.float32)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the first parameter (the default dtype for a module without parameters)."""
        return next((p._data.dtype for p in self.parameters()), get_default_dtype())

    # ---- state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Name → a copy of each parameter's and persistent buffer's array."""
        state = {name: param._data.copy() for name, param in self.named_parameters()}
        state.update((name, buffer._data.copy()) for name, buffer in self._persistent_buffers())
        return state

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> LoadResult:
        """Copy arrays (or Tensors) into the parameters and persistent buffers, cast to each one's dtype; shapes
        must match."""
        params = {**dict(self.named_parameters()), **dict(self._persistent_buffers())}
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if strict and (missing or unexpected):
            raise ValueError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, unexpected keys "
                             f"{unexpected}")
        for name, value in state.items():
            if name not in params:
                continue
            array = np.asarray(value._data if isinstance(value, Tensor) else value)
            param = params[name]
            if array.shape != param._data.shape:
                raise ValueError(f"load_state_dict: {name!r} has shape {array.shape} in the state but "
                                 f"{param._data.shape} in the model")
            param._data[...] = array  # in place: optimizers keep their views of the parameters
        return LoadResult(missing, unexpected)

    # ---- description
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        return f"{type(self).__name__}(\n" + "\n".join(lines) + "\n)"

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this module (used by ``gn.save``); built-in layers define it."""
        raise TypeError(f"{type(self).__name__} is not a built-in layer, so gn.save cannot record how to rebuild "
                        f"it; save its state_dict() instead (gn.save(model.state_dict(), path))")


@contextmanager
def evaluating(model: Module) -> Iterator[Module]:
    """``with evaluating(model):`` eval mode and no graph; afterwards every submodule gets back its own mode."""
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with no_grad():
            yield model
    finally:
        for module, training in modes:
            object.__setattr__(module, "training", training)
