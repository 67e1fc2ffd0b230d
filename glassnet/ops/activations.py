"""Activations: each an ``Activation`` (forward and derivative on arrays, shared with the fused dense kernels of
``nn.functional``) and a differentiable op; softmax and log-softmax along a dim."""
from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import numpy as np

from ..tensor import Tensor, result
from ._args import dims, floating

__all__ = ["Activation", "ACTIVATIONS", "activation", "apply_activation", "tanh", "sigmoid", "relu", "leaky_relu",
           "gelu", "silu", "softplus", "elu", "erf_array", "softmax", "log_softmax"]


class Activation(NamedTuple):
    """An activation g(z): ``forward(z) -> a`` and ``backward(grad_a, z, a) -> grad_z`` (= grad_a · g'(z)).

    ``options`` are the settings a built-in activation was made with (``activation(name, **options)``), None for
    one made by hand: a built-in one is pickled and copied as its name and settings (its functions are closures),
    and comes back as the same object."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    options: tuple[tuple[str, Any], ...] | None = None

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """g'(z), elementwise."""
        return self.backward(np.ones_like(z), z, a)

    def __reduce_ex__(self, protocol: Any) -> Any:
        if self.options is None:
            return tuple.__reduce_ex__(self, protocol)
        return _built_in, (self.name, self.options)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−z), written as ½·tanh(z/2) + ½ so that it never overflows."""
    a = np.tanh(z * 0.5)
    a *= 0.5
    a += 0.5
    return a


def _leaky(slope: float) -> Activation:
    return Activation("leaky_relu", lambda z: np.where(z > 0, z, z * slope),
                      lambda g, z, a: np.where(z > 0, g, g * slope))


def _tanh_backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """g · (1 − a²), as g − g·a·a in place: array operands only (a Python scalar costs a conversion a call)."""
    ga2 = g * a
    ga2 *= a
    return np.subtract(g, ga2, out=ga2)


def _sigmoid_backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """g · a(1 − a), as g·a − g·a·a."""
    ga = g * a
    return np.subtract(ga, ga * a, out=ga)


@functools.lru_cache(maxsize=None)
def _erf_interpolants() -> tuple[Any, Any]:
    """Chebyshev interpolants (degree 18) of erf(√t)/√t on t ∈ [0, 6.25] and of e^(x²)·erfc(x) on x ∈ [2.5, 6], made
    from ``math.erf``/``math.erfc`` at import; both are smooth there, so the interpolants are accurate to ~1e-14
    relative (tested against math.erf and torch). Made at the first use: importing glassnet does not load
    numpy.polynomial."""
    from numpy.polynomial import Chebyshev
    import math
    near = Chebyshev.interpolate(lambda t: np.array([math.erf(math.sqrt(v)) / math.sqrt(v) for v in t]), 18,
                                 domain=[0, 6.25])
    tail = Chebyshev.interpolate(lambda x: np.array([math.exp(v * v) * math.erfc(v) for v in x]), 18,
                                 domain=[2.5, 6])
    return near, tail


def erf_array(z: np.ndarray) -> np.ndarray:
    """The error function erf(z) = 2/√π ∫₀ᶻ e^(−t²) dt of a float array, elementwise, accurate to float64 (NumPy has
    none): z·P(z²) for |z| < 2.5, ±(1 − e^(−z²)·Q(|z|)) beyond (exactly ±1 in float64 from |z| ≈ 6 on)."""
    z = np.asarray(z)
    x = z.astype(np.float64, copy=False)
    a = np.abs(x)
    near_fit, tail_fit = _erf_interpolants()
    near = x * near_fit(np.minimum(a, 2.5) ** 2)
    tail = np.copysign(1.0 - np.exp(-a * a) * tail_fit(np.clip(a, 2.5, 6.0)), x)
    return np.where(a < 2.5, near, tail).astype(z.dtype if z.dtype.kind == "f" else np.float64, copy=False)


_SQRT_HALF, _INV_SQRT_2PI, _SQRT_2_OVER_PI = 0.5 ** 0.5, (2 * np.pi) ** -0.5, (2 / np.pi) ** 0.5


def _gelu(approximate: str = "none") -> Activation:
    """GELU(z) = z·Φ(z), Φ the standard normal CDF; ``approximate="tanh"``: Φ(z) ≈
    ½(1 + tanh(√(2/π)(z + 0.044715z³)))."""
    if approximate == "none":
        def forward(z: np.ndarray) -> np.ndarray:
            return z * (0.5 * (1.0 + erf_array(z * _SQRT_HALF)))

        def backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
            cdf = 0.5 * (1.0 + erf_array(z * _SQRT_HALF))
            return g * (cdf + z * (_INV_SQRT_2PI * np.exp(-0.5 * z * z)))
        return Activation("gelu", forward, backward)
    if approximate == "tanh":
        def inner(z: np.ndarray) -> np.ndarray:
            return np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z * z * z))

        def forward_tanh(z: np.ndarray) -> np.ndarray:
            return 0.5 * z * (1.0 + inner(z))

        def backward_tanh(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
            t = inner(z)
            slope = _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
            return g * (0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * slope)
        return Activation("gelu", forward_tanh, backward_tanh)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _silu_backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """g · σ(z)(1 + z(1 − σ(z)))."""
    s = _sigmoid(z)
    return g * (s * (1.0 + z * (1.0 - s)))


def _softplus(beta: float = 1.0, threshold: float = 20.0) -> Activation:
    """log(1 + e^(βz))/β, and z itself where βz > threshold (as torch); derivative σ(βz) (1 past the threshold)."""
    def forward(z: np.ndarray) -> np.ndarray:
        bz = z * beta
        return np.where(bz > threshold, z, np.log1p(np.exp(np.minimum(bz, threshold))) / beta)

    def backward(g: np.ndarray, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        bz = z * beta
        return np.where(bz > threshold, g, g * _sigmoid(bz))
    return Activation("softplus", forward, backward)


def _elu(alpha: float = 1.0) -> Activation:
    """z for z > 0, α(e^z − 1) else; derivative 1, or α·e^z = a + α."""
    return Activation("elu", lambda z: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))),
                      lambda g, z, a: np.where(z > 0, g, g * (a + alpha)))


ACTIVATIONS: dict[str, Activation] = {name: act._replace(options=()) for name, act in {
    "identity": Activation("identity", lambda z: z, lambda g, z, a: g),
    "tanh": Activation("tanh", np.tanh, _tanh_backward),
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_backward),
    "relu": Activation("relu", lambda z: np.maximum(z, 0), lambda g, z, a: g * (a > 0)),
    "leaky_relu": _leaky(0.01),
    "gelu": _gelu(),
    "silu": Activation("silu", lambda z: z * _sigmoid(z), _silu_backward),
    "softplus": _softplus(),
    "elu": _elu(),
}.items()}
ACTIVATIONS["linear"] = ACTIVATIONS["identity"]
_MAKERS: dict[str, Callable[..., Activation]] = {  # the activations with settings
    "leaky_relu": lambda negative_slope=0.01: _leaky(negative_slope), "gelu": _gelu, "softplus": _softplus,
    "elu": _elu}


def activation(name: str, **options: Any) -> Activation:
    """The activation called ``name`` (identity/linear, tanh, sigmoid, relu, leaky_relu, gelu, silu, softplus,
    elu), with its options (negative_slope; approximate; beta, threshold; alpha) where given."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    options = {key: value for key, value in options.items() if value is not None}
    if not options:
        return ACTIVATIONS[name]
    if name not in _MAKERS:
        raise TypeError(f"activation {name!r} takes no options, got {sorted(options)}")
    return _made(name, tuple(sorted(options.items())))


