"""One playground page's session, in pure Python: data, network, training, frames and inspectors.

The server keeps one `Session` per WebSocket. It passes each command to `handle(message)` (which returns the
replies), calls `work(budget_s)` to train for a bounded slice of time, and sends `frame()` at most 30 times a
second. Everything here follows PROTOCOL.md; training uses glassnet's public API only, as a PyTorch user writes
it: ``optimizer.zero_grad(); loss = loss_fn(model(x), t); loss.backward(); optimizer.step()``.
"""

from __future__ import annotations

import base64
import copy
import csv
import io
import math
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Generator, Mapping
from typing import Any

import numpy as np

import glassnet as gn
from glassnet import nn, optim

from . import heatmap, script
from .lens_panel import DIRECTIONS, PANELS, Lens
from .recipe import (HIDDEN_ACTIVATIONS, INIT_BIAS, INIT_WEIGHT, OPTIMIZERS, POINTS, REGRESSION_DATASETS,
                     data_source, head_of, hidden_layers, upload_labels)
from .state import (FEATURES, LIVE, MAX_POINTS, MAX_RUNS, MAX_SEED, MAX_UPLOAD_BYTES, NEW_DATA, State,
                    default_state, effect, limits, parse_hash, quoted, random_seed, to_hash, validate)
from .stopping import Stopping

MIN_UPLOAD_ROWS = 10
RUN_EPOCHS = 200  # run_many trains this long unless stopAfterEpochs says otherwise …
MAX_RUN_EPOCHS = 1000  # … and never longer
DEFAULT_RUNS = 10
MAX_WEIGHT = 1e6  # |value| of set_weight
MAX_COORDINATE = 1e6  # |x1|, |x2| of a point sent (inspect_neuron) or uploaded, and |label| of an uploaded point
HISTORY_LIMIT = 10_000  # history points kept between two frames
SNAPSHOTS = 32  # frames sent while training whose network is kept, so that a pause can return to the one shown


class ProtocolError(ValueError):
    """A bad message; the text names the message type and the field, and the session goes on."""


class Setup:
    """What every network of one state trains on: the split data as tensors, mini-batches, head and layers."""

    def __init__(self, state: State, points: tuple[np.ndarray, np.ndarray]) -> None:
        X, y = points
        self.head = head_of(state)
        self.features = [name for key, name in FEATURES.items() if state[key]]
        self.layers = hidden_layers(state)
        self.init_zero = state["initZero"]
        self.optimizer, self.optimizer_options = OPTIMIZERS[state["optimizer"]]
        kind, rate = state["regularization"], state["regularizationRate"]
        self.penalty = (nn.l1_penalty if kind == "L1" else nn.l2_penalty, rate) if kind != "none" and rate else None
        self.loss_fn = self.head.loss_fn()
        n_test = len(X) - len(X) * state["percTrainData"] // 100
        self.train_points, self.test_points, self.train_labels, self.test_labels = gn.data.train_test_split(
            X, y, test_size=n_test, seed=state["seed"])
        self.train_x, self.test_x = self.inputs(self.train_points), self.inputs(self.test_points)
        self.train_t, self.test_t = self.head.targets(self.train_labels), self.head.targets(self.test_labels)
        size = state["batchSize"]
        self.batches = [(self.train_x[i:i + size], self.train_t[i:i + size])
                        for i in range(0, len(self.train_points), size)]
        self.batch_size = size
        feature_grid = gn.data.features(heatmap.grid_points(), self.features).astype(np.float32)
        self.grid = gn.tensor(feature_grid)
        self.feature_grid = feature_grid
        self.feature_thumbnails = heatmap.thumbnails(feature_grid)

    def inputs(self, points: np.ndarray) -> gn.Tensor:
        return gn.tensor(gn.data.features(points, self.features).astype(np.float32))

    def build_model(self, init_seed: int) -> nn.Sequential:
        """features → [Linear, activation, (Dropout)] per hidden layer → Linear (→ Tanh), with the playground's
        initialisation: weights U(−0.5, 0.5) drawn in parameter order from `init_seed`, biases 0.1 (all 0 with
        initZero)."""
        modules: list[nn.Module] = []
        width = len(self.features)
        for out, activation, rate in self.layers:
            modules += [nn.Linear(width, out), HIDDEN_ACTIVATIONS[activation]()]
            if rate > 0:
                modules.append(nn.Dropout(rate))
            width = out
        modules.append(nn.Linear(width, self.head.outputs))
        if self.head.activation == "tanh":
            modules.append(nn.Tanh())
        model = nn.Sequential(*modules)
        rng = np.random.default_rng(init_seed)
        model.load_state_dict({
            name: np.zeros(p.shape) if self.init_zero else rng.uniform(-INIT_WEIGHT, INIT_WEIGHT, p.shape)
            if name.endswith("weight") else np.full(p.shape, INIT_BIAS) for name, p in model.named_parameters()})
        return model

    def loss(self, model: nn.Module, output: gn.Tensor, target: gn.Tensor) -> gn.Tensor:
        """The training objective: the head's loss (+ the weight penalty when regularizing)."""
        loss = self.loss_fn(output, target)
        if self.penalty is not None:
            penalty, rate = self.penalty
            loss = loss + penalty(model, rate)
        return loss

    def make_optimizer(self, model: nn.Module, lr: float) -> optim.Optimizer:
        return getattr(optim, self.optimizer)(model.parameters(), lr=lr, **self.optimizer_options)


