"""gn.Trainer: data forms, overridable steps (a GAN, an autoencoder), callbacks' view of the trainer, progress,
and fit's edges (NaN hyperparameters, overflow in the cast, NaN recovery of the optimizer state, Ctrl-C,
probability targets)."""
from __future__ import annotations

import copy
import io
import math
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.callbacks import (Callback, EarlyStopping, LambdaCallback, ModelCheckpoint, ProgressBar,
                                StopAtThreshold, TerminateOnNaN)


def regression_data(n: int = 24, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=n)


def mlp(inputs: int = 3, outputs: int = 1, seed: int = 0, hidden: int = 5) -> nn.Sequential:
    gn.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, outputs))


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def same_tree(a, b) -> bool:
    """Equal nested dicts/lists of arrays and numbers (optimizer state dicts)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same_tree(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_tree(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return a == b


class Rows:
    """A Dataset in torch's sense (``__len__``, ``__getitem__``): one (x, y) pair per index."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i], self.y[i]


class Batches:
    """A DataLoader in torch's sense: iterable, yields (x, y) batches in order, again on every pass."""

    def __init__(self, X, y, batch_size):
        self.X, self.y, self.batch_size = X, y, batch_size

    def __iter__(self):
        for start in range(0, len(self.X), self.batch_size):
            yield gn.tensor(self.X[start:start + self.batch_size]), self.y[start:start + self.batch_size]


# ------------------------------------------------------------------------------------------ data forms

def test_arrays_tuple_dataset_and_dataloader_train_alike():
    """Without shuffling, the four forms of the same data give the same batches, so the same weights and logs."""
    X, y = regression_data(20)
    results = {}
    for form, args, kwargs in [("arrays", (X, y), dict(batch_size=6)), ("tuple", ((X, y),), dict(batch_size=6)),
                               ("dataset", (Rows(X, y),), dict(batch_size=6)), ("loader", (Batches(X, y, 6),), {})]:
        model = mlp()
        trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.05),
                             metrics=["mae"])
        history = trainer.fit(*args, epochs=3, shuffle=False, **kwargs)
        results[form] = (model.state_dict(), history.history)
    for form in ("tuple", "dataset", "loader"):
        assert same(results[form][0], results["arrays"][0]), form
        for key, values in results["arrays"][1].items():
            np.testing.assert_allclose(results[form][1][key], values, rtol=1e-6, err_msg=form)


def test_a_shuffled_dataset_uses_glassnets_generator():
    X, y = regression_data(20)

    def run(seed):
        model = mlp()
        gn.manual_seed(seed)
        gn.Trainer(model, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.05)).fit(
            Rows(X, y), epochs=2, batch_size=4)
        return model.state_dict()

    assert same(run(1), run(1)) and not same(run(1), run(2))


def test_validation_data_as_a_dataset_and_evaluate_predict_on_loaders():
    X, y = regression_data(20)
    Xv, yv = regression_data(9, seed=1)
    model = mlp()
    trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer="adam", metrics=["mae"])
    history = trainer.fit(X, y, epochs=2, validation_data=Rows(Xv, yv))
    whole = gn.evaluate(model, Xv, yv, loss=nn.MSELoss(), metrics=["mae"])
    assert history.history["val_loss"][-1] == pytest.approx(whole["loss"], rel=1e-6)
    # in batches of 4, 4 and 1: the batch means weighted by batch size are the whole set's mean
    scores = trainer.evaluate(Batches(Xv, yv, 4))
    assert scores == pytest.approx(whole, rel=1e-6)
    np.testing.assert_allclose(trainer.predict(Batches(Xv, yv, 4)), gn.predict(model, Xv), rtol=1e-6)
    np.testing.assert_allclose(trainer.predict(Rows(Xv, yv), batch_size=2), gn.predict(model, Xv), rtol=1e-6)


def test_batch_size_with_a_dataloader_is_refused_and_bad_data_is_named():
    X, y = regression_data()
    trainer = gn.Trainer(mlp(), loss=nn.MSELoss(), optimizer="sgd")
    with pytest.raises(ValueError, match="a DataLoader batches its data itself"):
        trainer.fit(Batches(X, y, 4), batch_size=8)
    with pytest.raises(ValueError, match="validation_split needs arrays"):
        trainer.fit(Rows(X, y), validation_split=0.2)
    with pytest.raises(TypeError, match="X must be arrays, a Dataset or a DataLoader, got object"):
        trainer.fit(object())
    with pytest.raises(ValueError, match="the batch has no targets; pass y, or override train_step"):
        trainer.fit(X)
    with pytest.raises(ValueError, match="has no optimizer"):
        gn.Trainer(mlp(), loss=nn.MSELoss()).fit(X, y)


