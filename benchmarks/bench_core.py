#!/usr/bin/env python
"""glassnet vs PyTorch (and the NumPy floor, floor.py) on the MLP workloads, in one process, alternating: those of
issue 3 (W1, W1deep, W2, W3) and issue 11's autoencoder (W7).

    python benchmarks/bench_core.py                      # everything (~2.5 min)
    python benchmarks/bench_core.py --quick              # smoke run (< 20 s on a quiet machine)
    python benchmarks/bench_core.py --workloads W1,W2    # a selection: W1, W1deep, W2, W3, W3mem, W7, W7mem

glassnet and torch run the PyTorch user's own loop (``train_step``), the floor its straight-line step, on the same
pre-built float32 batches from the same initial weights; identical steps are checked first so that a fast but wrong
side cannot pass. See README.md.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from typing import Any, Callable, NamedTuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]  # the harness, and the glassnet of this checkout

import harness  # noqa: E402  (before NumPy: it may re-exec without the OpenBLAS variables)

SIDES = ("glassnet", "torch", "floor")  # the floor: the same NumPy calls as glassnet, straight-line (floor.py)


class Spec(NamedTuple):
    """A workload: the network, loss and optimizer (named alike in glassnet and torch), data, and how to report."""

    title: str
    sizes: list[int]
    activation: str        # "Tanh" / "ReLU": the class name in both gn.nn and torch.nn
    output_activation: bool
    loss: str              # "MSELoss" / "CrossEntropyLoss"
    optimizer: str         # "SGD" / "Adam"
    lr: float
    data: Callable[[], tuple[Any, Any]]  # () -> (X float32, y), built on first use
    batch: int
    unit: str              # "epochs/s" or "samples/s"
    threads: int
    target: float          # glassnet ÷ torch at least this
    unit_steps: int = 0    # steps timed as one unit (0: an epoch)


# ------------------------------------------------------------------------------------------------ workloads

def w1(deep: bool = False) -> Spec:
    """TensorFlow Playground's default net (or its maximum, 6 hidden layers of 8) on the circle, tanh out, MSE."""
    def data():
        import glassnet.data as gd
        X, y = gd.make_dataset("circle", n=250, noise=0.0, seed=0)
        return X.astype("float32"), (2.0 * y - 1.0).astype("float32").reshape(-1, 1)  # labels ±1, as the playground
    sizes = [2, 8, 8, 8, 8, 8, 8, 1] if deep else [2, 4, 2, 1]
    return Spec(f"W1{'deep' if deep else ''} {'-'.join(map(str, sizes))} tanh, MSE, SGD lr 0.03, batch 10, 250 points",
                sizes, "Tanh", True, "MSELoss", "SGD", 0.03, data, 10, "epochs/s", 1, 4.5 if deep else 6.0)


def w2() -> Spec:
    """64-128-64-10 ReLU on scikit-learn's 8×8 digits (1,797 samples, pixels / 16)."""
    def data():
        from sklearn.datasets import load_digits
        X, y = load_digits(return_X_y=True)
        return (X / 16.0).astype("float32"), y.astype("int64")
    return Spec("W2 64-128-64-10 ReLU, cross-entropy, Adam lr 1e-3, batch 32, digits 1,797", [64, 128, 64, 10],
                "ReLU", False, "CrossEntropyLoss", "Adam", 1e-3, data, 32, "epochs/s", 1, 3.0)


def w3() -> Spec:
    """784-512-256-10 ReLU on 8,192 random MNIST-sized samples: BLAS-bound, all cores."""
    def data():
        import numpy as np
        rng = np.random.default_rng(0)
        return rng.standard_normal((8192, 784), dtype=np.float32), rng.integers(0, 10, 8192)
    return Spec("W3 784-512-256-10 ReLU, cross-entropy, Adam lr 1e-3, batch 128, 8,192 random samples",
                [784, 512, 256, 10], "ReLU", False, "CrossEntropyLoss", "Adam", 1e-3, data, 128, "samples/s",
                harness.cores(), 0.95, unit_steps=2)


