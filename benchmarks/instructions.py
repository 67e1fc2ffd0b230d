#!/usr/bin/env python
"""Instructions per training step of a workload side, counted by valgrind's callgrind at 1 thread.

    python benchmarks/instructions.py W1 glassnet           # glassnet's W1 step (1,000 steps counted)
    python benchmarks/instructions.py W3 floor --steps 5    # the NumPy floor's W3 step

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


def run_steps(workload: str, side: str, steps: int) -> None:
    """Build the side as bench_core does, warm it up with 3 steps, then run ``steps`` more."""
    import bench_core
    import glassnet
    if side == "torch":
        import torch
        torch.set_num_threads(1)
    spec = bench_core.WORKLOADS[workload]()
    glassnet.manual_seed(0)
    built = bench_core.build("glassnet", spec, None)
    if side != "glassnet":
        built = bench_core.build(side, spec, built["model"].state_dict())
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
    p.add_argument("workload", choices=list(bench_core.WORKLOADS))
    p.add_argument("side", choices=bench_core.SIDES)
    p.add_argument("--steps", type=int, default=1000, help="steps counted (default 1000; a few for W3)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        return run_steps(args.workload, args.side, args.steps)
    if args.steps < 1:
        p.error("--steps must be at least 1")
    base, total = (collected(args.workload, args.side, n) for n in (0, args.steps))
    print(f"{args.workload} {args.side}: {(total - base) / args.steps:,.0f} instructions per step "
          f"(callgrind, 1 thread, {args.steps} steps)")


if __name__ == "__main__":
    main()
