"""The learner's view into a network: every neuron's weighted sum and activation, and the chain rule of one
weight's gradient, factor by factor.

A Sequential model is read as stages: a Linear with the activation that follows it is one layer of neurons
(z = W·a_prev + b, a = g(z)); any other module (Dropout, Softmax, …) is a stage of its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .nn import ActivationLayer, Linear, Module, Sequential
from .tensor import Tensor, no_grad
from .train import _targets

__all__ = ["Stage", "LayerTrace", "ChainRule", "stages", "trace", "chain"]


@dataclass
class Stage:
    """One step of the forward pass: a ``module`` (Linear or other) and the activation fused after it."""

    name: str
    module: Module
    activation: ActivationLayer | None = None

    def run(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(z, a) for input x: the module's output and the activation's."""
        z = self.module(x)
        return z, (self.activation(z) if self.activation is not None else z)


@dataclass
class LayerTrace:
    """What one stage computed: ``z`` (the weighted sums, one column per neuron) and ``a`` (the activations)."""

    name: str
    kind: str
    z: np.ndarray
    a: np.ndarray
    activation: str | None


def stages(model: Module) -> list[Stage]:
    """The model's forward pass as stages (needs an ``nn.Sequential``)."""
    if not isinstance(model, Sequential):
        raise TypeError(f"glass works on nn.Sequential models, got {type(model).__name__}")
    named = list(model.named_children())
    result, i = [], 0
    while i < len(named):
        name, module = named[i]
        following = named[i + 1][1] if i + 1 < len(named) else None
        if isinstance(module, Linear) and isinstance(following, ActivationLayer):
            result.append(Stage(name, module, following))
            i += 2
        else:
            result.append(Stage(name, module))
            i += 1
    return result


def _batch(model: Module, x: Any) -> tuple[np.ndarray, bool]:
    x = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=model.dtype)
    return (x[None, :], True) if x.ndim == 1 else (x, False)


def trace(model: Module, x: Any) -> list[LayerTrace]:
    """Layer by layer, every neuron's weighted sum z and activation a for input x ((features,) or (n,
    features)), in eval mode. The first entry is the input itself."""
    X, single = _batch(model, x)
    squeeze = (lambda v: v[0]) if single else (lambda v: v)
    traces = [LayerTrace("input", "input", squeeze(X), squeeze(X), None)]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            value = Tensor(X)
            for stage in stages(model):
                z, value = stage.run(value)
                act = stage.activation.activation.name if stage.activation is not None else None
                traces.append(LayerTrace(stage.name, type(stage.module).__name__, squeeze(z._data),
                                         squeeze(value._data), act))
    finally:
        model.train(was_training)
    return traces


@dataclass
class ChainRule:
    """∂J/∂w = ∂J/∂a · ∂a/∂z · ∂z/∂w for one weight (or bias) w of neuron ``neuron`` in layer ``layer``.

    Each factor holds one value per example; ``product`` sums dJ_da·da_dz·dz_dw over the examples and equals
    ``autodiff``, the gradient that backpropagation computes. ``paths`` splits ∂J/∂a over the next layer's
    neurons k (the multiple-path chain rule): ∂J/∂a = Σ_k ∂J/∂z_k · w_k,neuron.
    """

    param: str
    index: tuple[int, ...]
    layer: str
    neuron: int
    input: int | None
    dJ_da: np.ndarray
    da_dz: np.ndarray
    dz_dw: np.ndarray
    product: float
    autodiff: float
    paths: list[dict[str, Any]] = field(default_factory=list)


def _gradient_at(parts: list[Stage], start: int, value: np.ndarray, y: np.ndarray, loss: Callable,
                 at_weighted_sum: bool = False) -> np.ndarray:
    """∂J/∂value, where ``value`` is the input of stage ``start`` — or, ``at_weighted_sum``, its z."""
    leaf = Tensor(value, requires_grad=True)
    out, rest = leaf, parts[start:]
    if at_weighted_sum:
        out = rest[0].activation(leaf) if rest[0].activation is not None else leaf
        rest = rest[1:]
    for stage in rest:
        out = stage.run(out)[1]
    loss(out, y).backward()
    return leaf.grad._data


def chain(model: Module, x: Any, y: Any, loss: Callable, param_name: str, index: Any) -> ChainRule:
    """The chain-rule factors of ∂loss/∂``param_name``[``index``] for the examples (x, y).

    ``param_name`` is a name from ``model.named_parameters()`` of a Linear layer ("2.weight", "0.bias");
    ``index`` is (neuron, input) for a weight and neuron (or (neuron,)) for a bias.
    """
    params = dict(model.named_parameters())
    if param_name not in params:
        raise ValueError(f"unknown parameter {param_name!r}; the model has {list(params)}")
    layer_name, kind = param_name.rsplit(".", 1) if "." in param_name else ("", param_name)
    parts = stages(model)
    position = next((i for i, s in enumerate(parts) if s.name == layer_name and isinstance(s.module, Linear)), None)
    if position is None or kind not in ("weight", "bias"):
        raise ValueError(f"{param_name!r} is not the weight or bias of a Linear layer of this Sequential")
    index = tuple(np.atleast_1d(index).tolist())
    shape = params[param_name]._data.shape
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"index {index} is outside {param_name} of shape {shape}")
    neuron, source = index[0], (index[1] if kind == "weight" else None)

    X, _ = _batch(model, x)
    y = _targets(model, y, loss, len(X))
    was_training = model.training
    # the backward passes below also reach the parameters: keep their .grad objects and values as they were
    saved = [(p, p.grad, None if p.grad is None else p.grad._data) for p in model.parameters()]
    model.eval()
    try:
        layers = trace(model, X)
        a_prev, z, a = layers[position].a, layers[position + 1].z, layers[position + 1].a
        dJ_da = _gradient_at(parts, position + 1, a, y, loss)[:, neuron]
        stage = parts[position]
        da_dz = (stage.activation.activation.derivative(z, a)[:, neuron] if stage.activation is not None
                 else np.ones(len(X), dtype=z.dtype))
        dz_dw = a_prev[:, source] if kind == "weight" else np.ones(len(X), dtype=z.dtype)
        paths = []
        if position + 1 < len(parts) and isinstance(parts[position + 1].module, Linear):
            following = parts[position + 1].module
            z_next = layers[position + 2].z
            dJ_dz_next = _gradient_at(parts, position + 1, z_next.reshape(len(X), -1), y, loss, at_weighted_sum=True)
            paths = [{"to": k, "dJ_dz": dJ_dz_next[:, k], "weight": float(following.weight._data[k, neuron])}
                     for k in range(following.out_features)]
        autodiff = _autodiff(model, X, y, loss, params[param_name], index)
    finally:
        model.train(was_training)
        for p, grad, data in saved:
            p.grad = grad
            if grad is not None:
                grad._data = data
    product = float(np.sum(dJ_da * da_dz * dz_dw))
    return ChainRule(param_name, index, layer_name, neuron, source, dJ_da, da_dz, dz_dw, product, autodiff, paths)


def _autodiff(model: Module, X: np.ndarray, y: Any, loss: Callable, param: Tensor, index: tuple) -> float:
    """The gradient from a full forward and backward pass, leaving the parameters' ``.grad`` as they were."""
    saved = [(p, p.grad) for p in model.parameters()]
    try:
        model.zero_grad()
        loss(model(Tensor(X)), y).backward()
        return float(param.grad._data[index])
    finally:
        for p, grad in saved:
            p.grad = grad
