"""What every example shares: its command line (``--quick``, ``--out``), figures saved as PNG with matplotlib's Agg
backend (imported only when a figure is drawn), image grids, the final ``RESULT`` line, and ROC AUC in NumPy."""
from __future__ import annotations

import argparse
import math
import os
import sys
import time
from typing import Any

import numpy as np

# the examples run from a checkout without installing glassnet: make the repository importable
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import glassnet as gn  # noqa: E402


def parse_args(description: str) -> argparse.Namespace:
    """``--quick`` (a small version in seconds, for the tests) and ``--out DIR`` (where the figures go; default:
    next to the script)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a small version that runs in seconds")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(sys.argv[0])),
                        help="folder for the figures (default: the examples folder)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend (files only, no window)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save(fig: Any, out: str, name: str) -> str:
    """Save ``fig`` as ``out/name.png``, close it and say where it went."""
    path = os.path.join(out, f"{name}.png")
    fig.savefig(path, dpi=90, bbox_inches="tight")
    pyplot().close(fig)
    print(f"saved {path}")
    return path


def image_grid(images: np.ndarray, columns: int, titles: list[str] | None = None, title: str = "",
               cmap: str = "gray_r", symmetric: bool = False, scale: float = 1.0) -> Any:
    """A figure showing (n, h, w) ``images`` in a grid, one small titled panel each. ``symmetric`` centres the
    colour scale of each image on 0 (for weights: red positive, blue negative)."""
    plt = pyplot()
    rows = max(1, -(-len(images) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 0.9 * scale, rows * 0.95 * scale), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= len(images):
            continue
        if symmetric:
            limit = np.abs(images[k]).max() or 1.0
            ax.imshow(images[k], cmap="bwr", vmin=-limit, vmax=limit)
        else:
            ax.imshow(images[k], cmap=cmap, vmin=0, vmax=1)
        if titles:
            ax.set_title(titles[k], fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random negative (ties
    count half), from the ranks of the scores (the Mann–Whitney U statistic)."""
    scores, positive = np.asarray(scores, dtype=float), np.asarray(positive, dtype=bool)
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    sorted_scores = scores[order]  # ties share their mean rank
    _, start, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for s, c in zip(start[counts > 1], counts[counts > 1]):
        ranks[order[s:s + c]] = (2 * s + c + 1) / 2
    n_pos, n_neg = positive.sum(), (~positive).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"roc_auc needs positives and negatives, got {n_pos} and {n_neg}")
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def random_shifts(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Square one-channel images ((n, side·side), (n, side, side) or (n, 1, side, side)) each moved by a random
    whole number of pixels in [−max_shift, max_shift] in x and in y, the uncovered edge left without ink."""
    n, side = len(images), math.isqrt(images[0].size)
    padded = np.pad(images.reshape(n, side, side), ((0, 0), (max_shift, max_shift), (max_shift, max_shift)))
    rows = max_shift + rng.integers(-max_shift, max_shift + 1, (n, 1)) + np.arange(side)
    cols = max_shift + rng.integers(-max_shift, max_shift + 1, (n, 1)) + np.arange(side)
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]].reshape(images.shape)


class ShiftingTrainer(gn.Trainer):
    """The default training step on randomly shifted copies of each batch's images (data augmentation: the
    network cannot learn one exact position of a digit)."""

    def __init__(self, *args: Any, max_shift: int = 1, seed: int = 0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_shift, self.rng = max_shift, np.random.default_rng(seed)

    def train_step(self, batch: tuple) -> dict[str, float]:
        images, labels = batch
        moved = gn.tensor(random_shifts(images.numpy(), self.max_shift, self.rng))
        return super().train_step((moved, labels))


def progress_printer(clock: "Clock", epochs: int, name: str = "") -> Any:
    """A callback printing each epoch's logs on one line."""
    def show(epoch: int, logs: dict[str, float]) -> None:
        print(f"{clock} {name}epoch {epoch + 1:2d}/{epochs}: " + ", ".join(
            f"{key} {value:.4f}" for key, value in logs.items()), flush=True)
    return gn.callbacks.LambdaCallback(on_epoch_end=show)


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """counts[t, p]: how many samples of class t were predicted as p."""
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (true, predicted), 1)
    return counts


class Clock:
    """Seconds since the example started, for its progress lines."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __str__(self) -> str:
        return f"{time.perf_counter() - self.start:6.1f}s"


def result(metric: str, value: float) -> None:
    """The example's last line: ``RESULT metric=value``."""
    print(f"RESULT {metric}={value:.4f}")
