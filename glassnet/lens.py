"""The learner's lens: why a network learns or fails, as arrays for any model (``gn.glass`` re-exports these).

- ``loss_landscape``: the loss on a 2-D slice through the current weights, along two filter-normalised random
  directions (Li et al., 2018) or the two principal directions of the optimizer's trajectory, with the trajectory
  projected on it; ``interpolate``: the loss on the straight line from the initial weights to the current ones.
- ``GradientFlow``: a callback recording each layer's gradient norm and update/weight ratio per epoch (vanishing
  gradients in deep sigmoid nets, exploding ones at too high a learning rate).
- ``saturation``: per layer, histograms of the weighted sums z and activations a, the share of dead ReLUs and of
  saturated sigmoid/tanh units (where the derivative is below 1% of its maximum).
- ``lr_find``: Leslie Smith's learning-rate range test on a copy of the model, or with any ``Trainer`` (restored
  afterwards).
- ``diagnose``: what the curves and these quantities say, in the course's words, as ``Finding``s with their
  numbers and the playground experiment that tests the advice.
"""
from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .callbacks import Callback
from .nn import ActivationLayer, Dropout, Linear, Module, Sequential, evaluating
from .optim import Optimizer
from .tensor import Tensor, default_generator
from .train import Trainer, check_targets

__all__ = ["Landscape", "loss_landscape", "interpolate", "random_directions", "GradientFlow", "LayerSaturation",
           "saturation", "LRFinder", "lr_find", "KINDS", "Finding", "diagnose"]

Directions = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


# ------------------------------------------------------------------------------------------------ landscape

@dataclass
class Landscape:
    """``losses[i, j]`` is the loss at weights θ + alphas[j]·d1 + betas[i]·d2; ``path`` (T, 2) is the trajectory's
    (α, β) coordinates when one was given; ``center_loss`` the loss at θ itself."""

    alphas: np.ndarray
    betas: np.ndarray
    losses: np.ndarray
    center_loss: float
    directions: Directions
    path: np.ndarray | None = None


def _weights(model: Module) -> dict[str, np.ndarray]:
    return {name: p._data.copy() for name, p in model.named_parameters()}


def random_directions(model: Module, seed: int = 0) -> Directions:
    """Two filter-normalised random directions: per neuron (row of a weight matrix, filter of a conv), a Gaussian
    direction rescaled to that neuron's weight norm, so that the slice is comparable across layers and nets; the
    directions of biases are zero (Li et al., 2018)."""
    rng = np.random.default_rng(seed)
    pair = []
    for _ in range(2):
        direction = {}
        for name, p in model.named_parameters():
            w = p._data
            if w.ndim < 2:
                direction[name] = np.zeros_like(w)
                continue
            d = rng.standard_normal(w.shape).astype(w.dtype)
            axes = tuple(range(1, w.ndim))
            scale = np.linalg.norm(w, axis=axes, keepdims=True) / (np.linalg.norm(d, axis=axes, keepdims=True) + 1e-10)
            direction[name] = d * scale
        pair.append(direction)
    return pair[0], pair[1]


def _pca_directions(trajectory: Sequence[Mapping[str, np.ndarray]], center: Mapping[str, np.ndarray]
                    ) -> Directions:
    """The first two principal directions of the trajectory's offsets from the current weights."""
    names = list(center)
    offsets = np.stack([np.concatenate([np.ravel(step[n]) - np.ravel(center[n]) for n in names])
                        for step in trajectory])
    if len(offsets) < 2:
        raise ValueError("loss_landscape: a trajectory needs at least two weight snapshots for its PCA directions")
    _, _, vt = np.linalg.svd(offsets, full_matrices=False)
    vectors = [vt[0], vt[1] if len(vt) > 1 else np.zeros_like(vt[0])]
    pair = []
    for vector in vectors:
        direction, start = {}, 0
        for n in names:
            size = np.size(center[n])
            direction[n] = vector[start:start + size].reshape(np.shape(center[n])).astype(np.asarray(center[n]).dtype)
            start += size
        pair.append(direction)
    return pair[0], pair[1]


def _flat(weights: Mapping[str, np.ndarray], names: list[str]) -> np.ndarray:
    return np.concatenate([np.ravel(weights[n]).astype(np.float64) for n in names])


