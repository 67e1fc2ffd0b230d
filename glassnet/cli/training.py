"""``glassnet train``'s work: split the table, build the network the problem calls for, train it (restarts, early
stopping, a Rich progress bar), and score it. Ctrl-C ends training with the best weights seen so far."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn

from .model_file import Trained, build_mlp
from .table import Preprocessor, Table, Target, UserError

__all__ = ["Options", "train_table", "scores", "LOSSES", "BestWeights", "RichProgress"]

# The course's table: the problem type picks the output activation and the loss. The network outputs logits;
# the sigmoid/softmax is fused into the loss for training and applied at prediction (Target.probabilities).
LOSSES = {"binary": ("sigmoid", nn.BCEWithLogitsLoss), "multiclass": ("softmax", nn.CrossEntropyLoss),
          "regression": ("linear", nn.MSELoss)}


@dataclass
class Options:
    """``glassnet train``'s options."""

    hidden: list[int]
    activation: str = "relu"
    optimizer: str = "adam"
    lr: float = 1e-3
    epochs: int = 100
    batch_size: int = 32
    l2: float = 1e-4
    dropout: float = 0.0
    early_stopping: int = 10
    test_size: float = 0.2
    validation_size: float = 0.2
    restarts: int = 1
    seed: int = 0


class BestWeights(gn.callbacks.Callback):
    """Keeps a copy of the weights of the epoch with the lowest ``monitor`` (val_loss, else loss)."""

    def __init__(self) -> None:
        self.best, self.epoch, self.weights = math.inf, None, None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        value = logs.get("val_loss", logs["loss"])
        if value < self.best:
            self.best, self.epoch, self.weights = value, epoch, self.model.state_dict()


class RichProgress(gn.callbacks.Callback):
    """A Rich progress bar over epochs: run, epoch, loss, val loss, the metric and the time left."""

    def __init__(self, progress: Any, description: str, metric: str) -> None:
        self.progress, self.description, self.metric = progress, description, metric

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.task = self.progress.add_task(self.description, total=self.loop.epochs, stats="")

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        stats = f"loss {logs['loss']:.4f}"
        if "val_loss" in logs:
            stats += f"  val loss {logs['val_loss']:.4f}"
        if f"val_{self.metric}" in logs:
            stats += f"  val {self.metric} {logs[f'val_{self.metric}']:.4f}"
        self.progress.update(self.task, completed=epoch + 1, stats=stats)

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        self.progress.update(self.task, total=self.progress.tasks[self.task].completed)


def _split(X: np.ndarray, y: np.ndarray, fraction: float, seed: int, classes: bool) -> tuple[np.ndarray, ...]:
    stratify = y.reshape(len(y), -1)[:, 0] if classes else None
    try:
        return gn.data.train_test_split(X, y, test_size=fraction, seed=seed, stratify=stratify)
    except ValueError:  # a class too small to stratify
        return gn.data.train_test_split(X, y, test_size=fraction, seed=seed)


def _metric(problem: str) -> str:
    return "mae" if problem == "regression" else "accuracy"


