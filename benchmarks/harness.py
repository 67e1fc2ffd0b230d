"""Shared machinery of the benchmarks: BLAS environment, thread control, alternating timing, reporting.

Import this module before NumPy: ``clean_blas_env()`` may re-exec the process without the OpenBLAS tuning
variables, which only takes effect if no BLAS library is loaded yet.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import time
from typing import Callable, Iterator

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # set on this machine kind for old OpenBLAS builds
_REMOVED = "GLASSNET_BENCH_REMOVED_ENV"  # what the re-exec removed, for the report


def clean_blas_env(keep: bool) -> None:
    """Re-exec this script with both OpenBLAS variables removed (unless ``keep``); the parent's env is untouched."""
    present = {k: os.environ[k] for k in BLAS_VARS if k in os.environ}
    if keep or not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    env[_REMOVED] = ";".join(f"{k}={v}" for k, v in present.items())
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def cores() -> int:
    return len(os.sched_getaffinity(0))


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """NumPy's BLAS (and any OpenMP pool) and torch's intra-op pool limited to ``n`` threads."""
    from threadpoolctl import threadpool_limits
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch else None
    with threadpool_limits(limits=n):
        if torch:
            torch.set_num_threads(n)
        try:
            yield
        finally:
            if torch:
                torch.set_num_threads(before)


def machine_report() -> list[str]:
    """Facts that a number depends on: CPU, BLAS libraries and kernels, thread counts, BLAS env vars, versions."""
    import platform

    import numpy as np
    from threadpoolctl import threadpool_info
    lines = [f"python {platform.python_version()}, numpy {np.__version__}, cpu cores available: {cores()}, "
             f"cpu: {_cpu_model()}"]
    removed = os.environ.get(_REMOVED)
    set_now = {k: os.environ[k] for k in BLAS_VARS if k in os.environ}
    lines.append(f"BLAS env at launch: {removed or set_now or 'none of ' + '/'.join(BLAS_VARS) + ' set'}"
                 + ("  -> removed for this process (re-exec)" if removed else ""))
    other = {k: v for k, v in os.environ.items()
             if any(s in k for s in ("BLAS", "OMP_", "MKL_")) and k not in (_REMOVED, *BLAS_VARS)}
    if other:
        lines.append(f"other BLAS/OpenMP env: {other}")
    for info in threadpool_info():
        lines.append(f"threadpoolctl: {info['internal_api']} {info.get('version')} "
                     f"arch={info.get('architecture', '-')} threads={info['num_threads']} "
                     f"({os.path.basename(info['filepath'])})")
    torch = sys.modules.get("torch")
    if torch:
        blas = [ln.strip("- ").strip() for ln in torch.__config__.show().splitlines() if "Math Kernel" in ln]
        lines.append(f"torch {torch.__version__}: BLAS {blas[0] if blas else '?'} (linked statically, invisible to "
                     f"threadpoolctl), cpu capability {torch.backends.cpu.get_cpu_capability()}, "
                     f"intra-op threads {torch.get_num_threads()}")
    return lines


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        import platform
        return platform.processor() or "?"


