"""The playground's lens panels (PROTOCOL.md: `lens`, `lr_find`, `frame.lens`): the values equal `glassnet.lens`'s
on the same network, or an independent computation; nothing stale after a reset, a change or a pause that goes
back; bad messages get errors; while training the panels come at most every 0.2 s at low resolution, full when
paused; each diagnosis lesson shows its finding."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import numpy as np
import pytest

pytest.importorskip("starlette")

from glassnet import lens, optim  # noqa: E402
from glassnet.playground import Session  # noqa: E402
from glassnet.playground.lens_panel import FULL_RESOLUTION, LIVE_INTERVAL_S, LIVE_RESOLUTION, experiment  # noqa: E402
from glassnet.playground.session import Run, weights_of  # noqa: E402
from glassnet.playground.state import LEARNING_RATES, default_state  # noqa: E402
from playground_client import Page  # noqa: E402

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore::DeprecationWarning")]
ALL = ["landscape", "gradients", "saturation", "diagnosis"]


def lens_of(session: Session) -> dict[str, Any]:
    frame = session.frame()
    json.dumps(frame, allow_nan=False)  # what the server sends must encode
    return frame["lens"]


def test_the_panels_equal_lens_computations_on_the_same_network() -> None:
    session = Session(seed=3)
    session.handle({"type": "lens", "open": ALL})
    trajectory = [weights_of(session.run.model)]
    history: dict[str, list[float]] = {"loss": [], "val_loss": []}  # epochs 1, 2, … as diagnose counts them
    for _ in range(8):  # every one of the first epochs is recorded
        session.train_epochs(1)
        trajectory.append(weights_of(session.run.model))
        history["loss"].append(session._metrics["trainLoss"])
        history["val_loss"].append(session._metrics["testLoss"])
    session.frame()  # the first computation measures the cost; the next one is the paused grid
    data = lens_of(session)
    model, setup = session.run.model, session.setup
    shown = data["landscape"]
    resolution = shown["resolution"]  # 41, unless one grid point costs more than 0.3 s / 41² on this machine
    assert LIVE_RESOLUTION < resolution <= FULL_RESOLUTION and resolution % 2 and shown["directions"] == "pca"
    expected = lens.loss_landscape(model, setup.train_x, setup.train_t, setup.loss_fn, resolution=resolution,
                                   directions="pca", trajectory=trajectory, seed=session.run.init_seed)
    np.testing.assert_allclose(shown["losses"], expected.losses, rtol=1e-5)
    np.testing.assert_allclose(shown["path"], expected.path, rtol=1e-5, atol=1e-9)
    assert shown["center"] == pytest.approx(session._metrics["trainLoss"], rel=1e-5)  # the centre = the weights now
    assert shown["pathEpochs"] == list(range(9))

    report = lens.saturation(model, setup.train_x, bins=30)
    assert [layer["z"]["counts"] for layer in data["saturation"]] == [r.z_counts.tolist() for r in report]
    assert [layer["saturatedUnits"] for layer in data["saturation"]] == [r.saturated_units for r in report]
    assert [layer["name"] for layer in data["saturation"]] == ["hidden layer 1", "hidden layer 2", "output layer"]

    findings = lens.diagnose(history, gradient_flow=session.lens.flow, saturation_report=report,
                             settings=session.state, patience=50)
    assert [f["kind"] for f in data["diagnosis"]["findings"]] == [f.kind for f in findings]
    assert [f["evidence"] for f in data["diagnosis"]["findings"]] == [f.evidence for f in findings]
    assert [f["numbers"] for f in data["diagnosis"]["findings"]] == [f.numbers for f in findings]


def test_gradient_flow_equals_the_gradients_of_a_twin_run() -> None:
    """Each epoch's mean gradient norm and update ratio per layer, from the same network trained by hand."""
    session = Session(seed=5)
    session.set({"networkShape": [3, 2], "batchSize": 25})
    twin = Run(session.setup, session.run.init_seed, session.state["learningRate"])  # the same initial weights
    session.handle({"type": "lens", "open": ["gradients"]})
    session.train_epochs(3)
    shown = lens_of(session)["gradients"]
    names = [name for name, p in twin.model.named_parameters() if p._data.ndim == 2]
    norms = {name: [] for name in names}
    ratios = {name: [] for name in names}
    for _ in range(3):
        sums = {name: np.zeros(2) for name in names}
        for x, t in twin.setup.batches:
            before = {name: p._data.copy() for name, p in twin.model.named_parameters()}
            twin.optimizer.zero_grad()
            twin.setup.loss(twin.model, twin.model(x), t).backward()
            twin.optimizer.step()
            for name, p in twin.model.named_parameters():
                if name in sums:
                    sums[name] += [np.sqrt((p.grad._data.astype(np.float64) ** 2).sum()),
                                   np.sqrt(((p._data - before[name]) ** 2).sum() / (before[name] ** 2).sum())]
        for name in names:
            norms[name].append(sums[name][0] / len(twin.setup.batches))
            ratios[name].append(sums[name][1] / len(twin.setup.batches))
    assert shown["epochs"] == [1, 2, 3]
    assert [layer["name"] for layer in shown["layers"]] == ["hidden layer 1", "hidden layer 2", "output layer"]
    for layer, name in zip(shown["layers"], names):
        np.testing.assert_allclose(layer["gradNorm"], norms[name], rtol=1e-4)
        np.testing.assert_allclose(layer["updateRatio"], ratios[name], rtol=1e-4)


