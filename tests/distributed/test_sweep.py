"""gn.distributed.sweep: k-fold cross-validation of a grid, serial and on a 2-worker Dask LocalCluster (same
results for the same seeds, also through the scheduler's address), the best configuration, a progress bar, BLAS at
one thread per worker, and failures that name their configuration and fold."""
import numpy as np
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.distributed import grid_configs, kfold_indices, local_client, sweep


def make_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 0.5).astype(np.float32)  # a circle: needs a hidden layer
    return X, y


def build(hidden=(), activation="tanh"):
    layers, width = [], 2
    for size in hidden:
        layers += [nn.Linear(width, size), nn.Tanh() if activation == "tanh" else nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


FIT = dict(loss=nn.BCEWithLogitsLoss(), optimizer=lambda p: gn.optim.Adam(p, lr=0.05), epochs=25, batch_size=16,
           metrics=["accuracy"])


def test_grid_and_folds():
    assert grid_configs({"a": [1, 2], "b": ["x"]}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "x"}]
    assert grid_configs([{"a": 1}]) == [{"a": 1}]
    folds = kfold_indices(10, 3, seed=1)
    assert sorted(np.concatenate([val for _, val in folds]).tolist()) == list(range(10))
    for train, val in folds:
        assert not set(train) & set(val) and len(train) + len(val) == 10
    with pytest.raises(ValueError, match="cv must be"):
        kfold_indices(10, 1)
    with pytest.raises(ValueError, match="non-empty list"):
        grid_configs({"a": []})


def test_serial_sweep_picks_a_hidden_layer_for_the_circle(capsys):
    X, y = make_data()
    result = sweep(build, {"hidden": [(), (8,)]}, X, y, cv=3, fit_kwargs=FIT, metric="val_accuracy",
                   client="serial", progress=True)
    shown = capsys.readouterr().out
    assert "sweep (configuration × fold)" in shown and "6/6" in shown  # Rich's bar, with tasks done / tasks
    linear, hidden = result.scores
    assert len(linear.fold_scores) == 3 and len(hidden.fold_histories) == 3
    assert hidden.mean > linear.mean + 0.1  # the course: too few hidden layers underfit
    assert result.best is hidden
    assert "hidden=(8,)" in result.table() and result.table().count("*") == 1
    assert len(hidden.fold_histories[0]["val_loss"]) == FIT["epochs"]


def blas_threads():
    from threadpoolctl import threadpool_info
    return sorted({pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"})


def test_dask_sweep_equals_the_serial_one_and_names_failures(capsys):
    X, y = make_data(80)
    grid = {"hidden": [(4,), (6,)], "activation": ["tanh", "relu"]}
    kwargs = dict(fit_kwargs=dict(FIT, epochs=8), cv=2, seed=3)
    serial = sweep(build, grid, X, y, client="serial", **kwargs)
    client = local_client(2)
    try:
        assert list(client.run(blas_threads).values()) == [[1], [1]]  # 2 workers, BLAS at one thread each
        parallel = sweep(build, grid, X, y, client=client, progress=True, **kwargs)
        assert [s.fold_scores for s in parallel.scores] == [s.fold_scores for s in serial.scores]
        assert parallel.best.config == serial.best.config
        assert "8/8" in capsys.readouterr().out
        by_address = sweep(build, grid, X, y, client=client.scheduler.address, **kwargs)  # "tcp://127.0.0.1:…"
        assert [s.fold_scores for s in by_address.scores] == [s.fold_scores for s in serial.scores]
        assert client.run(lambda: 1)  # the cluster outlives the sweep's own client

        def broken(hidden=(), activation="tanh"):
            if activation == "relu":
                raise ValueError("no relu today")
            return build(hidden, activation)
        with pytest.raises(RuntimeError, match=r"activation=relu \(fold [01]\): ValueError: no relu today"):
            sweep(broken, grid, X, y, client=client, **kwargs)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


def test_bad_arguments_are_named():
    X, y = make_data(20)
    with pytest.raises(TypeError, match="factory"):
        sweep(build, {"hidden": [()]}, X, y, fit_kwargs=dict(FIT, optimizer=gn.optim.SGD(build().parameters())),
              client="serial")
    with pytest.raises(ValueError, match="validation_data"):
        sweep(build, {"hidden": [()]}, X, y, fit_kwargs=dict(FIT, validation_data=(X, y)), client="serial")
    with pytest.raises(ValueError, match="X has 20 samples but y has 19"):
        sweep(build, {"hidden": [()]}, X, y[:19], client="serial")
    with pytest.raises(RuntimeError, match="metric 'val_nothing' was not logged"):
        sweep(build, {"hidden": [()]}, X, y, cv=2, fit_kwargs=dict(FIT, epochs=1), metric="val_nothing",
              client="serial")


def test_restarts_on_a_client_equal_the_serial_ones():
    X, y = make_data(60)
    kwargs = dict(X=X, y=y, **dict(FIT, epochs=5))
    serial = gn.restarts(lambda: build((4,)), 3, kwargs, seed=7)
    client = local_client(2)
    try:
        parallel = gn.restarts(lambda: build((4,)), 3, kwargs, seed=7, client=client)
        by_address = gn.restarts(lambda: build((4,)), 3, kwargs, seed=7, client=client.scheduler.address)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    assert parallel.scores == serial.scores == by_address.scores and parallel.seeds == [7, 8, 9]
    assert parallel.best_index == serial.best_index
    for a, b in zip(parallel.best_model.parameters(), serial.best_model.parameters()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
