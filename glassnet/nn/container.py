"""Containers: ``Sequential`` (modules applied in order), ``ModuleList``, ``ModuleDict``, ``ParameterList`` and
``ParameterDict``, with torch's indexing and editing.

Speed that never changes meaning: ``plan(sequential)`` is the one place that decides how a Sequential runs. A run of
layers of exactly ``Linear``, each with an activation of exactly a built-in type (or an Identity) after it, becomes
one graph node (`F.dense_stack`), which computes what the modules' own ``forward`` would; a subclass, an instance
with its own ``forward`` or a module with hooks runs through its own ``__call__``. The plan is cached and made again
after any change it depends on (``Module._tree_version``: children added, replaced or removed anywhere, hooks
registered or removed); weights, biases and activation settings are read at each call, so assigning them needs no
new plan.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping

from ..tensor import Tensor
from . import functional as F
from .activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, SiLU, Softplus, Tanh
from .linear import Identity, Linear
from .module import Module, Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "DenseRun", "plan"]

# the activations whose forward is exactly `ops.apply_activation(x, self.activation)`, which dense_stack reproduces
FUSED_ACTIVATIONS = frozenset({ReLU, Tanh, Sigmoid, LeakyReLU, GELU, SiLU, ELU, Softplus})


def _runs_as_its_class(module: Module) -> bool:
    """No hooks and no ``forward`` of its own: calling it is exactly its class's forward."""
    return not (module._forward_hooks or module._forward_pre_hooks or "forward" in module.__dict__)


class DenseRun:
    """Consecutive Linear layers of a Sequential, each with the activation module after it (or None), run as one
    graph node: ``x`` → activation(x·Wᵀ + b), layer after layer."""

    def __init__(self) -> None:
        self.layers: list[tuple[Linear, Module | None]] = []

    @property
    def modules(self) -> list[Module]:
        """The modules the run stands for, in order."""
        return [m for pair in self.layers for m in pair if m is not None]

    def __call__(self, x: Any) -> Tensor:
        x = self.layers[0][0].checked_input(x)
        return F.dense_stack(x, [(linear.weight, linear.bias, None if act is None else act.activation)
                                 for linear, act in self.layers])

    def __repr__(self) -> str:
        return f"DenseRun({', '.join(type(m).__name__ for m in self.modules)})"


def plan(sequential: Sequential) -> list[tuple[int, Module | DenseRun]]:
    """How ``sequential`` runs: (position of its first module, what runs) per step, where a step is one child
    module or a DenseRun of fused Linear layers and activations."""
    children = list(sequential._modules.values())
    steps: list[tuple[int, Module | DenseRun]] = []
    run, i = None, 0
    while i < len(children):
        layer = children[i]
        if type(layer) is not Linear or not _runs_as_its_class(layer):
            steps.append((i, layer))
            run, i = None, i + 1
            continue
        following = children[i + 1] if i + 1 < len(children) else None
        fused = type(following) in FUSED_ACTIVATIONS and _runs_as_its_class(following)
        identity = type(following) is Identity and _runs_as_its_class(following)  # a linear layer's "activation"
        if run is None or run.layers[-1][0].out_features != layer.in_features:
            run = DenseRun()
            steps.append((i, run))
        run.layers.append((layer, following if fused else None))
        i += 2 if fused or identity else 1
    return steps


def _with_context(error: Exception, message: str) -> Exception:
    """``error`` again, of the same class when it can be rebuilt from a message (ShapeError stays ShapeError)."""
    try:
        return type(error)(message)
    except Exception:  # a class whose constructor wants more than a message
        return ValueError(message)


