"""Figures of the learner's lens (``gn.glass``'s landscape, gradient flow, saturation, lr finder and diagnosis):
each takes what the lens computed and draws it."""
from __future__ import annotations

import textwrap
from typing import Any, Mapping, Sequence

import numpy as np

from glassnet import lens

from ._mpl import NEGATIVE, POSITIVE, new_figure
from .curves import BEST_COLOR, TRAIN_COLOR, VAL_COLOR

__all__ = ["loss_landscape", "interpolation", "gradient_flow", "saturation_histograms", "lr_finder", "diagnosis"]

CURRENT_COLOR, PATH_COLOR, HEALTHY_UPDATE = "#d62728", "white", 1e-3


def _levels(losses: np.ndarray, count: int) -> np.ndarray:
    """Contour levels: log-spaced when the losses span more than a decade (a valley beside cliffs), else even."""
    finite = losses[np.isfinite(losses)]
    low, high = float(finite.min()), float(finite.max())
    if high <= low:
        return np.array([low, low + 1e-12])
    if low > 0 and high / low > 10:
        return np.geomspace(low, high, count)
    return np.linspace(low, high, count)


def loss_landscape(landscape: lens.Landscape, levels: int = 20, title: str | None = None) -> Any:
    """The loss over the plane of ``gn.glass.loss_landscape`` as filled contours (α along d1, β along d2), the
    trajectory projected on it (when the landscape has one) from its start (○) to the current weights (★, the
    centre of the plane)."""
    figure = new_figure(5.6, 4.6)
    ax = figure.subplots()
    from matplotlib.colors import BoundaryNorm

    losses = np.where(np.isfinite(landscape.losses), landscape.losses, np.nan)
    bands = _levels(landscape.losses, levels)
    filled = ax.contourf(landscape.alphas, landscape.betas, losses, levels=bands, cmap="viridis",
                         norm=BoundaryNorm(bands, 256))  # a colour of its own for each band, log-spaced or not
    ax.contour(landscape.alphas, landscape.betas, losses, levels=filled.levels, colors="black", linewidths=0.3,
               alpha=0.5)
    figure.colorbar(filled, ax=ax, label="loss", format="%.2g")
    if landscape.path is not None and len(landscape.path):
        path = landscape.path
        ax.plot(path[:, 0], path[:, 1], "-", color=PATH_COLOR, linewidth=1.5, marker=".", markersize=5,
                label="trajectory")
        ax.plot(path[:1, 0], path[:1, 1], "o", color=PATH_COLOR, markeredgecolor="black", markersize=8,
                label="start")
    ax.plot([0.0], [0.0], "*", color=CURRENT_COLOR, markeredgecolor="black", markersize=16,
            label=f"current weights (loss {landscape.center_loss:.3g})")
    ax.set_xlabel("α (direction 1)")
    ax.set_ylabel("β (direction 2)")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8, facecolor="#cccccc")  # the white path shows
    ax.set_title(title or "loss landscape around the current weights")
    return figure


def interpolation(ts: np.ndarray, losses: np.ndarray, title: str | None = None) -> Any:
    """The loss along the straight line from the initial weights (t = 0) to the current ones (t = 1), as
    ``gn.glass.interpolate`` returns it: a bump on the way means a ridge that training went around."""
    figure = new_figure(5.6, 3.6)
    ax = figure.subplots()
    ax.plot(ts, losses, color=TRAIN_COLOR, label="loss on the line")
    ax.plot([ts[0]], [losses[0]], "o", color=PATH_COLOR, markeredgecolor="black", markersize=8,
            label=f"initial weights ({losses[0]:.3g})")
    ax.plot([ts[-1]], [losses[-1]], "*", color=CURRENT_COLOR, markeredgecolor="black", markersize=14,
            label=f"current weights ({losses[-1]:.3g})")
    ax.set_xlabel("t: θ = θ_initial + t·(θ_current − θ_initial)")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    ax.set_title(title or "from the initial to the current weights")
    return figure


def _positive(values: Sequence[float]) -> np.ndarray:
    """The values with zeros (nothing to draw on a log scale) as NaN."""
    array = np.asarray(values, dtype=float)
    return np.where(array > 0, array, np.nan)


