"""The training loop: ``fit`` (Keras-style, with callbacks and a ``History``), ``evaluate``, ``predict`` and
``restarts`` (several trainings from new random weights, keeping the best).

Inside, ``fit`` is the loop a PyTorch user writes by hand: for each mini-batch ``zero_grad``, forward, loss,
``backward``, ``step``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from . import metrics as metric_registry
from . import optim
from .callbacks import Callback, History, ProgressBar, TerminateOnNaN, TrainingLoop
from .nn import BCEWithLogitsLoss, CrossEntropyLoss, Module, penalty
from .tensor import Tensor, default_rng, manual_seed, no_grad

__all__ = ["fit", "evaluate", "predict", "restarts", "Restarts", "History", "OPTIMIZERS"]

OPTIMIZERS: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad,
    "adadelta": optim.Adadelta, "rmsprop": optim.RMSprop,
}


# ------------------------------------------------------------------------------------------ input checks

def _array(name: str, values: Any) -> np.ndarray:
    array = np.asarray(values._data if isinstance(values, Tensor) else values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{name} is empty: it needs at least one sample (got shape {array.shape})")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))
        where = f"row {bad[0][0]}" + (f", column {bad[0][1]}" if array.ndim > 1 else "")
        raise ValueError(f"{name} contains {len(bad)} NaN or infinite value(s); the first at {where}")
    return array


def _inputs(model: Module, X: Any, name: str = "X") -> np.ndarray:
    return _array(name, X).astype(model.dtype, copy=False)


def _targets(model: Module, y: Any, loss: Callable, samples: int, name: str = "y") -> np.ndarray:
    y = _array(name, y)
    if len(y) != samples:
        raise ValueError(f"{name} has {len(y)} samples but the inputs have {samples}")
    if getattr(loss, "takes_class_indices", False):
        if y.dtype.kind == "f":
            if not np.array_equal(y, np.round(y)):
                raise TypeError(f"{type(loss).__name__} needs integer class labels in {name}, got fractions")
            y = y.astype(np.int64)
        return y
    y = y.astype(model.dtype, copy=False)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _check_labels(model: Module, X: np.ndarray, y: np.ndarray, loss: Callable, name: str) -> None:
    """Class indices must name one of the model's outputs: checked before training starts."""
    if not getattr(loss, "takes_class_indices", False) or y.ndim != 1:
        return
    classes = _outputs(model, X[:1], None).shape[-1]
    if y.min() < 0 or y.max() >= classes:
        raise ValueError(f"{type(loss).__name__}: {name} must hold class labels in [0, {classes - 1}] for the "
                         f"model's {classes} outputs, got labels from {y.min()} to {y.max()}")


def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _optimizer(spec: Any, model: Module) -> optim.Optimizer:
    """An Optimizer for ``model`` from an instance, a name ("adam") or a factory ``params -> Optimizer``."""
    if isinstance(spec, optim.Optimizer):
        mine = {id(p) for p in model.parameters()}
        theirs = {id(p) for group in spec.param_groups for p in group["params"]}
        if not theirs <= mine:
            raise ValueError("the optimizer was built for another model's parameters; pass model.parameters() "
                             "to it")
        return spec
    if isinstance(spec, str):
        if spec.lower() not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {spec!r}; choose one of {sorted(OPTIMIZERS)}")
        return OPTIMIZERS[spec.lower()](model.parameters())
    if callable(spec):
        return spec(model.parameters())
    raise TypeError(f"optimizer must be an Optimizer, a name or a factory, got {type(spec).__name__}")


def _regularization(spec: Any) -> tuple[str, float] | None:
    if spec is None:
        return None
    kind, rate = spec
    if str(kind).lower() not in ("l1", "l2") or not isinstance(rate, (int, float)) or rate < 0:
        raise ValueError(f"regularization must be ('l1' or 'l2', rate ≥ 0), got {spec!r}")
    return str(kind).lower(), float(rate)


def _from_logits(loss: Callable) -> bool:
    return isinstance(loss, (BCEWithLogitsLoss, CrossEntropyLoss))