def test_batches_are_the_batches_fit_trains_on():
    """``Trainer.batches``, for tools that train through ``train_step`` (lr_find): fit's batches of the same data
    forms, with its checks, default size and shuffling by glassnet's generator."""
    X, y = regression_data(20)
    seen = []

    class Recording(gn.Trainer):
        def train_step(self, batch):
            seen.append([part.numpy().copy() for part in batch])
            return super().train_step(batch)

    recording, trainer = Recording(mlp(), loss=nn.MSELoss(), optimizer="sgd"), gn.Trainer(mlp(), loss=nn.MSELoss())
    gn.manual_seed(5)
    recording.fit(X, y, epochs=1, batch_size=6)
    gn.manual_seed(5)
    made = [[part.numpy() for part in batch] for batch in trainer.batches(X, y, batch_size=6)]
    assert [len(batch[0]) for batch in made] == [6, 6, 6, 2] and len(seen) == 4
    assert all(np.array_equal(a, b) for fitted, batch in zip(seen, made) for a, b in zip(fitted, batch))
    assert not np.array_equal(made[0][0], X[:6])  # shuffled
    assert [len(batch[0].numpy()) for batch in trainer.batches(np.ones((70, 3)), np.ones(70))] == [32, 32, 6]
    in_order = [batch[0].numpy() for batch in trainer.batches(Rows(X, y), batch_size=8, shuffle=False)]
    np.testing.assert_array_equal(np.concatenate(in_order), X.astype(np.float32))
    assert len(list(trainer.batches(Batches(X, y, 4)))) == 5
    with pytest.raises(ValueError, match="a DataLoader batches its data itself"):
        trainer.batches(Batches(X, y, 4), batch_size=8)
    with pytest.raises(ValueError, match="y has 5 samples but the inputs have 20"):  # at the call, not later
        trainer.batches(X, y[:5])


def test_per_epoch_logs_are_weighted_by_batch_size():
    """A step that logs its batch's size: the epoch's value is Σ size² / Σ size."""

    class Sizes(gn.Trainer):
        def train_step(self, batch):
            return {"size_logged": float(len(batch[0]))}

    history = Sizes(mlp()).fit(regression_data(10)[0], epochs=1, batch_size=4, shuffle=False)
    assert history.history["size_logged"] == [pytest.approx((16 + 16 + 4) / 10)]


# ------------------------------------------------------------------------------------------ a GAN

MODES = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.0], [0.0, -2.0]])


def mixture(n: int, seed: int = 0) -> np.ndarray:
    """n points of a 2-D mixture of four Gaussians (σ = 0.1) around MODES."""
    rng = np.random.default_rng(seed)
    return MODES[rng.integers(0, len(MODES), n)] + 0.1 * rng.normal(size=(n, 2))


class GAN(gn.Trainer):
    """Two models, two optimizers: each step updates the discriminator, then the generator."""

    def __init__(self, generator, discriminator, **kwargs):
        super().__init__(generator, **kwargs)
        self.discriminator = discriminator
        self.g_optimizer = optim.Adam(generator.parameters(), lr=3e-3, betas=(0.5, 0.999))
        self.d_optimizer = optim.Adam(discriminator.parameters(), lr=3e-3, betas=(0.5, 0.999))
        self.bce = nn.BCEWithLogitsLoss()
        self.rng = np.random.default_rng(0)

    def noise(self, n):
        return gn.tensor(self.rng.normal(size=(n, 2)).astype(np.float32))

    def train_step(self, batch):
        (real,) = batch
        ones, zeros = np.ones((len(real), 1), np.float32), np.zeros((len(real), 1), np.float32)
        fake = self.model(self.noise(len(real))).detach()
        self.d_optimizer.zero_grad()
        d_loss = self.bce(self.discriminator(real), ones) + self.bce(self.discriminator(fake), zeros)
        d_loss.backward()
        self.d_optimizer.step()
        self.g_optimizer.zero_grad()
        g_loss = self.bce(self.discriminator(self.model(self.noise(len(real)))), ones)
        g_loss.backward()
        self.g_optimizer.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