def w7() -> Spec:
    """Issue 11's autoencoder 784-128-32-128-784 (ReLU, linear output) reconstructing 8,192 random MNIST-sized
    images (pixels uniform in [0, 1)) under MSE: BLAS-bound, all cores."""
    def data():
        import numpy as np
        X = np.random.default_rng(0).random((8192, 784), dtype=np.float32)
        return X, X
    return Spec("W7 autoencoder 784-128-32-128-784 ReLU, MSE, Adam lr 1e-3, batch 128, 8,192 random images",
                [784, 128, 32, 128, 784], "ReLU", False, "MSELoss", "Adam", 1e-3, data, 128, "samples/s",
                harness.cores(), 1.0, unit_steps=4)


WORKLOADS = {"W1": w1, "W1deep": lambda: w1(deep=True), "W2": w2, "W3": w3, "W7": w7}
MEMORY = {"W3mem": ("W3", 200), "W7mem": ("W7", None)}  # peak-RSS runs: (workload, glassnet's limit in MB or None)


# ------------------------------------------------------------------------------------------------ the sides

def library(name: str) -> tuple[Any, Callable]:
    """(the module with .nn and .optim, ndarray -> tensor), imported on first use (memory runs load only one)."""
    if name == "glassnet":
        import glassnet
        return glassnet, glassnet.tensor
    import torch
    return torch, torch.from_numpy


def build(name: str, spec: Spec, state: dict | None) -> dict:
    """One side: model (with ``state``'s weights if given), loss, optimizer, the pre-built batches, and the
    functions that run a step plain (``step``) and cut into PHASES (``phases``)."""
    import numpy as np  # here, not at the top: the harness may re-exec before NumPy loads

    X, y = spec.data()
    if name == "floor":
        from floor import Floor, floor_phases, floor_step
        model = Floor(spec.sizes, spec.activation, spec.output_activation, spec.loss, spec.optimizer, spec.lr, state)
        batches = [(X[i:i + spec.batch], y[i:i + spec.batch]) for i in range(0, len(X), spec.batch)]
        return dict(model=model, loss_fn=None, opt=None, batches=batches, step=floor_step, phases=floor_phases)
    lib, to_tensor = library(name)
    layers = []
    for i, (n_in, n_out) in enumerate(zip(spec.sizes, spec.sizes[1:])):
        layers.append(lib.nn.Linear(n_in, n_out))
        if i < len(spec.sizes) - 2 or spec.output_activation:
            layers.append(getattr(lib.nn, spec.activation)())
    model = lib.nn.Sequential(*layers)
    if state is not None:
        model.load_state_dict({k: to_tensor(np.array(v)) for k, v in state.items()})
    batches = [(to_tensor(X[i:i + spec.batch]), to_tensor(y[i:i + spec.batch])) for i in range(0, len(X), spec.batch)]
    return dict(model=model, loss_fn=getattr(lib.nn, spec.loss)(),
                opt=getattr(lib.optim, spec.optimizer)(model.parameters(), lr=spec.lr), batches=batches,
                step=train_step, phases=step_phases)


def train_step(model, loss_fn, opt, x, y):
    """The PyTorch user's loop body, run unchanged on both sides."""
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


PHASES = ["forward", "loss", "backward", "step", "zero_grad"]


def step_phases(model, loss_fn, opt, x, y) -> list[float]:
    """``train_step`` cut into PHASES, returning the perf_counter stamps between them."""
    now = time.perf_counter
    t0 = now()
    out = model(x)
    t1 = now()
    loss = loss_fn(out, y)
    t2 = now()
    loss.backward()
    t3 = now()
    opt.step()
    t4 = now()
    opt.zero_grad()
    return [t0, t1, t2, t3, t4, now()]


def unit_runner(side: dict, steps: int, phases: bool = False) -> Callable[[], Any]:
    """A callable running the next ``steps`` batches of the side (cycling) with its ``step`` function (its
    ``phases`` one if asked), returning the last result."""
    batches = itertools.cycle(side["batches"])
    model, loss_fn, opt, fn = side["model"], side["loss_fn"], side["opt"], side["phases" if phases else "step"]

    def run():
        for _, (x, y) in zip(range(steps), batches):
            out = fn(model, loss_fn, opt, x, y)
        return out
    return run


