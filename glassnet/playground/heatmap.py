"""The grid over the input domain and the byte encoding of heat maps (PROTOCOL.md, "Heat maps").

A map is ``{"w": W, "h": H, "b64": …}``: W×H bytes, row 0 at the top (x2 = +6), column 0 at x1 = −6, value
v ∈ [−1, 1] stored as round((v + 1)·127.5), clamped.
"""

from __future__ import annotations

import base64

import numpy as np

DOMAIN = (-6.0, 6.0)
GRID = 100  # the output map is GRID×GRID
THUMB = 20  # neuron and feature thumbnails are THUMB×THUMB, each pixel the mean of a block of the grid
_BLOCK = GRID // THUMB

Map = dict[str, object]


def grid_points() -> np.ndarray:
    """(GRID², 2) points (x1, x2), row by row from the top (x2 = +6) and left to right (x1 = −6 first)."""
    low, high = DOMAIN
    x1, x2 = np.meshgrid(np.linspace(low, high, GRID), np.linspace(high, low, GRID))
    return np.column_stack([x1.ravel(), x2.ravel()])


def _b64(data: np.ndarray) -> str:
    return base64.b64encode(data.tobytes()).decode("ascii")


def to_bytes(values: np.ndarray) -> np.ndarray:
    """Values in [−1, 1] (NaN → 0, clamped outside) as uint8: round((v + 1)·127.5)."""
    scaled = np.rint((np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0) + 1.0) * 127.5)
    return np.clip(scaled, 0, 255).astype(np.uint8)


def encode(values: np.ndarray) -> Map:
    """One (H, W) array of values in [−1, 1] as a map."""
    h, w = values.shape
    return {"w": w, "h": h, "b64": _b64(to_bytes(values))}


def encode_classes(probabilities: np.ndarray) -> Map:
    """A multiclass map from (GRID², k) class probabilities: max probability in ``b64``, argmax in ``classes``."""
    shape = (GRID, GRID)
    top = probabilities.max(axis=1).reshape(shape)
    classes = probabilities.argmax(axis=1).astype(np.uint8).reshape(shape)
    return encode(top) | {"classes": _b64(classes)}


def full(column: np.ndarray) -> Map:
    """The GRID×GRID map of one column of grid values (GRID²,)."""
    return encode(column.reshape(GRID, GRID))


# (THUMB, GRID): row i sums the grid rows of block row i, scaled so that summing the block's columns gives the mean.
_BLOCK_ROWS = np.kron(np.eye(THUMB, dtype=np.float32), np.full((1, _BLOCK), 1.0 / _BLOCK**2, dtype=np.float32))


def block_means(values: np.ndarray) -> np.ndarray:
    """(GRID², k) grid values → (THUMB, THUMB, k) means of _BLOCK×_BLOCK blocks (a matrix product: 2.5× faster than
    a strided mean)."""
    k = values.shape[1]
    rows = _BLOCK_ROWS @ values.reshape(GRID, GRID * k)
    return np.add.reduce(rows.reshape(THUMB, THUMB, _BLOCK, k), axis=2)


def thumbnails(values: np.ndarray) -> list[Map]:
    """One THUMB×THUMB map per column of (GRID², k) grid values, each pixel the mean of a block."""
    blocks = to_bytes(block_means(values))
    return [{"w": THUMB, "h": THUMB, "b64": _b64(blocks[:, :, j])} for j in range(blocks.shape[2])]
