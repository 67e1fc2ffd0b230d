"""Figures of what a network learned and how (matplotlib with the Agg backend unless pyplot already runs with
another; optional extra ``glassnet[plots]``).

Every function returns a ``matplotlib.figure.Figure``: ``figure.savefig("x.png")`` writes it, and a notebook
displays it inline. Colours follow the playground: blue positive, orange negative.

- ``learning_curves(history)``: loss and a metric per epoch, training and validation, the best epoch marked.
- ``decision_boundary(model, X, y)``: a 2-D classifier's output and boundary, with every hidden neuron's picture.
- ``first_layer_weights(model, image_shape)``: each first-layer neuron's weights as an image.
- ``network_graph(model)``: the network with edges as wide and coloured as its weights.
- ``activation_maximization(model, unit, inputs)``: the input that most excites a neuron or a class.
- ``saliency_map(model, x)``: how much each input feature moves the chosen output.
- ``LivePlot()``: a callback for ``gn.fit`` that redraws the learning curves in a notebook as training goes.
- The learner's lens (what ``gn.glass`` computed): ``loss_landscape(landscape)`` (contours, the trajectory, the
  current point), ``interpolation(ts, losses)``, ``gradient_flow(flow)``, ``saturation_histograms(report)``,
  ``lr_finder(result)`` and ``diagnosis(findings, history)``.
"""
from __future__ import annotations

from .boundary import decision_boundary
from .curves import learning_curves
from .inputs import activation_maximization, saliency_map
from .lens import diagnosis, gradient_flow, interpolation, loss_landscape, lr_finder, saturation_histograms
from .live import LivePlot
from .weights import first_layer_weights, network_graph

__all__ = ["learning_curves", "decision_boundary", "first_layer_weights", "network_graph",
           "activation_maximization", "saliency_map", "LivePlot", "loss_landscape", "interpolation", "gradient_flow",
           "saturation_histograms", "lr_finder", "diagnosis"]
