"""Differentiable ops on Tensors: each op computes its output and, right beside it, its local backward.

Every op takes Tensors (or numbers/arrays, treated as constants), returns a Tensor, and registers
``backward(g) -> one gradient per input``. Gradients may have the broadcast shape: the engine (``tensor.py``) sums
them back. Axis arguments follow NumPy (``axis=``); PyTorch's ``dim=`` is accepted too.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from .tensor import Tensor, as_tensor, result

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "sum", "mean", "max", "min", "reshape", "transpose",
    "getitem", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "gelu", "silu", "softplus", "elu",
    "softmax", "log_softmax", "erf_array", "apply_activation",
    "clip", "where", "concatenate", "stack", "cast", "Activation", "activation", "ACTIVATIONS",
]


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    if not isinstance(a, Tensor):
        a = as_tensor(a, b if isinstance(b, Tensor) else None)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    return a, b


def _axis(axis: Any, dim: Any) -> Any:
    if dim is not None:
        if axis is not None:
            raise TypeError("give axis= or dim=, not both")
        axis = dim
    if isinstance(axis, list):
        axis = tuple(axis)
    return axis


# ------------------------------------------------------------------------------------------ elementwise binary

def add(a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b)
    return result(a._data + b._data, (a, b), lambda g: (g, g))


def sub(a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b)
    return result(a._data - b._data, (a, b), lambda g: (g, -g if b.requires_grad else None))


def mul(a: Any, b: Any) -> Tensor:
    if type(b) in (float, int) and isinstance(a, Tensor):
        return _scale(a, b)
    if type(a) in (float, int) and isinstance(b, Tensor):
        return _scale(b, a)
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> tuple:
        return (g * b._data if a.requires_grad else None, g * a._data if b.requires_grad else None)
    return result(a._data * b._data, (a, b), backward)


def _scale(a: Tensor, k: float) -> Tensor:
    """a · k for a Python number k: one parent, and k a NumPy weak scalar (float32 stays float32)."""
    return result(a._data * k, (a,), lambda g: (g * k,))


def div(a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b)
    out = a._data / b._data

    def backward(g: np.ndarray) -> tuple:
        ga = g / b._data if a.requires_grad else None
        gb = -g * out / b._data if b.requires_grad else None
        return ga, gb
    return result(out, (a, b), backward)


def pow(a: Any, exponent: Any) -> Tensor:
    """a ** exponent; d/da = exponent · a^(exponent−1), d/dexponent = a^exponent · ln a."""
    a, b = _operands(a, exponent)
    out = a._data ** b._data

    def backward(g: np.ndarray) -> tuple:
        ga = g * b._data * a._data ** (b._data - 1) if a.requires_grad else None
        gb = None
        if b.requires_grad:
            with np.errstate(divide="ignore", invalid="ignore"):
                gb = g * out * np.where(a._data > 0, np.log(np.where(a._data > 0, a._data, 1)), 0)
        return ga, gb
    return result(out, (a, b), backward)


def neg(a: Tensor) -> Tensor:
    return result(-a._data, (a,), lambda g: (-g,))


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands, batched broadcasting)."""
    a, b = _operands(a, b)
    A, B = a._data, b._data
    try:
        out = A @ B
    except ValueError:
        inner = B.shape[-2] if B.ndim > 1 else (B.shape[0] if B.ndim else None)
        raise ValueError(f"matmul: shapes {A.shape} @ {B.shape} do not fit: the last dimension of the first "
                         f"({A.shape[-1] if A.ndim else None}) must equal the second's rows ({inner})") from None

    def backward(g: np.ndarray) -> tuple:
        A2 = A[None, :] if A.ndim == 1 else A
        B2 = B[:, None] if B.ndim == 1 else B
        if A.ndim == 1:
            g = g[..., None, :] if B.ndim > 1 else g[..., None]
        if B.ndim == 1:
            g = g[..., None]
        ga = gb = None
        if a.requires_grad:
            ga = g @ np.swapaxes(B2, -1, -2)
            if A.ndim == 1:
                ga = ga[..., 0, :]
        if b.requires_grad:
            gb = np.swapaxes(A2, -1, -2) @ g
            if B.ndim == 1:
                gb = gb[..., 0]
        return ga, gb
    return result(out, (a, b), backward)


# ------------------------------------------------------------------------------------------ reductions

