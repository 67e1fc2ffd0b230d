"""Callbacks: EarlyStopping, TerminateOnNaN, StopAtThreshold, ModelCheckpoint, ProgressBar, LambdaCallback."""
from __future__ import annotations

import copy
import os
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.callbacks import (Callback, EarlyStopping, LambdaCallback, ModelCheckpoint, ProgressBar,
                                StopAtEpoch, StopAtThreshold, TerminateOnNaN)
from glassnet.train.callbacks import snapshot



def data(n: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)


def mlp(seed: int = 0, hidden: int = 6) -> nn.Sequential:
    gn.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, hidden), nn.Tanh(), nn.Linear(hidden, 1))


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def all_finite(model: nn.Module) -> bool:
    return all(np.isfinite(p._data).all() for p in model.parameters())


class Script(Callback):
    """Writes scripted values into the epoch logs as ``score`` (put it before the callback that monitors it)."""

    def __init__(self, values):
        self.values = list(values)

    def on_epoch_end(self, epoch, logs):
        logs["score"] = self.values[epoch]


class WeightRecorder(Callback):
    """The weights at the start and at the end of every epoch."""

    def __init__(self):
        self.begin, self.end = [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.begin.append(copy.deepcopy(self.model.state_dict()))

    def on_epoch_end(self, epoch, logs):
        self.end.append(copy.deepcopy(self.model.state_dict()))


def fit(model, callbacks, epochs=10, lr=0.01, X=None, y=None, **kwargs):
    if X is None:
        X, y = data()
    kwargs.setdefault("batch_size", 8)
    return gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=lr), epochs=epochs,
                  callbacks=callbacks, **kwargs)


# ------------------------------------------------------------------------------------------ EarlyStopping

def test_early_stopping_after_patience_epochs_without_improvement():
    values = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 1.0, 0.5, 0.4, 0.3]
    stop = EarlyStopping(monitor="score", patience=3)
    history = fit(mlp(), [Script(values), stop], epochs=10)
    assert history.epoch == [0, 1, 2, 3, 4, 5]  # epochs 3, 4, 5 did not beat 3.0
    assert stop.stopped_epoch == 5 and stop.best_epoch == 2 and stop.best == 3.0
    assert "early stopping" in history.stop_reason and "score" in history.stop_reason


def test_early_stopping_patience_is_reset_by_an_improvement():
    values = [5.0, 5.5, 4.0, 4.5, 4.2, 4.1, 4.3]
    history = fit(mlp(), [Script(values), EarlyStopping(monitor="score", patience=2)], epochs=7)
    assert history.epoch == [0, 1, 2, 3, 4]


def test_early_stopping_patience_zero_stops_at_the_first_stall():
    history = fit(mlp(), [Script([3.0, 2.0, 2.0, 1.0]), EarlyStopping(monitor="score", patience=0)], epochs=4)
    assert history.epoch == [0, 1, 2]


def test_early_stopping_never_fires_while_improving():
    history = fit(mlp(), [Script([5.0, 4.0, 3.0, 2.0, 1.0]), EarlyStopping(monitor="score", patience=1)],
                  epochs=5)
    assert history.epoch == [0, 1, 2, 3, 4] and history.stop_reason is None


def test_early_stopping_restores_the_best_epochs_weights_bit_exactly():
    values = [5.0, 4.0, 2.0, 3.5, 3.2, 3.1, 2.5]
    recorder = WeightRecorder()
    model = mlp()
    history = fit(model, [Script(values), recorder, EarlyStopping(monitor="score", patience=4,
                                                                  restore_best_weights=True)], epochs=7, lr=0.05)
    assert history.epoch == [0, 1, 2, 3, 4, 5, 6]
    assert same(model.state_dict(), recorder.end[2])
    assert not same(model.state_dict(), recorder.end[-1])  # the weights did move after the best epoch