class Run:
    """One network training on a Setup: model, optimizer, epoch and position in the epoch."""

    def __init__(self, setup: Setup, init_seed: int, lr: float) -> None:
        self.setup = setup
        self.init_seed = init_seed
        self.model = setup.build_model(init_seed)
        self.optimizer = setup.make_optimizer(self.model, lr)
        self.epoch = 0
        self.cursor = 0  # index of the next mini-batch
        self.on_step: Callable[[int], None] | None = None  # called after each optimizer step (the batch's index)

    def train_until(self, deadline: float, stopping: Stopping | None = None) -> bool:
        """Train mini-batches (at least one) until `deadline` (perf_counter) or the epoch's end; True at the end,
        or when `stopping`'s callbacks stopped training after a mini-batch."""
        model, optimizer, setup = self.model, self.optimizer, self.setup
        batches, cursor, clock = setup.batches, self.cursor, time.perf_counter
        if stopping is not None:
            stopping.before_batches()
        while True:
            x, t = batches[cursor]
            optimizer.zero_grad()
            loss = setup.loss(model, model(x), t)
            loss.backward()
            optimizer.step()
            if self.on_step is not None:
                self.on_step(cursor)
            if stopping is not None and stopping.batch_end(cursor, float(loss._data), len(x._data)):
                self.cursor = cursor + 1
                return True
            cursor += 1
            if cursor == len(batches):
                self.cursor = 0
                self.epoch += 1
                return True
            if clock() >= deadline:
                self.cursor = cursor
                return False

    def evaluate(self) -> tuple[dict[str, float | None], np.ndarray | None]:
        """Loss and accuracy on the train and test sets (head loss without penalty), and the test set's
        predicted classes (None in regression)."""
        setup, model = self.setup, self.model
        metrics: dict[str, float | None] = {}
        with nn.evaluating(model):
            for name, x, t, labels in (("train", setup.train_x, setup.train_t, setup.train_labels),
                                       ("test", setup.test_x, setup.test_t, setup.test_labels)):
                output = model(x)
                metrics[f"{name}Loss"] = _number(setup.loss_fn(output, t).item())
                predictions = setup.head.predict(output._data)  # the test set's, after the loop
                metrics[f"{name}Acc"] = None if predictions is None else \
                    np.count_nonzero(predictions == labels) / len(labels)
        return metrics, predictions

    def layers(self) -> list[dict[str, Any]]:
        """Each Linear's weights `W` (out × in) and biases `b`, for frames."""
        return [{"W": _floats(layer.weight._data), "b": _floats(layer.bias._data)} for layer in self.linears()]

    def linears(self) -> list[nn.Linear]:
        return [module for module in self.model if isinstance(module, nn.Linear)]


class Snapshot:
    """What a frame showed of a training run: its position, weights, optimizer state and metrics (copies)."""

    def __init__(self, session: Session) -> None:
        run = session.run
        self.frame_id, self.epoch, self.cursor = session.frames_sent, run.epoch, run.cursor
        self.weights = weights_of(run.model)
        self.optimizer = copy.deepcopy(run.optimizer.state_dict())
        self.metrics, self.predictions, self.stopping = session._metrics, session._test_predictions, \
            session._stopping.state()

    def restore(self, session: Session) -> None:
        run = session.run
        run.epoch, run.cursor = self.epoch, self.cursor
        run.model.load_state_dict(self.weights)
        run.optimizer.load_state_dict(copy.deepcopy(self.optimizer))
        for group in run.optimizer.param_groups:  # the learning rate is the one set now (a change applies at once)
            group["lr"] = session.state["learningRate"]
        session._metrics, session._test_predictions = self.metrics, self.predictions
        session._stopping.restore(self.stopping)
        while session._history and session._history[-1]["epoch"] > self.epoch:  # not sent yet, and undone
            session._history.pop()