def check_agreement(sides: dict[str, dict], steps: int = 3, rtol: float = 1e-4) -> str:
    """Run ``steps`` identical steps on every side from identical weights: the losses must agree with torch's
    (those after the first step also check the gradients and the optimizer's update), and glassnet's loss,
    parameters and gradients must still be float32."""
    runners = {name: unit_runner(side, 1) for name, side in sides.items()}
    losses = {name: [] for name in sides}
    for _ in range(steps):
        for name, run in runners.items():
            loss = run()
            losses[name].append(float(loss))
            if name == "glassnet":
                assert loss.dtype == "float32", f"glassnet loss is {loss.dtype}, not float32"
    for name, side_losses in losses.items():
        for k, (a, b) in enumerate(zip(side_losses, losses["torch"])):
            if abs(a - b) > rtol * abs(b):
                raise AssertionError(f"losses differ at step {k + 1}: {name} {a!r} vs torch {b!r} (rtol {rtol})")
    params = list(sides["glassnet"]["model"].parameters())
    dtypes = {str(a.dtype) for p in params for a in (p._data, p.grad._data)}
    assert dtypes == {"float32"}, f"glassnet parameters or gradients became {dtypes} during training"
    return (f"{steps} identical steps agree: losses (" + "/".join(sides) + ") "
            + ", ".join("/".join(f"{losses[n][k]:.6g}" for n in sides) for k in range(steps)))


# ------------------------------------------------------------------------------------------------ measurements

def speed(spec: Spec, args: argparse.Namespace) -> dict:
    """Check, then time the sides alternately, and their phases; print and return the results."""
    import glassnet
    glassnet.manual_seed(0)
    gside = build("glassnet", spec, None)
    sides = {"glassnet": gside, **{name: build(name, spec, gside["model"].state_dict()) for name in SIDES[1:]}}
    print(f"\n== {spec.title}   [{spec.unit}, {spec.threads} thread{'s' * (spec.threads > 1)} each side]")
    with harness.threads(spec.threads):
        print("   check: " + check_agreement(sides))
        steps = spec.unit_steps or len(gside["batches"])
        rates = harness.alternate({name: unit_runner(side, steps) for name, side in sides.items()},
                                  args.repeats, args.seconds, spec.threads > 1)
        phases = harness.time_phases({name: unit_runner(side, 1, phases=True) for name, side in sides.items()},
                                     PHASES, args.phase_seconds, args.phase_rounds, 3 if args.quick else 20,
                                     spec.threads > 1)
    result = report(spec, rates, steps * spec.batch if spec.unit == "samples/s" else 1)
    step = harness.print_phases(phases, PHASES)
    step_ratio = step["torch"] / step["glassnet"]
    print(f"   torch ÷ glassnet µs per step (least-disturbed rounds): {step_ratio:.2f}×; torch ÷ floor "
          f"{step['torch'] / step['floor']:.2f}×")
    return dict(result, phases=phases, step_ratio=step_ratio)


