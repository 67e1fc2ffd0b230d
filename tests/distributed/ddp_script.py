"""Run under mpirun by tests/distributed/test_ddp.py: train an MLP data-parallel and save rank 0's weights, or a
CNN with BatchNorm and save every rank's weights and buffers; each under several DistributedDataParallel settings
(``CONFIGS``).

argv: output path stem, mode ("train", "raise", "raise-in-backward" or "cnn"), steps.
"""
import sys

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.distributed import DistributedDataParallel, DistributedSampler

GLOBAL_BATCH = 8
# name → DistributedDataParallel's settings: the default (reductions started when backward ends, PyTorch's bucket
# sizes), and reductions started during backward in buckets so small that every layer has its own
CONFIGS = {"default": {}, "overlap": {"overlap": True, "bucket_cap_mb": 1e-4}}


class LayerByLayer(nn.Module):
    """``layers`` called one by one: a graph node each (a Sequential runs Linear layers and activations as one
    node), so that backward completes the last layer's gradients first and overlap has something to overlap."""

    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class FailsInBackward(gn.autograd.Function):
    """Identity whose backward raises on rank 1 (``FailsInBackward.ddp``'s), saying how many reductions are in
    flight then."""

    ddp = None

    @staticmethod
    def forward(ctx, x):
        return x * 1

    @staticmethod
    def backward(ctx, g):
        ddp = FailsInBackward.ddp
        if ddp.rank == 1:
            raise ValueError(f"rank 1 cannot go on, {len(ddp._in_flight)} reduction(s) in flight")
        return g


class Failing(nn.Module):
    def forward(self, x):
        return FailsInBackward.apply(x)


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


def weights(model):
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


def train_cnn(path, steps, config):
    """Each rank takes every other sample of each global batch (DistributedSampler without shuffling)."""
    X, y = cnn_data(steps)
    model = make_cnn()
    ddp = DistributedDataParallel(model, **CONFIGS[config])
    order = list(DistributedSampler(range(len(X)), shuffle=False))
    per_rank = GLOBAL_BATCH // ddp.world_size
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        index = order[step * per_rank:(step + 1) * per_rank]
        optimizer.zero_grad()
        nn.CrossEntropyLoss()(ddp(gn.tensor(X[index])), y[index]).backward()
        optimizer.step()
    np.save(f"{path}.{config}.rank{ddp.rank}.npy", cnn_state(model))


def train_mlp(path, mode, steps, config):
    """``steps`` steps on global batches of 8 (rank r: samples r, r + 2, … of each); rank 0 saves the weights."""
    X, Y = data()
    model = make_model()
    if mode == "raise-in-backward":
        model = LayerByLayer(nn.Sequential(model[0], model[1], Failing(), model[2]))
    elif config == "overlap":
        model = LayerByLayer(model)
    ddp = DistributedDataParallel(model, **CONFIGS[config])
    if ddp.rank == 1:  # a replica that starts elsewhere: the broadcast from rank 0 must fix it
        for p in model.parameters():
            p._data[...] = 7.0
    ddp = FailsInBackward.ddp = DistributedDataParallel(model, **CONFIGS[config])
    order = list(DistributedSampler(range(len(X)), shuffle=False))
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
        np.save(f"{path}.{config}.npy", weights(model))


def train_accumulating(path, steps):
    """Gradient accumulation: each step adds two global batches of 8 (the first under no_sync, unaveraged), each
    loss halved, so that a step follows one process on the global batch of 16 that the two make up."""
    X, Y = data()
    model = make_model()
    ddp = DistributedDataParallel(LayerByLayer(model), **CONFIGS["overlap"])
    order = list(DistributedSampler(range(len(X)), shuffle=False))
    per_rank = GLOBAL_BATCH // ddp.world_size
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        optimizer.zero_grad()
        for half in (2 * step, 2 * step + 1):
            index = order[half * per_rank:(half + 1) * per_rank]
            if half % 2 == 0:
                with ddp.no_sync():
                    loss = nn.MSELoss()(ddp(gn.tensor(X[index])), gn.tensor(Y[index])) / 2
                loss.backward()  # outside the block, as in PyTorch: the forward decided
                local = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
                assert not ddp._in_flight, "no_sync: a reduction started"
            else:
                (nn.MSELoss()(ddp(gn.tensor(X[index])), gn.tensor(Y[index])) / 2).backward()
        optimizer.step()
    if ddp.rank == 0:
        np.save(f"{path}.no_sync.npy", np.concatenate([weights(model), local]))


def main(path, mode, steps):
    gn.set_default_dtype(np.float64)
    if mode == "cnn":
        for config in CONFIGS:
            train_cnn(path, steps, config)
    elif mode == "train":
        for config in CONFIGS:
            train_mlp(path, mode, steps, config)
        train_accumulating(path, steps // 2)
    else:
        train_mlp(path, mode, steps, "overlap" if mode == "raise-in-backward" else "default")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
