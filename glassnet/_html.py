"""An HTML summary of a Module for notebooks (layers, output shapes, parameter counts): what
``Module._repr_html_`` returns, so that a model shown in Jupyter renders as a table.

Output shapes come from one forward pass of zeros through a Sequential's children (eval mode, no graph; each
submodule's mode is restored), of ``input_shape`` or, when not given, of the first Linear layer's ``in_features``
(batch size 1). Modules that are not Sequential show their children without shapes.
"""
from __future__ import annotations

import html
from typing import Any, Sequence

import numpy as np

__all__ = ["module_html"]


def _count(module: Any) -> int:
    return sum(p.numel() for p in module.parameters())


def _first_in_features(module: Any) -> int | None:
    for _, child in module.named_modules():
        if hasattr(child, "in_features"):
            return int(child.in_features)
    return None


def _output_shapes(module: Any, input_shape: Sequence[int] | None) -> list[str] | None:
    """The shape after each child of a Sequential, or None when it cannot be known."""
    from .nn import Sequential, evaluating
    from .tensor import Tensor

    if not isinstance(module, Sequential):
        return None
    batch = "N" if input_shape is None else None  # shapes read (N, …) when the batch size is ours
    if input_shape is None:
        features = _first_in_features(module)
        if features is None:
            return None
        input_shape = (1, features)
    shapes = []
    try:
        with evaluating(module):  # no dropout, running statistics untouched; every submodule keeps its own mode
            value = Tensor._wrap(np.zeros(tuple(input_shape), dtype=module.dtype))
            for child in module.children():
                value = child(value)
                shape = tuple(value.shape)
                shapes.append("(" + ", ".join(map(str, (batch, *shape[1:]) if batch else shape)) + ")")
    except (ValueError, TypeError, RuntimeError, AttributeError):
        return None
    return shapes


def module_html(module: Any, input_shape: Sequence[int] | None = None) -> str:
    """A <table> of the module's children: name, layer, output shape, parameters; totals below."""
    children = list(module.named_children())
    shapes = _output_shapes(module, input_shape) or ["" for _ in children]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td><code>{html.escape(repr(child))}</code></td>"
        f"<td>{html.escape(shape)}</td><td style='text-align:right'>{_count(child):,}</td></tr>"
        for (name, child), shape in zip(children, shapes))
    total = _count(module)
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return (f"<div class='glassnet-module'><b>{html.escape(type(module).__name__)}</b>"
            f"<table><thead><tr><th>#</th><th>layer</th><th>output shape</th><th>parameters</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
            f"<p>{total:,} parameters ({trainable:,} trainable), dtype {np.dtype(module.dtype).name}</p></div>")
