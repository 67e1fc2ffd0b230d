"""Model files of the ``glassnet`` command: the network, the preprocessing, the target's encoding and the training
history in one ``.glass`` file.

The file is a checkpoint dict written by ``gn.save``: ``{"kind": "glassnet-cli-model", "version": [major, minor],
"model": the Sequential, "architecture": build_mlp's arguments, "preprocessing": …, "target": …, "training": …}``.
Nothing in the file is code: ``gn.load`` rebuilds the network from glassnet's own layer classes. A reader refuses a
newer major version (a layout it does not know) and reads newer minor versions (additions it can ignore).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn
from glassnet.serialization import version_problem

from .table import Preprocessor, Target, UserError

__all__ = ["ACTIVATIONS", "VERSION", "Trained", "build_mlp", "check_writable", "save_model", "load_model"]

KIND = "glassnet-cli-model"
VERSION = (1, 0)  # (major, minor) of the checkpoint dict's layout
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
    checkpoint = {"kind": KIND, "version": list(VERSION), "model": trained.model,
                  "architecture": trained.architecture, "preprocessing": trained.preprocessor.to_config(),
                  "target": trained.target.to_config(), "training": trained.training}
    check_writable(path)
    try:
        gn.save(checkpoint, path)
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
        checkpoint = gn.load(path)
    except (ValueError, OSError):
        raise UserError(f"{path}: not a glassnet model file") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") != KIND:
        raise UserError(f"{path}: a glassnet file, but not a model written by `glassnet train`")
    version = checkpoint.get("version")
    problem = version_problem(version, VERSION)
    if problem == "malformed":
        raise UserError(f"{path}: a damaged glassnet model file (its version is {version!r})")
    if problem == "newer":
        raise UserError(f"{path}: a model file of format version {version[0]}.{version[1]}, newer than this "
                        f"glassnet {gn.__version__} reads (up to {VERSION[0]}.x): upgrade glassnet to read it")
    try:
        model = checkpoint["model"]
        if not isinstance(model, nn.Sequential):
            raise TypeError(f"its model is a {type(model).__name__}, not a Sequential")
        return Trained(model, Preprocessor.from_config(checkpoint["preprocessing"]), Target(**checkpoint["target"]),
                       checkpoint["architecture"], checkpoint["training"])
    except (KeyError, TypeError) as error:
        raise UserError(f"{path}: a damaged glassnet model file ({error})") from None
