"""Keep the memory that large arrays free for the next ones (glibc's malloc; elsewhere nothing changes).

NumPy takes every array from malloc, and glibc serves those of 128 KiB and more with fresh pages from the system,
handed back when the array is freed. A training step makes the same large temporaries every time (a convolution's
im2col columns, col2im's image, the gradients), so every step faulted all their pages in again. Measured on LeNet
(W4, benchmarks/RESULTS.md) on the shared 2-core VM at one thread: 46–56 ms per step at best (median 73–102 ms)
against 13.6 ms (median 28 ms) with the two settings below; PyTorch's allocator keeps its memory likewise. The
settings serve arrays up to 32 MiB from malloc's heap and keep up to 1 GiB of freed heap in the process. They
change no result; ``GLASSNET_KEEP_FREED_MEMORY=0`` in the environment leaves malloc as it is.
"""
from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)


def keep_freed_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 1 << 30) -> bool:
    """Tell glibc's malloc to serve allocations below ``mmap_threshold`` bytes from its heap and to return freed heap
    to the system only beyond ``trim_threshold``; True if both settings took effect (Linux with glibc)."""
    if not sys.platform.startswith("linux") or os.environ.get("GLASSNET_KEEP_FREED_MEMORY") == "0":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold)) and bool(mallopt(M_TRIM_THRESHOLD, trim_threshold))
