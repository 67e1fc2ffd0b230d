"""A loss curve that updates while ``fit`` trains: in a notebook it redraws in place each ``every`` epochs
(IPython's display handles); elsewhere it rewrites a PNG file when ``path`` is given."""
from __future__ import annotations

from typing import Any

from glassnet.callbacks import Callback

from .curves import learning_curves

__all__ = ["LivePlot"]


class LivePlot(Callback):
    """``gn.fit(..., callbacks=[LivePlot()])``: the learning curves so far, redrawn every ``every`` epochs and at
    the end. ``display`` shows it (IPython's, in a notebook) unless ``path`` names a PNG file to rewrite instead.
    In distributed training only rank 0 draws."""

    main_process_only = True

    def __init__(self, every: int = 1, metric: str | None = None, path: str | None = None) -> None:
        if every < 1:
            raise ValueError(f"LivePlot: every must be ≥ 1, got {every}")
        self.every, self.metric, self.path = every, metric, path
        self.handle: Any = None
        self.draws = 0

    def on_train_begin(self, logs: dict[str, float] | None = None) -> None:
        self.logs: dict[str, list[float]] = {}
        self.handle = None

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self.logs.setdefault(key, []).append(value)
        if (epoch + 1) % self.every == 0:
            self.draw()

    def on_train_end(self, logs: dict[str, float] | None = None) -> None:
        if self.logs.get("loss") and len(self.logs["loss"]) % self.every:
            self.draw()

    def draw(self) -> None:
        figure = learning_curves(self.logs, metric=self.metric, title=f"epoch {len(self.logs['loss'])}")
        self.draws += 1
        if self.path is not None:
            figure.savefig(self.path, dpi=80)
            return
        from IPython.display import display
        if self.handle is None:
            self.handle = display(figure, display_id=True)
        else:
            self.handle.update(figure)
