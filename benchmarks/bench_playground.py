"""Playground speed: epochs/s trained by the server and frames/s delivered to a page, with every heat map.

Three measurements per network (the default 2-4-2-1 and the largest: all seven features, six hidden layers of 8):
- ``session``: a `Session` alone, trained in 5 ms slices with a frame every 1/30 s, as the server does;
- ``page``: a real uvicorn server in a subprocess and a WebSocket client that plays the page's part (receives and
  decodes every frame); reports epochs/s and frames/s as the page sees them, and the server's CPU use;
- ``lens`` (only when asked for): ``session`` with every lens panel closed and open (landscape, gradient flow,
  saturation, diagnosis), alternating; reports the ratio of epochs/s (the lens's cost while training);
- ``browser``: the real page in Chromium (Playwright, /usr/bin/chromium) beside TensorFlow Playground itself (built
  in ../shared/tfp/dist, served by http.server), alternating, the same way: press Play, read the epoch counter once
  a second, take the median of the per-second rates; frames/s is what the page drew (glassnet: frames drawn; TFP:
  animation frames, one epoch and one redraw each), and the server's CPU per playing page.

TensorFlow Playground trains 60 epochs/s on the default net and 18.9 on the largest on an idle machine of this kind
(one epoch per animation frame); the target is 10x TFP with >= 30 frames/s drawn (>= 20 on the largest).

    python benchmarks/bench_playground.py [--seconds 10] [--repeats 3] [--kinds session,page,browser,lens]
                                          [--before DIR]

``--before DIR`` also measures the page of another checkout (e.g. ``git archive <commit> glassnet | tar -x -C DIR``)
in the same browser run, alternating, so that a change is measured before and after at the same load.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from harness import clean_blas_env, machine_report

TFP_EPOCHS_PER_S = {"default": 60.0, "largest": 18.9}
MIN_FRAMES_PER_S = 29.5  # the target is 30; the server sends at most 30 a second, and a window's edges cost a frame
MIN_DRAWN_PER_S = {"default": 30.0, "largest": 20.0}  # frames drawn by the page in Chromium: the server sends at
# most 30 a second, so a window of `seconds` counts one frame fewer than 30 a second when its edges fall between two
# frames; a page that draws every frame of a 30-a-second stream passes (the rate + 1/seconds is compared)
NETS = {
    "default": {},
    "largest": {"networkShape": [8, 8, 8, 8, 8, 8], "xSquared": True, "ySquared": True, "xTimesY": True,
                "sinX": True, "sinY": True},
}
ROOT = Path(__file__).resolve().parents[1]  # the checkout whose page is measured
CHROMIUM = os.environ.get("GLASSNET_CHROMIUM", "/usr/bin/chromium")
# TensorFlow Playground, built: $GLASSNET_TFP_DIST, or shared/tfp/dist beside the checkout (or beside its folder).
TFP_DIST = Path(os.environ.get("GLASSNET_TFP_DIST") or next(
    (folder / "shared" / "tfp" / "dist" for folder in Path(__file__).resolve().parents[1:4]
     if (folder / "shared" / "tfp" / "dist").is_dir()), "../shared/tfp/dist"))


def session_rate(changes: dict, seconds: float, lens: tuple[str, ...] = ()) -> dict:
    """Train a Session the way the server does (5 ms slices, a frame every 1/30 s) for `seconds`, with the `lens`
    panels open (their data comes with the frames)."""
    from glassnet.playground import Session
    from glassnet.playground.server import FRAME_INTERVAL_S, SLICE_S
    session = Session(seed=1)
    session.set(changes)
    if lens:
        session.handle({"type": "lens", "open": list(lens)})
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


@contextlib.contextmanager
def serving(command: list[str], port: int, cwd: str | None = None):
    """A server subprocess (`command`, run in `cwd` with it first on the path), once it accepts connections on
    127.0.0.1:`port`; yields its pid."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [cwd, os.environ.get("PYTHONPATH")])))
    server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield server.pid
    finally:
        server.terminate()
        server.wait(10)


def playground_server(port: int) -> list[str]:
    return [sys.executable, "-c", f"from glassnet.playground.server import serve; serve(port={port})"]


def page_rate(changes: dict, seconds: float) -> dict:
    """Serve the playground in a subprocess and measure what one page receives."""
    port = _free_port()
    with serving(playground_server(port), port) as pid:
        return asyncio.run(_page(port, changes, seconds, pid))


def _hash(changes: dict, seed: str) -> str:
    """The URL hash of a net for both apps (glassnet reads TensorFlow Playground's keys and seed)."""
    text = {k: ",".join(map(str, v)) if isinstance(v, list) else str(v).lower() for k, v in changes.items()}
    return "#" + "&".join(f"{k}={v}" for k, v in {**text, "x": "true", "y": "true", "seed": seed}.items())


