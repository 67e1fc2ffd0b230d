"""``Trainer``: one training loop for every network, with ``fit``/``evaluate``/``predict`` and callbacks.

The loop is fixed and short (Keras 3's ``fit``, Lightning's ``Trainer``): for each epoch, for each batch,
``train_step(batch)`` returns a dict of numbers (``{"loss": …}``) that the trainer averages over the epoch, weighted
by batch size, and hands to the callbacks and the ``History``. What one step does is the only thing a subclass
overrides: the default step is the loop a PyTorch user writes by hand (``zero_grad``, forward, loss, ``backward``,
``step``); a GAN's step updates its discriminator and its generator and returns ``{"d_loss": …, "g_loss": …}``.

Data are arrays (``X``, ``y``), a tuple of arrays, a Dataset (anything with ``__len__`` and ``__getitem__``) or a
DataLoader (anything iterable that yields batches). A batch is a tuple; with two or more elements the last one is
the target of the default steps. ``gn.fit``, ``gn.evaluate`` and ``gn.predict`` are thin functions over a Trainer.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from numbers import Real
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from .. import optim
from ..nn import PROBLEMS, BCEWithLogitsLoss, CrossEntropyLoss, Loss, Module, Parameter, evaluating, head_for, penalty
from ..tensor import Tensor, default_rng, manual_seed
from . import metrics as metric_registry
from .callbacks import Callback, History, ProgressBar, TerminateOnNaN, snapshot
from .strategy import Strategy, resolve

__all__ = ["Trainer", "fit", "evaluate", "predict", "restarts", "Restarts", "OPTIMIZERS", "check_targets"]

OPTIMIZERS: dict[str, type[optim.Optimizer]] = {
    "sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad,
    "adadelta": optim.Adadelta, "rmsprop": optim.RMSprop,
}

Batch = tuple[Any, ...]
Logs = dict[str, float]
DEFAULT_BATCH_SIZE = 32


# ------------------------------------------------------------------------------------------ checks

def _positive_int(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _where(index: Sequence[int]) -> str:
    """'row 7' / 'row 7, column 2' / 'row 7, position (2, 3)' for an index into a (N, …) array."""
    if len(index) == 1:
        return f"row {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"row {index[0]}, position {tuple(int(i) for i in index[1:])}"


def _array(name: str, values: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """``values`` as a numeric (N, …) array, floats cast to ``dtype``; NaN, infinity and values that overflow in
    the cast are named by row and column."""
    array = np.asarray(values._data if isinstance(values, Tensor) else values)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 0 or len(array) == 0:
        raise ValueError(f"{name} is empty: it needs at least one sample (got shape {array.shape})")
    if array.dtype.kind != "f":
        return array
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))
        raise ValueError(f"{name} contains {len(bad)} NaN or infinite value(s); the first at {_where(bad[0])}")
    if dtype is None or array.dtype == dtype:
        return array
    with np.errstate(over="ignore"):
        cast = array.astype(dtype)
    if not np.isfinite(cast).all():
        bad = np.argwhere(~np.isfinite(cast))
        raise ValueError(f"{name} has {len(bad)} value(s) too large for the model's dtype {dtype} (largest "
                         f"{np.finfo(dtype).max:.3g}); the first at {_where(bad[0])}: {array[tuple(bad[0])]:.6g}")
    return cast


def _samples(name: str, array: np.ndarray, samples: int) -> np.ndarray:
    if len(array) != samples:
        raise ValueError(f"{name} has {len(array)} samples but the inputs have {samples}")
    return array


def check_targets(model: Module, y: Any, loss: Callable | None, samples: int, name: str = "y") -> np.ndarray:
    """``y`` checked and shaped for ``loss`` as ``fit`` takes it: ``samples`` rows of finite numbers; class indices
    as integers ((N, C) probabilities stay floats), other targets in the model's dtype with a (N,) target as a
    column. Tools that compute a loss outside ``fit`` (``gn.glass``) take their targets through it."""
    y = _samples(name, _array(name, y, model.dtype), samples)
    if getattr(loss, "takes_class_indices", False):
        if y.ndim == 1 and y.dtype.kind == "f":
            if not np.array_equal(y, np.round(y)):
                raise TypeError(f"{type(loss).__name__} needs integer class labels in {name}, got fractions (or "
                                f"give (N, C) class probabilities)")
            y = y.astype(np.int64)
        return y
    if y.dtype.kind != "f":
        y = y.astype(model.dtype)
    return y.reshape(-1, 1) if y.ndim == 1 else y


def _check_problem(problem: str | None, y: np.ndarray, name: str) -> None:
    """Targets that the problem type cannot have: binary 0/1, multiclass labels ≥ 0 (or class probabilities),
    unit_interval values in [0, 1]."""
    if problem is None or problem == "regression":
        return
    if problem == "binary" and not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name}: a binary problem has 0/1 targets, got values from {y.min()} to {y.max()}")
    if problem == "multiclass" and y.ndim == 1 and y.min() < 0:
        raise ValueError(f"{name}: a multiclass problem has class labels ≥ 0, got {y.min()}")
    if problem == "unit_interval" and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"{name}: a unit_interval problem has targets in [0, 1], got values from {y.min()} to "
                         f"{y.max()}")


def _finite_hyperparameters(owner: str, values: dict[str, Any]) -> None:
    """Refuse NaN and infinite numbers among ``values`` (an optimizer's param group, a scheduler's settings)."""
    for key, value in values.items():
        numbers = value if isinstance(value, (tuple, list)) else (value,)
        for number in numbers:
            if isinstance(number, Real) and not isinstance(number, bool) and not math.isfinite(number):
                raise ValueError(f"{owner}: {key} must be a finite number, got {value!r}")


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
    if (str(kind).lower() not in ("l1", "l2") or isinstance(rate, bool) or not isinstance(rate, Real)
            or not math.isfinite(rate) or rate < 0):
        raise ValueError(f"regularization must be ('l1' or 'l2', a finite rate ≥ 0), got {spec!r}")
    return str(kind).lower(), float(rate)


def _verbose(verbose: Any) -> bool:
    """Whether to show a progress bar: ``"auto"`` shows one when stdout is a terminal or a notebook (as Keras)."""
    if verbose == "auto":
        shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
        return type(shell).__name__ == "ZMQInteractiveShell" or bool(getattr(sys.stdout, "isatty", bool)())
    if verbose in (0, 1, True, False):
        return bool(verbose)
    raise ValueError(f"verbose must be 0, 1 or 'auto', got {verbose!r}")


def _live_plot() -> Callback:
    """``fit(live_plot=True)``'s callback, ``glassnet.viz.LivePlot``: imported when asked for, so that the core loads
    neither viz nor matplotlib otherwise."""
    try:
        import IPython.display  # noqa: F401  (where LivePlot shows its figure)
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(f"fit(live_plot=True) draws with matplotlib in IPython, and {error.name} is not "
                          f"installed: pip install matplotlib ipython (glassnet's extra 'notebook')") from None
    from ..viz import LivePlot
    return LivePlot()


def _overrides(callback: Callback, hook: str) -> bool:
    method = getattr(callback, hook)
    return getattr(method, "__func__", None) is not getattr(Callback, hook)


# ------------------------------------------------------------------------------------------ data

def _is_array_like(data: Any) -> bool:
    return isinstance(data, (np.ndarray, Tensor, list, np.generic, Real))


def _as_batch_item(value: Any, dtype: np.dtype) -> Any:
    """A batch element as a Tensor (floats in the model's dtype); other objects pass through."""
    if isinstance(value, Tensor):
        return value if value._data.dtype.kind != "f" or value._data.dtype == dtype else Tensor._wrap(
            value._data.astype(dtype))
    if isinstance(value, (np.ndarray, np.generic, Real, list)):
        array = np.asarray(value)
        return Tensor._wrap(array.astype(dtype, copy=False) if array.dtype.kind == "f" else array)
    return value


def _as_batch(batch: Any, dtype: np.dtype) -> Batch:
    """What a DataLoader yields as a tuple: a tuple/list of elements, or one element (unlabelled data)."""
    items = batch if isinstance(batch, (tuple, list)) else (batch,)
    return tuple(_as_batch_item(item, dtype) for item in items)


def _collate(items: list[Any]) -> Any:
    """Dataset items → one batch: tuples field by field, arrays, tensors and numbers stacked along a new axis 0."""
    first = items[0]
    if isinstance(first, (tuple, list)):
        return tuple(_collate(list(field)) for field in zip(*items))
    return np.stack([item._data if isinstance(item, Tensor) else np.asarray(item) for item in items])


def _batch_size(batch: Batch) -> int:
    for item in batch:
        if isinstance(item, Tensor) and item._data.ndim:
            return len(item._data)
    raise ValueError("cannot tell the batch size: no element of the batch is a Tensor with a batch dimension")


class _Arrays:
    """Arrays of equal length, batched by slicing (shuffled each epoch by glassnet's generator)."""

    batched_by_fit = True  # fit's batch_size applies

    def __init__(self, arrays: tuple[np.ndarray, ...]) -> None:
        self.arrays = arrays
        self.samples = len(arrays[0])

    def batches(self, batch_size: int | None, shuffle: bool, order: np.ndarray | None = None) -> Iterator[Batch]:
        """Batches in ``order`` (sample indices, e.g. one process's shard) when given, else of all samples."""
        arrays, size = self.arrays, batch_size or self.samples
        if order is None and shuffle:
            order = default_rng().permutation(self.samples)
        if order is not None:
            arrays = tuple(a[order] for a in arrays)
        for start in range(0, len(arrays[0]), size):
            yield tuple(Tensor._wrap(a[start:start + size]) for a in arrays)

    def split(self, fraction: float) -> tuple[_Arrays, _Arrays]:
        """(the first samples, the last ``fraction`` of them)."""
        cut = self.samples - int(round(self.samples * fraction))
        if cut < 1 or cut == self.samples:
            raise ValueError(f"validation_split={fraction} leaves no training or no validation samples out of "
                             f"{self.samples}")
        return _Arrays(tuple(a[:cut] for a in self.arrays)), _Arrays(tuple(a[cut:] for a in self.arrays))


class _Dataset:
    """A Dataset (``__len__``, ``__getitem__``): items gathered in batches and stacked field by field."""

    batched_by_fit = True

    def __init__(self, dataset: Any, dtype: np.dtype) -> None:
        self.dataset, self.dtype, self.samples = dataset, dtype, len(dataset)

    def batches(self, batch_size: int | None, shuffle: bool, order: np.ndarray | None = None) -> Iterator[Batch]:
        if order is None:
            order = default_rng().permutation(self.samples) if shuffle else range(self.samples)
        size = batch_size or DEFAULT_BATCH_SIZE
        for start in range(0, len(order), size):
            items = [self.dataset[int(i)] for i in order[start:start + size]]
            yield _as_batch(_collate(items), self.dtype)


class _Loader:
    """A DataLoader (any iterable of batches): it batches and shuffles itself; each epoch iterates it again."""

    batched_by_fit = False

    def __init__(self, loader: Any, dtype: np.dtype) -> None:
        self.loader, self.dtype = loader, dtype
        dataset = getattr(loader, "dataset", None)
        self.samples = len(dataset) if hasattr(dataset, "__len__") else None

    def batches(self, batch_size: int | None, shuffle: bool, order: np.ndarray | None = None) -> Iterator[Batch]:
        for batch in self.loader:
            yield _as_batch(batch, self.dtype)


_Data = _Arrays | _Dataset | _Loader


def _epoch_batch_size(data: _Data, batch_size: int | None) -> int | None:
    """The batch size of a training epoch over ``data``: ``batch_size`` (checked) or 32 for arrays and Datasets,
    None for a DataLoader (it batches itself)."""
    if batch_size is None:
        return DEFAULT_BATCH_SIZE if data.batched_by_fit else None
    batch_size = _positive_int("batch_size", batch_size)
    if not data.batched_by_fit:
        raise ValueError("batch_size is for arrays and Datasets; a DataLoader batches its data itself")
    return batch_size


class _WeightedMeans:
    """Each logged value's mean over batches, weighted by batch size."""

    def __init__(self) -> None:
        self.totals: Logs = {}
        self.samples = 0

    def add(self, logs: Logs, size: int) -> None:
        self.samples += size
        for key, value in logs.items():
            self.totals[key] = self.totals.get(key, 0.0) + value * size

    def result(self) -> Logs:
        return {key: total / self.samples for key, total in self.totals.items()}


# ------------------------------------------------------------------------------------------ Trainer

class Trainer:
    """Trains ``model`` with ``loss`` and ``optimizer`` (an Optimizer over ``model.parameters()``, a name such as
    ``"adam"``, or a factory ``params -> Optimizer``). ``problem`` (one of ``nn.PROBLEMS``: "binary",
    "multiclass", "regression", "unit_interval") checks the targets against it and, without a loss, takes the
    loss of ``nn.head_for(problem)`` (the model then ends with that head's activation). ``metrics`` are names from
    ``gn.metrics``; ``regularization=("l2", rate)`` adds the penalty to every training batch's loss;
    ``scheduler`` (an ``optim.lr_scheduler`` scheduler) steps once per epoch (``ReduceLROnPlateau`` on
    ``val_loss``, else ``loss``).

    Override ``train_step``, ``validation_step`` and ``predict_step`` for other training: a subclass may hold more
    models and optimizers as attributes; ``state_dict()``, ``models()``, the callbacks' rollbacks and distributed
    training cover all of them. ``batches(X, y)`` is one epoch's batches as ``fit`` makes them, for tools that
    train through ``train_step`` (``gn.glass.lr_find``).

    Callbacks see the trainer as ``callback.trainer``: ``model``, ``optimizer``, ``epoch``, ``epochs``,
    ``batch_size``, ``samples``, and ``stop(reason)`` to end training.

    ``distributed=True`` trains data-parallel over MPI (``mpirun -n 4 python train.py``; needs the
    ``glassnet[distributed]`` extra): ``model`` is wrapped in ``glassnet.distributed.DistributedDataParallel``
    (``trainer.model``; ``trainer.module`` is your model), each process trains on its shard of every epoch (a
    ``DistributedSampler`` reshuffled per epoch; ``batch_size`` is per process, as in PyTorch, so a global batch
    has ``batch_size × processes`` samples), the logs of every batch and of validation are averaged over all
    processes (weighted by their sample counts) so that every process sees the same numbers and takes the same
    decisions, and only rank 0 prints progress and runs the callbacks marked ``main_process_only``
    (``ModelCheckpoint``, ``ProgressBar``). A NaN loss on any process skips the step on all of them. A subclass's
    other models (Module attributes that are not losses, e.g. a GAN's ``self.discriminator``) are wrapped too when
    ``fit`` starts: the attribute then holds the wrapper, and every backward through it averages that model's
    gradients (a subclass that draws random numbers, such as a GAN's noise, draws them per global batch and takes
    its shard, so that N processes see what one would). A DataLoader must shard itself
    (``sampler=DistributedSampler(…)``); its sampler's ``set_epoch`` is called each epoch.
    ``evaluate`` shares the samples too (call it on every process); ``predict`` computes every output on each
    process. ``distributed=<a glassnet.train.Strategy>`` uses that strategy.
    """

    def __init__(self, model: Module, *, loss: Callable | None = None, optimizer: Any = None,
                 metrics: Sequence[str] = (), callbacks: Sequence[Callback] = (),
                 regularization: tuple[str, float] | None = None, scheduler: Any = None,
                 problem: str | None = None, distributed: bool | Strategy | None = None) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Trainer needs a glassnet Module as model, got {type(model).__name__}")
        if loss is not None and not callable(loss):
            raise TypeError(f"loss must be a loss module such as nn.MSELoss(), got {type(loss).__name__}")
        if problem is not None and problem not in PROBLEMS:
            raise ValueError(f"unknown problem type {problem!r}; choose one of {PROBLEMS}")
        if problem in ("regression", "unit_interval") and {"accuracy", "acc"} & set(metrics):
            raise ValueError(f"accuracy is a metric of binary and multiclass problems, not of a {problem} problem; "
                             f"use 'mse' or 'mae'")
        self.strategy = resolve(distributed)
        self.model = self.strategy.wrap_model(model)
        self.problem = problem
        self.loss = head_for(problem).loss if loss is None and problem is not None else loss
        self.metrics = {name: metric_registry.get(name) for name in metrics}
        self.regularization = _regularization(regularization)
        self.optimizer = None if optimizer is None else _optimizer(optimizer, model)
        self.scheduler = scheduler
        self.callbacks = list(callbacks)
        self.epoch, self.epochs, self.batch_size, self.samples = 0, 0, None, None
        self.stop_training, self.stop_reason = False, None

    # ---- what callbacks use
    @property
    def module(self) -> Module:
        """The model being trained, without a distributed wrapper (``model`` itself in one process)."""
        return self.strategy.unwrap_model(self.model)

    def stop(self, reason: str) -> None:
        """End training after the current batch (or epoch); ``History.stop_reason`` records ``reason``."""
        self.stop_training, self.stop_reason = True, reason

    def _components(self) -> Iterator[tuple[str, Any]]:
        """(attribute name, object) of every model (without a distributed wrapper: a checkpoint of N processes
        loads in one), optimizer and scheduler the trainer holds."""
        for name, value in vars(self).items():
            if isinstance(value, Module) and not isinstance(value, Loss):
                yield name, self.strategy.unwrap_model(value)
            elif isinstance(value, optim.Optimizer) or (isinstance(getattr(value, "optimizer", None), optim.Optimizer)
                                                        and hasattr(value, "state_dict")):  # a scheduler
                yield name, value

    def _wrap_models(self) -> None:
        """Give every model the trainer holds (its Module attributes that are not losses: ``model`` and a
        subclass's others, e.g. a GAN's discriminator) the strategy's wrapper, as ``model`` got it, so that each
        trains data-parallel under ``distributed=True``; the attribute then holds the wrapper, whose ``module`` is
        the model. A model held twice gets one wrapper; two models that share parameters are refused (both would
        average them)."""
        if self.model is self.module:  # the strategy wraps nothing
            return
        unwrap = self.strategy.unwrap_model
        models = [(name, value) for name, value in vars(self).items()
                  if isinstance(value, Module) and not isinstance(value, Loss)]
        owners: dict[int, str] = {}
        for name, value in models:
            for p in unwrap(value).parameters():
                other = owners.setdefault(id(p), name)
                if unwrap(getattr(self, other)) is not unwrap(value):
                    raise ValueError(f"distributed training: the models {other!r} and {name!r} of "
                                     f"{type(self).__name__} share parameters, which both would average; hold "
                                     f"each part once (e.g. the generator and the discriminator, not also a "
                                     f"Sequential of both)")
        wrappers: dict[int, Module] = {}
        for name, value in models:
            model = unwrap(value)
            if id(model) not in wrappers:
                wrappers[id(model)] = self.strategy.wrap_model(value)
            setattr(self, name, wrappers[id(model)])

    def state_dict(self) -> dict[str, Any]:
        """A copy of the state of every model, optimizer and scheduler, by attribute name (a checkpoint dict)."""
        return {name: snapshot(part.state_dict()) for name, part in self._components()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, part in self._components():
            part.load_state_dict(snapshot(state[name]))

    def models(self) -> Iterator[Module]:
        """Every model the trainer holds (``module`` for a distributed ``model``; a subclass's other models too)."""
        for _, part in self._components():
            if isinstance(part, Module):
                yield part

    def parameters(self) -> Iterator[Parameter]:
        """The parameters of every model the trainer holds."""
        for model in self.models():
            yield from model.parameters()

    def _check_hyperparameters(self) -> None:
        for _, part in self._components():
            if isinstance(part, optim.Optimizer):
                for group in part.param_groups:
                    _finite_hyperparameters(type(part).__name__, {k: v for k, v in group.items() if k != "params"})
            elif not isinstance(part, Module):
                # ReduceLROnPlateau's best value so far starts at ±inf; a scheduler's other numbers are settings
                _finite_hyperparameters(type(part).__name__, {k: v for k, v in vars(part).items()
                                                              if k not in ("best", "mode_worse")})

    # ---- the steps (override these)
    def unpack(self, batch: Batch) -> tuple[Batch, Any]:
        """(inputs, target) of a batch: the last element is the target when there are two or more."""
        return (batch, None) if len(batch) < 2 else (batch[:-1], batch[-1])

    def compute_loss(self, output: Tensor, target: Any) -> Tensor:
        """``loss(output, target)``; a (N,) target of a (N, 1) output is read as a column."""
        if self.loss is None:
            raise ValueError(f"{type(self).__name__} has no loss: pass loss= or override train_step")
        if target is None:
            raise ValueError(f"{type(self).__name__}: the batch has no targets; pass y, or override train_step "
                             f"for unlabelled data")
        if (not getattr(self.loss, "takes_class_indices", False) and isinstance(target, Tensor)
                and target._data.ndim == 1 and output._data.shape == (len(target._data), 1)):
            target = Tensor._wrap(target._data.reshape(-1, 1))
        return self.loss(output, target)

    def compute_metrics(self, output: Tensor, target: Any) -> Logs:
        """The trainer's metrics of ``output`` against ``target`` (binary outputs read as logits after a loss that
        takes logits)."""
        if not self.metrics:
            return {}
        from_logits = isinstance(self.loss, (BCEWithLogitsLoss, CrossEntropyLoss))
        target = target._data if isinstance(target, Tensor) else np.asarray(target)
        return {name: fn(output._data, target, from_logits) for name, fn in self.metrics.items()}

    def train_step(self, batch: Batch) -> Logs:
        """One optimisation step on ``batch``: its loss (before the step) and metrics. A NaN or infinite loss
        takes no step."""
        if self.optimizer is None:
            raise ValueError(f"{type(self).__name__} has no optimizer: pass optimizer= or override train_step")
        inputs, target = self.unpack(batch)
        self.optimizer.zero_grad()
        output = self.model(*inputs)
        objective = self.compute_loss(output, target)
        if self.regularization is not None:
            objective = objective + penalty(self.model, *self.regularization)
        value = float(objective._data)
        if self.strategy.all_finite(value):
            objective.backward()
            self.optimizer.step()
        return {"loss": value, **self.compute_metrics(output, target)}

    def validation_step(self, batch: Batch) -> Logs:
        """Loss (when the trainer has one) and metrics of ``batch``; runs in eval mode without a graph."""
        inputs, target = self.unpack(batch)
        output = self.model(*inputs)
        logs = {} if self.loss is None else {"loss": float(self.compute_loss(output, target)._data)}
        return {**logs, **self.compute_metrics(output, target)}

    def predict_step(self, inputs: Batch) -> Any:
        """The model's output for a batch's inputs (its elements without the target); runs in eval mode without
        a graph."""
        return self.model(*inputs)

    # ---- data
    def batches(self, X: Any, y: Any = None, *, batch_size: int | None = None,
                shuffle: bool = True) -> Iterator[Batch]:
        """One epoch's training batches, as ``fit`` makes them: X and y in ``fit``'s forms, checked as it checks
        them (at the call); arrays and Datasets in batches of ``batch_size`` (default 32), shuffled by glassnet's
        generator when ``shuffle``; a DataLoader batches itself."""
        data = self._data(X, y)
        return data.batches(_epoch_batch_size(data, batch_size), shuffle)

    def _data(self, X: Any, y: Any, name: str = "X", target_name: str = "y") -> _Data:
        dtype = self.model.dtype
        if y is not None or _is_array_like(X):
            X, y = (X, ()) if y is None else (X, (y,))
            return self._arrays((X, *y), (name, target_name))
        if isinstance(X, tuple):
            return self._arrays(X, (f"{name}[{i}]" for i in range(len(X))))
        if hasattr(X, "__getitem__") and hasattr(X, "__len__"):
            return _Dataset(X, dtype)
        if hasattr(X, "__iter__"):
            return _Loader(X, dtype)
        raise TypeError(f"{name} must be arrays, a Dataset or a DataLoader, got {type(X).__name__}")

    def _arrays(self, arrays: tuple[Any, ...], names: Iterable[str]) -> _Arrays:
        dtype = self.model.dtype
        names = list(names)
        checked = [_array(names[0], arrays[0], dtype)]
        for n, array in zip(names[1:-1], arrays[1:-1]):
            checked.append(_samples(n, _array(n, array, dtype), len(checked[0])))
        if len(arrays) > 1:
            checked.append(check_targets(self.model, arrays[-1], self.loss, len(checked[0]), names[-1]))
            _check_problem(self.problem, checked[-1], names[-1])
            if getattr(self.loss, "takes_class_indices", False) and checked[-1].ndim == 1:
                self._check_labels(checked, names[-1])
        return _Arrays(tuple(checked))

    def _check_labels(self, arrays: list[np.ndarray], name: str) -> None:
        """Class indices must name one of the model's outputs: checked before training starts."""
        labels = arrays[-1]
        with evaluating(self.model):
            classes = self.predict_step(tuple(Tensor._wrap(a[:1]) for a in arrays[:-1]))._data.shape[-1]
        if labels.min() < 0 or labels.max() >= classes:
            raise ValueError(f"{type(self.loss).__name__}: {name} must hold class labels in [0, {classes - 1}] for "
                             f"the model's {classes} outputs, got labels from {labels.min()} to {labels.max()}")

    # ---- fit, evaluate, predict
    def fit(self, X: Any, y: Any = None, *, epochs: int = 1, batch_size: int | None = None,
            validation_data: Any = None, validation_split: float = 0.0, shuffle: bool = True,
            verbose: Any = "auto", live_plot: bool = False) -> History:
        """Train for ``epochs`` epochs and return the ``History``.

        X, y: arrays, (N, …) and (N,) or (N, outputs) (class indices or (N, C) probabilities for
        CrossEntropyLoss/NLLLoss); or X a tuple of arrays, a Dataset or a DataLoader, y None. ``batch_size``
        (default 32) batches arrays and Datasets; a DataLoader batches itself. ``validation_data`` takes the same
        forms ((X, y) is a tuple of arrays); ``validation_split`` holds out the last fraction of arrays. A NaN or
        infinite loss stops training with the last good state (``TerminateOnNaN``); Ctrl-C stops it gracefully:
        every callback's ``on_train_end`` runs and ``History.stop_reason`` is ``"interrupted"``. ``live_plot``:
        the learning curves redrawn in place after each epoch in a notebook (``glassnet.viz.LivePlot``, which needs
        matplotlib and IPython).
        """
        epochs = _positive_int("epochs", epochs, minimum=0)
        if not isinstance(live_plot, bool):
            raise TypeError(f"live_plot must be True or False, got {live_plot!r}")
        train = self._data(X, y)
        batch_size = _epoch_batch_size(train, batch_size)
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split must lie in [0, 1), got {validation_split}")
        show_progress = _verbose(verbose) and self.strategy.is_main
        self._check_hyperparameters()
        self._wrap_models()
        if validation_data is not None:
            validation = self._data(*(validation_data if isinstance(validation_data, tuple)
                                      and len(validation_data) == 2 else (validation_data, None)),
                                    name="validation X", target_name="validation y")
        elif validation_split:
            if not isinstance(train, _Arrays):
                raise ValueError("validation_split needs arrays; pass validation_data for a Dataset or DataLoader")
            train, validation = train.split(validation_split)
        else:
            validation = None

        history = History()
        callbacks = [history, *self.callbacks]
        if not any(isinstance(cb, TerminateOnNaN) for cb in callbacks):
            callbacks.append(TerminateOnNaN())
        if show_progress and not any(isinstance(cb, ProgressBar) for cb in callbacks):
            callbacks.append(ProgressBar())
        if live_plot:
            plot = _live_plot()
            if not any(isinstance(cb, type(plot)) for cb in callbacks):
                callbacks.append(plot)
        if not self.strategy.is_main:
            callbacks = [cb for cb in callbacks if not cb.main_process_only]
        sampler = self.strategy.sampler(train.samples, shuffle) if train.batched_by_fit else None
        self.epochs, self.batch_size, self.samples = epochs, batch_size, train.samples
        self.epoch, self.stop_training, self.stop_reason = 0, False, None
        for cb in callbacks:
            cb.set_trainer(self)
        batch_hooks = [cb for cb in callbacks if _overrides(cb, "on_batch_end")]
        logs: Logs = {}
        try:
            for cb in callbacks:
                cb.on_train_begin({})
            for epoch in range(epochs):
                self.epoch = epoch
                for cb in callbacks:
                    cb.on_epoch_begin(epoch, {})
                epoch_logs = self._train_epoch(train, batch_size, shuffle, batch_hooks, sampler)
                if epoch_logs is None:  # stopped inside the epoch
                    break
                if validation is not None:
                    scores = self._evaluate(validation, None)
                    epoch_logs.update({f"val_{key}": value for key, value in scores.items()})
                self._step_scheduler(epoch_logs)
                for cb in callbacks:
                    cb.on_epoch_end(epoch, epoch_logs)
                logs = epoch_logs
                if self.stop_training:
                    break
        except KeyboardInterrupt:
            self.stop("interrupted")
        for cb in callbacks:
            cb.on_train_end(logs)
        return history

    def _train_epoch(self, data: _Data, batch_size: int | None, shuffle: bool, batch_hooks: list[Callback],
                     sampler: Any = None) -> Logs | None:
        """One pass over the data (this process's shard of it when ``sampler`` is given): each logged value's
        mean over the epoch weighted by batch size, or None if training stopped inside the epoch. Each batch's
        logs are averaged over the processes first (the global batch's), so all of them decide alike."""
        for model in self.models():
            model.train()
        order = None
        if sampler is not None:
            sampler.set_epoch(self.epoch)
            order = np.fromiter(sampler, np.int64)
        elif isinstance(data, _Loader) and hasattr(getattr(data.loader, "sampler", None), "set_epoch"):
            data.loader.sampler.set_epoch(self.epoch)  # a DataLoader over a DistributedSampler reshuffles
        means = _WeightedMeans()
        for batch_index, batch in enumerate(data.batches(batch_size, shuffle, order)):
            logs, size = self.strategy.reduce_means(self.train_step(batch), _batch_size(batch))
            for cb in batch_hooks:
                cb.on_batch_end(batch_index, {**logs, "size": size})
            if self.stop_training:
                return None
            means.add(logs, size)
        return means.result()

    def _step_scheduler(self, logs: Logs) -> None:
        if self.scheduler is None:
            return
        if isinstance(self.scheduler, optim.ReduceLROnPlateau):
            self.scheduler.step(logs.get("val_loss", logs.get("loss")))
        else:
            self.scheduler.step()

    def _evaluate(self, data: _Data, batch_size: int | None) -> Logs:
        """Weighted means of the validation steps' logs; in several processes each evaluates its share of the
        samples and the means are combined over all of them."""
        order = self.strategy.evaluation_indices(data.samples) if data.batched_by_fit else None
        means = _WeightedMeans()
        with evaluating(self.model):
            for batch in data.batches(batch_size, shuffle=False, order=order):
                means.add(self.validation_step(batch), _batch_size(batch))
        return self.strategy.reduce_means(means.result(), means.samples)[0]

    def evaluate(self, X: Any, y: Any = None, *, batch_size: int | None = None) -> Logs:
        """``{"loss": …, metric: …}`` over the data (same forms as ``fit``) in eval mode, weighted by batch size;
        arrays in one batch and a Dataset in batches of 32 unless ``batch_size`` is given."""
        if batch_size is not None:
            batch_size = _positive_int("batch_size", batch_size)
        return self._evaluate(self._data(X, y), batch_size)

    def predict(self, X: Any, *, batch_size: int | None = None) -> np.ndarray:
        """The model's raw outputs for X (arrays, a Dataset or a DataLoader; targets in a batch are ignored) in
        eval mode without a graph, as one array."""
        if batch_size is not None:
            batch_size = _positive_int("batch_size", batch_size)
        data = self._data(X, None)
        with evaluating(self.model):
            outputs = [self.predict_step(batch if isinstance(data, _Arrays) else self.unpack(batch)[0])
                       for batch in data.batches(batch_size, shuffle=False)]
        arrays = [out._data if isinstance(out, Tensor) else np.asarray(out) for out in outputs]
        return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


# ------------------------------------------------------------------------------------------ functions

def fit(model: Module, X: Any, y: Any = None, *, loss: Callable | None = None, optimizer: Any, epochs: int = 1,
        batch_size: int | None = None, validation_data: Any = None, validation_split: float = 0.0,
        shuffle: bool = True, metrics: Sequence[str] = (), callbacks: Sequence[Callback] = (),
        regularization: tuple[str, float] | None = None, scheduler: Any = None, problem: str | None = None,
        verbose: Any = "auto", live_plot: bool = False, distributed: bool | Strategy | None = None) -> History:
    """Train ``model`` on the data and return its ``History``: ``Trainer(model, …).fit(X, y, …)``.

    X: (N, features); y: (N,) or (N, outputs), or (N,) class indices / (N, C) probabilities for
    CrossEntropyLoss/NLLLoss; or a Dataset or DataLoader as X. ``optimizer`` is an Optimizer over
    ``model.parameters()``, a name ("sgd", "adam", …) or a factory ``params -> Optimizer``. ``problem`` instead of
    ``loss`` takes the loss of ``nn.head_for(problem)``. ``distributed=True`` trains data-parallel over MPI
    (``batch_size`` per process). See ``Trainer``.
    """
    if loss is None and problem is None:
        raise TypeError(f"fit needs loss= (a loss module such as nn.MSELoss()) or problem= (one of {PROBLEMS})")
    trainer = Trainer(model, loss=loss, optimizer=optimizer, metrics=metrics, callbacks=callbacks,
                      regularization=regularization, scheduler=scheduler, problem=problem, distributed=distributed)
    return trainer.fit(X, y, epochs=epochs, batch_size=batch_size, validation_data=validation_data,
                       validation_split=validation_split, shuffle=shuffle, verbose=verbose, live_plot=live_plot)


def predict(model: Module, X: Any, batch_size: int | None = None) -> np.ndarray:
    """The model's raw outputs for X, in eval mode and without recording a graph (every output on each process:
    there is nothing to share, hence no ``distributed``)."""
    return Trainer(model).predict(X, batch_size=batch_size)


def evaluate(model: Module, X: Any, y: Any = None, *, loss: Callable | None = None, metrics: Sequence[str] = (),
             batch_size: int | None = None, distributed: bool | Strategy | None = None) -> Logs:
    """``{"loss": …, metric: …}`` of the model on (X, y) in eval mode. ``distributed=True``: each process
    evaluates its share of the samples with rank 0's weights and every process gets the means over all of them."""
    return Trainer(model, loss=loss, metrics=metrics, distributed=distributed).evaluate(X, y, batch_size=batch_size)


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


def _one_run(build_model: Callable[[], Module], fit_kwargs: dict[str, Any], seed: int) -> tuple[Module, History]:
    """One restart: seed glassnet's generator, build a model, train it (a task of its own under a client)."""
    manual_seed(seed)
    model = build_model()
    return model, fit(model, **fit_kwargs)


def restarts(build_model: Callable[[], Module], n: int, fit_kwargs: dict[str, Any], seed: int = 0,
             client: Any = None) -> Restarts:
    """Train ``n`` models from different random initial weights (seeds seed, seed+1, …) and keep the best.

    The course's remedy for local minima: "several trials with different random initial weights". ``fit_kwargs``
    are ``fit``'s arguments (X, y, loss, …); the optimizer must be a name or a factory, since each run has its own
    parameters. Runs are ranked by their last ``val_loss`` (``loss`` when there is no validation data).
    ``client`` (a ``dask.distributed.Client``, e.g. ``glassnet.distributed.local_client()``, or a scheduler's
    address such as ``"tcp://host:8786"``) runs the restarts as parallel tasks; each is seeded on its own, so the
    result equals the serial one.
    """
    if isinstance(client, str):
        from dask.distributed import Client  # Dask is an optional extra: imported only for an address
        with Client(client) as connected:
            return restarts(build_model, n, fit_kwargs, seed, connected)
    n = _positive_int("n", n)
    if isinstance(fit_kwargs.get("optimizer"), optim.Optimizer):
        raise TypeError("restarts: give the optimizer as a name ('adam') or a factory (lambda params: "
                        "optim.Adam(params, lr=0.01)), since each run builds a new model")
    seeds = [seed + run for run in range(n)]
    if client is None:
        runs = [_one_run(build_model, fit_kwargs, s) for s in seeds]
    else:
        runs = client.gather([client.submit(_one_run, build_model, fit_kwargs, s, pure=False) for s in seeds])
    models = [model for model, _ in runs]
    histories = [history for _, history in runs]
    scores = []
    for history in histories:
        logs = history.history
        key = "val_loss" if "val_loss" in logs else "loss"
        score = logs[key][-1] if logs.get(key) else math.inf
        scores.append(score if math.isfinite(score) else math.inf)
    best = int(np.argmin(scores))
    return Restarts(models[best], best, histories, scores, seeds)
