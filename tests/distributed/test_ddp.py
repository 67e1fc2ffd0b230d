"""DistributedDataParallel over MPI: two processes (mpirun -n 2 on localhost) end with the weights of one process
trained on the same global batches (float64, 1e-6), for an MLP (also with gradient accumulation under no_sync), a
CNN with BatchNorm, each with the reductions started when backward ends and during backward (overlap), and for
``Trainer.fit(..., distributed=True)``, ``gn.fit``/``gn.evaluate`` and a GAN subclass of Trainer; a rank that
raises ends the job with a clear error, not a hang, also inside backward with reductions in flight; the buckets are
PyTorch's; DistributedSampler shards as PyTorch's does."""
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


def single_process_weights(steps, global_batch=ddp_script.GLOBAL_BATCH):
    """The MLP's weights after ``steps`` steps of one process on global batches of ``global_batch``, and the
    gradient that rank 0 of 2 holds after the no_sync half of the last step (its half of the first 8 samples)."""
    gn.set_default_dtype(np.float64)
    X, Y = ddp_script.data()
    model = ddp_script.make_model()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(steps):
        batch = slice(step * global_batch, (step + 1) * global_batch)
        optimizer.zero_grad()
        rank0_half = np.arange(batch.start, batch.start + ddp_script.GLOBAL_BATCH, 2)
        (nn.MSELoss()(model(gn.tensor(X[rank0_half])), gn.tensor(Y[rank0_half])) / 2).backward()
        local = np.concatenate([p.grad.numpy().ravel() for p in model.parameters()])
        optimizer.zero_grad()
        nn.MSELoss()(model(gn.tensor(X[batch])), gn.tensor(Y[batch])).backward()
        optimizer.step()
    return ddp_script.weights(model), local


