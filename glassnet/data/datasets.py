"""Toy 2-D data sets: TensorFlow Playground's six generators, plus ``spiral3`` and ``sine``.

Each generator follows TensorFlow Playground's ``dataset.ts`` (facts restated in
``shared/playground-reference.md`` §2), with two changes of representation:

* class labels are integers 0/1 (playground label +1 → 1, −1 → 0) so they feed a BCE or
  cross-entropy loss directly;
* ``n`` is exact: where the playground splits N into halves (or arms) and N is odd, the
  first group gets the extra point.

Rows of circle, gauss, spiral and spiral3 come grouped by class in the playground's order
(label 1 first, then label 0; spiral3 arm 0, 1, 2), as ``dataset.ts`` returns them: shuffle
before taking a validation slice (``train_test_split`` and ``DataLoader`` do). Random draws use
``np.random.default_rng(seed)``, so a seed fixes the data, but the values are not bit-equal to the browser's (which
uses seedrandom's ARC4 stream).

Where noise only changes labels (circle, xor, sine, plane, multi_gauss), all points are
drawn before the noise offsets, so the same seed gives the same points at every noise level.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from ._checks import check_int, unknown_name_message

NOISE_MAX = 0.8
"""Largest ``noise``: the generator gets the playground's noise value / 100; its slider goes to 50, and
TensorFlow Playground's URLs go up to 80 (its page widens the slider to show them)."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a data set is, for code that must choose a head, a loss or a colour scale.

    ``problem`` is its problem type, one of ``nn.PROBLEMS`` (``"binary"``, ``"multiclass"`` or
    ``"regression"``: what ``nn.head_for``, ``Trainer(problem=)``, the playground and the CLI take);
    ``n_classes`` is 2 or 3 for binary and multiclass data and ``None`` for regression.
    """

    name: str
    problem: str
    n_classes: int | None
    default_n: int
    description: str


Generator = Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]


def _group_sizes(n: int, groups: int) -> list[int]:
    """Split n points into ``groups`` near-equal groups; the first groups get the extra points."""
    base, extra = divmod(n, groups)
    return [base + (1 if g < extra else 0) for g in range(groups)]


def _binary_labels(n_positive: int, n_negative: int) -> np.ndarray:
    """Labels for points generated positives first: n_positive ones, then n_negative zeros."""
    return np.concatenate([np.ones(n_positive, np.int64), np.zeros(n_negative, np.int64)])


def _circle(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Inner disc r ~ U(0, 2.5) then outer ring r ~ U(3.5, 5); label 1 iff |p + noise| < 2.5."""
    radius = 5.0
    n_inner, n_outer = _group_sizes(n, 2)
    r = np.concatenate([rng.uniform(0.0, radius * 0.5, n_inner), rng.uniform(radius * 0.7, radius, n_outer)])
    angle = rng.uniform(0.0, 2.0 * math.pi, n)
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    offsets = rng.uniform(-radius, radius, (n, 2)) * noise  # moves the label's point only
    y = (np.hypot(*(X + offsets).T) < radius * 0.5).astype(np.int64)
    return X, y