def gradient_flow(flow: lens.GradientFlow, title: str | None = None) -> Any:
    """Per weight matrix and epoch, from a ``GradientFlow`` callback: the gradient's norm (left) and the update
    ratio ‖ΔW‖/‖W‖ of a step (right, the healthy 1e-3 dashed), both on log scales. Vanishing gradients show as
    the first layers' lines far below the last's; exploding ones as lines climbing epoch after epoch."""
    if not flow.names or not flow.grad_norms[flow.names[0]]:
        raise ValueError("gradient_flow: the GradientFlow recorded no epoch (train with it as a callback first)")
    figure = new_figure(10.0, 3.8)
    norms_ax, ratios_ax = figure.subplots(1, 2)
    colors = [_layer_color(i, len(flow.names)) for i in range(len(flow.names))]
    for index, (name, color) in enumerate(zip(flow.names, colors)):
        label = f"layer {index + 1} ({name})"
        epochs = np.arange(1, len(flow.grad_norms[name]) + 1)
        norms_ax.plot(epochs, _positive(flow.grad_norms[name]), color=color, marker=".", label=label)
        ratios_ax.plot(epochs, _positive(flow.update_ratios[name]), color=color, marker=".", label=label)
    ratios_ax.axhline(HEALTHY_UPDATE, color="grey", linestyle="--", label="healthy ≈ 1e-3")
    for ax, name in ((norms_ax, "gradient norm ‖∂J/∂W‖"), (ratios_ax, "update ratio ‖ΔW‖ / ‖W‖ per step")):
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.legend(fontsize="x-small")
    norms_ax.set_title("gradient per layer")
    ratios_ax.set_title("how far each step moves the weights")
    if title:
        figure.suptitle(title)
    return figure


def _layer_color(index: int, count: int) -> tuple[float, ...]:
    """The index-th of count colours from the first layer (dark) to the last (light)."""
    from matplotlib import colormaps
    return colormaps["plasma"](0.85 * index / max(count - 1, 1))


def _share_title(layer: lens.LayerSaturation) -> str:
    if layer.activation == "relu":
        return f"{layer.dead_units:.0%} dead units, z ≤ 0 in {layer.saturated_values:.0%} of values"
    if layer.activation in lens.SATURATION_Z:
        return f"{layer.saturated_units:.0%} saturated units, {layer.saturated_values:.0%} of values"
    return "no saturation (linear)" if layer.activation in (None, "identity", "linear") else layer.activation


def saturation_histograms(report: Sequence[lens.LayerSaturation], title: str | None = None) -> Any:
    """A row per layer of ``gn.glass.saturation``'s report: the histogram of the weighted sums z (left; the
    saturated range |z| beyond the 1%-slope point of sigmoid/tanh, or a ReLU's dead z ≤ 0, shaded orange) and of
    the activations a (right); each title gives the layer's share of dead or saturated units."""
    if not report:
        raise ValueError("saturation_histograms: the report has no layer")
    figure = new_figure(9.0, 2.3 * len(report) + 0.6)
    axes = figure.subplots(len(report), 2, squeeze=False)
    for index, ((z_ax, a_ax), layer) in enumerate(zip(axes, report)):
        z_ax.stairs(layer.z_counts, layer.z_bins, fill=True, color=POSITIVE, alpha=0.8, label="z")
        a_ax.stairs(layer.a_counts, layer.a_bins, fill=True, color=TRAIN_COLOR, alpha=0.8, label="a")
        low, high = float(layer.z_bins[0]), float(layer.z_bins[-1])
        if layer.activation == "relu" and low < 0:
            z_ax.axvspan(low, min(0.0, high), color=NEGATIVE, alpha=0.25, label="dead side z ≤ 0")
        elif layer.activation in lens.SATURATION_Z:
            edge = lens.SATURATION_Z[layer.activation]
            for start, stop in ((low, -edge), (edge, high)):
                if start < stop:
                    z_ax.axvspan(start, stop, color=NEGATIVE, alpha=0.25, label=f"saturated |z| > {edge:.2f}")
        name = f"layer {index + 1} ({layer.activation or 'linear'}, module {layer.name})"
        z_ax.set_title(f"{name}: z — {_share_title(layer)}", fontsize="small")
        a_ax.set_title(f"{name}: activation a", fontsize="small")
        z_ax.set_ylabel("count")
        handles, labels = z_ax.get_legend_handles_labels()
        unique = dict(zip(labels, handles))
        z_ax.legend(unique.values(), unique.keys(), fontsize="x-small")
    axes[-1, 0].set_xlabel("weighted sum z")
    axes[-1, 1].set_xlabel("activation a = g(z)")
    figure.suptitle(title or "saturation over the data: pre-activations and activations per layer")
    return figure


