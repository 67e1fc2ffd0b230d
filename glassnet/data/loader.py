"""``DataLoader``: the one DataLoader of glassnet (``glassnet.utils.data.DataLoader``), here beside the data sets.

``gn.data.DataLoader((X, y), batch_size=10, shuffle=True)`` batches arrays directly."""
from ..utils.data import DataLoader

__all__ = ["DataLoader"]
