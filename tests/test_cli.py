"""The ``glassnet`` command: train/predict/evaluate/inspect/export on CSV files, demo, playground, and one line
with a non-zero status for every user mistake."""
from __future__ import annotations

import csv
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from glassnet import cli
from glassnet.cli import commands
from glassnet.cli.model_file import load_model
from glassnet.cli.table import read_csv
from glassnet.cli.training import RichProgress

ROOT = Path(__file__).resolve().parents[1]
CLASSES = ("setosa", "versicolor", "virginica")


def run_cli(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "glassnet", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env, **kwargs)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def flowers(tmp_path_factory) -> Path:
    """Three classes named by text, two numeric columns (some cells empty) and one categorical column."""
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(300):
        c = int(rng.integers(3))
        color = ("red", "green", "blue")[c if rng.random() < 0.8 else int(rng.integers(3))]
        weight = "" if rng.random() < 0.05 else f"{rng.normal(2 * c, 0.6):.3f}"
        rows.append([f"{rng.normal(c, 0.4):.3f}", weight, color, CLASSES[c]])
    return write_csv(tmp_path_factory.mktemp("flowers") / "flowers.csv", ["size", "weight", "color", "species"], rows)


@pytest.fixture(scope="module")
def flower_model(flowers) -> Path:
    out = flowers.with_name("flowers.glass")
    assert cli.main(["train", str(flowers), "--target", "species", "--epochs", "60", "--lr", "0.01",
                     "--out", str(out)]) == 0
    return out


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


# ------------------------------------------------------------------------------------------ train, predict, …

def test_train_reports_the_test_set_and_writes_model_and_curves(flowers, tmp_path, capsys):
    out = tmp_path / "m.glass"
    assert cli.main(["train", str(flowers), "--target", "species", "--epochs", "60", "--lr", "0.01",
                     "--out", str(out)]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "run 1/1" in captured.err and "val loss" in captured.err and "val accuracy" in captured.err  # progress
    accuracy = float(re.search(r"test set \(60 rows\): accuracy (\d+\.\d)%", text).group(1))
    assert accuracy >= 85.0  # three separable classes; chance is 33%
    assert all(name in text for name in CLASSES) and "confusion matrix" in text
    confusion = [[int(n) for n in re.findall(r"\d+", line)] for line in text.splitlines()
                 if line.strip("│ ").split(" ")[0] in CLASSES]
    assert sum(map(sum, confusion)) == 60
    assert np.trace(confusion) / 60 == pytest.approx(accuracy / 100, abs=1e-3)
    assert out.exists() and (tmp_path / "m.curves.png").stat().st_size > 5000


def test_preprocessing_is_stored_with_the_model(flowers, flower_model):
    trained = load_model(str(flower_model))
    table = read_csv(flowers)
    size, weight, color = trained.preprocessor.columns
    assert (size.kind, weight.kind, color.kind) == ("numeric", "numeric", "categorical")
    sizes = np.array([float(v) for v in table.column("size")])
    assert size.mean == pytest.approx(sizes.mean()) and size.std == pytest.approx(sizes.std())
    assert color.categories == ["blue", "green", "red"]
    assert trained.target.classes == list(CLASSES) and trained.target.problem == "multiclass"
    assert trained.training["output_activation"] == "softmax" and trained.training["loss"] == "CrossEntropyLoss"
    X = trained.preprocessor.transform(table)
    assert X.shape == (300, 5)
    assert np.allclose(X[:, 0], (sizes - sizes.mean()) / sizes.std(), atol=1e-5)
    missing = [i for i, v in enumerate(table.column("weight")) if v == ""]
    assert missing and np.all(X[missing, 1] == 0.0)  # a missing number becomes the training mean
    assert np.all(X[:, 2:].sum(axis=1) == 1.0)  # one-hot


def test_predict_writes_labels_in_the_files_own_form_and_probabilities(flowers, flower_model, tmp_path, capsys):
    out = tmp_path / "preds.csv"
    assert cli.main(["predict", str(flower_model), str(flowers), "--out", str(out), "--proba"]) == 0
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["species"] + [f"species_proba_{name}" for name in CLASSES]
    assert len(rows) == 301
    labels = [row[0] for row in rows[1:]]
    probabilities = np.array([[float(v) for v in row[1:]] for row in rows[1:]])
    assert set(labels) <= set(CLASSES)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-4)
    assert [CLASSES[i] for i in probabilities.argmax(axis=1)] == labels
    truth = read_csv(flowers).column("species")
    assert np.mean(np.array(labels) == np.array(truth)) > 0.85