def _play_in_browser(browser, url: str, seconds: float, drawn: str, cpu) -> dict:
    """Open `url`, press Play, read the epoch counter once a second for `seconds`; the median per-second epoch
    rate, frames drawn per second (the JS expression `drawn` counts them) and `cpu()`'s seconds per second."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.route(lambda u: not u.startswith("http://127.0.0.1"), lambda route: route.abort())
    page.goto(url, wait_until="load")
    page.wait_for_selector("#play-pause-button")
    time.sleep(1.5)  # the first state and frame (glassnet), fonts (TFP)
    page.evaluate("() => { window.__raf = 0; const f = () => { window.__raf++; requestAnimationFrame(f); }; "
                  "requestAnimationFrame(f); }")
    read = f"() => [performance.now(), +document.querySelector('#iter-number').textContent.replace(/,/g, ''), {drawn}]"
    page.click("#play-pause-button")
    time.sleep(1.0)  # past the start
    reads, cpu0 = [page.evaluate(read)], cpu()
    start = time.monotonic()
    for k in range(1, int(seconds) + 1):
        time.sleep(max(0.0, start + k - time.monotonic()))
        reads.append(page.evaluate(read))
    cpu_used = cpu() - cpu0
    page.click("#play-pause-button")
    page.close()
    rates = [(b[1] - a[1]) / ((b[0] - a[0]) / 1000) for a, b in zip(reads, reads[1:])]
    elapsed = (reads[-1][0] - reads[0][0]) / 1000
    drawn = reads[-1][2][0] - reads[0][2][0]
    return {"epochs_per_s": statistics.median(rates), "frames_per_s": drawn / elapsed,
            "ms_per_drawn_frame": (reads[-1][2][1] - reads[0][2][1]) / max(drawn, 1),
            "server_cpu_share": cpu_used / elapsed}


def browser_rates(seconds: float, repeats: int, before: str | None = None) -> None:
    """glassnet's page and TensorFlow Playground's in one Chromium, alternating, on both nets (and the page of the
    checkout `before`, if given)."""
    from playwright.sync_api import sync_playwright
    port, tfp_port, before_port = _free_port(), _free_port(), _free_port()
    tfp = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(tfp_port)]
    with contextlib.ExitStack() as stack:
        pids = {"glassnet": stack.enter_context(serving(playground_server(port), port, cwd=str(ROOT)))}
        ports = {"glassnet": port}
        if before:
            pids["before"] = stack.enter_context(serving(playground_server(before_port), before_port, cwd=before))
            ports["before"] = before_port
        stack.enter_context(serving(tfp, tfp_port, cwd=str(TFP_DIST)))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        print(f"Chromium {browser.version}; TensorFlow Playground from {TFP_DIST}", flush=True)
        for name, changes in NETS.items():
            runs: dict[str, list[dict]] = {app: [] for app in [*ports, "tfp"]}
            for _ in range(repeats):
                for app, app_port in ports.items():
                    runs[app].append(_play_in_browser(
                        browser, f"http://127.0.0.1:{app_port}/{_hash(changes, '12345')}", seconds,
                        "[window.__playground.stats.draws, window.__playground.stats.drawMs]",
                        lambda pid=pids[app]: _cpu_seconds(pid)))
                runs["tfp"].append(_play_in_browser(
                    browser, f"http://127.0.0.1:{tfp_port}/index.html{_hash(changes, '0.12345')}", seconds,
                    "[window.__raf, 0]", lambda: 0.0))
            medians = {app: {key: statistics.median(run[key] for run in app_runs) for key in app_runs[0]}
                       for app, app_runs in runs.items()}
            theirs = medians["tfp"]
            for app in ports:
                ours = medians[app]
                ratio = ours["epochs_per_s"] / theirs["epochs_per_s"]
                drawn_enough = ours["frames_per_s"] + 1 / seconds >= MIN_DRAWN_PER_S[name]
                verdict = "PASS" if ratio >= 10 and drawn_enough else "MISS"
                label = "glassnet" if app == "glassnet" else f"glassnet {before}"
                print(f"{name:8s} browser  {label} {ours['epochs_per_s']:.0f} epochs/s, {ours['frames_per_s']:.1f} "
                      f"frames drawn/s ({ours['ms_per_drawn_frame']:.1f} ms of JavaScript each), server CPU "
                      f"{ours['server_cpu_share']:.2f} core; TFP {theirs['epochs_per_s']:.1f} epochs/s, "
                      f"{theirs['frames_per_s']:.1f} frames/s; = {ratio:.1f}x TFP (runs: "
                      f"{[round(r['epochs_per_s']) for r in runs[app]]} vs "
                      f"{[round(r['epochs_per_s'], 1) for r in runs['tfp']]}), target 10x and "
                      f"{MIN_DRAWN_PER_S[name]:g} frames/s: {verdict}", flush=True)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep-blas-env", action="store_true")
    parser.add_argument("--kinds", default="session,page,browser", help="comma-separated: session, page, browser")
    parser.add_argument("--before", help="a checkout whose page the browser run measures too (before a change)")
    args = parser.parse_args()
    kinds = args.kinds.split(",")
    clean_blas_env(args.keep_blas_env)
    import glassnet  # noqa: F401  (loads NumPy's BLAS, so that threadpoolctl can see and limit it)
    from threadpoolctl import threadpool_limits
    with threadpool_limits(1):  # as the server does
        print("\n".join(machine_report()))
        for name, changes in NETS.items():
            measure_net(name, changes, args, [kind for kind in kinds if kind != "browser"])
    if "browser" in kinds:
        browser_rates(args.seconds, args.repeats, args.before)


LENS_PANELS = ("landscape", "gradients", "saturation", "diagnosis")


def measure_net(name: str, changes: dict, args: argparse.Namespace, kinds: list[str]) -> None:
    if "lens" in kinds:
        runs = [(session_rate(changes, args.seconds), session_rate(changes, args.seconds, LENS_PANELS))
                for _ in range(args.repeats)]
        closed, opened = (statistics.median(run[i]["epochs_per_s"] for run in runs) for i in (0, 1))
        pairs = [(round(a["epochs_per_s"]), round(b["epochs_per_s"])) for a, b in runs]
        print(f"{name:8s} lens     epochs/s with every lens panel open {opened:.4g}, all closed {closed:.4g}: "
              f"{opened / closed:.2f}x (runs, closed and open: {pairs})", flush=True)
    for kind, measure in (("session", session_rate), ("page", page_rate)):
        if kind not in kinds:
            continue
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