def test_early_stopping_restores_the_best_weights_on_real_val_loss():
    """A wide net overfits 12 noisy points; the final model has exactly the weights, and so the val_loss, of the
    best epoch."""
    rng = np.random.default_rng(1)
    X, Xv = rng.normal(size=(12, 3)), rng.normal(size=(200, 3))
    y, yv = rng.normal(size=12), rng.normal(size=200)  # pure noise: validation loss must rise eventually
    model = nn.Sequential(nn.Linear(3, 64), nn.Tanh(), nn.Linear(64, 1))
    at_epoch_end = []
    recorder = LambdaCallback(on_epoch_end=lambda epoch, logs: at_epoch_end.append(copy.deepcopy(model.state_dict())))
    stop = EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.Adam(model.parameters(), lr=0.03), epochs=300,
                     batch_size=4, validation_data=(Xv, yv), callbacks=[recorder, stop])
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 300 and len(val) == best + 11 and len(at_epoch_end) == len(val)
    assert stop.best_epoch == best
    assert same(model.state_dict(), at_epoch_end[best])
    assert not same(model.state_dict(), at_epoch_end[-1])
    assert gn.evaluate(model, Xv, yv, loss=nn.MSELoss())["loss"] == pytest.approx(val[best], rel=1e-6)
    assert val[-1] > val[best]


def test_early_stopping_without_restore_keeps_the_last_weights():
    recorder = WeightRecorder()
    model = mlp()
    fit(model, [Script([5.0, 4.0, 2.0, 3.5, 3.2]), recorder, EarlyStopping(monitor="score", patience=2)], epochs=5)
    assert len(recorder.end) == 5
    assert same(model.state_dict(), recorder.end[-1])


def test_early_stopping_min_delta():
    values = [1.0, 0.95, 0.9, 0.85, 0.8, 0.75]
    history = fit(mlp(), [Script(values), EarlyStopping(monitor="score", patience=2, min_delta=0.1)], epochs=6)
    assert history.epoch == [0, 1, 2]  # 0.95 and 0.9 are not better than 1.0 by more than 0.1
    history = fit(mlp(), [Script(values), EarlyStopping(monitor="score", patience=2)], epochs=6)
    assert history.epoch == [0, 1, 2, 3, 4, 5]
    # a negative min_delta means the same as its absolute value
    history = fit(mlp(), [Script(values), EarlyStopping(monitor="score", patience=2, min_delta=-0.1)], epochs=6)
    assert history.epoch == [0, 1, 2]


def test_early_stopping_mode_max_and_auto():
    rising = [0.5, 0.6, 0.7, 0.7, 0.65, 0.9]
    history = fit(mlp(), [Script(rising), EarlyStopping(monitor="score", patience=2, mode="max")], epochs=6)
    assert history.epoch == [0, 1, 2, 3, 4]
    # in "min" mode a rising score never improves after the first epoch
    history = fit(mlp(), [Script(rising), EarlyStopping(monitor="score", patience=2, mode="min")], epochs=6)
    assert history.epoch == [0, 1, 2]
    # "auto" treats a monitor with "acc" in its name as one to maximise
    stop = EarlyStopping(monitor="val_accuracy")
    assert stop.mode == "max" and EarlyStopping(monitor="val_loss").mode == "min"

    class Accuracy(Script):
        def on_epoch_end(self, epoch, logs):
            logs["val_accuracy"] = self.values[epoch]

    X, y = data()
    history = fit(mlp(), [Accuracy(rising), EarlyStopping(monitor="val_accuracy", patience=2)], epochs=6,
                  validation_data=(X, y))
    assert history.epoch == [0, 1, 2, 3, 4]


def test_early_stopping_bad_arguments():
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience must be ≥ 0"):
        EarlyStopping(patience=-1)


def test_early_stopping_instance_can_be_reused():
    stop = EarlyStopping(monitor="score", patience=1)
    assert fit(mlp(), [Script([3.0, 4.0, 5.0]), stop], epochs=3).epoch == [0, 1]
    # a second fit starts from a fresh best, not the first run's 3.0
    assert fit(mlp(), [Script([9.0, 8.0, 7.0]), stop], epochs=3).epoch == [0, 1, 2]


