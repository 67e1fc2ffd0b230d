"""The playground's server: every command of PROTOCOL.md, the state ⇄ URL round trip, limits, bad messages,
learning, 20 concurrent pages on a real uvicorn, export and the backprop inspector."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import httpx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
websockets_client = pytest.importorskip("websockets.asyncio.client")

from starlette.testclient import TestClient  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.playground import Session, create_app, from_hash, to_hash, validate  # noqa: E402
from glassnet.playground.recipe import POINTS, REGRESSION_DATASETS  # noqa: E402
from glassnet.playground.state import (ACTIVATIONS, BINARY_DATASETS, DATASETS_OF_PROBLEM, FEATURES,  # noqa: E402
                                       LEARNING_RATES, MAX_MESSAGE_BYTES, MAX_SEED, MULTICLASS_DATASETS,
                                       REGULARIZATION_RATES, SCHEMA, default_state, describe)
from playground_client import Message, Page, serve_in_thread, wait_until  # noqa: E402

pytestmark = [pytest.mark.timeout(90), pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def server_session(app: Any) -> Session:
    (session,) = app.state.sessions
    return session


def decode_map(heat_map: Message, key: str = "b64") -> np.ndarray:
    data = np.frombuffer(base64.b64decode(heat_map[key]), dtype=np.uint8)
    return data.reshape(heat_map["h"], heat_map["w"])


# ---------------------------------------------------------------------------------------------- state and URL

@st.composite
def valid_states(draw: Any) -> dict[str, Any]:
    """Any state the server accepts as it is (within the limits of its `expert` mode)."""
    expert = draw(st.booleans())
    layers, neurons, batch = (10, 32, 256) if expert else (6, 8, 30)
    problem = draw(st.sampled_from(["binary", "regression", "multiclass"]))
    datasets = {"binary": BINARY_DATASETS, "multiclass": MULTICLASS_DATASETS,
                "regression": SCHEMA["dataset"].values}[problem]
    features = {key: draw(st.booleans()) for key in FEATURES}
    if not any(features.values()):
        features["x"] = True
    return {
        "problem": problem, "dataset": draw(st.sampled_from(datasets)),
        "regDataset": draw(st.sampled_from(SCHEMA["regDataset"].values)),
        "percTrainData": draw(st.sampled_from(range(10, 91, 10))), "noise": draw(st.sampled_from(range(0, 51, 5))),
        "batchSize": draw(st.integers(1, batch)), **features,
        "networkShape": draw(st.lists(st.integers(1, neurons), max_size=layers)),
        "learningRate": draw(st.sampled_from(LEARNING_RATES)), "activation": draw(st.sampled_from(ACTIVATIONS)),
        "layerActivations": draw(st.lists(st.sampled_from(("",) + ACTIVATIONS), max_size=layers)
                                 .filter(lambda items: not items or items[-1])),  # "" = default: none at the end
        "regularization": draw(st.sampled_from(["none", "L1", "L2"])),
        "regularizationRate": draw(st.sampled_from(REGULARIZATION_RATES)),
        "optimizer": draw(st.sampled_from(SCHEMA["optimizer"].values)),
        "loss": draw(st.sampled_from(["mse", "crossentropy"])),
        "dropout": draw(st.lists(st.floats(0, 0.5), max_size=layers)),
        "earlyStopping": draw(st.booleans()), "patience": draw(st.integers(1, 1000)),
        "stopAfterEpochs": draw(st.integers(0, 10_000_000)), "stopAtLoss": draw(st.floats(0, 1e6)),
        "expert": expert, "seed": draw(st.integers(0, MAX_SEED)),
        "showTestData": draw(st.booleans()), "discretize": draw(st.booleans()),
        "initZero": draw(st.booleans()), "tutorial": "", "hideText": draw(st.booleans()),
        **{key: draw(st.booleans()) if key.removesuffix("_hide") not in FEATURES else False
           for key in SCHEMA if key.endswith("_hide")},
    }


@settings(max_examples=300, deadline=None)
@given(valid_states())
def test_every_valid_state_round_trips_through_the_url_hash(state: dict[str, Any]) -> None:
    assert validate(state, default_state(0)) == (state, [])
    text = to_hash(state)
    assert re.fullmatch(r"[A-Za-z0-9=&,._\-]*", text), text
    assert from_hash("#" + text) == (state, [])


def test_a_tensorflow_playground_url_reads_with_its_inert_keys_named() -> None:
    url = ("#activation=relu&batchSize=10&dataset=xor&regDataset=reg-plane&learningRate=0.03&regularizationRate=0"
           "&noise=5&networkShape=4,2&seed=0.59704&showTestData=false&discretize=true&percTrainData=50&x=true"
           "&y=true&xTimesY=true&xSquared=false&ySquared=false&cosX=false&sinX=false&cosY=false&sinY=false"
           "&collectStats=false&problem=classification&initZero=false&hideText=false")
    state, warnings = from_hash(url, seed=7)
    assert (state["activation"], state["dataset"], state["noise"], state["xTimesY"], state["discretize"]) == \
        ("relu", "xor", 5, True, True)
    assert state["seed"] == 59704 and not state["initZero"] and not state["hideText"]  # TFP's seed "0.59704"
    assert warnings == ["unknown keys 'cosX', 'cosY', 'collectStats' ignored"]  # inert in TFP too


def test_tensorflow_playgrounds_classification_is_binary_past_the_url() -> None:
    """TFP's URL word `classification` is glassnet's problem type `binary`: read from a hash (or a page's hash pairs
    sent as strings) it becomes binary, and the hash writes it back; inside, only nn.PROBLEMS' words exist."""
    state, warnings = from_hash("#problem=classification&dataset=xor", seed=3)
    assert state["problem"] == "binary" and warnings == []
    assert "problem=classification" in to_hash(state).split("&")
    session = Session(seed=3)
    for message in ({"type": "set", "hash": "problem=classification&dataset=xor"},
                    {"type": "set", "state": {"problem": "classification", "dataset": "gauss"}}):
        reply = next(r for r in session.handle(message) if r["type"] == "state")
        assert reply["state"]["problem"] == "binary" == session.state["problem"]
        assert "problem=classification" in reply["hash"].split("&")
    assert session.setup.head.activation == "tanh" and session.frame()["confusion"] is not None
    assert set(SCHEMA["problem"].values) <= set(gn.nn.PROBLEMS) and "classification" not in json.dumps(describe())
    assert set(POINTS) == set(SCHEMA["problem"].values) and set(DATASETS_OF_PROBLEM) <= set(gn.nn.PROBLEMS)
    for problem, names in [*DATASETS_OF_PROBLEM.items(), ("regression", SCHEMA["regDataset"].values)]:
        for name in names[:-1]:  # the last is "upload"
            assert gn.data.DATASETS[REGRESSION_DATASETS.get(name, name)].problem == problem  # the data sets' word