def train_table(table: Table, target_name: str, problem: str, options: Options, progress_bar: Any) -> Trained:
    """Train on ``table`` with ``progress_bar()`` (a Rich Progress) shown once the data checked out; a
    KeyboardInterrupt ends training with the best weights so far (``training["interrupted"]`` says so)."""
    target = Target.fit(table, target_name, problem)
    inputs = [name for name in table.columns if name != target_name]
    if not inputs:
        raise UserError(f"{table.path}: no input columns besides the target {target_name!r}")
    preprocessor = Preprocessor.fit(table, inputs)
    X, y = preprocessor.transform(table), target.encode(table)
    classes = target.problem != "regression"
    if options.test_size > 0:
        X_fit, X_test, y_fit, y_test = _split(X, y, options.test_size, options.seed, classes)
    else:
        X_fit, X_test, y_fit, y_test = X, X[:0], y, y[:0]
    X_train, X_val, y_train, y_val = _split(X_fit, y_fit, options.validation_size, options.seed + 1, classes)
    if len(X_train) < 1 or len(X_val) < 1:
        raise UserError(f"{table.path}: {len(table.rows)} rows are too few to split into training, validation "
                        f"and test sets")
    activation, loss_class = LOSSES[target.problem]
    architecture = {"inputs": X.shape[1], "hidden": options.hidden, "outputs": target.outputs,
                    "activation": options.activation, "dropout": options.dropout}
    optimizer_class = gn.train.OPTIMIZERS[options.optimizer]
    runs: list[tuple[float, int, int, dict[str, np.ndarray], gn.History]] = []
    interrupted = False
    with progress_bar() as progress:
        for run in range(options.restarts):
            interrupted = _train_run(run, architecture, options, target.problem, loss_class, optimizer_class,
                                     (X_train, y_train, X_val, y_val), progress, runs)
            if interrupted:
                break
    if not runs:
        raise UserError("interrupted before the first epoch ended: no model to write")
    best_loss, best_run, best_epoch, weights, history = min(runs, key=lambda item: item[0])
    model = build_mlp(**architecture)
    model.load_state_dict(weights)
    trained = Trained(model, preprocessor, target, architecture, {})
    trained.training = {
        "options": vars(options), "output_activation": activation, "loss": loss_class.__name__,
        "rows": {"train": len(X_train), "validation": len(X_val), "test": len(X_test)},
        "run": best_run, "best_epoch": best_epoch, "best_val_loss": best_loss, "interrupted": interrupted,
        "history": {"epoch": history.epoch, **history.history}, "stop_reason": history.stop_reason,
        "test": scores(trained, X_test, y_test) if len(X_test) else {},
    }
    return trained


def _train_run(run: int, architecture: dict[str, Any], options: Options, problem: str, loss_class: type,
               optimizer_class: type, data: tuple[np.ndarray, ...], progress: Any, runs: list) -> bool:
    """One training from the seed's random weights; appends (best loss, run, epoch, weights, history) to ``runs``;
    True if Ctrl-C ended it."""
    X_train, y_train, X_val, y_val = data
    interrupted = False
    gn.manual_seed(options.seed + run)
    model = build_mlp(**architecture)
    best, history = BestWeights(), gn.History()
    callbacks: list[gn.callbacks.Callback] = [
        best, history, RichProgress(progress, f"run {run + 1}/{options.restarts}", _metric(problem))]
    if options.early_stopping:
        callbacks.append(gn.callbacks.EarlyStopping("val_loss", patience=options.early_stopping))
    try:
        gn.fit(model, X_train, y_train, loss=loss_class(), epochs=options.epochs, batch_size=options.batch_size,
               optimizer=lambda params: optimizer_class(params, lr=options.lr), validation_data=(X_val, y_val),
               metrics=[_metric(problem)], callbacks=callbacks,
               regularization=("l2", options.l2) if options.l2 else None)
    except KeyboardInterrupt:
        interrupted = True
    if best.weights is not None:
        runs.append((best.best, run, best.epoch, best.weights, history))
    return interrupted


def scores(trained: Trained, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """accuracy and the confusion matrix (rows: true class, columns: predicted), or MSE, MAE and R² in the target's
    units."""
    outputs = trained.outputs(X)
    target = trained.target
    if target.problem == "regression":
        truth = y[:, 0].astype(np.float64) * target.std + target.mean
        error = target.decode(outputs) - truth
        total = float(((truth - truth.mean()) ** 2).sum())
        r2 = 1.0 - float((error ** 2).sum()) / total if total > 0 else 0.0
        return {"mse": float((error ** 2).mean()), "mae": float(np.abs(error).mean()), "r2": r2}
    truth = y.reshape(len(y), -1)[:, 0].astype(np.int64)
    predicted = target.probabilities(outputs).argmax(axis=1)
    confusion = np.zeros((len(target.classes), len(target.classes)), dtype=np.int64)
    np.add.at(confusion, (truth, predicted), 1)
    return {"accuracy": float((truth == predicted).mean()), "confusion": confusion.tolist()}
