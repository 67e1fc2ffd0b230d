"""Learning curves: training and validation loss (and a metric) per epoch, with the epoch early stopping kept."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ._mpl import new_figure

__all__ = ["learning_curves", "TRAIN_COLOR", "VAL_COLOR", "BEST_COLOR"]

TRAIN_COLOR, VAL_COLOR, BEST_COLOR = "#1f77b4", "#ff7f0e", "#2ca02c"


def learning_curves(history: Any, metric: str | None = None, best_epoch: int | None = None,
                    title: str | None = None) -> Any:
    """A figure of loss (left) and ``metric`` (right, if logged) per epoch for training and validation.

    ``history``: a ``gn.History``, its ``.history`` dict, or a dict of per-epoch lists (``loss``, ``val_loss``,
    ``metric``, ``val_metric``). ``best_epoch`` (0-based, e.g. the epoch whose weights early stopping kept) is
    drawn as a dashed vertical line; when not given, the epoch of the lowest ``val_loss`` is marked.
    """
    logs: Mapping[str, Sequence[float]] = getattr(history, "history", history)
    if not logs.get("loss"):
        raise ValueError("learning_curves: the history has no 'loss' entries (train for at least one epoch)")
    if metric is None:
        metric = next((key for key in logs if key not in ("loss", "epoch") and not key.startswith("val_")), None)
    elif not logs.get(metric):
        raise ValueError(f"learning_curves: no metric {metric!r} in the history (it has {sorted(logs)})")
    panels = ["loss"] + ([metric] if metric and logs.get(metric) else [])
    figure = new_figure(5.0 * len(panels), 3.6)
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    if best_epoch is None and logs.get("val_loss"):
        best_epoch = min(range(len(logs["val_loss"])), key=logs["val_loss"].__getitem__)
    for ax, key in zip(axes, panels):
        ax.plot(range(1, len(logs[key]) + 1), logs[key], color=TRAIN_COLOR, label=f"training {key}")
        if logs.get(f"val_{key}"):
            ax.plot(range(1, len(logs[f"val_{key}"]) + 1), logs[f"val_{key}"], color=VAL_COLOR,
                    label=f"validation {key}")
        if best_epoch is not None:
            ax.axvline(best_epoch + 1, color=BEST_COLOR, linestyle="--", label=f"best epoch ({best_epoch + 1})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure
