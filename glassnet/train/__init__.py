"""Training: ``Trainer`` (``fit``/``evaluate``/``predict`` with overridable steps), the thin functions ``fit``,
``evaluate``, ``predict`` and ``restarts`` over it, ``callbacks`` and ``metrics``."""
from . import callbacks, metrics
from .callbacks import Callback, History
from .strategy import SingleProcess, Strategy
from .trainer import OPTIMIZERS, Restarts, Trainer, check_targets, evaluate, fit, predict, restarts

__all__ = ["Trainer", "fit", "evaluate", "predict", "restarts", "Restarts", "History", "Callback", "OPTIMIZERS",
           "Strategy", "SingleProcess", "callbacks", "metrics", "check_targets"]
