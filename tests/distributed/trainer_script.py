"""Run under mpirun by tests/distributed/test_trainer_distributed.py: ``Trainer(..., distributed=True).fit`` of an
MLP; every rank saves its weights and history, rank 0's ModelCheckpoint writes into ``out/rank<r>``.

argv: output folder, epochs.
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


def make_trainer(distributed, checkpoints=None):
    gn.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))
    callbacks = [] if checkpoints is None else [ModelCheckpoint(str(checkpoints / "model-{epoch}.glass"),
                                                                monitor="val_loss")]
    return gn.Trainer(model, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                      metrics=["mae"], callbacks=callbacks, distributed=distributed)


def main(out, epochs):
    gn.set_default_dtype(np.float64)
    (X, y), validation = data()
    from mpi4py import MPI
    rank_folder = out / f"rank{MPI.COMM_WORLD.Get_rank()}"
    rank_folder.mkdir()
    trainer = make_trainer(True, rank_folder)  # distributed=True resolves glassnet.distributed.MPIStrategy
    history = trainer.fit(X, y, epochs=epochs, batch_size=PER_RANK_BATCH, validation_data=validation, verbose=1)
    weights = np.concatenate([p.numpy().ravel() for p in trainer.module.parameters()])
    np.save(rank_folder / "weights.npy", weights)
    (rank_folder / "history.json").write_text(json.dumps(history.history))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
