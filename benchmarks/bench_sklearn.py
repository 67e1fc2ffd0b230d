"""GlassClassifier/GlassRegressor against scikit-learn's MLPClassifier/MLPRegressor on the same data, the same
network and the same training budget (Adam, learning rate, batch size, L2 alpha, a fixed number of epochs with no
early stopping): held-out accuracy or R², and fit time (median of --repeats fits, alternating the two sides).

    python benchmarks/bench_sklearn.py [--repeats 3] [--epochs 40]
"""
from __future__ import annotations

import argparse
import platform
import statistics
import time
import warnings

from sklearn.datasets import load_digits, make_friedman1
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from glassnet.sklearn import GlassClassifier, GlassRegressor


def tasks(epochs: int) -> list[tuple[str, tuple, dict]]:
    common = {"hidden_layer_sizes": (64, 64), "learning_rate": 1e-3, "batch_size": 32, "alpha": 1e-4}
    mlp = {"hidden_layer_sizes": (64, 64), "learning_rate_init": 1e-3, "batch_size": 32, "alpha": 1e-4,
           "max_iter": epochs, "n_iter_no_change": epochs + 1, "tol": 0.0, "solver": "adam"}
    X, y = load_digits(return_X_y=True)
    Xf, yf = make_friedman1(n_samples=3000, n_features=10, noise=0.5, random_state=0)
    return [("digits (1,797 × 64, 10 classes), accuracy", (X, y),
             {"glassnet": GlassClassifier(epochs=epochs, **common), "sklearn": MLPClassifier(**mlp)}),
            ("Friedman #1 (3,000 × 10, regression), R²", (Xf, yf),
             {"glassnet": GlassRegressor(epochs=epochs, **common), "sklearn": MLPRegressor(**mlp)})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {args.epochs} epochs, hidden (64, 64), Adam lr 1e-3, batch 32, "
          f"alpha 1e-4; median of {args.repeats} fits (seeds 0…{args.repeats - 1}), sides alternating")
    print("| data, score | glassnet score | sklearn score | glassnet fit s | sklearn fit s "
          "| sklearn ÷ glassnet time |")
    print("|---|---|---|---|---|---|")
    for name, (X, y), models in tasks(args.epochs):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
        scaler = StandardScaler().fit(Xtr)
        Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
        if "R²" in name:
            mean, std = ytr.mean(), ytr.std()  # MLPRegressor gets the same standardised targets as GlassRegressor
        times: dict[str, list[float]] = {side: [] for side in models}
        scores: dict[str, list[float]] = {side: [] for side in models}
        for seed in range(args.repeats):
            for side, model in models.items():
                model.set_params(random_state=seed)
                target = (ytr - mean) / std if side == "sklearn" and "R²" in name else ytr
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    start = time.perf_counter()
                    model.fit(Xtr, target)
                    times[side].append(time.perf_counter() - start)
                if side == "sklearn" and "R²" in name:
                    from sklearn.metrics import r2_score
                    scores[side].append(r2_score(yte, model.predict(Xte) * std + mean))
                else:
                    scores[side].append(model.score(Xte, yte))
        g, s = (statistics.median(times[side]) for side in ("glassnet", "sklearn"))
        print(f"| {name} | {statistics.median(scores['glassnet']):.3f} | {statistics.median(scores['sklearn']):.3f} "
              f"| {g:.2f} | {s:.2f} | {s / g:.2f}× |")


if __name__ == "__main__":
    main()
