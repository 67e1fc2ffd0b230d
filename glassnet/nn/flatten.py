"""``Flatten``: (N, d1, d2, …) → (N, d1·d2·…)."""
from __future__ import annotations

from typing import Any

from .. import ops
from ..tensor import Tensor, as_tensor
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """(N, d1, d2, …) → (N, d1·d2·…), from ``start_dim`` on."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Any) -> Tensor:
        x = as_tensor(x)
        return ops.reshape(x, x._data.shape[:self.start_dim] + (-1,))

    def get_config(self) -> dict[str, Any]:
        return {"start_dim": self.start_dim}
