"""Run under mpirun by tests/distributed/test_ddp.py: train an MLP data-parallel and save rank 0's weights, or a
CNN with BatchNorm and save every rank's weights and buffers.

argv: output path, mode ("train", "raise" or "cnn"), steps.
"""
import sys

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.distributed import DistributedDataParallel, DistributedSampler

GLOBAL_BATCH = 8


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (64, 3))
    return X, np.sin(X @ np.array([[1.0], [-2.0], [0.5]]))


def make_model():
    gn.manual_seed(1)
    return nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1))


def cnn_data(steps):
    rng = np.random.default_rng(2)
    return rng.normal(0, 1, (steps * GLOBAL_BATCH, 1, 6, 6)), rng.integers(0, 3, steps * GLOBAL_BATCH)


def make_cnn():
    gn.manual_seed(3)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 3))


def cnn_state(model):
    """Weights and buffers (BatchNorm's running statistics and batch count), flattened."""
    return np.concatenate([t.numpy().ravel().astype(np.float64) for t in (*model.parameters(), *model.buffers())])


def train_cnn(path, steps):
    """Each rank takes every other sample of each global batch (DistributedSampler without shuffling)."""
    X, y = cnn_data(steps)
    model = make_cnn()
    ddp = DistributedDataParallel(model)
    order = list(DistributedSampler(range(len(X)), shuffle=False))
    per_rank = GLOBAL_BATCH // ddp.world_size
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        index = order[step * per_rank:(step + 1) * per_rank]
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(ddp(gn.tensor(X[index])), y[index]).backward()
        optimizer.step()
    np.save(f"{path}.rank{ddp.rank}.npy", cnn_state(model))


def main(path, mode, steps):
    gn.set_default_dtype(np.float64)
    if mode == "cnn":
        return train_cnn(path, steps)
    X, Y = data()
    model = make_model()
    ddp = DistributedDataParallel(model)
    if ddp.rank == 1:  # a replica that starts elsewhere: the broadcast from rank 0 must fix it
        for p in model.parameters():
            p._data[...] = 7.0
    ddp = DistributedDataParallel(model)
    sampler = DistributedSampler(range(len(X)), shuffle=False)
    order = list(sampler)
    per_rank = GLOBAL_BATCH // ddp.world_size
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.MSELoss()
    for step in range(steps):
        index = order[step * per_rank:(step + 1) * per_rank]
        if mode == "raise" and ddp.rank == 1 and step == 2:
            raise ValueError("rank 1 cannot go on")
        optimizer.zero_grad()
        loss = loss_fn(ddp(gn.tensor(X[index])), gn.tensor(Y[index]))
        loss.backward()
        optimizer.step()
    if ddp.rank == 0:
        np.save(path, np.concatenate([p.numpy().ravel() for p in model.parameters()]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
