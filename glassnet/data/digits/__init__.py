"""Handwritten digits as the course draws them: ``load_digits(size=16, binary=True)`` gives 16×16 images with
ink = 1 and no ink = 0, one row of 256 inputs per image, and the digit 0–9 of each (see LICENSE.md here)."""
from __future__ import annotations

import os

import numpy as np

__all__ = ["load_digits", "SIZES"]

SIZES = (8, 16, 28)
_FILE = os.path.join(os.path.dirname(__file__), "mnist10k.npz")


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    with np.load(_FILE, allow_pickle=False) as archive:
        return archive["images"], archive["labels"].astype(np.int64)


def _to_16(images: np.ndarray) -> np.ndarray:
    """28×28 → 16×16: pad to 32×32, then the mean of each 2×2 block."""
    padded = np.pad(images.astype(np.float32) / 255.0, ((0, 0), (2, 2), (2, 2)))
    return padded.reshape(len(images), 16, 2, 16, 2).mean(axis=(2, 4))


def load_digits(size: int = 16, binary: bool = True, flatten: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(X, y): handwritten digit images and their labels (int64, 0–9).

    size: 16 (the course's 16×16, from 10,000 MNIST images), 28 (those images at full size) or 8 (scikit-learn's
    1,797 8×8 digits; needs scikit-learn). binary: ink = 1 where a pixel is at least half dark, else 0; False keeps
    grey levels in [0, 1]. flatten: X is (n, size·size), one input per pixel; False gives (n, size, size).
    X is float32.
    """
    if size not in SIZES:
        raise ValueError(f"load_digits: size must be one of {SIZES}, got {size!r}")
    if size == 8:
        try:
            from sklearn.datasets import load_digits as sklearn_digits
        except ImportError:
            raise ImportError("load_digits(size=8) uses scikit-learn's digits: pip install scikit-learn") from None
        data = sklearn_digits()
        images, labels = data.images.astype(np.float32) / 16.0, data.target.astype(np.int64)
    else:
        raw, labels = _mnist()
        images = raw.astype(np.float32) / 255.0 if size == 28 else _to_16(raw)
    if binary:
        images = (images >= 0.5).astype(np.float32)
    return (images.reshape(len(images), -1) if flatten else images), labels
