#!/usr/bin/env python
"""glassnet vs PyTorch on the sequence workloads of issue 11 (W5 LSTM, W6 Transformer encoder), in one process,
alternating; peak memory of each library in a fresh process.

    python benchmarks/bench_sequence.py                  # both workloads and their memory runs (~1 min)
    python benchmarks/bench_sequence.py --quick          # smoke run (not a measurement)
    python benchmarks/bench_sequence.py --workloads W5   # one of them

Same protocol as bench_core.py (README.md): both sides run the PyTorch user's own loop body (``train_step``) on the
same pre-built float32 batches from the same initial weights, after 3 identical steps are checked to agree; blocks
alternate after a warm-up; medians and their ratio, with cross-checks; one thread each side (overhead-bound
workloads); the phases of a step (least-disturbed rounds). There is no hand-written NumPy floor here; for W5 the
LSTM kernel's share of glassnet's step is measured instead (the kernel is the sequence's NumPy calls straight-line,
one graph node): the paired ratio ÷ that share bounds what any engine around the kernel can reach.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any, Callable, NamedTuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [HERE, REPO]

import harness  # noqa: E402  (before NumPy: it may re-exec without the OpenBLAS variables)
from bench_core import PHASES, check_agreement, step_phases, train_step, unit_runner  # noqa: E402

SIDES = ("glassnet", "torch")


class Spec(NamedTuple):
    title: str
    model: Callable[[Any], Any]          # library -> model
    loss: str
    data: Callable[[], tuple[Any, Any]]  # () -> (X float32, y) of whole batches
    batch: int
    target: float
    stretch: float
    steps: int = 4                       # steps timed as one unit
    kernel: str | None = None            # the glassnet.nn.rnn kernel whose share of the step is measured


def w5_model(lib: Any) -> Any:
    """LSTM(10 → 64) over 50 steps, a linear head on the last step's output (the PyTorch user's code)."""
    class LSTMRegressor(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = lib.nn.LSTM(10, 64, batch_first=True)
            self.head = lib.nn.Linear(64, 1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])
    return LSTMRegressor()


def w5_data() -> tuple[Any, Any]:
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8 * 32, 50, 10), dtype=np.float32)
    return X, X[:, :, 0].sum(axis=1, keepdims=True) / 7  # the running sum of the first feature


def w6_model(lib: Any) -> Any:
    """Two encoder layers (d_model 64, 4 heads, FF 256, batch first, dropout 0 so that both sides agree), mean over
    the sequence, a linear head to 10 classes."""
    class EncoderClassifier(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layer = lib.nn.TransformerEncoderLayer(64, 4, dim_feedforward=256, dropout=0.0, batch_first=True)
            self.encoder = lib.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
            self.head = lib.nn.Linear(64, 10)

        def forward(self, x):
            return self.head(self.encoder(x).mean(dim=1))
    return EncoderClassifier()


def w6_data() -> tuple[Any, Any]:
    import numpy as np
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8 * 32, 32, 64), dtype=np.float32)
    return X, rng.integers(0, 10, len(X))


WORKLOADS = {
    "W5": Spec("W5 LSTM input 10, hidden 64, seq 50, batch 32, MSE, Adam lr 1e-3: sequences/s", w5_model, "MSELoss",
               w5_data, 32, 1.0, 2.0, kernel="lstm_layer"),
    "W6": Spec("W6 Transformer encoder d_model 64, 4 heads, FF 256, 2 layers, seq 32, batch 32, cross-entropy, "
               "Adam lr 1e-3: sequences/s", w6_model, "CrossEntropyLoss", w6_data, 32, 0.8, 1.5),
}


def library(name: str) -> tuple[Any, Callable]:
    if name == "glassnet":
        import glassnet
        return glassnet, glassnet.tensor
    import torch
    return torch, torch.from_numpy


def build(name: str, spec: Spec, state: dict | None) -> dict:
    """One side: the model (with ``state``'s weights if given), loss, Adam, the pre-built batches."""
    import warnings

    import numpy as np
    lib, to_tensor = library(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on its nested-tensor fast path
        model = spec.model(lib)
    if state is not None:
        model.load_state_dict({k: to_tensor(np.array(v)) for k, v in state.items()})
    X, y = spec.data()
    batches = [(to_tensor(X[i:i + spec.batch]), to_tensor(y[i:i + spec.batch])) for i in range(0, len(X), spec.batch)]
    return dict(model=model, loss_fn=getattr(lib.nn, spec.loss)(), opt=lib.optim.Adam(model.parameters(), lr=1e-3),
                batches=batches, step=train_step, phases=step_phases)


def speed(spec: Spec, args: argparse.Namespace) -> dict:
    import glassnet
    glassnet.manual_seed(0)
    gside = build("glassnet", spec, None)
    sides = {"glassnet": gside, "torch": build("torch", spec, gside["model"].state_dict())}
    print(f"\n== {spec.title}   [1 thread each side]")
    with harness.threads(1):
        print("   check: " + check_agreement(sides))
        rates = harness.alternate({n: unit_runner(s, spec.steps) for n, s in sides.items()}, args.repeats,
                                  args.seconds)
        phases = harness.time_phases({n: unit_runner(s, 1, phases=True) for n, s in sides.items()}, PHASES,
                                     args.phase_seconds, args.phase_rounds, 3 if args.quick else 10)
    result = harness.print_pairs(rates, spec.steps * spec.batch, spec.target, spec.stretch)
    step = harness.print_phases(phases, PHASES)
    print(f"   torch ÷ glassnet µs per step (least-disturbed rounds): {step['torch'] / step['glassnet']:.2f}×")
    if spec.kernel:
        with harness.threads(1):
            whole, inside = kernel_share(gside, spec.kernel, args.phase_rounds, args.phase_seconds)
        print(f"   the {spec.kernel} kernel (forward and backward): {inside:,.0f} µs of a {whole:,.0f} µs glassnet step "
              f"({inside / whole:.0%}); the paired ratio ÷ that share = {result['paired'] * whole / inside:.2f}×: "
              f"the most any engine around this kernel reaches (the rest of the step free)")
    return dict(result, title=spec.title.split(" ")[0], step_ratio=step["torch"] / step["glassnet"],
                target=spec.target)


def kernel_share(side: dict, kernel: str, rounds: int, seconds: float) -> tuple[float, float]:
    """(µs per glassnet step, µs of it inside the recurrent kernel: its forward call and its backward closure), from
    the least-disturbed of ``rounds`` rounds of steps. The kernel is the sequence's NumPy work written straight-line
    (one graph node), so a step costs at least its time whatever the engine, head, loss and optimizer cost: glassnet ÷
    torch divided by the kernel's share of the step is the most any engine around this kernel can reach."""
    import glassnet.nn.rnn as rnn
    original_kernel, original_result = getattr(rnn, kernel), rnn.result
    spent = [0.0]
    clock = time.perf_counter

    def timed_result(data, parents, backward):
        def timed_backward(grad):
            start = clock()
            grads = backward(grad)
            spent[0] += clock() - start
            return grads
        return original_result(data, parents, timed_backward)

    def timed_kernel(*args, **kwargs):
        start = clock()
        outputs = original_kernel(*args, **kwargs)
        spent[0] += clock() - start
        return outputs

    run = unit_runner(side, 1)
    best = (float("inf"), 0.0)
    setattr(rnn, kernel, timed_kernel)
    rnn.result = timed_result
    try:
        for _ in range(rounds):
            harness.settle(False)
            spent[0], steps, start = 0.0, 0, clock()
            while steps < 20 or clock() - start < seconds:
                run()
                steps += 1
            best = min(best, ((clock() - start) / steps * 1e6, spent[0] / steps * 1e6))
    finally:
        setattr(rnn, kernel, original_kernel)
        rnn.result = original_result
    return best


def memory_child(workload: str, name: str, steps: int) -> None:
    """In a fresh process: train one workload with one library; print the peak RSS as JSON."""
    library(name)[0].manual_seed(0)
    with harness.threads(1):
        run = unit_runner(build(name, WORKLOADS[workload], None), steps)
        ready = harness.peak_rss_mb()
        run()
    print(json.dumps(dict(peak=harness.peak_rss_mb(), ready=ready)))


def start_memory_runs(workloads: list[str], steps: int) -> dict[tuple[str, str], subprocess.Popen]:
    """One fresh process per workload and library, started before this process grows (ru_maxrss survives exec)."""
    return {(w, n): subprocess.Popen([sys.executable, __file__, "--memory-child", w, n, "--memory-steps", str(steps)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for w in workloads for n in SIDES}


def memory(procs: dict[tuple[str, str], subprocess.Popen], steps: int) -> list[str]:
    lines = [f"\n== peak RSS of a fresh process training {steps} steps (1 thread), one library per process"]
    for (workload, name), proc in procs.items():
        stdout, stderr = proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"memory run {workload} {name} failed:\n{stderr}")
        res = json.loads(stdout.strip().splitlines()[-1])
        lines.append(f"   {workload} {name:<9} peak {res['peak']['ru_maxrss']:5.0f} MB (VmHWM "
                     f"{res['peak'].get('VmHWM', 0):.0f} MB); after imports + data + model: "
                     f"{res['ready']['ru_maxrss']:.0f} MB")
    return lines


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default="W5,W6", help="comma-separated subset of W5, W6 (default: both)")
    p.add_argument("--quick", action="store_true", help="smoke run: short blocks (not a measurement)")
    p.add_argument("--repeats", type=int, default=7, help="alternating repeats (default 7, min 5)")
    p.add_argument("--seconds", type=float, default=1.0, help="length of one timed block per side (default 1.0)")
    p.add_argument("--phase-seconds", type=float, default=0.5)
    p.add_argument("--phase-rounds", type=int, default=5)
    p.add_argument("--no-memory", action="store_true", help="skip the fresh-process memory runs")
    p.add_argument("--keep-blas-env", action="store_true", help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE")
    p.add_argument("--memory-child", nargs=2, metavar=("WORKLOAD", "LIBRARY"), help=argparse.SUPPRESS)
    p.add_argument("--memory-steps", type=int, default=50, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.repeats, args.seconds, args.phase_seconds, args.phase_rounds, args.memory_steps = 5, 0.05, 0.02, 2, 3
    args.workloads = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}")
    if args.repeats < 5:
        p.error("--repeats must be at least 5")
    return args


def main() -> None:
    args = parse_args()
    harness.clean_blas_env(args.keep_blas_env)
    if args.memory_child:
        return memory_child(*args.memory_child, args.memory_steps)
    start = time.time()
    procs = None if args.no_memory else start_memory_runs(args.workloads, args.memory_steps)
    import numpy  # noqa: F401
    import torch  # noqa: F401
    memory_lines = memory(procs, args.memory_steps) if procs else []  # done before any timing
    harness.print_header("bench_sequence", REPO, args.quick)
    results = [speed(WORKLOADS[name], args) for name in args.workloads]
    print("\n".join(memory_lines))
    print("\n| workload | glassnet seq/s | torch seq/s | ratio | target | | paired | per CPU-s | step time |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['title']} | {harness.fmt(r['glassnet'])} | {harness.fmt(r['torch'])} | {r['ratio']:.2f}× | "
              f"≥ {r['target']}× | {r['verdict']} | {r['paired']:.2f}× | {r['per_cpu']:.2f}× | "
              f"{r['step_ratio']:.2f}× |")
    print(f"\ntook {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
