"""The session's training is glassnet's: the stopping rules are the Trainer's callbacks (driven from the session's
own loop, as ``train/callbacks.py`` describes), and the teach panel's z and a come from ``gn.glass.watch``."""

from __future__ import annotations

import copy

import numpy as np
import pytest

pytest.importorskip("starlette")

import glassnet as gn  # noqa: E402
from glassnet import nn  # noqa: E402
from glassnet.callbacks import EarlyStopping  # noqa: E402
from glassnet.playground import Session, stopping  # noqa: E402
from glassnet.playground.session import _floats, weights_of  # noqa: E402


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


# ---------------------------------------------------------------------------------------------- stopping rules

def _epochs_one_by_one(session: Session, limit: int) -> list[tuple[dict, float]]:
    """Train an epoch at a time until a rule stops training (at most `limit` epochs): each epoch's end weights (a
    copy) and test loss, as a frame shows them before any stop."""
    seen = []
    for _ in range(limit):
        before = session.run.epoch
        session.train_epochs(1)
        if session.stopped is not None:
            return seen + [({}, np.nan)] if session.run.epoch == before + 1 else seen
        seen.append((weights_of(session.run.model), session._metrics["testLoss"]))
    raise AssertionError(f"no rule stopped training within {limit} epochs")


def test_early_stopping_restores_the_best_epochs_weights_as_the_callback_does_in_fit(monkeypatch) -> None:
    """The session drives glassnet's EarlyStopping (its on_epoch_end sees each epoch's test loss as val_loss): it
    stops `patience` epochs after the lowest test loss and the network has that epoch's weights, bit for bit."""
    seen_by_callback = []

    class Watched(EarlyStopping):
        def on_epoch_end(self, epoch, logs):
            seen_by_callback.append((epoch, logs["val_loss"]))
            super().on_epoch_end(epoch, logs)

    monkeypatch.setattr(stopping, "EarlyStopping", Watched)
    session = Session(seed=1)
    session.set({"dataset": "gauss", "percTrainData": 10, "noise": 50, "networkShape": [8, 8], "learningRate": 0.3,
                 "earlyStopping": True, "patience": 4})
    session.handle({"type": "play"})
    seen = _epochs_one_by_one(session, 300)
    losses = [loss for _, loss in seen[:-1]]  # the last epoch's end is shown after the restore
    best = int(np.argmin(losses))
    assert len(seen) == best + 1 + 4 and session.run.epoch == len(seen)
    assert [epoch for epoch, _ in seen_by_callback] == list(range(len(seen)))
    assert [loss for _, loss in seen_by_callback][:-1] == pytest.approx(losses, abs=0)
    restored = weights_of(session.run.model)
    assert all(np.array_equal(restored[name], seen[best][0][name]) for name in restored)
    assert session.stopped == (f"early stopping: the test loss has not fallen for 4 epochs; restored the weights "
                               f"of epoch {best + 1}")
    assert session._metrics["testLoss"] == pytest.approx(losses[best], abs=1e-7)
    assert not session.playing


def test_a_loss_that_overflows_stops_with_the_weights_and_optimizer_state_of_the_epochs_start() -> None:
    """TerminateOnNaN: the run goes back to the start of the epoch that diverged (weights, momentum, position) and
    keeps the learning rate set now; the page's history gets no point for the undone epoch."""
    session = Session(seed=1)
    session.set({"optimizer": "momentum", "activation": "relu", "networkShape": [8, 8], "problem": "regression"})
    session.train_epochs(3)
    weights, momentum = weights_of(session.run.model), copy.deepcopy(session.run.optimizer.state_dict())
    session.frame()  # sends the history so far
    session.set({"learningRate": 10.0})
    with np.errstate(all="ignore"):
        assert session.train_epochs(5) == 1
    assert session.stopped.startswith("training diverged: the loss became inf in epoch 4, mini-batch ")
    assert session.stopped.endswith("the weights and optimizer state from the start of that epoch were kept (try a "
                                    "smaller learning rate)")
    assert (session.run.epoch, session.run.cursor) == (3, 0)
    now = weights_of(session.run.model)
    assert all(np.array_equal(now[name], weights[name]) for name in now)
    state = session.run.optimizer.state_dict()
    assert all(np.array_equal(state["state"][k]["momentum_buffer"], momentum["state"][k]["momentum_buffer"])
               for k in momentum["state"])
    assert session.run.optimizer.param_groups[0]["lr"] == 10.0
    frame = session.frame()
    assert frame["stopped"] == session.stopped and frame["history"] == [] and frame["trainLoss"] is not None
    session.set({"learningRate": 0.03})
    session.handle({"type": "play"})  # training goes on from there
    session.work(0.05)
    assert session.stopped is None and session.playing


def test_the_threshold_and_the_epoch_limit_are_callbacks_too(monkeypatch) -> None:
    calls = []
    for name in ("StopAtThreshold", "StopAtEpoch"):
        base = getattr(stopping, name)
        monkeypatch.setattr(stopping, name, type(name, (base,), {
            "on_epoch_end": lambda self, epoch, logs, base=base: (calls.append(type(self).__name__),
                                                                  base.on_epoch_end(self, epoch, logs))}))
    session = Session(seed=1)
    session.set({"stopAfterEpochs": 3})
    assert session.train_epochs(10) == 3 and session.stopped == "stopped after 3 epochs"
    assert calls == ["StopAtEpoch"] * 3
    session.set({"stopAfterEpochs": 0, "stopAtLoss": 0.2, "learningRate": 0.1})
    session.handle({"type": "play"})
    done = session.train_epochs(300)
    assert session.stopped.startswith("training loss ") and "reached the threshold 0.2" in session.stopped
    assert session._metrics["trainLoss"] <= 0.2 and calls[3:] == ["StopAtThreshold"] * done
    session.set({"stopAtLoss": 0.0, "stopAfterEpochs": session.run.epoch + 2, "earlyStopping": True,
                 "patience": 1000})
    session.handle({"type": "play"})
    assert session.train_epochs(5) == 2
    assert session.stopped.startswith(f"stopped after {session.run.epoch} epochs; restored the weights of epoch ")


def test_a_pause_at_an_earlier_frame_takes_early_stopping_back_there_too() -> None:
    """What early stopping has seen is part of what a frame showed: pausing at that frame restores it, and the
    state that TerminateOnNaN would go back to is the restored one."""
    session = Session(seed=1)
    session.set({"earlyStopping": True, "patience": 1000, "learningRate": 0.1})
    session.handle({"type": "play"})
    while session.run.epoch < 3:
        session.work(0.01)
    shown = session.frame()
    early = session._stopping.early
    seen = (early.best, early.best_epoch, early.wait, copy.deepcopy(early.best_weights))
    while session.run.epoch < shown["epoch"] + 4:
        session.work(0.01)
    session.frame()
    assert session._stopping.early.best_epoch != seen[1] or session._stopping.early.wait != seen[2]
    session.handle({"type": "pause", "at": shown["id"]})
    early = session._stopping.early
    assert (early.best, early.best_epoch, early.wait) == seen[:3] and session.run.epoch == shown["epoch"]
    assert all(np.array_equal(early.best_weights[k]._data, seen[3][k]._data) for k in seen[3])
    kept = session._stopping.nan.good_state["model"]
    now = session.run.model.state_dict()
    assert all(np.array_equal(kept[k]._data, now[k]._data) for k in now)
