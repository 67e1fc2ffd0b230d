"""The NumPy floor of a workload: its training step as the NumPy calls glassnet makes, written straight-line.

No graph, no modules, no checks: dense layers on flat parameter and gradient arrays (PyTorch's layout), the fused
losses, backward by hand, and glassnet's in-place optimizer rules. Its rate is what any NumPy engine doing this work
with this BLAS can reach, so ``glassnet ÷ floor`` is the engine's cost and ``floor ÷ torch`` the bound that NumPy
and its BLAS set against torch on the machine.
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

# glassnet's own array functions and constants, so that the calls match
from glassnet.ops.activations import _tanh_backward
from glassnet.optim.optimizer import FLUSH_EVERY, SLICE

_dot = np.dot._implementation  # as glassnet calls it: without the __array_function__ dispatch


class Floor:
    """A workload's MLP (``sizes``, ``activation`` "Tanh" or "ReLU" after each hidden layer and, if
    ``output_activation``, the last one) trained with ``loss`` ("MSELoss" or "CrossEntropyLoss") and ``optimizer``
    ("SGD" or "Adam", PyTorch's defaults) from ``state``, a PyTorch-style state dict of float32 arrays."""

    def __init__(self, sizes: list[int], activation: str, output_activation: bool, loss: str, optimizer: str,
                 lr: float, state: dict[str, np.ndarray]) -> None:
        arrays = [np.asarray(a) for a in state.values()]  # 0.weight, 0.bias, 2.weight, …: (out, in), (out,) per layer
        self.params = np.concatenate([a.ravel() for a in arrays]).astype(np.float32)
        self.grads = np.zeros_like(self.params)
        self.scratch = np.empty_like(self.params)
        self.moments = (np.zeros_like(self.params), np.zeros_like(self.params)) if optimizer == "Adam" else None
        views, start = [], 0
        for a in arrays:
            views.append((self.params[start:start + a.size].reshape(a.shape),
                          self.grads[start:start + a.size].reshape(a.shape)))
            start += a.size
        self.layers = list(zip(views[0::2], views[1::2]))  # ((W, ∂W), (b, ∂b)) per layer
        n_layers = len(sizes) - 1
        self.activated = [i < n_layers - 1 or output_activation for i in range(n_layers)]
        self.tanh = activation == "Tanh"
        self.cross_entropy = loss == "CrossEntropyLoss"
        self.lr, self.steps = lr, 0

    def step(self, x: np.ndarray, y: np.ndarray, stamps: list | None = None) -> float:
        """One training step on the batch (x, y); returns the loss. With ``stamps``, appends a ``perf_counter``
        stamp after each of forward, loss, backward, step and (no work here) zero_grad."""
        saved, h = [], x
        for ((W, _), (b, _)), activated in zip(self.layers, self.activated):
            z = _dot(h, W.T)
            z += b
            a = (np.tanh(z) if self.tanh else np.maximum(z, 0)) if activated else z
            saved.append((h, a))
            h = a
        stamps is None or stamps.append(time.perf_counter())
        loss, g = self._cross_entropy(h, y) if self.cross_entropy else self._mse(h, y)
        stamps is None or stamps.append(time.perf_counter())
        ones = np.ones(len(g), g.dtype)
        for i in range(len(self.layers) - 1, -1, -1):
            ((W, grad_W), (_, grad_b)), (h_in, a) = self.layers[i], saved[i]
            if self.activated[i]:
                g = _tanh_backward(g, None, a) if self.tanh else g * (a > 0)
            _dot(ones, g, out=grad_b)
            _dot(g.T, h_in, out=grad_W)
            if i:
                g = _dot(g, W)
        stamps is None or stamps.append(time.perf_counter())
        self.steps += 1
        if self.moments is None:
            self.params -= np.multiply(self.grads, self.lr, self.scratch)
        else:
            for start in range(0, self.params.size, SLICE):
                self._adam(slice(start, start + SLICE))
            if self.steps % FLUSH_EVERY == 0:
                self._flush_subnormals()
        if stamps is not None:
            stamps += [time.perf_counter()] * 2
        return loss

    @staticmethod
    def _mse(out: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        diff = out - target
        return float(np.vdot(diff, diff)) / diff.size, diff * (2 / diff.size)

    @staticmethod
    def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
        shifted = logits - np.maximum.reduce(logits, axis=-1, keepdims=True)
        e = np.exp(shifted)
        total = np.add.reduce(e, axis=-1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(np.add.reduce(np.log(total)[:, 0] - shifted[rows, labels])) / len(labels)
        grad = e / total
        grad[rows, labels] -= 1
        grad *= 1 / len(labels)
        return loss, grad

    def _adam(self, part: slice, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        param, grad, scratch = self.params[part], self.grads[part], self.scratch[part]
        exp_avg, exp_avg_sq = self.moments[0][part], self.moments[1][part]
        exp_avg *= beta1
        exp_avg += np.multiply(grad, 1 - beta1, scratch)
        exp_avg_sq *= beta2
        np.multiply(grad, grad, scratch)
        exp_avg_sq += np.multiply(scratch, 1 - beta2, scratch)
        correction2 = math.sqrt(1 - beta2 ** self.steps)
        denom = np.sqrt(exp_avg_sq, scratch)
        denom += eps * correction2
        change = np.divide(exp_avg, denom, scratch)
        change *= self.lr * correction2 / (1 - beta1 ** self.steps)
        param -= change

    def _flush_subnormals(self) -> None:
        tiny = np.finfo(np.float32).tiny
        for moment in self.moments:
            for start in range(0, moment.size, SLICE):
                part, magnitude = moment[start:start + SLICE], self.scratch[start:start + SLICE]
                np.abs(part, out=magnitude)
                part[magnitude < tiny] = 0


def floor_step(model: Floor, loss_fn: Any, opt: Any, x: np.ndarray, y: np.ndarray) -> float:
    """``bench_core.train_step``'s signature for the floor side (it has no separate loss or optimizer)."""
    return model.step(x, y)


def floor_phases(model: Floor, loss_fn: Any, opt: Any, x: np.ndarray, y: np.ndarray) -> list[float]:
    """``bench_core.step_phases``'s signature and stamps for the floor side."""
    stamps = [time.perf_counter()]
    model.step(x, y, stamps)
    return stamps