def lr_finder(result: lens.LRFinder, title: str | None = None) -> Any:
    """The range test of ``gn.glass.lr_find``: the loss of each mini-batch (faint) and its moving average against
    the learning rate on a log axis, the suggested rate (steepest fall) marked, and where the loss blew up."""
    figure = new_figure(5.8, 3.8)
    ax = figure.subplots()
    ax.plot(result.lrs, result.losses, color=TRAIN_COLOR, alpha=0.3, linewidth=0.8, label="loss per mini-batch")
    ax.plot(result.lrs, result.smoothed, color=TRAIN_COLOR, label="smoothed loss")
    at = int(np.argmin(np.abs(result.lrs - result.suggestion)))
    ax.axvline(result.suggestion, color=BEST_COLOR, linestyle="--", label=f"suggested lr {result.suggestion:.2g}")
    ax.plot([result.suggestion], [result.smoothed[at]], "o", color=BEST_COLOR, markersize=8)
    if result.diverged_at is not None:
        ax.axvline(result.diverged_at, color=CURRENT_COLOR, linestyle=":",
                   label=f"diverged at {result.diverged_at:.2g}")
    ax.set_xscale("log")
    finite = result.smoothed[np.isfinite(result.smoothed)]
    if len(finite):  # the blow-up at the end would flatten the rest
        ax.set_ylim(0.95 * min(finite.min(), np.nanmin(result.losses)), 1.1 * finite.max())
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    ax.legend(fontsize="small")
    ax.set_title(title or "learning-rate range test")
    return figure


def _wrapped(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _experiment_text(experiment: Mapping[str, Any]) -> str:
    parts = [f"{key} = {value}" for key, value in experiment.get("set", {}).items()]
    parts += [f"{key} × {factor:g}" for key, factor in experiment.get("scale", {}).items()]
    if experiment.get("run_many"):
        parts.append(f"run {experiment['run_many']}× from new weights")
    return "try: " + ", ".join(parts) if parts else ""


def diagnosis(findings: Sequence[lens.Finding], history: Any = None, title: str | None = None) -> Any:
    """What ``gn.glass.diagnose`` found, as text (a block per finding: its title, evidence, advice and the
    experiment to try), beside the learning curves when ``history`` is given; an overfitting finding marks its
    best epoch and where early stopping would have stopped."""
    if not findings:
        raise ValueError("diagnosis: no findings to show (diagnose always returns at least one)")
    logs = getattr(history, "history", history)
    figure = new_figure(10.5 if logs else 6.5, max(3.6, 1.35 * len(findings) + 0.8))
    if logs:
        curves_ax, text_ax = figure.subplots(1, 2, width_ratios=[1, 1.1])
        curves_ax.plot(range(1, len(logs["loss"]) + 1), logs["loss"], color=TRAIN_COLOR, label="training loss")
        if logs.get("val_loss"):
            curves_ax.plot(range(1, len(logs["val_loss"]) + 1), logs["val_loss"], color=VAL_COLOR,
                           label="validation loss")
        for finding in findings:
            if finding.kind == "overfitting":
                curves_ax.axvline(finding.numbers["best_epoch"], color=BEST_COLOR, linestyle="--",
                                  label=f"best epoch ({finding.numbers['best_epoch']})")
                curves_ax.axvline(finding.numbers["early_stopping_epoch"], color="grey", linestyle=":",
                                  label=f"early stopping stops ({finding.numbers['early_stopping_epoch']})")
        curves_ax.set_xlabel("epoch")
        curves_ax.set_ylabel("loss")
        curves_ax.legend(fontsize="small")
        curves_ax.set_title("learning curves")
    else:
        text_ax = figure.subplots()
    text_ax.set_axis_off()
    y = 1.0
    step = 1.0 / len(findings)
    for finding in findings:
        text_ax.text(0.0, y, finding.title, fontsize="medium", fontweight="bold", va="top",
                     transform=text_ax.transAxes)
        body = [_wrapped(finding.evidence, 70), _wrapped(finding.advice, 70), _experiment_text(finding.experiment)]
        text_ax.text(0.0, y - 0.06, "\n".join(part for part in body if part), fontsize="small", va="top",
                     transform=text_ax.transAxes, linespacing=1.3)
        y -= step
    text_ax.set_title(title or "diagnosis")
    return figure
