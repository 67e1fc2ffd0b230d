"""matplotlib, imported on first use with the Agg backend (no display needed) unless a backend is already set."""
from __future__ import annotations

from typing import Any


def pyplot() -> Any:
    """``matplotlib.pyplot``; ImportError says which extra installs it."""
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("glassnet.viz needs matplotlib: pip install matplotlib (the extra glassnet[plots])") \
            from error
    if "matplotlib.pyplot" not in __import__("sys").modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def new_figure(width: float = 6.4, height: float = 4.0) -> Any:
    """A Figure not registered with pyplot's state machine (so figures made in a loop are freed)."""
    from matplotlib.figure import Figure
    pyplot()
    return Figure(figsize=(width, height), layout="constrained")
