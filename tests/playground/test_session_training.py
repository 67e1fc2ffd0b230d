"""The session's training is glassnet's: the stopping rules are the Trainer's callbacks (driven from the session's
own loop, as ``train/callbacks.py`` describes), and the teach panel's z and a come from ``gn.glass.watch``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("starlette")

import glassnet as gn  # noqa: E402
from glassnet import nn  # noqa: E402
from glassnet.playground import Session  # noqa: E402
from glassnet.playground.session import _floats  # noqa: E402


def _modules_one_by_one(session: Session) -> list[dict[str, list]]:
    """Each layer's z (a Linear's output) and a (the output of the last module after it; the head's activation for
    the output layer), walking a copy of the session's model module by module: what teach showed before glass."""
    model, x = copy.deepcopy(session.run.model), session.setup.batches[session.run.cursor][0]
    layers, h = [], x
    for module in model:
        h = module(h)
        if isinstance(module, nn.Linear):
            layers.append({"z": h._data})
        layers[-1]["a"] = h._data
    layers[-1]["a"] = session.setup.head.activate(h._data)
    return [{key: _floats(value) for key, value in layer.items()} for layer in layers]


@pytest.mark.parametrize("changes", [
    {"networkShape": [5, 4, 3], "layerActivations": ["relu", "sigmoid", "linear"]},
    {"networkShape": [6, 3], "dropout": [0.3, 0.2], "problem": "multiclass"},  # dropout after the activation
    {"networkShape": [4, 4, 2], "loss": "crossentropy", "regularization": "L2", "regularizationRate": 0.01},
])
def test_teach_forward_shows_what_each_module_computes(changes: dict) -> None:
    session = Session(seed=2)
    session.set(changes)
    session.handle({"type": "step", "what": "batch"})  # a mini-batch in, so that the weights have moved
    gn.manual_seed(7)  # dropout draws the same masks in both forwards
    expected = _modules_one_by_one(session)
    gn.manual_seed(7)
    (reply,) = session.handle({"type": "teach", "phase": "forward"})
    assert len(reply["layers"]) == len(changes["networkShape"]) + 1
    assert reply["layers"] == expected
    session.handle({"type": "teach", "phase": "backward"})
    assert all(linear.weight.grad is not None for linear in session.run.linears())  # the loss is the shown forward's