def test_a_snapshot_is_a_deep_copy_of_model_optimizer_and_scheduler_state():
    """What EarlyStopping keeps and what TerminateOnNaN and Trainer.state_dict copy: equal values, no memory shared
    with the live state, the same types; training on leaves it as it was."""
    model = mlp()
    opt = optim.Adam(model.parameters(), lr=0.01)
    scheduler = optim.StepLR(opt, step_size=2)
    gn.fit(model, *data(), loss=nn.MSELoss(), optimizer=opt, scheduler=scheduler, epochs=1, batch_size=8)
    live = {"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": scheduler.state_dict()}
    kept = snapshot(live)
    frozen = copy.deepcopy(live)

    def leaves(tree, path=()):
        if isinstance(tree, dict):
            for key, value in tree.items():
                yield from leaves(value, path + (key,))
        elif isinstance(tree, list):
            for i, value in enumerate(tree):
                yield from leaves(value, path + (i,))
        else:
            yield path, tree

    pairs = list(zip(leaves(live), leaves(kept), leaves(frozen)))
    assert len(pairs) > 10
    for (path, value), (path_kept, copied), _ in pairs:
        assert path == path_kept and type(copied) is type(value)
        if isinstance(value, (np.ndarray, gn.Tensor)):
            a, b = (np.asarray(v._data if isinstance(v, gn.Tensor) else v) for v in (value, copied))
            assert not np.shares_memory(a, b) and np.array_equal(a, b), path
    gn.fit(model, *data(), loss=nn.MSELoss(), optimizer=opt, scheduler=scheduler, epochs=2, batch_size=8)
    for (path, _), (_, copied), (_, deep) in pairs:
        if isinstance(copied, (np.ndarray, gn.Tensor)):
            copied, deep = (np.asarray(getattr(v, "_data", v)) for v in (copied, deep))
            assert np.array_equal(copied, deep), path
        else:
            assert copied == deep, path


# ------------------------------------------------------------------------------------------ TerminateOnNaN

def exploding_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)) * 100, rng.normal(size=40) * 100


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("batch_size, lr", [(8, 1e10), (8, 1e3), (40, 1e3), (40, 1e38)])
def test_nan_loss_stops_with_the_finite_weights_of_the_epochs_start(batch_size, lr):
    """Fit adds TerminateOnNaN by default. Mini-batches (loss overflows inside an epoch) and full batches
    (the epoch's only step overflows the weights themselves) both end with the weights from the start of the
    failing epoch."""
    X, y = exploding_data()
    recorder = WeightRecorder()
    model = mlp(hidden=16)
    history = fit(model, [recorder], epochs=50, lr=lr, X=X, y=y, batch_size=batch_size)
    reason = history.stop_reason
    assert reason is not None and ("nan" in reason.lower() or "inf" in reason.lower())
    assert len(recorder.begin) < 50
    assert all_finite(model)
    assert same(model.state_dict(), recorder.begin[-1])
    assert all(np.isfinite(history.history.get("loss", [])))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_weights_that_overflow_in_the_last_step_are_rolled_back():
    X, y = exploding_data()
    recorder = WeightRecorder()
    model = mlp(hidden=16)
    history = fit(model, [recorder], epochs=50, lr=1e38, X=X, y=y, batch_size=40)
    assert not all(np.isfinite(w).all() for w in recorder.end[-1].values())  # the step really overflowed
    assert "weights became NaN or infinite at the end of epoch" in history.stop_reason
    assert same(model.state_dict(), recorder.begin[-1]) and all_finite(model)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_explicit_terminate_on_nan_is_used_once():
    X, y = exploding_data()
    calls = []

    class Counting(TerminateOnNaN):
        def on_batch_end(self, batch, logs):
            calls.append(batch)
            super().on_batch_end(batch, logs)

    model = mlp(hidden=16)
    history = fit(model, [Counting()], epochs=5, lr=1e10, X=X, y=y, batch_size=8)
    assert history.stop_reason.startswith("loss became")
    assert calls == [0, 1, 2]  # the loss overflows at batch 2; no second TerminateOnNaN was added
    assert all_finite(model)


def test_a_nan_in_the_epochs_logs_stops_with_the_state_of_the_epochs_start():
    """An epoch's logs (a validation loss, or an outside loop's own evaluation) can be NaN while every batch's loss
    and every weight is finite."""
    recorder = WeightRecorder()
    model = mlp()
    history = fit(model, [Script([1.0, 0.5, np.nan, 0.2]), recorder, TerminateOnNaN()], epochs=4)
    assert history.stop_reason.startswith("score became nan at the end of epoch 2; the weights and optimizer state")
    assert len(recorder.end) == 3 and same(model.state_dict(), recorder.begin[2])


