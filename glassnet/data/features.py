"""The playground's input features: x1, x2, their squares, product and sines."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._checks import unknown_name_message

_FEATURE_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1x2": lambda x1, x2: x1 * x2,
    "sin_x1": lambda x1, x2: np.sin(x1),
    "sin_x2": lambda x1, x2: np.sin(x2),
}

FEATURES: tuple[str, ...] = tuple(_FEATURE_FUNCTIONS)
"""Valid feature names, in the playground's order: x1, x2, x1^2, x2^2, x1x2, sin_x1, sin_x2."""


def features(X: np.ndarray, names: Sequence[str] | str) -> np.ndarray:
    """Compute playground features of 2-D points.

    Args:
        X: (n, 2) points (x1, x2); any array-like.
        names: feature names from ``FEATURES``, in the column order wanted (a single name is
            allowed too).

    Returns:
        (n, len(names)) array; float64, or X's dtype when X is already floating point.
    """
    if isinstance(names, str):
        names = [names]
    names = list(names)
    for name in names:
        if name not in _FEATURE_FUNCTIONS:
            raise ValueError(unknown_name_message("feature", name, FEATURES))
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"features() needs points of shape (n, 2) (columns x1, x2), got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    x1, x2 = X[:, 0], X[:, 1]
    out = np.empty((X.shape[0], len(names)), dtype=X.dtype)
    for column, name in enumerate(names):
        out[:, column] = _FEATURE_FUNCTIONS[name](x1, x2)
    return out
