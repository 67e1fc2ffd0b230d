"""``DataLoader``: mini-batches over in-memory arrays, reshuffled every epoch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ._checks import as_sample_arrays, check_int


class DataLoader:
    """Iterate over ``(xb, yb)`` mini-batches of ``X`` and ``y`` (or ``xb`` alone when ``y`` is None).

    Each ``iter()`` is one epoch: with ``shuffle`` it draws a new order from a generator seeded
    once with ``seed``, so a seeded loader gives the same sequence of epochs every run.

    Args:
        X: (n, ...) inputs; any array-like (kept in its dtype).
        y: (n, ...) targets, or None.
        batch_size: samples per batch, ≥ 1. The last batch is smaller when n is not a multiple.
        shuffle: visit the samples in a fresh random order each epoch.
        seed: seed of ``np.random.default_rng`` for the shuffles.
        drop_last: leave out the last, smaller batch.

    ``len(loader)`` is the number of batches per epoch.
    """

    def __init__(self, X: object, y: object = None, batch_size: int = 32, shuffle: bool = True,
                 seed: int | None = None, drop_last: bool = False) -> None:
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        arrays, self.n_samples = as_sample_arrays([X] if y is None else [X, y], ["X", "y"])
        self.X = arrays[0]
        self.y = None if y is None else arrays[1]
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        full, rest = divmod(self.n_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray] | np.ndarray]:
        X, y = self.X, self.y
        if self.shuffle:  # drawn here, at iter(), not at the first next()
            order = self._rng.permutation(self.n_samples)
            X = X[order]  # one gather per epoch; the batches are views of it
            y = None if y is None else y[order]
        return self._batches(X, y)

    def _batches(self, X: np.ndarray, y: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray] | np.ndarray]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            end = start + self.batch_size
            yield X[start:end] if y is None else (X[start:end], y[start:end])

    def __repr__(self) -> str:
        return (f"DataLoader(n_samples={self.n_samples}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})")
