"""Run under mpirun by tests/distributed/test_ddp.py: ``Trainer(..., distributed=True).fit`` of an MLP, then
``gn.fit``/``gn.evaluate(..., distributed=True)`` of another, or (mode "gan") a GAN-style Trainer subclass with two
models and two optimizers; every rank saves its weights and history in ``out/rank<r>``, where rank 0's
ModelCheckpoint writes too.

argv: output folder, epochs, mode ("trainer" or "gan").
"""
import json
import sys
from pathlib import Path

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.train.callbacks import ModelCheckpoint

PER_RANK_BATCH = 4


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (80, 3))
    y = np.sin(X @ np.array([1.0, -2.0, 0.5]))
    return (X[:64], y[:64]), (X[64:], y[64:])  # 64 training samples, 16 validation samples


def make_model():
    gn.manual_seed(1)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))


def make_optimizer(model):
    return optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def make_trainer(distributed, checkpoints=None):
    model = make_model()
    callbacks = [] if checkpoints is None else [ModelCheckpoint(str(checkpoints / "model-{epoch}.glass"),
                                                                monitor="val_loss")]
    return gn.Trainer(model, loss=nn.MSELoss(), optimizer=make_optimizer(model), metrics=["mae"],
                      callbacks=callbacks, distributed=distributed)


def weights(model):
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


class GAN(gn.Trainer):
    """A GAN's Trainer subclass: the generator is ``model``, the discriminator another attribute, each with its
    optimizer. The noise of each step is drawn for the whole global batch from the step's number, and each
    process takes its share (rows rank, rank + N, …), so that N processes draw what one process draws."""

    def __init__(self, generator, discriminator, distributed=None):
        super().__init__(generator, distributed=distributed)
        self.discriminator = discriminator
        self.g_optimizer = optim.Adam(generator.parameters(), lr=1e-2, betas=(0.5, 0.999))
        self.d_optimizer = optim.Adam(discriminator.parameters(), lr=1e-2, betas=(0.5, 0.999))
        self.bce = nn.BCEWithLogitsLoss()
        self.steps = 0

    def noise(self, rng, n):
        world, rank = self.strategy.world_size, self.strategy.rank
        return gn.tensor(rng.normal(size=(n * world, 2))[rank::world])

    def train_step(self, batch):
        (real,) = batch
        n = len(real)
        rng = np.random.default_rng(self.steps)
        self.steps += 1
        ones, zeros = np.ones((n, 1)), np.zeros((n, 1))
        fake = self.model(self.noise(rng, n)).detach()
        self.d_optimizer.zero_grad()
        d_loss = self.bce(self.discriminator(real), ones) + self.bce(self.discriminator(fake), zeros)
        d_loss.backward()
        self.d_optimizer.step()
        self.g_optimizer.zero_grad()
        g_loss = self.bce(self.discriminator(self.model(self.noise(rng, n))), ones)
        g_loss.backward()
        self.g_optimizer.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class CountingComm:
    """A communicator (COMM_WORLD) that counts the non-blocking Allreduces started through it."""

    def __init__(self, comm):
        self.comm, self.reductions = comm, 0

    def Iallreduce(self, *args, **kwargs):
        self.reductions += 1
        return self.comm.Iallreduce(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.comm, name)


def gan_data():
    rng = np.random.default_rng(4)
    return rng.normal(0, 0.3, (64, 2)) + np.array([1.0, -1.0])


def make_gan(distributed):
    gn.manual_seed(5)
    generator = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))
    discriminator = nn.Sequential(nn.Linear(2, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    return GAN(generator, discriminator, distributed)


def main(out, epochs, mode):
    gn.set_default_dtype(np.float64)
    from mpi4py import MPI
    rank_folder = out / f"rank{MPI.COMM_WORLD.Get_rank()}"
    rank_folder.mkdir()
    if mode == "gan":
        from glassnet.distributed import MPIStrategy
        # reductions started during backward, a bucket per layer: the discriminator's step runs it twice
        comm = CountingComm(MPI.COMM_WORLD)
        gan = make_gan(MPIStrategy(comm, overlap=True, bucket_cap_mb=1e-4))
        history = gan.fit(gan_data(), epochs=epochs, batch_size=PER_RANK_BATCH, verbose=0)
        np.save(rank_folder / "generator.npy", weights(gan.module))
        np.save(rank_folder / "discriminator.npy", weights(gan.strategy.unwrap_model(gan.discriminator)))
        (rank_folder / "history.json").write_text(json.dumps(
            {**history.history, "wrapped": type(gan.discriminator).__name__, "reductions": comm.reductions,
             "steps": gan.steps}))
        return
    (X, y), validation = data()
    trainer = make_trainer(True, rank_folder)  # distributed=True resolves glassnet.distributed.MPIStrategy
    history = trainer.fit(X, y, epochs=epochs, batch_size=PER_RANK_BATCH, validation_data=validation, verbose=1)
    np.save(rank_folder / "weights.npy", weights(trainer.module))
    (rank_folder / "history.json").write_text(json.dumps(history.history))

    model = make_model()
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=make_optimizer(model), metrics=["mae"],
                     epochs=epochs, batch_size=PER_RANK_BATCH, validation_data=validation, verbose=0,
                     distributed=True)
    scores = gn.evaluate(model, *validation, loss=nn.MSELoss(), metrics=["mae"], distributed=True)
    np.save(rank_folder / "fit-weights.npy", weights(model))
    (rank_folder / "fit-history.json").write_text(json.dumps({**history.history, "evaluate": scores}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
