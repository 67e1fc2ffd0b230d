"""``train_test_split``: scikit-learn's function, in NumPy only."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ._checks import as_sample_arrays, check_int


def _test_count(test_size: float | int, n: int) -> int:
    """Number of test samples for ``test_size`` (a fraction in (0, 1) or a count), as scikit-learn."""
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction in (0, 1) or a number of samples, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        n_test = check_int("test_size", test_size, minimum=1)
        if n_test >= n:
            raise ValueError(f"test_size={n_test} leaves no training data: there are only {n} samples, "
                             f"so a count must be between 1 and {n - 1}")
        return n_test
    fraction = float(test_size)
    if not 0.0 < fraction < 1.0:  # also refuses NaN
        raise ValueError(f"test_size={test_size!r} is out of range: a fraction must be in (0, 1) "
                         f"(or give a count of samples as an int)")
    n_test = math.ceil(fraction * n)
    if n_test >= n:
        raise ValueError(f"test_size={test_size!r} of {n} samples leaves no training data")
    return n_test


def _stratified_indices(labels: np.ndarray, n_test: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Train/test indices in which every class keeps its share of the test set (largest remainder)."""
    n = len(labels)
    classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"stratify needs at least two classes, got only {classes[0].item()!r}")
    too_small = classes[counts < 2]
    if len(too_small):
        raise ValueError(f"stratify needs at least 2 samples per class; class {too_small[0].item()!r} has only 1")
    if n_test < len(classes) or n - n_test < len(classes):
        raise ValueError(f"with stratify, train and test need at least one sample per class "
                         f"({len(classes)} classes), but the split is {n - n_test} train / {n_test} test")
    share = counts * (n_test / n)
    per_class = np.floor(share).astype(np.int64)
    remainder = n_test - per_class.sum()
    # Ties in the fractional part are broken at random so that no class is favoured.
    order = np.lexsort((rng.random(len(classes)), -(share - per_class)))
    per_class[order[:remainder]] += 1
    train, test = [], []
    for c, k in enumerate(per_class):
        members = rng.permutation(np.flatnonzero(inverse == c))
        test.append(members[:k])
        train.append(members[k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def train_test_split(*arrays: object, test_size: float | int = 0.25, seed: int | None = None,
                     shuffle: bool = True, stratify: object = None) -> list[np.ndarray]:
    """Split arrays into random train and test subsets, like scikit-learn's ``train_test_split``.

    Args:
        *arrays: array-likes with the same first dimension n (one row per sample).
        test_size: fraction of the samples in (0, 1) (the test set gets ``ceil(test_size·n)``),
            or an int number of test samples in [1, n−1].
        seed: seed of ``np.random.default_rng`` for the shuffle.
        shuffle: shuffle before splitting; ``False`` takes the last samples as the test set.
        stratify: (n,) class labels; train and test then keep the classes' proportions.

    Returns:
        ``[a_train, a_test, b_train, b_test, ...]``: ndarrays, two per input array.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    names = [f"array {i}" for i in range(len(arrays))]
    converted, n = as_sample_arrays(arrays, names)
    n_test = _test_count(test_size, n)
    if stratify is not None:
        if not shuffle:
            raise ValueError("stratify needs shuffle=True (a stratified split is a shuffled one)")
        labels = np.asarray(stratify)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1 or len(labels) != n:
            raise ValueError(f"stratify must be (n,) class labels with n = {n}, got shape {labels.shape}")
        train, test = _stratified_indices(labels, n_test, np.random.default_rng(seed))
    elif shuffle:
        order = np.random.default_rng(seed).permutation(n)
        train, test = order[:n - n_test], order[n - n_test:]
    else:
        train, test = np.arange(n - n_test), np.arange(n - n_test, n)
    result = []
    for a in converted:
        result += [a[train], a[test]]
    return result