def git_revision(path: str) -> str:
    """The commit under test, with '+dirty' when the core has uncommitted changes (the numbers move with it)."""
    try:
        rev = subprocess.run(["git", "-C", path, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", path, "status", "--porcelain", "--", "glassnet"], capture_output=True,
                               text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def rate(run_unit: Callable[[], None], seconds: float) -> tuple[float, float]:
    """(units per second, CPU share): call ``run_unit`` until at least ``seconds`` have passed (at least twice).

    The CPU share is process CPU time ÷ wall time over the block: about 1.0 for a one-thread workload that had a
    core to itself; lower means other processes took the core and the block's rate is pessimistic.
    """
    n, start, cpu = 0, time.perf_counter(), time.process_time()
    while True:
        run_unit()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and n >= 2:
            return n / elapsed, (time.process_time() - cpu) / elapsed


def settle(multithreaded: bool) -> None:
    """Before a multithreaded block: wait until the other library's idle threads stop spinning. OpenBLAS's workers
    spin about 0.1 s after their last call and Intel OpenMP's (torch) 0.2 s, taking the core that the next block's
    second thread needs: without the pause both sides ran 10-15% slower, each after the other."""
    if multithreaded:
        time.sleep(SETTLE_S)


SETTLE_S = 0.3


def alternate(sides: dict[str, Callable[[], None]], repeats: int, seconds: float,
              multithreaded: bool = False) -> dict[str, list[tuple]]:
    """(rate, CPU share) of each side per repeat, timed in alternating blocks (a, b, a, b, …) after one untimed
    warm-up block each (at least 0.2 s: torch's first steps of a new shape are slow)."""
    for run_unit in sides.values():
        rate(run_unit, max(seconds / 4, 0.2))
    rates: dict[str, list[tuple]] = {name: [] for name in sides}
    for _ in range(repeats):
        for name, run_unit in sides.items():
            settle(multithreaded)
            rates[name].append(rate(run_unit, seconds))
    return rates


def median(values: list[float]) -> float:
    return statistics.median(values)


def time_phases(sides: dict[str, Callable[[], list[float]]], names: list[str], seconds: float, rounds: int,
                min_steps: int = 20, multithreaded: bool = False) -> dict[str, dict[str, float]]:
    """µs per step of each phase, per side: the least over ``rounds`` of the mean over one round of steps (at
    least ``min_steps``, lasting at least ``seconds``). The sides' rounds alternate, so that both meet the same
    machine; other processes can only add time, so the least-disturbed round is the best estimate.

    Each side's callable runs one step and returns len(names)+1 ``perf_counter`` stamps (phase boundaries).
    """
    best = {side: {name: float("inf") for name in names} for side in sides}
    for _ in range(rounds):
        for side, step_phases in sides.items():
            settle(multithreaded)
            totals, steps, start = [0.0] * len(names), 0, time.perf_counter()
            while steps < min_steps or time.perf_counter() - start < seconds:
                stamps = step_phases()
                for i in range(len(names)):
                    totals[i] += stamps[i + 1] - stamps[i]
                steps += 1
            for name, total in zip(names, totals):
                best[side][name] = min(best[side][name], total / steps * 1e6)
    return best


def machine_state(seconds: float = 0.3) -> str:
    """A probe (about 4 × ``seconds``) of how busy the machine is, against this machine kind's idle anchors
    (shared/README.md): CPU share of a one-thread loop, a tiny NumPy call, float32 GEMM throughput at 1 thread and
    all cores."""
    import numpy as np
    x = np.ones((10, 10), np.float32)
    a, w = np.ones((256, 1024), np.float32), np.ones((1024, 1024), np.float32)
    n, start, cpu = 0, time.perf_counter(), time.thread_time()  # this thread only: BLAS workers may still spin
    while time.perf_counter() - start < seconds:
        for _ in range(100):
            np.add(x, x)
        n += 100
    elapsed = time.perf_counter() - start
    share, add_us = (time.thread_time() - cpu) / elapsed, elapsed / n * 1e6
    gflops = []
    for k in (1, cores()):
        with threads(k):
            a @ w
            reps, start = 0, time.perf_counter()
            while time.perf_counter() - start < 1.5 * seconds:
                a @ w
                reps += 1
            gflops.append(reps * 2 * a.shape[0] * w.size / (time.perf_counter() - start) / 1e9)
    return (f"machine state: CPU share of a 1-thread loop {share:.2f} (idle ≈ 1.00), np.add 10×10 {add_us:.2f} µs "
            f"(idle ≈ 0.3), sgemm {gflops[0]:.0f} GFLOP/s at 1 thread, {gflops[1]:.0f} at {cores()} "
            f"(idle ≈ 170-190 at 2)")


def peak_rss_mb() -> dict[str, float]:
    """This process's peak RSS in MiB: ``ru_maxrss``, and the kernel's VmHWM of the current address space.

    On Linux ``ru_maxrss`` survives ``exec``: a child spawned by a big process reports at least the parent's peak.
    VmHWM does not, so the two agree only when the measurement is clean.
    """
    import resource
    out = {"ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    try:
        with open("/proc/self/status") as f:
            out["VmHWM"] = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM")) / 1024
    except (OSError, StopIteration):
        pass
    return out


def fmt(x: float) -> str:
    """A rate with a sensible number of digits."""
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}" if x >= 10 else f"{x:.2f}"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def print_header(script: str, repo: str, quick: bool) -> None:
    """A report's first lines: the script, date and commit under test, the command, the machine and how busy it
    is (the load average and ``machine_state``)."""
    print(f"glassnet {script}  {time.strftime('%Y-%m-%d %H:%M:%S %Z')}  commit {git_revision(repo)}")
    print("command: " + " ".join([os.path.basename(sys.executable), *sys.argv]))
    print("\n".join("  " + line for line in machine_report()))
    print(f"  load average at start: {load_average()}; {machine_state(0.1 if quick else 0.3)}")
    if quick:
        print("  --quick: a smoke run of the harness; its short blocks are not measurements")


def print_phases(phases: dict[str, dict[str, float]], names: list[str]) -> dict[str, float]:
    """Print ``time_phases``' µs per step of each phase per side, with their sum; returns the sums by side."""
    print("   µs per step  " + " ".join(f"{p:>9}" for p in names) + "      sum")
    for side, ph in phases.items():
        print(f"   {side:<11}  " + " ".join(f"{ph[p]:9.1f}" for p in names) + f" {sum(ph.values()):8.1f}")
    return {side: sum(ph.values()) for side, ph in phases.items()}


def print_pairs(rates: dict[str, list[tuple]], scale: float, target: float, stretch: float,
                threads: int = 1) -> dict:
    """Two sides' per-repeat rates (× ``scale``) and CPU shares from ``alternate``, glassnet's ratio to torch per
    repeat, the medians against the target (PASS/MISS) and the cross-checks: the median of the per-repeat ratios
    (robust to drift); the same over the clean pairs, where both blocks had at least 90% of their threads' CPU time;
    at one thread, the ratio of rates per CPU-second (robust to time taken by other processes). Returns the
    medians, the ratio, the cross-checks and the verdict."""
    (g, gcpu), (t, tcpu) = ([[r * scale for r, _ in rates[n]], [c for _, c in rates[n]]] for n in ("glassnet", "torch"))
    print(f"   {'repeat':>6} {'glassnet':>10} {'cpu':>5} {'torch':>10} {'cpu':>5} {'ratio':>7}")
    for i, (a, ac, b, bc) in enumerate(zip(g, gcpu, t, tcpu), 1):
        print(f"   {i:>6} {fmt(a):>10} {ac:5.2f} {fmt(b):>10} {bc:5.2f} {a / b:>6.2f}×")
    gm, tm = median(g), median(t)
    ratio = gm / tm
    verdict = "PASS (stretch too)" if ratio >= stretch else "PASS" if ratio >= target else "MISS"
    print(f"   {'median':>6} {fmt(gm):>10} {'':5} {fmt(tm):>10} {'':5} {ratio:>6.2f}×   target ≥ {target}×, "
          f"stretch ≥ {stretch}×: {verdict}")
    paired = median([a / b for a, b in zip(g, t)])
    clean = [a / b for a, ac, b, bc in zip(g, gcpu, t, tcpu) if min(ac, bc) >= 0.9 * threads]
    per_cpu = median([a / c for a, c in zip(g, gcpu)]) / median([b / c for b, c in zip(t, tcpu)])
    print(f"   cross-checks: median of per-repeat ratios {paired:.2f}×, of the {len(clean)} clean pairs "
          + (f"{median(clean):.2f}×" if clean else "-")
          + (f", ratio per CPU-second {per_cpu:.2f}×" if threads == 1 else "")
          + f"; median CPU share glassnet {median(gcpu):.2f}, torch {median(tcpu):.2f}")
    return dict(glassnet=gm, torch=tm, ratio=ratio, paired=paired, clean=median(clean) if clean else None,
                per_cpu=per_cpu if threads == 1 else None, verdict=verdict)
