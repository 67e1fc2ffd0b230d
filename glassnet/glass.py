"""The learner's view into a network: every neuron's weighted sum and activation, and the chain rule of one
weight's gradient, factor by factor.

It works on any module tree: forward hooks on the model's leaf modules record what each one computes while the
model runs its own forward (so what is shown is what the network computes, custom forwards included). A Linear
whose output goes straight into an activation module is one layer of neurons (z = W·a_prev + b, a = g(z)); any
other module (Dropout, Softmax, …) is a stage of its own.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from .nn import ActivationLayer, Linear, Module, evaluating
from .nn.container import FUSED_ACTIVATIONS
from .tensor import Tensor, enable_grad
from .train import check_targets

__all__ = ["Call", "Watch", "LayerTrace", "ChainRule", "watch", "trace", "chain"]


@dataclass
class Call:
    """One call of a leaf module: its dotted ``name`` in the model, its first input and its output. With
    ``probe``, ``output`` is the module's output plus ``probe`` (zeros that require grad): after backward,
    ``probe.grad`` is ∂J/∂output."""

    name: str
    module: Module
    input: Any
    output: Any
    probe: Tensor | None = None
    raw: Any = None  # the module's own output (``output`` before the probe was added)


@dataclass
class LayerTrace:
    """What one stage computed: ``z`` (the weighted sums, one column per neuron) and ``a`` (the activations)."""

    name: str
    kind: str
    z: np.ndarray
    a: np.ndarray
    activation: str | None


def _activation_name(module: Module) -> str:
    """The activation's name ("tanh"), or its class name when its class is not a built-in one."""
    return module.activation.name if type(module) in FUSED_ACTIVATIONS else type(module).__name__


class Watch:
    """The calls of a model's leaf modules, in the order they ran (see `watch`), and the stages they form."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def stages(self) -> list[tuple[Call, Call | None]]:
        """(call, activation call or None) per stage: a Linear's call with the activation module's call that took
        its output, or any other call alone."""
        stages, i = [], 0
        while i < len(self.calls):
            call = self.calls[i]
            after = self.calls[i + 1] if i + 1 < len(self.calls) else None
            paired = (isinstance(call.module, Linear) and after is not None
                      and isinstance(after.module, ActivationLayer) and after.input is call.output)
            stages.append((call, after if paired else None))
            i += 2 if paired else 1
        return stages

    def layers(self, squeeze: bool = False) -> list[LayerTrace]:
        """One LayerTrace per stage (``squeeze``: of a single example, without the batch dimension)."""
        def array(value: Any) -> np.ndarray:
            if isinstance(value, (tuple, list)):  # e.g. a recurrent layer's (output, state): its output
                value = value[0]
            values = value._data if isinstance(value, Tensor) else np.asarray(value)
            return values[0] if squeeze else values
        return [LayerTrace(call.name, type(call.module).__name__, array(call.output),
                           array((act or call).output), None if act is None else _activation_name(act.module))
                for call, act in self.stages()]


@contextmanager
def watch(model: Module, probes: bool = False) -> Iterator[Watch]:
    """``with watch(model) as seen: model(x)`` records every leaf module's call in ``seen.calls`` (through
    forward hooks, removed afterwards); ``probes`` adds a zero probe to each output (see `Call`)."""
    seen = Watch()

    def record(name: str) -> Callable:
        def hook(module: Module, args: tuple, output: Any) -> Any:
            call = Call(name, module, args[0] if args else None, output, raw=output)
            if probes and isinstance(output, Tensor) and output._data.dtype.kind == "f":
                call.probe = Tensor(np.zeros_like(output._data), requires_grad=True)
                call.output = output + call.probe
            seen.calls.append(call)
            return call.output
        return hook

    handles = [module.register_forward_hook(record(name)) for name, module in model.named_modules()
               if not module._modules]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def _batch(model: Module, x: Any) -> tuple[np.ndarray, bool]:
    x = np.asarray(x._data if isinstance(x, Tensor) else x, dtype=model.dtype)
    return (x[None, :], True) if x.ndim == 1 else (x, False)


def trace(model: Module, x: Any) -> list[LayerTrace]:
    """Stage by stage, every neuron's weighted sum z and activation a for input x ((features,) or (n,
    features)), in eval mode, as the model's own forward computes them. The first entry is the input itself."""
    X, single = _batch(model, x)
    with evaluating(model), watch(model) as seen:
        model(Tensor(X))
    inputs = X[0] if single else X
    return [LayerTrace("input", "input", inputs, inputs, None)] + seen.layers(squeeze=single)