def weights_of(model: nn.Module) -> dict[str, np.ndarray]:
    """A copy of every parameter's values, by name."""
    return {name: param.detach().numpy().copy() for name, param in model.named_parameters()}


def linear_names(model: nn.Sequential) -> list[str]:
    """The Sequential index of each Linear (layer l of the protocol is the l-th), as text."""
    return [name for name, module in model.named_children() if isinstance(module, nn.Linear)]


def hidden_outputs(model: nn.Sequential) -> set[int]:
    """Sequential indices of the modules whose output is a hidden layer's activation."""
    return {int(name) + 1 for name in linear_names(model)[:-1]}


def _number(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def _floats(array: np.ndarray) -> Any:
    """An array as nested lists of floats for JSON (6 decimals; NaN and infinity become null)."""
    array = np.round(np.asarray(array, dtype=np.float64), 6)
    if np.isfinite(array).all():
        return array.tolist()
    return np.where(np.isfinite(array), array, None).tolist()


def _data_lines(text: str, rows: int) -> list[int]:
    """The file line (from 1) of each of the `rows` data rows `read_points_csv` read from `text`: its non-blank rows,
    less the header if it had one."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    lines = [reader.line_num for cells in reader if any(cell.strip() for cell in cells)]
    return lines[len(lines) - rows:]


def _field(message: Mapping[str, Any], name: str, kind: type, expected: str) -> Any:
    value = message.get(name)
    if not isinstance(value, kind):
        raise ProtocolError(f"{message['type']}: field {name!r} must be {expected}, got {quoted(value)}")
    return value


def _int_field(message: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = message.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ProtocolError(f"{message['type']}: field {name!r} must be an integer from {low} to {high}, "
                            f"got {quoted(value)}")
    return value


def _finite(message: Mapping[str, Any], name: str, value: Any, limit: float = MAX_COORDINATE) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= limit:
        raise ProtocolError(f"{message['type']}: field {name!r} must be a finite number with |value| ≤ {limit:g}, "
                            f"got {quoted(value)}")
    return float(value)


def _point_field(message: Mapping[str, Any], name: str) -> np.ndarray:
    value = message.get(name)
    if not isinstance(value, list) or len(value) != 2:
        raise ProtocolError(f"{message['type']}: field {name!r} must be a point [x1, x2], got {quoted(value)}")
    return np.array([[_finite(message, name, v) for v in value]])


class Session:
    """One page's playground: the state, its data and network, training, frames and every command's reply."""

    def __init__(self, *, seed: int | None = None, autoplay: bool = False) -> None:
        """The default state (data seed `seed`, random if None); `autoplay` starts training at once."""
        self.state: State = default_state(seed)
        self.setup: Setup  # set by _new_setup, like everything below that depends on it
        self.run: Run  # the network on the page
        self.playing: bool
        self.stopped: str | None  # why training stopped by itself (a stopping criterion)
        self.frame_due = True  # something a frame shows has changed since the last frame
        self._points: tuple[np.ndarray, np.ndarray]  # all points and labels, before the split
        self._init_seeds: np.random.Generator  # the seed's stream of initialisation seeds (for reset)
        self._metrics: dict[str, float | None]
        self._test_predictions: np.ndarray | None
        self._stopping: Stopping  # the run's stopping rules: the Trainer's callbacks
        self._history: deque[dict[str, Any]] = deque(maxlen=HISTORY_LIMIT)  # points since the last frame
        self._upload: tuple[np.ndarray, np.ndarray] | None = None  # points and labels as read from the CSV
        self._focus: tuple[int, int] | None = None
        self._steps = 0  # epochs still to train for `step` commands
        self._job: Generator[None, float, dict[str, Any]] | None = None  # a running run_many
        self._job_network = 0  # the network whose setup the running run_many trains
        self._teach: dict[str, Any] | None = None
        self._snapshots: deque[Snapshot] = deque(maxlen=SNAPSHOTS)  # of the last frames sent while training
        self.frames_sent = 0  # the id of the next frame
        self.network = 0  # how many networks this session has built: a new one makes every panel stale
        self.lens = Lens()  # the lens panels' recordings of the run (reset with every new network)
        self._load_points()
        self._new_setup()
        self.playing = autoplay

    # ------------------------------------------------------------------------------------------ building

    def _load_points(self) -> None:
        """Generate the state's data set (or take the upload): all points, before the split."""
        state = self.state
        name = state[data_source(state)]
        if name == "upload":
            X, labels = self._upload
            self._points = X, upload_labels(state["problem"], labels)
            return
        noise = state["noise"] / 100
        self._points = gn.data.make_dataset(REGRESSION_DATASETS.get(name, name), POINTS[state["problem"]],
                                            noise, seed=state["seed"])

    def _new_setup(self) -> None:
        """A Setup for the current state and a network reset to the seed's first initialisation."""
        self.setup = Setup(self.state, self._points)
        self._init_seeds = np.random.default_rng(self.state["seed"])
        if self._focus is not None and not self._focus_valid(self._focus):
            self._focus = None
        self._reset(self._next_init_seed())

    def _next_init_seed(self) -> int:
        return int(self._init_seeds.integers(0, MAX_SEED + 1))

    def _reset(self, init_seed: int) -> None:
        """New weights from `init_seed`: epoch 0, history cleared, paused (as TensorFlow Playground)."""
        self.run = Run(self.setup, init_seed, self.state["learningRate"])
        self.network += 1
        self._snapshots.clear()
        self.playing = False
        self.stopped = None
        self._steps = 0
        self._teach = None
        self._stopping = Stopping(self.run)
        self._history.clear()
        self._evaluate()
        self._record()
        self.lens.reset(self)
        self.run.on_step = self.lens.batch_end

    def _evaluate(self) -> None:
        self._metrics, self._test_predictions = self.run.evaluate()
        self.frame_due = True

    def _record(self) -> None:
        self._history.append({"epoch": self.run.epoch, **self._metrics})

    # ------------------------------------------------------------------------------------------ training

    @property
    def busy(self) -> bool:
        """Whether `work` has something to do (playing, steps to take or a run_many job)."""
        return self.playing or self._steps > 0 or self._job is not None

    def work(self, budget_s: float) -> list[dict[str, Any]]:
        """Train for about `budget_s` seconds (a started mini-batch always finishes); returns replies that
        became ready."""
        deadline = time.perf_counter() + budget_s
        if self._job is not None:
            try:
                self._job.send(deadline)
            except StopIteration as finished:
                self._job = None
                if self._job_network == self.network:  # the runs are of this network's setup
                    self.lens.runs_done(finished.value)
                return [finished.value]
            return []
        while (self.playing or self._steps) and time.perf_counter() < deadline:
            self.frame_due = True
            if self.run.train_until(deadline, self._stopping):
                self._steps = max(self._steps - 1, 0)
                self._end_epoch()
        return []

    def halt(self) -> None:
        """Stop all training: play, pending steps and a run_many job (after a failure)."""
        self.playing, self._steps, self._job = False, 0, None

    def train_epochs(self, epochs: int) -> int:
        """Train `epochs` whole epochs now, or fewer if a stopping criterion fires; returns the epochs trained."""
        for done in range(1, epochs + 1):
            self.run.train_until(math.inf, self._stopping)
            if self._end_epoch():
                return done
        return epochs

    def _end_epoch(self) -> bool:
        """After an epoch, or a mini-batch whose loss was not finite: evaluate, record the history point and drive
        the stopping callbacks; True if training stopped."""
        self._evaluate()
        stopping = self._stopping
        if not stopping.stopped:  # (a mini-batch's NaN has stopped it already)
            stopping.epoch_end(self.state, self._metrics)
        if not stopping.rolled_back:  # a diverged epoch is undone: no point for it
            self._record()
        reason = self._stop_reason()
        if reason is not None:
            self.stopped, self.playing, self._steps = reason, False, 0
        self.lens.epoch_end(self)
        return reason is not None

    def _stop_reason(self) -> str | None:
        """Why a stopping callback ended training, after every callback's on_train_end (early stopping's best
        weights restored, or the state before a NaN put back), or None."""
        if not self._stopping.stopped:
            return None
        reason = self._stopping.finish()
        for group in self.run.optimizer.param_groups:  # the learning rate is the one set now, even after a rollback
            group["lr"] = self.state["learningRate"]
        self._evaluate()
        return reason

    # ------------------------------------------------------------------------------------------ messages out

    def state_message(self) -> dict[str, Any]:
        head = self.setup.head
        return {"type": "state", "state": self.state, "hash": to_hash(self.state), "network": self.network,
                "head": {"activation": head.activation, "loss": head.loss, "text": head.text},
                "initSeed": self.run.init_seed, "limits": limits(self.state["expert"]), "playing": self.playing}

    def _rows(self, points: np.ndarray, labels: np.ndarray) -> list[list[float]]:
        """[[x1, x2, label], …] as the page draws them: labels ±1 in a binary problem."""
        shown = 2 * labels - 1 if self.setup.head.activation in ("tanh", "sigmoid") else labels
        return np.column_stack([np.round(points, 4), np.round(shown, 4)]).tolist()

    def data_message(self) -> dict[str, Any]:
        setup = self.setup
        return {"type": "data", "train": self._rows(setup.train_points, setup.train_labels),
                "test": self._rows(setup.test_points, setup.test_labels),
                "classes": 3 if setup.head.activation == "softmax" else 1, "domain": list(heatmap.DOMAIN)}

    def frame(self) -> dict[str, Any]:
        """Everything the page draws now; the history since the last frame."""
        setup, run = self.setup, self.run
        with nn.evaluating(run.model):
            hidden, h = [], setup.grid
            outputs = hidden_outputs(run.model)
            for i, module in enumerate(run.model):
                h = module(h)
                if i in outputs:
                    hidden.append(h._data)
        if self._focus is None:
            output = setup.head.picture(h._data)
        else:
            layer, index = self._focus
            output = heatmap.full((setup.feature_grid if layer < 0 else hidden[layer])[:, index])
        if self.busy:
            self._snapshots.append(Snapshot(self))
        history = list(self._history)
        self._history.clear()
        self.frame_due = False
        self.frames_sent += 1
        lens = self.lens.frame_data(self)  # the open lens panels' data, when due
        return {"type": "frame", "id": self.frames_sent - 1, "network": self.network, "epoch": run.epoch,
                **self._metrics, "layers": run.layers(), "output": output,
                "neurons": [heatmap.thumbnails(values) for values in hidden],
                "features": setup.feature_thumbnails, "history": history, "confusion": self._confusion(),
                "stopped": self.stopped, "playing": self.playing, **({} if lens is None else {"lens": lens})}

    def _confusion(self) -> list[list[int]] | None:
        """Test-set counts, row = true class, column = predicted class (classes −1, +1 or 0, 1, 2)."""
        if self._test_predictions is None:
            return None
        k = self.setup.head.outputs if self.setup.head.outputs > 1 else 2
        counts = np.bincount(self.setup.test_labels * k + self._test_predictions, minlength=k * k)
        return counts.reshape(k, k).tolist()

    # ------------------------------------------------------------------------------------------ commands

    def handle(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Apply one command (a decoded JSON object); returns the replies. Raises ProtocolError for a bad one."""
        kind = message.get("type")
        handler = self._COMMANDS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            raise ProtocolError(f"unknown message type {kind!r}; expected one of {', '.join(self._COMMANDS)}")
        return handler(self, message)

    def set(self, changes: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Merge state changes (JSON values or hash text); replies: warnings, state (+ data if the points changed)."""
        new, warnings = validate(changes, self.state)
        return self._apply(new, warnings)

    def _apply(self, new: State, warnings: list[str], new_data: bool = False) -> list[dict[str, Any]]:
        source = data_source(new)
        if new[source] == "upload" and not self._upload_fits(new["problem"]):
            fallback = "reg-plane" if source == "regDataset" else ("spiral3" if new["problem"] == "multiclass"
                                                                  else "circle")
            warnings.append(f"{source} 'upload' needs uploaded points that fit problem {new['problem']!r}; "
                            f"using {fallback!r}")
            new = new | {source: fallback}
        old, self.state = self.state, new
        change = NEW_DATA if new_data else effect(old, new)
        if change == NEW_DATA:
            self._load_points()
        if change != LIVE:
            self._new_setup()
        elif new["learningRate"] != old["learningRate"]:
            for group in self.run.optimizer.param_groups:
                group["lr"] = new["learningRate"]
        self.frame_due = True
        replies = [{"type": "warning", "message": w} for w in warnings] + [self.state_message()]
        return replies + [self.data_message()] if change == NEW_DATA else replies

    def _upload_fits(self, problem: str) -> bool:
        if self._upload is None:
            return False
        try:
            upload_labels(problem, self._upload[1])
        except ValueError:
            return False
        return True

    def _on_set(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        if "hash" in message:
            return self.set(parse_hash(_field(message, "hash", str, "the URL hash as text")))
        return self.set(_field(message, "state", dict, "an object of state keys"))

    def _on_play(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        self.playing, self.stopped, self._teach = True, None, None
        self._stopping.begin()  # the stopping rules watch afresh from here
        self.frame_due = True
        return []

    def _on_pause(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Stop training; with `at` (the id of the frame the page shows), go back to where that frame was."""
        at = None if message.get("at") is None else _int_field(message, "at", 0, max(self.frames_sent - 1, 0))
        training, self.playing, self._steps = self.busy, False, 0
        if at is not None and training:
            shown = next((snapshot for snapshot in self._snapshots if snapshot.frame_id == at), None)
            if shown is not None:
                shown.restore(self)
        self._snapshots.clear()
        self.frame_due = True
        return []

    def _on_step(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Pause (at frame `at`, if given), then train one epoch, or one mini-batch with ``"what": "batch"`` (the
        server trains an epoch in slices and then sends a frame)."""
        what = message.get("what", "epoch")
        if what not in ("epoch", "batch"):
            raise ProtocolError(f"step: field 'what' must be 'epoch' or 'batch', got {quoted(what)}")
        if self.playing:
            self._on_pause(message)
        self.playing, self._teach = False, None
        if what == "epoch":
            self._steps += 1
            return []
        if self.run.train_until(-math.inf, self._stopping):  # exactly one mini-batch
            self._end_epoch()
        else:
            self._evaluate()
        return []

    def _on_reset(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._reset(self._next_init_seed())
        return [self.state_message()]

    def _on_restart(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        self._reset(random_seed())
        return [self.state_message()]

    def _on_regenerate(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """New data seed and points; the network keeps training (as TensorFlow Playground)."""
        self.state = self.state | {"seed": random_seed()}
        self._load_points()
        self.setup = self.run.setup = Setup(self.state, self._points)
        self.run.cursor = 0
        self._teach = None
        self._snapshots.clear()
        self._evaluate()
        return [self.state_message(), self.data_message()]

    def _on_upload(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Own points from a CSV file; every error names the file line (as `read_points_csv` counts rows)."""
        text = _field(message, "csv", str, "the CSV text of the points")
        try:
            X, labels = gn.data.read_points_csv(text, max_rows=MAX_POINTS, max_bytes=MAX_UPLOAD_BYTES)
            lines = _data_lines(text, len(X))
            if len(X) < MIN_UPLOAD_ROWS:
                raise ValueError(f"the file has {len(X)} data rows; at least {MIN_UPLOAD_ROWS} are needed "
                                 f"to split them into training and test data")
            too_large = np.abs(np.column_stack([X, labels])) > MAX_COORDINATE
            if too_large.any():
                row, column = np.argwhere(too_large)[0]
                raise ValueError(f"row {lines[row]}, column {('x1', 'x2', 'label')[column]!r}: "
                                 f"{np.column_stack([X, labels])[row, column]:g} is out of range (|value| ≤ "
                                 f"{MAX_COORDINATE:g})")
            upload_labels(self.state["problem"], labels, lines)
        except ValueError as e:
            raise ProtocolError(f"upload: {e}") from None
        self._upload = (X, labels)
        new, warnings = validate({data_source(self.state): "upload"}, self.state)
        return self._apply(new, warnings, new_data=True)

    def _focus_valid(self, focus: tuple[int, int]) -> bool:
        layer, index = focus
        widths = [len(self.setup.features)] + [width for width, _, _ in self.setup.layers]
        return -1 <= layer < len(widths) - 1 and 0 <= index < widths[layer + 1]

    def _on_focus(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        neuron = message.get("neuron")
        if neuron is not None:
            valid = (isinstance(neuron, list) and len(neuron) == 2
                     and all(isinstance(v, int) and not isinstance(v, bool) for v in neuron))
            if not valid or not self._focus_valid((neuron[0], neuron[1])):
                raise ProtocolError(f"focus: field 'neuron' must be null or [layer, index] of a hidden neuron "
                                    f"(layer 0…{len(self.setup.layers) - 1}) or of an input feature (layer -1), "
                                    f"got {quoted(neuron)}")
            neuron = (neuron[0], neuron[1])
        self._focus = neuron
        self.frame_due = True
        return []

    def _layer_field(self, message: Mapping[str, Any]) -> int:
        return _int_field(message, "layer", 0, len(self.setup.layers))

    def _on_inspect_neuron(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """z and a of one neuron (layer l = the l-th Linear's outputs; the last layer is the output) at a point."""
        layer = self._layer_field(message)
        width = self.setup.layers[layer][0] if layer < len(self.setup.layers) else self.setup.head.outputs
        index = _int_field(message, "index", 0, width - 1)
        point = _point_field(message, "point")
        traced = [step for step in gn.glass.trace(self.run.model, self.setup.inputs(point)) if step.kind == "Linear"]
        z, a = traced[layer].z, traced[layer].a
        if layer == len(self.setup.layers):  # the output neuron: the head's activation (of logits, if any)
            activation, a = self.setup.head.activation, self.setup.head.activate(a)
        else:
            activation = self.setup.layers[layer][1]
        z, a = float(z[0, index]), float(a[0, index])
        return [{"type": "neuron", "layer": layer, "index": index, "point": point[0].tolist(),
                 "z": _number(z), "a": _number(a), "activation": activation}]

    def _weight_address(self, message: Mapping[str, Any]) -> tuple[int, str, tuple[int, ...]]:
        """(layer, parameter name, index) of the weight or bias a message names."""
        layer = self._layer_field(message)
        linear = self.run.linears()[layer]
        row = _int_field(message, "row", 0, linear.out_features - 1)
        name = linear_names(self.run.model)[layer]
        if message.get("col") == "bias":
            return layer, f"{name}.bias", (row,)
        col = _int_field(message, "col", 0, linear.in_features - 1)
        return layer, f"{name}.weight", (row, col)

    def _on_inspect_weight(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        layer, param, index = self._weight_address(message)
        k = _int_field(message, "point", 0, len(self.setup.train_points) - 1)
        setup = self.setup
        rule = gn.glass.chain(self.run.model, setup.train_x[k:k + 1], setup.train_t[k:k + 1], setup.loss_fn,
                              param, index)
        return [{"type": "chain", "layer": layer, "row": index[0], "col": index[1] if len(index) > 1 else "bias",
                 "point": k, "dJ_da": _number(rule.dJ_da[0]), "da_dz": _number(rule.da_dz[0]),
                 "dz_dw": _number(rule.dz_dw[0]), "product": _number(rule.product),
                 "gradient": _number(rule.autodiff),
                 "paths": [{"to": p["to"], "dJ_dz": _number(p["dJ_dz"][0]), "weight": _number(p["weight"])}
                           for p in rule.paths]}]

    def _on_set_weight(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        _, param, index = self._weight_address(message)
        value = _finite(message, "value", message.get("value"), MAX_WEIGHT)
        values = weights_of(self.run.model)[param]
        values[index] = value
        self.run.model.load_state_dict({param: values}, strict=False)
        self._snapshots.clear()  # a pause must not undo the edit
        self._evaluate()
        return []

    def _on_teach(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One mini-batch in three visible steps: forward, backward, update (each needs the one before)."""
        phase = message.get("phase")
        order = {"forward": None, "backward": "forward", "update": "backward"}
        if not isinstance(phase, str) or phase not in order:
            raise ProtocolError(f"teach: field 'phase' must be 'forward', 'backward' or 'update', got {quoted(phase)}")
        done = self._teach["phase"] if self._teach else None
        if order[phase] is not None and done != order[phase]:
            raise ProtocolError(f"teach: phase {phase!r} needs phase {order[phase]!r} first")
        self.playing, self._steps = False, 0
        return [{"type": "teach", "phase": phase, **getattr(self, f"_teach_{phase}")()}]

    def _teach_forward(self) -> dict[str, Any]:
        run, setup = self.run, self.setup
        x, t = setup.batches[run.cursor]
        start = run.cursor * setup.batch_size
        self._stopping.before_batches()
        run.optimizer.zero_grad()
        with gn.glass.watch(run.model) as seen:  # each module's output, as the model's own forward computes it
            output = run.model(x)
        layers: list[dict[str, np.ndarray]] = []
        for stage in seen.layers():  # a Linear with its activation, or a Dropout after them
            if stage.kind == "Linear":
                layers.append({"z": stage.z, "a": stage.a})
            else:
                layers[-1]["a"] = stage.a
        layers[-1]["a"] = setup.head.activate(output._data)
        loss = setup.loss(run.model, output, t)
        self._teach = {"phase": "forward", "loss": loss}
        end = start + len(x._data)
        return {"batch": self._rows(setup.train_points[start:end], setup.train_labels[start:end]),
                "inputs": _floats(x._data), "layers": [{k: _floats(v) for k, v in layer.items()} for layer in layers],
                "loss": _number(loss.item())}

    def _teach_backward(self) -> dict[str, Any]:
        self._teach["loss"].backward()
        self._teach["phase"] = "backward"
        return {"gradients": [{"W": _floats(linear.weight.grad._data), "b": _floats(linear.bias.grad._data)}
                              for linear in self.run.linears()]}

    def _teach_update(self) -> dict[str, Any]:
        run = self.run
        run.optimizer.step()
        if run.on_step is not None:
            run.on_step(run.cursor)
        self._teach = None
        run.cursor += 1
        if run.cursor == len(self.setup.batches):
            run.cursor = 0
            run.epoch += 1
            self._end_epoch()
        else:
            self._evaluate()
        return {"layers": run.layers(), "epoch": run.epoch}

    def _on_run_many(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        n = _int_field(message, "n", 1, MAX_RUNS) if "n" in message else DEFAULT_RUNS
        if self._job is not None:
            raise ProtocolError("run_many: runs are already being trained; wait for their 'runs' reply")
        self._job = self._run_many(n)
        self._job_network = self.network  # whose diagnosis the runs' losses are for
        next(self._job)
        return []

    def _run_many(self, n: int) -> Generator[None, float, dict[str, Any]]:
        """Train n fresh initialisations of the current setup for a fixed number of epochs, slice by slice."""
        setup, lr = self.setup, self.state["learningRate"]
        epochs = min(self.state["stopAfterEpochs"] or RUN_EPOCHS, MAX_RUN_EPOCHS)
        seeds = np.random.default_rng([self.state["seed"], self.run.init_seed]).integers(0, MAX_SEED + 1, n)
        results = []
        deadline = yield
        for seed in seeds:
            run = Run(setup, int(seed), lr)
            while run.epoch < epochs:
                run.train_until(deadline)
                if time.perf_counter() >= deadline:
                    deadline = yield
            results.append({"initSeed": int(seed), **run.evaluate()[0]})
        return {"type": "runs", "epochs": epochs, "runs": results}

    def _on_export(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        what = message.get("what")
        name = self.state[data_source(self.state)]
        if what == "model":
            with tempfile.TemporaryDirectory() as folder:  # a path of our own: nothing from the client
                path = os.path.join(folder, "model.glass")
                gn.save(self.run.model, path)
                with open(path, "rb") as file:
                    content = file.read()
            filename, mime = f"playground-{name}-epoch{self.run.epoch}.glass", "application/octet-stream"
        elif what == "script":
            content = script.python_script(self.state, self.run.init_seed, self._points if name == "upload"
                                           else None, max(self.run.epoch, 1)).encode()
            filename, mime = f"playground_{name.replace('-', '_')}.py", "text/x-python"
        else:
            raise ProtocolError(f"export: field 'what' must be 'model' or 'script', got {quoted(what)}")
        return [{"type": "export", "what": what, "filename": filename, "mime": mime,
                 "base64": base64.b64encode(content).decode("ascii")}]

    def _on_lens(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Which lens panels the page shows (the next frame carries their data) and the landscape's directions."""
        panels = _field(message, "open", list, f"a list of panel names ({', '.join(PANELS)})")
        unknown = [p for p in panels if p not in PANELS]
        if unknown:
            raise ProtocolError(f"lens: unknown panel {quoted(unknown[0])} in 'open'; the panels are "
                                f"{', '.join(PANELS)}")
        directions = message.get("directions", "pca")
        if directions not in DIRECTIONS:
            raise ProtocolError(f"lens: field 'directions' must be 'pca' or 'random', got {quoted(directions)}")
        self.lens.choose(panels, directions)
        self.frame_due = True
        return []

    def _on_lr_find(self, message: Mapping[str, Any]) -> list[dict[str, Any]]:
        try:
            return [self.lens.lr_find(self)]
        except ValueError as e:
            raise ProtocolError(f"lr_find: {e}") from None

    _COMMANDS = {
        "set": _on_set, "play": _on_play, "pause": _on_pause, "step": _on_step, "reset": _on_reset,
        "restart": _on_restart, "regenerate": _on_regenerate, "upload": _on_upload, "focus": _on_focus,
        "inspect_neuron": _on_inspect_neuron, "inspect_weight": _on_inspect_weight, "set_weight": _on_set_weight,
        "teach": _on_teach, "run_many": _on_run_many, "export": _on_export, "lens": _on_lens, "lr_find": _on_lr_find,
    }