def _overrides(callback: Callback, hook: str) -> bool:
    method = getattr(callback, hook)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


# ------------------------------------------------------------------------------------------ fit

def fit(model: Module, X: Any, y: Any, *, loss: Callable, optimizer: Any, epochs: int = 1, batch_size: int = 32,
        validation_data: tuple[Any, Any] | None = None, validation_split: float = 0.0, shuffle: bool = True,
        metrics: Sequence[str] = (), callbacks: Sequence[Callback] = (), regularization: tuple[str, float] | None = None,
        verbose: int = 0) -> History:
    """Train ``model`` on (X, y) with mini-batch gradient descent and return its ``History``.

    X: (N, features); y: (N,) or (N, outputs), or (N,) class indices for CrossEntropyLoss/NLLLoss. ``optimizer``
    is an Optimizer over ``model.parameters()``, a name ("sgd", "adam", …) or a factory ``params -> Optimizer``.
    ``validation_split`` holds out the last fraction of (X, y). ``regularization=("l2", rate)`` adds the penalty
    to every batch's loss. A NaN/infinite loss stops training with the last good weights (``TerminateOnNaN``).
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit needs a glassnet Module as model, got {type(model).__name__}")
    if not callable(loss):
        raise TypeError(f"loss must be a loss module such as nn.MSELoss(), got {type(loss).__name__}")
    epochs = _positive_int("epochs", epochs, minimum=0)
    batch_size = _positive_int("batch_size", batch_size)
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must lie in [0, 1), got {validation_split}")
    metric_fns = {name: metric_registry.get(name) for name in metrics}
    reg = _regularization(regularization)
    optimizer = _optimizer(optimizer, model)
    X = _inputs(model, X)
    y = _targets(model, y, loss, len(X))
    if validation_data is not None:
        Xv = _inputs(model, validation_data[0], "validation X")
        validation = (Xv, _targets(model, validation_data[1], loss, len(Xv), "validation y"))
    elif validation_split:
        cut = len(X) - int(round(len(X) * validation_split))
        if cut < 1 or cut == len(X):
            raise ValueError(f"validation_split={validation_split} leaves no training or no validation samples "
                             f"out of {len(X)}")
        X, y, validation = X[:cut], y[:cut], (X[cut:], y[cut:])
    else:
        validation = None
    _check_labels(model, X, y, loss, "y")
    if validation is not None:
        _check_labels(model, *validation, loss, "validation y")

    history = History()
    callbacks = [history, *callbacks]
    if not any(isinstance(cb, TerminateOnNaN) for cb in callbacks):
        callbacks.append(TerminateOnNaN())
    if verbose and not any(isinstance(cb, ProgressBar) for cb in callbacks):
        callbacks.append(ProgressBar())
    loop = TrainingLoop(model, optimizer, epochs, batch_size, len(X))
    for cb in callbacks:
        cb.set_loop(loop)
        cb.on_train_begin({})
    batch_hooks = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]
    from_logits = _from_logits(loss)
    logs: dict[str, float] = {}
    for epoch in range(epochs):
        loop.epoch = epoch
        for cb in callbacks:
            cb.on_epoch_begin(epoch, {})
        logs = _train_epoch(model, X, y, loss, optimizer, batch_size, shuffle, metric_fns, from_logits, reg, loop,
                            batch_hooks)
        if loop.stop_training and logs is None:  # stopped inside the epoch (a NaN loss)
            break
        if validation is not None:
            scores = evaluate(model, *validation, loss=loss, metrics=list(metric_fns))
            logs.update({f"val_{key}": value for key, value in scores.items()})
        for cb in callbacks:
            cb.on_epoch_end(epoch, logs)
        if loop.stop_training:
            break
    for cb in callbacks:
        cb.on_train_end(logs)
    return history


def _train_epoch(model: Module, X: np.ndarray, y: np.ndarray, loss: Callable, optimizer: optim.Optimizer,
                 batch_size: int, shuffle: bool, metric_fns: dict[str, Callable], from_logits: bool,
                 reg: tuple[str, float] | None, loop: TrainingLoop, batch_hooks: list[Callback]
                 ) -> dict[str, float] | None:
    """One pass over (X, y) in mini-batches; the epoch's mean loss and metrics, or None if stopped mid-epoch."""
    model.train()
    if shuffle:
        order = default_rng().permutation(len(X))
        X, y = X[order], y[order]
    totals = dict.fromkeys(["loss", *metric_fns], 0.0)
    for batch, start in enumerate(range(0, len(X), batch_size)):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        optimizer.zero_grad()
        output = model(Tensor._wrap(xb))
        objective = loss(output, yb)
        if reg is not None:
            objective = objective + penalty(model, *reg)
        value = float(objective._data)
        if math.isfinite(value):
            objective.backward()
            optimizer.step()
        for cb in batch_hooks:
            cb.on_batch_end(batch, {"loss": value, "size": len(xb)})
        if loop.stop_training:
            return None
        totals["loss"] += value * len(xb)
        for name, fn in metric_fns.items():
            totals[name] += fn(output._data, yb, from_logits) * len(xb)
    return {name: total / len(X) for name, total in totals.items()}


