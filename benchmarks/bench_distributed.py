#!/usr/bin/env python
"""Scaling out, measured: parallel backprop in one machine and beyond (issue 14).

    python benchmarks/bench_distributed.py all        # everything below, as markdown tables (~4 min; --quick ~1)
    python benchmarks/bench_distributed.py sweep      # 5-fold × 8-configuration sweep: serial vs 2-worker LocalCluster
    python benchmarks/bench_distributed.py small-nets # 32 playground-sized trainings: serial, 2 threads, 2 processes
    python benchmarks/bench_distributed.py blas       # matmuls and training steps at 1 and 2 BLAS threads
    python benchmarks/bench_distributed.py tasks      # a Dask task's overhead: no-op and fixed-length tasks
    mpirun -n 2 python benchmarks/bench_distributed.py allreduce   # Allreduce time of a flat buffer against its size
    mpirun -n 2 python benchmarks/bench_distributed.py w3 --per-rank 64   # data-parallel W3 step time
    mpirun -n 2 python benchmarks/bench_distributed.py overlap            # W3's step with and without overlap
    python benchmarks/bench_distributed.py model --gflops 102 # docs/scaling.md's model of N machines, from numbers

Times are medians of repeats; the machine's CPU, BLAS kernel and load average are printed with them.
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
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}; {os.cpu_count()} cores; BLAS: {blas}; load average {load}"


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


# ------------------------------------------------------------------------------------------------ BLAS threads

def _median_seconds(fn, repeats: int, number: int = 1) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def w3_net():
    from glassnet import nn
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def _training_step(model, X, y, loss_fn):
    """One step (zero_grad, forward, loss, backward, Adam step) on fixed tensors, as a function of nothing."""
    import glassnet as gn
    optimizer = gn.optim.Adam(model.parameters(), lr=1e-3)
    x, target = gn.tensor(X), gn.tensor(y)

    def step():
        optimizer.zero_grad()
        loss_fn(model(x), target).backward()
        optimizer.step()
    return step


def bench_blas(repeats: int = 5) -> list[dict]:
    """Where BLAS threads already parallelise: a large matmul runs on both cores, a small one and a small net's
    step (per-op Python overhead) do not get faster."""
    from threadpoolctl import threadpool_limits

    import glassnet as gn
    rng = np.random.default_rng(0)
    work = []
    for n in (32, 128, 512, 1024, 2048):
        a, b = (rng.standard_normal((n, n), dtype=np.float32) for _ in range(2))
        work.append((f"matmul {n}×{n} float32", lambda a=a, b=b: a @ b, 2 * n ** 3, max(1, int(4e8 // n ** 3))))
    gn.manual_seed(0)
    X, y = rng.standard_normal((10, 7), dtype=np.float32), rng.integers(0, 2, (10, 1)).astype(np.float32)
    work.append(("playground 7-8-8-1 step, batch 10", _training_step(playground_net((8, 8)), X, y,
                                                                      gn.nn.BCEWithLogitsLoss()), None, 200))
    X, y = rng.standard_normal((128, 784), dtype=np.float32), rng.integers(0, 10, 128)
    work.append(("W3 784-512-256-10 step, batch 128", _training_step(w3_net(), X, y, gn.nn.CrossEntropyLoss()),
                 6 * W3_PARAMETERS * 128, 5))
    rows = []
    for name, fn, flops, number in work:
        seconds = {}
        for threads in (1, 2):
            with threadpool_limits(threads, user_api="blas"):
                fn()
                seconds[threads] = _median_seconds(fn, repeats, number)
        rows.append({"work": name, "1_thread_ms": 1e3 * seconds[1], "2_threads_ms": 1e3 * seconds[2],
                     "speedup": seconds[1] / seconds[2],
                     "gflops_2_threads": flops / seconds[2] / 1e9 if flops else float("nan")})
    return rows


# ------------------------------------------------------------------------------------------------ Dask tasks

def _noop(i: int) -> int:
    return i


def _sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def bench_tasks(n: int = 400) -> list[dict]:
    """A Dask task's cost on a 2-worker LocalCluster: ``n`` no-op tasks (the overhead per task, o = wall × 2 / n,
    and the rate the cluster sustains), then tasks of fixed length T (sleeps, so that the load of other programs
    does not stretch them) against the model speed-up = 2·T / (T + o)."""
    from glassnet.distributed import local_client
    client = local_client(2)
    try:
        client.gather(client.map(_noop, range(20), pure=False))  # warm
        start = time.perf_counter()
        client.gather(client.map(_noop, range(n), pure=False))
        wall = time.perf_counter() - start
        overhead = 2 * wall / n
        rows = [{"task": "no-op", "tasks": n, "wall_s": wall, "tasks_per_s": n / wall, "overhead_ms": 1e3 * overhead,
                 "speedup": float("nan"), "model_speedup": float("nan")}]
        for length in (0.001, 0.01, 0.1):
            count = max(20, min(n, int(round(2.0 / length))))
            start = time.perf_counter()
            client.gather(client.map(_sleep, [length] * count, pure=False))
            wall = time.perf_counter() - start
            rows.append({"task": f"sleep {1e3 * length:g} ms", "tasks": count, "wall_s": wall,
                         "tasks_per_s": count / wall, "overhead_ms": 1e3 * (2 * wall / count - length),
                         "speedup": count * length / wall, "model_speedup": 2 * length / (length + overhead)})
        return rows
    finally:
        cluster = client.cluster
        client.close()
        cluster.close()


# ------------------------------------------------------------------------------------------------ MPI

W3_PARAMETERS = 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10  # 535,818


def bench_allreduce(repeats: int = 20) -> list[dict] | None:
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    rows = []
    for size in (1, 1_000, 10_000, 100_000, W3_PARAMETERS, 1_000_000, 4_000_000, 16_000_000):
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
    """W3 (784-512-256-10 ReLU, Adam, cross-entropy) data-parallel: ``per_rank`` samples per process and step; the
    step's time and, within it, the time of the gradients' Allreduce (the communication)."""
    from mpi4py import MPI

    import glassnet as gn
    from glassnet import nn, optim
    from glassnet.distributed import DistributedDataParallel
    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(comm.Get_rank())
    X = rng.standard_normal((per_rank * 8, 784), dtype=np.float32)
    y = rng.integers(0, 10, per_rank * 8)
    gn.manual_seed(0)
    model = w3_net()
    ddp = DistributedDataParallel(model)
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times, reducing = [], []
    average = ddp.average_gradients

    def timed_average():
        start = time.perf_counter()
        average()
        reducing.append(time.perf_counter() - start)
    ddp.average_gradients = timed_average
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
            "step_ms": step_ms, "allreduce_ms": 1e3 * statistics.median(reducing[5:]),
            "samples_per_s": per_rank * comm.Get_size() / step_ms * 1e3,
            "gflops": 6 * W3_PARAMETERS * per_rank * comm.Get_size() / step_ms / 1e6}


# (name, W3 as one fused node or a node per layer, DistributedDataParallel's settings)
OVERLAP_CONFIGS = [
    ("fused, reduced when backward ends (the default)", True, {}),
    ("node per layer, reduced when backward ends", False, {}),
    ("node per layer, overlap, default buckets", False, {"overlap": True}),
    ("node per layer, overlap, a bucket per layer", False, {"overlap": True, "bucket_cap_mb": 0.25}),
]


def bench_overlap(per_rank: int, rounds: int = 40) -> list[dict] | None:
    """W3 data-parallel with the gradients' reductions started when backward ends and during backward (overlap),
    each setting with its own model and optimizer, one step of each in turn per round (paired: the machine's load
    drifts alike for all); the median step and the median wait left in ``average_gradients`` after backward."""
    from mpi4py import MPI

    import glassnet as gn
    from glassnet import nn, optim
    from glassnet.distributed import DistributedDataParallel
    comm = MPI.COMM_WORLD
    rng = np.random.default_rng(comm.Get_rank())
    X = rng.standard_normal((per_rank * 8, 784), dtype=np.float32)
    y = rng.integers(0, 10, per_rank * 8)
    loss_fn = nn.CrossEntropyLoss()
    runs = []
    for name, fused, settings in OVERLAP_CONFIGS:
        gn.manual_seed(0)
        model = w3_net()
        if not fused:  # each Linear in a Sequential of its own: one graph node per layer
            model = nn.Sequential(*(nn.Sequential(m) if isinstance(m, nn.Linear) else m for m in model))
        ddp = DistributedDataParallel(model, **settings)
        run = {"name": name, "ddp": ddp, "optimizer": optim.Adam(model.parameters(), lr=1e-3), "steps": [],
               "waits": []}
        finish = ddp.average_gradients

        def timed_finish(finish=finish, waits=run["waits"]):
            start = time.perf_counter()
            finish()
            waits.append(time.perf_counter() - start)
        ddp.average_gradients = timed_finish
        runs.append(run)
    for step in range(rounds):
        batch = slice((step % 8) * per_rank, (step % 8 + 1) * per_rank)
        for run in runs[step % len(runs):] + runs[:step % len(runs)]:  # each setting first in turn
            comm.Barrier()
            start = time.perf_counter()
            run["optimizer"].zero_grad()
            loss_fn(run["ddp"](gn.tensor(X[batch])), y[batch]).backward()
            run["optimizer"].step()
            run["steps"].append(time.perf_counter() - start)
    if comm.Get_rank():
        return None
    return [{"setting": run["name"], "buckets": len(run["ddp"].buckets),
             "step_ms": 1e3 * statistics.median(run["steps"][5:]),
             "wait_after_backward_ms": 1e3 * statistics.median(run["waits"][5:])} for run in runs]


def mpirun(n: int, *args: str, blas_threads: int = 1) -> list:
    """``mpirun -n n`` this script, unbound (OpenMPI binds each of ≤ 2 ranks to one core by default, which would
    leave one process's second BLAS thread without a core), each rank at ``blas_threads`` BLAS threads."""
    threads = str(blas_threads)
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads,
               MKL_NUM_THREADS=threads)
    done = subprocess.run(["mpirun", "--bind-to", "none", "-n", str(n), sys.executable, __file__, *args, "--json"],
                          capture_output=True, text=True, env=env, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------------ the model

NETWORKS = [  # (name, bandwidth in bytes/s, latency in s): typical figures, not measurements
    ("1 Gb/s Ethernet", 0.125e9, 50e-6), ("10 Gb/s Ethernet", 1.25e9, 20e-6),
    ("100 Gb/s InfiniBand", 12.5e9, 2e-6)]
MODELS = [  # (name, parameters, multiply-adds per sample of the forward pass)
    ("playground 7-8-8-1", 145, 145), ("W3 MLP 784-512-256-10", W3_PARAMETERS, W3_PARAMETERS),
    ("ResNet-18, 224×224", 11.7e6, 1.8e9), ("ResNet-50, 224×224", 25.6e6, 3.8e9),
    ("BERT-base, 128 tokens", 110e6, 110e6 * 128)]


def ring_allreduce_s(nbytes: float, machines: int, bandwidth: float, latency: float) -> float:
    """Ring Allreduce: a reduce-scatter and an all-gather, each N − 1 steps of bytes/N."""
    return 2 * (machines - 1) / machines * nbytes / bandwidth + 2 * (machines - 1) * latency


def fit_link(rows: list[dict]) -> tuple[float, float]:
    """(bandwidth, latency) of the 2-process link from Allreduce times t = bytes/bandwidth + 2·latency."""
    nbytes = np.array([row["bytes"] for row in rows], float)
    seconds = np.array([row["median_ms"] for row in rows]) / 1e3
    slope, intercept = np.polyfit(nbytes, seconds, 1)
    return 1 / slope, max(intercept, 0.0) / 2


def _first_below_half(efficiency, most: int = 1_000_000) -> int | None:
    """The least N ≥ 2 with efficiency(N) < 0.5 (efficiency falls as N grows), or None up to ``most``."""
    if efficiency(most) >= 0.5:
        return None
    low, high = 1, most  # efficiency(low) ≥ 0.5 > efficiency(high), with efficiency(1) = 1
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if efficiency(middle) >= 0.5 else (low, middle)
    return high


def scaling_model(gflops: float, floor_ms: float, networks: list = NETWORKS, per_machine: int = 32,
                  global_batch: int = 256) -> list[dict]:
    """Data-parallel training on N machines, from the compute rate ``gflops`` (a training step costs 3 forward
    passes: 6 FLOPs per multiply-add and sample, plus ``floor_ms``, the per-op overhead that bounds a small net's
    step) and each network's ring Allreduce of the float32 gradients, without overlap. Weak scaling:
    ``per_machine`` samples per machine, efficiency E(N) = compute / (compute + Allreduce), speed-up N·E; strong
    scaling: a fixed ``global_batch`` shared by N machines."""
    rows = []
    for model, parameters, macs in MODELS:
        nbytes = 4 * parameters
        def step_s(batch):
            return floor_ms / 1e3 + 6 * macs * batch / (gflops * 1e9)
        compute = step_s(per_machine)
        for network, bandwidth, latency in networks:
            def efficiency(n):
                return compute / (compute + ring_allreduce_s(nbytes, n, bandwidth, latency))
            half = _first_below_half(efficiency)
            strong = {n: step_s(global_batch) / (step_s(global_batch / n)
                                                 + ring_allreduce_s(nbytes, n, bandwidth, latency))
                      for n in range(1, global_batch + 1)}
            best = max(strong, key=strong.get)
            rows.append({"model": model, "network": network, "gradient_MB": nbytes / 1e6,
                         f"compute_ms_{per_machine}": 1e3 * compute,
                         "allreduce_ms_N8": 1e3 * ring_allreduce_s(nbytes, 8, bandwidth, latency),
                         "E_N8": efficiency(8), "E_N64": efficiency(64),
                         "E_below_half_at_N": half if half is not None else "> 10^6",
                         f"strong_{global_batch}_best_N": best, "strong_best_speedup": strong[best]})
    return rows


def sweep_model(overhead_s: float, rate: float) -> list[dict]:
    """Speed-up of a sweep of independent tasks of length T on W workers: W·T / (T + o), o the overhead per task,
    and at most T · rate (the rate, tasks/s, that the scheduler sustained with no-op tasks, a lower bound of
    its own)."""
    rows = []
    for length in (0.001, 0.01, 0.1, 1.0, 10.0, 60.0):
        row = {"task_length_s": length}
        for workers in (2, 16, 128, 1024):
            row[f"W{workers}"] = min(workers * length / (length + overhead_s), length * rate)
        rows.append(row)
    return rows


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        lines.append("| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return "\n".join(lines)


def run_all(quick: bool) -> None:
    repeats = 1 if quick else 3
    print(f"`python benchmarks/bench_distributed.py all{' --quick' if quick else ''}` on {machine()}\n")
    print("Sweep, 5 folds × 8 configurations:\n\n" + table([bench_sweep(repeats)]) + "\n")
    print("32 independent playground-sized trainings:\n\n" + table([bench_small_nets(repeats=repeats)]) + "\n")
    blas = bench_blas(3 if quick else 7)
    print("BLAS threads:\n\n" + table(blas) + "\n")
    tasks = bench_tasks(200 if quick else 1000)
    print("Dask tasks on a 2-worker LocalCluster:\n\n" + table(tasks) + "\n")
    print("Sweep model (speed-up on W workers, o and rate measured above):\n\n"
          + table(sweep_model(tasks[0]["overhead_ms"] / 1e3, tasks[0]["tasks_per_s"])) + "\n")
    if not shutil.which("mpirun"):
        return
    allreduce = mpirun(2, "allreduce")
    bandwidth, latency = fit_link(allreduce)
    print("Allreduce of a float32 buffer, 2 processes:\n\n" + table(allreduce) + "\n")
    print(f"Fit t = bytes/bandwidth + 2·latency: bandwidth {bandwidth / 1e9:.3g} GB/s, latency {1e6 * latency:.3g} µs"
          "\n")
    w3 = [mpirun(1, "w3", "--per-rank", "128", blas_threads=1), mpirun(1, "w3", "--per-rank", "128", blas_threads=2),
          mpirun(2, "w3", "--per-rank", "64"), mpirun(2, "w3", "--per-rank", "128")]
    for row, threads in zip(w3, (1, 2, 1, 1)):
        row["blas_threads"] = threads
    print("W3 data-parallel (strong scaling: global batch 128 on 1 process at 1 and 2 BLAS threads and on 2 "
          "processes at 1; weak: 128 per process):\n\n" + table(w3) + "\n")
    print("W3 data-parallel on 2 processes, 64 samples each: gradients reduced when backward ends or during "
          "backward:\n\n" + table(mpirun(2, "overlap", "--per-rank", "64")) + "\n")
    gflops = max(w3[0]["gflops"], w3[1]["gflops"])  # one process's best
    here = [("this machine, 2 processes (fit above)", bandwidth, latency)]
    playground = next(row for row in blas if row["work"].startswith("playground"))
    floor_ms = min(playground["1_thread_ms"], playground["2_threads_ms"])
    print(f"Model of N machines at glassnet's {gflops:.3g} GFLOP/s (W3, 1 process, the faster thread count), "
          f"steps {floor_ms:.3g} ms longer (the playground step):\n\n"
          + table(scaling_model(gflops, floor_ms, here + NETWORKS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["all", "sweep", "small-nets", "blas", "tasks", "allreduce", "w3", "overlap",
                                         "model"])
    parser.add_argument("--per-rank", type=int, default=64)
    parser.add_argument("--gflops", type=float, default=102.0, help="compute rate for 'model' (W3's, RESULTS.md)")
    parser.add_argument("--floor-ms", type=float, default=0.05, help="shortest step for 'model' (per-op overhead)")
    parser.add_argument("--quick", action="store_true", help="one repeat, fewer tasks: a loaded machine's smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON line (used by 'all')")
    args = parser.parse_args()
    if args.what == "all":
        return run_all(args.quick)
    repeats = 1 if args.quick else 3
    result = {"sweep": lambda: bench_sweep(repeats), "small-nets": lambda: bench_small_nets(repeats=repeats),
              "blas": lambda: bench_blas(3 if args.quick else 7), "tasks": bench_tasks,
              "allreduce": bench_allreduce, "w3": lambda: bench_w3(args.per_rank),
              "overlap": lambda: bench_overlap(args.per_rank),
              "model": lambda: scaling_model(args.gflops, args.floor_ms)}[args.what]()
    if result is not None:
        print(json.dumps(result) if args.json else (table(result if isinstance(result, list) else [result])))


if __name__ == "__main__":
    main()
