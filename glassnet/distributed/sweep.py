"""Hyper-parameter sweeps and k-fold cross-validation as Dask tasks: every (configuration, fold) training is one
task, so the same code runs serially, on the two processes of a laptop's ``LocalCluster`` or on a real cluster.

The course's way to pick the number of hidden layers ("cross-validation can be used to determine an appropriate
number of hidden layers") is ``sweep(build, {"hidden": [(8,), (8, 8), (8, 8, 8)]}, X, y, cv=5, ...)``.
Each task seeds glassnet's generator from the sweep's seed and the fold, so a task's result does not depend on
where or in which order it runs: a parallel sweep equals the serial one.
"""
from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["sweep", "SweepResult", "ConfigScore", "grid_configs", "kfold_indices", "local_client"]

SERIAL = "serial"


@dataclass
class ConfigScore:
    """One configuration's cross-validated score: the mean and standard deviation over folds of ``metric``."""

    config: dict[str, Any]
    mean: float
    std: float
    fold_scores: list[float]
    fold_histories: list[dict[str, list[float]]] = field(repr=False)


@dataclass
class SweepResult:
    """Every configuration's score (in the order of the grid) and the best one (lowest for losses, highest for
    accuracies)."""

    metric: str
    scores: list[ConfigScore]
    best: ConfigScore

    def table(self) -> str:
        """A plain-text table: one row per configuration, mean ± sd, the best one marked."""
        rows = [f"{'':2}{'configuration':<40} {self.metric + ' mean ± sd':>24}"]
        for score in self.scores:
            mark = "* " if score is self.best else "  "
            rows.append(f"{mark}{_describe(score.config):<40} {score.mean:>13.5g} ± {score.std:<8.3g}")
        return "\n".join(rows)


def _describe(config: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in config.items())