@functools.lru_cache(maxsize=256)
def _made(name: str, options: tuple[tuple[str, Any], ...]) -> Activation:
    """One Activation per setting (layers read theirs at each call: no new closures per call)."""
    return _MAKERS[name](**dict(options))._replace(options=options)


def _built_in(name: str, options: tuple[tuple[str, Any], ...]) -> Activation:
    """What a pickled built-in activation unpickles to."""
    return activation(name, **dict(options))


def apply_activation(x: Tensor, act: Activation) -> Tensor:
    """``act`` on a tensor, one node. The kernels work in place on arrays; a 0-d input runs as one element (NumPy
    turns 0-d results into scalars, which take no ``out=``)."""
    x = floating(x)
    z = x._data
    if not z.ndim:
        z = z.reshape(1)
        out = act.forward(z)
        return result(out.reshape(()), (x,), lambda g: (act.backward(g.reshape(1), z, out).reshape(()),))
    out = act.forward(z)
    return result(out, (x,), lambda g: (act.backward(g, z, out),))


def tanh(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["tanh"])


def sigmoid(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["sigmoid"])


def relu(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["relu"])


def leaky_relu(a: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply_activation(a, activation("leaky_relu", negative_slope=negative_slope))


def gelu(a: Tensor, approximate: str = "none") -> Tensor:
    return apply_activation(a, activation("gelu", approximate=approximate))


def silu(a: Tensor) -> Tensor:
    return apply_activation(a, ACTIVATIONS["silu"])


def softplus(a: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return apply_activation(a, activation("softplus", beta=beta, threshold=threshold))


def elu(a: Tensor, alpha: float = 1.0) -> Tensor:
    return apply_activation(a, activation("elu", alpha=alpha))


def softmax(a: Tensor, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor:
    """exp(a_i) / Σ_j exp(a_j) along ``dim`` (default −1; shifted by the max: never overflows)."""
    a = floating(a if dtype is None else a.to(dtype))
    axis = dims(axis, dim, a._data.ndim)
    axis = -1 if axis is None else axis
    e = np.exp(a._data - a._data.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    return result(s, (a,), lambda g: (s * (g - (g * s).sum(axis=axis, keepdims=True)),))


def log_softmax(a: Tensor, axis: Any = None, *, dim: Any = None, dtype: Any = None) -> Tensor:
    """a_i − log Σ_j exp(a_j) along ``dim`` (default −1), computed stably."""
    a = floating(a if dtype is None else a.to(dtype))
    axis = dims(axis, dim, a._data.ndim)
    axis = -1 if axis is None else axis
    shifted = a._data - a._data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return result(out, (a,), lambda g: (g - np.exp(out) * g.sum(axis=axis, keepdims=True),))
