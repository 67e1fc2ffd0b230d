"""Training: ``Trainer`` (``fit``/``evaluate``/``predict`` with overridable steps), the thin functions ``fit``,
``evaluate``, ``predict`` and ``restarts`` over it, ``callbacks`` and ``metrics``."""
from . import callbacks, metrics
from .callbacks import Callback, History
from .trainer import OPTIMIZERS, Restarts, Trainer, _targets, evaluate, fit, predict, restarts  # glass.chain uses _targets

__all__ = ["Trainer", "fit", "evaluate", "predict", "restarts", "Restarts", "History", "Callback", "OPTIMIZERS",
           "callbacks", "metrics"]
