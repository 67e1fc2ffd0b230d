"""The playground's state: one flat, validated dict of every control, which is also the URL hash.

`SCHEMA` lists every key (its default, its values and what a change does: new data, a network reset, or
nothing); `validate` merges changes into a state and reports each dropped or adjusted key; `to_hash` /
`from_hash` write and read the URL hash (``k=v&k=v…``, booleans ``true``/``false``, lists comma-separated).
PROTOCOL.md is the contract; this module is its executable form.
"""

from __future__ import annotations

import math
import secrets
import urllib.parse
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

# What a change of a key does to the session.
NEW_DATA = "data"
RESET = "reset"
LIVE = "none"

MAX_SEED = 2**31 - 1

# Limits the server enforces (not only the page); see PROTOCOL.md.
MAX_POINTS = 2_000
MAX_UPLOAD_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 128 * 1024
MAX_MESSAGES_PER_S = 50
MAX_FRAMES_PER_S = 30
MAX_RUNS = 20

State = dict[str, Any]


@dataclass(frozen=True)
class Key:
    """One state key: parses a JSON value or its hash text, checks it, writes it back as text."""

    default: Any
    effect: str
    optional: bool = field(default=False, kw_only=True)  # left out of the hash while at its default

    def parse(self, raw: Any, expert: bool) -> Any:
        """The checked value of `raw` (JSON value or hash text); ValueError says what is wrong."""
        raise NotImplementedError

    def clamp(self, value: Any, expert: bool) -> Any:
        """`value` brought within the limits of the given mode (only limits that depend on `expert`)."""
        return value

    clamp_reason = "without expert mode"  # what a warning of `clamp` says

    def text(self, value: Any) -> str:
        return str(value)

    def describe(self) -> dict[str, Any]:
        return {"default": self.default, "effect": self.effect}


@dataclass(frozen=True)
class Bool(Key):
    def parse(self, raw: Any, expert: bool) -> bool:
        if isinstance(raw, bool):
            return raw
        if raw in ("true", "false"):
            return raw == "true"
        raise ValueError(f"must be true or false, got {quoted(raw)}")

    def text(self, value: bool) -> str:
        return "true" if value else "false"

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"values": [False, True]}