# ------------------------------------------------------------------------------------------ evaluate, predict

def _outputs(model: Module, X: np.ndarray, batch_size: int | None) -> np.ndarray:
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            if batch_size is None or batch_size >= len(X):
                return np.asarray(model(Tensor._wrap(X))._data)
            return np.concatenate([model(Tensor._wrap(X[i:i + batch_size]))._data
                                   for i in range(0, len(X), batch_size)])
    finally:
        model.train(was_training)


def predict(model: Module, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's raw outputs for X, in eval mode and without recording a graph."""
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size)
    return _outputs(model, _inputs(model, X), batch_size)


def evaluate(model: Module, X: Any, y: Any, *, loss: Callable | None = None, metrics: Sequence[str] = (),
             batch_size: int | None = None) -> dict[str, float]:
    """``{"loss": …, metric: …}`` of the model on (X, y) in eval mode."""
    metric_fns = {name: metric_registry.get(name) for name in metrics}
    X = _inputs(model, X)
    y = _targets(model, y, loss, len(X))
    output = _outputs(model, X, batch_size)
    scores = {}
    if loss is not None:
        with no_grad():
            scores["loss"] = float(loss(Tensor._wrap(output), y)._data)
    for name, fn in metric_fns.items():
        scores[name] = fn(output, y, _from_logits(loss))
    return scores


# ------------------------------------------------------------------------------------------ restarts

@dataclass
class Restarts:
    """The outcome of ``restarts``: the best model and every run's history and score."""

    best_model: Module
    best_index: int
    histories: list[History]
    scores: list[float]
    seeds: list[int]

    @property
    def best_history(self) -> History:
        return self.histories[self.best_index]


def restarts(build_model: Callable[[], Module], n: int, fit_kwargs: dict[str, Any], seed: int = 0) -> Restarts:
    """Train ``n`` models from different random initial weights (seeds seed, seed+1, …) and keep the best.

    The course's remedy for local minima: "several trials with different random initial weights". ``fit_kwargs``
    are ``fit``'s arguments (X, y, loss, …); the optimizer must be a name or a factory, since each run has its own
    parameters. Runs are ranked by their last ``val_loss`` (``loss`` when there is no validation data).
    """
    n = _positive_int("n", n)
    if isinstance(fit_kwargs.get("optimizer"), optim.Optimizer):
        raise TypeError("restarts: give the optimizer as a name ('adam') or a factory (lambda params: "
                        "optim.Adam(params, lr=0.01)), since each run builds a new model")
    models, histories, scores, seeds = [], [], [], []
    for run in range(n):
        manual_seed(seed + run)
        model = build_model()
        history = fit(model, **fit_kwargs)
        logs = history.history
        key = "val_loss" if "val_loss" in logs else "loss"
        score = logs[key][-1] if logs.get(key) else math.inf
        models.append(model)
        histories.append(history)
        scores.append(score if math.isfinite(score) else math.inf)
        seeds.append(seed + run)
    best = int(np.argmin(scores))
    return Restarts(models[best], best, histories, scores, seeds)
