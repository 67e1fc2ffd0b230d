"""Choosing the number of hidden layers and neurons by k-fold cross-validation (the course's way to avoid too few
or too many hidden layers): GridSearchCV over GlassClassifier's hidden_layer_sizes on scikit-learn's 8×8 digits,
then a plot of the mean cross-validated accuracy (± one standard deviation across folds) beside the training
accuracy for each architecture.

    python examples/choose_hidden_layers.py [--out hidden_layers_cv.png] [--folds 5] [--epochs 40]
"""
from __future__ import annotations

import argparse
from typing import Sequence

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet.sklearn import GlassClassifier
from glassnet.viz._mpl import new_figure

CANDIDATES = [(1,), (4,), (16,), (64,), (16, 16), (64, 64), (64, 64, 64)]


def search(folds: int = 5, epochs: int = 40, samples: int | None = None, seed: int = 0) -> GridSearchCV:
    """The fitted grid search (``cv_results_`` holds every architecture's fold scores)."""
    X, y = load_digits(return_X_y=True)
    if samples:
        X, y = X[:samples], y[:samples]
    model = make_pipeline(StandardScaler(), GlassClassifier(epochs=epochs, learning_rate=3e-3, random_state=seed))
    grid = GridSearchCV(model, {"glassclassifier__hidden_layer_sizes": CANDIDATES}, return_train_score=True,
                        cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    return grid.fit(X, y)


def plot(grid: GridSearchCV):
    """Mean validation accuracy ± std and mean training accuracy per architecture; the chosen one marked."""
    results = grid.cv_results_
    labels = ["-".join(map(str, sizes)) for sizes in results["param_glassclassifier__hidden_layer_sizes"]]
    positions = np.arange(len(labels))
    figure = new_figure(7.5, 4.0)
    ax = figure.subplots()
    ax.plot(positions, results["mean_train_score"], "o--", color="#1f77b4", label="training accuracy")
    ax.errorbar(positions, results["mean_test_score"], yerr=results["std_test_score"], fmt="o-", color="#ff7f0e",
                capsize=4, label=f"{grid.n_splits_}-fold cross-validated accuracy")
    best = int(grid.best_index_)
    ax.axvline(best, color="#2ca02c", linestyle=":", label=f"chosen: {labels[best]}")
    ax.set_xticks(positions, labels)
    ax.set_xlabel("hidden layer sizes")
    ax.set_ylabel("accuracy")
    ax.set_title("Choosing the hidden layers by cross-validation (digits)")
    ax.legend(loc="lower right")
    return figure


def main(argv: Sequence[str] | None = None) -> GridSearchCV:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="hidden_layers_cv.png")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--samples", type=int, default=None, help="use only the first N digits (quicker)")
    args = parser.parse_args(argv)
    grid = search(args.folds, args.epochs, args.samples)
    for sizes, mean, std in zip(CANDIDATES, grid.cv_results_["mean_test_score"], grid.cv_results_["std_test_score"]):
        print(f"hidden {str(sizes):14} cross-validated accuracy {mean:.3f} ± {std:.3f}")
    print(f"chosen: {grid.best_params_['glassclassifier__hidden_layer_sizes']}")
    plot(grid).savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return grid


if __name__ == "__main__":
    main()