def test_predict_prints_to_stdout_and_columns_may_come_in_any_order(flowers, flower_model, tmp_path, capsys):
    table = read_csv(flowers)
    reordered = write_csv(tmp_path / "reordered.csv", ["color", "size", "weight"],
                          [[r[2], r[0], r[1]] for r in table.rows[:5]])
    assert cli.main(["predict", str(flower_model), str(reordered)]) == 0
    mixed = capsys.readouterr().out.splitlines()
    assert cli.main(["predict", str(flower_model), str(flowers)]) == 0
    assert mixed == capsys.readouterr().out.splitlines()[:6]


def test_evaluate_agrees_with_predict(flowers, flower_model, capsys):
    assert cli.main(["predict", str(flower_model), str(flowers)]) == 0
    labels = capsys.readouterr().out.splitlines()[1:]
    expected = np.mean(np.array(labels) == np.array(read_csv(flowers).column("species")))
    assert cli.main(["evaluate", str(flower_model), str(flowers)]) == 0
    text = capsys.readouterr().out
    assert f"(300 rows): accuracy {expected:.1%}" in text


def test_regression_reports_mse_mae_r2_in_the_targets_units(tmp_path, capsys):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=400), rng.normal(size=400)
    price = 1000 + 300 * a - 200 * b + rng.normal(0, 10, 400)
    data = write_csv(tmp_path / "houses.csv", ["a", "b", "price"], list(zip(a, b, price)))
    model = tmp_path / "houses.glass"
    assert cli.main(["train", str(data), "--target", "price", "--epochs", "150", "--lr", "0.01",
                     "--out", str(model), "--no-plot"]) == 0
    text = capsys.readouterr().out
    r2 = float(re.search(r"R² (-?\d+\.\d+)", text).group(1))
    assert r2 > 0.95
    assert cli.main(["predict", str(model), str(data)]) == 0
    predicted = np.array([float(v) for v in capsys.readouterr().out.split()[1:]])
    assert np.corrcoef(predicted, price)[0, 1] > 0.97
    assert abs(predicted.mean() - price.mean()) < 30  # in dollars, not standardised units
    assert not (tmp_path / "houses.curves.png").exists()


def test_problem_auto_detects_binary_text_labels(tmp_path, capsys):
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    data = write_csv(tmp_path / "b.csv", ["x", "spam"], [[v, "yes" if v > 0 else "no"] for v in x])
    model = tmp_path / "b.glass"
    assert cli.main(["train", str(data), "--target", "spam", "--epochs", "40", "--lr", "0.03", "--out", str(model),
                     "--no-plot"]) == 0
    trained = load_model(str(model))
    assert trained.target.problem == "binary" and trained.target.classes == ["no", "yes"]
    assert trained.architecture["outputs"] == 1 and trained.training["output_activation"] == "sigmoid"
    assert trained.training["test"]["accuracy"] > 0.9


def test_inspect_shows_layers_parameters_preprocessing_and_history(flower_model, capsys):
    assert cli.main(["inspect", str(flower_model)]) == 0
    text = capsys.readouterr().out
    trained = load_model(str(flower_model))
    total = sum(p.numel() for p in trained.model.parameters())
    assert f"{total:,} parameters" in text and total == 5 * 16 + 16 + 16 * 16 + 16 + 16 * 3 + 3
    assert "(N, 16)" in text and "(N, 3)" in text
    assert "one-hot over 3: blue, green, red" in text and "size" in text and "numeric" in text
    epochs = len(trained.training["history"]["loss"])
    assert f"training: {epochs} epochs" in text


def test_export_onnx_matches_glassnet_to_1e_5(flowers, flower_model, tmp_path, capsys):
    import onnxruntime

    out = tmp_path / "m.onnx"
    assert cli.main(["export", str(flower_model), "--onnx", str(out)]) == 0
    trained = load_model(str(flower_model))
    X = trained.preprocessor.transform(read_csv(flowers))
    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(["probabilities"], {"features": X})
    np.testing.assert_allclose(probabilities, trained.target.probabilities(trained.outputs(X)), atol=1e-5)


