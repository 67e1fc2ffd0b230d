"""DistributedDataParallel over MPI: two processes (mpirun -n 2 on localhost) end with the weights of one process
trained on the same global batches (float64, 1e-6), for an MLP, a CNN with BatchNorm and ``Trainer.fit(...,
distributed=True)``; a rank that raises ends the job with a clear error, not a hang; DistributedSampler shards as
PyTorch's does."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim
from glassnet.distributed import DistributedSampler

HERE = Path(__file__).parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import ddp_script  # noqa: E402
import trainer_script  # noqa: E402


def mpirun(n, *args, script="ddp_script.py", timeout=120, options=()):
    """``mpirun -n n python script args`` on localhost (oversubscribed: 2 ranks may share one core)."""
    assert shutil.which("mpirun"), "mpirun is missing: the test command installs openmpi-bin"
    env = dict(os.environ, PYTHONPATH=str(REPO), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    return subprocess.run(["mpirun", *options, "-n", str(n), sys.executable, str(HERE / script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def single_process_weights(steps):
    gn.set_default_dtype(np.float64)
    X, Y = ddp_script.data()
    model = ddp_script.make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        batch = slice(step * ddp_script.GLOBAL_BATCH, (step + 1) * ddp_script.GLOBAL_BATCH)
        optimizer.zero_grad()
        nn.MSELoss()(model(gn.tensor(X[batch])), gn.tensor(Y[batch])).backward()
        optimizer.step()
    return np.concatenate([p.numpy().ravel() for p in model.parameters()])


def test_two_processes_train_as_one_on_the_global_batch(tmp_path):
    out = tmp_path / "weights.npy"
    done = mpirun(2, out, "train", 6)
    assert done.returncode == 0, done.stdout + done.stderr
    np.testing.assert_allclose(np.load(out), single_process_weights(6), rtol=1e-6, atol=1e-9)


def test_one_process_is_a_world_of_one(tmp_path):
    out = tmp_path / "weights.npy"
    done = mpirun(1, out, "train", 3)
    assert done.returncode == 0, done.stdout + done.stderr
    np.testing.assert_allclose(np.load(out), single_process_weights(3), rtol=1e-9)


def test_a_failing_rank_ends_the_job_with_a_clear_error(tmp_path):
    done = mpirun(2, tmp_path / "never.npy", "raise", 6, timeout=60)
    assert done.returncode != 0
    assert "rank 1 of 2 failed with ValueError: rank 1 cannot go on" in done.stderr
    assert not (tmp_path / "never.npy").exists()


def test_distributed_sampler_shards_like_torch():
    from torch.utils.data import DistributedSampler as TorchSampler
    for n, replicas, drop_last in [(10, 3, False), (10, 3, True), (8, 2, False)]:
        for rank in range(replicas):
            ours = list(DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last))
            theirs = list(TorchSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last))
            assert ours == theirs
    shards = [set(DistributedSampler(range(12), 3, r, seed=5)) for r in range(3)]
    assert set.union(*shards) == set(range(12)) and sum(map(len, shards)) == 12
    sampler = DistributedSampler(range(12), 3, 0, seed=5)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first and sorted(first) != first
    with pytest.raises(ValueError, match="rank 3"):
        DistributedSampler(range(4), 3, 3)


def test_gradients_side_by_side_in_one_buffer_are_reduced_in_place():
    from glassnet.distributed.ddp import _side_by_side
    buffer = np.arange(10.0)
    views = [buffer[2:5].reshape(3, 1), buffer[5:9]]
    flat = _side_by_side(views)
    assert flat is not None and flat.base is buffer and flat.tolist() == list(range(2, 9))
    assert _side_by_side([buffer[2:5], buffer[6:9]]) is None  # a gap
    assert _side_by_side([buffer[5:9], buffer[2:5]]) is None  # out of order
    assert _side_by_side([np.zeros(3), np.zeros(2)]) is None  # separate arrays
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    model(gn.tensor(np.ones((4, 2), np.float32))).sum().backward()
    assert _side_by_side([p.grad._data for p in model.parameters()]) is not None  # the optimizer's flat gradient
    optimizer.zero_grad()


def test_trainer_fit_on_two_processes_equals_one_process_on_the_global_batches(tmp_path):
    """Trainer(distributed=True) shards each epoch with a DistributedSampler (set_epoch reshuffles), so rank r's
    batch b is samples r, r+2, … of the epoch's permutation's b-th block of 2 × 4: one process fitting that block
    order with batch_size 8 sees the same global batches. The logs are reduced over ranks (equal on both); only
    rank 0 prints progress and writes checkpoints."""
    epochs = 3
    done = mpirun(2, tmp_path, epochs, script="trainer_script.py", options=["--tag-output"])
    assert done.returncode == 0, done.stdout + done.stderr

    gn.set_default_dtype(np.float64)
    (X, y), validation = trainer_script.data()
    reference = trainer_script.make_trainer(None)
    history = {}
    sampler = DistributedSampler(range(len(X)), num_replicas=1, rank=0)  # the permutation both ranks split
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        order = list(sampler)
        logs = reference.fit(X[order], y[order], epochs=1, batch_size=2 * trainer_script.PER_RANK_BATCH,
                             shuffle=False, validation_data=validation, verbose=0).history
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
    expected = np.concatenate([p.numpy().ravel() for p in reference.model.parameters()])

    for rank in (0, 1):
        np.testing.assert_allclose(np.load(tmp_path / f"rank{rank}" / "weights.npy"), expected, rtol=1e-6,
                                   atol=1e-9, err_msg=f"rank {rank}")
        logged = json.loads((tmp_path / f"rank{rank}" / "history.json").read_text())
        assert sorted(logged) == ["loss", "mae", "val_loss", "val_mae"]
        for key, values in history.items():
            np.testing.assert_allclose(logged[key], values, rtol=1e-6, err_msg=f"rank {rank}: {key}")
    assert sorted(p.name for p in (tmp_path / "rank0").glob("*.glass")) == [f"model-{e}.glass" for e in range(3)]
    assert not list((tmp_path / "rank1").glob("*.glass"))
    saved = gn.load(tmp_path / "rank0" / "model-2.glass")  # the bare model, loadable in one process
    np.testing.assert_allclose(np.concatenate([p.numpy().ravel() for p in saved.parameters()]), expected,
                               rtol=1e-6, atol=1e-9)
    output = done.stdout + done.stderr  # --tag-output marks what rank r writes with [1,r]
    assert "[1,0]<stderr>" in output and "3/3" in output and "val_mae=" in output, output  # rank 0's tqdm bar
    assert "[1,1]" not in output, output


def test_a_cnn_with_batchnorm_on_two_processes_follows_torch_ddp_semantics(tmp_path):
    """BatchNorm2d under DistributedDataParallel, as in PyTorch's DDP (not SyncBatchNorm): each rank normalises
    its half of the global batch with that half's own statistics, the gradients are averaged, and with
    broadcast_buffers=True each forward starts from rank 0's running statistics, which each rank then updates
    with its own half. So two processes do not equal one process normalising the whole global batch at once;
    they equal one process that, at every step, runs the model on each half separately (each half's batch
    statistics) and averages the two halves' losses. The reference below does exactly that: it runs rank 1's
    half first from the running statistics rank 0 holds (rank 1's running statistics after the step), puts them
    back and runs rank 0's half (rank 0's). Weights (equal on both ranks) and each rank's buffers are compared
    after N steps (float64, 1e-6)."""
    steps = 5
    done = mpirun(2, tmp_path / "cnn", "cnn", steps)
    assert done.returncode == 0, done.stdout + done.stderr

    gn.set_default_dtype(np.float64)
    X, y = ddp_script.cnn_data(steps)
    model = ddp_script.make_cnn()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    buffers = list(model.buffers())
    for step in range(steps):
        start = step * ddp_script.GLOBAL_BATCH
        halves = [slice(start + rank, start + ddp_script.GLOBAL_BATCH, 2) for rank in (0, 1)]
        held_by_rank0 = [b._data.copy() for b in buffers]
        optimizer.zero_grad()
        loss1 = nn.CrossEntropyLoss()(model(gn.tensor(X[halves[1]])), y[halves[1]])
        rank1_state = ddp_script.cnn_state(model)[-sum(b._data.size for b in buffers):]
        for buffer, held in zip(buffers, held_by_rank0):
            buffer._data[...] = held
        loss0 = nn.CrossEntropyLoss()(model(gn.tensor(X[halves[0]])), y[halves[0]])
        ((loss0 + loss1) / 2).backward()
        optimizer.step()
    expected = ddp_script.cnn_state(model)
    rank0, rank1 = (np.load(tmp_path / f"cnn.rank{r}.npy") for r in (0, 1))
    np.testing.assert_allclose(rank0, expected, rtol=1e-6, atol=1e-9)
    weights = len(expected) - len(rank1_state)
    np.testing.assert_allclose(rank1[:weights], expected[:weights], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(rank1[weights:], rank1_state, rtol=1e-6, atol=1e-9)
    assert not np.allclose(rank1[weights:], rank0[weights:])  # the halves' statistics differ: a real check