def _dense_plan(model: Module) -> list[tuple[str, str | None, Callable[[np.ndarray], np.ndarray] | None]] | None:
    """(weight name, bias name, activation) per layer when ``model`` is a Sequential of exact Linear and elementwise
    activation layers (and dropout, the identity in eval mode) — the nets whose forward can be batched over many
    weight settings at once — else None."""
    if type(model) is not Sequential:
        return None
    plan: list[tuple[str, str | None, Any]] = []
    for name, module in model.named_children():
        if isinstance(module, Dropout):
            continue
        if type(module) is Linear:
            plan.append((f"{name}.weight", f"{name}.bias" if module.bias is not None else None, None))
        elif isinstance(module, ActivationLayer) and type(module).forward is ActivationLayer.forward and plan \
                and plan[-1][2] is None:
            plan[-1] = (plan[-1][0], plan[-1][1], module.activation.forward)
        else:
            return None
    return plan


def _batched_loss(loss: Callable, outputs: np.ndarray, y: Any) -> np.ndarray | None:
    """The mean loss of each of P outputs (P, N, out) against y in one call of the loss's per-element form, for the
    built-in losses whose "mean" is the plain mean of that form (no class weights, no ignored labels); else None."""
    function = getattr(loss, "function", None)
    if function is None or getattr(loss, "reduction", None) != "mean" or any(
            getattr(loss, name, None) is not None for name in ("weight", "pos_weight")):
        return None
    target = np.asarray(y)
    if target.dtype.kind in "iu" and (target < 0).any():  # ignored labels change what the mean divides by
        return None
    count = len(outputs)
    per_element = function(Tensor(outputs.reshape(-1, outputs.shape[-1])), np.concatenate([target] * count),
                           reduction="none")
    return np.asarray(per_element._data, dtype=np.float64).reshape(count, -1).mean(axis=1)


def _data(model: Module, X: Any, y: Any, loss: Callable) -> tuple[np.ndarray, np.ndarray]:
    """X in the model's dtype and y as ``fit`` takes it for ``loss`` (a (N,) target of one output as a column)."""
    X = np.asarray(X.numpy() if isinstance(X, Tensor) else X, dtype=model.dtype)
    return X, check_targets(model, y, loss, len(X))


def _losses_at(model: Module, X: np.ndarray, y: Any, loss: Callable, center: dict[str, np.ndarray],
               directions: Sequence[Mapping[str, np.ndarray]], coefficients: np.ndarray) -> np.ndarray:
    """The loss at the weights center + Σ_k coefficients[p, k]·directions[k] for each row p of ``coefficients``
    (P, k): one batched forward for a plain MLP, else one forward per row."""
    stacked = {n: np.stack([np.asarray(d[n], dtype=center[n].dtype) for d in directions]) for n in center}

    def weights(n: str) -> np.ndarray:  # (P, *shape): every row's value of parameter n
        return center[n] + np.tensordot(coefficients.astype(center[n].dtype), stacked[n], axes=1)

    plan = _dense_plan(model)
    with evaluating(model):
        if plan is not None:
            h = X[None]
            for weight, bias, activation in plan:
                h = np.matmul(h, np.swapaxes(weights(weight), 1, 2))
                if bias is not None:
                    h = h + weights(bias)[:, None, :]
                if activation is not None:
                    h = activation(h)
            batched = _batched_loss(loss, h, y)
            if batched is not None:
                return batched
            return np.array([float(loss(Tensor(output), y)._data) for output in h])
        params = dict(model.named_parameters())
        values = np.empty(len(coefficients))
        try:
            for i, row in enumerate(coefficients):
                for name, p in params.items():
                    p._data[...] = center[name] + np.tensordot(row.astype(center[name].dtype), stacked[name], 1)
                values[i] = float(loss(model(Tensor(X)), y)._data)
        finally:
            for name, p in params.items():
                p._data[...] = center[name]
        return values