def _expand(g: np.ndarray, shape: tuple[int, ...], axis: Any, keepdims: bool) -> np.ndarray:
    """Undo a reduction over ``axis``: give ``g`` back the reduced axes, then broadcast it to ``shape``."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, shape)


def sum(a: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    axis = _axis(axis, dim)
    return result(np.add.reduce(a._data, axis=axis, keepdims=keepdims), (a,),
                  lambda g: (_expand(g, a._data.shape, axis, keepdims),))


def mean(a: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    axis = _axis(axis, dim)
    total = np.add.reduce(a._data, axis=axis, keepdims=keepdims)
    count = a._data.size // total.size if total.size else 1
    out = total / count
    return result(out, (a,), lambda g: (_expand(g / count, a._data.shape, axis, keepdims),))


def _extreme(a: Tensor, axis: Any, keepdims: bool, reduce: Callable) -> Tensor:
    """max/min; the gradient is shared equally among tied extremes (as ``torch.amax``)."""
    kept = reduce(a._data, axis=axis, keepdims=True)
    out = kept if keepdims else kept.reshape(()) if axis is None else np.squeeze(kept, axis)

    def backward(g: np.ndarray) -> tuple:
        mask = a._data == kept
        share = mask / np.sum(mask, axis=axis, keepdims=True)
        return ((share * g.reshape(kept.shape)).astype(a._data.dtype, copy=False),)
    return result(out, (a,), backward)


def max(a: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    return _extreme(a, _axis(axis, dim), keepdims, np.max)


def min(a: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    return _extreme(a, _axis(axis, dim), keepdims, np.min)


# ------------------------------------------------------------------------------------------ shape

def reshape(a: Tensor, *shape: Any) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        out = a._data.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {a._data.shape} ({a._data.size} elements) "
                         f"into {shape}") from None
    return result(out, (a,), lambda g: (g.reshape(a._data.shape),))


def transpose(a: Tensor, *axes: Any) -> Tensor:
    """Permute axes (NumPy's ``transpose``); with two ints, swap those two axes (PyTorch's ``transpose``)."""
    packed = len(axes) == 1 and isinstance(axes[0], (tuple, list))
    if packed:
        axes = tuple(axes[0])
    if len(axes) == 2 and not (packed and a._data.ndim == 2):
        perm = list(range(a._data.ndim))
        perm[axes[0]], perm[axes[1]] = perm[axes[1]], perm[axes[0]]
        axes = tuple(perm)
    axes = axes or tuple(reversed(range(a._data.ndim)))
    inverse = tuple(np.argsort(axes))
    return result(np.transpose(a._data, axes), (a,), lambda g: (np.transpose(g, inverse),))


def _plain_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_advanced(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (np.ndarray, list)) for i in parts)


def getitem(a: Tensor, index: Any) -> Tensor:
    """Indexing and slicing, integer-array indexing included (repeated indices accumulate their gradients)."""
    index = _plain_index(index)

    def backward(g: np.ndarray) -> tuple:
        grad = np.zeros_like(a._data)
        if _is_advanced(index):
            np.add.at(grad, index, g)
        else:
            grad[index] = g
        return (grad,)
    return result(a._data[index], (a,), backward)


def concatenate(tensors: Sequence[Tensor], axis: int | None = None, *, dim: Any = None) -> Tensor:
    axis = _axis(axis, dim)
    axis = 0 if axis is None else axis
    tensors = [as_tensor(t) for t in tensors]
    try:
        out = np.concatenate([t._data for t in tensors], axis=axis)
    except ValueError as e:
        raise ValueError(f"concatenate along axis {axis}: shapes {[t.shape for t in tensors]} do not fit ({e})") \
            from None
    ends = np.cumsum([t._data.shape[axis] for t in tensors])[:-1]
    return result(out, tuple(tensors), lambda g: tuple(np.split(g, ends, axis=axis)))


def stack(tensors: Sequence[Tensor], axis: int | None = None, *, dim: Any = None) -> Tensor:
    axis = _axis(axis, dim)
    axis = 0 if axis is None else axis
    tensors = [as_tensor(t) for t in tensors]
    try:
        out = np.stack([t._data for t in tensors], axis=axis)
    except ValueError:
        raise ValueError(f"stack needs tensors of one shape, got {[t.shape for t in tensors]}") from None
    return result(out, tuple(tensors), lambda g: tuple(np.moveaxis(g, axis, 0)))


def cast(a: Tensor, dtype: Any) -> Tensor:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":  # integer and bool results carry no gradient, as in PyTorch
        return Tensor(a._data.astype(dtype))
    return result(a._data.astype(dtype), (a,), lambda g: (g.astype(a._data.dtype),))


# ------------------------------------------------------------------------------------------ elementwise unary

def exp(a: Tensor) -> Tensor:
    out = np.exp(a._data)
    return result(out, (a,), lambda g: (g * out,))


def log(a: Tensor) -> Tensor:
    return result(np.log(a._data), (a,), lambda g: (g / a._data,))


def sqrt(a: Tensor) -> Tensor:
    out = np.sqrt(a._data)
    return result(out, (a,), lambda g: (g / (2 * out),))


def abs(a: Tensor) -> Tensor:
    return result(np.abs(a._data), (a,), lambda g: (g * np.sign(a._data),))


def clip(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Clamp to [min, max]; the gradient passes where min ≤ a ≤ max (as ``torch.clamp``)."""
    out = np.clip(a._data, min, max)

    def backward(g: np.ndarray) -> tuple:
        inside = np.ones(a._data.shape, dtype=bool)
        if min is not None:
            inside &= a._data >= min
        if max is not None:
            inside &= a._data <= max
        return (g * inside,)
    return result(out, (a,), backward)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """Elements of ``a`` where ``condition``, else of ``b``."""
    cond = np.asarray(condition._data if isinstance(condition, Tensor) else condition, dtype=bool)
    a, b = _operands(a, b)

    def backward(g: np.ndarray) -> tuple:
        zero = np.zeros((), dtype=g.dtype)
        return (np.where(cond, g, zero) if a.requires_grad else None,
                np.where(cond, zero, g) if b.requires_grad else None)
    return result(np.where(cond, a._data, b._data), (a, b), backward)


