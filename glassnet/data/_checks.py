"""Argument checks shared by the modules of ``glassnet.data`` (one copy of each)."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence

import numpy as np


def check_int(name: str, value: object, minimum: int) -> int:
    """Return ``value`` as an ``int`` if it is an integer ≥ ``minimum``; otherwise raise.

    Booleans are refused (``True`` is not a batch size).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def unknown_name_message(what: str, name: object, valid: Iterable[str]) -> str:
    """``"unknown dataset 'circel' (did you mean 'circle'?); valid names: ..."``."""
    valid = list(valid)
    message = f"unknown {what} {name!r}"
    if isinstance(name, str):
        close = difflib.get_close_matches(name, valid, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
    return message + "; valid names: " + ", ".join(repr(v) for v in valid)


def as_sample_arrays(arrays: Sequence[object], names: Sequence[str]) -> tuple[list[np.ndarray], int]:
    """Convert array-likes to ndarrays that share a non-zero first dimension.

    Returns the arrays and the number of samples n (rows). ``names`` label the arrays in messages.
    """
    converted = []
    for array, name in zip(arrays, names):
        a = np.asarray(array)
        if a.ndim == 0:
            raise ValueError(f"{name} must be an array with one row per sample, got a scalar: {array!r}")
        converted.append(a)
    lengths = [len(a) for a in converted]
    if len(set(lengths)) > 1:
        detail = ", ".join(f"{name} has {k}" for name, k in zip(names, lengths))
        raise ValueError(f"every array needs one row per sample, but the lengths differ: {detail}")
    if lengths[0] == 0:
        raise ValueError("the data is empty: " + ", ".join(names) + " must have at least one row")
    return converted, lengths[0]