def loss_landscape(model: Module, X: Any, y: Any, loss: Callable, *, resolution: int = 41, span: float = 1.0,
                   directions: Directions | str = "random",
                   trajectory: Sequence[Mapping[str, np.ndarray]] | None = None, seed: int = 0) -> Landscape:
    """The loss on the plane θ + α·d1 + β·d2 through the current weights θ, α and β in [−span, span] on a
    resolution × resolution grid (the centre is a grid point when resolution is odd).

    ``directions``: "random" (filter-normalised), "pca" (the trajectory's principal directions; needs
    ``trajectory``, a list of ``{name: array}`` weight snapshots such as a ``GradientFlow``'s or one per epoch), or
    a pair of ``{parameter name: array}``. The trajectory, when given, is projected on the plane (``path``). X: (N,
    features); y and loss as for training. The model's weights are unchanged afterwards.
    """
    if resolution < 2:
        raise ValueError(f"loss_landscape: resolution must be ≥ 2, got {resolution}")
    center = _weights(model)
    names = list(center)
    if isinstance(directions, str):
        if directions == "random":
            directions = random_directions(model, seed)
        elif directions == "pca":
            if trajectory is None:
                raise ValueError("loss_landscape: directions='pca' needs the trajectory (weight snapshots)")
            directions = _pca_directions(trajectory, center)
        else:
            raise ValueError(f"loss_landscape: directions must be 'random', 'pca' or a pair of dicts, got "
                             f"{directions!r}")
    d1, d2 = directions
    for d in (d1, d2):
        missing = set(names) - set(d)
        if missing:
            raise ValueError(f"loss_landscape: the directions lack parameters {sorted(missing)}")
    path = None
    if trajectory is not None:
        basis = np.stack([_flat(d1, names), _flat(d2, names)], axis=1)
        offsets = np.stack([_flat(step, names) - _flat(center, names) for step in trajectory])
        path = np.linalg.lstsq(basis, offsets.T, rcond=None)[0].T
        if isinstance(span, (int, float)) and path.size:
            span = max(span, 1.2 * float(np.abs(path).max()))
    grid = np.linspace(-span, span, resolution)
    X, y = _data(model, X, y, loss)
    losses = np.empty((resolution, resolution))
    for i, beta in enumerate(grid):  # one batched forward per row of the grid
        losses[i] = _losses_at(model, X, y, loss, center, (d1, d2), np.stack([grid, np.full_like(grid, beta)], 1))
    center_loss = float(_losses_at(model, X, y, loss, center, (d1, d2), np.zeros((1, 2)))[0])
    return Landscape(grid, grid.copy(), losses, center_loss, (d1, d2), path)


def interpolate(model: Module, initial: Mapping[str, np.ndarray], X: Any, y: Any, loss: Callable,
                steps: int = 51) -> tuple[np.ndarray, np.ndarray]:
    """(t, loss) along θ(t) = θ_initial + t·(θ_now − θ_initial) for t in [0, 1] (Goodfellow et al.'s 1-D view):
    t = 0 is the initial weights (e.g. ``model.state_dict()`` before training), t = 1 the current ones."""
    center = _weights(model)
    missing = set(center) - set(initial)
    if missing:
        raise ValueError(f"interpolate: the initial weights lack parameters {sorted(missing)}")
    ts = np.linspace(0.0, 1.0, steps)
    X, y = _data(model, X, y, loss)
    back = {n: np.asarray(initial[n]) - center[n] for n in center}
    return ts, _losses_at(model, X, y, loss, center, (back,), (1 - ts)[:, None])


# ------------------------------------------------------------------------------------------------ gradient flow

def _norm(array: np.ndarray) -> float:
    """The Frobenius norm as ``np.linalg.norm`` computes it (one dot product of the flattened array), without its
    dispatch, which costs more than the sum on small weight matrices."""
    flat = array.reshape(-1)
    return math.sqrt(float(np.dot(flat, flat)))


def _weight_params(model: Module) -> list[tuple[str, Any]]:
    return [(name, p) for name, p in model.named_parameters() if p._data.ndim >= 2]


