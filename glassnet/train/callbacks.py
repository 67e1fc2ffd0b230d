"""Callbacks: everything around the training loop (stopping, checkpoints, progress) as small hooks (Keras' design).

``Trainer.fit`` calls, in order: ``on_train_begin``, then per epoch ``on_epoch_begin``, ``on_batch_end`` after
each batch (with the step's logs and the batch's ``size``), ``on_epoch_end`` with the epoch's logs (``loss``,
``val_loss``, metrics…), and ``on_train_end`` (also after a stop, a NaN or Ctrl-C). A callback reaches the running
trainer as ``self.trainer`` (its ``model``, ``optimizer``, ``epoch``…) and ends training with
``self.trainer.stop(reason)``.

A loop other than ``Trainer.fit`` (e.g. one that trains in time slices, as the playground does in
``playground/stopping.py``) uses the same callbacks by holding a ``Trainer`` for them, setting ``trainer.epoch``,
and calling the hooks itself::

    trainer = gn.Trainer(model, optimizer=optimizer, callbacks=[EarlyStopping("loss", patience=5)])
    for cb in trainer.callbacks:
        cb.set_trainer(trainer)
        cb.on_train_begin()
    for epoch in range(epochs):
        trainer.epoch = epoch
        for cb in trainer.callbacks: cb.on_epoch_begin(epoch)
        ... train, calling cb.on_batch_end(batch, {"loss": value, "size": n}) ...
        for cb in trainer.callbacks: cb.on_epoch_end(epoch, {"loss": epoch_loss})
        if trainer.stop_training: break   # trainer.stop_reason says why
    for cb in trainer.callbacks: cb.on_train_end()
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from ..tensor import Tensor

if TYPE_CHECKING:
    from ..nn import Module
    from .trainer import Trainer

__all__ = ["Callback", "History", "EarlyStopping", "TerminateOnNaN", "StopAtThreshold", "StopAtEpoch",
           "ModelCheckpoint", "ProgressBar", "LambdaCallback"]

Logs = dict[str, float]


class Callback:
    """Base class: override the hooks you need. In distributed training (``Trainer(distributed=…)``) every
    process runs the callbacks, with the same logs, except those with ``main_process_only`` (printing, writing
    files), which run on rank 0 only."""

    trainer: Trainer
    main_process_only: bool = False

    def set_trainer(self, trainer: Trainer) -> None:
        self.trainer = trainer

    @property
    def model(self) -> Module:
        """The trainer's model (without a distributed wrapper)."""
        return self.trainer.module

    def on_train_begin(self, logs: Logs | None = None) -> None: ...

    def on_train_end(self, logs: Logs | None = None) -> None: ...

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None: ...

    def on_epoch_end(self, epoch: int, logs: Logs) -> None: ...

    def on_batch_end(self, batch: int, logs: Logs) -> None: ...


@dataclass
class History(Callback):
    """Per-epoch logs: ``history["loss"][i]`` is epoch i's training loss; ``epoch`` lists the epoch numbers."""

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)
    stop_reason: str | None = None

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self.stop_reason = self.trainer.stop_reason


def snapshot(state: Any) -> Any:
    """A deep copy of a state dict (a module's, an optimizer's, a scheduler's, or a dict of them): as in PyTorch, a
    module's state dict shares the module's memory (and a scheduler's holds its own lists), so a copy that training
    must not change is a deep one. Numbers and text are kept, dicts, lists, arrays and Tensors copied directly
    (``copy.deepcopy`` of a Tensor costs ~30 µs: a per-epoch snapshot of a small network took several times as
    long); anything else is deep-copied."""
    if state is None or isinstance(state, (int, float, str)):
        return state
    if isinstance(state, dict):
        return {key: snapshot(value) for key, value in state.items()}
    if isinstance(state, list):
        return [snapshot(value) for value in state]
    if type(state) is Tensor and state.grad is None and not state.requires_grad:  # a state dict's detached values
        return Tensor._wrap(state._data.copy())
    if isinstance(state, np.ndarray):
        return state.copy()
    return copy.deepcopy(state)


def _monitored(callback: Callback, monitor: str, logs: Logs) -> float:
    if monitor not in logs:
        hint = " (pass validation_data or validation_split to fit)" if monitor.startswith("val_") else ""
        raise ValueError(f"{type(callback).__name__} monitors {monitor!r}, but the epoch logged only "
                         f"{sorted(logs)}{hint}")
    return logs[monitor]


