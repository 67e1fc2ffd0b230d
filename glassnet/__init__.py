"""glassnet: a neural-network library whose every neuron, weight and gradient can be seen.

``import glassnet as gn``: tensors with reverse-mode autodiff (``gn.tensor``), layers and losses (``gn.nn``),
optimizers (``gn.optim``), a Keras-style training loop (``gn.fit``), save/load (``gn.save``/``gn.load``), the
learner's view into a network (``gn.glass``) and the playground's data sets (``gn.data``).
"""
from importlib import import_module
from typing import Any

from . import autograd, callbacks, glass, lens, nn, ops, optim, train, utils
from ._memory import keep_freed_memory
from .ops import *  # noqa: F401,F403  (torch's namespace functions: gn.zeros, gn.cat, gn.exp, gn.max, …)
from .ops import __all__ as _ops
from .serialization import load, save
from .tensor import (DeviceError, DtypeError, Generator, GraphError, ShapeError, Tensor, accelerator, bool_,
                     can_cast, cuda, default_generator, device, double, dtype, enable_grad, float16, float32, float64,
                     get_default_dtype, half, inference_mode, int8, int16, int32, int64, is_floating_point,
                     is_grad_enabled, is_inference_mode_enabled, is_tensor, long, manual_seed, no_grad, numel,
                     promote_types, result_type, set_default_dtype, set_grad_enabled, short, tensor, uint8)
from .train import History, Trainer, evaluate, fit, predict, restarts

__version__ = "0.1.0"
keep_freed_memory()  # large temporaries reuse freed memory instead of faulting in fresh pages each step (_memory.py)

__all__ = [
    "Tensor", "Generator", "tensor", "no_grad", "enable_grad", "is_grad_enabled", "manual_seed", "set_default_dtype",
    "get_default_dtype", "GraphError", "nn", "optim", "train", "callbacks", "glass", "lens", "utils", "data", "fit",
    "evaluate", "predict", "restarts", "History", "Trainer", "save", "load", "autograd", "ops", "ShapeError",
    "DtypeError", "DeviceError",
    "device", "cuda", "accelerator", "default_generator", "set_grad_enabled", "inference_mode",
    "is_inference_mode_enabled", "is_tensor", "is_floating_point", "numel", "result_type", "promote_types",
    "can_cast", "dtype", "float16", "float32", "float64", "half", "double", "int8", "int16", "int32", "int64",
    "uint8", "short", "long", "bool_", "float", "int", "bool", *_ops,
]


def __getattr__(name: str) -> Any:
    """``gn.data`` (the playground's data sets) and ``gn.onnx`` (the ONNX export, PyTorch's ``torch.onnx.export``)
    are imported on first use: the core does not depend on them."""
    if name in ("data", "onnx"):
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module 'glassnet' has no attribute {name!r}")


# PyTorch's dtype names that are also Python builtins, bound last: inside this package namespace only
# (gn.float is float32 and gn.int int32, as torch.float and torch.int; gn.long is int64).
float, int, bool = float32, int32, bool_  # noqa: A001
