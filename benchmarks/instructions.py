#!/usr/bin/env python
"""Instructions per training step of a workload side, counted by valgrind's callgrind at 1 thread.

    python benchmarks/instructions.py W1 glassnet           # glassnet's W1 step (1,000 steps counted)
    python benchmarks/instructions.py W3 floor --steps 5    # the NumPy floor's W3 step
    python benchmarks/instructions.py W5 glassnet --steps 5 # the LSTM's step (bench_sequence.py's workloads too)
    python benchmarks/instructions.py playground session --steps 40  # an epoch of the playground's default net …
    python benchmarks/instructions.py playground loop --steps 40     # … and the bare training loop over its batches

Unlike a time, the count does not move with what the machine is doing. The script runs callgrind twice, on the
set-up alone and on the set-up plus ``--steps`` steps, and prints the difference per step. Needs valgrind.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]


def workloads() -> dict:
    """Workload name -> (its benchmark module, its Spec): bench_core's and bench_sequence's."""
    import bench_core
    import bench_sequence
    return {**{name: (bench_core, make()) for name, make in bench_core.WORKLOADS.items()},
            **{name: (bench_sequence, spec) for name, spec in bench_sequence.WORKLOADS.items()}}


PLAYGROUND_SIDES = ("session", "loop")  # a playground epoch (`Session.train_epochs`), and its mini-batches' bare loop


def run_playground_epochs(side: str, epochs: int) -> None:
    """The default net's session after 30 epochs, then ``epochs`` more: as the playground trains them (evaluation,
    stopping rules, lens recording), or as ``zero_grad``/forward/loss/``backward``/``step`` over the same batches.
    (The lens records the gradient flow of every one of the first 10 epochs, then of every 10th: past those, the
    count is the steady state a playing page sees.)"""
    from glassnet.playground import Session
    session = Session(seed=1)
    session.train_epochs(30)
    if side == "session":
        session.train_epochs(epochs)
        return
    run = session.run
    for _ in range(epochs):
        for x, t in run.setup.batches:
            run.optimizer.zero_grad()
            run.setup.loss(run.model, run.model(x), t).backward()
            run.optimizer.step()


def run_steps(workload: str, side: str, steps: int) -> None:
    """Build the side as its benchmark does, warm it up with 3 steps, then run ``steps`` more."""
    import bench_core
    import glassnet
    if workload == "playground":
        return run_playground_epochs(side, steps)
    if side == "torch":
        import torch
        torch.set_num_threads(1)
    bench, spec = workloads()[workload]
    glassnet.manual_seed(0)
    built = bench.build("glassnet", spec, None)
    if side != "glassnet":
        built = bench.build(side, spec, built["model"].state_dict())
    bench_core.unit_runner(built, 3)()
    if steps:
        bench_core.unit_runner(built, steps)()


def collected(workload: str, side: str, steps: int) -> int:
    """Instructions callgrind counts for the whole process run with ``steps`` steps."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",
                               sys.executable, __file__, workload, side, "--steps", str(steps), "--child"],
                              capture_output=True, text=True, env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode or not found:
        raise RuntimeError(f"callgrind run failed:\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    import bench_core
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("workload", choices=[*workloads(), "playground"])
    p.add_argument("side", choices=[*bench_core.SIDES, *PLAYGROUND_SIDES])
    p.add_argument("--steps", type=int, default=1000, help="steps counted (default 1000; a few for W3)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return run_steps(args.workload, args.side, args.steps)
    if args.steps < 1:
        p.error("--steps must be at least 1")
    sides = PLAYGROUND_SIDES if args.workload == "playground" else workloads()[args.workload][0].SIDES
    if args.side not in sides:
        p.error(f"{args.workload} has no {args.side} side")
    base, total = (collected(args.workload, args.side, n) for n in (0, args.steps))
    unit = "epoch" if args.workload == "playground" else "step"
    print(f"{args.workload} {args.side}: {(total - base) / args.steps:,.0f} instructions per {unit} "
          f"(callgrind, 1 thread, {args.steps} {unit}s)")


if __name__ == "__main__":
    main()
