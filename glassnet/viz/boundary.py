"""The decision boundary of a classifier on 2-D points with every hidden neuron's own picture: the playground's
view as a static figure."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from glassnet import glass, nn, predict

from ._mpl import NEGATIVE, POSITIVE, diverging, new_figure, symmetric_limit

__all__ = ["decision_boundary", "grid_over"]

CLASS_COLORS = (NEGATIVE, POSITIVE, "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")


def grid_over(points: np.ndarray, resolution: int, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, grid): a resolution × resolution grid over the points' bounding box (plus a margin); grid is
    (resolution², 2), row by row from the bottom."""
    low, high = points.min(axis=0), points.max(axis=0)
    pad = (high - low) * margin + 1e-9
    xs = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    ys = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def decision_boundary(model: nn.Sequential, X: Any, y: Any, features: Callable[[np.ndarray], np.ndarray] | None = None,
                      resolution: int = 80, neurons: bool = True, title: str | None = None) -> Any:
    """The model's output over the plane of the 2-D points X (n, 2) with the points coloured by class y (n,).

    ``features`` maps points (m, 2) to the model's inputs (e.g. ``lambda p: gn.data.features(p, names)``).
    One output (a logit, or tanh's ±1) is drawn on the playground's orange-to-blue scale with its 0 contour as
    the boundary; several outputs as the region of each class (argmax). With ``neurons``, a small panel per hidden
    neuron shows its activation over the plane with its own boundary (the contour z = 0 of its weighted sum).
    """
    points = np.asarray(X, dtype=np.float64)
    labels = np.asarray(y).reshape(-1)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D points of shape (n, 2), got {points.shape}")
    if len(labels) != len(points):
        raise ValueError(f"y has {len(labels)} labels for {len(points)} points")
    to_inputs = features or (lambda p: p)
    xs, ys, grid = grid_over(points, resolution)
    inputs = np.asarray(to_inputs(grid), dtype=model.dtype)
    output = predict(model, inputs)
    hidden = [layer for layer in glass.trace(model, inputs)[1:-1] if layer.activation] if neurons else []
    width = max((layer.z.shape[1] for layer in hidden), default=0)
    figure = new_figure(4.2 + 1.3 * width, max(4.2, 1.3 * len(hidden)))
    if hidden:
        main_fig, neuron_fig = figure.subfigures(1, 2, width_ratios=[4.2, 1.3 * width])
    else:
        main_fig, neuron_fig = figure, None
    ax = main_fig.subplots()
    shape = (len(ys), len(xs))
    classes = np.unique(labels)
    if output.shape[1] == 1:
        values = output[:, 0].reshape(shape)
        limit = symmetric_limit(values)
        ax.imshow(values, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap=diverging(), vmin=-limit,
                  vmax=limit, aspect="auto", alpha=0.85)
        ax.contour(xs, ys, values, levels=[0.0], colors="black", linewidths=1.5)
    else:
        from matplotlib.colors import ListedColormap
        region = output.argmax(axis=1).reshape(shape)
        ax.imshow(region, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), aspect="auto", alpha=0.45,
                  cmap=ListedColormap(CLASS_COLORS[:output.shape[1]]), vmin=-0.5, vmax=output.shape[1] - 0.5)
        ax.contour(xs, ys, region, levels=np.arange(output.shape[1]) + 0.5, colors="black", linewidths=1.0)
    for index, label in enumerate(classes):
        chosen = labels == label
        ax.scatter(points[chosen, 0], points[chosen, 1], s=14, color=CLASS_COLORS[index % len(CLASS_COLORS)],
                   edgecolors="white", linewidths=0.5, label=f"class {label}")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_title(title or "decision boundary (output = 0)" if output.shape[1] == 1 else title or "class regions")
    ax.legend(loc="upper right", fontsize="small")
    if neuron_fig is not None:
        _neuron_panels(neuron_fig, hidden, xs, ys, width)
    return figure


def _neuron_panels(figure: Any, hidden: list[glass.LayerTrace], xs: np.ndarray, ys: np.ndarray, width: int) -> None:
    axes = figure.subplots(len(hidden), width, squeeze=False)
    shape = (len(ys), len(xs))
    for row, layer in enumerate(hidden):
        for column in range(width):
            ax = axes[row, column]
            ax.set_xticks([])
            ax.set_yticks([])
            if column >= layer.z.shape[1]:
                ax.set_axis_off()
                continue
            a = layer.a[:, column].reshape(shape)
            limit = symmetric_limit(a)
            ax.imshow(a, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), cmap=diverging(), vmin=-limit,
                      vmax=limit, aspect="auto")
            z = layer.z[:, column].reshape(shape)
            if z.min() < 0 < z.max():
                ax.contour(xs, ys, z, levels=[0.0], colors="black", linewidths=0.8)
            ax.set_title(f"layer {row + 1}, neuron {column + 1}", fontsize="x-small")
