"""A small network learns the two-arm spiral; then glassnet.viz shows what it learned: the learning curves with
the epoch early stopping kept, the decision boundary with every hidden neuron's own picture (the playground's view
as a static figure), and the network drawn with its weights.

    python examples/see_inside_spiral.py [--out-dir .] [--epochs 300]
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import glassnet as gn
from glassnet import nn, optim, viz

FEATURES = ["x1", "x2", "sin_x1", "sin_x2"]


def train(epochs: int = 300, seed: int = 0) -> tuple[nn.Sequential, gn.History, tuple]:
    gn.manual_seed(seed)
    X, y = gn.data.make_dataset("spiral", n=400, noise=0.05, seed=seed)
    inputs = gn.data.features(X, FEATURES)
    Xtr, Xte, ytr, yte, Ptr, Pte = gn.data.train_test_split(inputs, y, X, test_size=0.3, seed=seed, stratify=y)
    model = nn.Sequential(nn.Linear(len(FEATURES), 8), nn.Tanh(), nn.Linear(8, 6), nn.Tanh(), nn.Linear(6, 1))
    history = gn.fit(model, Xtr, ytr, loss=nn.BCEWithLogitsLoss(), optimizer=optim.Adam(model.parameters(), lr=0.03),
                     epochs=epochs, batch_size=10, validation_data=(Xte, yte), metrics=["accuracy"],
                     callbacks=[gn.callbacks.EarlyStopping("val_loss", patience=40, restore_best_weights=True)])
    return model, history, (X, y)


def main(argv: Sequence[str] | None = None) -> dict[str, Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=".")
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)
    model, history, (X, y) = train(args.epochs)
    out = Path(args.out_dir)
    figures = {
        "curves": viz.learning_curves(history, title="spiral: learning curves"),
        "boundary": viz.decision_boundary(model, X, y, features=lambda p: gn.data.features(p, FEATURES)),
        "graph": viz.network_graph(model, input_names=FEATURES),
    }
    paths = {}
    for name, figure in figures.items():
        paths[name] = out / f"spiral_{name}.png"
        figure.savefig(paths[name], dpi=90)
        print(f"wrote {paths[name]}")
    print(f"validation accuracy {history.history['val_accuracy'][-1]:.1%} after {len(history.epoch)} epochs")
    return paths


if __name__ == "__main__":
    main()