def report(spec: Spec, rates: dict[str, list[tuple]], scale: float) -> dict:
    """Print the per-repeat rates (× ``scale``) with CPU shares, the medians, the ratio and its cross-checks, and
    where the NumPy floor stands."""
    (g, gcpu), (t, tcpu), (f, fcpu) = ([[r * scale for r, _ in rates[n]], [c for _, c in rates[n]]] for n in SIDES)
    print(f"   {'repeat':>6} {'glassnet':>10} {'cpu':>5} {'torch':>10} {'cpu':>5} {'ratio':>7}   "
          f"{'floor':>10} {'cpu':>5} {'floor÷torch':>11}")
    for i, (a, ac, b, bc, c, cc) in enumerate(zip(g, gcpu, t, tcpu, f, fcpu), 1):
        print(f"   {i:>6} {harness.fmt(a):>10} {ac:5.2f} {harness.fmt(b):>10} {bc:5.2f} {a / b:>6.2f}×   "
              f"{harness.fmt(c):>10} {cc:5.2f} {c / b:>10.2f}×")
    gm, tm = harness.median(g), harness.median(t)
    verdict = "PASS" if gm / tm >= spec.target else "MISS"
    print(f"   {'median':>6} {harness.fmt(gm):>10} {'':5} {harness.fmt(tm):>10} {'':5} {gm / tm:>6.2f}×   "
          f"{harness.fmt(harness.median(f)):>10} {'':5} {harness.median(f) / tm:>10.2f}×   "
          f"target ≥ {spec.target}× {verdict}")
    # Cross-checks: the median of the paired ratios (robust to drift); the same over the "clean" pairs, where both
    # blocks had at least 90% of their threads' CPU time (at 2 threads, BLAS collapses when one thread is
    # descheduled); and, at one thread, where CPU time is work done, the ratio of rates per CPU-second.
    paired = harness.median([a / b for a, b in zip(g, t)])
    clean = [a / b for a, ac, b, bc in zip(g, gcpu, t, tcpu) if min(ac, bc) >= 0.9 * spec.threads]
    per_cpu = harness.median([a / c for a, c in zip(g, gcpu)]) / harness.median([b / c for b, c in zip(t, tcpu)])
    print(f"   cross-checks: median of per-repeat ratios {paired:.2f}×, of the {len(clean)} clean pairs "
          + (f"{harness.median(clean):.2f}×" if clean else "-")
          + (f", ratio per CPU-second {per_cpu:.2f}×" if spec.threads == 1 else "")
          + f"; median CPU share glassnet {harness.median(gcpu):.2f}, torch {harness.median(tcpu):.2f}")
    floor_ratio = harness.median([c / b for b, c in zip(t, f)])
    engine = harness.median([a / c for a, c in zip(g, f)])
    print(f"   NumPy floor (floor.py, the same NumPy calls without the engine), medians of per-repeat ratios: "
          f"floor ÷ torch {floor_ratio:.2f}×, glassnet ÷ floor {engine:.2f}×")
    return dict(title=spec.title, unit=spec.unit, threads=spec.threads, glassnet=gm, torch=tm, ratio=gm / tm,
                paired=paired, clean=(harness.median(clean) if clean else None, len(clean), len(g)),
                per_cpu=per_cpu if spec.threads == 1 else None, target=spec.target, verdict=verdict,
                floor_ratio=floor_ratio, engine=engine)


def memory_child(workload: str, name: str, steps: int) -> None:
    """In a fresh process: train a workload with one library only; print the process's peak RSS as JSON."""
    library(name)[0].manual_seed(0)  # imported before the thread limit, so that it applies to torch too
    with harness.threads(harness.cores()):
        run = unit_runner(build(name, WORKLOADS[workload](), None), steps)
        ready = harness.peak_rss_mb()
        run()
    print(json.dumps(dict(peak=harness.peak_rss_mb(), ready=ready)))


