"""An MLP learns scikit-learn's 8×8 digits; then glassnet.viz shows what it learned: the first layer's weights as
images, the input that most excites each digit's output (activation maximisation) and a saliency map of one test
digit (which pixels move its class score most).

    python examples/see_inside_digits.py [--out-dir .] [--epochs 30]
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import numpy as np
from sklearn.datasets import load_digits

import glassnet as gn
from glassnet import nn, optim, viz


def train(epochs: int = 30, seed: int = 0) -> tuple[nn.Sequential, np.ndarray, np.ndarray, float]:
    gn.manual_seed(seed)
    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = gn.data.train_test_split(X, y, test_size=0.25, seed=seed, stratify=y)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    gn.fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(), lr=3e-3),
           epochs=epochs, batch_size=32, regularization=("l2", 1e-3))
    accuracy = gn.evaluate(model, Xte, yte, metrics=["accuracy"])["accuracy"]
    return model, Xte, yte, accuracy


def main(argv: Sequence[str] | None = None) -> dict[str, Path]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", default=".")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--digit", type=int, default=3, help="the class whose ideal input is drawn")
    args = parser.parse_args(argv)
    model, Xte, yte, accuracy = train(args.epochs)
    print(f"test accuracy {accuracy:.1%}")
    out = Path(args.out_dir)
    maximised, ideal = viz.activation_maximization(model, args.digit, 64, image_shape=(8, 8), steps=150, lr=0.05,
                                                   l2=0.05, bounds=(0.0, 1.0))
    sample = int(np.flatnonzero(yte == args.digit)[0])
    salient, _ = viz.saliency_map(model, Xte[sample], image_shape=(8, 8))
    figures = {"weights": viz.first_layer_weights(model, (8, 8)), "maximisation": maximised, "saliency": salient}
    predicted = int(gn.predict(model, ideal[None, :].astype(np.float32))[0].argmax())
    print(f"the network reads its ideal {args.digit} as a {predicted}")
    paths = {}
    for name, figure in figures.items():
        paths[name] = out / f"digits_{name}.png"
        figure.savefig(paths[name], dpi=90)
        print(f"wrote {paths[name]}")
    return paths


if __name__ == "__main__":
    main()