class GradientFlow(Callback):
    """Per weight matrix and epoch: the mean over the epoch's steps of the gradient's norm ‖∂J/∂W‖ and of the update
    ratio ‖ΔW‖ / ‖W‖ (healthy training moves weights by about 1e-3 of their size a step). With ``snapshots``,
    also the weights at the end of each epoch (a trajectory for ``loss_landscape(..., directions="pca")``).

    ``grad_norms[name]`` and ``update_ratios[name]`` are lists with one value per epoch."""

    def __init__(self, snapshots: bool = False) -> None:
        self.snapshots = snapshots

    def on_train_begin(self, logs: Mapping[str, float] | None = None) -> None:
        self.names = [name for name, _ in _weight_params(self.model)]
        self.grad_norms: dict[str, list[float]] = {name: [] for name in self.names}
        self.update_ratios: dict[str, list[float]] = {name: [] for name in self.names}
        self.trajectory: list[dict[str, np.ndarray]] = [_weights(self.model)] if self.snapshots else []

    def on_epoch_begin(self, epoch: int, logs: Mapping[str, float] | None = None) -> None:
        # The weight list is taken once an epoch, not once a step: walking the module tree cost more than the
        # norms themselves on a playground-sized net (the playground records while it trains).
        self._params = _weight_params(self.model)
        self._previous = {name: p._data.copy() for name, p in self._params}
        self._sums = {name: [0.0, 0.0] for name in self.names}
        self._steps = 0

    def on_batch_end(self, batch: int, logs: Mapping[str, float]) -> None:
        for name, p in self._params:
            before, sums = self._previous[name], self._sums[name]
            if p.grad is not None:
                sums[0] += _norm(p.grad._data)
            sums[1] += _norm(p._data - before) / (_norm(before) + 1e-12)
            before[...] = p._data
        self._steps += 1

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float]) -> None:
        steps = max(self._steps, 1)
        for name in self.names:
            self.grad_norms[name].append(self._sums[name][0] / steps)
            self.update_ratios[name].append(self._sums[name][1] / steps)
        if self.snapshots:
            self.trajectory.append(_weights(self.model))


# ------------------------------------------------------------------------------------------------ saturation

# |z| beyond which g'(z) < 1% of its maximum: tanh' = 1 − tanh² < 0.01 and σ' = σ(1 − σ) < 0.0025
SATURATION_Z = {"tanh": math.atanh(math.sqrt(0.99)), "sigmoid": 2 * math.atanh(math.sqrt(0.99))}


@dataclass
class LayerSaturation:
    """One layer of neurons over a data set: histograms of z and a (``bins`` edges, ``counts``), the share of
    dead units (ReLU with z ≤ 0 on every example), of saturated units (sigmoid/tanh with |z| beyond the 1%
    derivative point on at least 95% of examples), and of saturated (example, unit) values."""

    name: str
    activation: str | None
    z_counts: np.ndarray
    z_bins: np.ndarray
    a_counts: np.ndarray
    a_bins: np.ndarray
    dead_units: float
    saturated_units: float
    saturated_values: float
    per_unit: np.ndarray = field(repr=False)


def saturation(model: Module, X: Any, bins: int = 30) -> list[LayerSaturation]:
    """Per layer of neurons of ``model`` (``glass.trace``'s layers), how its units are used over the inputs X."""
    from .glass import trace

    layers = []
    for layer in trace(model, X)[1:]:
        z = np.asarray(layer.z).reshape(len(np.asarray(layer.z)), -1)
        a = np.asarray(layer.a).reshape(len(z), -1)
        z_counts, z_bins = np.histogram(z, bins=bins)
        a_counts, a_bins = np.histogram(a, bins=bins)
        activation = layer.activation
        dead = saturated = values = 0.0
        per_unit = np.zeros(z.shape[1])
        if activation == "relu":
            per_unit = (z <= 0).mean(axis=0)
            dead = float((per_unit == 1).mean())
            values = float((z <= 0).mean())
        elif activation in SATURATION_Z:
            beyond = np.abs(z) > SATURATION_Z[activation]
            per_unit = beyond.mean(axis=0)
            saturated = float((per_unit >= 0.95).mean())
            values = float(beyond.mean())
        layers.append(LayerSaturation(layer.name, activation, z_counts, z_bins, a_counts, a_bins, dead, saturated,
                                      values, per_unit))
    return layers


# ------------------------------------------------------------------------------------------------ lr finder

