"""End-to-end learning: the playground's data sets, scikit-learn's digits, and what dropout and L2 do.

Small data, few epochs, fixed seeds (``gn.manual_seed`` for weights and shuffling, ``seed=`` for the data), and
bounds that only a network that learned can reach: every classification bound is far above chance.
"""
from __future__ import annotations

import numpy as np
import pytest

import glassnet as gn
from glassnet import nn, optim

ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1x2", "sin_x1", "sin_x2"]


def mlp(inputs: int, hidden: tuple[int, ...], outputs: int, activation=nn.Tanh, dropout: float = 0.0):
    layers, width = [], inputs
    for size in hidden:
        layers += [nn.Linear(width, size), activation()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    return nn.Sequential(*layers, nn.Linear(width, outputs))


def playground_run(name: str, *, n: int, hidden: tuple[int, ...], epochs: int, lr: float, batch_size: int = 10,
                   noise: float = 0.0, features: list[str] | None = None, seed: int = 0):
    """Train on half of a playground data set; return the test scores and the history."""
    X, y = gn.data.make_dataset(name, n=n, noise=noise, seed=seed)
    if features:
        X = gn.data.features(X, features)
    info = gn.data.DATASETS[name]
    classes = info.n_classes or 0
    Xtr, Xte, ytr, yte = gn.data.train_test_split(X, y, test_size=0.5, seed=seed,
                                                  stratify=y if classes else None)
    gn.manual_seed(seed)
    outputs = classes if classes > 2 else 1
    model = mlp(X.shape[1], hidden, outputs)
    loss = nn.CrossEntropyLoss() if classes > 2 else nn.BCEWithLogitsLoss() if classes else nn.MSELoss()
    metrics = ["accuracy"] if classes else ["mse"]
    history = gn.fit(model, Xtr, ytr, loss=loss, optimizer=optim.Adam(model.parameters(), lr=lr), epochs=epochs,
                     batch_size=batch_size, validation_data=(Xte, yte), metrics=metrics)
    return gn.evaluate(model, Xte, yte, loss=loss, metrics=metrics), history


@pytest.mark.parametrize("name, kwargs", [
    ("circle", dict(n=400, hidden=(8,), epochs=40, lr=0.03)),
    ("xor", dict(n=400, hidden=(8, 8), epochs=40, lr=0.03)),
    ("gauss", dict(n=400, hidden=(4,), epochs=20, lr=0.03)),
    ("spiral", dict(n=800, hidden=(16, 16), epochs=150, lr=0.02, batch_size=20, features=ALL_FEATURES)),
])
def test_binary_playground_data_sets_reach_95_percent(name, kwargs):
    # measured over seeds 0-5: the lowest test accuracy of these settings was 0.99; the test uses seed 0
    scores, history = playground_run(name, **kwargs)
    assert scores["accuracy"] >= 0.95, scores
    assert history.history["val_accuracy"][-1] == pytest.approx(scores["accuracy"])
    assert history.history["accuracy"][0] < scores["accuracy"]


def test_spiral_with_the_playground_net_and_noise():
    """With the playground's noise (0.1) as in the issue's example, and all seven features."""
    scores, _ = playground_run("spiral", n=800, noise=0.1, hidden=(16, 16), epochs=150, lr=0.02, batch_size=20,
                               features=ALL_FEATURES)
    assert scores["accuracy"] >= 0.95, scores


def test_spiral3_with_cross_entropy_reaches_90_percent():
    scores, history = playground_run("spiral3", n=900, hidden=(24, 24), epochs=150, lr=0.01, batch_size=16,
                                     features=ALL_FEATURES)
    assert scores["accuracy"] >= 0.90, scores
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_plane_regression_test_mse_below_0_005():
    """Target (x1 + x2)/10 has variance 0.24 on the playground's square: MSE < 0.005 is under 2.1% of it."""
    scores, history = playground_run("plane", n=400, hidden=(4,), epochs=30, lr=0.01)
    assert scores["mse"] < 0.005, scores
    assert scores["loss"] == pytest.approx(scores["mse"])
    assert history.history["val_mse"][0] > scores["mse"]


def test_digits_mlp_reaches_96_percent():
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    Xtr, Xte, ytr, yte = gn.data.train_test_split(X, y, test_size=0.25, seed=0, stratify=y)
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    gn.fit(model, Xtr, ytr, loss=nn.CrossEntropyLoss(), optimizer=optim.Adam(model.parameters(), lr=0.001),
           epochs=40, batch_size=32)
    scores = gn.evaluate(model, Xte, yte, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])
    assert scores["accuracy"] >= 0.96, scores
    # the same number without the loss: labels are read as classes, not as one column of values
    assert gn.evaluate(model, Xte, yte, metrics=["accuracy"])["accuracy"] == scores["accuracy"]
    assert (gn.predict(model, Xte).argmax(axis=1) == yte).mean() == pytest.approx(scores["accuracy"])


# ------------------------------------------------------------------------------------------ regularization

def overfit_run(variant: str, seed: int = 0) -> dict[str, float]:
    """60 noisy circle points, a 64-64 ReLU net, 200 epochs; scores on the 60 and on 1000 fresh points."""
    X, y = gn.data.make_dataset("circle", n=1060, noise=0.4, seed=seed)
    Xtr, Xte, ytr, yte = gn.data.train_test_split(X, y, test_size=1000, seed=seed)
    gn.manual_seed(seed)
    model = mlp(2, (64, 64), 1, activation=nn.ReLU, dropout=0.5 if variant == "dropout" else 0.0)
    gn.fit(model, Xtr, ytr, loss=nn.BCEWithLogitsLoss(), optimizer=optim.Adam(model.parameters(), lr=0.01),
           epochs=200, batch_size=10, regularization=("l2", 0.01) if variant == "l2" else None)
    train = gn.evaluate(model, Xtr, ytr, loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])
    test = gn.evaluate(model, Xte, yte, loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])
    return {"train_accuracy": train["accuracy"], "loss_gap": test["loss"] - train["loss"],
            "accuracy_gap": train["accuracy"] - test["accuracy"], "test_accuracy": test["accuracy"]}


@pytest.fixture(scope="module")
def unregularized():
    return overfit_run("none")


@pytest.mark.parametrize("variant", ["dropout", "l2"])
def test_regularization_reduces_the_train_test_gap(unregularized, variant):
    plain = unregularized
    assert plain["train_accuracy"] >= 0.95 and plain["loss_gap"] > 0.5, plain  # the plain net does overfit
    regular = overfit_run(variant)
    # measured over seeds 0-4 the loss-gap ratio was at most 0.60 (dropout) and 0.17 (L2), the accuracy-gap
    # ratio at most 0.84; seed 0 gives 0.16 / 0.08 and 0.5 / 0.31
    assert regular["loss_gap"] < 0.75 * plain["loss_gap"], (plain, regular)
    assert regular["accuracy_gap"] < plain["accuracy_gap"], (plain, regular)
    assert regular["test_accuracy"] >= plain["test_accuracy"] - 0.02, (plain, regular)