def distance_to_modes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point's distance to its nearest mode, and that mode's index."""
    distances = np.linalg.norm(points[:, None, :] - MODES[None], axis=2)
    return distances.min(axis=1), distances.argmin(axis=1)


def test_a_gan_learns_a_mixture_of_gaussians_through_a_trainer_subclass(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    gn.manual_seed(0)
    generator = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
    discriminator = nn.Sequential(nn.Linear(2, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2),
                                  nn.Linear(32, 1))
    z = np.random.default_rng(5).normal(size=(500, 2))
    before, _ = distance_to_modes(gn.predict(generator, z))
    seen = []
    gan = GAN(generator, discriminator, callbacks=[LambdaCallback(
        on_train_begin=lambda logs: seen.append(gan is seen_trainer.trainer))])
    seen_trainer = gan.callbacks[0]
    history = gan.fit(mixture(1024), epochs=60, batch_size=64, verbose=1)
    assert seen == [True]
    assert set(history.history) == {"d_loss", "g_loss"} and len(history.history["g_loss"]) == 60
    assert all(math.isfinite(v) for v in history.history["d_loss"] + history.history["g_loss"])
    lines = capsys.readouterr().out.strip().splitlines()  # the progress bar shows both losses
    assert len(lines) == 60 and "d_loss: " in lines[-1] and "g_loss: " in lines[-1]
    after, nearest = distance_to_modes(gn.predict(generator, z))
    assert np.mean(before < 0.5) < 0.05
    assert np.mean(after < 0.5) > 0.8
    assert np.bincount(nearest[after < 0.5], minlength=4).min() > 0.1 * len(z)  # every mode, no collapse
    # the trainer's state covers both models and both optimizers (by attribute name); models() the two models
    assert set(gan.state_dict()) == {"model", "discriminator", "g_optimizer", "d_optimizer"}
    assert list(gan.models()) == [generator, discriminator]  # not the loss module it also holds


# ------------------------------------------------------------------------------------------ an autoencoder

class AutoEncoder(gn.Trainer):
    """Unlabelled data: the target of every step is its input."""

    def train_step(self, batch):
        (x,) = batch
        self.optimizer.zero_grad()
        loss = self.loss(self.model(x), x)
        loss.backward()
        self.optimizer.step()
        return {"loss": loss.item()}

    def validation_step(self, batch):
        (x,) = batch
        return {"loss": self.loss(self.model(x), x).item()}


def test_an_autoencoder_with_callbacks_and_history(tmp_path):
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(2, 8))
    X = rng.normal(size=(300, 2)) @ basis  # 8-D points on a plane: a 2-unit bottleneck can reconstruct them
    Xv = rng.normal(size=(60, 2)) @ basis
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2), nn.Linear(2, 16), nn.Tanh(),
                          nn.Linear(16, 8))
    baseline = float(np.mean((Xv - Xv.mean(axis=0)) ** 2))
    trainer = AutoEncoder(model, loss=nn.MSELoss(), optimizer=optim.Adam(model.parameters(), lr=0.01),
                          callbacks=[EarlyStopping("val_loss", patience=5, restore_best_weights=True),
                                     ModelCheckpoint(str(tmp_path / "best.glass"), save_best_only=True)])
    history = trainer.fit(X, epochs=150, batch_size=32, validation_data=Xv)
    val = history.history["val_loss"]
    assert set(history.history) == {"loss", "val_loss"} and len(val) == len(history.epoch)
    assert min(val) < 0.05 * baseline
    best = trainer.evaluate(Xv)["loss"]
    assert best == pytest.approx(min(val), rel=1e-5)
    np.testing.assert_allclose(gn.predict(gn.load(tmp_path / "best.glass"), Xv), gn.predict(model, Xv), rtol=1e-6)


# ------------------------------------------------------------------------------------------ callbacks and progress

def test_callbacks_see_the_trainer_and_stop_it():
    seen = {}

    class Peek(Callback):
        def on_epoch_end(self, epoch, logs):
            seen["trainer"], seen["epoch"] = self.trainer, self.trainer.epoch
            if epoch == 2:
                self.trainer.stop("enough")

    trainer = gn.Trainer(mlp(), loss=nn.MSELoss(), optimizer="sgd", callbacks=[Peek()])
    history = trainer.fit(*regression_data(), epochs=6)
    assert seen == {"trainer": trainer, "epoch": 2}
    assert history.epoch == [0, 1, 2] and history.stop_reason == "enough" == trainer.stop_reason
    # a second fit starts afresh
    assert trainer.fit(*regression_data(), epochs=2).stop_reason is None


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_verbose_auto_shows_progress_on_a_terminal_or_a_notebook_only(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the fallback prints one line per epoch to stdout
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X, y = regression_data()

    def lines_printed(stream):
        real = sys.stdout
        sys.stdout = stream
        try:
            gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=2)
        finally:
            sys.stdout = real
        return stream.getvalue().count("epoch ")

    assert lines_printed(Terminal()) == 2
    assert lines_printed(io.StringIO()) == 0
    # in a notebook (IPython's kernel shell) stdout is no terminal, but the bar shows
    monkeypatch.setitem(sys.modules, "IPython", type(sys)("IPython"))
    sys.modules["IPython"].get_ipython = type("ZMQInteractiveShell", (), {})
    assert lines_printed(io.StringIO()) == 2
    with pytest.raises(ValueError, match="verbose must be 0, 1 or 'auto', got 'loud'"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", verbose="loud")


def test_scheduler_steps_once_per_epoch():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    gn.fit(model, *regression_data(), loss=nn.MSELoss(), optimizer=opt, epochs=5,
           scheduler=optim.StepLR(opt, step_size=2, gamma=0.5))
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 2)


def test_the_stopping_callbacks_in_a_loop_of_ones_own():
    """The playground's kind of loop: it holds a Trainer for the callbacks and calls the hooks itself."""
    X, y = regression_data(16)
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.05)
    stops = [StopAtThreshold("loss", 0.5), EarlyStopping("loss", patience=2), TerminateOnNaN()]
    trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer=opt, callbacks=stops)
    for cb in trainer.callbacks:
        cb.set_trainer(trainer)
        cb.on_train_begin()
    losses = []
    for epoch in range(500):
        trainer.epoch = epoch
        for cb in trainer.callbacks:
            cb.on_epoch_begin(epoch)
        opt.zero_grad()
        loss = nn.MSELoss()(model(gn.tensor(X)), gn.tensor(y.reshape(-1, 1)))
        loss.backward()
        opt.step()
        for cb in trainer.callbacks:
            cb.on_batch_end(0, {"loss": loss.item(), "size": len(X)})
            cb.on_epoch_end(epoch, {"loss": loss.item()})
        losses.append(loss.item())
        if trainer.stop_training:
            break
    for cb in trainer.callbacks:
        cb.on_train_end()
    assert losses[-1] <= 0.5 < min(losses[:-1]) and len(losses) < 500
    assert trainer.stop_reason.startswith("loss reached")