def test_terminate_on_nan_stays_quiet_on_finite_training():
    model = mlp()
    history = fit(model, [TerminateOnNaN()], epochs=5)
    assert history.stop_reason is None and history.epoch == [0, 1, 2, 3, 4]


# ------------------------------------------------------------------------------------------ StopAtThreshold

def test_stop_at_threshold_on_the_training_loss():
    X, y = data(64)
    model = mlp()
    bound = 0.05
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.Adam(model.parameters(), lr=0.05),
                     epochs=500, batch_size=8, callbacks=[StopAtThreshold("loss", bound)])
    losses = history.history["loss"]
    assert len(losses) < 500
    assert losses[-1] <= bound and all(value > bound for value in losses[:-1])
    assert "loss reached" in history.stop_reason and f"threshold {bound}" in history.stop_reason


def test_stop_at_threshold_maximises_accuracy():
    history = fit(mlp(), [Script([0.5, 0.7, 0.92, 0.95]), StopAtThreshold("score", 0.9, mode="max")], epochs=4)
    assert history.epoch == [0, 1, 2]
    history = fit(mlp(), [Script([0.5, 0.3, 0.2]), StopAtThreshold("score", 0.25)], epochs=3)
    assert history.epoch == [0, 1, 2]


def test_stop_at_epoch_ends_the_epoch_it_names_and_only_that_one():
    history = fit(mlp(), [StopAtEpoch(3)], epochs=10)
    assert history.epoch == [0, 1, 2] and history.stop_reason == "stopped after 3 epochs"
    assert fit(mlp(), [StopAtEpoch(3)], epochs=2).stop_reason is None
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="StopAtEpoch: epochs must be an integer ≥ 1"):
            StopAtEpoch(bad)


def test_stop_at_threshold_missing_monitor():
    with pytest.raises(ValueError, match="StopAtThreshold monitors 'val_mae'"):
        fit(mlp(), [StopAtThreshold("val_mae", 0.1)], epochs=2)


# ------------------------------------------------------------------------------------------ ModelCheckpoint

def test_model_checkpoint_every_epoch_with_epoch_in_the_path(tmp_path):
    recorder = WeightRecorder()
    model = mlp()
    fit(model, [recorder, ModelCheckpoint(str(tmp_path / "model-{epoch:02d}.glass"))], epochs=3)
    assert sorted(os.listdir(tmp_path)) == ["model-00.glass", "model-01.glass", "model-02.glass"]
    X, _ = data()
    for epoch in range(3):
        loaded = gn.load(tmp_path / f"model-{epoch:02d}.glass")
        assert isinstance(loaded, nn.Sequential)
        assert same(loaded.state_dict(), recorder.end[epoch])
    np.testing.assert_array_equal(gn.predict(loaded, X), gn.predict(model, X))


def test_model_checkpoint_save_best_only(tmp_path):
    recorder = WeightRecorder()
    values = [3.0, 2.0, 2.5, 1.0, 1.5]
    fit(mlp(), [Script(values), recorder, ModelCheckpoint(str(tmp_path / "ck-{epoch}.glass"), monitor="score",
                                                          save_best_only=True)], epochs=5)
    assert sorted(os.listdir(tmp_path)) == ["ck-0.glass", "ck-1.glass", "ck-3.glass"]
    for epoch in (0, 1, 3):
        assert same(gn.load(tmp_path / f"ck-{epoch}.glass").state_dict(), recorder.end[epoch])

    # one fixed path: it ends holding the best epoch
    fixed = tmp_path / "best.glass"
    recorder = WeightRecorder()
    fit(mlp(), [Script(values), recorder, ModelCheckpoint(str(fixed), monitor="score", save_best_only=True)],
        epochs=5)
    assert same(gn.load(fixed).state_dict(), recorder.end[3])
    assert not same(gn.load(fixed).state_dict(), recorder.end[4])


def test_model_checkpoint_log_names_in_the_path_and_max_mode(tmp_path):
    X, y = data()
    fit(mlp(), [Script([0.2, 0.4, 0.3]), ModelCheckpoint(str(tmp_path / "acc-{score:.1f}.glass"), monitor="score",
                                                         save_best_only=True, mode="max")],
        epochs=3, validation_data=(X, y))
    assert sorted(os.listdir(tmp_path)) == ["acc-0.2.glass", "acc-0.4.glass"]