def test_validation_keeps_the_old_value_and_names_each_bad_key(page: Page) -> None:
    page.send("set", state={"batchSize": 99, "activation": "swish", "networkShape": "4,x", "bogus": 1,
                            "x": False, "y": False, "learningRate": 0.1})
    warnings = [page.expect("warning")["message"] for _ in range(5)]
    state = page.expect("state")["state"]
    for key in ("batchSize", "activation", "networkShape", "bogus", "at least one input feature"):
        assert any(key in w for w in warnings), (key, warnings)
    assert (state["batchSize"], state["activation"], state["networkShape"]) == (10, "tanh", [4, 2])
    assert (state["x"], state["y"], state["learningRate"]) == (True, True, 0.1)


def test_limits_are_enforced_by_the_server_and_lifted_in_expert_mode(page: Page) -> None:
    page.send("set", state={"networkShape": [9], "batchSize": 31})
    assert "networkShape" in page.expect("warning")["message"]
    assert "batchSize" in page.expect("warning")["message"]
    assert page.expect("state")["state"]["networkShape"] == [4, 2]
    state = page.request("set", "state", state={"expert": True, "networkShape": [32] * 10, "batchSize": 256,
                                                "dropout": [0.5] * 10})["state"]
    assert (state["networkShape"], state["batchSize"]) == ([32] * 10, 256)
    assert [np.shape(layer["W"]) for layer in page.expect("frame")["layers"]] == [(32, 2)] + [(32, 32)] * 9 + \
        [(1, 32)]
    page.send("set", state={"expert": False})
    warnings = [page.expect("warning")["message"] for _ in range(3)]
    state = page.expect("state")["state"]
    assert (state["networkShape"], state["batchSize"], state["dropout"]) == ([8] * 6, 30, [0.5] * 6)
    assert all("exceeds the limits" in w for w in warnings)
    page.send("set", state={"expert": True, "networkShape": [33]})
    assert "from 1 to 32" in page.expect("warning")["message"]


