"""glassnet: a neural-network library whose every neuron, weight and gradient can be seen.

``import glassnet as gn``: tensors with reverse-mode autodiff (``gn.tensor``), layers and losses (``gn.nn``),
optimizers (``gn.optim``), a Keras-style training loop (``gn.fit``), save/load (``gn.save``/``gn.load``), the
learner's view into a network (``gn.glass``) and the playground's data sets (``gn.data``).
"""
from importlib import import_module
from typing import Any

from . import callbacks, glass, nn, optim, train
from ._memory import keep_freed_memory
from .ops import (abs, clip, concatenate, exp, leaky_relu, log, log_softmax, matmul, max, mean, min, relu,
                  reshape, sigmoid, softmax, sqrt, stack, sum, tanh, transpose, where)
from .serialization import load, save
from .tensor import (Generator, GraphError, Tensor, enable_grad, get_default_dtype, is_grad_enabled, manual_seed,
                     no_grad, set_default_dtype, tensor)
from .train import History, evaluate, fit, predict, restarts

__version__ = "0.1.0"
keep_freed_memory()  # large temporaries reuse freed memory instead of faulting in fresh pages each step (_memory.py)

__all__ = [
    "Tensor", "Generator", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed", "set_default_dtype",
    "get_default_dtype", "GraphError", "nn", "optim", "train", "callbacks", "glass", "data", "fit", "evaluate",
    "predict", "restarts", "History", "save", "load", "abs", "clip", "concatenate", "exp", "leaky_relu", "log",
    "log_softmax", "matmul", "max", "mean", "min", "relu", "reshape", "sigmoid", "softmax", "sqrt", "stack", "sum",
    "tanh", "transpose", "where",
]


def __getattr__(name: str) -> Any:
    """``gn.data`` (the playground's data sets) is imported on first use: the core does not depend on it."""
    if name == "data":
        return import_module(".data", __name__)
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")