# ------------------------------------------------------------------------------------------ fit's edges

@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=math.nan), "SGD: lr must be .*, got nan"),
    (lambda p: optim.SGD(p, lr=math.inf), "SGD: lr must be .*, got inf"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=math.nan), "SGD: momentum must be .*nan"),
    (lambda p: optim.Adam(p, betas=(math.nan, 0.999)), r"Adam: betas.*nan"),
    (lambda p: optim.Adam(p, weight_decay=math.inf), "Adam: weight_decay must be .*inf"),
    (lambda p: optim.RMSprop(p, eps=math.nan), "RMSprop: eps must be .*nan"),
])
def test_nan_and_infinite_optimizer_hyperparameters_are_refused_before_training(make, message):
    model = mlp()
    before = copy.deepcopy(model.state_dict())  # a module's state dict shares its memory
    with pytest.raises(ValueError, match=message):
        gn.fit(model, *regression_data(), loss=nn.MSELoss(), optimizer=make, epochs=2)
    assert same(before, model.state_dict())


def test_nan_regularization_scheduler_and_callback_settings_are_refused():
    X, y = regression_data()
    model = mlp()
    with pytest.raises(ValueError, match="regularization must be .*finite rate"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd", regularization=("l2", math.nan))
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="StepLR: gamma must be a finite number, got nan"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=opt, scheduler=optim.StepLR(opt, 2, gamma=math.nan))
    plateau = optim.ReduceLROnPlateau(opt)  # its best value so far starts at inf: no setting of its own
    gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=opt, scheduler=plateau, epochs=2)
    assert plateau.best < math.inf
    with pytest.raises(ValueError, match="EarlyStopping: min_delta must be a finite number"):
        EarlyStopping(min_delta=math.nan)
    with pytest.raises(ValueError, match="StopAtThreshold: threshold must be a finite number"):
        StopAtThreshold("loss", math.nan)
    with pytest.raises(ValueError, match="validation_split"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd", validation_split=math.nan)


def test_data_are_checked_after_the_cast_to_the_models_dtype():
    X, y = regression_data()
    X[5, 1] = 1e300  # finite in float64, infinite in float32
    model = mlp()
    with pytest.raises(ValueError, match=r"X has 1 value\(s\) too large for the model's dtype float32 .*the first "
                                         r"at row 5, column 1: 1e\+300"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd")
    y[3] = -1e39
    with pytest.raises(ValueError, match=r"y has 1 value\(s\) too large .* row 3: -1e\+39"):
        gn.fit(model, X * 0, y, loss=nn.MSELoss(), optimizer="sgd")
    with pytest.raises(ValueError, match="row 5, column 1"):
        gn.predict(model, X)
    gn.fit(model.double(), X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=0)  # float64 holds them


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("lr, schedule", [(0.1, lambda opt: optim.StepLR(opt, step_size=1000)),
                                          (0.02, lambda opt: optim.ExponentialLR(opt, gamma=1.1))])
def test_terminate_on_nan_restores_the_optimizer_and_scheduler_state_of_the_last_good_epoch(lr, schedule):
    """SGD with momentum beyond stability (or a growing learning rate) diverges slowly: epochs of growing
    momentum, then a NaN."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Linear(16, 1))
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    scheduler = schedule(opt)
    at_begin = []
    recorder = LambdaCallback(on_epoch_begin=lambda epoch, logs: at_begin.append(
        copy.deepcopy((model.state_dict(), opt.state_dict(), scheduler.state_dict()))))
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=opt, scheduler=scheduler, epochs=200,
                     batch_size=8, callbacks=[recorder])
    assert history.stop_reason is not None and "became" in history.stop_reason
    weights, opt_state, sched_state = at_begin[-1]
    assert len(at_begin) > 1 and opt_state["state"]  # it failed after some good epochs, with momentum built up
    assert same(model.state_dict(), weights)
    assert same_tree(opt.state_dict(), opt_state)
    assert same_tree(scheduler.state_dict(), sched_state)
    # the optimizer's buffers are finite again, so training can go on from the good state
    assert all(np.isfinite(v).all() for entry in opt.state_dict()["state"].values() for k, v in entry.items()
               if k != "step")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_watches_every_logged_value_of_a_custom_step():
    class Diverging(gn.Trainer):
        def train_step(self, batch):
            return {"d_loss": 1.0, "g_loss": math.nan if self.epoch == 2 else 1.0}

    history = Diverging(mlp()).fit(regression_data()[0], epochs=5)
    assert history.epoch == [0, 1] and history.stop_reason.startswith("g_loss became nan at epoch 2")


def test_keyboard_interrupt_runs_every_on_train_end_and_returns_the_history(tmp_path):
    X, y = regression_data(32)
    Xv, yv = regression_data(16, seed=1)
    ended = []

    class Interrupt(Callback):
        def on_batch_end(self, batch, logs):
            if self.trainer.epoch == 4 and batch == 1:
                raise KeyboardInterrupt

        def on_train_end(self, logs=None):
            ended.append(("interrupt", sorted(logs)))

    stop = EarlyStopping("val_loss", patience=100, restore_best_weights=True)
    recorder = LambdaCallback(on_epoch_end=lambda epoch, logs: states.append(copy.deepcopy(model.state_dict())),
                              on_train_end=lambda logs: ended.append(("recorder", sorted(logs))))
    states = []
    bar = ProgressBar(file=io.StringIO())
    model = mlp()
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.Adam(model.parameters(), lr=0.01), epochs=50,
                     batch_size=8, validation_data=(Xv, yv), callbacks=[recorder, stop, Interrupt(), bar])
    assert isinstance(history, gn.History)
    assert history.stop_reason == "interrupted" and history.epoch == [0, 1, 2, 3]
    assert ended == [("recorder", ["loss", "val_loss"]), ("interrupt", ["loss", "val_loss"])]
    assert same(model.state_dict(), states[stop.best_epoch])  # restore_best_weights applied
    assert bar.bar.n == 4 and bar.bar.disable  # tqdm (installed with the test extra) counted 4 epochs, closed


def test_keyboard_interrupt_inside_a_step():
    class Forward(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = mlp()
            self.calls = 0

        def forward(self, x):
            self.calls += 1
            if self.calls == 7:
                raise KeyboardInterrupt
            return self.inner(x)

    model = Forward()
    history = gn.fit(model, *regression_data(24), loss=nn.MSELoss(), optimizer="sgd", epochs=10, batch_size=8)
    assert history.stop_reason == "interrupted" and history.epoch == [0, 1]  # 3 batches an epoch


def test_probability_targets_for_cross_entropy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    labels = np.arange(30) % 3
    runs = []
    for y in (labels, np.eye(3)[labels]):  # one-hot probabilities train exactly as the labels
        model = mlp(3, 3)
        history = gn.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer=optim.SGD(model.parameters(), lr=0.1),
                         epochs=3, batch_size=10, shuffle=False, metrics=["accuracy"])
        runs.append((model.state_dict(), history.history))
    for name in runs[0][0]:
        np.testing.assert_allclose(runs[1][0][name], runs[0][0][name], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(runs[1][1]["loss"], runs[0][1]["loss"], rtol=1e-5)
    assert runs[1][1]["accuracy"] == runs[0][1]["accuracy"]
    soft = np.full((30, 3), 0.1) + 0.7 * np.eye(3)[labels]  # label-smoothed targets are accepted too
    history = gn.fit(mlp(3, 3), X, soft, loss=nn.CrossEntropyLoss(), optimizer="adam", epochs=2)
    assert all(math.isfinite(v) for v in history.history["loss"])


# ------------------------------------------------------------------------------------------ problem types

def test_a_problem_type_chooses_the_heads_loss_and_checks_the_targets():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = (X.sum(axis=1) > 0).astype(float)
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.head_for("binary").activation)
    trainer = gn.Trainer(model, optimizer=optim.Adam(model.parameters(), lr=0.05), problem="binary",
                         metrics=["accuracy"])
    assert type(trainer.loss) is nn.BCELoss
    history = trainer.fit(X, y, epochs=30, batch_size=8)
    assert history.history["accuracy"][-1] > 0.9
    with pytest.raises(ValueError, match=r"y: a binary problem has 0/1 targets, got values from -1.0 to 1.0"):
        trainer.fit(X, 2 * y - 1)
    with pytest.raises(ValueError, match=r"validation y: a binary problem has 0/1 targets"):
        trainer.fit(X, y, validation_data=(X, y + 1))
    for problem, targets, message in [("unit_interval", y * 1.5, r"unit_interval problem has targets in \[0, 1\]"),
                                      ("multiclass", y - 1, "multiclass problem has class labels ≥ 0")]:
        with pytest.raises(ValueError, match=message):
            gn.fit(mlp(2, 2), X, targets, loss=nn.MSELoss() if problem != "multiclass" else None,
                   optimizer="sgd", problem=problem)
    gn.fit(mlp(2), X, y * 7 - 3, optimizer="sgd", problem="regression")  # any targets; MSELoss


def test_problem_type_errors():
    with pytest.raises(ValueError, match=r"unknown problem type 'classification'; choose one of \('binary', "
                                         r"'multiclass', 'regression', 'unit_interval'\)"):
        gn.Trainer(mlp(), problem="classification")
    with pytest.raises(ValueError, match="accuracy is a metric of binary and multiclass problems, not of a "
                                         "regression problem"):
        gn.Trainer(mlp(), problem="regression", metrics=["accuracy"])
    with pytest.raises(TypeError, match=r"fit needs loss= .* or problem= \(one of"):
        gn.fit(mlp(), *regression_data(), optimizer="sgd")


def test_a_trainers_state_dict_is_a_checkpoint_that_resumes_exactly(tmp_path):
    X, y = regression_data(32)

    def trainer():
        model = mlp()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        return gn.Trainer(model, loss=nn.MSELoss(), optimizer=opt, scheduler=optim.StepLR(opt, step_size=2))

    original = trainer()
    original.fit(X, y, epochs=3, batch_size=8, shuffle=False)
    gn.save(original.state_dict(), tmp_path / "trainer.glass")
    original.fit(X, y, epochs=3, batch_size=8, shuffle=False)

    resumed = trainer()
    resumed.load_state_dict(gn.load(tmp_path / "trainer.glass"))
    assert resumed.optimizer.param_groups[0]["lr"] == pytest.approx(0.005)  # the scheduler's decay came back
    resumed.fit(X, y, epochs=3, batch_size=8, shuffle=False)
    assert same(resumed.model.state_dict(), original.model.state_dict())
    assert same_tree(resumed.optimizer.state_dict(), original.optimizer.state_dict())
