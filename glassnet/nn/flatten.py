"""``Flatten`` (dims start_dim … end_dim into one) and ``Unflatten`` (one dim into a shape)."""
from __future__ import annotations

import math
from typing import Any, Sequence

from .. import ops
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["Flatten", "Unflatten"]


def _dim(layer: str, dim: int, ndim: int) -> int:
    """``dim`` as a non-negative index of a tensor of ``ndim`` dimensions (a 0-d tensor counts as one)."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise ValueError(f"{layer}: dimension {dim} is out of range for a tensor of {ndim} dimensions")
    return dim % size


class Flatten(Module):
    """Dimensions ``start_dim`` … ``end_dim`` merged into one: (N, d1, d2, …) → (N, d1·d2·…) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Any) -> Tensor:
        x = as_tensor(input)
        shape = x._data.shape
        start, end = _dim("Flatten", self.start_dim, len(shape)), _dim("Flatten", self.end_dim, len(shape))
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim {self.end_dim} for a "
                             f"tensor of shape {shape}")
        if not shape:
            return ops.reshape(x, (1,))
        return ops.reshape(x, shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def get_config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}


class Unflatten(Module):
    """Dimension ``dim`` split into ``unflattened_size`` (one entry may be −1): (N, 12) → (N, 3, 4)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Any) -> Tensor:
        x = as_tensor(input)
        shape = x._data.shape
        dim = _dim("Unflatten", self.dim, len(shape))
        try:
            return ops.reshape(x, shape[:dim] + self.unflattened_size + shape[dim + 1:])
        except ValueError:
            raise ValueError(f"Unflatten: dimension {self.dim} of size {shape[dim]} of a tensor of shape {shape} "
                             f"cannot become {self.unflattened_size}") from None

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim, "unflattened_size": list(self.unflattened_size)}
