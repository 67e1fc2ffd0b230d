"""The examples' ``--quick`` runs: each ends with ``RESULT metric=value`` beating a stated baseline and leaves its
figures as non-blank PNG files. Also the examples' own measuring helpers against independent computations."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")  # the examples' figures need the optional matplotlib
from matplotlib import image as mpimg  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
sys.path.insert(0, EXAMPLES)

# name: (metric, value the quick run must reach, the baseline it beats, figures)
QUICK = {
    "digits_mlp": ("test_accuracy", 0.7, "chance is 0.1",
                   ["digits_mlp_curves", "digits_mlp_confusion", "digits_mlp_misclassified", "digits_mlp_weights"]),
    "autoencoder": ("anomaly_roc_auc", 0.8, "a score that knows nothing has AUC 0.5",
                    ["autoencoder_reconstructions", "autoencoder_anomaly", "autoencoder_denoising",
                     "autoencoder_code2d"]),
    "gan": ("modes_covered", 3, "a generator collapsed onto one mode covers 1", ["gan_ring"]),
    "cnn_digits": ("test_accuracy_28", 0.7, "chance is 0.1",
                   ["cnn_filters", "cnn_feature_maps_1", "cnn_feature_maps_2"]),
    "rnn_forecast": ("improvement_over_seasonal_naive", 0.2, "the seasonal-naive forecast itself scores 0",
                     ["rnn_forecast"]),
    "rnn_classify": ("test_accuracy", 0.75, "chance is 0.5", ["rnn_classify"]),
    "transformer": ("reversal_exact_accuracy", 0.9, "guessing gets 10⁻⁸ of the sequences right",
                    ["transformer_attention"]),
    "see_why": ("diagnoses_right", 4, "one fixed answer for every run gets at most 2 of the 4 right",
                ["why_gradient_flow_sigmoid", "why_gradient_flow_relu", "why_saturation_sigmoid", "why_saturation_relu",
                 "why_diagnosis_lr10", "why_diagnosis_overfit", "why_diagnosis_sigmoid", "why_landscape",
                 "why_interpolation", "why_lr_finder"]),
}


def run_quick(name: str, out: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": ROOT,
           "OPENBLAS_NUM_THREADS": "1"}  # small networks: BLAS threads only contend for the cores
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, f"{name}.py"), "--quick", "--out", out],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()


def assert_not_blank(path: str) -> None:
    pixels = mpimg.imread(path)[..., :3]
    colours, counts = np.unique(pixels.reshape(-1, 3), axis=0, return_counts=True)
    background = counts.max() / counts.sum()
    assert background < 0.98 and len(colours) > 20, f"{path} looks blank ({background:.1%} one colour)"


@pytest.mark.parametrize("name", sorted(QUICK))
def test_quick_run_beats_its_baseline_and_draws_its_figures(name, tmp_path):
    metric, needed, baseline, figures = QUICK[name]
    lines = run_quick(name, str(tmp_path))
    results = [line for line in lines if line.startswith("RESULT")]
    assert results == [lines[-1]], f"{name} must end with exactly one RESULT line, got {results}"
    match = re.fullmatch(rf"RESULT {metric}=(-?[\d.]+)", lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) >= needed, f"{name}: {metric}={match.group(1)} < {needed} ({baseline})"
    for figure in figures:
        assert_not_blank(str(tmp_path / f"{figure}.png"))
    if name == "gan":  # the second quality figure: samples near a mode (random points in the box: 1.6%)
        within = re.search(r"([\d.]+)% of samples within 3σ", "\n".join(lines))
        assert within and float(within.group(1)) >= 25, lines
    if name == "transformer":  # the language model beats the characters' frequencies alone
        bits = re.search(r"([\d.]+) bits per character on the held-out last 10% \(unigram baseline ([\d.]+)\)",
                         "\n".join(lines))
        assert bits and float(bits.group(1)) < float(bits.group(2)), lines


def test_roc_auc_matches_scikit_learn_with_ties():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    from _common import roc_auc
    rng = np.random.default_rng(0)
    for _ in range(5):
        labels = rng.random(300) < 0.3
        scores = np.round(rng.normal(size=300) + labels, 1)  # rounded: many ties
        assert roc_auc(scores, labels) == pytest.approx(sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12)
    assert roc_auc(np.arange(4.0), np.array([0, 0, 1, 1])) == 1.0
    with pytest.raises(ValueError, match="positives and negatives"):
        roc_auc(np.arange(3.0), np.zeros(3))


def test_mode_quality_of_real_ring_and_collapsed_samples():
    import gan
    rng = np.random.default_rng(0)
    covered, within = gan.mode_quality(gan.ring_of_gaussians(4000, rng))
    assert covered == 8 and within == pytest.approx(0.9889, abs=0.01)  # P(|N(0, I₂)| ≤ 3) = 1 − e^−4.5
    collapsed = gan.CENTRES[3] + gan.SIGMA * rng.standard_normal((4000, 2))
    assert gan.mode_quality(collapsed)[0] == 1
    assert gan.mode_quality(rng.uniform(-3, 3, (4000, 2)))[1] < 0.05


@pytest.mark.parametrize("max_shift, shape", [(1, (200, 256)), (2, (200, 1, 16, 16))])
def test_random_shifts_move_each_digit_by_at_most_max_shift_pixels(max_shift, shape):
    from _common import random_shifts
    rng = np.random.default_rng(0)
    images = np.zeros((200, 16, 16), np.float32)
    images[:, 5:9, 6:10] = 1  # a 4×4 block of ink
    moved = random_shifts(images.reshape(shape), max_shift, rng)
    assert moved.shape == shape
    offsets = set()
    for image in moved.reshape(200, 16, 16):
        rows, cols = np.nonzero(image)
        assert image.sum() == 16 and rows.max() - rows.min() == 3 and cols.max() - cols.min() == 3
        offsets.add((rows.min() - 5, cols.min() - 6))
    steps = range(-max_shift, max_shift + 1)
    assert offsets == {(dy, dx) for dy in steps for dx in steps}


def test_autoencoder_corruption_replaces_the_stated_fraction():
    from autoencoder import corrupt
    rng = np.random.default_rng(0)
    clean = np.full((200, 256), 0.5, np.float32)
    noisy = corrupt(clean, rng, 0.25)
    assert noisy.dtype == clean.dtype and np.mean(noisy != clean) == pytest.approx(0.25, abs=0.01)
