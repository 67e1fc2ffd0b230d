"""The playground's lens panels: loss landscape, gradient flow, saturation and diagnosis of the session's run, and
the learning-rate finder, all computed by `glassnet.lens` (PROTOCOL.md: `lens`, `lr_find`, `frame.lens`).

`Lens` records what the panels need while the run trains (a `GradientFlow` driven by the session's mini-batch
steps, the weights at the recorded epochs as the landscape's trajectory, the train/test loss per epoch for
`diagnose`) and computes the open panels' data for frames, within a time budget: while training, at most every
`LIVE_INTERVAL_S` and at most `LIVE_SHARE` of the time, with the landscape at low resolution; when paused, once per
change, at full resolution. Every new network starts it afresh.
"""

from __future__ import annotations

import logging
import math
import time
from array import array
from collections.abc import Mapping
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from glassnet import lens, optim

from .state import LEARNING_RATES, MAX_RUNS, REGULARIZATION_RATES, SCHEMA, State, validate

if TYPE_CHECKING:
    from .session import Run, Session

log = logging.getLogger(__name__)
PANELS = ("landscape", "gradients", "saturation", "diagnosis")
DIRECTIONS = ("pca", "random")
LIVE_RESOLUTION = 11  # the landscape's grid while training …
FULL_RESOLUTION = 41  # … and when paused (smaller when a grid point costs too much: see `_resolution`)
LIVE_BUDGET_S = 0.02  # the most one live landscape may take (its resolution is lowered to fit) …
PAUSED_BUDGET_S = 0.3  # … and one when paused
LIVE_INTERVAL_S = 0.2  # while training the panels are recomputed at most every 0.2 s …
LIVE_SHARE = 0.1  # … and take at most a tenth of the time
FULL_EPOCHS = 10  # the gradient flow records every epoch up to here, then every `stride`-th (10, 20, 40 … apart)
MAX_RECORDS = 200  # recorded epochs kept (gradient flow and trajectory): beyond, every other one is dropped
MAX_CURVE = 50_000  # epochs of train/test loss kept for the diagnosis: beyond, the oldest half is dropped
HISTOGRAM_BINS = 30
LR_FIND = {"start_lr": LEARNING_RATES[0], "end_lr": LEARNING_RATES[-1], "num_iter": 100}  # the playground's rates
LR_FIND_BATCH = 256  # the finder's mini-batch: the playground's (1–30 points) make its 100 losses too noisy
KEY_NAMES = {"learningRate": "learning rate", "networkShape": "hidden layers", "activation": "activation",
             "regularization": "regularization", "regularizationRate": "regularization rate",
             "xSquared": "feature X1²", "ySquared": "feature X2²"}


def _floats(values: Any) -> Any:
    """An array as nested lists of floats with 6 significant digits (gradient norms of a vanishing net are 1e-7 and
    less: decimals would make them 0); NaN and infinity become null."""
    array_ = np.asarray(values, dtype=np.float64)
    if array_.ndim == 0:
        return _number(float(f"{array_:.6g}"))
    return [_floats(row) for row in array_] if array_.ndim > 1 else \
        [float(f"{v:.6g}") if math.isfinite(v) else None for v in array_.tolist()]


