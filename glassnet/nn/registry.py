"""The module classes that ``gn.load`` may build: glassnet's own and those registered with ``@register_module``.

A file names classes, never code: loading looks the name up here and calls that class's constructor with the
recorded arguments. ``register_module`` records the arguments each instance was built with, so that ``gn.save``
can store them (when they are JSON data: numbers, strings, lists, dicts, modules); a class whose arguments are not
defines ``get_config()``, returning keyword arguments that rebuild it.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar, overload

from .module import Module

__all__ = ["register_module", "registered", "name_of", "constructor_arguments"]

M = TypeVar("M", bound=type[Module])

_REGISTERED: dict[str, type[Module]] = {}


@overload
def register_module(cls: M) -> M: ...


@overload
def register_module(cls: None = None, *, name: str | None = None) -> Callable[[M], M]: ...


def register_module(cls: Any = None, *, name: str | None = None) -> Any:
    """Class decorator: let ``gn.load`` rebuild this Module subclass (under ``name``, by default its class name).

    Each instance remembers the arguments of its constructor call; ``gn.save`` stores them, and ``gn.load`` calls
    the constructor with them before it fills the weights from the file.
    """
    def register(cls: M) -> M:
        if not (isinstance(cls, type) and issubclass(cls, Module)):
            raise TypeError(f"register_module decorates Module subclasses, got {cls!r}")
        key = name or cls.__name__
        builtin = _builtins().get(key)
        if builtin is not None and builtin is not cls:
            raise ValueError(f"register_module: {key!r} is the name of glassnet's nn.{key}; pass another name, "
                             f"e.g. @register_module(name='my_{key}')")
        original = cls.__init__

        @functools.wraps(original)
        def __init__(self: Module, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            if type(self) is cls:  # the class being built records its own call, not a registered base class
                object.__setattr__(self, "_constructor_arguments", (args, kwargs))

        cls.__init__ = __init__
        cls._registered_name = key
        _REGISTERED[key] = cls
        return cls

    return register if cls is None else register(cls)


def _builtins() -> dict[str, type[Module]]:
    """glassnet's own Module classes (those defined in ``glassnet.nn``), by class name."""
    found: dict[str, type[Module]] = {}
    stack = list(Module.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("glassnet.nn."):
            found.setdefault(cls.__name__, cls)
    return found


def registered(name: str) -> type[Module] | None:
    """The class that ``name`` stands for in a file, or None."""
    return _REGISTERED.get(name) or _builtins().get(name)


def name_of(cls: type[Module]) -> str | None:
    """The name under which ``cls`` is stored, or None if ``gn.load`` could not rebuild it."""
    key = cls.__dict__.get("_registered_name") or cls.__name__
    return key if registered(key) is cls else None


def constructor_arguments(module: Module) -> tuple[tuple, dict[str, Any]] | None:
    """(args, kwargs) of the constructor call that built ``module``, when its class is registered."""
    return module.__dict__.get("_constructor_arguments")