def test_model_checkpoint_missing_monitor(tmp_path):
    with pytest.raises(ValueError, match="ModelCheckpoint monitors 'val_loss'.*validation_data"):
        fit(mlp(), [ModelCheckpoint(str(tmp_path / "m.glass"), save_best_only=True)], epochs=1)


# ------------------------------------------------------------------------------------------ ProgressBar

def test_progress_bar_with_tqdm(capsys):
    import tqdm.auto  # noqa: F401  (installed with the test extra: this test runs the tqdm path)
    fit(mlp(), [], epochs=3, verbose=1)
    out = capsys.readouterr()
    text = out.err + out.out
    assert "3/3" in text and "epoch" in text and "loss=" in text


def test_progress_bar_fallback_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = data()
    fit(mlp(), [], epochs=3, verbose=1, validation_data=(X, y), metrics=["mae"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines, 1):
        assert line.startswith(f"epoch {epoch}/3 - loss: ")
        assert "mae: " in line and "val_loss: " in line and "val_mae: " in line


def test_progress_bar_to_a_file_and_silent_by_default(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    fit(mlp(), [], epochs=2)
    assert capsys.readouterr() == ("", "")
    with open(tmp_path / "log.txt", "w") as file:
        fit(mlp(), [ProgressBar(file=file)], epochs=2)
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "log.txt").read_text().count("epoch ") == 2
    # verbose with an explicit ProgressBar does not add a second one
    with open(tmp_path / "log2.txt", "w") as file:
        fit(mlp(), [ProgressBar(file=file)], epochs=2, verbose=1)
    assert capsys.readouterr() == ("", "")
    assert (tmp_path / "log2.txt").read_text().count("epoch ") == 2


# ------------------------------------------------------------------------------------------ LambdaCallback

def test_lambda_callback_hooks_are_called_with_the_right_epochs_and_batches():
    events = []
    callback = LambdaCallback(
        on_train_begin=lambda logs: events.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: events.append(("epoch_begin", epoch)),
        on_batch_end=lambda batch, logs: events.append(("batch", batch, logs["size"], np.isfinite(logs["loss"]))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: events.append(("train_end", sorted(logs))),
    )
    X, y = data(10)
    fit(mlp(), [callback], epochs=2, X=X, y=y, batch_size=4, validation_data=(X, y))
    epoch = [("batch", 0, 4, True), ("batch", 1, 4, True), ("batch", 2, 2, True)]
    assert events == [
        ("train_begin",),
        ("epoch_begin", 0), *epoch, ("epoch_end", 0, ["loss", "val_loss"]),
        ("epoch_begin", 1), *epoch, ("epoch_end", 1, ["loss", "val_loss"]),
        ("train_end", ["loss", "val_loss"]),
    ]


def test_lambda_callback_can_stop_training():
    callback = LambdaCallback()
    callback.on_epoch_end = lambda epoch, logs: callback.trainer.stop("enough") if epoch == 1 else None
    history = fit(mlp(), [callback], epochs=5)
    assert history.epoch == [0, 1] and history.stop_reason == "enough"


def test_a_stop_inside_an_epoch_ends_it_at_once():
    seen = []

    def on_batch_end(batch, logs):
        seen.append(batch)
        if batch == 1:
            callback.trainer.stop("halt")

    callback = LambdaCallback(on_batch_end=on_batch_end)
    history = fit(mlp(), [callback], epochs=3, batch_size=8)
    assert seen == [0, 1] and history.epoch == [] and history.stop_reason == "halt"


def test_custom_callback_sees_the_model_and_optimizer():
    seen = {}

    class Peek(Callback):
        def on_train_begin(self, logs=None):
            seen["model"], seen["optimizer"] = self.model, self.trainer.optimizer
            trainer = self.trainer
            seen["epochs"], seen["batch"], seen["samples"] = trainer.epochs, trainer.batch_size, trainer.samples

    model = mlp()
    fit(model, [Peek()], epochs=2, batch_size=5)
    assert seen["model"] is model and isinstance(seen["optimizer"], optim.SGD)
    assert (seen["epochs"], seen["batch"], seen["samples"]) == (2, 5, 32)
