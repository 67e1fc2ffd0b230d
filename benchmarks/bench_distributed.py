#!/usr/bin/env python
"""Scaling out, measured: parallel backprop in one machine and beyond (issue 14).

    python benchmarks/bench_distributed.py all        # everything below, as markdown tables (~3 min)
    python benchmarks/bench_distributed.py sweep      # 5-fold × 8-configuration sweep: serial vs 2-worker LocalCluster
    python benchmarks/bench_distributed.py small-nets # 32 playground-sized trainings: serial vs 2 threads vs 2 processes
    mpirun -n 2 python benchmarks/bench_distributed.py allreduce   # Allreduce time of a flat buffer against its size
    mpirun -n 2 python benchmarks/bench_distributed.py w3 --per-rank 64   # data-parallel W3 step time

Times are medians of repeats; the machine's CPU and BLAS kernel are printed with them.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO]

import numpy as np  # noqa: E402


def machine() -> str:
    from threadpoolctl import threadpool_info
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown CPU")
    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} ({i.get('num_threads')} "
                     f"threads)" for i in threadpool_info() if i.get("user_api") == "blas")
    return f"{cpu}; {os.cpu_count()} cores; BLAS: {blas}"


# ------------------------------------------------------------------------------------------------ sweeps

def playground_net(hidden=(4, 2), activation="tanh"):
    from glassnet import nn
    layers, width = [], 7
    for size in hidden:
        layers += [nn.Linear(width, size), nn.Tanh() if activation == "tanh" else nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, 1))


def spiral():
    import glassnet.data as gd
    X, y = gd.make_dataset("spiral", n=500, noise=0.1, seed=0)
    return gd.features(X, gd.FEATURES).astype(np.float32), y.astype(np.float32)


def fit_kwargs(epochs: int):
    import glassnet as gn
    return dict(loss=gn.nn.BCEWithLogitsLoss(), optimizer="adam", epochs=epochs, batch_size=10, metrics=["accuracy"])


def bench_sweep(repeats: int = 3) -> dict:
    from glassnet.distributed import local_client, sweep
    X, y = spiral()
    grid = {"hidden": [(4,), (8,), (4, 2), (8, 8)], "activation": ["tanh", "relu"]}  # 8 configurations
    kwargs = dict(cv=5, fit_kwargs=fit_kwargs(20), metric="val_accuracy")
    serial, parallel = [], []
    client = local_client(2)
    try:
        sweep(playground_net, grid, X, y, client=client, **kwargs)  # warm the workers (imports)
        for _ in range(repeats):
            start = time.perf_counter()
            sweep(playground_net, grid, X, y, client="serial", **kwargs)
            serial.append(time.perf_counter() - start)
            start = time.perf_counter()
            sweep(playground_net, grid, X, y, client=client, **kwargs)
            parallel.append(time.perf_counter() - start)
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()
    s, p = statistics.median(serial), statistics.median(parallel)
    return {"tasks": 40, "serial_s": s, "dask_2_workers_s": p, "speedup": s / p,
            "paired": statistics.median(a / b for a, b in zip(serial, parallel))}


def _train_one(seed: int) -> float:
    import glassnet as gn
    X, y = spiral()
    gn.manual_seed(seed)
    model = playground_net((8, 8))
    history = gn.fit(model, X, y, **fit_kwargs(15))
    return history.history["loss"][-1]


def bench_small_nets(n: int = 32, repeats: int = 3) -> dict:
    """n independent trainings of a playground-sized net: the per-op overhead that bounds them is Python work,
    which two threads cannot share (the GIL); two processes can."""
    times = {"serial": [], "2 threads": [], "2 processes": []}
    with ProcessPoolExecutor(2) as processes:
        list(processes.map(_train_one, range(2)))  # start the workers
        for _ in range(repeats):
            start = time.perf_counter()
            serial = [_train_one(seed) for seed in range(n)]
            times["serial"].append(time.perf_counter() - start)
            with ThreadPoolExecutor(2) as threads:
                start = time.perf_counter()
                list(threads.map(_train_one, range(n)))  # (results may differ: threads share one generator)
                times["2 threads"].append(time.perf_counter() - start)
            start = time.perf_counter()
            parallel = list(processes.map(_train_one, range(n)))
            times["2 processes"].append(time.perf_counter() - start)
            assert serial == parallel, "a training must not depend on where it runs"
    medians = {key: statistics.median(values) for key, values in times.items()}
    return {"trainings": n, **{f"{key}_s": value for key, value in medians.items()},
            "speedup_threads": medians["serial"] / medians["2 threads"],
            "speedup_processes": medians["serial"] / medians["2 processes"]}


# ------------------------------------------------------------------------------------------------ MPI

def bench_allreduce(repeats: int = 20) -> list[dict] | None:
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rows = []
    for size in (1_000, 10_000, 100_000, 535_818, 1_000_000, 4_000_000):  # 535,818: W3's parameter count
        buffer = np.ones(size, np.float32)
        times = []
        for _ in range(repeats):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
            times.append(time.perf_counter() - start)
        rows.append({"elements": size, "bytes": buffer.nbytes, "median_ms": 1e3 * statistics.median(times)})
    return rows if comm.Get_rank() == 0 else None


def bench_w3(per_rank: int, steps: int = 30) -> dict | None:
    """W3 (784-512-256-10 ReLU, Adam, cross-entropy) data-parallel: ``per_rank`` samples per process and step."""
    from mpi4py import MPI

    import glassnet as gn
    from glassnet import nn, optim
    from glassnet.distributed import DistributedDataParallel
    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(comm.Get_rank())
    X = rng.standard_normal((per_rank * 8, 784), dtype=np.float32)
    y = rng.integers(0, 10, per_rank * 8)
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    ddp = DistributedDataParallel(model)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step in range(steps):
        batch = slice((step % 8) * per_rank, (step % 8 + 1) * per_rank)
        comm.Barrier()
        start = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(ddp(gn.tensor(X[batch])), y[batch]).backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    step_ms = 1e3 * statistics.median(times[5:])
    if comm.Get_rank():
        return None
    return {"processes": comm.Get_size(), "per_rank": per_rank, "global_batch": per_rank * comm.Get_size(),
            "step_ms": step_ms, "samples_per_s": per_rank * comm.Get_size() / step_ms * 1e3}


def mpirun(n: int, *args: str) -> list:
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1")
    done = subprocess.run(["mpirun", "-n", str(n), sys.executable, __file__, *args, "--json"], capture_output=True,
                          text=True, env=env, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["all", "sweep", "small-nets", "allreduce", "w3"])
    parser.add_argument("--per-rank", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="print one JSON line (used by 'all')")
    args = parser.parse_args()
    if args.what == "all":
        print(f"`python benchmarks/bench_distributed.py all` on {machine()}\n")
        print("Sweep, 5 folds × 8 configurations:\n\n" + table([bench_sweep()]) + "\n")
        print("32 independent playground-sized trainings:\n\n" + table([bench_small_nets()]) + "\n")
        if shutil.which("mpirun"):
            print("Allreduce of a float32 buffer, 2 processes:\n\n" + table(mpirun(2, "allreduce")) + "\n")
            w3 = [mpirun(1, "w3", "--per-rank", "128"), mpirun(2, "w3", "--per-rank", "64"),
                  mpirun(2, "w3", "--per-rank", "128")]
            print("W3 data-parallel (strong scaling: global batch 128 on 1 and 2 processes; weak: 128 per "
                  "process):\n\n" + table(w3))
        return
    result = {"sweep": bench_sweep, "small-nets": bench_small_nets, "allreduce": bench_allreduce,
              "w3": lambda: bench_w3(args.per_rank)}[args.what]()
    if result is not None:
        print(json.dumps(result) if args.json else (table(result if isinstance(result, list) else [result])))


if __name__ == "__main__":
    main()
