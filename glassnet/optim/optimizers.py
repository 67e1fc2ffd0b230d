"""SGD (with momentum/Nesterov), Adam, AdamW, Adagrad, Adadelta and RMSprop with PyTorch's signatures, defaults and
update rules. Each ``update`` works in place on arrays: the whole group's flat buffer, or one parameter.

PyTorch's implementation switches (``foreach``, ``fused``, ``capturable``) are accepted and kept in the param groups,
as torch keeps them, and change nothing here: every rule runs one in-place implementation.
``differentiable=True`` is refused."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .optimizer import Optimizer, _at_least_zero, _fraction, _positive

__all__ = ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop"]

Buffers = dict[str, np.ndarray]


def _with_weight_decay(group: dict[str, Any], param: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """L2 penalty folded into the gradient: g + weight_decay · p (one new array)."""
    decay = group["weight_decay"]
    if not decay:
        return grad
    folded = param * decay
    folded += grad
    return folded


class SGD(Optimizer):
    """p ← p − lr·g, with optional weight decay, (dampened) momentum and Nesterov momentum."""

    buffer_names = decaying_buffers = ("momentum_buffer",)
    counts_steps = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return self.buffer_names if group["momentum"] else ()

    def check(self, group: dict[str, Any]) -> None:
        super().check(group)
        for name in ("momentum", "dampening", "weight_decay"):
            _at_least_zero(self, name, group[name])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")

    def update(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, buffers: Buffers,
               step: int, scratch: np.ndarray) -> None:
        grad = _with_weight_decay(group, param, grad)
        momentum = group["momentum"]
        if momentum:
            velocity = buffers["momentum_buffer"]
            if step == 1:
                velocity[...] = grad
            else:
                velocity *= momentum
                np.multiply(grad, 1 - group["dampening"], scratch)
                velocity += scratch
            if group["nesterov"]:
                np.multiply(velocity, momentum, scratch)
                grad = np.add(scratch, grad, scratch)
            else:
                grad = velocity
        param -= np.multiply(grad, group["lr"], scratch)


class Adam(Optimizer):
    """Adaptive moments: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², p ← p − lr·m̂ / (√v̂ + ε)."""

    buffer_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")  # the last is used by amsgrad groups only
    decaying_buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return self.buffer_names if group["amsgrad"] else self.buffer_names[:2]

    def check(self, group: dict[str, Any]) -> None:
        super().check(group)
        _fraction(self, "betas[0]", group["betas"][0])
        _fraction(self, "betas[1]", group["betas"][1])
        _at_least_zero(self, "eps", group["eps"])
        _at_least_zero(self, "weight_decay", group["weight_decay"])

    def update(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, buffers: Buffers,
               step: int, scratch: np.ndarray) -> None:
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if group["decoupled_weight_decay"]:
            param *= 1 - lr * group["weight_decay"]
        else:
            grad = _with_weight_decay(group, param, grad)
        exp_avg, exp_avg_sq = buffers["exp_avg"], buffers["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += np.multiply(grad, 1 - beta1, scratch)
        exp_avg_sq *= beta2
        np.multiply(grad, grad, scratch)
        exp_avg_sq += np.multiply(scratch, 1 - beta2, scratch)
        if group["amsgrad"]:
            exp_avg_sq = np.maximum(buffers["max_exp_avg_sq"], exp_avg_sq, out=buffers["max_exp_avg_sq"])
        # lr·m̂/(√v̂ + ε) with the bias corrections folded into two scalars: one pass fewer over the parameters
        correction2 = math.sqrt(1 - beta2 ** step)
        denom = np.sqrt(exp_avg_sq, scratch)
        denom += eps * correction2
        change = np.divide(exp_avg, denom, scratch)
        change *= lr * correction2 / (1 - beta1 ** step)
        param -= change


class AdamW(Adam):
    """Adam with decoupled weight decay: p ← p·(1 − lr·weight_decay) before the Adam step."""

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, foreach=foreach,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class Adagrad(Optimizer):
    """Per-weight learning rates from the sum of squared gradients: p ← p − lr·g / (√Σg² + ε)."""

    buffer_names = ("sum",)
    state_from_start = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      fused=fused))

    def check(self, group: dict[str, Any]) -> None:
        super().check(group)
        for name in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            _at_least_zero(self, name, group[name])

    def initial_buffers(self, group: dict[str, Any]) -> dict[str, float]:
        return {"sum": group["initial_accumulator_value"]}

    def update(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, buffers: Buffers,
               step: int, scratch: np.ndarray) -> None:
        grad = _with_weight_decay(group, param, grad)
        total = buffers["sum"]
        total += np.multiply(grad, grad, scratch)
        std = np.sqrt(total, scratch)
        std += group["eps"]
        change = np.divide(grad, std, scratch)
        change *= group["lr"] / (1 + (step - 1) * group["lr_decay"])
        param -= change


class Adadelta(Optimizer):
    """Step sizes from running averages of squared gradients and squared updates (no learning rate needed)."""

    buffer_names = decaying_buffers = ("square_avg", "acc_delta")

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      capturable=capturable, foreach=foreach, differentiable=differentiable))

    def check(self, group: dict[str, Any]) -> None:
        super().check(group)
        if not 0 <= group["rho"] <= 1:
            raise ValueError(f"Adadelta: rho must lie in [0, 1], got {group['rho']!r}")
        _at_least_zero(self, "eps", group["eps"])
        _at_least_zero(self, "weight_decay", group["weight_decay"])

    def update(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, buffers: Buffers,
               step: int, scratch: np.ndarray) -> None:
        rho, eps = group["rho"], group["eps"]
        grad = _with_weight_decay(group, param, grad)
        square_avg, acc_delta = buffers["square_avg"], buffers["acc_delta"]
        square_avg *= rho
        np.multiply(grad, grad, scratch)
        square_avg += np.multiply(scratch, 1 - rho, scratch)
        delta = np.add(acc_delta, eps)  # the update: its own array, as scratch is needed meanwhile
        np.sqrt(delta, delta)
        delta /= np.sqrt(np.add(square_avg, eps, scratch), scratch)
        delta *= grad
        acc_delta *= rho
        np.multiply(delta, delta, scratch)
        acc_delta += np.multiply(scratch, 1 - rho, scratch)
        delta *= group["lr"]
        param -= delta


class RMSprop(Optimizer):
    """p ← p − lr·g / (√v + ε) with v a running average of g²; optional momentum and centring."""

    buffer_names = decaying_buffers = ("square_avg", "momentum_buffer", "grad_avg")

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return (("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    def check(self, group: dict[str, Any]) -> None:
        super().check(group)
        for name in ("alpha", "eps", "weight_decay", "momentum"):
            _at_least_zero(self, name, group[name])

    def update(self, group: dict[str, Any], param: np.ndarray, grad: np.ndarray, buffers: Buffers,
               step: int, scratch: np.ndarray) -> None:
        alpha = group["alpha"]
        grad = _with_weight_decay(group, param, grad)
        square_avg = buffers["square_avg"]
        square_avg *= alpha
        np.multiply(grad, grad, scratch)
        square_avg += np.multiply(scratch, 1 - alpha, scratch)
        if group["centered"]:
            grad_avg = buffers["grad_avg"]
            grad_avg *= alpha
            grad_avg += np.multiply(grad, 1 - alpha, scratch)
            np.multiply(grad_avg, grad_avg, scratch)
            avg = np.sqrt(np.subtract(square_avg, scratch, scratch), scratch)
        else:
            avg = np.sqrt(square_avg, scratch)
        avg += group["eps"]
        if group["momentum"] > 0:
            velocity = buffers["momentum_buffer"]
            velocity *= group["momentum"]
            velocity += np.divide(grad, avg, scratch)
            param -= np.multiply(velocity, group["lr"], scratch)
        else:
            change = np.divide(grad, avg, scratch)
            change *= group["lr"]
            param -= change
