"""Figures of what a network learned and how (matplotlib, the Agg backend unless one is already chosen).

Optional extra ``glassnet[plots]``. Every function returns a ``matplotlib.figure.Figure``; ``figure.savefig(path)``
writes it, and in a notebook the figure displays inline.
"""
from __future__ import annotations

from .curves import learning_curves

__all__ = ["learning_curves"]
