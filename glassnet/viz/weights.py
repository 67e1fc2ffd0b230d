"""Weights as pictures: the first layer's weights as images, and the network drawn as a graph whose edges' widths
and colours are the weights."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from glassnet import nn

from ._mpl import NEGATIVE, POSITIVE, diverging, new_figure, symmetric_limit

__all__ = ["first_layer_weights", "network_graph", "linears"]


def linears(model: nn.Module) -> list[nn.Linear]:
    """The model's Linear layers in forward order (its MLP skeleton)."""
    layers = [module for _, module in model.named_modules() if isinstance(module, nn.Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Linear layer to draw")
    return layers


def first_layer_weights(model: nn.Module, image_shape: Sequence[int], columns: int = 8, max_neurons: int = 64,
                        title: str | None = None) -> Any:
    """Each first-layer neuron's incoming weights reshaped to ``image_shape`` (e.g. (8, 8) for digits), on one
    colour scale centred at 0 (blue positive, orange negative): what pattern each neuron responds to."""
    weight = linears(model)[0].weight.numpy()
    if int(np.prod(image_shape)) != weight.shape[1]:
        raise ValueError(f"image_shape {tuple(image_shape)} holds {int(np.prod(image_shape))} pixels but the first "
                         f"layer takes {weight.shape[1]} inputs")
    count = min(len(weight), max_neurons)
    columns = min(columns, count)
    rows = -(-count // columns)
    figure = new_figure(1.3 * columns + 0.8, 1.3 * rows + 0.4)
    axes = figure.subplots(rows, columns, squeeze=False)
    limit = symmetric_limit(weight[:count])
    image = None
    for index, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= count:
            ax.set_axis_off()
            continue
        image = ax.imshow(weight[index].reshape(image_shape), cmap=diverging(), vmin=-limit, vmax=limit)
        ax.set_title(f"neuron {index + 1}", fontsize="x-small")
    figure.colorbar(image, ax=axes, shrink=0.8, label="weight")
    figure.suptitle(title or "first-layer weights")
    return figure


def network_graph(model: nn.Module, input_names: Sequence[str] | None = None, max_width: float = 6.0,
                  title: str | None = None) -> Any:
    """The network as a graph: a column of nodes per layer, an edge per weight whose width is |w| (the largest
    drawn ``max_width`` points wide) and whose colour is its sign (blue positive, orange negative)."""
    from matplotlib.collections import LineCollection

    layers = linears(model)
    sizes = [layers[0].in_features] + [layer.out_features for layer in layers]
    tallest = max(sizes)

    def position(layer: int, node: int) -> tuple[float, float]:
        return float(layer), (tallest - 1) / 2 - (sizes[layer] - 1) / 2 + node

    weights = [layer.weight.numpy() for layer in layers]
    largest = max(float(np.abs(w).max()) for w in weights) or 1.0
    segments, widths, colors = [], [], []
    for index, w in enumerate(weights):
        for target in range(w.shape[0]):
            for source in range(w.shape[1]):
                segments.append([position(index, source), position(index + 1, target)])
                widths.append(max_width * abs(float(w[target, source])) / largest)
                colors.append(POSITIVE if w[target, source] >= 0 else NEGATIVE)
    figure = new_figure(1.6 * len(sizes) + 1.0, 0.55 * tallest + 1.2)
    ax = figure.subplots()
    ax.add_collection(LineCollection(segments, linewidths=widths, colors=colors, zorder=1))
    for layer, size in enumerate(sizes):
        bias = layers[layer - 1].bias.numpy() if layer and layers[layer - 1].bias is not None else None
        for node in range(size):
            x, y = position(layer, node)
            face = "white" if bias is None else (POSITIVE if bias[node] >= 0 else NEGATIVE)
            ax.scatter([x], [y], s=260, color=face, edgecolors="black", zorder=2)
            if layer == 0 and input_names is not None:
                ax.annotate(input_names[node], (x, y), xytext=(-14, 0), textcoords="offset points", ha="right",
                            va="center", fontsize="small")
    ax.set_xlim(-0.6 - (0.6 if input_names else 0), len(sizes) - 0.4)
    ax.set_ylim(-0.8, tallest - 0.2)
    ax.invert_yaxis()
    ax.set_axis_off()
    ax.set_title(title or "network (edge width |w|, blue w > 0, orange w < 0; node colour: bias sign)")
    return figure