def test_restarts_keep_the_run_with_the_best_validation_loss(flowers, tmp_path, monkeypatch, capsys):
    from glassnet.cli import training
    trackers = []
    original = training.BestWeights.__init__

    def tracked(self):
        original(self)
        trackers.append(self)

    monkeypatch.setattr(training.BestWeights, "__init__", tracked)
    out = tmp_path / "r.glass"
    assert cli.main(["train", str(flowers), "--target", "species", "--epochs", "8", "--restarts", "3", "--out",
                     str(out), "--no-plot"]) == 0
    bests = [tracker.best for tracker in trackers]
    trained = load_model(str(out))
    assert len(bests) == 3 and len(set(bests)) == 3  # three trainings from different weights
    assert trained.training["run"] == int(np.argmin(bests))
    assert trained.training["best_val_loss"] == pytest.approx(min(bests))
    winner = trackers[int(np.argmin(bests))].weights
    assert all(np.array_equal(winner[name], value) for name, value in trained.model.state_dict().items())


def test_ctrl_c_during_training_writes_the_best_model_so_far(flowers, tmp_path, capsys, monkeypatch):
    seen = []

    def interrupt_at_epoch_5(self, epoch, logs):
        seen.append(logs["val_loss"])
        if epoch == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(RichProgress, "on_epoch_end", interrupt_at_epoch_5)
    out = tmp_path / "cut.glass"
    assert cli.main(["train", str(flowers), "--target", "species", "--epochs", "1000", "--restarts", "3",
                     "--out", str(out), "--no-plot"]) == 130
    assert "interrupted: wrote the best model so far (run 1, epoch" in capsys.readouterr().err
    training = load_model(str(out)).training
    assert training["interrupted"] and training["run"] == 0
    assert len(training["history"]["loss"]) == 5 == len(seen)
    assert training["best_val_loss"] == pytest.approx(min(seen))
    assert training["best_epoch"] == int(np.argmin(seen))


# ------------------------------------------------------------------------------------------ user mistakes

BAD_FILES = {
    "empty.csv": "",
    "header_only.csv": "a,b\n",
    "junk.csv": "a,b,y\n1,2,x\n3,oops,y\n4,5,x\n6,7,y\n",
    "all_nan.csv": "a,b,y\n1,,x\n2,NaN,y\n3,,x\n",
    "ragged.csv": "a,b,y\n1,2,x\n3,4\n",
    "one_class.csv": "a,y\n1,x\n2,x\n3,x\n",
    "unseen.csv": "size,weight,color\n1,2,purple\n",
    "not_a_model.glass": "hello\n",
}


@pytest.mark.parametrize("args, message", [
    (["train", "{dir}/missing.csv", "--target", "y", "--out", "{dir}/m.glass"], "{dir}/missing.csv: no such file"),
    (["train", "{flowers}", "--target", "price", "--out", "{dir}/m.glass"],
     "no target column 'price' (the columns are size, weight, color, species)"),
    (["train", "{dir}/empty.csv", "--target", "y", "--out", "{dir}/m.glass"], "empty.csv: the file is empty"),
    (["train", "{dir}/header_only.csv", "--target", "b", "--out", "{dir}/m.glass"], "a header but no data rows"),
    (["train", "{dir}/junk.csv", "--target", "y", "--out", "{dir}/m.glass"],
     "junk.csv, line 3: column 'b' holds 'oops' where a number is expected"),
    (["train", "{dir}/all_nan.csv", "--target", "y", "--out", "{dir}/m.glass"],
     "column 'b' has no values (every cell is empty or NaN)"),
    (["train", "{dir}/ragged.csv", "--target", "y", "--out", "{dir}/m.glass"],
     "ragged.csv, line 3: 2 fields where the header has 3"),
    (["train", "{dir}/one_class.csv", "--target", "y", "--out", "{dir}/m.glass"], "has a single class ('x')"),
    (["train", "{flowers}", "--target", "species", "--out", "{dir}/no/such/m.glass"],
     "cannot write the model: the folder {dir}/no/such does not exist"),
    (["predict", "{model}", "{dir}/unseen.csv"],
     "unseen.csv, line 2: column 'color' holds the category 'purple', not seen in training (known: 'blue', "
     "'green', 'red')"),
    (["predict", "{dir}/not_a_model.glass", "{flowers}"], "not_a_model.glass: not a glassnet model file"),
    (["inspect", "{dir}/missing.glass"], "missing.glass: no such file"),
    (["evaluate", "{model}", "{dir}/unseen.csv"], "no target column 'species'"),
    (["predict", "{regression}", "{flowers}", "--proba"], "--proba needs a classifier"),
])
def test_a_user_mistake_is_one_line_and_status_1(args, message, flowers, flower_model, tmp_path, capsys):
    for name, text in BAD_FILES.items():
        (tmp_path / name).write_text(text)
    regression = tmp_path / "r.glass"
    if "{regression}" in args:
        write_csv(tmp_path / "r.csv", ["a", "v"], [[i, i * 0.5] for i in range(40)])
        assert cli.main(["train", str(tmp_path / "r.csv"), "--target", "v", "--epochs", "1", "--out",
                         str(regression), "--no-plot"]) == 0
        capsys.readouterr()
    fill = {"dir": str(tmp_path), "flowers": str(flowers), "model": str(flower_model), "regression": str(regression)}
    argv = [arg.format(**fill) for arg in args]
    assert cli.main(argv) == 1
    line = one_error_line(capsys)
    assert line.startswith("glassnet: ") and message.format(**fill) in line