def test_defaults_endpoint_describes_every_key_and_limit(client: Any) -> None:
    described = client.get("/api/defaults").json()
    assert list(described["state"]) == list(SCHEMA) == list(described["keys"])
    assert described["state"]["networkShape"] == [4, 2] and described["state"]["seed"] is None
    assert described["keys"]["learningRate"]["values"] == list(LEARNING_RATES)
    assert described["limits"]["normal"]["maxLayers"] == 6 and described["limits"]["expert"]["maxNeurons"] == 32


def test_static_files_never_leave_the_static_folder(client: Any) -> None:
    for path in ("/../server.py", "/%2e%2e/server.py", "/..%2fserver.py", "/static/../../session.py"):
        response = client.get(path)
        assert response.status_code == 404 and b"def " not in response.content


def test_importing_glassnet_and_the_session_never_imports_the_web_stack() -> None:
    code = ("import sys, glassnet, glassnet.playground; s = glassnet.playground.Session(seed=0); "
            "assert not {'starlette', 'uvicorn'} & set(sys.modules), 'web stack imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---------------------------------------------------------------------------------------------- commands

def test_connect_sends_state_data_and_a_full_frame(client: Any) -> None:
    with client.websocket_connect("/ws") as websocket:
        page = Page(websocket)
        state = page.expect("state")
        assert state["head"]["activation"] == "tanh" and state["limits"]["maxLayers"] == 6
        assert state["hash"] == to_hash(state["state"])
        data = page.expect("data")
        assert (len(data["train"]), len(data["test"]), data["classes"], data["domain"]) == (250, 250, 1, [-6, 6])
        assert {label for *_, label in data["train"]} == {-1, 1}
        frame = page.expect("frame")
    assert frame["epoch"] == 0 and frame["history"][0]["epoch"] == 0
    assert [np.shape(layer["W"]) for layer in frame["layers"]] == [(4, 2), (2, 4), (1, 2)]
    assert decode_map(frame["output"]).shape == (100, 100)
    assert [len(layer) for layer in frame["neurons"]] == [4, 2] and len(frame["features"]) == 2
    assert all(decode_map(m).shape == (20, 20) for layer in frame["neurons"] for m in layer)
    x1 = decode_map(frame["features"][0])
    assert x1[:, 0].max() == 0 and x1[:, -1].min() == 255  # x1 = −6 on the left, +6 on the right (clamped)
    assert sum(map(sum, frame["confusion"])) == 250 and frame["stopped"] is None


def test_set_applies_live_resets_or_makes_new_data_as_the_table_says(app: Any, page: Page) -> None:
    page.send("play")
    page.expect("frame", lambda m: m["epoch"] >= 3)
    page.send("set", state={"learningRate": 0.1})  # live: training goes on
    assert page.expect("state")["state"]["learningRate"] == 0.1
    assert page.expect("frame")["epoch"] >= 3
    assert server_session(app).run.optimizer.param_groups[0]["lr"] == 0.1
    state = page.request("set", "state", state={"networkShape": [3], "activation": "relu"})  # reset, paused
    frame = page.expect("frame")
    assert frame["epoch"] == 0 and not frame["playing"] and not state["playing"]
    assert [np.shape(layer["W"]) for layer in frame["layers"]] == [(3, 2), (1, 3)]
    before = page.request("set", "data", state={"noise": 30})  # new data
    assert page.request("set", "data", state={"percTrainData": 80})["train"] != before["train"]
    page.send("set", hash="#dataset=xor&networkShape=5")
    assert page.expect("state")["state"]["dataset"] == "xor"
    assert page.expect("data")["train"] != before["train"]


def test_play_pause_and_step(page: Page) -> None:
    page.send("play")
    epochs = [page.expect("frame")["epoch"] for _ in range(3)]
    assert epochs == sorted(epochs) and epochs[-1] > 0
    page.send("pause")
    paused = page.expect("frame", lambda m: not m["playing"])["epoch"]
    page.send("step")
    assert page.expect("frame")["epoch"] == paused + 1
    for _ in range(3):
        page.send("step")
    frame = page.expect("frame", lambda m: m["epoch"] == paused + 4)
    assert not frame["playing"] and [h["epoch"] for h in frame["history"]][-1] == paused + 4


def test_reset_restart_and_regenerate(client: Any, page: Page) -> None:
    first = page.set(seed=11)["initSeed"]
    page.send("step")
    page.expect("frame", lambda m: m["epoch"] == 1)
    reset = page.request("reset", "state")
    assert page.expect("frame")["epoch"] == 0 and reset["initSeed"] != first
    with client.websocket_connect("/ws") as other:  # the same seed gives the same weights, reset after reset
        twin = Page(other)
        twin.expect("frame")
        assert twin.set(seed=11)["initSeed"] == first
        assert twin.request("reset", "state")["initSeed"] == reset["initSeed"]
    restart = page.request("restart", "state")
    assert restart["initSeed"] not in (first, reset["initSeed"])
    page.send("step")
    page.expect("frame", lambda m: m["epoch"] == 1)
    old_seed = restart["state"]["seed"]
    page.send("regenerate")
    state, data = page.expect("state"), page.expect("data")
    assert state["state"]["seed"] != old_seed and state["initSeed"] == restart["initSeed"]
    assert len(data["train"]) == 250
    assert page.expect("frame")["epoch"] == 1  # the network was not reset


def test_problem_types_choose_the_head(page: Page) -> None:
    assert page.set(loss="crossentropy")["head"] == {
        "activation": "sigmoid", "loss": "bce", "text": "sigmoid output, binary cross-entropy"}
    state = page.request("set", "state", state={"problem": "multiclass"})
    assert state["state"]["dataset"] == "spiral3" and state["head"]["activation"] == "softmax"
    data = page.expect("data")
    assert data["classes"] == 3 and {label for *_, label in data["train"]} == {0, 1, 2}
    frame = page.expect("frame")
    assert np.shape(frame["layers"][-1]["W"]) == (3, 2) and np.shape(frame["confusion"]) == (3, 3)
    assert set(np.unique(decode_map(frame["output"], "classes"))) <= {0, 1, 2}
    assert decode_map(frame["output"]).min() >= 127 + 127 // 3  # the top probability is at least 1/3
    state = page.request("set", "state", state={"problem": "regression", "regDataset": "reg-gauss"})
    assert state["head"]["activation"] == "linear"
    assert page.expect("data")["classes"] == 1
    frame = page.expect("frame")
    assert frame["trainAcc"] is None and frame["confusion"] is None


UPLOAD = "x1,x2,label\n" + "\n".join(f"{x:.2f},{y:.2f},{int(x * x + y * y < 4)}"
                                    for x, y in np.random.default_rng(0).uniform(-4, 4, (40, 2)))


def test_upload_good_and_bad_files(page: Page) -> None:
    state = page.request("upload", "state", csv=UPLOAD)
    assert state["state"]["dataset"] == "upload"
    data = page.expect("data")
    assert len(data["train"]) + len(data["test"]) == 40 and len(data["train"]) == 20
    page.send("step")
    assert page.expect("frame", lambda m: m["epoch"] == 1)["trainLoss"] is not None
    bad = {
        "x1,x2,label\n1,2,0\n3,abc,1\n": "row 3, column 'x2'",
        "x1,x2,label\n1,2\n": "row 2: expected 3 columns",
        "1,2,0\n" * 2001: "too many rows",
        "1,2,0\n" * 11 + "1,2,2\n": "set the problem to multiclass",
        "1,2,0\n" * 5: "at least 10",
        "x" * (64 * 1024 + 1): "too large",
    }
    for text, named in bad.items():
        assert named in page.request("upload", "error", csv=text)["message"]
    assert "'csv'" in page.request("upload", "error", csv=["not", "text"])["message"]
    page.send("step")  # the session goes on with the good upload
    assert page.expect("frame", lambda m: m["epoch"] == 2)["trainLoss"] is not None


def test_focus_shows_a_neuron_or_a_feature_full_size(page: Page) -> None:
    page.send("focus", neuron=[0, 1])
    frame = page.expect("frame")
    big = decode_map(frame["output"]).astype(float)
    thumbnail = decode_map(frame["neurons"][0][1]).astype(float)
    assert np.abs(big.reshape(20, 5, 20, 5).mean(axis=(1, 3)) - thumbnail).max() <= 1.0
    page.send("focus", neuron=[-1, 1])  # the input feature x2: +6 at the top
    x2 = decode_map(page.expect("frame")["output"])
    assert x2[0].min() == 255 and x2[-1].max() == 0
    for bad in ([2, 0], [0, 4], "a", [0]):
        assert "'neuron'" in page.request("focus", "error", neuron=bad)["message"]
    page.send("focus", neuron=None)
    assert not np.array_equal(decode_map(page.expect("frame")["output"]), x2)


def test_inspect_neuron_gives_z_and_a_of_the_forward_pass(page: Page) -> None:
    page.send("step")
    layers = page.expect("frame", lambda m: m["epoch"] == 1)["layers"]
    a = np.array([1.5, -2.0])
    for layer, params in enumerate(layers):
        z = np.array(params["W"]) @ a + np.array(params["b"])
        for index in range(len(z)):
            reply = page.request("inspect_neuron", "neuron", layer=layer, index=index, point=[1.5, -2.0])
            assert (reply["layer"], reply["index"], reply["activation"]) == (layer, index, "tanh")
            assert reply["z"] == pytest.approx(z[index], abs=1e-5)
            assert reply["a"] == pytest.approx(np.tanh(z[index]), abs=1e-5)
        a = np.tanh(z)
    for fields in ({"layer": 3, "index": 0}, {"layer": 0, "index": 4}, {"layer": "0", "index": 0}):
        message = page.request("inspect_neuron", "error", point=[0, 0], **fields)["message"]
        assert "inspect_neuron: field" in message
    assert "'point'" in page.request("inspect_neuron", "error", layer=0, index=0, point=[1])["message"]


@pytest.mark.parametrize("changes", [{}, {"loss": "crossentropy", "activation": "relu"},
                                     {"problem": "multiclass", "networkShape": [5, 3]},
                                     {"problem": "regression", "dropout": [0.3], "regularization": "L2",
                                      "regularizationRate": 0.01}])
def test_backprop_inspector_chain_product_equals_the_autodiff_gradient(page: Page, changes: Message) -> None:
    page.set(**changes)
    page.send("step")
    frame = page.expect("frame", lambda m: m["epoch"] == 1)
    gradients = []
    for layer, params in enumerate(frame["layers"]):
        rows, cols = np.shape(params["W"])
        for row, col, point in [(0, 0, 3), (rows - 1, cols - 1, 17), (rows - 1, "bias", 40)]:
            chain = page.request("inspect_weight", "chain", layer=layer, row=row, col=col, point=point)
            assert (chain["layer"], chain["row"], chain["col"], chain["point"]) == (layer, row, col, point)
            assert chain["product"] == pytest.approx(chain["gradient"], rel=1e-4, abs=1e-7)
            assert chain["product"] == pytest.approx(chain["dJ_da"] * chain["da_dz"] * chain["dz_dw"],
                                                     rel=1e-4, abs=1e-7)
            gradients.append(chain["gradient"])
    assert any(abs(g) > 1e-4 for g in gradients)
    for fields in ({"layer": 0, "row": 9, "col": 0, "point": 0}, {"layer": 0, "row": 0, "col": 0, "point": 10**6},
                   {"layer": 0, "row": 0, "col": "b", "point": 0}):
        assert "inspect_weight: field" in page.request("inspect_weight", "error", **fields)["message"]


def test_set_weight_edits_a_weight_or_bias_live(page: Page) -> None:
    page.send("set_weight", layer=1, row=1, col=0, value=1.25)
    page.send("set_weight", layer=2, row=0, col="bias", value=-0.5)
    frame = page.expect("frame", lambda m: m["layers"][2]["b"] == [-0.5])
    assert frame["layers"][1]["W"][1][0] == 1.25
    for value in (None, "1", True, 1e7):
        assert "'value'" in page.request("set_weight", "error", layer=1, row=1, col=0, value=value)["message"]


def test_teach_shows_one_mini_batch_in_three_steps(page: Page) -> None:
    before = page.request("focus", "frame", neuron=None)["layers"]
    assert "needs phase 'backward' first" in page.request("teach", "error", phase="update")["message"]
    assert "'phase'" in page.request("teach", "error", phase="sideways")["message"]
    forward = page.request("teach", "teach", phase="forward")
    assert len(forward["batch"]) == 10 and np.shape(forward["inputs"]) == (10, 2)
    assert [np.shape(layer["z"]) for layer in forward["layers"]] == [(10, 4), (10, 2), (10, 1)]
    assert np.allclose(forward["layers"][0]["a"], np.tanh(forward["layers"][0]["z"]), atol=1e-5)
    backward = page.request("teach", "teach", phase="backward")
    update = page.request("teach", "teach", phase="update")
    for old, grad, new in zip(before, backward["gradients"], update["layers"]):  # SGD: w ← w − lr·∂J/∂w
        assert np.allclose(new["W"], np.array(old["W"]) - 0.03 * np.array(grad["W"]), atol=2e-6)
        assert np.allclose(new["b"], np.array(old["b"]) - 0.03 * np.array(grad["b"]), atol=2e-6)
    assert "needs phase 'forward' first" in page.request("teach", "error", phase="backward")["message"]
    second = page.request("teach", "teach", phase="forward")  # the next mini-batch
    assert second["batch"] != forward["batch"]


def test_run_many_trains_fresh_initialisations(page: Page) -> None:
    page.set(stopAfterEpochs=40)
    page.send("run_many", n=3)
    assert "already" in page.request("run_many", "error")["message"]
    runs = page.expect("runs")
    assert runs["epochs"] == 40 and len({run["initSeed"] for run in runs["runs"]}) == 3
    assert all(0 <= run["testAcc"] <= 1 and run["trainLoss"] > 0 for run in runs["runs"])
    for n in (0, 21, "3"):
        assert "'n'" in page.request("run_many", "error", n=n)["message"]


def test_stopping_criteria(page: Page) -> None:
    page.set(stopAfterEpochs=5)
    page.send("play")
    frame = page.expect("frame", lambda m: m["stopped"] is not None)
    assert frame["epoch"] == 5 and "after 5 epochs" in frame["stopped"] and not frame["playing"]
    page.send("play")  # play after a stop goes on
    page.expect("frame", lambda m: m["epoch"] > 6 and m["playing"] and m["stopped"] is None)
    page.set(stopAfterEpochs=0, stopAtLoss=0.3, learningRate=0.1)
    page.send("play")
    frame = page.expect("frame", lambda m: m["stopped"] is not None)
    assert frame["trainLoss"] <= 0.3 and "threshold" in frame["stopped"]
    page.set(stopAtLoss=0, learningRate=3, earlyStopping=True, patience=5)
    page.send("play")
    frame = page.expect("frame", lambda m: m["stopped"] is not None)
    best = re.search(r"weights of epoch (\d+)", frame["stopped"])
    assert best and frame["epoch"] == int(best.group(1)) + 5


def test_export_model_loads_back_with_the_same_predictions(app: Any, page: Page, tmp_path: Path) -> None:
    page.set(problem="multiclass", networkShape=[6, 5], dropout=[0.2, 0.1])
    page.send("step")
    page.expect("frame", lambda m: m["epoch"] == 1)
    export = page.request("export", "export", what="model")
    assert export["filename"].endswith(".glass") and export["mime"] == "application/octet-stream"
    path = tmp_path / export["filename"]
    path.write_bytes(base64.b64decode(export["base64"]))
    loaded = gn.load(path)
    session = server_session(app)  # paused and idle: its model is safe to read from this thread
    points = session.setup.test_x
    assert np.array_equal(gn.predict(loaded, points), gn.predict(session.run.model, points))
    assert "'what'" in page.request("export", "error", what="/etc/passwd")["message"]


def _script_losses(output: str) -> tuple[float, float]:
    train, test = re.findall(r"train loss ([\d.]+), test loss ([\d.]+)", output)[-1]
    return float(train), float(test)



def _run_exported_script(session: Session, folder: Path, epochs: int) -> subprocess.CompletedProcess:
    """Export the session's Python script into `folder` and run it for `epochs`; it must succeed."""
    export = session.handle({"type": "export", "what": "script"})[0]
    script = folder / export["filename"]
    script.write_bytes(base64.b64decode(export["base64"]))
    done = subprocess.run([sys.executable, str(script), str(epochs)], capture_output=True, text=True, timeout=60,
                          cwd=folder)
    assert done.returncode == 0, done.stderr
    return done

@pytest.mark.parametrize("changes", [
    {},
    {"problem": "multiclass", "networkShape": [6, 4], "layerActivations": ["relu", ""], "optimizer": "adam",
     "regularization": "L2", "regularizationRate": 0.001, "xTimesY": True, "sinX": True, "batchSize": 7},
    {"problem": "regression", "regDataset": "reg-gauss", "optimizer": "momentum", "regularization": "L1",
     "regularizationRate": 0.003, "networkShape": [], "percTrainData": 70},
])
def test_exported_script_runs_and_reproduces_the_sessions_losses(changes: Message, tmp_path: Path) -> None:
    session = Session(seed=4)
    session.set(changes)
    done = _run_exported_script(session, tmp_path, epochs=3)
    session.train_epochs(3)
    train, test = _script_losses(done.stdout)
    assert train == pytest.approx(session.frame()["trainLoss"], abs=2e-6)
    assert test == pytest.approx(session.frame()["testLoss"], abs=2e-6)


def test_exported_script_with_uploaded_points_and_dropout_runs(tmp_path: Path) -> None:
    session = Session(seed=4)
    session.set({"dropout": [0.2, 0.2], "loss": "crossentropy"})
    session.handle({"type": "upload", "csv": UPLOAD})
    done = _run_exported_script(session, tmp_path, epochs=2)
    assert "epoch 2: train loss" in done.stdout and "test accuracy" in done.stdout


# ---------------------------------------------------------------------------------------------- learning

def test_the_default_network_learns_the_circle(page: Page) -> None:
    """TensorFlow Playground's default setup (circle, 2-4-2-1 tanh, lr 0.03, batch 10): test loss below 0.05
    within 150 epochs."""
    page.set(stopAfterEpochs=150)
    page.send("play")
    frame = page.expect("frame", lambda m: m["stopped"] is not None)
    assert frame["epoch"] == 150 and frame["testLoss"] < 0.05 and frame["testAcc"] >= 0.97


def test_a_stream_of_bad_messages_gets_errors_and_the_session_still_trains(page: Page) -> None:
    named = {
        "{not json": "malformed JSON",
        "[1, 2]": "JSON object",
        '{"no": "type"}': "unknown message type None",
        '{"type": 3}': "unknown message type 3",
        '{"type": "launch"}': "unknown message type 'launch'",
        json.dumps({"type": "set", "state": "x" * MAX_MESSAGE_BYTES}): "message too large",
        '{"type": "set", "state": [1]}': "field 'state'",
        '{"type": "set", "hash": 5}': "field 'hash'",
        '{"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": NaN}': "NaN",
        '{"type": "inspect_neuron", "layer": "x", "index": 0, "point": [0, 0]}': "field 'layer'",
        '{"type": "teach", "phase": null}': "field 'phase'",
        '{"type": "export"}': "field 'what'",
    }
    for text, name in named.items():
        assert name in page.error(text)["message"]
    page.ws.send_bytes(b"\x00\x01")
    assert "binary" in page.expect("error")["message"]
    time.sleep(1.0)  # a full rate bucket: 50 messages in a burst go through, then 50 a second
    start = time.monotonic()
    for _ in range(80):
        page.send("focus", neuron=None)
    refilled = 50 * (time.monotonic() - start)
    time.sleep(1.0)
    page.send("focus", neuron="last")
    errors = []
    while "'neuron'" not in (message := page.expect("error")["message"]):
        errors.append(message)
    assert 80 - 50 - refilled - 1 <= len(errors) <= 30 and all("too many messages" in e for e in errors)
    page.send("play")
    first = page.expect("frame", lambda m: m["epoch"] >= 1)
    later = page.expect("frame", lambda m: m["epoch"] >= first["epoch"] + 30)
    assert later["testLoss"] < first["testLoss"]


def test_a_failing_command_gets_an_error_and_the_session_goes_on(page: Page, monkeypatch: Any) -> None:
    def broken(session: Session, message: Message) -> list[Message]:
        raise RuntimeError("disk on fire")
    monkeypatch.setitem(Session._COMMANDS, "export", broken)
    assert page.request("export", "error", what="model")["message"] == "'export' failed: RuntimeError: disk on fire"
    page.send("step")
    assert page.expect("frame", lambda m: m["epoch"] == 1)["trainLoss"] is not None


def test_frames_come_at_most_30_times_a_second(page: Page) -> None:
    page.send("play")
    page.expect("frame", lambda m: m["epoch"] >= 1)
    start, frames = time.monotonic(), 0
    while time.monotonic() - start < 1.0:
        page.expect("frame")
        frames += 1
    assert 5 <= frames <= 31
    page.send("pause")
    paused = page.expect("frame", lambda m: not m["playing"])["epoch"]
    start, frames = time.monotonic(), 1
    for _ in range(40):
        page.send("step")  # 40 epochs, but not 40 frames: frames are paced too
    while page.expect("frame")["epoch"] < paused + 40:
        frames += 1
    assert frames <= 30 * (time.monotonic() - start) + 1


def test_autoplay_starts_every_new_page_training() -> None:
    with TestClient(create_app(autoplay=True)) as client, client.websocket_connect("/ws") as websocket:
        page = Page(websocket)
        assert page.expect("state")["playing"]
        assert page.expect("frame", lambda m: m["epoch"] >= 2)["playing"]


def test_serve_runs_uvicorn_on_127_0_0_1(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = f"from glassnet.playground import serve; serve(port={port}, autoplay=True)"
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/defaults", timeout=1).status_code == 200
            except httpx.TransportError:
                return False
        assert wait_until(up, 30)
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"http://127.0.0.1:{port}/" in output


def test_a_dropped_page_frees_its_session(app: Any, client: Any) -> None:
    for action in ("play", "pause", "run_many"):
        with client.websocket_connect("/ws") as websocket:
            page = Page(websocket)
            page.expect("frame")
            page.send(action)
            assert len(app.state.sessions) == 1
        assert wait_until(lambda: not app.state.sessions), action


# ---------------------------------------------------------------------------------------------- a real server

@pytest.fixture
def live_server() -> Any:
    """The app on uvicorn in a thread, on a free port of 127.0.0.1."""
    app = create_app()
    with serve_in_thread(app) as (_, port):
        yield app, port


async def _train_one_page(port: int, seed: int, epochs: int) -> list[tuple[float, Message]]:
    async with websockets_client.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as websocket:
        await websocket.send(json.dumps({"type": "set", "state": {"seed": seed, "learningRate": 0.1,
                                                                   "stopAfterEpochs": epochs}}))
        await websocket.send(json.dumps({"type": "play"}))
        frames = []
        async for text in websocket:
            message = json.loads(text)
            if message["type"] == "frame":
                frames.append((time.monotonic(), message))
                if message["stopped"] is not None:
                    return frames


def test_twenty_concurrent_pages_all_train_correctly(live_server: Any) -> None:
    app, port = live_server
    epochs = 100  # long enough that, even on a loaded machine, the last page connects before the first is done

    async def all_pages() -> list[list[tuple[float, Message]]]:
        return await asyncio.gather(*(_train_one_page(port, seed, epochs) for seed in range(100, 120)))

    pages = asyncio.run(all_pages())
    first_done = min(frames[-1][0] for frames in pages)
    for frames in pages:
        last = frames[-1][1]
        assert last["epoch"] == epochs and last["testLoss"] < 0.08 and last["testAcc"] >= 0.95  # from ≈ 0.5
        started = next(t for t, frame in frames if frame["epoch"] > 0)
        assert started < first_done  # every page was training before any page finished
        times = np.array([t for t, _ in frames])
        assert max(np.searchsorted(times, times + 1.0) - np.arange(len(times))) <= 31  # ≤ 30 frames/s
    assert wait_until(lambda: not app.state.sessions)
