"""Model files of the ``glassnet`` command: the network's weights, its architecture, the preprocessing, the target's
encoding and the training history in one ``.glass`` file.

Written through today's ``gn.save`` of a state dict: the weights under ``model.<name>`` and the JSON-able
configuration as UTF-8 bytes in one uint8 entry (``CONFIG``). Nothing in the file is code: the network is rebuilt
from the architecture's plain numbers and names.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn

from .table import Preprocessor, Target, UserError

__all__ = ["ACTIVATIONS", "Trained", "build_mlp", "check_writable", "save_model", "load_model"]

CONFIG = "glassnet_cli.config"
KIND = "glassnet-cli-model"
ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky_relu": nn.LeakyReLU,
               "linear": nn.Identity}


def build_mlp(inputs: int, hidden: list[int], outputs: int, activation: str = "relu",
              dropout: float = 0.0) -> nn.Sequential:
    """inputs → [Linear, activation, (Dropout)] per hidden width → Linear(outputs) (logits or values)."""
    if activation not in ACTIVATIONS:
        raise UserError(f"unknown activation {activation!r}; choose one of {', '.join(ACTIVATIONS)}")
    layers: list[nn.Module] = []
    width = inputs
    for size in hidden:
        layers += [nn.Linear(width, size), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, outputs))
    return nn.Sequential(*layers)


@dataclass
class Trained:
    """What a model file holds."""

    model: nn.Sequential
    preprocessor: Preprocessor
    target: Target
    architecture: dict[str, Any]  # build_mlp's arguments
    training: dict[str, Any]  # the options, the history and the test scores

    def outputs(self, X: np.ndarray) -> np.ndarray:
        return gn.predict(self.model, X)


def save_model(trained: Trained, path: str) -> None:
    config = {"kind": KIND, "architecture": trained.architecture, "preprocessing": trained.preprocessor.to_config(),
              "target": trained.target.to_config(), "training": trained.training}
    state = {f"model.{name}": value for name, value in trained.model.state_dict().items()}
    state[CONFIG] = np.frombuffer(json.dumps(config).encode(), dtype=np.uint8)
    check_writable(path)
    try:
        gn.save(state, path)
    except OSError as error:
        raise UserError(f"{path}: cannot write the model ({error.strerror or error})") from None


def check_writable(path: str) -> None:
    """A UserError unless ``path``'s folder exists (checked before training, not after)."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UserError(f"{path}: cannot write the model: the folder {directory} does not exist")


def load_model(path: str) -> Trained:
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    try:
        state = gn.load(path)
    except (ValueError, OSError):
        raise UserError(f"{path}: not a glassnet model file") from None
    if not isinstance(state, dict) or CONFIG not in state:
        raise UserError(f"{path}: a glassnet file, but not a model written by `glassnet train`")
    try:
        config = json.loads(state.pop(CONFIG).tobytes().decode())
        if config.get("kind") != KIND:
            raise ValueError(config.get("kind"))
        architecture = config["architecture"]
        model = build_mlp(**architecture)
        model.load_state_dict({name.removeprefix("model."): value for name, value in state.items()})
        return Trained(model, Preprocessor.from_config(config["preprocessing"]), Target(**config["target"]),
                       architecture, config["training"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: a damaged glassnet model file ({error})") from None