@pytest.mark.parametrize("args, message", [
    (["demo", "--epochs", "-5"], "glassnet demo: Invalid value for '--epochs': -5 is not in the range x>=1."),
    (["playground", "--port", "99999"], "Invalid value for '--port': 99999 is not in the range 0<=x<=65535."),
    (["train", "x.csv", "--target", "y", "--out", "m.glass", "--hidden", "3,x"], "'3,x' is not a comma-separated"),
    (["train", "x.csv", "--out", "m.glass"], "Missing option '--target'"),
    (["fly"], "No such command 'fly'"),
    (["demo", "nope"], "Invalid value for '[NAME]': 'nope' is not one of 'default', 'spiral'"),
])
def test_a_usage_error_is_one_line_and_status_2(args, message, capsys):
    assert cli.main(args) == 2
    line = one_error_line(capsys)
    assert message in line and line.endswith("--help)")


def test_a_model_file_of_another_kind_is_refused(tmp_path, capsys):
    import glassnet as gn
    path = tmp_path / "plain.glass"
    gn.save(gn.nn.Sequential(gn.nn.Linear(2, 1)), path)
    assert cli.main(["inspect", str(path)]) == 1
    assert one_error_line(capsys) == f"glassnet: {path}: a glassnet file, but not a model written by `glassnet train`"


def test_the_model_file_is_a_checkpoint_dict_that_gn_load_reads(flowers, flower_model):
    import glassnet as gn
    checkpoint = gn.load(flower_model)
    assert checkpoint["kind"] == "glassnet-cli-model" and checkpoint["version"] == [1, 0]
    assert isinstance(checkpoint["model"], gn.nn.Sequential)
    assert checkpoint["architecture"]["inputs"] == 5 and checkpoint["target"]["classes"] == list(CLASSES)
    assert [column["name"] for column in checkpoint["preprocessing"]] == ["size", "weight", "color"]
    assert len(checkpoint["training"]["history"]["loss"]) == len(checkpoint["training"]["history"]["epoch"]) > 0
    X = load_model(str(flower_model)).preprocessor.transform(read_csv(flowers))
    np.testing.assert_array_equal(gn.predict(checkpoint["model"], X), load_model(str(flower_model)).outputs(X))


@pytest.mark.parametrize("version, message", [
    ([1, 7], None),  # a newer minor version: additions this reader ignores
    ([2, 0], "a model file of format version 2.0, newer than this glassnet 0.1.0 reads (up to 1.x): upgrade "
             "glassnet to read it"),
    ("1.0", "a damaged glassnet model file (its version is '1.0')"),
])
def test_the_model_files_format_version_is_checked(version, message, flower_model, tmp_path, capsys):
    import glassnet as gn
    checkpoint = gn.load(flower_model)
    checkpoint["version"] = version
    path = tmp_path / "m.glass"
    gn.save(checkpoint, path)
    if message is None:
        assert cli.main(["inspect", str(path)]) == 0
        return
    assert cli.main(["inspect", str(path)]) == 1
    assert one_error_line(capsys) == f"glassnet: {path}: {message}"


# ------------------------------------------------------------------------------------------ the command itself

