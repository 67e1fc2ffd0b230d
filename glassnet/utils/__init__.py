"""Utilities with PyTorch's ``torch.utils`` names: ``glassnet.utils.data`` (Dataset, DataLoader, …)."""
from . import data

__all__ = ["data"]