class _Indexed(Module):
    """Sub-modules kept in order under the names "0", "1", …: torch's list-like editing for Sequential and
    ModuleList (an edit renumbers the children, as torch does)."""

    def get_config(self) -> dict[str, Any]:
        """No arguments: gn.load builds the container empty and adds the children the file holds."""
        return {}

    def _key(self, index: Any) -> str:
        keys = list(self._modules)
        if isinstance(index, bool) or not hasattr(index, "__index__"):
            raise TypeError(f"{type(self).__name__} indices must be integers or slices, not "
                            f"{type(index).__name__}")
        i = index.__index__()
        if not -len(keys) <= i < len(keys):
            raise IndexError(f"index {i} is out of range for a {type(self).__name__} of {len(keys)} modules")
        return keys[i]

    def _renumber(self, modules: Iterable[Module]) -> None:
        self._set_children((str(i), module) for i, module in enumerate(modules))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}[{index}] = …: {type(module).__name__} is not a Module")
        setattr(self, self._key(index), module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            modules.pop(list(self._modules).index(self._key(index)))
        self._renumber(modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def append(self, module: Module) -> _Indexed:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> _Indexed:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` before position ``index`` (as list.insert)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: {type(module).__name__} is not a Module")
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules: Iterable[Module]) -> _Indexed:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> _Indexed:
        if not isinstance(other, type(self)):
            raise TypeError(f"{type(self).__name__} + {type(other).__name__}: add a {type(self).__name__}")
        return type(self)(*self, *other)

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_Indexed):
    """Modules applied in order: ``Sequential(m0, m1, …)``, or ``Sequential(OrderedDict(name=module…))`` to name
    them. Runs of Linear layers with built-in activations run as one graph node (see `plan`)."""

    children_are_arguments = True  # gn.save rebuilds it as Sequential(*children)
    _plan: tuple[int, list] = (-1, [])  # (Module._tree_version it was made at, steps); each instance sets its own

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            named = list(modules[0].items())
        elif len(modules) == 1 and isinstance(modules[0], Mapping):
            raise TypeError("Sequential: pass the named modules as an OrderedDict (as torch), not a "
                            f"{type(modules[0]).__name__}")
        else:
            named = [(str(i), module) for i, module in enumerate(modules)]
        for i, (name, module) in enumerate(named):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, not a Module")
            self.add_module(name, module)

    def forward(self, input: Any) -> Any:
        version, steps = self._plan
        if version != Module._tree_version:
            steps = plan(self)
            object.__setattr__(self, "_plan", (Module._tree_version, steps))
        for i, step in steps:
            try:
                input = step(input)
            except ValueError as error:
                name = "Linear" if type(step) is DenseRun else type(step).__name__
                raise _with_context(error, f"layer {i} ({name}) of the Sequential: {error}") from None
        return input


class ModuleList(_Indexed):
    """A list of sub-modules (registered, so their parameters are the owner's): index, slice, append, extend,
    insert, del; it has no forward of its own."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if isinstance(modules, OrderedDict):  # what slicing passes
            modules = modules.values()
        self.extend(modules or ())

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """Equal neighbours shown once, as torch: "(0-2): 3 x Linear(...)"."""
        blocks: list[list[Any]] = []  # [first, last, repr]
        for i, module in enumerate(self):
            text = repr(module)
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        if not blocks:
            return "ModuleList()"
        lines = [(f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + text.replace("\n", "\n  ")
                 for a, b, text in blocks]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class _Named(Module):
    """Members by name in insertion order, dict-like: sub-modules (``_registry = "_modules"``) or parameters."""

    _registry = "_modules"

    def _members(self) -> dict[str, Any]:
        return self.__dict__[self._registry]

    def __getitem__(self, key: str) -> Any:
        return self._members()[key]

    def __delitem__(self, key: str) -> None:
        if key not in self._members():
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._members())

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._members()))

    def __contains__(self, key: object) -> bool:
        return key in self._members()

    def keys(self) -> list[str]:
        return list(self._members().keys())

    def items(self) -> list[tuple[str, Any]]:
        return list(self._members().items())

    def values(self) -> list[Any]:
        return list(self._members().values())

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def update(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        for key, value in (values.items() if isinstance(values, Mapping) else values):
            self[key] = value

    def get_config(self) -> dict[str, Any]:
        """A container is built empty: ``gn.load`` adds the file's sub-modules, or (ParameterList, ParameterDict)
        its parameters, under their names."""
        return {}


class ModuleDict(_Named):
    """A dict of sub-modules by name (insertion order kept)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict[{key!r}] = …: {type(module).__name__} is not a Module")
        self.add_module(key, module)

    def clear(self) -> None:
        self._set_children(())


def _as_parameter(owner: str, value: Any) -> Parameter:
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Tensor):
        return Parameter(value)
    raise TypeError(f"{owner}: expected a Parameter or Tensor, got {type(value).__name__}")


def _parameter_repr(owner: Module) -> str:
    """torch's one-line summary: "ParameterList(  (0): Parameter containing: [float32 of size 2x3])"."""
    lines = [f"  ({name}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
             for name, p in owner._parameters.items()]
    return f"{type(owner).__name__}(" + "\n".join(lines) + ")"


class ParameterList(Module):
    """A list of Parameters registered under "0", "1", … (Tensors are wrapped in Parameters)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self.extend(values or ())

    def _key(self, index: Any) -> str:
        n = len(self._parameters)
        i = index.__index__()
        if not -n <= i < n:
            raise IndexError(f"index {i} is out of range for a ParameterList of {n} parameters")
        return str(i % n)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[self._key(index)]

    def __setitem__(self, index: int, value: Any) -> None:
        setattr(self, self._key(index), _as_parameter("ParameterList", value))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(list(self._parameters.values()))

    def append(self, value: Any) -> ParameterList:
        setattr(self, str(len(self._parameters)), _as_parameter("ParameterList", value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def __repr__(self) -> str:
        return _parameter_repr(self)

    get_config = _Named.get_config


class ParameterDict(_Named):
    """A dict of Parameters by name (Tensors are wrapped in Parameters)."""

    _registry = "_parameters"

    def __init__(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        if values is not None:
            self.update(values)

    def __setitem__(self, key: str, value: Any) -> None:
        self.register_parameter(key, _as_parameter("ParameterDict", value))

    def __repr__(self) -> str:
        return _parameter_repr(self)
