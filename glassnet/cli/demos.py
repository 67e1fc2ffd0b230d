"""``glassnet demo NAME``: 'default' trains the playground page's default network (the same Session the page
runs: circle data, x1 and x2, hidden layers 4 and 2, tanh, SGD at 0.03, batches of 10, half the points for
training) in the terminal; 'spiral' the two-arm spiral on all seven features; other names run examples/NAME.py
from the checkout."""
from __future__ import annotations

import math
import runpy
import sys
from pathlib import Path
from typing import Any, Iterator

__all__ = ["names", "run", "default", "spiral"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def names() -> Iterator[str]:
    yield from ("default", "spiral")
    if EXAMPLES.is_dir():
        yield from sorted(path.stem for path in EXAMPLES.glob("*.py") if not path.stem.startswith("_"))


def run(name: str, epochs: int, seed: int, progress: Any = None) -> str:
    """Run one demo; returns its one-line result."""
    if name == "default":
        return default(epochs, seed, progress)
    if name == "spiral":
        return spiral(epochs, seed, progress)
    argv = sys.argv
    sys.argv = [str(EXAMPLES / f"{name}.py")]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    finally:
        sys.argv = argv
    return f"ran examples/{name}.py"


def default(epochs: int = 300, seed: int = 0, progress: Any = None) -> str:
    """The page's default network, trained epoch by epoch as the page trains it."""
    from glassnet.playground import Session

    session = Session(seed=seed)
    task = progress.add_task("default network", total=epochs, stats="") if progress is not None else None
    metrics: dict[str, Any] = {}
    for epoch in range(1, epochs + 1):
        session.run.train_until(math.inf)
        metrics, _ = session.run.evaluate()
        if task is not None:
            progress.update(task, completed=epoch, stats=f"train loss {metrics['trainLoss']:.4f}  test loss "
                                                         f"{metrics['testLoss']:.4f}")
    return (f"circle, network 2-4-2-1 tanh (the playground's default), {epochs} epochs: test loss "
            f"{metrics['testLoss']:.4f}, test accuracy {metrics['testAcc']:.1%}")


def spiral(epochs: int = 300, seed: int = 0, progress: Any = None) -> str:
    """The playground's seven features, two hidden layers of 8 (tanh), Adam, on the two-arm spiral."""
    import glassnet as gn
    from glassnet import nn, optim

    from .training import RichProgress

    gn.manual_seed(seed)
    X, y = gn.data.make_dataset("spiral", n=500, noise=0.1, seed=seed)
    X = gn.data.features(X, gn.data.FEATURES)
    Xtr, Xte, ytr, yte = gn.data.train_test_split(X, y, test_size=0.5, seed=seed, stratify=y)
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    callbacks = [gn.callbacks.EarlyStopping("val_loss", patience=30, restore_best_weights=True)]
    if progress is not None:
        callbacks.append(RichProgress(progress, "spiral", "accuracy"))
    history = gn.fit(model, Xtr, ytr, loss=nn.BCEWithLogitsLoss(), optimizer=optim.Adam(model.parameters(), lr=0.03),
                     epochs=epochs, batch_size=10, validation_data=(Xte, yte), metrics=["accuracy"],
                     callbacks=callbacks)
    accuracy = gn.evaluate(model, Xte, yte, metrics=["accuracy"], loss=nn.BCEWithLogitsLoss())["accuracy"]
    return f"spiral, {len(history.epoch)} epochs: test accuracy {accuracy:.1%}"