def check_mlp_runs(stem, steps):
    """Every setting of ddp_script.CONFIGS, and gradient accumulation with no_sync, equals one process."""
    expected, _ = single_process_weights(steps)
    for config in ddp_script.CONFIGS:
        np.testing.assert_allclose(np.load(f"{stem}.{config}.npy"), expected, rtol=1e-6, atol=1e-9, err_msg=config)
    accumulated, local = single_process_weights(steps // 2, 2 * ddp_script.GLOBAL_BATCH)
    saved = np.load(f"{stem}.no_sync.npy")
    np.testing.assert_allclose(saved[:len(accumulated)], accumulated, rtol=1e-6, atol=1e-9)
    return saved[len(accumulated):], local


def test_two_processes_train_as_one_on_the_global_batch(tmp_path):
    done = mpirun(2, tmp_path / "mlp", "train", 6)
    assert done.returncode == 0, done.stdout + done.stderr
    saved_local, rank0_local = check_mlp_runs(tmp_path / "mlp", 6)
    np.testing.assert_allclose(saved_local, rank0_local, rtol=1e-6, atol=1e-9)  # no_sync left it unaveraged


def test_one_process_is_a_world_of_one(tmp_path):
    done = mpirun(1, tmp_path / "mlp", "train", 3)
    assert done.returncode == 0, done.stdout + done.stderr
    check_mlp_runs(tmp_path / "mlp", 3)


def test_a_failing_rank_ends_the_job_with_a_clear_error(tmp_path):
    done = mpirun(2, tmp_path / "never", "raise", 6, timeout=60)
    assert done.returncode != 0
    assert "rank 1 of 2 failed with ValueError: rank 1 cannot go on" in done.stderr
    assert not list(tmp_path.iterdir())


def test_a_rank_failing_in_backward_with_reductions_in_flight_ends_the_job(tmp_path):
    """Rank 1 raises inside backward after its last layer's bucket has started its non-blocking Allreduce; rank 0
    goes on and waits for reductions that rank 1 never starts: MPI_Abort from rank 1 ends both, within the
    timeout."""
    done = mpirun(2, tmp_path / "never", "raise-in-backward", 6, timeout=60)
    assert done.returncode != 0
    assert ("rank 1 of 2 failed with ValueError: rank 1 cannot go on, 1 reduction(s) in flight"
            in done.stderr), done.stderr
    assert not list(tmp_path.iterdir())


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


def test_buckets_are_pytorchs_without_splitting_a_layer():
    """Without biases every module has one parameter and the buckets are exactly PyTorch's DDP ones (its
    assignment by size with the 1 MiB first bucket, listed last first); with biases a layer's weight and bias stay
    in one bucket, where PyTorch's would put the first layer's bias with the layers above."""
    import torch
    import torch.distributed as dist
    from glassnet.distributed import bucket_assignment

    def w3(bias):
        return nn.Sequential(nn.Linear(784, 512, bias=bias), nn.ReLU(), nn.Linear(512, 256, bias=bias), nn.ReLU(),
                             nn.Linear(256, 10, bias=bias))

    def indices(buckets, params):
        position = {id(p): i for i, p in enumerate(params)}
        return [[position[id(p)] for p in bucket] for bucket in buckets]

    for cap_mb in (None, 0.25, 0.6, 100):
        model = w3(bias=False)
        params = list(model.parameters())
        limits = ([dist._DEFAULT_FIRST_BUCKET_BYTES, 25 * 2 ** 20] if cap_mb is None
                  else [int(cap_mb * 2 ** 20)] * 2)
        theirs, _ = dist._compute_bucket_assignment_by_size([torch.from_numpy(p.numpy()) for p in params], limits)
        assert indices(bucket_assignment(model, cap_mb), params) == list(reversed(theirs)), cap_mb
    model = w3(bias=True)
    params = list(model.parameters())  # layer i's weight and bias: 2i, 2i + 1
    assert indices(bucket_assignment(model), params) == [[2, 3, 4, 5], [0, 1]]
    assert indices(bucket_assignment(model, 0.25), params) == [[4, 5], [2, 3], [0, 1]]
    model[0].bias.requires_grad_(False)  # only what requires a gradient is reduced
    shared = nn.Sequential(model, model[2])  # a module reached twice: its parameters once
    assert indices(bucket_assignment(shared, 0.25), params) == [[4, 5], [2, 3], [0]]
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number of MiB, got 0"):
        bucket_assignment(model, 0)


def fit_as_two_processes_do(trainer, arrays, epochs, **fit_kwargs):
    """One process fitting, epoch by epoch, the block order that Trainer(distributed=True) on 2 processes shards:
    each epoch's DistributedSampler permutation (set_epoch reshuffles), whose b-th block of 2 × 4 samples is
    global batch b (rank r takes samples r, r+2, … of it), with batch_size 8. Returns the history."""
    history = {}
    sampler = DistributedSampler(range(len(arrays[0])), num_replicas=1, rank=0)  # the permutation both ranks split
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        order = list(sampler)
        logs = trainer.fit(*(a[order] for a in arrays), epochs=1, batch_size=2 * trainer_script.PER_RANK_BATCH,
                           shuffle=False, verbose=0, **fit_kwargs).history
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
    return history


def test_trainer_fit_on_two_processes_equals_one_process_on_the_global_batches(tmp_path):
    """Trainer(distributed=True) on 2 processes follows one process on the same global batches, and so do
    gn.fit(distributed=True) and then gn.evaluate(distributed=True) (each rank evaluates half the samples; the
    means are over all). The logs are reduced over ranks (equal on both); only rank 0 prints progress and writes
    checkpoints."""
    epochs = 3
    done = mpirun(2, tmp_path, epochs, "trainer", script="trainer_script.py", options=["--tag-output"])
    assert done.returncode == 0, done.stdout + done.stderr

    gn.set_default_dtype(np.float64)
    (X, y), validation = trainer_script.data()
    reference = trainer_script.make_trainer(None)
    history = fit_as_two_processes_do(reference, (X, y), epochs, validation_data=validation)
    expected = trainer_script.weights(reference.model)
    scores = reference.evaluate(*validation)

    for rank in (0, 1):
        for prefix in ("", "fit-"):  # Trainer(distributed=True).fit, gn.fit(distributed=True)
            where = f"rank {rank}, {prefix or 'Trainer.'}fit"
            np.testing.assert_allclose(np.load(tmp_path / f"rank{rank}" / f"{prefix}weights.npy"), expected,
                                       rtol=1e-6, atol=1e-9, err_msg=where)
            logged = json.loads((tmp_path / f"rank{rank}" / f"{prefix}history.json").read_text())
            assert sorted(logged) == sorted(["loss", "mae", "val_loss", "val_mae"] + (["evaluate"] if prefix else []))
            for key, values in history.items():
                np.testing.assert_allclose(logged[key], values, rtol=1e-6, err_msg=f"{where}: {key}")
        evaluated = logged["evaluate"]
        assert sorted(evaluated) == sorted(scores)
        for key, value in scores.items():
            np.testing.assert_allclose(evaluated[key], value, rtol=1e-6, err_msg=f"rank {rank}: evaluate {key}")
    assert sorted(p.name for p in (tmp_path / "rank0").glob("*.glass")) == [f"model-{e}.glass" for e in range(3)]
    assert not list((tmp_path / "rank1").glob("*.glass"))
    saved = gn.load(tmp_path / "rank0" / "model-2.glass")  # the bare model, loadable in one process
    np.testing.assert_allclose(trainer_script.weights(saved), expected, rtol=1e-6, atol=1e-9)
    output = done.stdout + done.stderr  # --tag-output marks what rank r writes with [1,r]
    assert "[1,0]<stderr>" in output and "3/3" in output and "val_mae=" in output, output  # rank 0's tqdm bar
    assert "[1,1]" not in output, output


def test_a_gan_trainer_subclass_trains_both_models_data_parallel(tmp_path):
    """A Trainer subclass with a generator (``model``) and a discriminator (another attribute), each with its own
    optimizer, under distributed=True (reductions started during backward, a bucket per layer): fit wraps the
    discriminator too, and after 3 epochs both models' weights on both ranks equal one process's on the same global
    batches, with the same noise (drawn per global batch, then shared out), as do the reduced losses; several
    forwards of a model before one backward average its gradients once."""
    epochs = 3
    done = mpirun(2, tmp_path, epochs, "gan", script="trainer_script.py")
    assert done.returncode == 0, done.stdout + done.stderr

    gn.set_default_dtype(np.float64)
    reference = trainer_script.make_gan(None)
    history = fit_as_two_processes_do(reference, (trainer_script.gan_data(),), epochs)
    for rank in (0, 1):
        for name, model in (("generator", reference.model), ("discriminator", reference.discriminator)):
            np.testing.assert_allclose(np.load(tmp_path / f"rank{rank}" / f"{name}.npy"),
                                       trainer_script.weights(model), rtol=1e-6, atol=1e-9,
                                       err_msg=f"rank {rank}: {name}")
        logged = json.loads((tmp_path / f"rank{rank}" / "history.json").read_text())
        assert logged.pop("wrapped") == "DistributedDataParallel"
        # per step, one reduction per bucket (a layer) and backward: the discriminator's step through its two
        # forwards reduces its 2 buckets once, the generator's step those of both models (4)
        assert logged.pop("reductions") == 6 * logged.pop("steps") == 6 * epochs * 8
        assert sorted(logged) == ["d_loss", "g_loss"]
        for key, values in history.items():
            np.testing.assert_allclose(logged[key], values, rtol=1e-6, err_msg=f"rank {rank}: {key}")
    untrained = trainer_script.make_gan(None)
    assert not np.allclose(trainer_script.weights(untrained.discriminator),
                           trainer_script.weights(reference.discriminator))  # both models did train


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
    weights = len(expected) - len(rank1_state)
    for config in ddp_script.CONFIGS:  # reduced when backward ends, and during backward, one bucket per layer
        rank0, rank1 = (np.load(tmp_path / f"cnn.{config}.rank{r}.npy") for r in (0, 1))
        np.testing.assert_allclose(rank0, expected, rtol=1e-6, atol=1e-9, err_msg=config)
        np.testing.assert_allclose(rank1[:weights], expected[:weights], rtol=1e-6, atol=1e-9, err_msg=config)
        np.testing.assert_allclose(rank1[weights:], rank1_state, rtol=1e-6, atol=1e-9, err_msg=config)
        assert not np.allclose(rank1[weights:], rank0[weights:])  # the halves' statistics differ: a real check