def start_memory_runs(workload: str, steps: int) -> dict[str, subprocess.Popen]:
    """Start a workload's memory runs: one fresh process per library, side by side (each peak is its own
    process's).

    Called before this process imports NumPy or torch: Linux carries ru_maxrss across exec, so a child of a big
    parent would report the parent's peak.
    """
    return {name: subprocess.Popen([sys.executable, __file__, "--memory-child", workload, name, "--memory-steps",
                                    str(steps)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name in ("glassnet", "torch")}


def memory(workload: str, limit: float | None, procs: dict[str, subprocess.Popen],
           steps: int) -> tuple[list[str], dict]:
    """Wait for a workload's memory runs; their report lines and result: the whole process's peak RSS
    (ru_maxrss), against glassnet's ``limit`` if there is one."""
    lines = [f"\n== {workload} memory: peak RSS of a fresh process training {workload} for {steps} steps "
             f"({harness.cores()} threads), one library per process"]
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"memory run of {workload} for {name} failed:\n{stderr}")
        res = json.loads(stdout.strip().splitlines()[-1])
        out[name] = res["peak"]["ru_maxrss"]
        lines.append(f"   {name:<9} peak {out[name]:5.0f} MB (ru_maxrss; VmHWM {res['peak'].get('VmHWM', 0):.0f} MB); "
                     f"after imports + data + model: {res['ready']['ru_maxrss']:.0f} MB")
    verdict = "" if limit is None else "PASS" if out["glassnet"] <= limit else "MISS"
    lines.append(f"   glassnet ÷ torch peak {out['glassnet'] / out['torch']:.2f}×"
                 + (f"; glassnet peak {out['glassnet']:.0f} MB, target ≤ {limit} MB {verdict}" if limit else ""))
    return lines, dict(title=f"{workload} peak RSS (fresh process)", unit="MB", threads=harness.cores(),
                       glassnet=out["glassnet"], torch=out["torch"], target=limit, verdict=verdict)


def summary(results: list[dict]) -> None:
    print("\n== summary (medians; ratio = glassnet ÷ torch, higher is better for glassnet)\n")
    print("| workload | unit | threads | glassnet | torch | ratio | target | | paired ratios | clean pairs "
          "| per CPU-s | step time | floor ÷ torch | glassnet ÷ floor |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if r["unit"] == "MB":
            cells = [f"{r['glassnet'] / r['torch']:.2f}×", f"≤ {r['target']} MB" if r["target"] else "",
                     r["verdict"], "", "", "", "", "", ""]
        else:
            clean, n, total = r["clean"]
            cells = [f"{r['ratio']:.2f}×", f"≥ {r['target']}×", r["verdict"], f"{r['paired']:.2f}×",
                     f"{clean:.2f}× ({n}/{total})" if clean else f"- (0/{total})",
                     f"{r['per_cpu']:.2f}×" if r["per_cpu"] else "", f"{r['step_ratio']:.2f}×",
                     f"{r['floor_ratio']:.2f}×", f"{r['engine']:.2f}×"]
        print(f"| {r['title'].split(',')[0]} | {r['unit']} | {r['threads']} | {harness.fmt(r['glassnet'])} | "
              f"{harness.fmt(r['torch'])} | " + " | ".join(cells) + " |")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default=",".join([*WORKLOADS, *MEMORY]),
                   help=f"comma-separated subset of {', '.join([*WORKLOADS, *MEMORY])} (default: all)")
    p.add_argument("--quick", action="store_true", help="smoke run: short blocks, few steps (< 20 s, quiet machine)")
    p.add_argument("--repeats", type=int, default=9, help="alternating repeats per workload (default 9, min 5)")
    p.add_argument("--seconds", type=float, default=0.6, help="length of one timed block per side (default 0.6)")
    p.add_argument("--phase-seconds", type=float, default=0.3, help="length of a round of the phase breakdown")
    p.add_argument("--phase-rounds", type=int, default=7, help="rounds of the phase breakdown (the least is shown)")
    p.add_argument("--keep-blas-env", action="store_true",
                   help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE (default: re-exec without them)")
    p.add_argument("--memory-child", nargs=2, metavar=("WORKLOAD", "LIBRARY"), help=argparse.SUPPRESS)
    p.add_argument("--memory-steps", type=int, default=300, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.repeats, args.seconds, args.phase_seconds, args.phase_rounds = 5, 0.05, 0.02, 3
    names = {n.lower().replace("-", ""): n for n in [*WORKLOADS, *MEMORY]}
    try:
        args.workloads = [names[w.strip().lower().replace("-", "")] for w in args.workloads.split(",") if w.strip()]
    except KeyError as e:
        p.error(f"unknown workload {e.args[0]!r}; choose from {', '.join(names.values())}")
    if args.repeats < 5 and not args.quick:
        p.error("--repeats must be at least 5")
    return args


def main() -> None:
    args = parse_args()
    harness.clean_blas_env(args.keep_blas_env)
    if args.memory_child:
        return memory_child(*args.memory_child, args.memory_steps)
    start, probe, steps = time.time(), 0.1 if args.quick else 0.3, 10 if args.quick else 300
    procs = {m: start_memory_runs(MEMORY[m][0], steps) for m in MEMORY if m in args.workloads}  # while small
    import numpy  # noqa: F401  (loaded before the report so that threadpoolctl sees its BLAS)
    import torch  # noqa: F401
    memory_runs = [memory(*MEMORY[m], runs, steps) for m, runs in procs.items()]  # done before any timing
    harness.print_header("bench_core", REPO, args.quick)
    results = [speed(WORKLOADS[name](), args) for name in args.workloads if name in WORKLOADS]
    for lines, _ in memory_runs:
        print("\n".join(lines))
    summary(results + [result for _, result in memory_runs])
    print(f"\nload average at end: {harness.load_average()}; {harness.machine_state(probe)}; "
          f"took {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
