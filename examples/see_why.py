"""See why a network learns or fails: contrasting nets on the circle, each diagnosed in plain words by gn.glass.

- a deep sigmoid net (six layers of 8) against the same depth with ReLU: the gradient flow shows the sigmoid's
  first layers receiving almost no gradient (vanishing gradients), and its saturation histograms why;
- the playground's 2-4-2-1 net at learning rate 10: the loss diverges;
- six layers of 8 on 20 noisy points: the test loss rises while the training loss falls (overfitting);
- the playground's net trained well: its loss landscape along the trajectory's principal directions with the path
  it took, the straight line from its initial weights, and the learning-rate range test.

Figures (``why_*.png``) go to ``--out``; the run ends with ``RESULT diagnoses_right=N``: how many of the four
contrasting runs got the diagnosis the course predicts (``EXPECTED``; one fixed answer for every run gets at most 2
of them right).

    python examples/see_why.py [--quick] [--out DIR]
"""
from __future__ import annotations

import copy
import os

import numpy as np
from _common import parse_args

import glassnet as gn
from glassnet import glass, nn, optim, viz


# What the course predicts for each contrasting run, from the kinds of its findings.
EXPECTED = {
    "sigmoid": lambda kinds: "vanishing_gradients" in kinds and not {"lr_too_high", "overfitting"} & set(kinds),
    "relu": lambda kinds: "vanishing_gradients" not in kinds,
    "lr10": lambda kinds: kinds == ["lr_too_high"],
    "overfit": lambda kinds: "overfitting" in kinds and "lr_too_high" not in kinds,
}


def kinds_of(findings: list[glass.Finding]) -> list[str]:
    return [finding.kind for finding in findings]


def circle(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    X, y = gn.data.make_dataset("circle", n=n, noise=noise, seed=seed)
    return X.astype(np.float32), y.astype(np.float32).reshape(-1, 1)


def deep(activation: type[nn.Module], width: int = 8, depth: int = 6) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(2, width), activation()]
    for _ in range(depth - 1):
        layers += [nn.Linear(width, width), activation()]
    return nn.Sequential(*layers, nn.Linear(width, 1))


def playground_net() -> nn.Sequential:
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 1))


def train(model: nn.Module, data: tuple, lr: float, epochs: int, optimizer: type = optim.SGD,
          batch_size: int = 10, callbacks: tuple = ()) -> gn.History:
    X, y, Xv, yv = data
    return gn.fit(model, X, y, loss=nn.BCEWithLogitsLoss(), optimizer=optimizer(model.parameters(), lr=lr),
                  epochs=epochs, batch_size=batch_size, validation_data=(Xv, yv), callbacks=list(callbacks),
                  verbose=False)


def report(name: str, findings: list[glass.Finding]) -> None:
    print(f"{name}:")
    for finding in findings:
        print(f"  {finding.title} — {finding.evidence}")


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0])
    epochs = 30 if args.quick else 120
    X, y = circle(200, 0.0, seed=0)
    Xv, yv = circle(200, 0.0, seed=1)
    data = (X, y, Xv, yv)
    figures, diagnosed = {}, {}

    # 1. vanishing gradients: six sigmoid layers against six ReLU layers, the same data and steps
    flows = {}
    for name, activation in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)):
        gn.manual_seed(0)
        model = deep(activation)
        flows[name] = glass.GradientFlow()
        history = train(model, data, 0.1, epochs, callbacks=(flows[name],))
        report(f"six {name} layers", findings := glass.diagnose(history, gradient_flow=flows[name],
                                                                saturation_report=glass.saturation(model, X)))
        diagnosed[name] = findings
        figures[f"why_gradient_flow_{name}"] = viz.gradient_flow(flows[name], title=f"six {name} layers, SGD 0.1")
        figures[f"why_saturation_{name}"] = viz.saturation_histograms(glass.saturation(model, X)[:3],
                                                                      title=f"six {name} layers: the first three")

    # 2. a learning rate of 10 on the playground's net
    gn.manual_seed(0)
    diverging = train(playground_net(), data, 10.0, min(epochs, 20))
    diagnosed["lr10"] = findings = glass.diagnose(diverging)
    report("learning rate 10", findings)
    figures["why_diagnosis_lr10"] = viz.diagnosis(findings, diverging, title="learning rate 10")

    # 3. overfitting: six layers of 8 on 20 noisy points, tested on 200
    gn.manual_seed(0)
    few = circle(20, 0.5, seed=2) + circle(200, 0.5, seed=3)
    overfit = train(deep(nn.ReLU), few, 0.01, 120 if args.quick else 300, optimizer=optim.Adam, batch_size=20)
    diagnosed["overfit"] = findings = glass.diagnose(overfit)
    report("six layers of 8 on 20 noisy points", findings)
    figures["why_diagnosis_overfit"] = viz.diagnosis(findings, overfit, title="six layers of 8 on 20 noisy points")
    figures["why_diagnosis_sigmoid"] = viz.diagnosis(diagnosed["sigmoid"], title="six sigmoid layers")

    # 4. the playground's net trained well: where it went on the cost surface, and which rate to use
    gn.manual_seed(0)
    model = playground_net()
    initial = copy.deepcopy(model.state_dict())
    flow = glass.GradientFlow(snapshots=True)
    good = train(model, data, 0.03, epochs, optimizer=optim.Adam, callbacks=(flow,))
    report("the playground's 2-4-2-1 net, Adam 0.03", glass.diagnose(good, gradient_flow=flow))
    loss = nn.BCEWithLogitsLoss()
    landscape = glass.loss_landscape(model, X, y, loss, resolution=21 if args.quick else 41, directions="pca",
                                     trajectory=flow.trajectory)
    figures["why_landscape"] = viz.loss_landscape(landscape, title="2-4-2-1 on the circle: the path Adam took")
    ts, losses = glass.interpolate(model, initial, X, y, loss)
    figures["why_interpolation"] = viz.interpolation(ts, losses)
    gn.manual_seed(0)
    found = glass.lr_find(playground_net(), X, y, loss, optimizer="adam", start_lr=1e-4, end_lr=30, num_iter=300,
                          batch_size=10)
    print(f"lr finder on a fresh 2-4-2-1 net with Adam: suggested learning rate {found.suggestion:.2g}"
          + (f", diverged at {found.diverged_at:.2g}" if found.diverged_at else ""))
    figures["why_lr_finder"] = viz.lr_finder(found, title="learning-rate range test, 2-4-2-1, Adam")

    for name, figure in figures.items():
        path = os.path.join(args.out, f"{name}.png")
        figure.savefig(path, dpi=90)
        print(f"saved {path}")
    right = [name for name, expected in EXPECTED.items() if expected(kinds_of(diagnosed[name]))]
    print(f"diagnosed as the course predicts: {', '.join(right) or 'none'}")
    print(f"RESULT diagnoses_right={len(right)}")


if __name__ == "__main__":
    main()