# ------------------------------------------------------------------------------------------ activations

class Activation(NamedTuple):
    """An activation g(z): ``forward(z) -> a`` and ``backward(grad_a, z, a) -> grad_z`` (= grad_a · g'(z))."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

    def derivative(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """g'(z), elementwise."""
        return self.backward(np.ones_like(z), z, a)


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


ACTIVATIONS: dict[str, Activation] = {
    "identity": Activation("identity", lambda z: z, lambda g, z, a: g),
    "tanh": Activation("tanh", np.tanh, _tanh_backward),
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_backward),
    "relu": Activation("relu", lambda z: np.maximum(z, 0), lambda g, z, a: g * (a > 0)),
    "leaky_relu": _leaky(0.01),
    "gelu": _gelu(),
    "silu": Activation("silu", lambda z: z * _sigmoid(z), _silu_backward),
    "softplus": _softplus(),
    "elu": _elu(),
}
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
    return _MAKERS[name](**dict(options))


def apply_activation(x: Tensor, act: Activation) -> Tensor:
    z = x._data
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


def softmax(a: Tensor, axis: int | None = None, *, dim: Any = None) -> Tensor:
    """exp(a_i) / Σ_j exp(a_j) along ``axis`` (default −1; shifted by the max: never overflows)."""
    axis = _axis(axis, dim)
    axis = -1 if axis is None else axis
    e = np.exp(a._data - a._data.max(axis=axis, keepdims=True))
    s = e / e.sum(axis=axis, keepdims=True)
    return result(s, (a,), lambda g: (s * (g - (g * s).sum(axis=axis, keepdims=True)),))


def log_softmax(a: Tensor, axis: int | None = None, *, dim: Any = None) -> Tensor:
    """a_i − log Σ_j exp(a_j) along ``axis`` (default −1), computed stably."""
    axis = _axis(axis, dim)
    axis = -1 if axis is None else axis
    shifted = a._data - a._data.max(axis=axis, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return result(out, (a,), lambda g: (g - np.exp(out) * g.sum(axis=axis, keepdims=True),))


# ------------------------------------------------------------------------------------------ Tensor methods

def _argmax(a: Tensor, axis: Any = None, keepdims: bool = False, *, dim: Any = None) -> Tensor:
    return Tensor(np.argmax(a._data, axis=_axis(axis, dim), keepdims=keepdims))


def _compare(op: Callable) -> Callable:
    return lambda a, b: Tensor(op(a._data, b._data if isinstance(b, Tensor) else b))


def _install_methods() -> None:
    methods = {
        "__add__": add, "__radd__": lambda a, b: add(b, a), "__sub__": sub, "__rsub__": lambda a, b: sub(b, a),
        "__mul__": mul, "__rmul__": lambda a, b: mul(b, a), "__truediv__": div,
        "__rtruediv__": lambda a, b: div(b, a), "__pow__": pow, "__rpow__": lambda a, b: pow(b, a),
        "__matmul__": matmul, "__rmatmul__": lambda a, b: matmul(b, a), "__neg__": neg, "__getitem__": getitem,
        "__lt__": _compare(np.less), "__le__": _compare(np.less_equal), "__gt__": _compare(np.greater),
        "__ge__": _compare(np.greater_equal),
        "sum": sum, "mean": mean, "max": max, "min": min, "reshape": reshape, "view": reshape,
        "transpose": transpose, "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "tanh": tanh,
        "sigmoid": sigmoid, "relu": relu, "leaky_relu": leaky_relu, "softmax": softmax,
        "log_softmax": log_softmax, "clip": clip, "clamp": clip, "argmax": _argmax,
        "flatten": lambda a, start_dim=0: reshape(a, a._data.shape[:start_dim] + (-1,)),
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(lambda a: transpose(a))
    Tensor.__hash__ = object.__hash__


_install_methods()