def test_version_and_python_dash_m_and_help_with_defaults():
    version = run_cli("--version", timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == "glassnet 0.1.0"
    helped = run_cli("--help", timeout=60)
    assert helped.returncode == 0
    for command in ("train", "predict", "evaluate", "inspect", "export", "playground", "demo"):
        assert re.search(rf"^\s+{command}\s", helped.stdout, re.M), helped.stdout
    train_help = run_cli("train", "--help", timeout=60).stdout
    assert "[default: 100; x>=1]" in train_help and "[default: 16,16]" in train_help
    assert "--early-stopping" in train_help


def test_demo_trains_the_playground_pages_default_network(capsys):
    assert cli.main(["demo", "--epochs", "40"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(r"circle, network 2-4-2-1 tanh \(the playground's default\), 40 epochs: test loss "
                         r"(\d\.\d+), test accuracy (\d+\.\d)%", line)
    assert match, line
    from glassnet.playground import Session
    session = Session(seed=0)
    shape = [layer.weight.shape for layer in session.run.linears()]
    assert shape == [(4, 2), (2, 4), (1, 2)]  # the page's network, which the demo trains
    for _ in range(40):
        session.run.train_until(float("inf"))
    metrics, _ = session.run.evaluate()
    assert float(match.group(1)) == pytest.approx(metrics["testLoss"], abs=1e-4)
    assert float(match.group(2)) == pytest.approx(100 * metrics["testAcc"], abs=0.05)


def test_demo_spiral_trains_and_prints_the_test_accuracy(capsys):
    assert cli.main(["demo", "spiral", "--epochs", "30"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(r"spiral, (\d+) epochs: test accuracy (\d+\.\d)%", line)
    assert match and 1 <= int(match.group(1)) <= 30 and float(match.group(2)) >= 85.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_playground_port_0_prints_the_real_port_and_serves_there():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    server = subprocess.Popen([sys.executable, "-m", "glassnet", "playground", "--port", "0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        line = server.stdout.readline()
        port = int(re.fullmatch(r"glassnet playground serving on http://127\.0\.0\.1:(\d+)/ \(Ctrl\+C stops it\)\n",
                                line).group(1))
        assert port != 0
        for _ in range(100):
            try:
                reply = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/api/defaults", timeout=5).read())
                break
            except OSError:
                time.sleep(0.1)
        assert reply["state"]["dataset"] == "circle"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def test_playground_on_a_busy_port_fails_before_saying_serving_on(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.main(["playground", "--port", str(port)]) == 1
        captured = capsys.readouterr()
        assert "serving on" not in captured.out
        assert f"cannot listen on 127.0.0.1:{port}: in use by another program" in captured.err


def test_playground_without_its_extra_says_how_to_install_it_from_the_checkout(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "glassnet.playground.server", None)  # as if starlette were missing
    assert cli.main(["playground", "--port", str(free_port())]) == 1
    line = one_error_line(capsys)
    assert f"pip install -e '{ROOT}[playground]'" in line and "pip install 'glassnet[" not in line


def test_without_click_the_command_says_how_to_install_its_extra(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "glassnet.cli.commands", None)
    assert cli.main(["--help"]) == 1
    assert f"pip install -e '{ROOT}[cli]'" in capsys.readouterr().err


def test_main_module_is_the_entry_point():
    assert commands.main.__module__ == "glassnet.cli.commands" and cli.main.__module__ == "glassnet.cli"
    text = (ROOT / "pyproject.toml").read_text()
    assert 'glassnet = "glassnet.cli:main"' in text


def test_playground_listens_on_this_machine_only_and_starts_paused_by_default(monkeypatch, capsys):
    import uvicorn
    served = {}

    def record(self, sockets):
        served.update(autoplay=self.config.app.state.autoplay, address=sockets[0].getsockname())
        sockets[0].close()

    monkeypatch.setattr(uvicorn.Server, "run", record)
    assert cli.main(["playground", "--port", "0"]) == 0
    assert served["autoplay"] is False and served["address"][0] == "127.0.0.1"
    assert f"serving on http://127.0.0.1:{served['address'][1]}/" in capsys.readouterr().out
    assert cli.main(["playground", "--port", "0", "--play"]) == 0
    assert served["autoplay"] is True


def test_demo_name_runs_an_example_of_the_checkout(tmp_path, monkeypatch, capsys):
    from glassnet.cli import demos
    assert {"choose_hidden_layers", "see_inside_digits", "see_inside_spiral"} <= set(demos.names())
    (tmp_path / "hello.py").write_text("import sys\nprint('hello from', sys.argv[0].rsplit('/', 1)[-1], __name__)\n")
    monkeypatch.setattr(demos, "EXAMPLES", tmp_path)
    assert demos.run("hello", epochs=1, seed=0) == "ran examples/hello.py"
    assert capsys.readouterr().out == "hello from hello.py __main__\n"
