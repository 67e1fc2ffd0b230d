"""Looking at inputs through a trained network: activation maximisation (the input that most excites a neuron or
a class) and saliency maps (how much each input feature moves an output), both by glassnet's autograd."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

import glassnet as gn
from glassnet import nn

from ._mpl import diverging, new_figure, symmetric_limit

__all__ = ["activation_maximization", "saliency_map", "unit_gradient"]


def _up_to(model: nn.Module, layer: int | None) -> list[nn.Module]:
    modules = list(model) if isinstance(model, nn.Sequential) else [model]
    if layer is None:
        return modules
    if not -len(modules) <= layer < len(modules):
        raise ValueError(f"layer {layer} is outside the model's {len(modules)} modules")
    return modules[:layer % len(modules) + 1]


def unit_gradient(model: nn.Module, x: np.ndarray, unit: int, layer: int | None = None) -> tuple[float, np.ndarray]:
    """(value, ∂value/∂x) of output column ``unit`` of module ``layer`` (default: the model's output), summed over
    the batch x (n, features); the model runs in eval mode."""
    modules = _up_to(model, layer)
    was_training = model.training
    model.eval()
    try:
        inputs = gn.tensor(np.asarray(x, dtype=model.dtype), requires_grad=True)
        value = inputs
        for module in modules:
            value = module(value)
        if not 0 <= unit < value.shape[-1]:
            raise ValueError(f"unit {unit} is outside the {value.shape[-1]} outputs of module {len(modules) - 1}")
        pick = np.zeros(value.shape, dtype=model.dtype)
        pick[..., unit] = 1.0
        total = (value * pick).sum()
        total.backward()
        return float(total.item()), inputs.grad.numpy()
    finally:
        model.train(was_training)


def activation_maximization(model: nn.Module, unit: int, inputs: int, layer: int | None = None,
                            image_shape: Sequence[int] | None = None, steps: int = 200, lr: float = 0.1,
                            l2: float = 0.01, start: np.ndarray | None = None,
                            bounds: tuple[float, float] | None = None) -> tuple[Any, np.ndarray]:
    """The input (inputs,) that most excites output ``unit`` of module ``layer`` (default: the model's output, e.g.
    a class's logit): gradient ascent on value − ½·l2·|x|² from ``start`` (zeros), clipped to ``bounds``.
    Returns (figure, x): the figure shows x as an image (``image_shape``) or as bars, and the value's climb."""
    x = np.zeros((1, inputs)) if start is None else np.asarray(start, dtype=np.float64).reshape(1, inputs).copy()
    values = []
    for _ in range(steps):
        value, gradient = unit_gradient(model, x, unit, layer)
        values.append(value)
        x = x + lr * (gradient - l2 * x)
        if bounds is not None:
            x = np.clip(x, *bounds)
    best = x[0]
    figure = new_figure(8.0, 3.4)
    picture, climb = figure.subplots(1, 2, width_ratios=[1, 1.3])
    where = "output" if layer is None else f"module {layer}"
    _show_vector(figure, picture, best, image_shape, f"input that maximises {where} unit {unit}")
    climb.plot(range(1, len(values) + 1), values, color="#1f77b4")
    climb.set_xlabel("ascent step")
    climb.set_ylabel(f"{where} unit {unit}")
    climb.set_title("value during gradient ascent")
    return figure, best


def saliency_map(model: nn.Module, x: Any, target: int | None = None, image_shape: Sequence[int] | None = None
                 ) -> tuple[Any, np.ndarray]:
    """|∂ output[target] / ∂ x| for one input x (features,): which features move the chosen output (default: the
    highest one) most. Returns (figure, saliency); the figure shows the input and its saliency side by side."""
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    if target is None:
        target = int(gn.predict(model, x)[0].argmax())
    _, gradient = unit_gradient(model, x, target)
    saliency = np.abs(gradient[0])
    figure = new_figure(7.0, 3.4)
    left, right = figure.subplots(1, 2)
    _show_vector(figure, left, x[0], image_shape, "input")
    if image_shape is not None:
        image = right.imshow(saliency.reshape(image_shape), cmap="inferno", vmin=0)
        figure.colorbar(image, ax=right, shrink=0.8)
        right.set_xticks([])
        right.set_yticks([])
    else:
        right.bar(range(len(saliency)), saliency, color="#d62728")
    right.set_title(f"saliency |∂ output {target} / ∂ x|")
    return figure, saliency


def _show_vector(figure: Any, ax: Any, values: np.ndarray, image_shape: Sequence[int] | None, title: str) -> None:
    if image_shape is not None:
        limit = symmetric_limit(values)
        image = ax.imshow(values.reshape(image_shape), cmap=diverging(), vmin=-limit, vmax=limit)
        figure.colorbar(image, ax=ax, shrink=0.8)
        ax.set_xticks([])
        ax.set_yticks([])
    else:
        ax.bar(range(len(values)), values, color=["#0877bd" if v >= 0 else "#f59322" for v in values])
    ax.set_title(title)
