#!/usr/bin/env python
"""glassnet vs PyTorch on the layer workloads of issue 11, in one process, alternating (bench_core's protocol).

    python benchmarks/bench_layers.py                    # W4 speed and W4mem (~1 min)
    python benchmarks/bench_layers.py --quick            # smoke run (< 20 s on a quiet machine)
    python benchmarks/bench_layers.py --threads 1        # both sides at one thread (default: all cores)
    python benchmarks/bench_layers.py --profile          # where glassnet's W4 step goes (cProfile, by function)
    python benchmarks/bench_layers.py --least-steps 25   # also the least single-step time per side (busy machine)

W4: LeNet-5 (conv 1→6 5×5 pad 2, ReLU, max-pool 2, conv 6→16 5×5, ReLU, max-pool 2, 400-120-84-10 ReLU) on
1×28×28, batch 64, cross-entropy, SGD lr 0.01 momentum 0.9; 2,048 random N(0, 1) images, 10 random classes. Both
sides run bench_core's ``train_step`` on the same pre-built float32 batches from the same initial weights, after
3 identical steps whose losses must agree. W4mem: peak RSS of a fresh process per library training W4.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

import harness  # noqa: E402  (before NumPy: it may re-exec without the OpenBLAS variables)

TARGET, STRETCH, BATCH, SAMPLES = 0.5, 0.8, 64, 2048


def lenet(lib: Any) -> Any:
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def build(name: str, state: dict | None) -> dict:
    """One side of W4 as bench_core's ``unit_runner`` and ``check_agreement`` take it."""
    import numpy as np

    import bench_core
    lib, to_tensor = bench_core.library(name)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((SAMPLES, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, SAMPLES)
    model = lenet(lib)
    if state is not None:
        model.load_state_dict({k: to_tensor(np.array(v)) for k, v in state.items()})
    batches = [(to_tensor(X[i:i + BATCH]), to_tensor(y[i:i + BATCH])) for i in range(0, SAMPLES, BATCH)]
    return dict(model=model, loss_fn=lib.nn.CrossEntropyLoss(),
                opt=lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9), batches=batches,
                step=bench_core.train_step, phases=bench_core.step_phases)


def speed(args: argparse.Namespace) -> None:
    import glassnet

    import bench_core
    glassnet.manual_seed(0)
    gside = build("glassnet", None)
    sides = {"glassnet": gside, "torch": build("torch", gside["model"].state_dict())}
    print(f"\n== W4 LeNet-5 on 1×28×28, batch {BATCH}, cross-entropy, SGD lr 0.01 momentum 0.9   "
          f"[samples/s, {args.threads} thread{'s' * (args.threads > 1)} each side]")
    with harness.threads(args.threads):
        print("   check: " + bench_core.check_agreement(sides))
        steps = 4
        rates = harness.alternate({n: bench_core.unit_runner(s, steps) for n, s in sides.items()}, args.repeats,
                                  args.seconds, args.threads > 1)
        phases = harness.time_phases({n: bench_core.unit_runner(s, 1, phases=True) for n, s in sides.items()},
                                     bench_core.PHASES, args.phase_seconds, args.phase_rounds,
                                     3 if args.quick else 10, args.threads > 1)
    harness.print_pairs(rates, steps * BATCH, TARGET, STRETCH, args.threads)
    harness.print_phases(phases, bench_core.PHASES)


def least_steps(args: argparse.Namespace) -> None:
    """The least time of one training step per side over ``--least-steps`` alternating single steps: robust to a
    busy machine, where blocks of steps are not (other processes only add time)."""
    import glassnet

    import bench_core
    glassnet.manual_seed(0)
    gside = build("glassnet", None)
    sides = {"glassnet": gside, "torch": build("torch", gside["model"].state_dict())}
    runs = {name: bench_core.unit_runner(side, 1) for name, side in sides.items()}
    best = {name: float("inf") for name in runs}
    with harness.threads(args.threads):
        for _ in range(args.least_steps):
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - start)
    print(f"\n== W4 least step time of {args.least_steps} alternating steps, {args.threads} thread(s): glassnet "
          f"{best['glassnet'] * 1e3:.2f} ms, torch {best['torch'] * 1e3:.2f} ms: glassnet ÷ torch (samples/s) "
          f"{best['torch'] / best['glassnet']:.2f}×")


def memory_child(name: str, steps: int, threads: int) -> None:
    """In a fresh process: train W4 with one library only; print the process's peak RSS as JSON."""
    import bench_core
    bench_core.library(name)[0].manual_seed(0)
    with harness.threads(threads):
        run = bench_core.unit_runner(build(name, None), steps)
        ready = harness.peak_rss_mb()
        run()
    print(json.dumps(dict(peak=harness.peak_rss_mb(), ready=ready)))


def memory(steps: int, threads: int) -> None:
    """Peak RSS of a fresh process per library (started before this process imports NumPy or torch)."""
    procs = {name: subprocess.Popen([sys.executable, __file__, "--memory-child", name, "--memory-steps", str(steps),
                                     "--threads", str(threads)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True) for name in ("glassnet", "torch")}
    print(f"\n== W4 memory: peak RSS of a fresh process training W4 for {steps} steps, one library per process")
    for name, proc in procs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"memory run for {name} failed:\n{stderr}")
        res = json.loads(stdout.strip().splitlines()[-1])
        peak = res["peak"]
        print(f"   {name:<9} peak {peak['ru_maxrss']:5.0f} MB (ru_maxrss; VmHWM {peak.get('VmHWM', 0):.0f} MB); "
              f"after imports + data + model: {res['ready']['ru_maxrss']:.0f} MB")


def profile() -> None:
    """cProfile of 30 glassnet W4 steps at one thread: the functions with the most own time."""
    import cProfile
    import pstats

    import glassnet

    import bench_core
    glassnet.manual_seed(0)
    run = bench_core.unit_runner(build("glassnet", None), 30)
    with harness.threads(1):
        run()
        profiler = cProfile.Profile()
        profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: short blocks (not a measurement)")
    p.add_argument("--threads", type=int, default=0, help="threads per side (default: all cores)")
    p.add_argument("--repeats", type=int, default=9, help="alternating repeats (default 9)")
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timed block per side (default 1.0)")
    p.add_argument("--phase-seconds", type=float, default=0.5)
    p.add_argument("--phase-rounds", type=int, default=5)
    p.add_argument("--no-memory", action="store_true", help="skip the peak-RSS runs")
    p.add_argument("--profile", action="store_true", help="profile glassnet's step instead of timing")
    p.add_argument("--least-steps", type=int, default=0, metavar="N",
                   help="also the least time of one step per side over N alternating steps (robust to load)")
    p.add_argument("--keep-blas-env", action="store_true")
    p.add_argument("--memory-child", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    p.add_argument("--memory-steps", type=int, default=100, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.threads = args.threads or harness.cores()
    if args.quick:
        args.repeats, args.seconds, args.phase_seconds, args.phase_rounds, args.memory_steps = 3, 0.1, 0.05, 2, 5
    harness.clean_blas_env(args.keep_blas_env)
    if args.memory_child:
        return memory_child(args.memory_child, args.memory_steps, args.threads)
    if args.profile:
        return profile()
    start = time.time()
    if not args.no_memory:
        memory(args.memory_steps, args.threads)
    import numpy  # noqa: F401  (loaded before the report so that threadpoolctl sees its BLAS)
    import torch  # noqa: F401
    harness.print_header("bench_layers", REPO, args.quick)
    speed(args)
    if args.least_steps:
        least_steps(args)
    print(f"\nload average at end: {harness.load_average()}; took {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
