"""The loss landscape's speed (issue 15): 41×41 points for the default playground net in under 0.2 s.

The default playground setup (circle, 250 training points, features x1 and x2, 2-4-2-1 tanh with a tanh output,
the playground's half MSE) through ``gn.glass.loss_landscape`` at 41×41 on filter-normalised random directions,
beside the same grid computed with PyTorch (one batched forward per row, ``torch.bmm`` over the row's 41 weight
settings) and beside glassnet's one-forward-per-point fallback (the model wrapped in a Module of its own). Before
timing, torch's grid must equal glassnet's (rtol 1e-4). One thread on both sides; alternating blocks.

    python benchmarks/bench_lens.py [--seconds 0.6] [--repeats 5] [--resolution 41]
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys

from harness import alternate, clean_blas_env, git_revision, machine_report, machine_state, median, threads

TARGET_S = 0.2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=41)
    parser.add_argument("--keep-blas-env", action="store_true")
    args = parser.parse_args()
    clean_blas_env(args.keep_blas_env)

    import numpy as np
    import torch

    from glassnet import lens, nn
    from glassnet.playground import Session

    session = Session(seed=1)
    setup, model = session.setup, session.run.model
    X, y, loss = setup.train_x, setup.train_t, setup.loss_fn
    n = args.resolution

    class Wrapped(nn.Module):  # a forward of its own: the landscape takes one forward per point
        def __init__(self) -> None:
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x)

    land = lens.loss_landscape(model, X, y, loss, resolution=n)
    d1, d2 = land.directions
    center = {name: p.numpy() for name, p in model.named_parameters()}
    t_center = {k: torch.tensor(v, dtype=torch.float32) for k, v in center.items()}
    t_d1 = {k: torch.tensor(v, dtype=torch.float32) for k, v in d1.items()}
    t_d2 = {k: torch.tensor(v, dtype=torch.float32) for k, v in d2.items()}
    tx, ty = torch.tensor(X.numpy()), torch.tensor(y.numpy())
    grid = torch.linspace(-1.0, 1.0, n)
    layers = [("0", torch.tanh), ("2", torch.tanh), ("4", torch.tanh)]

    def torch_grid() -> np.ndarray:
        losses = torch.empty(n, n)
        with torch.no_grad():
            for i in range(n):
                a, b = grid[:, None, None], grid[i]
                h = tx.expand(n, *tx.shape)
                for name, activation in layers:
                    w = t_center[f"{name}.weight"] + a * t_d1[f"{name}.weight"] + b * t_d2[f"{name}.weight"]
                    bias = t_center[f"{name}.bias"] + a[:, :, 0] * t_d1[f"{name}.bias"] + b * t_d2[f"{name}.bias"]
                    h = activation(torch.bmm(h, w.transpose(1, 2)) + bias[:, None, :])
                losses[i] = 0.5 * ((h - ty) ** 2).mean(dim=(1, 2))  # the playground's half MSE
        return losses.numpy()

    np.testing.assert_allclose(torch_grid(), land.losses, rtol=1e-4)
    slow = lens.loss_landscape(Wrapped(), X, y, loss, resolution=n, directions=(
        {f"inner.{k}": v for k, v in d1.items()}, {f"inner.{k}": v for k, v in d2.items()}))
    np.testing.assert_allclose(slow.losses, land.losses, rtol=1e-4)

    print(f"# bench_lens: {n}×{n} loss landscape, default playground net 2-4-2-1, {len(X)} points")
    print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {git_revision('.')}, "
          f"load {os.getloadavg()[0]:.2f}, command: python {' '.join(sys.argv)}")
    for line in machine_report():
        print("#", line)
    print("# machine:", machine_state())
    sides = {
        "glassnet": lambda: lens.loss_landscape(model, X, y, loss, resolution=n, directions=(d1, d2)),
        "torch": torch_grid,
        "glassnet per point": lambda: lens.loss_landscape(Wrapped(), X, y, loss, resolution=n,
                                                          directions=slow.directions),
    }
    with threads(1):
        rates = alternate(sides, args.repeats, args.seconds)
    seconds = {name: 1 / median([r for r, _ in runs]) for name, runs in rates.items()}
    for name, runs in rates.items():
        shares = ", ".join(f"{share:.2f}" for _, share in runs)
        print(f"{name:>20}: {seconds[name] * 1e3:8.1f} ms per grid (median of {len(runs)}; CPU shares {shares})")
    print(f"glassnet ÷ torch time: {seconds['glassnet'] / seconds['torch']:.2f}; batched speed-up over one forward "
          f"per point: {seconds['glassnet per point'] / seconds['glassnet']:.0f}×")
    verdict = "PASS" if seconds["glassnet"] < TARGET_S else "MISS"
    print(f"target {n}×{n} < {TARGET_S} s: {seconds['glassnet']:.3f} s {verdict}")
    print("# machine at the end:", machine_state(), f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
