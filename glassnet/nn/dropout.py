"""Dropout: the course's regularization by randomly dropped neurons."""
from __future__ import annotations

from typing import Any

from ..tensor import Tensor, as_tensor
from . import functional as F
from .module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Inverted dropout: in training, zero each input with probability p and scale the rest by 1/(1−p); in
    ``eval()`` mode, the identity."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p}")
        self.p = float(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout(as_tensor(x), self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace=False"

    def get_config(self) -> dict[str, Any]:
        return {"p": self.p}


class Dropout2d(Dropout):
    """Channel dropout: in training, zero each whole channel of (N, C, H, W) with probability p and scale the rest
    by 1/(1−p); in ``eval()`` mode, the identity. ``inplace`` is accepted for torch's code (the output is new)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__(p)

    def forward(self, x: Any) -> Tensor:
        return F.dropout2d(x, self.p, self.training)