def _number(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def layer_names(count: int) -> list[str]:
    """The names the page shows for `count` layers of weights: hidden layer 1 … n, then the output layer."""
    return [f"hidden layer {i + 1}" for i in range(count - 1)] + ["output layer"]


class Lens:
    """What one session's lens panels show, recorded while its run trains and computed for frames."""

    def __init__(self) -> None:
        self.open: set[str] = set()  # the panels the page shows (the others cost nothing)
        self.directions = "pca"
        self.run: Run | None = None
        self._key: Any = None  # what the last data sent was computed from (None: send again)
        self._last_live = -math.inf
        self._cost = 0.0  # seconds the last computation took
        self._point_cost: float | None = None  # seconds per landscape grid point, measured

    # ------------------------------------------------------------------------------------------ recording

    def reset(self, session: Session) -> None:
        """A new network: nothing recorded for the old one is kept."""
        run = self.run = session.run
        self.flow = lens.GradientFlow(snapshots=True)
        self.flow.set_trainer(SimpleNamespace(model=run.model, module=run.model))  # GradientFlow reads only these
        self.flow.on_train_begin()
        self.epochs: list[int] = []  # the epoch count at the end of each recorded epoch
        self.stride = FULL_EPOCHS
        self.curve_start = run.epoch + 1  # the epoch of the curves' first value (diagnose counts epochs from 1)
        self.curves = {"loss": array("d"), "val_loss": array("d")}
        self.runs: list[float] | None = None  # final training losses of run_many's restarts
        self._position = -1  # the last mini-batch trained (epoch · batches + index)
        self._open_epoch: int | None = None
        self._begin_epoch(run.epoch)
        self._key = None

    def _begin_epoch(self, epoch: int) -> None:
        if epoch < FULL_EPOCHS or epoch % self.stride == 0:
            self.flow.on_epoch_begin(epoch)
            self._open_epoch = epoch
        else:
            self._open_epoch = None

    def _append_losses(self, session: Session) -> None:
        for key, metric in (("loss", "trainLoss"), ("val_loss", "testLoss")):
            value = session._metrics[metric]
            self.curves[key].append(math.nan if value is None else value)
        if len(self.curves["loss"]) > MAX_CURVE:
            drop = MAX_CURVE // 2
            for values in self.curves.values():
                del values[:drop]
            self.curve_start += drop

    def batch_end(self, index: int) -> None:
        """After the optimizer's step on mini-batch `index` of the run's current epoch (`Run.on_step`)."""
        run = self.run
        position = run.epoch * len(run.setup.batches) + index
        if position <= self._position:  # the run went back (a pause returned to the frame shown)
            self._rewind(run.epoch)
        self._position = position
        if self._open_epoch == run.epoch:
            with np.errstate(all="ignore"):  # a diverging run's norms overflow: recorded as they are
                self.flow.on_batch_end(index, {})

    def epoch_end(self, session: Session) -> None:
        """After each epoch (the session's metrics are this epoch's)."""
        done = session.run.epoch
        if self.curve_start + len(self.curves["loss"]) > done:
            self._rewind(done - 1)
        self._append_losses(session)
        if self._open_epoch == done - 1:
            self.flow.on_epoch_end(done - 1, {})
            self.epochs.append(done)
            if len(self.epochs) > MAX_RECORDS:
                self._thin()
        self._begin_epoch(done)
        self._key = None

    def _thin(self) -> None:
        """Every other recorded epoch dropped (the latest kept); later epochs are recorded half as often."""
        keep = list(range(len(self.epochs) - 1, -1, -2))[::-1]
        self.epochs = [self.epochs[i] for i in keep]
        for records in (*self.flow.grad_norms.values(), *self.flow.update_ratios.values()):
            records[:] = [records[i] for i in keep]
        self.flow.trajectory[1:] = [self.flow.trajectory[i + 1] for i in keep]  # [0]: the initial weights
        self.stride *= 2

    def _rewind(self, epoch: int, at_epoch_start: bool = False) -> None:
        """Forget what was recorded after `epoch` epochs (the run is back there; `at_epoch_start`: at the start of
        its next epoch, which is then recorded as usual)."""
        count = sum(1 for e in self.epochs if e <= epoch)
        del self.epochs[count:]
        for records in (*self.flow.grad_norms.values(), *self.flow.update_ratios.values()):
            del records[count:]
        del self.flow.trajectory[count + 1:]
        kept = max(epoch + 1 - self.curve_start, 0)
        for values in self.curves.values():
            del values[kept:]
        self._position = -1
        self._key = None
        if at_epoch_start:
            self._begin_epoch(epoch)
        else:
            self._open_epoch = None  # the epoch under way is not recorded (its first steps were undone)

    def runs_done(self, reply: Mapping[str, Any]) -> None:
        """run_many's results (a `runs` reply of this network's setup), for the local-minimum diagnosis: their test
        losses, which `diagnose` compares with this run's last test (validation) loss."""
        self.runs = [math.nan if r["testLoss"] is None else r["testLoss"] for r in reply["runs"]]
        self._key = None

    # ------------------------------------------------------------------------------------------ commands

    def choose(self, panels: list[str], directions: str) -> None:
        """The `lens` command: which panels the page shows and the landscape's directions; sends at once."""
        self.open, self.directions, self._key = set(panels), directions, None

    def frame_data(self, session: Session) -> dict[str, Any] | None:
        """The open panels' data for the frame being made, or None if not due (or unchanged since sent). A failure
        (a bug) closes the panels and says so, once, instead of failing the frame (and training)."""
        if not self.open or self.run is not session.run:
            return None
        try:
            return self._frame_data(session)
        except Exception as error:
            log.exception("playground: the lens panels failed")
            self.open = set()
            return {"network": session.network, "epoch": session.run.epoch, "live": session.busy,
                    "error": f"the lens panels failed: {type(error).__name__}: {error}"}

    def _frame_data(self, session: Session) -> dict[str, Any] | None:
        if self.curve_start + len(self.curves["loss"]) - 1 > session.run.epoch:
            self._rewind(session.run.epoch, session.run.cursor == 0)  # a pause went back to the frame shown
        live = session.busy
        now = time.perf_counter()
        if live and now - self._last_live < max(LIVE_INTERVAL_S, self._cost / LIVE_SHARE):
            return None
        key = (session.network, id(session.setup), self.directions, frozenset(self.open),
               live, _fingerprint(session.run.model))
        if key == self._key:
            return None
        data: dict[str, Any] = {"network": session.network, "epoch": session.run.epoch, "live": live}
        saturation = None
        if self.open & {"saturation", "diagnosis"}:
            saturation = self._saturation(session)
        if "landscape" in self.open:
            data["landscape"] = self._landscape(session, live)
            if not live and data["landscape"].get("resolution", FULL_RESOLUTION) < self._resolution(False):
                session.frame_due, key = True, None  # measured now: the next frame gets the full grid
        if "gradients" in self.open:
            data["gradients"] = self.gradients()
        if "saturation" in self.open:
            data["saturation"] = saturation["layers"] if isinstance(saturation, dict) else saturation
        if "diagnosis" in self.open:
            data["diagnosis"] = self._diagnosis(session, saturation)
        self._cost = time.perf_counter() - now
        if live:
            self._last_live = now
        self._key = key
        return data

    # ------------------------------------------------------------------------------------------ panels

    def _resolution(self, live: bool) -> int:
        """The landscape's grid side: the panel's (11 live, 41 paused), lowered (odd, ≥ 5) to fit the time budget
        at the cost per grid point measured last; 11 before any measurement."""
        top = LIVE_RESOLUTION if live else FULL_RESOLUTION
        if self._point_cost is None:
            return LIVE_RESOLUTION
        side = int(math.sqrt((LIVE_BUDGET_S if live else PAUSED_BUDGET_S) / max(self._point_cost, 1e-9)))
        return max(5, min(top, side - (1 - side % 2)))

    def _landscape(self, session: Session, live: bool) -> dict[str, Any]:
        run, setup = session.run, session.setup
        if not _finite_weights(run.model):
            return {"error": "the weights are no longer finite numbers (training diverged): reset the network"}
        directions = self.directions if len(self.flow.trajectory) >= 2 else "random"
        resolution = self._resolution(live)
        start = time.perf_counter()
        landscape = lens.loss_landscape(run.model, setup.train_x, setup.train_t, setup.loss_fn,
                                        resolution=resolution, directions=directions,
                                        trajectory=self.flow.trajectory, seed=run.init_seed)
        self._point_cost = (time.perf_counter() - start) / resolution ** 2
        return {"resolution": resolution, "directions": directions, "alphas": _floats(landscape.alphas),
                "betas": _floats(landscape.betas), "losses": _floats(landscape.losses),
                "center": _number(landscape.center_loss), "path": _floats(landscape.path),
                "pathEpochs": [0] + self.epochs}

    def gradients(self) -> dict[str, Any]:
        """Per layer of weights, its gradient norm and update/weight ratio at each recorded epoch."""
        names = layer_names(len(self.flow.names))
        return {"epochs": list(self.epochs),
                "layers": [{"name": shown, "gradNorm": _floats(self.flow.grad_norms[name]),
                            "updateRatio": _floats(self.flow.update_ratios[name])}
                           for shown, name in zip(names, self.flow.names)]}

    def _saturation(self, session: Session) -> dict[str, Any] | list[dict[str, Any]]:
        """`lens.saturation` over the training set, as the page draws it (an error when the weights diverged);
        the report itself under "report" for the diagnosis."""
        if not _finite_weights(session.run.model):
            return [{"error": "the weights are no longer finite numbers (training diverged)"}]
        try:
            report = lens.saturation(session.run.model, session.setup.train_x, bins=HISTOGRAM_BINS)
        except ValueError as error:  # numpy cannot bin values too large for their spread (a saturated net)
            return [{"error": f"the histograms cannot be drawn: {error}"}]
        names = layer_names(len(report))
        layers = [{"name": shown, "activation": layer.activation,
                   "z": {"counts": layer.z_counts.tolist(), "edges": _floats(layer.z_bins)},
                   "a": {"counts": layer.a_counts.tolist(), "edges": _floats(layer.a_bins)},
                   "deadUnits": _number(layer.dead_units), "saturatedUnits": _number(layer.saturated_units),
                   "saturatedValues": _number(layer.saturated_values)} for shown, layer in zip(names, report)]
        return {"layers": layers, "report": report}

    def history(self, stopped: str | None = None) -> Any:
        """The run's per-epoch losses as `lens.diagnose` reads them (index 0 = epoch `curve_start`); when the loss
        is no longer finite, or the session's TerminateOnNaN stopped training (`stopped`, its reason: the diverged
        epoch is then undone), with the reason a Trainer's history gives (so that one epoch is enough)."""
        curves = {key: values.tolist() for key, values in self.curves.items()}
        if curves["loss"] and not math.isfinite(curves["loss"][-1]):
            return SimpleNamespace(history=curves, stop_reason="the loss is NaN: training diverged")
        if stopped is not None and stopped.startswith("training diverged"):  # the undone epoch ends the curves
            return SimpleNamespace(history={key: [*values, math.nan] for key, values in curves.items()},
                                   stop_reason=stopped)
        return curves

    def _diagnosis(self, session: Session, saturation: Any) -> dict[str, Any]:
        state = session.state
        losses = self.curves["loss"]
        diverged = session.stopped is not None and session.stopped.startswith("training diverged")
        if len(losses) < 2 and (not losses or math.isfinite(losses[-1])) and not diverged:
            return {"findings": [], "note": "Train for a few epochs: the diagnosis reads the loss curves."}
        report = saturation["report"] if isinstance(saturation, dict) else None
        flow = self.flow if self.epochs else None
        findings = lens.diagnose(self.history(session.stopped), gradient_flow=flow, saturation_report=report,
                                 restart_losses=self.runs, settings=state, patience=state["patience"])
        note = None if self.curve_start == 1 else (f"epochs counted from epoch {self.curve_start}, the oldest "
                                                   f"the diagnosis keeps")
        return {"findings": [finding_message(f, state) for f in findings], "note": note,
                "restarts": None if self.runs is None else len(self.runs)}

    def lr_find(self, session: Session) -> dict[str, Any]:
        """`lens.lr_find` on a copy of the run's network with the session's optimizer, batch size and data (the
        running network and its optimizer untouched); `rate` is the playground's learning rate nearest (in log)
        to the suggestion."""
        run, setup = session.run, session.setup
        if not _finite_weights(run.model):
            raise ValueError("the network's weights are no longer finite numbers (training diverged): reset it first")
        factory = getattr(optim, setup.optimizer)
        result = lens.lr_find(run.model, setup.train_x, setup.train_t, setup.loss_fn,
                              optimizer=lambda params: factory(params, lr=LR_FIND["start_lr"],
                                                               **setup.optimizer_options),
                              batch_size=min(len(setup.train_points), LR_FIND_BATCH), seed=session.state["seed"],
                              **LR_FIND)
        rate = _nearest(result.suggestion, LEARNING_RATES)
        return {"type": "lr_find", "network": session.network, "lrs": _floats(result.lrs),
                "losses": _floats(result.losses), "smoothed": _floats(result.smoothed),
                "suggestion": _number(result.suggestion), "rate": rate,
                "divergedAt": None if result.diverged_at is None else _number(result.diverged_at)}


def _fingerprint(model: Any) -> int:
    return hash(b"".join(p._data.tobytes() for p in model.parameters()))


def _finite_weights(model: Any) -> bool:
    return all(np.isfinite(p._data).all() for p in model.parameters())


# ------------------------------------------------------------------------------------------------ experiments

def finding_message(finding: lens.Finding, state: State) -> dict[str, Any]:
    """A finding as the page shows it (`Finding.to_dict`, numbers finite), its experiment made concrete."""
    message = finding.to_dict()
    numbers = {name: _number(float(value)) for name, value in message["numbers"].items()}
    return message | {"numbers": numbers, "experiment": experiment(finding.experiment, state)}


def experiment(plan: Mapping[str, Any], state: State) -> dict[str, Any] | None:
    """A finding's experiment (``{"set": {…}, "scale": {key: factor}, "run_many": n}``, see `lens.Finding`) as the
    page applies it: ``{"label", "set": {state keys}}`` or ``{"label", "command": {"type": "run_many", "n": n}}``;
    rates become the nearest allowed ones; None when there is nothing to try (or it would change nothing)."""
    if plan.get("run_many"):
        n = min(int(plan["run_many"]), MAX_RUNS)
        return {"label": f"Run {n}× from new random weights", "command": {"type": "run_many", "n": n}}
    changes = dict(plan.get("set", {}))
    for key, factor in plan.get("scale", {}).items():
        changes[key] = state[key] * factor
    for key, allowed in (("learningRate", LEARNING_RATES), ("regularizationRate", REGULARIZATION_RATES)):
        if key in changes:
            changes[key] = _nearest(float(changes[key]), allowed)
    new, _ = validate({key: value for key, value in changes.items() if key in SCHEMA}, state)
    concrete = {key: new[key] for key in changes if key in SCHEMA and new[key] != state[key]}
    if not concrete:
        return None
    label = ", ".join(_setting_text(key, value) for key, value in concrete.items())
    return {"label": f"Try {label}", "set": concrete}


def _nearest(value: float, allowed: tuple[float, ...]) -> float:
    """The allowed rate nearest to `value` in log (0 only for 0)."""
    positive = [rate for rate in allowed if rate > 0]
    if value <= 0:
        return 0.0 if 0.0 in allowed else positive[0]
    return min(positive, key=lambda rate: abs(math.log10(rate) - math.log10(value)))


def _setting_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return f"{KEY_NAMES.get(key, key)} {'on' if value else 'off'}"
    if value == [] and key == "layerActivations":
        return "the same activation in every layer"
    return f"{KEY_NAMES.get(key, key)} {SCHEMA[key].text(value)}"