def test_lr_find_equals_lens_and_leaves_the_running_network_untouched() -> None:
    session = Session(seed=2)
    session.set({"optimizer": "momentum"})
    session.train_epochs(2)  # the optimizer has state (momentum buffers) to keep
    weights, state = weights_of(session.run.model), copy.deepcopy(session.run.optimizer.state_dict())
    (reply,) = session.handle({"type": "lr_find"})
    json.dumps(reply, allow_nan=False)
    after = session.run.optimizer.state_dict()
    assert all(np.array_equal(weights[k], v) for k, v in weights_of(session.run.model).items())
    assert json.dumps(after, default=lambda a: np.asarray(a).tolist()) == \
        json.dumps(state, default=lambda a: np.asarray(a).tolist())
    setup = session.setup
    expected = lens.lr_find(session.run.model, setup.train_x, setup.train_t, setup.loss_fn,
                            optimizer=lambda params: optim.SGD(params, lr=1e-5, momentum=0.9), start_lr=1e-5,
                            end_lr=10.0, num_iter=100, batch_size=250, seed=2)
    np.testing.assert_allclose([v for v in reply["losses"]], expected.losses, rtol=1e-5)
    assert reply["suggestion"] == pytest.approx(expected.suggestion)
    assert reply["rate"] == min(LEARNING_RATES, key=lambda r: abs(np.log10(r) - np.log10(expected.suggestion)))


def test_nothing_is_stale_after_a_reset_or_a_change() -> None:
    session = Session(seed=1)
    session.handle({"type": "lens", "open": ALL})
    for change in ({"type": "reset"}, {"type": "restart"}, {"type": "set", "state": {"networkShape": [3]}},
                   {"type": "set", "state": {"xSquared": True}}, {"type": "set", "state": {"dataset": "xor"}}):
        session.train_epochs(12)
        before = lens_of(session)
        assert len(before["gradients"]["epochs"]) == 11 and before["diagnosis"]["findings"]
        session.handle(change)
        data = lens_of(session)
        assert data["network"] == session.network != before["network"] and data["epoch"] == 0
        assert data["gradients"]["epochs"] == [] and all(layer["gradNorm"] == [] for layer in
                                                         data["gradients"]["layers"])
        assert data["diagnosis"]["findings"] == [] and "Train for a few epochs" in data["diagnosis"]["note"]
        assert data["landscape"]["directions"] == "random" and data["landscape"]["pathEpochs"] == [0]
        widths = session.state["networkShape"] + [1]
        assert [len(layer["gradNorm"]) for layer in data["gradients"]["layers"]] == [0] * len(widths)


