"""``Module`` and ``Parameter``: state (weights, train/eval mode) around the stateless functions."""
from __future__ import annotations

from types import MappingProxyType
from typing import Any, Callable, Iterator, Mapping, NamedTuple

import numpy as np

from ..autograd import offer_buffer
from ..tensor import Tensor, _check_device, get_default_dtype, no_grad, watch_accumulation
from ..tensor import device as _device

__all__ = ["Module", "Parameter", "evaluating", "RemovableHandle", "IncompatibleKeys", "StateDictError"]


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer trains (``requires_grad=True``).

    ``_grad_store`` is the buffer offered for its first gradient (by the optimizer: a view of its flat gradient
    buffer; see ``autograd.offer_buffer``), which backward writes into.
    """

    __slots__ = ("_grad_store", "_accumulate_hooks")

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        """``data``: a Tensor (whose memory the parameter shares, as torch's) or an array; None gives an empty
        parameter. Integer data becomes the default float dtype."""
        if data is None:
            data = np.empty(0, get_default_dtype())
        array = np.asarray(data._data if isinstance(data, Tensor) else data)
        if array.dtype.kind != "f":
            array = array.astype(get_default_dtype())
        super().__init__(array, requires_grad=requires_grad)
        self._grad_store: np.ndarray | None = None
        self._accumulate_hooks: dict[int, Callable[[Tensor], None]] | None = None

    def __getstate__(self) -> tuple[None, dict[str, Any]]:
        """Pickled and copied without the gradient store: a view of one optimizer's buffer is no part of the
        parameter (pickled, it would be a second copy of the gradient), and a copy gets a store of its own from
        the optimizer that takes it."""
        slots = {name: getattr(self, name) for name in Tensor.__slots__ if name != "__weakref__"}
        return None, dict(slots, _grad_store=None, _accumulate_hooks=None)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Run ``hook(param)`` in every backward pass once ``param.grad`` holds the pass's whole gradient, i.e.
        after the last op that used the parameter has added its part (PyTorch's hook of that name): the parameters
        of the last layers are done first, while backward still works on the first ones. Not run by
        ``autograd.grad``, which accumulates nothing. A copy or pickle of the parameter has no hooks. Returns a
        handle whose ``remove()`` takes the hook away."""
        if not callable(hook):
            raise TypeError(f"register_post_accumulate_grad_hook needs a function of the parameter, got "
                            f"{type(hook).__name__}")
        if self._accumulate_hooks is None:
            self._accumulate_hooks = {}
            watch_accumulation(self)
        handle = RemovableHandle(self._accumulate_hooks, {})
        self._accumulate_hooks[handle.id] = hook
        return handle

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` did not match: keys the model has but the state lacks, and the reverse."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


class StateDictError(ValueError, RuntimeError):
    """A state dict that does not fit the model (missing or unexpected keys, shapes); a RuntimeError as in torch."""


class RemovableHandle:
    """What ``register_forward_hook``, ``register_forward_pre_hook`` and a parameter's
    ``register_post_accumulate_grad_hook`` return: ``handle.remove()`` (or leaving ``with handle:``) takes the hook
    away."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Any], options: dict[int, bool]) -> None:
        self._hooks, self._options = hooks, options
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        self._options.pop(self.id, None)
        if self._hooks.pop(self.id, None) is not None:
            Module._tree_version += 1

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def _check_name(owner: Module, kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{type(owner).__name__}: {kind} name should be a string, got {type(name).__name__}")
    if not name or "." in name:
        raise KeyError(f"{type(owner).__name__}: {kind} name {name!r} must be non-empty and contain no '.'")


class Module:
    """Base class of layers and models: subclasses set Parameters and sub-Modules as attributes and define
    ``forward``. Calling the module runs its forward pre-hooks, ``forward`` and its forward hooks."""

    training: bool
    # Bumped by every change that a cached forward plan (``nn.container.plan``) depends on: a sub-module added,
    # replaced or removed, a hook registered or removed, ``forward`` or ``__class__`` assigned on an instance. A
    # Sequential compares it with the version its plan was made at: one integer comparison per call.
    _tree_version = 0
    _forward_hooks: Mapping[int, Any] = MappingProxyType({})  # instances get their own dicts in __init__
    _forward_pre_hooks: Mapping[int, Any] = MappingProxyType({})

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_hook_options", {})
        object.__setattr__(self, "training", True)

    # ---- registration
    def __setattr__(self, name: str, value: Any) -> None:
        registry = self.__dict__.get("_parameters")
        if registry is None and isinstance(value, (Parameter, Module)):
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning {name!r}")
        if isinstance(value, Parameter):
            if self._modules.pop(name, None) is not None:
                Module._tree_version += 1
            self._buffers.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._buffers.pop(name, None)
            self._modules[name] = value
            Module._tree_version += 1
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
            if self._modules.pop(name, None) is not None or name in ("forward", "__class__"):
                Module._tree_version += 1
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._non_persistent.discard(name)
        if self._modules.pop(name, None) is not None or name == "forward":
            Module._tree_version += 1
        object.__delattr__(self, name)

    def _set_children(self, children: Iterator[tuple[str, Module]]) -> None:
        """Replace all sub-modules by ``children`` (name, module), in that order (containers' edits)."""
        for name in self._modules:
            object.__delattr__(self, name)
        self._modules.clear()
        for name, module in children:
            self._modules[name] = module
            object.__setattr__(self, name, module)
        Module._tree_version += 1

    def add_module(self, name: str, module: Module | None) -> None:
        """Register ``module`` as the sub-module ``name`` (as ``self.name = module``)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module({name!r}): {type(module).__name__} is not a Module")
        _check_name(self, "module", name)
        if hasattr(self, name) and name not in self._modules:  # as torch: never hide a method or attribute
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")
        setattr(self, name, module)

    register_module = add_module

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` as the parameter ``name`` (None: a parameter slot that is not set, e.g. a bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter({name!r}): expected a Parameter or None, "
                            f"got {type(param).__name__} (wrap a tensor in nn.Parameter)")
        _check_name(self, "parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")
        setattr(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Keep ``tensor`` as state that is not trained (e.g. BatchNorm's running statistics): it is in
        ``state_dict()`` unless ``persistent=False``, and ``to()``/``double()`` cast it."""
        _check_name(self, "buffer", name)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"{type(self).__name__}.register_buffer({name!r}): expected a Tensor or None, got "
                            f"{type(tensor).__name__}")
        if name in self._parameters or name in self._modules or (name in self.__dict__ and name not in
                                                                 self._buffers):
            raise KeyError(f"{type(self).__name__}: attribute {name!r} already exists")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    # ---- forward and hooks
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks or self._forward_hooks:
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    def _call_with_hooks(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """forward between its hooks, as torch: a pre-hook may return new arguments, a hook a new output."""
        options = self._hook_options
        for key, hook in list(self._forward_pre_hooks.items()):
            if options.get(key):
                replaced = hook(self, args, kwargs)
                if replaced is not None:
                    if not (isinstance(replaced, tuple) and len(replaced) == 2):
                        raise TypeError(f"forward pre-hook {hook!r} with_kwargs=True must return None or a tuple "
                                        f"(args, kwargs), got {type(replaced).__name__}")
                    args, kwargs = replaced
            else:
                replaced = hook(self, args)
                if replaced is not None:
                    args = replaced if isinstance(replaced, tuple) else (replaced,)
        output = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            replaced = hook(self, args, kwargs, output) if options.get(key) else hook(self, args, output)
            if replaced is not None:
                output = replaced
        return output

    def _add_hook(self, hooks_name: str, hook: Callable, prepend: bool, with_kwargs: bool) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"{type(self).__name__}: a hook must be callable, got {type(hook).__name__}")
        if "_hook_options" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before registering hooks")
        hooks = self.__dict__[hooks_name]
        handle = RemovableHandle(hooks, self._hook_options)
        hooks[handle.id] = hook
        if prepend:
            for key in [k for k in hooks if k != handle.id]:
                hooks[key] = hooks.pop(key)
        self._hook_options[handle.id] = with_kwargs
        Module._tree_version += 1
        return handle

    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward (``hook(module, args, kwargs)`` with ``with_kwargs``);
        a result other than None replaces the arguments (a non-tuple is the single argument)."""
        return self._add_hook("_forward_pre_hooks", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward (``hook(module, args, kwargs, output)`` with
        ``with_kwargs``); a result other than None replaces the output."""
        return self._add_hook("_forward_hooks", hook, prepend, with_kwargs)

    # ---- traversal (torch's order: depth first, each module before its children, in registration order)
    def named_modules(self, memo: set[Module] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every descendant, depth first, with dotted names; a module reached twice is given once
        (unless ``remove_duplicate=False``; ``memo``: modules to leave out, to which those given are added)."""
        seen = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in seen:
                    continue
                seen.add(module)
            yield name, module
            stack.extend(reversed([(f"{name}.{child_name}" if name else child_name, child)
                                   for child_name, child in module._modules.items()]))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of the direct sub-modules, each module once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else \
            [(prefix, self)]
        for module_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield (f"{module_name}.{name}" if module_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, each parameter once even when shared; ``recurse=False``: this
        module's own."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def _unique_modules(self) -> list[Module]:
        """This module and every descendant once, in ``named_modules()``'s order, without building names."""
        order, seen, stack = [], set(), [self]
        while stack:
            module = stack.pop()
            if module not in seen:
                seen.add(module)
                order.append(module)
                stack.extend(reversed(module._modules.values()))
        return order

    def _registry_values(self, registry: str, recurse: bool) -> Iterator[Any]:
        """The values of ``named_parameters()``/``named_buffers()`` without their names (half the time of a walk
        that builds them: an optimizer, ``clip_grad_norm_`` and a per-epoch NaN check call these)."""
        seen: set[int] = set()
        for module in self._unique_modules() if recurse else (self,):
            for value in getattr(module, registry).values():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield value

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        return self._registry_values("_parameters", recurse)

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs of the buffers that are set (not None), each once."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        return self._registry_values("_buffers", recurse)

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path ``target`` ("" is this module)."""
        module = self
        for part in target.split(".") if target else ():
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no sub-module {part!r} (in {target!r})")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (e.g. "0.weight")."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if name not in module._parameters or module._parameters[name] is None:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r} (in {target!r})")
        return module._parameters[name]

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` (e.g. "0.running_mean")."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if module._buffers.get(name) is None:
            raise AttributeError(f"{type(module).__name__} has no buffer {name!r} (in {target!r})")
        return module._buffers[name]

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """``fn(module)`` for every sub-module, children before their parent (as torch), then this one."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---- modes and gradients
    def train(self, mode: bool = True) -> Module:
        """Training mode (``mode=False``: evaluation mode) for this module and, through their own ``train``,
        its children; returns the module."""
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
        object.__setattr__(self, "training", mode)
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the parameters' gradients: ``.grad = None``, or (``set_to_none=False``) zeros in place."""
        for param in self.parameters():
            if set_to_none or param.grad is None:
                param.grad = None
            else:
                param.grad._data[...] = 0

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
    def state_dict(self, destination: dict[str, Any] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Name → value of every parameter and persistent buffer, in torch's order (each module's own
        parameters, then its buffers, then its children's). Values are detached Tensors sharing the model's
        memory, as torch's (``keep_vars=True``: the Parameters themselves): to keep a snapshot, copy it
        (``copy.deepcopy(model.state_dict())``)."""
        state = {} if destination is None else destination
        for name, value in self._state_items(prefix):
            state[name] = value if keep_vars else value.detach()
        return state

    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """(name, parameter or buffer) of the state, shared modules under each of their names (as torch)."""
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            for name, param in module._parameters.items():
                if param is not None:
                    yield path + name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent:
                    yield path + name, buffer
            stack.extend(reversed([(f"{path}{name}.", child) for name, child in module._modules.items()]))

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the parameters and persistent buffers, in place (optimizers keep their
        views), cast to each one's dtype. Returns the missing and unexpected keys; with ``strict`` any of them,
        and with or without it a shape that differs, raise StateDictError before anything is copied."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict for {type(self).__name__}: expected a dict of arrays, got "
                            f"{type(state_dict).__name__}")
        targets = dict(self._state_items())
        missing = [name for name in targets if name not in state_dict]
        unexpected = [name for name in state_dict if name not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        arrays = {}
        for name, value in state_dict.items():
            if name in targets:
                array = np.asarray(value._data if isinstance(value, Tensor) else value)
                shape = targets[name]._data.shape
                if array.shape != shape:
                    problems.append(f"size mismatch for {name!r}: shape {array.shape} in the state, {shape} in "
                                    f"the model")
                arrays[name] = array
        if problems:
            raise StateDictError(f"load_state_dict for {type(self).__name__}: " + "; ".join(problems))
        for name, array in arrays.items():
            targets[name]._data[...] = array
        return IncompatibleKeys(missing, unexpected)

    # ---- description
    def extra_repr(self) -> str:
        """This module's own settings for ``repr`` (e.g. "in_features=2, out_features=3, bias=True")."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + repr(child).replace("\n", "\n  ") for name, child in self._modules.items()]
        if len(extra_lines) == 1 and not child_lines:
            return f"{type(self).__name__}({extra_lines[0]})"
        lines = extra_lines + child_lines
        body = "\n  " + "\n  ".join(lines) + "\n" if lines else ""
        return f"{type(self).__name__}({body})"

    def _repr_html_(self) -> str:
        """What a notebook shows for the module: a table of its layers, output shapes (where one forward pass of
        zeros finds them) and parameter counts (``glassnet._html``, core-level: NumPy and the standard library)."""
        from .._html import module_html
        return module_html(self)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments that rebuild this module (used by ``gn.save``); built-in layers define it."""
        raise TypeError(f"{type(self).__name__} is not a built-in layer, so gn.save cannot record how to rebuild "
                        f"it; save its state_dict() instead (gn.save(model.state_dict(), path))")


class evaluating(no_grad):
    """``with evaluating(model):`` eval mode and no graph; afterwards every submodule gets back its own mode (also
    a decorator, as ``no_grad``).

    Cheap enough to wrap every evaluation (the playground evaluates after each epoch): one walk of the tree records
    the modes and finds whether ``model.eval()`` would only clear ``training`` flags (no module has a ``train`` or,
    at the root, an ``eval`` of its own); then the flags are set directly, else ``eval()`` runs. ``training`` is a
    plain instance attribute, written through ``__dict__`` (half the cost of ``object.__setattr__``)."""

    def __init__(self, model: Module) -> None:
        self.model = model

    def __enter__(self) -> Module:  # type: ignore[override]
        model = self.model
        modes: dict[Module, bool] = {}  # each module once, shared ones too
        plain, stack = type(model).eval is Module.eval, [model]
        while stack:
            module = stack.pop()
            if module not in modes:
                state = module.__dict__
                modes[module] = state["training"]
                plain = plain and type(module).train is Module.train and "train" not in state
                stack.extend(module._modules.values())
        self._modes = modes
        if plain:
            for module in modes:
                module.__dict__["training"] = False
        else:
            model.eval()
        super().__enter__()
        return model

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        for module, training in self._modes.items():
            module.__dict__["training"] = training

    def _copy(self) -> evaluating:
        copy = super()._copy()
        copy.model = self.model
        return copy
