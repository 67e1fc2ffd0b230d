"""matplotlib for glassnet.viz, imported on first use with the Agg backend (no display needed) unless pyplot is
already loaded with a backend of its own (a notebook's inline backend, say); the playground's colours."""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

POSITIVE, NEGATIVE, NEUTRAL = "#0877bd", "#f59322", "#e8eaeb"  # TensorFlow Playground's blue, orange and grey


def matplotlib() -> Any:
    """The matplotlib module; ImportError says which extra installs it."""
    try:
        import matplotlib as mpl
    except ImportError as error:
        raise ImportError("glassnet.viz needs matplotlib: pip install matplotlib (the extra glassnet[plots])") \
            from error
    if "matplotlib.pyplot" not in sys.modules:
        mpl.use("Agg")
    return mpl


def new_figure(width: float = 6.4, height: float = 4.0) -> Any:
    """A Figure outside pyplot's state machine (figures made in a loop are freed; notebooks display it inline
    through its ``_repr_png_``)."""
    matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # draws to pixels (savefig, canvas.buffer_rgba) without a display
    return figure


def diverging() -> Any:
    """Orange (negative) → grey (0) → blue (positive), the playground's colour scale."""
    from matplotlib.colors import LinearSegmentedColormap
    matplotlib()
    return LinearSegmentedColormap.from_list("glassnet", [NEGATIVE, NEUTRAL, POSITIVE])


def symmetric_limit(values: np.ndarray) -> float:
    """The largest |value| (1 when all are 0): colour scales centred on 0."""
    limit = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return limit if limit > 0 else 1.0