def test_a_pause_that_goes_back_forgets_what_came_after() -> None:
    session = Session(seed=1)
    session.handle({"type": "lens", "open": ["gradients", "diagnosis"]})
    session.handle({"type": "play"})
    while session.run.epoch < 4:
        session.work(0.01)
    shown = session.frame()  # kept as a snapshot: the page shows it
    while session.run.epoch < shown["epoch"] + 5:
        session.work(0.01)
    session.handle({"type": "pause", "at": shown["id"]})
    assert session.run.epoch == shown["epoch"]
    data = lens_of(session)
    assert max(data["gradients"]["epochs"]) <= shown["epoch"]
    assert len(session.lens.curves["loss"]) == shown["epoch"]  # epochs 1 … shown
    first = shown["epoch"] + (1 if session.run.cursor == 0 else 2)  # an epoch half undone is not recorded
    session.train_epochs(3)  # and recording goes on from there
    assert lens_of(session)["gradients"]["epochs"] == list(range(1, shown["epoch"] + 1)) + \
        list(range(first, shown["epoch"] + 4))


def test_panels_while_training_are_live_and_bounded_and_full_when_paused(page: Page) -> None:
    page.send("lens", open=["landscape", "gradients"])
    page.expect("frame", lambda m: "lens" in m)
    page.send("play")
    start, lens_frames, frames = time.monotonic(), [], 0
    while time.monotonic() - start < 2.0:
        frame = page.expect("frame")
        frames += 1
        if "lens" in frame and frame["playing"]:
            lens_frames.append((time.monotonic(), frame["lens"]))
    assert lens_frames and all(data["live"] and data["landscape"]["resolution"] <= LIVE_RESOLUTION
                               for _, data in lens_frames)
    assert len(lens_frames) <= 2.0 / LIVE_INTERVAL_S + 2 and len(lens_frames) < frames
    page.send("pause")
    paused = page.expect("frame", lambda m: "lens" in m and not m["playing"] and not m["lens"]["live"])
    resolution = paused["lens"]["landscape"]["resolution"]  # 41 unless this machine is too slow for 41² in 0.3 s
    assert LIVE_RESOLUTION < resolution <= FULL_RESOLUTION and len(paused["lens"]["landscape"]["losses"]) == resolution


def test_bad_lens_messages_get_errors_and_closed_panels_cost_nothing(page: Page) -> None:
    assert "field 'open'" in page.request("lens", "error", open="landscape")["message"]
    assert "unknown panel 'heat'" in page.request("lens", "error", open=["heat"])["message"]
    assert "field 'directions'" in page.request("lens", "error", open=[], directions="up")["message"]
    page.send("lens", open=[])
    assert "lens" not in page.request("step", "frame")
    page.set(problem="regression", learningRate=10.0)
    page.send("lens", open=ALL)
    for _ in range(3):
        page.send("step")
    frame = page.expect("frame", lambda m: m["stopped"] is not None)  # training diverged
    data = frame.get("lens") or page.expect("frame", lambda m: "lens" in m)["lens"]
    assert "diverged" in frame["stopped"]  # TerminateOnNaN put back the last good epoch: finite weights drawn
    assert "error" not in data["landscape"] and "error" not in data["saturation"][0]
    assert data["diagnosis"]["findings"][0]["kind"] == "lr_too_high"
    assert data["diagnosis"]["findings"][0]["experiment"]["set"] == {"learningRate": 1.0}
    assert page.request("lr_find", "lr_find")["rate"] < 10.0  # on the restored weights: a smaller rate