@dataclass
class LRFinder:
    """The range test: ``losses[i]`` of the mini-batch stepped at ``lrs[i]`` (``smoothed``: their bias-corrected
    moving average); ``suggestion`` the learning rate where the smoothed loss falls fastest per decade;
    ``diverged_at`` the rate at which it blew up (the test stopped there), or None."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    suggestion: float
    diverged_at: float | None


def lr_find(model: Module | Trainer, X: Any, y: Any = None, loss: Callable | None = None, *, optimizer: Any = "sgd",
            start_lr: float = 1e-6, end_lr: float = 10.0, num_iter: int = 100, batch_size: int | None = None,
            beta: float = 0.9, diverge: float = 4.0, seed: int = 0) -> LRFinder:
    """Leslie Smith's learning-rate range test: ``num_iter`` mini-batch steps with the learning rate growing
    exponentially from ``start_lr`` to ``end_lr``, stopping early when the smoothed loss exceeds ``diverge`` × its
    lowest value.

    ``model``: a Module, trained as a copy with ``loss`` and ``optimizer`` (a name such as "sgd" or "adam", or a
    factory ``params -> Optimizer``; or the model's own Optimizer, whose state the test starts from and which is
    restored with the model), or any ``Trainer`` (its own ``batches``, ``train_step``, loss, regularization and
    optimizer, whose learning rate the test sets): every model, optimizer and scheduler it holds is restored
    afterwards (weights, momentum buffers, learning rates, train/eval mode). X, y, batch_size: as for ``fit``
    (arrays, or a Dataset or DataLoader as X; batches of 32 unless a DataLoader batches itself). Batches are
    shuffled with ``seed``; glassnet's default generator is left as it was.
    """
    if not 0 < start_lr < end_lr or not math.isfinite(end_lr):
        raise ValueError(f"lr_find: need 0 < start_lr < end_lr, got {start_lr} and {end_lr}")
    if num_iter < 5:
        raise ValueError(f"lr_find: num_iter must be ≥ 5, got {num_iter}")
    if isinstance(model, Trainer):
        if loss is not None:
            raise ValueError("lr_find: a Trainer brings its own loss; pass loss= only with a model")
        trainer = model
    elif loss is None:
        raise ValueError("lr_find: pass the loss (e.g. nn.MSELoss()) with a model, or give a Trainer")
    elif isinstance(optimizer, Optimizer):  # the model's own optimizer: test on both, then restore both
        trainer = Trainer(model, loss=loss, optimizer=optimizer)
    else:
        trainer = Trainer(copy.deepcopy(model), loss=loss, optimizer=optimizer)
    if trainer.optimizer is None:
        raise ValueError("lr_find: the Trainer has no optimizer whose learning rate to sweep")
    snapshot = trainer.state_dict()
    modes = [(model, model.training) for model in trainer.models()]
    kept_rng = default_generator.rng
    default_generator.rng = np.random.default_rng(seed)
    try:
        return _range_test(trainer, X, y, start_lr, end_lr, num_iter, batch_size, beta, diverge)
    finally:
        default_generator.rng = kept_rng
        trainer.load_state_dict(snapshot)
        for part, training in modes:
            part.train(training)


def _range_test(trainer: Trainer, X: Any, y: Any, start_lr: float, end_lr: float, num_iter: int,
                batch_size: int | None, beta: float, diverge: float) -> LRFinder:
    def batches() -> Iterator[Any]:  # epoch after epoch, as fit would train
        while True:
            count = 0
            for count, batch in enumerate(trainer.batches(X, y, batch_size=batch_size), 1):
                yield batch
            if not count:
                raise ValueError("lr_find: the data yielded no batches")

    for model in trainer.models():
        model.train()
    lrs = start_lr * (end_lr / start_lr) ** (np.arange(num_iter) / (num_iter - 1))
    losses, smoothed, average, best, diverged = [], [], 0.0, math.inf, None
    for i, (lr, batch) in enumerate(zip(lrs, batches())):
        for group in trainer.optimizer.param_groups:
            group["lr"] = float(lr)
        current = float(trainer.train_step(batch)["loss"])  # a NaN or infinite loss takes no step
        losses.append(current)
        average = beta * average + (1 - beta) * current
        smoothed.append(average / (1 - beta ** (i + 1)))
        if not math.isfinite(smoothed[-1]) or smoothed[-1] > diverge * best:
            diverged = float(lr)
            break
        best = min(best, smoothed[-1])
    lrs = lrs[:len(losses)]
    curve = np.asarray(smoothed)
    return LRFinder(lrs, np.asarray(losses), curve, _steepest(lrs, curve), diverged)


def _steepest(lrs: np.ndarray, curve: np.ndarray) -> float:
    """The rate where the curve falls fastest per decade, up to its lowest point: slopes are taken across ±1/15
    of the points, so that the noise of single mini-batches does not decide."""
    finite = np.isfinite(curve)
    end = int(np.argmin(np.where(finite, curve, np.inf))) + 1
    k = max(1, len(curve) // 15)
    if end <= 2 * k:
        return float(lrs[end // 2])
    logs = np.log10(lrs)
    slopes = (curve[2 * k:end] - curve[:end - 2 * k]) / (logs[2 * k:end] - logs[:end - 2 * k])
    return float(lrs[k + int(np.argmin(slopes))])


# ------------------------------------------------------------------------------------------------ diagnosis

# Every kind of finding, in the order diagnose lists them: the causes (the rate, the gradients, the units, the
# start) before the symptoms of the curves they explain.
KINDS = ("lr_too_high", "exploding_gradients", "vanishing_gradients", "dead_relus", "local_minimum", "overfitting",
         "lr_too_low", "underfitting", "ideal_fit")


@dataclass
class Finding:
    """One diagnosis, as the playground shows it (``to_dict()`` is its JSON form).

    - ``kind``: one of ``KINDS``; ``title``: a one-line name in the course's words;
    - ``evidence``: the numbers that show it, as a sentence; ``numbers``: the same numbers by name (floats; epochs
      count from 1, as the learning curves draw them);
    - ``advice``: what to do, in the course's words;
    - ``experiment``: the one click that tests the advice: ``{"set": {state key: value}}`` with the playground's
      state keys (PROTOCOL.md; ``{}`` when there is nothing to try), plus ``"scale": {key: factor}`` when the
      current value of a numeric key was not given to ``diagnose`` (multiply it, then take the nearest allowed
      value), and ``"run_many": n`` when the experiment is to train n fresh initialisations (Run 10×).
    """

    kind: str
    title: str
    evidence: str
    advice: str
    experiment: dict[str, Any] = field(default_factory=lambda: {"set": {}})
    numbers: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "evidence": self.evidence, "advice": self.advice,
                "experiment": copy.deepcopy(self.experiment), "numbers": dict(self.numbers)}


def _curve(history: Any, key: str) -> np.ndarray | None:
    logs = history.history if hasattr(history, "history") else history
    values = logs.get(key)
    return None if not values else np.asarray(values, dtype=float)


def _rate_experiment(settings: Mapping[str, Any] | None, factor: float) -> dict[str, Any]:
    """The learning rate × factor: as a value when the settings give the current rate, else as a scale."""
    rate = None if settings is None else settings.get("learningRate")
    if rate is None:
        return {"set": {}, "scale": {"learningRate": factor}}
    return {"set": {"learningRate": float(f"{rate * factor:.3g}")}}


def _capacity_experiment(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """More capacity: a hidden layer of 4 tanh neurons for a linear model, else each hidden layer 2 neurons wider
    (up to the playground's 8), else one more layer of 8 (up to its 6 layers), else the features x1² and x2²;
    two layers of 8 when the settings are not given."""
    if settings is None or "networkShape" not in settings:
        return {"set": {"networkShape": [8, 8]}}
    shape = [int(width) for width in settings["networkShape"]]
    if not shape:
        return {"set": {"networkShape": [4], "activation": "tanh"}}
    if settings.get("activation") == "linear":
        return {"set": {"activation": "tanh", "layerActivations": []}}
    if min(shape) < 8:
        return {"set": {"networkShape": [min(w + 2, 8) if w < 8 else w for w in shape]}}  # expert's wider kept
    if len(shape) < 6:
        return {"set": {"networkShape": shape + [8]}}
    return {"set": {key: True for key in ("xSquared", "ySquared") if settings.get(key) is False}}


def _epoch(index: int) -> int:
    return index + 1


def diagnose(history: Any, *, gradient_flow: GradientFlow | None = None,
             saturation_report: Sequence[LayerSaturation] | None = None,
             restart_losses: Sequence[float] | Any = None, settings: Mapping[str, Any] | None = None,
             patience: int = 5) -> list[Finding]:
    """Name what a training run shows, in the course's terms: a list of Findings in the order of ``KINDS`` (the
    causes before the symptoms they explain), at least one (``ideal_fit`` when nothing is wrong).

    ``history``: a ``History`` or a dict of per-epoch lists ("loss", optionally "val_loss"). When given:
    ``gradient_flow`` (a ``GradientFlow`` that watched the run), ``saturation_report`` (``saturation(model, X)``
    after it), ``restart_losses`` (the final losses of runs from new random weights on the same data: a
    ``Restarts`` from ``gn.restarts`` or its ``scores``, or the playground's Run 10× — compared with this run's
    last validation loss when it has one, else its training loss) and ``settings`` (the playground's state, or
    any dict with its keys "learningRate", "networkShape", "activation": the experiments then give values).
    ``patience``: the early-stopping patience whose stopping epoch an overfitting finding names.
    """
    train = _curve(history, "loss")
    stop_reason = str(getattr(history, "stop_reason", "") or "")
    blew_up = re.search(r"\b(nan|-?inf|infinite)\b", stop_reason, re.IGNORECASE) is not None  # TerminateOnNaN's
    if train is None or (len(train) < 2 and not blew_up):
        raise ValueError("diagnose: the history needs a training loss over at least two epochs")
    val = _curve(history, "val_loss")
    findings: list[Finding] = []
    first, last = float(train[0]), float(train[-1])
    finite = train[np.isfinite(train)]
    lowest = float(finite.min()) if len(finite) else math.nan
    if blew_up or not math.isfinite(last) or (last > 2 * lowest and last > first):
        return [Finding(
            "lr_too_high", "Learning rate too high: the loss diverges",
            stop_reason if blew_up else f"the training loss went from {first:.3g} to {last:.3g} (lowest "
                                        f"{lowest:.3g})",
            "Each step overshoots the valley of the cost surface and lands higher up the other side: lower the "
            "learning rate (÷10).", _rate_experiment(settings, 0.1),
            {"first_loss": first, "last_loss": last, "lowest_loss": lowest})]
    steps = np.diff(train)
    swings = int(np.sum(np.sign(steps[1:]) != np.sign(steps[:-1])))
    level = float(np.abs(train).mean())
    oscillating = len(steps) >= 6 and swings > 0.5 * len(steps) and np.abs(steps).mean() > 0.05 * level
    if oscillating:  # the rate explains the high loss: no underfitting verdict from the curve
        findings.append(Finding(
            "lr_too_high", "Learning rate too high: the loss oscillates",
            f"the training loss changed direction {swings} times in {len(steps)} epochs, by "
            f"{np.abs(steps).mean() / level:.0%} of its level on average",
            "The steps jump across the valley instead of down it: lower the learning rate.",
            _rate_experiment(settings, 0.1),
            {"direction_changes": swings, "epochs": len(train), "mean_step": float(np.abs(steps).mean() / level)}))
    overfit = False
    if val is not None and len(val) > patience + 1:
        best = int(np.argmin(val))
        rise = float(val[-1] - val[best])
        if best < len(val) - patience and rise > max(0.1 * val[best], 0.05 * val[0]) and train[-1] < train[best]:
            overfit = True
            findings.append(Finding(
                "overfitting", "Overfitting: the test loss rises while the training loss falls",
                f"the validation loss was lowest ({val[best]:.3g}) at epoch {_epoch(best)} and is {val[-1]:.3g} "
                f"now, while the training loss fell from {train[best]:.3g} to {train[-1]:.3g}; early stopping with "
                f"patience {patience} would have stopped at epoch {_epoch(best + patience)} and kept epoch "
                f"{_epoch(best)}'s weights",
                "The network learns the noise of its training points instead of the rule. Cures: L2 regularization "
                "(small weights, a smoother boundary), dropout, early stopping, more data, or fewer neurons.",
                {"set": {"regularization": "L2", "regularizationRate": 0.01}},
                {"best_epoch": _epoch(best), "best_val_loss": float(val[best]), "val_loss": float(val[-1]),
                 "train_loss_at_best": float(train[best]), "train_loss": last,
                 "early_stopping_epoch": _epoch(best + patience)}))
    third = max(3, len(train) // 3)
    falling = (np.diff(train[-third - 1:]) < 0).mean() >= 0.8 and swings <= 0.2 * len(steps)
    early_drop, late_drop = float(train[0] - train[third]), float(train[-third - 1] - train[-1])
    steady = late_drop > 0 and late_drop >= 0.3 * early_drop  # no slower at the end than at the start
    if falling and not overfit and (late_drop > 0.02 * first or (steady and last >= 0.6 * first)):
        findings.append(Finding(
            "lr_too_low", "Still learning slowly: the learning rate may be too low",
            f"the training loss fell smoothly and is still falling: by {100 * late_drop / first:.2g}% of its first "
            f"value over the last {third} epochs, against {100 * early_drop / first:.2g}% over the first {third}",
            "Steady but slow descent down the cost surface: raise the learning rate (×10) or train for more "
            "epochs.", _rate_experiment(settings, 10.0),
            {"late_drop": late_drop / first, "early_drop": early_drop / first, "train_loss": last}))
    elif last >= 0.5 * first and not overfit and not oscillating:
        findings.append(Finding(
            "underfitting", "Underfitting: the losses stay high",
            f"the training loss is still {last / first:.0%} of where it started ({last:.3g}) and no longer "
            f"falling" + (f"; the validation loss is {val[-1]:.3g}" if val is not None else ""),
            "The network lacks the capacity to fit the data: add neurons or hidden layers, or better features "
            "(e.g. x1², x2² for a circle), or use a non-linear activation.", _capacity_experiment(settings),
            {"loss_share": last / first, "train_loss": last} | ({} if val is None else {"val_loss": float(val[-1])})))
    if gradient_flow is not None and len(gradient_flow.names) >= 2:
        norms = [float(np.mean(gradient_flow.grad_norms[name])) for name in gradient_flow.names]
        ratio = norms[0] / (norms[-1] + 1e-30)
        if ratio < 0.01:
            findings.append(Finding(
                "vanishing_gradients", "Vanishing gradients: the first layers barely learn",
                f"the first layer's gradient norm ({norms[0]:.2g}) is {ratio:.1e} of the last layer's "
                f"({norms[-1]:.2g})",
                "Backpropagation multiplies the gradient by each layer's activation slope on its way back, and a "
                "sigmoid's slope is at most 0.25: use ReLU, fewer layers, or a better initialisation.",
                {"set": {"activation": "relu", "layerActivations": []}},
                {"first_grad_norm": norms[0], "last_grad_norm": norms[-1], "ratio": ratio}))
        growth = [g[-1] / (g[0] + 1e-30) for g in gradient_flow.grad_norms.values() if len(g) > 1]
        largest = max(max(g) for g in gradient_flow.grad_norms.values() if g) if growth else 0.0
        if growth and (max(growth) > 100 or largest > 1e3):
            findings.append(Finding(
                "exploding_gradients", "Exploding gradients",
                f"gradient norms grew by up to {max(growth):.3g}× during training (largest {largest:.3g})",
                "The steps grow with the gradients until they overshoot: lower the learning rate, or clip the "
                "gradients.", _rate_experiment(settings, 0.1), {"growth": float(max(growth)), "largest": largest}))
    if saturation_report:
        index = max(range(len(saturation_report)), key=lambda i: saturation_report[i].dead_units)
        worst = saturation_report[index]
        if worst.dead_units > 0.5:
            findings.append(Finding(
                "dead_relus", "Dead ReLUs",
                f"{worst.dead_units:.0%} of the units of layer {index + 1} (module {worst.name}) output 0 for every "
                f"input (z ≤ 0)",
                "A dead ReLU has gradient 0 and never recovers: lower the learning rate, start from new random "
                "weights, or use an activation whose slope is never 0 (tanh).",
                {"set": {"activation": "tanh", "layerActivations": []}},
                {"dead_units": worst.dead_units, "layer": index + 1}))
    restarts = list(getattr(restart_losses, "scores", restart_losses) or [])
    if restarts:
        measure, own = ("validation", float(val[-1])) if val is not None else ("training", last)
        best_restart = min((float(v) for v in restarts if math.isfinite(v)), default=math.inf)
        if best_restart < 0.75 * own:
            findings.append(Finding(
                "local_minimum", "A local minimum: other initial weights reach much lower losses",
                f"this run ended at a {measure} loss of {own:.3g}; the best of {len(restarts)} "
                f"restart{'s' if len(restarts) > 1 else ''} from new random weights reached {best_restart:.3g}",
                "The cost surface is not convex: gradient descent stops in the valley it started above. Train "
                "several times from new random weights and keep the best.", {"set": {}, "run_many": 10},
                {"loss": own, "best_restart_loss": best_restart, "restarts": len(restarts)}))
    findings.sort(key=lambda finding: KINDS.index(finding.kind))
    if not findings:
        gap = "" if val is None else f" and the validation loss {val[-1]:.3g}"
        findings.append(Finding(
            "ideal_fit", "A good fit", f"the training loss settled at {last:.3g}{gap}",
            "Nothing to fix: the training and test losses are low and close.", {"set": {}},
            {"train_loss": last} | ({} if val is None else {"val_loss": float(val[-1])})))
    return findings