def _xor(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y ~ U(−5, 5) pushed 0.3 away from zero; label 1 iff (x+nx)(y+ny) ≥ 0."""
    padding = 0.3
    X = rng.uniform(-5.0, 5.0, (n, 2))
    X += np.where(X > 0, padding, -padding)
    offsets = rng.uniform(-5.0, 5.0, (n, 2)) * noise
    moved = X + offsets
    y = (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)
    return X, y


def _gauss(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Half around (2, 2) with label 1, half around (−2, −2) with label 0; variance 0.5 + 7ν."""
    variance = 0.5 + 7.0 * noise  # d3 linear scale [0, 0.5] → [0.5, 4]
    n_pos, n_neg = _group_sizes(n, 2)
    centres = np.repeat(np.array([[2.0, 2.0], [-2.0, -2.0]]), [n_pos, n_neg], axis=0)
    X = centres + math.sqrt(variance) * rng.standard_normal((n, 2))
    return X, _binary_labels(n_pos, n_neg)


def _spiral_arms(rng: np.random.Generator, n: int, noise: float, deltas: list[float]) -> np.ndarray:
    """Points of the spiral arms, arm after arm: arm k has m points, r = 5i/m, t = 1.75·2π·i/m + Δ_k."""
    arms = []
    for m, delta in zip(_group_sizes(n, len(deltas)), deltas):
        i = np.arange(m, dtype=np.float64)
        r = 5.0 * i / m
        t = 1.75 * 2.0 * math.pi * i / m + delta
        arms.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
    X = np.concatenate(arms)
    return X + rng.uniform(-1.0, 1.0, (n, 2)) * noise


def _spiral(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two arms: Δ = 0 with label 1, Δ = π with label 0; displacement U(−1, 1)·ν per coordinate."""
    X = _spiral_arms(rng, n, noise, [0.0, math.pi])
    return X, _binary_labels(*_group_sizes(n, 2))


def _spiral3(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Three arms as in ``spiral``, Δ = 0, 2π/3, 4π/3, labelled 0, 1, 2."""
    X = _spiral_arms(rng, n, noise, [0.0, 2.0 * math.pi / 3.0, 4.0 * math.pi / 3.0])
    y = np.repeat(np.arange(3, dtype=np.int64), _group_sizes(n, 3))
    return X, y


def _sine(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """x, y ~ U(−6, 6); label 1 iff y+ny > 3·sin(x+nx), noise (nx, ny) ~ U(−5, 5)·ν as for xor."""
    X = rng.uniform(-6.0, 6.0, (n, 2))
    moved = X + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    y = (moved[:, 1] > 3.0 * np.sin(moved[:, 0])).astype(np.int64)
    return X, y


def _regression_points(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Points x, y ~ U(−6, 6) and the noisy points (x+nx, y+ny), noise ~ U(−6, 6)·ν, for the targets."""
    X = rng.uniform(-6.0, 6.0, (n, 2))
    return X, X + rng.uniform(-6.0, 6.0, (n, 2)) * noise


def _plane(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Target (x+nx + y+ny)/10, not clamped."""
    X, moved = _regression_points(rng, n, noise)
    return X, moved.sum(axis=1) / 10.0


MULTI_GAUSS_CENTRES = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
                       (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))
"""(cx, cy, sign) of the six cones of ``multi_gauss``."""


def _multi_gauss(rng: np.random.Generator, n: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Target = the largest-magnitude cone value sign·max(0, 1 − d/2) at (x+nx, y+ny); 0 outside."""
    X, moved = _regression_points(rng, n, noise)
    target = np.zeros(n)
    for cx, cy, sign in MULTI_GAUSS_CENTRES:
        d = np.hypot(moved[:, 0] - cx, moved[:, 1] - cy)
        value = sign * np.clip(1.0 - d / 2.0, 0.0, 1.0)
        target = np.where(np.abs(value) > np.abs(target), value, target)  # first strictly larger wins
    return X, target


_GENERATORS: dict[str, tuple[Generator, DatasetInfo]] = {
    info.name: (generate, info) for generate, info in [
        (_circle, DatasetInfo("circle", "binary", 2, 500, "a disc (1) inside a ring (0)")),
        (_xor, DatasetInfo("xor", "binary", 2, 500, "quadrants: 1 where x1·x2 ≥ 0, else 0")),
        (_gauss, DatasetInfo("gauss", "binary", 2, 500, "two Gaussian clouds around (2, 2) (1) and (−2, −2) (0)")),
        (_spiral, DatasetInfo("spiral", "binary", 2, 500, "two interleaved spiral arms")),
        (_plane, DatasetInfo("plane", "regression", None, 1200, "target (x1 + x2)/10")),
        (_multi_gauss, DatasetInfo("multi_gauss", "regression", None, 1200, "six cones of height ±1")),
        (_spiral3, DatasetInfo("spiral3", "multiclass", 3, 500, "three interleaved spiral arms, classes 0/1/2")),
        (_sine, DatasetInfo("sine", "binary", 2, 500, "1 above the curve x2 = 3·sin(x1), 0 below")),
    ]
}

DATASETS: Mapping[str, DatasetInfo] = MappingProxyType({name: info for name, (_, info) in _GENERATORS.items()})
"""Read-only map name → ``DatasetInfo`` of every data set ``make_dataset`` knows, in menu order."""


def _check_noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.integer, np.floating)):
        raise TypeError(f"noise must be a number in [0, {NOISE_MAX}], got {noise!r}")
    value = float(noise)
    if isinstance(noise, np.generic):
        noise = noise.item()  # show 0.7, not np.float64(0.7), in the messages
    if not 0.0 <= value <= NOISE_MAX:  # also refuses NaN
        message = f"noise={noise!r} is outside the valid range [0, {NOISE_MAX}]"
        if 1.0 <= value <= 100.0 * NOISE_MAX:
            message += (f"; noise is the playground's slider value / 100, "
                        f"so the slider's {noise!r} is noise={value / 100.0:g}")
        raise ValueError(message)
    return value


def make_dataset(name: str, n: int | None = None, noise: float = 0.0,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Generate one of the playground's 2-D data sets.

    Args:
        name: a key of ``DATASETS``: ``"circle"``, ``"xor"``, ``"gauss"``, ``"spiral"``, ``"sine"``
            (binary), ``"spiral3"`` (3 classes), ``"plane"``, ``"multi_gauss"`` (regression).
        n: number of points, ≥ 1; default 500 for binary and multiclass data, 1200 for regression.
        noise: the playground's noise / 100, in [0, 0.8] (its slider goes to 0.5, TFP's URLs to 0.8).
        seed: seed of ``np.random.default_rng``; ``None`` draws fresh entropy.

    Returns:
        ``X`` (n, 2) float64, and ``y`` (n,): int64 class labels (0/1, or 0/1/2 for spiral3)
        or float64 regression targets. Circle, gauss and the spirals come grouped by class.
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {name!r}")
    if name not in _GENERATORS:
        raise ValueError(unknown_name_message("dataset", name, DATASETS))
    generate, info = _GENERATORS[name]
    n = info.default_n if n is None else check_int("n", n, minimum=1)
    return generate(np.random.default_rng(seed), n, _check_noise(noise))