def grid_configs(grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The configurations of a grid: every combination of a {name: values} mapping, or a list of dicts as given."""
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise ValueError(f"sweep grid: {name!r} must be a non-empty list of values, got {values!r}")
        names = list(grid)
        return [dict(zip(names, combo)) for combo in itertools.product(*(grid[name] for name in names))]
    configs = [dict(config) for config in grid]
    if not configs:
        raise ValueError("sweep grid: no configurations")
    return configs


def kfold_indices(n: int, folds: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) index arrays of ``folds`` folds over a shuffled ``range(n)``."""
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError(f"cv must be an integer ≥ 2, got {folds!r}")
    if folds > n:
        raise ValueError(f"cv={folds} folds need at least {folds} samples, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    parts = np.array_split(order, folds)
    return [(np.concatenate(parts[:k] + parts[k + 1:]), parts[k]) for k in range(folds)]


def _train_fold(build: Callable[..., Any], config: dict[str, Any], fold: int, X: np.ndarray, y: np.ndarray,
                train_index: np.ndarray, val_index: np.ndarray, fit_kwargs: dict[str, Any], metric: str,
                seed: int) -> tuple[float, dict[str, list[float]]]:
    """One task: build the model for ``config``, train it on the fold's training part, score the held-out part."""
    import glassnet as gn  # in the worker process

    try:
        gn.manual_seed(seed + fold)
        model = build(**config)
        history = gn.fit(model, X[train_index], y[train_index], validation_data=(X[val_index], y[val_index]),
                         **fit_kwargs)
        logs = history.history
        if metric not in logs:
            raise ValueError(f"metric {metric!r} was not logged; the logs have {sorted(logs)}")
        return float(logs[metric][-1]), {key: [float(v) for v in values] for key, values in logs.items()}
    except Exception as error:
        raise RuntimeError(f"sweep task failed for configuration {_describe(config)} (fold {fold}): "
                           f"{type(error).__name__}: {error}") from error


def local_client(workers: int = 2) -> Any:
    """A Dask client of a ``LocalCluster`` of ``workers`` processes with one thread each and BLAS at one thread
    (two BLAS thread pools per core only fight). ``client.shutdown()`` stops the cluster with it."""
    from dask.distributed import Client, LocalCluster

    one_thread = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                           env=one_thread)
    return Client(cluster)


@contextmanager
def _progress_bar(total: int, show: bool) -> Iterator[Callable[[], None]]:
    """A function to call when a task finishes: it advances a Rich progress bar (a line per task without Rich)."""
    if not show:
        yield lambda: None
        return
    try:
        from rich.progress import MofNCompleteColumn, Progress
    except ImportError:
        done = itertools.count(1)
        yield lambda: print(f"sweep: {next(done)}/{total} trainings done", file=sys.stderr, flush=True)
        return
    with Progress(*Progress.get_default_columns(), MofNCompleteColumn()) as bar:
        task = bar.add_task("sweep (configuration × fold)", total=total)
        yield lambda: bar.advance(task)


def sweep(build: Callable[..., Any], grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]], X: Any,
          y: Any, *, cv: int = 5, fit_kwargs: Mapping[str, Any] | None = None, metric: str = "val_loss",
          mode: str = "auto", seed: int = 0, client: Any = None, progress: bool | None = None) -> SweepResult:
    """Cross-validate every configuration of ``grid``: ``build(**config)`` makes a fresh model, ``gn.fit`` trains
    it on k − 1 folds with ``fit_kwargs`` (loss, optimizer as a name or factory, epochs, batch_size, metrics, …),
    and ``metric`` (a key of fit's logs: "val_loss", "val_accuracy", …) is read at the end of training.

    X: (N, features), y: (N,) or (N, outputs). ``client``: a ``dask.distributed.Client``, a scheduler address
    ("tcp://host:8786"), ``"serial"`` (no Dask), or None: a 2-process LocalCluster when Dask is installed, serial
    otherwise. ``mode`` "min"/"max" (auto: max for accuracies) says which score is best. ``progress`` shows a
    progress bar over the tasks (Rich); None: when stdout is a terminal. The trainings themselves print nothing
    unless ``fit_kwargs`` sets ``verbose``.
    """
    if not callable(build):
        raise TypeError(f"sweep: build must be a function config → model, got {type(build).__name__}")
    configs = grid_configs(grid)
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"sweep: X has {len(X)} samples but y has {len(y)}")
    fit_kwargs = {"verbose": 0, **(fit_kwargs or {})}
    optimizer = fit_kwargs.get("optimizer")
    if optimizer is not None and not (isinstance(optimizer, str) or _is_factory(optimizer)):
        raise TypeError("sweep: give fit_kwargs['optimizer'] as a name ('adam') or a factory (lambda params: ...), "
                        "since every task builds its own model")
    for reserved in ("validation_data", "validation_split"):
        if reserved in fit_kwargs:
            raise ValueError(f"sweep: fit_kwargs must not set {reserved!r}: the folds are the validation data")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"sweep: mode must be 'auto', 'min' or 'max', got {mode!r}")
    maximize = mode == "max" or (mode == "auto" and "acc" in metric)
    folds = kfold_indices(len(X), cv, seed)
    tasks = [(c, k) for c in range(len(configs)) for k in range(len(folds))]

    own_client = None
    if client is None:
        try:
            own_client = client = local_client()
        except ImportError:
            client = SERIAL
    elif isinstance(client, str) and client != SERIAL:
        from dask.distributed import Client
        own_client = client = Client(client)
    show = bool(getattr(sys.stdout, "isatty", bool)()) if progress is None else bool(progress)
    try:
        with _progress_bar(len(tasks), show) as advance:
            if client == SERIAL:
                outcomes = []
                for c, k in tasks:
                    outcomes.append(_train_fold(build, configs[c], k, X, y, *folds[k], fit_kwargs, metric, seed))
                    advance()
            else:
                outcomes = _run_on(client, tasks, build, configs, folds, X, y, fit_kwargs, metric, seed, advance)
    finally:
        if own_client is not None:
            cluster = own_client.cluster
            own_client.close()
            if cluster is not None:
                cluster.close()
    scores = []
    for c, config in enumerate(configs):
        mine = [outcomes[i] for i, (task_config, _) in enumerate(tasks) if task_config == c]
        values = [score for score, _ in mine]
        finite = [v for v in values if math.isfinite(v)]
        mean = float(np.mean(finite)) if len(finite) == len(values) else (-math.inf if maximize else math.inf)
        scores.append(ConfigScore(config, mean, float(np.std(values)) if finite else math.nan, values,
                                  [history for _, history in mine]))
    best = (max if maximize else min)(scores, key=lambda s: s.mean)
    return SweepResult(metric, scores, best)


def _run_on(client: Any, tasks: list[tuple[int, int]], build: Callable[..., Any], configs: list[dict[str, Any]],
            folds: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, y: np.ndarray, fit_kwargs: dict[str, Any],
            metric: str, seed: int, advance: Callable[[], None]) -> list[tuple[float, dict[str, list[float]]]]:
    """The tasks' outcomes, in the order of ``tasks``, computed on a Dask client; the first failure is raised
    (naming its configuration and fold) and the tasks still to run are cancelled."""
    from dask.distributed import as_completed

    data = client.scatter([X, y], broadcast=True, hash=False)  # to each worker once, not once a task
    futures = [client.submit(_train_fold, build, configs[c], k, *data, *folds[k], fit_kwargs, metric, seed,
                             pure=False) for c, k in tasks]
    try:
        for future in as_completed(futures):
            if future.status == "error":
                future.result()  # raises the task's error
            advance()
        return client.gather(futures)
    except BaseException:
        client.cancel(futures)
        raise


def _is_factory(value: Any) -> bool:
    from glassnet.optim import Optimizer
    return callable(value) and not isinstance(value, Optimizer)
