"""What a lesson needs of the server: Pause stops at the frame shown, Step trains exactly one epoch (or one
mini-batch), every change that builds a new network says so (so that no panel shows the old one), TensorFlow
Playground's URL keys for teachers, and the ready lessons."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

pytest.importorskip("starlette")

from glassnet.playground import Session, from_hash, to_hash, validate  # noqa: E402
from glassnet.playground.state import LESSONS, MAX_SEED, SCHEMA, default_state, parse_hash  # noqa: E402
from playground_client import Page  # noqa: E402

pytestmark = [pytest.mark.timeout(90), pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_pause_stops_at_the_frame_the_page_shows(page: Page) -> None:
    page.set(learningRate=0.1)
    page.send("play")
    shown = page.expect("frame", lambda m: m["epoch"] >= 3 and m["playing"])
    later = page.expect("frame", lambda m: m["epoch"] >= shown["epoch"] + 5)  # the server has trained on since
    assert later["layers"] != shown["layers"]
    page.send("pause", at=shown["id"])
    paused = page.expect("frame", lambda m: not m["playing"])
    assert (paused["epoch"], paused["layers"], paused["testLoss"]) == (shown["epoch"], shown["layers"],
                                                                      shown["testLoss"])
    page.send("play")  # and training goes on from there, as if it had never gone further
    again = page.expect("frame", lambda m: m["playing"] and m["epoch"] > shown["epoch"])
    assert again["history"][0]["epoch"] == shown["epoch"] + 1


def test_pause_at_a_frame_too_old_or_unknown_pauses_where_training_is(page: Page) -> None:
    page.send("play")
    first = page.expect("frame", lambda m: m["playing"])
    for _ in range(40):  # more frames than the server keeps
        page.expect("frame")
    page.send("pause", at=first["id"])
    assert page.expect("frame", lambda m: not m["playing"])["epoch"] > first["epoch"]
    assert "field 'at'" in page.request("pause", "error", at="last")["message"]


def test_step_trains_exactly_one_epoch_and_step_batch_one_mini_batch(page: Page) -> None:
    start = page.request("step", "frame")
    assert start["epoch"] == 1
    for _ in range(3):
        page.send("step")
    assert page.expect("frame", lambda m: m["epoch"] >= 4)["epoch"] == 4
    weights = page.request("focus", "frame", neuron=None)["layers"]
    batched = page.request("step", "frame", what="batch")
    assert batched["epoch"] == 4 and batched["layers"] != weights
    for _ in range(24):  # 250 training points in batches of 10: 25 mini-batches make an epoch
        page.send("step", what="batch")
    assert page.expect("frame", lambda m: m["epoch"] == 5)["epoch"] == 5
    assert "field 'what'" in page.request("step", "error", what="half")["message"]


def test_step_while_playing_pauses_at_the_frame_shown_and_trains_one_epoch(page: Page) -> None:
    page.send("play")
    shown = page.expect("frame", lambda m: m["epoch"] >= 2 and m["playing"])
    page.expect("frame", lambda m: m["epoch"] >= shown["epoch"] + 3)
    page.send("step", at=shown["id"])
    assert page.expect("frame", lambda m: not m["playing"] and m["epoch"] != shown["epoch"])["epoch"] == \
        shown["epoch"] + 1


@pytest.mark.parametrize("change", [
    {"type": "reset"}, {"type": "restart"}, {"type": "set", "state": {"networkShape": [3]}},
    {"type": "set", "state": {"xSquared": True}}, {"type": "set", "state": {"dataset": "xor"}},
    {"type": "set", "state": {"seed": 5}}, {"type": "set", "state": {"activation": "relu"}},
])
def test_every_new_network_has_a_new_number_in_state_and_frames(page: Page, change: dict[str, Any]) -> None:
    before = page.request("step", "frame")["network"]
    page.ws.send_json(change)
    state = page.expect("state")
    frame = page.expect("frame")
    assert state["network"] == frame["network"] == before + 1 and frame["epoch"] == 0 and not state["playing"]


def test_a_live_change_keeps_the_network_and_its_number(page: Page) -> None:
    before = page.request("step", "frame")
    state = page.request("set", "state", state={"learningRate": 0.3, "showTestData": True})
    assert state["network"] == before["network"]
    assert page.expect("frame")["epoch"] == 1


# ---------------------------------------------------------------------------------------------- a teacher's URL keys

def test_a_tensorflow_playground_link_opens_as_the_same_setup(page: Page) -> None:
    state = page.request("set", "state", hash="#seed=0.12345&noise=65&initZero=true&hideText=true"
                                              "&learningRate_hide=true&xSquared=true&xSquared_hide=true&batchSize=3")
    state = state["state"]
    assert (state["seed"], state["noise"], state["batchSize"], state["initZero"], state["hideText"]) == \
        (12345, 65, 3, True, True)
    assert state["learningRate_hide"] and not state["xSquared"]  # a hidden feature is no input
    frame = page.expect("frame")
    assert all(np.all(np.array(layer["W"]) == 0) and np.all(np.array(layer["b"]) == 0) for layer in frame["layers"])
    for noise, read in (("90", 50), ("81", 50), ("80", 80), ("65", 65), ("-5", 0), ("35", 35), ("12.5", 12.5)):
        assert validate(parse_hash(f"noise={noise}"), default_state(0)) == (default_state(0) | {"noise": read}, [])
    noisy = Session(seed=4)  # TFP's noise 80 is ν = 0.8: labels flip far more often than at 50
    flipped = {}
    for noise in (0, 50, 80):
        noisy.set({"noise": noise, "dataset": "xor"})
        X, labels = noisy._points
        flipped[noise] = np.mean(labels != (X[:, 0] * X[:, 1] >= 0))
    assert flipped[0] == 0 and flipped[80] > flipped[50] > 0.1, flipped


def test_tensorflow_playground_seeds_and_batch_sizes_from_urls() -> None:
    seed = lambda text: from_hash(f"#seed={text}")[0]["seed"]  # noqa: E731
    assert (seed("0.59704"), seed("0.00000"), seed("0.5"), seed("1.00000"), seed("123")) == (59704, 0, 50000, 1, 123)
    assert seed("hello") == seed("hello") != seed("hellp") and 0 <= seed("12.5") <= MAX_SEED  # TFP seeds any text
    assert from_hash("#seed=hello")[1] == [] and seed("-3") == seed("-3") >= 0
    for text, read, expert in (("1", 1, False), ("30", 30, False), ("31", 31, True), ("256", 256, True)):
        state, warnings = from_hash(f"#batchSize={text}")
        assert (state["batchSize"], state["expert"]) == (read, expert) and len(warnings) == expert
    for text in ("0", "-5", "2.5", "257", "x"):  # TFP's would never train (0, beyond the points) or are typing slips
        state, warnings = from_hash(f"#batchSize={text}")
        assert state["batchSize"] == 10 and warnings[0].startswith("batchSize must be a") and "kept 10" in \
            warnings[0], warnings


def test_the_teachers_keys_stay_out_of_the_hash_until_set() -> None:
    text = to_hash(default_state(0))
    assert "hideText" not in text and "_hide" not in text and "initZero" not in text and "tutorial" not in text
    assert to_hash(default_state(0) | {"noise_hide": True}).endswith("&noise_hide=true")
    assert set(SCHEMA) >= {f"{name}_hide" for name in ("playButton", "stepButton", "resetButton", "numHiddenLayers",
                                                         "percTrainData", "x", "sinY")}


@pytest.mark.parametrize("name", sorted(LESSONS))
def test_every_lesson_is_a_valid_setup_that_trains(name: str) -> None:
    lesson = LESSONS[name]
    state, warnings = validate({"tutorial": name, "seed": 4}, default_state(0) | {"networkShape": [1], "y": False})
    assert warnings == [] and state["tutorial"] == name and state["seed"] == 4
    assert all(state[key] == value for key, value in lesson.changes.items())
    assert state["networkShape"] == lesson.changes.get("networkShape", [4, 2]) and state["y"]  # the whole setup
    session = Session(seed=4)
    session.set({"tutorial": name})
    assert session.train_epochs(2) == 2
    if session.stopped is not None and session.stopped.startswith("training diverged"):  # learning-rate-large
        assert session.frame()["epoch"] == 1  # the diverged epoch is undone (TerminateOnNaN)
    else:
        assert session.frame()["epoch"] == 2


def test_a_lesson_keeps_the_teachers_hidden_text_and_controls() -> None:
    base = default_state(0) | {"hideText": True, "noise_hide": True, "sinX_hide": True}
    state, warnings = validate({"tutorial": "spiral-features"}, base)
    assert warnings == [] and state["hideText"] and state["noise_hide"] and state["sinX_hide"]
    assert state["dataset"] == "spiral" and state["networkShape"] == [6, 6]


def test_a_lesson_link_with_more_keys_keeps_them() -> None:
    state, _ = from_hash("#tutorial=overfitting&noise=20")
    assert (state["percTrainData"], state["noise"]) == (10, 20)


def test_a_tensorflow_playground_link_beyond_the_normal_limits_opens_in_expert_mode() -> None:
    state, warnings = from_hash("#batchSize=50&networkShape=12,4&learningRate=0.1")
    assert (state["expert"], state["batchSize"], state["networkShape"], state["learningRate"]) == \
        (True, 50, [12, 4], 0.1)
    assert warnings == ["batchSize 50 is beyond the normal limits; expert limits are on"]
    assert validate({"batchSize": 31}, default_state(0))[0]["batchSize"] == 10  # the page's own controls: no
    assert from_hash("#batchSize=500")[0]["batchSize"] == 10  # beyond the expert limits too
    assert from_hash("#expert=false&batchSize=50")[0]["batchSize"] == 10  # expert asked off