@dataclass
class ChainRule:
    """∂J/∂w = ∂J/∂a · ∂a/∂z · ∂z/∂w for one weight (or bias) w of neuron ``neuron`` in layer ``layer``.

    Each factor holds one value per example; ``product`` sums dJ_da·da_dz·dz_dw over the examples and equals
    ``autodiff``, the gradient that backpropagation computes. ``paths`` splits ∂J/∂a over the next layer's
    neurons k (the multiple-path chain rule): ∂J/∂a = Σ_k ∂J/∂z_k · w_k,neuron; it is empty unless a goes only
    into one Linear layer.
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


def _consumers(output: Tensor, value: Any) -> list[Tensor]:
    """The graph nodes between ``output`` and the leaves that take ``value`` as an input."""
    found, seen, stack = [], set(), [output]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if any(parent is value for parent in node._parents):
            found.append(node)
        stack.extend(node._parents)
    return found


def _derivative(activation: Module, z: np.ndarray) -> np.ndarray:
    """g'(z) of an elementwise activation module, by its own backward."""
    leaf = Tensor(z.copy(), requires_grad=True)
    activation(leaf).sum().backward()
    return leaf.grad._data


def chain(model: Module, x: Any, y: Any, loss: Callable, param_name: str, index: Any) -> ChainRule:
    """The chain-rule factors of ∂loss/∂``param_name``[``index``] for the examples (x, y), in eval mode.

    ``param_name`` is a name from ``model.named_parameters()`` of a Linear layer ("2.weight", "0.bias"), which
    the forward pass must use once; ``index`` is (neuron, input) for a weight and neuron (or (neuron,)) for a bias.
    The parameters' ``.grad`` are left as they were.
    """
    params = dict(model.named_parameters())
    if param_name not in params:
        raise ValueError(f"unknown parameter {param_name!r}; the model has {list(params)}")
    layer_name, _, kind = param_name.rpartition(".")
    owner = model.get_submodule(layer_name)
    if not isinstance(owner, Linear) or kind not in ("weight", "bias"):
        raise ValueError(f"{param_name!r} is not the weight or bias of a Linear layer")
    index = tuple(np.atleast_1d(index).tolist())
    shape = params[param_name]._data.shape
    if len(index) != len(shape) or any(not 0 <= i < n for i, n in zip(index, shape)):
        raise ValueError(f"index {index} is outside {param_name} of shape {shape}")
    neuron, source = index[0], (index[1] if kind == "weight" else None)

    X, _ = _batch(model, x)
    y = check_targets(model, y, loss, len(X))
    # the backward pass below reaches the parameters: keep their .grad objects and values as they were
    saved = [(p, p.grad, None if p.grad is None else p.grad._data) for p in model.parameters()]
    try:
        for p in model.parameters():
            p.grad = None
        with evaluating(model), enable_grad():
            with watch(model, probes=True) as seen:
                objective = loss(model(Tensor(X)), y)
            stages = seen.stages()
            positions = [i for i, (call, _) in enumerate(stages) if call.module is owner]
            if len(positions) != 1:
                raise ValueError(f"{layer_name!r} runs {len(positions)} times in the forward pass; chain needs a "
                                 f"layer that runs once")
            position = positions[0]
            call, act = stages[position]
            out = act or call
            following = stages[position + 1][0] if position + 1 < len(stages) else None
            single_next = (following is not None and isinstance(following.module, Linear)
                           and [id(n) for n in _consumers(objective, out.output)] == [id(following.raw)])
            objective.backward()
            z = call.raw._data
            dJ_da = out.probe.grad._data[:, neuron]
            da_dz = (_derivative(act.module, z)[:, neuron] if act is not None
                     else np.ones(len(X), dtype=z.dtype))
            autodiff = float(params[param_name].grad._data[index])
        a_prev = call.input._data
        dz_dw = a_prev[:, source] if kind == "weight" else np.ones(len(X), dtype=z.dtype)
        paths = []
        if single_next:
            dJ_dz_next = following.probe.grad._data
            weight = following.module.weight._data
            paths = [{"to": k, "dJ_dz": dJ_dz_next[:, k], "weight": float(weight[k, neuron])}
                     for k in range(following.module.out_features)]
    finally:
        for p, grad, data in saved:
            p.grad = grad
            if grad is not None:
                grad._data = data
    product = float(np.sum(dJ_da * da_dz * dz_dw))
    return ChainRule(param_name, index, layer_name, neuron, source, dJ_da, da_dz, dz_dw, product, autodiff, paths)


# The learner's lens (loss landscape, gradient flow, saturation, lr finder, diagnosis) is part of the view: all of
# its public names, so that what its docstrings name (KINDS, Finding, …) imports from gn.glass.
from . import lens as _lens  # noqa: E402
from .lens import *  # noqa: E402,F401,F403

__all__ += _lens.__all__

