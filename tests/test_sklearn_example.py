"""examples/choose_hidden_layers.py: k-fold cross-validation over hidden layer sizes, and its plot."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def load_example(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cross_validation_prefers_enough_hidden_neurons_and_plots_it(tmp_path, capsys):
    example = load_example("choose_hidden_layers")
    out = tmp_path / "cv.png"
    grid = example.main(["--folds", "3", "--epochs", "15", "--samples", "600", "--out", str(out)])
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == len(example.CANDIDATES)
    assert scores[0] < 0.5 < scores[2]  # one hidden neuron underfits ten digits; sixteen do not
    assert grid.best_params_["glassclassifier__hidden_layer_sizes"] != (1,)
    assert f"chosen: {grid.best_params_['glassclassifier__hidden_layer_sizes']}" in capsys.readouterr().out
    import matplotlib.image
    pixels = matplotlib.image.imread(out)[..., :3]
    orange = np.all(np.abs(pixels - np.array([1.0, 0.498, 0.055])) < 0.05, axis=-1)  # the CV curve's #ff7f0e
    blue = np.all(np.abs(pixels - np.array([0.122, 0.467, 0.706])) < 0.05, axis=-1)  # the training curve
    assert orange.sum() > 200 and blue.sum() > 200