def _number(raw: Any) -> float:
    """A finite float from a JSON number or its text."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError(f"must be a number, got {quoted(raw)}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"must be a number, got {quoted(raw)}") from None
    except OverflowError:  # an integer beyond the largest float
        value = math.inf
    if not math.isfinite(value):
        raise ValueError(f"must be a finite number within ±1.8e308, got {quoted(raw)}: out of range")
    return value


def quoted(raw: Any, limit: int = 40) -> str:
    """`raw` as a warning or an error quotes it: its repr, cut short (an integer of 400 digits is not worth
    repeating)."""
    big = isinstance(raw, int) and abs(raw) >= 10**limit
    text = f"an integer of {len(str(abs(raw)))} digits" if big else repr(raw)
    return text if len(text) <= limit + 10 else text[:limit] + "…"


@dataclass(frozen=True)
class Int(Key):
    low: int = 0
    high: int = 0
    step: int = 1
    expert_high: int | None = None

    def high_for(self, expert: bool) -> int:
        """The upper limit in force in one mode."""
        return self.expert_high if expert and self.expert_high is not None else self.high

    def parse(self, raw: Any, expert: bool) -> int:
        value = _number(raw)
        high = self.high_for(expert)
        if value != int(value) or not self.low <= value <= high or (value - self.low) % self.step:
            step = f" in steps of {self.step}" if self.step > 1 else ""
            raise ValueError(f"must be an integer from {self.low} to {high}{step}, got {quoted(raw)}")
        return int(value)

    def clamp(self, value: int, expert: bool) -> int:
        return min(value, self.high_for(expert))

    def describe(self) -> dict[str, Any]:
        extra = {"expertMax": self.expert_high} if self.expert_high is not None else {}
        return super().describe() | {"min": self.low, "max": self.high, "step": self.step} | extra


@dataclass(frozen=True)
class Noise(Int):
    """Noise 0–50 in steps of 5 from the page's slider; from a TensorFlow Playground URL any number, read as TFP
    reads it: 51–80 kept (the page widens its slider to show it), above 80 → 50, below 0 → 0."""

    def parse(self, raw: Any, expert: bool) -> int | float:
        value = _number(raw)
        if value < self.low:
            return self.low
        if value > TFP_MAX_NOISE:
            return self.high
        return int(value) if value == int(value) else value

    def clamp(self, value: int | float, expert: bool) -> int | float:
        return value

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"urlMax": TFP_MAX_NOISE}


TFP_MAX_NOISE = 80


@dataclass(frozen=True)
class Seed(Int):
    """An integer seed, or TensorFlow Playground's: a fraction with 5 decimals ("0.59704" is seed 59704); any other
    text (TFP seeds its generator with any string) is read as a fixed seed made from the text (CRC-32)."""

    def parse(self, raw: Any, expert: bool) -> int:
        try:
            value = _number(raw)
        except ValueError:
            if not isinstance(raw, str) or not raw:
                raise
            return zlib.crc32(raw.encode("utf-8", errors="surrogatepass")) & MAX_SEED
        if 0 < value < 1:
            return round(value * 100_000)
        if isinstance(raw, str) and not (value == int(value) and self.low <= value <= self.high):
            return zlib.crc32(raw.encode("utf-8", errors="surrogatepass")) & MAX_SEED  # "12.5", "-3": as TFP, a seed
        return super().parse(raw, expert)


def _float_text(value: float) -> str:
    """The shortest positional text that reads back as the same float (0.00001, not 1e-05)."""
    return np.format_float_positional(value, trim="-")


@dataclass(frozen=True)
class Float(Key):
    low: float = 0.0
    high: float = 0.0

    def parse(self, raw: Any, expert: bool) -> float:
        value = _number(raw)
        if not self.low <= value <= self.high:
            raise ValueError(f"must be from {_float_text(self.low)} to {_float_text(self.high)}, got {quoted(raw)}")
        return value

    def text(self, value: float) -> str:
        return _float_text(value)

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"min": self.low, "max": self.high}


@dataclass(frozen=True)
class Choice(Key):
    values: tuple[Any, ...] = ()

    def parse(self, raw: Any, expert: bool) -> Any:
        if isinstance(self.default, float):
            value = _number(raw)
        elif isinstance(raw, str):
            value = raw
        else:
            raise ValueError(f"must be a string, got {quoted(raw)}")
        if value not in self.values:
            raise ValueError(f"must be one of {', '.join(map(self.text, self.values))}; got {quoted(raw)}")
        return value

    def text(self, value: Any) -> str:
        return _float_text(value) if isinstance(value, float) else str(value)

    def describe(self) -> dict[str, Any]:
        return super().describe() | {"values": list(self.values)}


@dataclass(frozen=True)
class Problem(Choice):
    """The problem type in glassnet's words (``nn.PROBLEMS``: binary, multiclass, regression). TensorFlow
    Playground's URLs say ``classification`` for binary: the hash writes that word and reading takes both, so that
    the word never gets past this edge."""

    def parse(self, raw: Any, expert: bool) -> Any:
        return super().parse("binary" if raw == "classification" else raw, expert)

    def text(self, value: Any) -> str:
        return "classification" if value == "binary" else str(value)


@dataclass(frozen=True)
class ListOf(Key):
    """A list with one item per hidden layer at most (comma-separated in the hash)."""

    item: Key
    max_len: int = 6
    expert_max_len: int = 10

    def max_items(self, expert: bool) -> int:
        """The most items in force in one mode."""
        return self.expert_max_len if expert else self.max_len

    def parse(self, raw: Any, expert: bool) -> list[Any]:
        if isinstance(raw, str):
            items = raw.split(",") if raw else []
        elif isinstance(raw, (list, tuple)):
            items = list(raw)
        else:
            raise ValueError(f"must be a list or comma-separated text, got {quoted(raw)}")
        max_len = self.max_items(expert)
        if len(items) > max_len:
            raise ValueError(f"must have at most {max_len} items, got {len(items)}")
        values = []
        for i, item in enumerate(items, 1):
            try:
                values.append(self.item.parse(item, expert))
            except ValueError as e:
                raise ValueError(f"item {i} {e}") from None
        while values and values[-1] == "":  # an empty last item means nothing ("4,2" and "4,2," alike)
            values.pop()
        return values

    def clamp(self, value: list[Any], expert: bool) -> list[Any]:
        return [self.item.clamp(v, expert) for v in value[:self.max_items(expert)]]

    def text(self, value: list[Any]) -> str:
        return ",".join(self.item.text(v) for v in value)

    def describe(self) -> dict[str, Any]:
        item = {k: v for k, v in self.item.describe().items() if k not in ("default", "effect")}
        return super().describe() | {"maxItems": self.max_len, "expertMaxItems": self.expert_max_len, "item": item}


ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")
BINARY_DATASETS = ("circle", "xor", "gauss", "spiral", "sine", "upload")
MULTICLASS_DATASETS = ("spiral3", "upload")
REGRESSION_DATASETS = ("reg-plane", "reg-gauss", "upload")
LEARNING_RATES = (0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
# State key of each input feature → the name `gn.data.features` knows it by.
FEATURES = {"x": "x1", "y": "x2", "xSquared": "x1^2", "ySquared": "x2^2", "xTimesY": "x1x2",
            "sinX": "sin_x1", "sinY": "sin_x2"}

# What a teacher can hide with `<name>_hide=true` (TFP's 15 controls, and each feature: hidden = off).
HIDEABLE = ("showTestData", "discretize", "playButton", "stepButton", "resetButton", "learningRate", "activation",
            "regularization", "regularizationRate", "problem", "dataset", "percTrainData", "noise", "batchSize",
            "numHiddenLayers", *FEATURES)


@dataclass(frozen=True)
class Lesson:
    """A ready setup from the course (`tutorial=<name>`): a title, what to do and watch, and the keys it sets."""

    title: str
    text: str
    changes: Mapping[str, Any]


LESSONS: dict[str, Lesson] = {
    "linear-activation": Lesson(
        "Linear activation on the circle",
        "With a linear activation every neuron computes a weighted sum, and a sum of sums is still a straight line: "
        "press Play and the boundary stays straight, the test loss stays high. Then set Activation to Tanh or ReLU: "
        "the non-linearity lets the network bend the boundary around the inner class.",
        {"dataset": "circle", "activation": "linear", "networkShape": [4, 2]}),
    "nonlinear-activation": Lesson(
        "Non-linear activation on the circle",
        "The same network with tanh: each hidden neuron's picture is a soft edge, and the next layer mixes the edges "
        "into a closed curve. Watch the test loss fall within a few hundred epochs.",
        {"dataset": "circle", "activation": "tanh", "networkShape": [4, 2]}),
    "spiral-features": Lesson(
        "Why features matter: the spiral",
        "From X1 and X2 alone a small network struggles with the spiral. Press Play, then turn on X1², X2², "
        "sin(X1) and sin(X2): with better features the same network separates the arms much sooner. Deep learning "
        "learns such features itself, given enough layers and data.",
        {"dataset": "spiral", "networkShape": [6, 6], "learningRate": 0.03}),
    "underfitting": Lesson(
        "Underfitting: a straight line for a circle",
        "No hidden layer: the network is one weighted sum of x1 and x2 through tanh, so its boundary is a straight "
        "line, and no line separates a circle from its ring. Press Play and open the Diagnosis: both losses stay "
        "high and flat. Its experiment adds neurons (or turn on X1² and X2²: then a line in those features is a "
        "circle).",
        {"dataset": "circle", "networkShape": []}),
    "overfitting": Lesson(
        "Overfitting: little data, much noise",
        "Only 10% of the points train a large network, and the labels are noisy. Press Play: the training loss keeps "
        "falling while the test loss rises again: the network learns the noise of its few points. Show test data "
        "to see the points it has never seen. The Diagnosis names the epoch where early stopping would have "
        "stopped, and its experiment adds an L2 penalty.",
        {"dataset": "gauss", "percTrainData": 10, "noise": 50, "networkShape": [8, 8, 8], "showTestData": True,
         "learningRate": 0.1}),
    "overfitting-cured": Lesson(
        "Curing overfitting: L2, dropout, early stopping",
        "The same data and network with an L2 penalty on the weights, dropout in the hidden layers and early "
        "stopping: the penalty keeps the weights small, dropout keeps neurons from relying on each other, and "
        "training stops (with the best weights restored) when the test loss has not fallen for 50 epochs. The "
        "Diagnosis no longer finds overfitting.",
        {"dataset": "gauss", "percTrainData": 10, "noise": 50, "networkShape": [8, 8, 8], "showTestData": True,
         "learningRate": 0.1, "regularization": "L2", "regularizationRate": 0.01, "dropout": [0.2, 0.2, 0.2],
         "earlyStopping": True}),
    "learning-rate-small": Lesson(
        "A learning rate too small",
        "Each step moves the weights by the learning rate times the gradient. At 0.0001 the steps are tiny: the loss "
        "hardly moves in a thousand epochs, but it does fall, steadily (the Diagnosis says so). Raise it to 0.03 "
        "and compare, or press Find a learning rate.",
        {"dataset": "circle", "learningRate": 0.0001}),
    "learning-rate-large": Lesson(
        "A learning rate too large",
        "At 3 each step overshoots the minimum and lands higher up the other side: on this regression the loss "
        "grows without bound in the second epoch, and training stops. The Diagnosis says the loss diverges; its "
        "experiment divides the rate by 10. Lower it step by step until training settles.",
        {"problem": "regression", "regDataset": "reg-plane", "learningRate": 3.0, "batchSize": 30}),
    "vanishing-gradients": Lesson(
        "Vanishing gradients in a deep sigmoid net",
        "Six sigmoid layers: the sigmoid's slope is at most 0.25, and backpropagation multiplies one such factor per "
        "layer, so the first layers receive almost no gradient and their pictures hardly change. Press Play, then "
        "switch to ReLU and see the same depth learn. The Gradient flow panel shows each layer's gradient norm: "
        "the first layer's is thousands of times smaller than the last one's.",
        {"dataset": "circle", "activation": "sigmoid", "networkShape": [8, 8, 8, 8, 8, 8]}),
    "dead-relus": Lesson(
        "Dead ReLUs",
        "ReLU passes nothing and has slope 0 for z ≤ 0. At learning rate 3 a few large steps push the weighted sums "
        "of most neurons below zero for every point: those neurons output 0, get no gradient and never recover. "
        "Press Play and open Saturation: the share of dead units climbs towards 100%. Lower the rate or use tanh.",
        {"dataset": "circle", "loss": "crossentropy", "activation": "relu", "networkShape": [8, 8],
         "learningRate": 3.0}),
    "local-minimum": Lesson(
        "Local minima: the same network from other weights",
        "The cost surface of a network is not a bowl: from different initial weights training ends in different "
        "valleys. Press Play (training stops after 100 epochs), then Run 10× in Compare runs: the Diagnosis "
        "compares this run's loss with the restarts', and the Loss landscape shows the valley it is in.",
        {"dataset": "circle", "activation": "relu", "networkShape": [3], "learningRate": 0.1,
         "stopAfterEpochs": 100}),
}

# Every key in the order the hash is written (PROTOCOL.md's table).
SCHEMA: dict[str, Key] = {
    "problem": Problem("binary", NEW_DATA, ("binary", "regression", "multiclass")),
    "dataset": Choice("circle", NEW_DATA, BINARY_DATASETS[:-1] + MULTICLASS_DATASETS),
    "regDataset": Choice("reg-plane", NEW_DATA, REGRESSION_DATASETS),
    "percTrainData": Int(50, NEW_DATA, 10, 90, 10),
    "noise": Noise(0, NEW_DATA, 0, 50, 5),
    "batchSize": Int(10, RESET, 1, 30, expert_high=256),
    **{key: Bool(key in ("x", "y"), RESET) for key in FEATURES},
    "networkShape": ListOf([4, 2], RESET, Int(1, RESET, 1, 8, expert_high=32)),
    "learningRate": Choice(0.03, LIVE, LEARNING_RATES),
    "activation": Choice("tanh", RESET, ACTIVATIONS),
    "layerActivations": ListOf([], RESET, Choice("", RESET, ("",) + ACTIVATIONS)),
    "regularization": Choice("none", RESET, ("none", "L1", "L2")),
    "regularizationRate": Choice(0.0, RESET, REGULARIZATION_RATES),
    "optimizer": Choice("sgd", RESET, ("sgd", "momentum", "adam", "adagrad", "adadelta", "rmsprop")),
    "loss": Choice("mse", RESET, ("mse", "crossentropy")),
    "dropout": ListOf([], RESET, Float(0.0, RESET, 0.0, 0.5)),
    "earlyStopping": Bool(False, LIVE),
    "patience": Int(50, LIVE, 1, 1000),
    "stopAfterEpochs": Int(0, LIVE, 0, 10_000_000),
    "stopAtLoss": Float(0.0, LIVE, 0.0, 1e6),
    "expert": Bool(False, LIVE),
    "seed": Seed(0, NEW_DATA, 0, MAX_SEED),
    "showTestData": Bool(False, LIVE),
    "discretize": Bool(False, LIVE),
    # A teacher's keys (TensorFlow Playground's): start from zero weights, a lesson, hidden text and controls.
    "initZero": Bool(False, RESET, optional=True),
    "tutorial": Choice("", LIVE, ("",) + tuple(LESSONS), optional=True),
    "hideText": Bool(False, LIVE, optional=True),
    **{f"{name}_hide": Bool(False, RESET if name in FEATURES else LIVE, optional=True) for name in HIDEABLE},
}
DATASETS_OF_PROBLEM = {"binary": BINARY_DATASETS, "multiclass": MULTICLASS_DATASETS}
# The keys a lesson keeps (the seed, the limits and a teacher's hidden text and controls); it sets every other one
# (to its value or the default).
LESSON_BASE = ("seed", "expert", "hideText", *(f"{name}_hide" for name in HIDEABLE))


def random_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


def default_state(seed: int | None = None) -> State:
    """Every key at its default; `seed` random unless given."""
    state = {name: key.default for name, key in SCHEMA.items()}
    state["networkShape"] = list(state["networkShape"])
    state["seed"] = random_seed() if seed is None else seed
    return state


def validate(changes: Mapping[str, Any], base: State) -> tuple[State, list[str]]:
    """`base` with `changes` merged: each bad or unknown key is dropped (keeping base's value) and named in a warning.

    Values may be JSON values or their hash text. A value as text (from a URL) beyond the normal limits but within
    the expert ones turns `expert` on (TensorFlow Playground's URLs have no limits). Turning `expert` off brings the
    expert-sized keys within the normal limits; a data set that does not fit the problem falls back to the problem's
    first data set; at least one input feature stays on. Each adjustment is named in a warning too.
    """
    lesson = LESSONS.get(changes.get("tutorial")) if isinstance(changes.get("tutorial"), str) else None
    if lesson is not None:  # the lesson's whole setup first, then the other keys given with it
        setup = {name: key.default for name, key in SCHEMA.items() if name not in LESSON_BASE}
        changes = setup | dict(lesson.changes) | dict(changes)
    state = dict(base)
    warnings = []
    expert = base["expert"]
    if "expert" in changes:  # the limits of every other key depend on it
        try:
            expert = SCHEMA["expert"].parse(changes["expert"], expert)
        except ValueError as e:
            warnings.append(f"expert {e}; kept {SCHEMA['expert'].text(expert)}")
        state["expert"] = expert
    unknown = [name for name in changes if name not in SCHEMA]
    if unknown:
        listed = ", ".join(map(quoted, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        warnings.append(f"unknown key{'s' if len(unknown) > 1 else ''} {listed} ignored")
    for name, raw in changes.items():
        key = SCHEMA.get(name)
        if key is not None and name != "expert":
            try:
                state[name] = key.parse(raw, expert)
            except ValueError as e:
                if not expert and isinstance(raw, str) and "expert" not in changes and _fits_expert(key, raw):
                    # a URL (TFP's have no limits) beyond the normal ones opens as the same setup, in expert mode
                    expert = state["expert"] = True
                    state[name] = key.parse(raw, expert)
                    warnings.append(f"{name} {raw} is beyond the normal limits; expert limits are on")
                else:
                    warnings.append(f"{name} {e}; kept {key.text(state[name])}")
    for name, key in SCHEMA.items():
        clamped = key.clamp(state[name], expert)
        if clamped != state[name]:
            warnings.append(f"{name} {key.text(state[name])} exceeds the limits {key.clamp_reason}; "
                            f"now {key.text(clamped)}")
            state[name] = clamped
    fitting = DATASETS_OF_PROBLEM.get(state["problem"])
    if fitting is not None and state["dataset"] not in fitting:
        warnings.append(f"dataset {state['dataset']!r} does not fit problem {state['problem']!r}; "
                        f"using {fitting[0]!r}")
        state["dataset"] = fitting[0]
    for key in FEATURES:
        if state[f"{key}_hide"]:  # a hidden feature is no input either (as TFP)
            state[key] = False
    if not any(state[key] for key in FEATURES):
        kept = [key for key in FEATURES if base[key]]
        warnings.append(f"at least one input feature must be on; kept {', '.join(kept)}")
        state.update({key: base[key] for key in FEATURES})
    return state, warnings


def _fits_expert(key: Key, raw: str) -> bool:
    try:
        key.parse(raw, True)
    except ValueError:
        return False
    return True


def effect(old: State, new: State) -> str:
    """What going from `old` to `new` needs: NEW_DATA, RESET or LIVE (apply at once)."""
    changed = {SCHEMA[name].effect for name in SCHEMA if old[name] != new[name]}
    return next((e for e in (NEW_DATA, RESET) if e in changed), LIVE)


def to_hash(state: State) -> str:
    """The URL hash (without '#') of a valid state: every key in SCHEMA order (the teacher's keys only when set)."""
    return "&".join(f"{name}={key.text(state[name])}" for name, key in SCHEMA.items()
                    if not key.optional or state[name] != key.default)


def parse_hash(text: str) -> dict[str, str]:
    """The key → text pairs of a URL hash (with or without its '#'; percent-escapes decoded; last one wins)."""
    changes = {}
    for part in text.removeprefix("#").split("&"):
        if part:
            name, _, value = part.partition("=")
            changes[urllib.parse.unquote(name)] = urllib.parse.unquote(value)
    return changes


def from_hash(text: str, seed: int | None = None) -> tuple[State, list[str]]:
    """The state a URL hash describes, on top of the defaults (`seed` random unless given or in the hash)."""
    return validate(parse_hash(text), default_state(seed))


def limits(expert: bool) -> dict[str, Any]:
    """The limits in force in one mode (sent with every `state` message)."""
    shape: ListOf = SCHEMA["networkShape"]  # type: ignore[assignment]
    return {
        "maxLayers": shape.max_items(expert),
        "maxNeurons": shape.item.high_for(expert),
        "maxBatchSize": SCHEMA["batchSize"].high_for(expert),
        "maxDropout": SCHEMA["dropout"].item.high,
        "maxPoints": MAX_POINTS,
        "maxUploadBytes": MAX_UPLOAD_BYTES,
        "maxMessageBytes": MAX_MESSAGE_BYTES,
        "maxMessagesPerSecond": MAX_MESSAGES_PER_S,
        "maxFramesPerSecond": MAX_FRAMES_PER_S,
        "maxRuns": MAX_RUNS,
    }


def describe() -> dict[str, Any]:
    """`GET /api/defaults`: the default state (seed null = random per page), every key's values, the limits."""
    return {
        "state": default_state(0) | {"seed": None},
        "keys": {name: key.describe() for name, key in SCHEMA.items()} | {"seed": SCHEMA["seed"].describe()
                                                                          | {"default": None}},
        "limits": {"normal": limits(False), "expert": limits(True)},
        "lessons": {name: {"title": lesson.title, "text": lesson.text} for name, lesson in LESSONS.items()},
        "hideable": list(HIDEABLE),
    }
