"""The ``glassnet`` command: ``glassnet demo`` trains the playground's default network in the terminal;
``glassnet playground`` serves the playground on http://127.0.0.1:8000."""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

__all__ = ["main", "demo"]


def demo(epochs: int = 300, seed: int = 0, verbose: int = 1) -> float:
    """Train the playground's network (all seven features, two hidden layers of 8, tanh) on the two-arm spiral
    with a progress bar; return the test accuracy."""
    import glassnet as gn
    from glassnet import nn, optim

    gn.manual_seed(seed)
    X, y = gn.data.make_dataset("spiral", n=500, noise=0.1, seed=seed)
    X = gn.data.features(X, gn.data.FEATURES)
    Xtr, Xte, ytr, yte = gn.data.train_test_split(X, y, test_size=0.5, seed=seed, stratify=y)
    model = nn.Sequential(nn.Linear(X.shape[1], 8), nn.Tanh(), nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 1))
    history = gn.fit(model, Xtr, ytr, loss=nn.BCEWithLogitsLoss(), optimizer=optim.Adam(model.parameters(), lr=0.03),
                     epochs=epochs, batch_size=10, validation_data=(Xte, yte), metrics=["accuracy"], verbose=verbose,
                     callbacks=[gn.callbacks.EarlyStopping("val_loss", patience=30, restore_best_weights=True)])
    accuracy = gn.evaluate(model, Xte, yte, metrics=["accuracy"], loss=nn.BCEWithLogitsLoss())["accuracy"]
    if verbose:
        print(f"spiral, {len(history.epoch)} epochs: test accuracy {accuracy:.1%}")
    return accuracy


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="glassnet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run_demo = commands.add_parser("demo", help="train the default playground network on the spiral in the terminal")
    run_demo.add_argument("--epochs", type=int, default=300)
    run_demo.add_argument("--seed", type=int, default=0)

    play = commands.add_parser("playground", help="serve the playground (http://127.0.0.1:8000 by default)")
    play.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    play.add_argument("--port", type=int, default=8000)
    play.add_argument("--play", dest="autoplay", action="store_true",
                      help="start training when a page connects (by default a page starts paused, at epoch 0)")
    play.add_argument("--max-sessions", type=int, default=32, help="pages served at once (default 32)")

    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args.epochs, args.seed)
        return 0
    try:
        from glassnet.playground.server import serve
    except ImportError as error:
        print(f"the playground needs its extra: pip install 'glassnet[playground]' ({error})", file=sys.stderr)
        return 1
    serve(host=args.host, port=args.port, autoplay=args.autoplay, max_sessions=args.max_sessions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