def test_experiments_become_the_playgrounds_values() -> None:
    state = default_state(0)
    assert experiment({"set": {"learningRate": 0.0031}}, state) == {"label": "Try learning rate 0.003",
                                                                    "set": {"learningRate": 0.003}}
    assert experiment({"set": {}, "scale": {"learningRate": 10.0}}, state)["set"] == {"learningRate": 0.3}
    assert experiment({"set": {"learningRate": 3e-6}}, state | {"learningRate": 0.00001}) is None  # nothing lower
    assert experiment({"set": {"networkShape": [6, 4]}}, state) == {"label": "Try hidden layers 6,4",
                                                                    "set": {"networkShape": [6, 4]}}
    assert experiment({"set": {"regularization": "L2", "regularizationRate": 0.012}}, state)["set"] == \
        {"regularization": "L2", "regularizationRate": 0.01}
    assert experiment({"set": {"xSquared": True, "ySquared": True}}, state)["label"] == \
        "Try feature X1² on, feature X2² on"
    assert experiment({"set": {"activation": "tanh", "layerActivations": []}}, state | {"activation": "relu"}) == \
        {"label": "Try activation tanh", "set": {"activation": "tanh"}}
    assert experiment({"set": {}, "run_many": 10}, state)["command"] == {"type": "run_many", "n": 10}
    assert experiment({"set": {"unknownKey": 1}}, state) is None
    assert experiment({"set": {}}, state) is None


LESSON_FINDINGS = [("underfitting", 150, "underfitting"), ("overfitting", 300, "overfitting"),
                   ("overfitting-cured", 300, "ideal_fit"), ("learning-rate-small", 100, "lr_too_low"),
                   ("learning-rate-large", 3, "lr_too_high"), ("vanishing-gradients", 60, "vanishing_gradients"),
                   ("dead-relus", 100, "dead_relus"), ("local-minimum", 100, "local_minimum")]


@pytest.mark.parametrize(("lesson", "epochs", "kind"), LESSON_FINDINGS)
def test_each_diagnosis_lesson_shows_its_finding(lesson: str, epochs: int, kind: str) -> None:
    session = Session(seed=1)
    session.set({"tutorial": lesson})
    session.handle({"type": "lens", "open": ["diagnosis"]})
    session.train_epochs(epochs)
    if kind == "local_minimum":
        session.handle({"type": "run_many", "n": 6})
        while session._job is not None:
            session.work(1.0)
    findings = lens_of(session)["diagnosis"]["findings"]
    assert kind in [f["kind"] for f in findings], findings
    if kind != "ideal_fit":
        assert next(f for f in findings if f["kind"] == kind)["experiment"]["label"]


def test_long_runs_keep_a_bounded_thinned_record(monkeypatch: Any) -> None:
    from glassnet.playground import lens_panel

    monkeypatch.setattr(lens_panel, "FULL_EPOCHS", 2)
    monkeypatch.setattr(lens_panel, "MAX_RECORDS", 6)
    monkeypatch.setattr(lens_panel, "MAX_CURVE", 40)
    session = Session(seed=1)
    session.set({"networkShape": [2]})
    session.handle({"type": "lens", "open": ["gradients", "landscape", "diagnosis"]})
    session.train_epochs(60)
    data = lens_of(session)
    epochs = data["gradients"]["epochs"]
    assert len(epochs) <= 6 and epochs == sorted(epochs) and epochs[-1] >= 40  # recorded 8, then 16 apart
    assert all(len(layer["gradNorm"]) == len(layer["updateRatio"]) == len(epochs)
               for layer in data["gradients"]["layers"])
    assert data["landscape"]["pathEpochs"] == [0] + epochs and len(data["landscape"]["path"]) == len(epochs) + 1
    flow = session.lens.flow
    assert [np.array_equal(a["0.weight"], b["0.weight"]) for a, b in zip(flow.trajectory, flow.trajectory[1:])] \
        == [False] * len(epochs)  # one snapshot per recorded epoch, all different
    assert len(session.lens.curves["loss"]) <= 40 and session.lens.curve_start > 0
    assert "counted from epoch" in data["diagnosis"]["note"]


def test_a_failing_panel_closes_the_panels_and_the_frame_still_comes(monkeypatch: Any) -> None:
    session = Session(seed=1)
    session.handle({"type": "lens", "open": ["saturation"]})
    monkeypatch.setattr(lens, "saturation", lambda *args, **kwargs: 1 / 0)
    frame = session.frame()
    assert frame["lens"]["error"] == "the lens panels failed: ZeroDivisionError: division by zero"
    assert frame["epoch"] == 0 and frame["layers"]  # the frame itself is whole
    session.train_epochs(1)
    assert "lens" not in session.frame()  # closed until the page opens them again
