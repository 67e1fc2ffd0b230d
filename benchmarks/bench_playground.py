"""Playground speed: epochs/s trained by the server and frames/s delivered to a page, with every heat map.

Two measurements per network (the default 2-4-2-1 and the largest: all seven features, six hidden layers of 8):
- ``session``: a `Session` alone, trained in 5 ms slices with a frame every 1/30 s, as the server does;
- ``page``: a real uvicorn server in a subprocess and a WebSocket client that plays the page's part (receives and
  decodes every frame); reports epochs/s and frames/s as the page sees them, and the server's CPU use.

TensorFlow Playground, built from source and run in Chromium on this machine kind, trains 60 epochs/s on the default
net and 18.9 on the largest (one epoch per animation frame); the target is 10x that with >= 30 frames/s.

    python benchmarks/bench_playground.py [--seconds 10] [--repeats 3]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time

from harness import clean_blas_env, machine_report

TFP_EPOCHS_PER_S = {"default": 60.0, "largest": 18.9}
MIN_FRAMES_PER_S = 29.5  # the target is 30; the server sends at most 30 a second, and a window's edges cost a frame
NETS = {
    "default": {},
    "largest": {"networkShape": [8, 8, 8, 8, 8, 8], "xSquared": True, "ySquared": True, "xTimesY": True,
                "sinX": True, "sinY": True},
}


def session_rate(changes: dict, seconds: float) -> dict:
    """Train a Session the way the server does (5 ms slices, a frame every 1/30 s) for `seconds`."""
    from glassnet.playground import Session
    from glassnet.playground.server import FRAME_INTERVAL_S, SLICE_S
    session = Session(seed=1)
    session.set(changes)
    session.handle({"type": "play"})
    frames, frame_time, last = 0, 0.0, -1.0
    start = time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        session.work(min(SLICE_S, max(last + FRAME_INTERVAL_S - now, 0.0)))
        now = time.perf_counter()
        if now - last >= FRAME_INTERVAL_S:  # a steady cadence, as the server keeps (unless we fell behind)
            last = now if now - last >= 2 * FRAME_INTERVAL_S else last + FRAME_INTERVAL_S
            t = time.perf_counter()
            json.dumps(session.frame())
            frame_time += time.perf_counter() - t
            frames += 1
    elapsed = time.perf_counter() - start
    return {"epochs_per_s": session.run.epoch / elapsed, "frames_per_s": frames / elapsed,
            "ms_per_frame": 1000 * frame_time / max(frames, 1)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _page(port: int, changes: dict, seconds: float, server_pid: int) -> dict:
    import websockets
    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=2 ** 24) as ws:
        await ws.send(json.dumps({"type": "set", "state": changes}))
        await ws.send(json.dumps({"type": "play"}))
        frames, first, last_epoch, cpu0 = 0, None, 0, None
        while True:
            message = json.loads(await ws.recv())
            if message.get("type") != "frame" or not message.get("playing"):
                continue
            if first is None:
                first, first_epoch, cpu0 = time.perf_counter(), message["epoch"], _cpu_seconds(server_pid)
                continue
            frames, last_epoch = frames + 1, message["epoch"]
            if time.perf_counter() - first >= seconds:
                break
        elapsed = time.perf_counter() - first
        cpu = _cpu_seconds(server_pid) - cpu0
        await ws.send(json.dumps({"type": "pause"}))
    return {"epochs_per_s": (last_epoch - first_epoch) / elapsed, "frames_per_s": frames / elapsed,
            "server_cpu_share": cpu / elapsed}


def page_rate(changes: dict, seconds: float) -> dict:
    """Serve the playground in a subprocess and measure what one page receives."""
    port = _free_port()
    code = f"from glassnet.playground.server import serve; serve(port={port})"
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        return asyncio.run(_page(port, changes, seconds, server.pid))
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep-blas-env", action="store_true")
    args = parser.parse_args()
    clean_blas_env(args.keep_blas_env)
    import glassnet  # noqa: F401  (loads NumPy's BLAS, so that threadpoolctl can see and limit it)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):  # as the server does
        print("\n".join(machine_report()))
        for name, changes in NETS.items():
            measure_net(name, changes, args)


def measure_net(name: str, changes: dict, args: argparse.Namespace) -> None:
    for kind, measure in (("session", session_rate), ("page", page_rate)):
        runs = [measure(changes, args.seconds) for _ in range(args.repeats)]
        medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        target = 10 * TFP_EPOCHS_PER_S[name]
        verdict = ("PASS" if medians["epochs_per_s"] >= target and medians["frames_per_s"] >= MIN_FRAMES_PER_S
                   else "MISS")
        details = ", ".join(f"{key} {value:.3g}" for key, value in medians.items())
        print(f"{name:8s} {kind:8s} {details}  (runs: {[round(r['epochs_per_s']) for r in runs]}) "
              f"= {medians['epochs_per_s'] / TFP_EPOCHS_PER_S[name]:.1f}x TFP, target {target:g} epochs/s "
              f"and 30 frames/s (≥ {MIN_FRAMES_PER_S} measured): {verdict}", flush=True)


if __name__ == "__main__":
    main()
