"""What a playground state means: its data source, hidden layers, output head and optimizer.

Shared by the session (which builds and trains the network) and the exported script (which writes the same
recipe as code), so that both make the same calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn

from . import heatmap
from .state import State

POINTS = {"binary": 500, "multiclass": 500, "regression": 1200}  # TensorFlow Playground's N
REGRESSION_DATASETS = {"reg-plane": "plane", "reg-gauss": "multi_gauss"}
HIDDEN_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
# Optimizer key → (class name in glassnet.optim, options besides lr).
OPTIMIZERS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("SGD", {}), "momentum": ("SGD", {"momentum": 0.9}), "adam": ("Adam", {}),
    "adagrad": ("Adagrad", {}), "adadelta": ("Adadelta", {}), "rmsprop": ("RMSprop", {}),
}
INIT_WEIGHT = 0.5  # TensorFlow Playground: weights U(−0.5, 0.5), biases 0.1
INIT_BIAS = 0.1


@dataclass(frozen=True)
class Head:
    """The output layer and loss that the problem (and, in a binary problem, the `loss` key) choose."""

    activation: str  # tanh | sigmoid | softmax | linear: what the output neuron shows
    loss: str  # mse (TensorFlow Playground's ½(o − t)²) | bce | crossentropy
    outputs: int
    text: str

    def targets(self, labels: np.ndarray) -> gn.Tensor:
        """What the loss compares the model's output with: ±1, 0/1, class indices or regression values."""
        if self.activation == "softmax":
            return gn.tensor(labels.astype(np.int64))
        values = 2.0 * labels - 1.0 if self.activation == "tanh" else labels
        return gn.tensor(values.reshape(-1, 1).astype(np.float32))

    def loss_fn(self) -> nn.Module:
        """The data loss, from the model's output (logits for sigmoid and softmax heads)."""
        return {"mse": nn.HalfMSELoss, "bce": nn.BCEWithLogitsLoss, "crossentropy": nn.CrossEntropyLoss}[
            self.loss]()  # mse: TensorFlow Playground's mean of ½(o − t)², whose gradient is (o − t) / batch size

    def activate(self, output: np.ndarray) -> np.ndarray:
        """The output neuron's activation from the model's output (logits for sigmoid and softmax heads)."""
        if self.activation == "sigmoid":
            return 0.5 * np.tanh(0.5 * output) + 0.5
        if self.activation == "softmax":
            shifted = np.exp(output - output.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        return output

    def predict(self, output: np.ndarray) -> np.ndarray | None:
        """The class index of each row of the model's output (None in regression)."""
        if self.activation == "softmax":
            return output.argmax(axis=1)
        return None if self.activation == "linear" else (output[:, 0] >= 0).astype(np.int64)

    def picture(self, output: np.ndarray) -> heatmap.Map:
        """The output heat map from the model's output on the grid."""
        if self.activation == "softmax":
            return heatmap.encode_classes(self.activate(output))
        values = 2.0 * self.activate(output[:, 0]) - 1.0 if self.activation == "sigmoid" else output[:, 0]
        return heatmap.full(values)


HEADS = {
    "tanh": Head("tanh", "mse", 1, "tanh output, loss ½(o − t)² with targets ±1 (as TensorFlow Playground)"),
    "sigmoid": Head("sigmoid", "bce", 1, "sigmoid output, binary cross-entropy"),
    "softmax": Head("softmax", "crossentropy", 3, "softmax output (one neuron per class), cross-entropy"),
    "linear": Head("linear", "mse", 1, "linear output, loss ½(o − t)²"),
}


def head_of(state: State) -> Head:
    if state["problem"] == "regression":
        return HEADS["linear"]
    if state["problem"] == "multiclass":
        return HEADS["softmax"]
    return HEADS["tanh" if state["loss"] == "mse" else "sigmoid"]


def hidden_layers(state: State) -> list[tuple[int, str, float]]:
    """(width, activation, dropout rate) of each hidden layer; a missing per-layer entry means the default."""
    per_layer, rates = state["layerActivations"], state["dropout"]
    return [(width, (per_layer[i] if i < len(per_layer) else "") or state["activation"],
             rates[i] if i < len(rates) else 0.0) for i, width in enumerate(state["networkShape"])]


def data_source(state: State) -> str:
    """The data-set key of the state's problem: `regDataset` in regression, `dataset` otherwise."""
    return "regDataset" if state["problem"] == "regression" else "dataset"


def upload_labels(problem: str, labels: np.ndarray, lines: Sequence[int] | None = None) -> np.ndarray:
    """Uploaded labels as the session stores them (0/1, 0/1/2 or floats); ValueError names the first bad row by its
    line in the file (`lines[i]` is data row i's line; without them, rows count from 1)."""
    if problem == "regression":
        return labels
    if problem == "multiclass":
        allowed, text, hint = (0.0, 1.0, 2.0), "0, 1 or 2", ""
    else:  # 0/1 or -1/+1, as the first label other than 1 says
        others = labels[labels != 1.0]
        allowed = (-1.0, 1.0) if len(others) and others[0] == -1.0 else (0.0, 1.0)
        text, hint = "0/1 or -1/+1", " (set the problem to multiclass for 3 classes)"
    bad = np.flatnonzero(~np.isin(labels, allowed))
    if len(bad):
        row = lines[bad[0]] if lines is not None else bad[0] + 1
        raise ValueError(f"row {row}, column 'label': {labels[bad[0]]:g} is not a class label for {problem}; labels "
                         f"must be {text}{hint}")
    return (labels > 0).astype(np.int64) if problem == "binary" else labels.astype(np.int64)

