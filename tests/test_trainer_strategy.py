"""The Trainer's strategy interface (glassnet/train/strategy.py) in one process: what the loop asks a Strategy, and
that the core does not import glassnet.distributed unless distributed training is asked for."""
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.train import Strategy
from glassnet.train.callbacks import ModelCheckpoint
from glassnet.viz import LivePlot


class SecondOfTwoTwins(Strategy):
    """Rank 1 of a world of two whose other rank logs the same numbers (so every reduced mean equals the local
    one): records what the trainer asks."""

    rank, world_size = 1, 2

    def __init__(self):
        self.epochs, self.finite_checks, self.evaluated = [], 0, []

    def sampler(self, samples, shuffle):
        strategy = self

        class EveryOther:
            def set_epoch(self, epoch):
                strategy.epochs.append(epoch)

            def __iter__(self):
                return iter(range(1, samples, 2))
        return EveryOther()

    def evaluation_indices(self, samples):
        self.evaluated.append(samples)
        return np.arange(1, samples, 2)

    def all_reduce_sum(self, values):
        return 2 * values

    def all_finite(self, value):
        self.finite_checks += 1
        return super().all_finite(value)


def test_the_trainer_asks_its_strategy(tmp_path, capsys):
    gn.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(20, 2)).astype(np.float32)
    y = X.sum(1)
    model = nn.Sequential(nn.Linear(2, 1))
    strategy = SecondOfTwoTwins()
    trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.1),
                         callbacks=[ModelCheckpoint(str(tmp_path / "m{epoch}.glass"), monitor="loss"),
                                    LivePlot(path=str(tmp_path / "curves.png"))],
                         distributed=strategy)
    history = trainer.fit(X, y, epochs=2, batch_size=5, validation_data=(X[:6], y[:6]), verbose=1)
    assert strategy.epochs == [0, 1]  # set_epoch before every epoch
    assert strategy.finite_checks == 2 * 2  # rank 1's shard: 10 samples, 2 batches of 5 per epoch
    assert strategy.evaluated == [6, 6]
    assert not list(tmp_path.iterdir()) and capsys.readouterr() == ("", "")  # not the main process: silent
    assert trainer.module is model and trainer.state_dict()["model"].keys() == model.state_dict().keys()

    gn.manual_seed(0)
    alone = nn.Sequential(nn.Linear(2, 1))
    plain = gn.Trainer(alone, loss=nn.MSELoss(), optimizer=optim.SGD(alone.parameters(), lr=0.1))
    odd = np.arange(1, 20, 2)
    expected = plain.fit(X[odd], y[odd], epochs=2, batch_size=5, shuffle=False, validation_data=(X[1:6:2], y[1:6:2]),
                         verbose=0)
    for key in ("loss", "val_loss"):  # the twin's means, reduced, are its own
        np.testing.assert_allclose(history.history[key], expected.history[key], rtol=1e-6)
    np.testing.assert_allclose(model[0].weight.numpy(), alone[0].weight.numpy(), rtol=1e-6)


def test_distributed_must_be_a_strategy():
    with pytest.raises(TypeError, match="distributed must be True, False or a glassnet.train.Strategy"):
        gn.Trainer(nn.Linear(2, 1), distributed="mpi")


def test_the_core_does_not_import_the_distributed_package():
    code = ("import sys, numpy as np, glassnet as gn\n"
            "gn.Trainer(gn.nn.Linear(2, 1), loss=gn.nn.MSELoss(), optimizer='sgd').fit(np.ones((4, 2)), np.ones(4),"
            " verbose=0)\n"
            "print(sorted(m for m in sys.modules if m.startswith(('glassnet.distributed', 'mpi4py', 'dask'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_dataloader_over_a_distributed_sampler_is_reshuffled_each_epoch():
    from glassnet.distributed import DistributedSampler
    from glassnet.utils.data import DataLoader, TensorDataset
    X = np.arange(40, dtype=np.float32).reshape(20, 2)
    sampler = DistributedSampler(range(20), num_replicas=2, rank=1, seed=3)  # no MPI needed with both given
    loader = DataLoader(TensorDataset(gn.tensor(X), gn.tensor(X.sum(1))), batch_size=5, sampler=sampler)
    model = nn.Linear(2, 1)
    shards = []  # (epoch the sampler was set to, its indices) at each epoch's end
    record = gn.train.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: shards.append((sampler.epoch,
                                                                                              list(sampler))))
    trainer = gn.Trainer(model, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=1e-4),
                         callbacks=[record])
    trainer.fit(loader, epochs=3, verbose=0)
    assert [epoch for epoch, _ in shards] == [0, 1, 2]
    assert shards[0][1] != shards[1][1] and len(shards[0][1]) == 10  # reshuffled; half of the 20 samples


class Wrapped(nn.Module):
    """A stand-in for a replica wrapper (DistributedDataParallel without MPI)."""

    def __init__(self, module):
        super().__init__()
        self.module = module

    def forward(self, *args):
        return self.module(*args)


class Wrapping(Strategy):
    """One process whose strategy wraps every model, counting the wrappers it makes."""

    def __init__(self):
        self.made = 0

    def wrap_model(self, model):
        if isinstance(model, Wrapped):
            return model
        self.made += 1
        return Wrapped(model)

    def unwrap_model(self, model):
        return model.module if isinstance(model, Wrapped) else model


class TwoModels(gn.Trainer):
    def __init__(self, first, second, distributed, third=None):
        super().__init__(first, loss=nn.MSELoss(), distributed=distributed)
        self.second = second
        self.again = first  # the main model held a second time
        self.third = third
        self.optimizers = optim.SGD([*first.parameters(), *second.parameters()], lr=0.1)

    def train_step(self, batch):
        (x,) = batch
        self.optimizers.zero_grad()
        loss = (self.model(x) + self.second(x)).pow(2).mean()
        loss.backward()
        self.optimizers.step()
        return {"loss": loss.item()}


def test_fit_gives_every_model_of_a_subclass_the_strategys_wrapper_once():
    first, second = nn.Linear(2, 1), nn.Linear(2, 1)
    strategy = Wrapping()
    trainer = TwoModels(first, second, strategy)
    assert isinstance(trainer.model, Wrapped) and trainer.second is second  # wrapped when fit starts
    trainer.fit(np.ones((4, 2), np.float32), epochs=1, verbose=0)
    assert isinstance(trainer.second, Wrapped) and trainer.second.module is second
    assert trainer.again is trainer.model and strategy.made == 2  # one wrapper per model
    assert sorted(trainer.state_dict()) == ["again", "model", "optimizers", "second"]
    assert trainer.state_dict()["second"].keys() == second.state_dict().keys()  # the bare models' state
    assert type(trainer.loss) is nn.MSELoss  # a loss is a Module, not a model: never wrapped

    plain = TwoModels(nn.Linear(2, 1), nn.Linear(2, 1), None)  # one process: nothing wrapped
    plain.fit(np.ones((4, 2), np.float32), epochs=1, verbose=0)
    assert not isinstance(plain.second, Wrapped) and not isinstance(plain.model, Wrapped)

    both = nn.Sequential(first, second)
    with pytest.raises(ValueError, match="the models 'model' and 'third' of TwoModels share parameters"):
        TwoModels(first, second, Wrapping(), third=both).fit(np.ones((4, 2), np.float32), verbose=0)