def _finite(owner: str, name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{owner}: {name} must be a finite number, got {value!r}")


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        return "max" if "acc" in monitor else "min"
    return mode


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs; with
    ``restore_best_weights``, the model ends training with the weights of its best epoch."""

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0, mode: str = "auto",
                 restore_best_weights: bool = False) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be ≥ 0, got {patience}")
        _finite("EarlyStopping", "min_delta", min_delta)
        self.monitor, self.min_delta, self.patience = monitor, abs(min_delta), patience
        self.mode = _mode(monitor, mode)
        self.restore_best_weights = restore_best_weights

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self.wait, self.stopped_epoch, self.best_epoch = 0, None, None
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights: dict[str, np.ndarray] | None = None

    def _improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        value = _monitored(self, self.monitor, logs)
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = snapshot(self.model.state_dict())
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.trainer.stop(f"early stopping: {self.monitor} did not improve for {self.wait} epoch(s); best "
                           f"{self.best:.6g} at epoch {self.best_epoch}")

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


class TerminateOnNaN(Callback):
    """Stop as soon as a batch or an epoch logs a NaN or infinite value, or an epoch ends with NaN or infinite
    weights, and put back the state from the start of that epoch: the weights, and the optimizers' and schedulers'
    state (momentum, Adam's moments, step counts, learning rates), so that training can go on from there.

    The trainer must have ``state_dict()``, ``load_state_dict()`` and ``parameters()`` (a ``Trainer`` has them)."""

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        self.good_state = self.trainer.state_dict()

    def on_batch_end(self, batch: int, logs: Logs) -> None:
        for key, value in logs.items():
            if not math.isfinite(value):
                self.trainer.load_state_dict(self.good_state)
                self.trainer.stop(f"{key} became {value} at epoch {self.trainer.epoch}, batch {batch}; the weights "
                                  f"and optimizer state from the start of that epoch were kept")
                return

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        for key, value in logs.items():  # e.g. val_loss, or a loop's own evaluation of the training loss
            if not math.isfinite(value):
                self.trainer.load_state_dict(self.good_state)
                self.trainer.stop(f"{key} became {value} at the end of epoch {epoch}; the weights and optimizer "
                                  f"state from the start of that epoch were kept")
                return
        # The epoch's last step can overflow the weights while every batch's loss was finite.
        if not all(np.isfinite(p._data).all() for p in self.trainer.parameters()):
            self.trainer.load_state_dict(self.good_state)
            self.trainer.stop(f"weights became NaN or infinite at the end of epoch {epoch}; the weights and "
                              f"optimizer state from the start of that epoch were kept")


class StopAtThreshold(Callback):
    """Stop when ``monitor`` reaches ``threshold`` (≤ for losses, ≥ for accuracies): the course's
    "threshold on training-set error" termination criterion."""

    def __init__(self, monitor: str = "loss", threshold: float = 0.01, mode: str = "auto") -> None:
        _finite("StopAtThreshold", "threshold", threshold)
        self.monitor, self.threshold, self.mode = monitor, threshold, _mode(monitor, mode)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        value = _monitored(self, self.monitor, logs)
        if value <= self.threshold if self.mode == "min" else value >= self.threshold:
            self.trainer.stop(f"{self.monitor} reached {value:.6g} (threshold {self.threshold}) at epoch {epoch}")


class StopAtEpoch(Callback):
    """Stop at the end of the ``epochs``-th epoch (the one ``fit`` numbers ``epochs - 1``): a limit for a loop that
    trains without a set number of epochs, such as the playground's Play, which may go on after it."""

    def __init__(self, epochs: int) -> None:
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
            raise ValueError(f"StopAtEpoch: epochs must be an integer ≥ 1, got {epochs!r}")
        self.epochs = int(epochs)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        if epoch + 1 == self.epochs:
            self.trainer.stop(f"stopped after {self.epochs} epochs")


class ModelCheckpoint(Callback):
    """Save the model (``gn.save``) after each epoch, or only when ``monitor`` improves with ``save_best_only``.
    ``path`` may contain ``{epoch}`` and log names, e.g. ``"model-{epoch:03d}.glass"``."""

    main_process_only = True

    def __init__(self, path: str, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto") -> None:
        self.path, self.monitor, self.save_best_only = str(path), monitor, save_best_only
        self.mode = _mode(monitor, mode)
        self.best = math.inf if self.mode == "min" else -math.inf

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        from ..serialization import save
        if self.save_best_only:
            value = _monitored(self, self.monitor, logs)
            if not (value < self.best if self.mode == "min" else value > self.best):
                return
            self.best = value
        save(self.model, self.path.format(epoch=epoch, **logs))


class ProgressBar(Callback):
    """A progress bar over epochs with the latest logs (tqdm when installed, otherwise a line per epoch)."""

    main_process_only = True

    def __init__(self, file: Any = None) -> None:
        self.file = file

    def on_train_begin(self, logs: Logs | None = None) -> None:
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=self.trainer.epochs, unit="epoch", file=self.file, dynamic_ncols=True)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        text = {key: f"{value:.4f}" for key, value in logs.items()}
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        else:
            items = " - ".join(f"{key}: {value}" for key, value in text.items())
            print(f"epoch {epoch + 1}/{self.trainer.epochs} - {items}", file=self.file, flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.bar is not None:
            self.bar.close()


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch))``."""

    def __init__(self, on_epoch_begin: Callable | None = None, on_epoch_end: Callable | None = None,
                 on_batch_end: Callable | None = None, on_train_begin: Callable | None = None,
                 on_train_end: Callable | None = None) -> None:
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_batch_end", on_batch_end), ("on_train_begin", on_train_begin),
                         ("on_train_end", on_train_end)):
            if fn is not None:
                setattr(self, name, fn)
