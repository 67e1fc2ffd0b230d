"""Recurrent layers with PyTorch's names, parameter layout and semantics: ``RNN`` (tanh/relu), ``LSTM``, ``GRU`` and
their one-step cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Speed: a recurrent step on small sizes is a handful of tiny array operations, so the cost is per op, not per flop.
Each layer and direction is therefore ONE graph node for the whole sequence (``rnn_layer``, ``lstm_layer``,
``gru_layer``): the input projection x·W_ihᵀ of all steps is one GEMM, each step adds h·W_hhᵀ (one GEMM for the
whole gate set) and applies the gates in place, and backpropagation through time is written out beside the forward
loop; the weight gradients are again one GEMM each over all steps. A cell is the same kernel run for one step.

Shapes inside the kernels: x (T, N, I) time-major, states (N, H), W_ih (G·H, I), W_hh (G·H, H) with G gates in
PyTorch's order (LSTM i, f, g, o; GRU r, z, n). The LSTM's steps work on transposed states (see ``lstm_layer``).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .. import ops
from ..tensor import Tensor, _wrap, as_tensor, get_default_dtype, result
from . import functional as F
from . import init, placeholders
from .functional import _dot, _dot_for
from .module import Module, Parameter
from .workspace import empty

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
           "rnn_layer", "lstm_layer", "gru_layer"]


# ------------------------------------------------------------------------------------------ kernels

def _steps(T: int, reverse: bool) -> range:
    """The time steps in processing order."""
    return range(T - 1, -1, -1) if reverse else range(T)


def _projection(X: np.ndarray, w_ih: Tensor, *biases: Tensor | None) -> np.ndarray:
    """x·W_ihᵀ + the biases for all steps at once: (T, N, I) → (T, N, G·H), a new array."""
    T, N, I = X.shape
    pre = _dot(X.reshape(T * N, I), w_ih._data.T, out=empty((T * N, w_ih._data.shape[0]), X.dtype))
    for b in biases:
        if b is not None:
            pre += b._data
    return pre.reshape(T, N, -1)


def _sigmoid_(a: np.ndarray) -> None:
    """σ(a) in place, as ½·tanh(a/2) + ½ (never overflows)."""
    a *= 0.5
    np.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def _weight_grads(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
                  dXp: np.ndarray, dHp: np.ndarray, Y: np.ndarray, reverse: bool) -> list:
    """[dx, dW_ih, dW_hh, db_ih, db_hh] (biases only when present) from the gradients of the pre-activations of
    all steps: dXp of x·W_ihᵀ + b_ih and dHp of h_prev·W_hhᵀ + b_hh, both (T, N, G·H); Y (T, N, H) holds the
    outputs, so that step t's previous state is Y[t∓1] (h0 at the first step processed). One GEMM each."""
    T, N, G = dXp.shape
    X, H0 = x._data, h0._data
    dXp_flat, dHp_flat = dXp.reshape(T * N, G), dHp.reshape(T * N, G)
    grads = [_dot(dXp_flat, w_ih._data, out=empty((T * N, X.shape[2]), X.dtype)).reshape(X.shape)
             if x.requires_grad else None,
             _dot_for(w_ih, dXp_flat.T, X.reshape(T * N, -1)) if w_ih.requires_grad else None]
    if w_hh.requires_grad:
        first, rest, prev = (T - 1, dHp[:-1], Y[1:]) if reverse else (0, dHp[1:], Y[:-1])
        dW_hh = _dot(rest.reshape(-1, G).T, prev.reshape(-1, Y.shape[2]))
        if H0.any():  # the default initial state is zeros: no contribution
            dW_hh += _dot(dHp[first].T, H0)
        grads.append(dW_hh)
    else:
        grads.append(None)
    ones = np.ones(T * N, dXp.dtype)
    for b, d in ((b_ih, dXp_flat), (b_hh, dHp_flat)):
        if b is not None:
            grads.append(_dot_for(b, ones, d) if b.requires_grad else None)
    return grads


def _parents(x: Tensor, states: Sequence[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
             b_hh: Tensor | None) -> tuple[Tensor, ...]:
    biases = () if b_ih is None else (b_ih, b_hh)
    return (x, *states, w_ih, w_hh, *biases)


def rnn_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
              nonlinearity: str = "tanh", reverse: bool = False) -> Tensor:
    """Elman RNN over a sequence, one node: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh).

    x: (T, N, I), h0: (N, H) → (T, N, H), the h_t in time order (``reverse`` runs from the last step to the first).
    """
    X, W_hh = x._data, w_hh._data
    T = X.shape[0]
    Y = _projection(X, w_ih, b_ih, b_hh)  # the pre-activations, overwritten step by step by h_t
    relu = nonlinearity == "relu"
    W_hhT, h = np.ascontiguousarray(W_hh.T), h0._data  # contiguous: BLAS's transposed path is slower
    for t in _steps(T, reverse):
        a = Y[t]
        a += _dot(h, W_hhT)
        if relu:
            np.maximum(a, 0, out=a)
        else:
            np.tanh(a, out=a)
        h = a
    first = T - 1 if reverse else 0

    def backward(gY: np.ndarray) -> list:
        D = empty(Y.shape, Y.dtype)  # act'(a) in terms of h = act(a), all steps at once: h > 0, or 1 − h²
        if relu:
            np.greater(Y, 0, out=D)
        else:
            np.multiply(Y, Y, out=D)
            np.subtract(1, D, out=D)
        dA = empty(Y.shape, Y.dtype)
        dh = None
        for t in _steps(T, not reverse):
            g = gY[t] if dh is None else gY[t] + dh
            np.multiply(g, D[t], out=dA[t])
            dh = _dot(dA[t], W_hh) if t != first or h0.requires_grad else None
        return _with_states(_weight_grads(x, h0, w_ih, w_hh, b_ih, b_hh, dA, dA, Y, reverse), dh)
    return result(Y, _parents(x, (h0,), w_ih, w_hh, b_ih, b_hh), backward)


def _with_states(grads: list, *state_grads: np.ndarray | None) -> list:
    """Put the initial states' gradients after x's, in the order of ``_parents``."""
    return [grads[0], *state_grads, *grads[1:]]


def _lstm_gates_(s: np.ndarray, minus_scale: np.ndarray) -> None:
    """The pre-activations s (4, H, N) of gates i, f, g, o into the gates, in place, with one exp for all four:
    σ(a) = 1 / (1 + e^(−a)) for i, f, o and tanh(a) = 2·σ(2a) − 1 for g (``minus_scale`` holds −1, −1, −2, −1).
    e^(−a) may overflow to inf for a very negative a, giving σ = 0 as it should (the caller silences the warning).
    """
    np.multiply(s, minus_scale, out=s)
    np.exp(s, out=s)
    s += 1
    np.reciprocal(s, out=s)
    g = s[2]
    g *= 2
    g -= 1


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
               b_hh: Tensor | None, w_hr: Tensor | None = None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """LSTM over a sequence, one node. With [i, f, g, o] = [σ, σ, tanh, σ](x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh):
    c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t), or with a projection W_hr (P, H): h_t = (o·tanh(c_t))·W_hrᵀ.

    x: (T, N, I), h0: (N, P), c0: (N, H) (P = H without projection) → (the h_t in time order (T, N, P), the final
    cell state (N, H)): two views of the node's one output array.

    Inside, every step works on transposed states, h (P, N), c (H, N) and gates (4, H, N), so that W_hh·h is one
    GEMM straight into the four gate blocks and each gate is a contiguous block for the elementwise ops (views
    into an (N, 4H) row layout cost ~1 µs more per op on these sizes).
    """
    X, W_hh = x._data, w_hh._data
    T, N, _ = X.shape
    H, P = W_hh.shape[0] // 4, W_hh.shape[1]
    dtype = X.dtype
    S = np.matmul(w_ih._data, X.transpose(0, 2, 1), out=empty((T, 4 * H, N), dtype))  # (T, 4H, N) x_t·W_ihᵀ
    if b_ih is not None:
        S += (b_ih._data + b_hh._data)[:, None]
    S4 = S.reshape(T, 4, H, N)             # pre-activations, then the gates i, f, g, o in place
    C = empty((T, H, N), dtype)            # cell states c_t
    TC = empty((T, H, N), dtype)           # tanh(c_t)
    M = empty((T, H, N), dtype)            # o·tanh(c_t): h_t itself without projection
    HT = M if w_hr is None else empty((T, P, N), dtype)
    minus_scale = np.array([-1, -1, -2, -1], dtype).reshape(4, 1, 1)
    h, c = h0._data.T, c0._data.T
    with np.errstate(over="ignore"):
        for t in _steps(T, reverse):
            S[t] += _dot(W_hh, h)
            _lstm_gates_(S4[t], minus_scale)
            i, f, g, o = S4[t]
            c = np.multiply(f, c, out=C[t])
            c += i * g
            np.tanh(c, out=TC[t])
            h = np.multiply(o, TC[t], out=M[t])
            if w_hr is not None:
                h = _dot(w_hr._data, h, out=HT[t])
    out = empty((T * N * P + N * H,), dtype)
    hs, c_n = out[:T * N * P].reshape(T, N, P), out[T * N * P:].reshape(N, H)
    hs[...] = HT.transpose(0, 2, 1)
    c_n[...] = c.T
    first = T - 1 if reverse else 0

    def backward(g_out: np.ndarray) -> list:
        # the gates' derivatives, all steps at once: σ' = s(1 − s), tanh' = 1 − s²
        D = np.multiply(S, S, out=empty(S.shape, dtype))
        np.subtract(S, D, out=D)
        D4 = D.reshape(T, 4, H, N)
        np.multiply(S4[:, 2], S4[:, 2], out=D4[:, 2])
        np.subtract(1, D4[:, 2], out=D4[:, 2])
        dTC = np.multiply(TC, TC, out=empty(TC.shape, dtype))  # tanh' at c_t
        np.subtract(1, dTC, out=dTC)
        GH = np.ascontiguousarray(g_out[:T * N * P].reshape(T, N, P).transpose(0, 2, 1))  # ∂/∂h_t from above
        dS = empty(S.shape, dtype)
        dS4 = dS.reshape(T, 4, H, N)
        W_hhT = np.ascontiguousarray(W_hh.T)
        dh, dc = None, np.ascontiguousarray(g_out[T * N * P:].reshape(N, H).T)
        for t in _steps(T, not reverse):
            i, f, g, o = S4[t]
            di, df, dg, do = dS4[t]
            c_prev = c0._data.T if t == first else C[t + 1 if reverse else t - 1]
            gh = GH[t] if dh is None else np.add(GH[t], dh, out=GH[t])  # GH[t]: all of ∂/∂h_t, for dW_hr
            gm = gh if w_hr is None else _dot(w_hr._data.T, gh)       # ∂/∂(o·tanh(c_t))
            np.multiply(gm, TC[t], out=do)
            gc = gm * o
            gc *= dTC[t]
            gc += dc                                      # ∂/∂c_t
            np.multiply(gc, g, out=di)
            np.multiply(gc, c_prev, out=df)
            np.multiply(gc, i, out=dg)
            dc = np.multiply(gc, f, out=gc)
            dS[t] *= D[t]                                 # through σ and tanh: ∂/∂pre-activations
            dh = _dot(W_hhT, dS[t]) if t != first or h0.requires_grad else None
        dS_rows = np.ascontiguousarray(dS.transpose(0, 2, 1))  # (T, N, 4H), the layout of _weight_grads
        grads = _weight_grads(x, h0, w_ih, w_hh, b_ih, b_hh, dS_rows, dS_rows, hs, reverse)
        grads = _with_states(grads, None if dh is None else dh.T, dc.T if c0.requires_grad else None)
        if w_hr is not None:
            grads.append(np.tensordot(GH, M, axes=([0, 2], [0, 2])) if w_hr.requires_grad else None)
        return grads
    parents = _parents(x, (h0, c0), w_ih, w_hh, b_ih, b_hh) + (() if w_hr is None else (w_hr,))
    node = result(out, parents, backward)
    return ops.reshape(node[:T * N * P], (T, N, P)), ops.reshape(node[T * N * P:], (N, H))


def gru_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
              reverse: bool = False) -> Tensor:
    """GRU over a sequence, one node. With x_t·W_ihᵀ + b_ih = [xr, xz, xn] and h_{t−1}·W_hhᵀ + b_hh = [hr, hz, hn]:
    r = σ(xr + hr), z = σ(xz + hz), n = tanh(xn + r·hn), h_t = (1 − z)·n + z·h_{t−1} = n + z·(h_{t−1} − n).

    x: (T, N, I), h0: (N, H) → (T, N, H), the h_t in time order.
    """
    X, W_hh = x._data, w_hh._data
    T, N, _ = X.shape
    H = W_hh.shape[1]
    XP = _projection(X, w_ih, b_ih)                    # (T, N, 3H)
    HP = empty(XP.shape, XP.dtype)                     # h_{t−1}·W_hhᵀ + b_hh
    RZN = empty(XP.shape, XP.dtype)                    # the gates r, z, n
    Y = empty((T, N, H), X.dtype)
    W_hhT, h = np.ascontiguousarray(W_hh.T), h0._data  # contiguous: BLAS's transposed path is slower
    for t in _steps(T, reverse):
        hp, g = HP[t], RZN[t]
        _dot(h, W_hhT, out=hp)
        if b_hh is not None:
            hp += b_hh._data
        rz = np.add(XP[t, :, :2 * H], hp[:, :2 * H], out=g[:, :2 * H])
        _sigmoid_(rz)
        n = np.multiply(g[:, :H], hp[:, 2 * H:], out=g[:, 2 * H:])
        n += XP[t, :, 2 * H:]
        np.tanh(n, out=n)
        h_new = np.subtract(h, n, out=Y[t])
        h_new *= g[:, H:2 * H]
        h_new += n
        h = h_new
    first = T - 1 if reverse else 0

    def backward(gY: np.ndarray) -> list:
        D = np.multiply(RZN, RZN, out=empty(RZN.shape, RZN.dtype))
        np.subtract(RZN, D, out=D)                                   # σ' = s(1 − s) for r, z
        np.multiply(RZN[:, :, 2 * H:], RZN[:, :, 2 * H:], out=D[:, :, 2 * H:])
        np.subtract(1, D[:, :, 2 * H:], out=D[:, :, 2 * H:])         # tanh' = 1 − n²
        dXP, dHP = empty(XP.shape, XP.dtype), empty(XP.shape, XP.dtype)
        dh = None
        for t in _steps(T, not reverse):
            g, dxp, dhp = RZN[t], dXP[t], dHP[t]
            r, z, n = g[:, :H], g[:, H:2 * H], g[:, 2 * H:]
            h_prev = h0._data if t == first else Y[t + 1 if reverse else t - 1]
            gh = gY[t] if dh is None else gY[t] + dh
            ghz = gh * z                                             # ∂/∂h_{t−1} directly
            np.subtract(gh, ghz, out=dxp[:, 2 * H:])                 # ∂/∂n = gh·(1 − z)
            np.multiply(gh, np.subtract(h_prev, n), out=dxp[:, H:2 * H])  # ∂/∂z
            dxp[:, 2 * H:] *= D[t, :, 2 * H:]                        # ∂/∂(xn + r·hn)
            np.multiply(dxp[:, 2 * H:], r, out=dhp[:, 2 * H:])       # ∂/∂hn
            np.multiply(dxp[:, 2 * H:], HP[t, :, 2 * H:], out=dxp[:, :H])  # ∂/∂r
            dxp[:, :2 * H] *= D[t, :, :2 * H]                        # through σ
            dhp[:, :2 * H] = dxp[:, :2 * H]
            dh = ghz + _dot(dhp, W_hh) if t != first or h0.requires_grad else None
        return _with_states(_weight_grads(x, h0, w_ih, w_hh, b_ih, b_hh, dXP, dHP, Y, reverse), dh)
    return result(Y, _parents(x, (h0,), w_ih, w_hh, b_ih, b_hh), backward)


def _run_layer(mode: str, x: Tensor, states: Sequence[Tensor], weights: Sequence[Tensor | None],
               reverse: bool) -> tuple[Tensor, list[Tensor]]:
    """The kernel of ``mode`` (RNN_TANH, RNN_RELU, LSTM, GRU) on one layer and direction: its outputs (T, N, ·) and
    its final states (h_n and, for LSTM, c_n), each (N, ·)."""
    last = 0 if reverse else -1  # the final state is the last step processed
    if mode == "LSTM":
        hs, c_n = lstm_layer(x, *states, *weights, reverse=reverse)
        return hs, [hs[last], c_n]
    if mode == "GRU":
        y = gru_layer(x, *states, *weights, reverse=reverse)
    else:
        y = rnn_layer(x, *states, *weights, nonlinearity="relu" if mode == "RNN_RELU" else "tanh", reverse=reverse)
    return y, [y[last]]


# ------------------------------------------------------------------------------------------ modules

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _size(layer: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
    return int(value)


def _nonlinearity_mode(nonlinearity: str) -> str:
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; choose 'tanh' or 'relu'")
    return "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"


def _uniform_init(module: Module, hidden_size: int) -> None:
    """PyTorch's default for recurrent layers: every weight and bias U(−1/√hidden, 1/√hidden)."""
    bound = 1.0 / math.sqrt(hidden_size)
    for param in module.parameters():
        init.uniform_(param, -bound, bound)


def _input(module: Module, x: Any, dtype: np.dtype, input_size: int, batched_ndim: int) -> Tensor:
    """``x`` as a Tensor of the weights' dtype, checked: its feature size and number of dimensions."""
    if type(x) is not Tensor:
        x = as_tensor(x)
    shape = x._data.shape
    if len(shape) not in (batched_ndim - 1, batched_ndim):
        kind = "(L, N, H_in) or (N, L, H_in) batched, or (L, H_in)" if batched_ndim == 3 else "(N, H_in) or (H_in,)"
        raise ValueError(f"{module!r}: expected a {batched_ndim - 1}-D (unbatched) or {batched_ndim}-D input "
                         f"{kind}, got shape {shape}")
    if shape[-1] != input_size:
        raise ValueError(f"{module!r}: input.size(-1) must be equal to input_size. Expected {input_size}, got "
                         f"{shape[-1]} (input of shape {shape})")
    if x._data.dtype != dtype:
        x = ops.cast(x, dtype)
    return x


def _state(module: Module, name: str, value: Any, shape: tuple[int, ...], dtype: np.dtype) -> Tensor:
    """An initial state, checked against the shape it must have (zeros if None)."""
    if value is None:
        return _wrap(np.zeros(shape, dtype))
    if type(value) is not Tensor:
        value = as_tensor(value)
    if value._data.shape != shape:
        raise ValueError(f"{module!r}: expected {name} of shape {shape}, got {value._data.shape}")
    return value if value._data.dtype == dtype else ops.cast(value, dtype)


class RNNBase(Module):
    """The recurrent layers' common part: parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (``_reverse`` for the backward direction) of shapes (G·H, in), (G·H, R), (G·H,), (G·H,), for an
    LSTM with ``proj_size`` P > 0 also ``weight_hr_l{k}`` (P, H), where R = P if P else H is the size of h; and
    ``forward(input, hx) -> (output, h_n)`` exactly as PyTorch's (see ``forward``)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError(f"unknown recurrent mode {mode!r}; choose one of {sorted(_GATES)}")
        self.mode = mode
        self.input_size = _size(name, "input_size", input_size)
        self.hidden_size = _size(name, "hidden_size", hidden_size)
        self.num_layers = _size(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1], got {dropout!r}")
        if isinstance(proj_size, bool) or not isinstance(proj_size, (int, np.integer)) or proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections, got "
                             f"{proj_size!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout={dropout} and num_layers=1: dropout acts between layers, so it does "
                          f"nothing here", stacklevel=2)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), int(proj_size)
        dtype = np.dtype(dtype or get_default_dtype())
        directions = 2 if bidirectional else 1
        gates = _GATES[mode] * hidden_size
        self._flat_weights_names: list[str] = []
        h_size = self._h_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else h_size * directions
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                shapes = {"weight_ih": (gates, layer_input), "weight_hh": (gates, h_size)}
                if bias:
                    shapes.update(bias_ih=(gates,), bias_hh=(gates,))
                if proj_size:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                for kind, shape in shapes.items():
                    setattr(self, kind + suffix, Parameter(placeholders.empty(shape, dtype)))
                    self._flat_weights_names.append(kind + suffix)
        self.reset_parameters()

    @property
    def _h_size(self) -> int:
        """The size of h: proj_size with projections, else hidden_size (c is always hidden_size)."""
        return self.proj_size or self.hidden_size

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """PyTorch's cuDNN weight compaction: nothing to do here (kept so that PyTorch code runs)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction, [weight_ih, weight_hh, bias_ih, bias_hh] (without the biases if bias=False;
        then weight_hr with projections)."""
        per = (4 if self.bias else 2) + bool(self.proj_size)
        names = self._flat_weights_names
        return [[getattr(self, name) for name in names[k:k + per]] for k in range(0, len(names), per)]

    def _weights(self, layer: int, direction: int) -> tuple[Tensor | None, ...]:
        """(W_ih, W_hh, b_ih, b_hh) of one layer and direction (the biases None without bias), and W_hr with
        projections."""
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh") + (("weight_hr",) if self.proj_size else ())
        return tuple(getattr(self, kind + suffix, None) for kind in kinds)

    def forward(self, input: Any, hx: Any = None) -> tuple[Tensor, Any]:
        """input: (L, N, H_in), (N, L, H_in) if ``batch_first``, or unbatched (L, H_in); hx: (D·num_layers, N, R)
        (unbatched (D·num_layers, R); for LSTM a pair (h_0, c_0), c_0 (D·num_layers, N, H)), zeros if None; D = 2 if
        bidirectional; R = proj_size if given, else H.

        Returns output (L, N, D·R) (batch_first: (N, L, D·R); unbatched: (L, D·R)), the last layer's h_t of every
        step (both directions concatenated), and h_n (for LSTM (h_n, c_n)) of hx's shape: the final state of every
        layer and direction. Dropout is applied to the outputs of every layer but the last, in training only.
        """
        dtype = self.weight_ih_l0._data.dtype
        x = _input(self, input, dtype, self.input_size, 3)
        batched = x._data.ndim == 3
        if not batched:
            x = ops.reshape(x, (x._data.shape[0], 1, self.input_size))
        elif self.batch_first:
            x = ops.transpose(x, 0, 1)
        T, N = x._data.shape[:2]
        directions = 2 if self.bidirectional else 1
        count = self.num_layers * directions
        states = self._initial_states(hx, count, N, batched, dtype)
        finals: list[list[Tensor]] = [[] for _ in states]  # per state kind, one Tensor (N, ·) per layer·direction
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                out, last = _run_layer(self.mode, x, [kind[k] for kind in states], self._weights(layer, direction),
                                       reverse=bool(direction))
                outputs.append(out)
                for kind, state in zip(finals, last):
                    kind.append(state)
            x = outputs[0] if directions == 1 else ops.concatenate(outputs, axis=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        if not batched:
            output = ops.reshape(x, (T, x._data.shape[2]))
        else:
            output = ops.transpose(x, 0, 1) if self.batch_first else x
        h_n = [ops.reshape(ops.stack(kind, 0) if count > 1 else kind[0], (count, N, size) if batched else (count, size))
               for kind, size in zip(finals, self._state_sizes)]
        return output, (tuple(h_n) if self.mode == "LSTM" else h_n[0])

    def _initial_states(self, hx: Any, count: int, N: int, batched: bool, dtype: np.dtype) -> list[list[Tensor]]:
        """Per state kind (h; for LSTM h and c), the initial state (N, ·) of each layer·direction."""
        kinds = ("h_0", "c_0") if self.mode == "LSTM" else ("h_0",)
        if hx is None:
            return [[_wrap(np.zeros((N, size), dtype))] * count for size in self._state_sizes]
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{self!r}: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
        else:
            hx = (hx,)
        states = []
        for name, value, size in zip(kinds, hx, self._state_sizes):
            value = _state(self, name, value, (count, N, size) if batched else (count, size), dtype)
            if not batched:
                value = ops.reshape(value, (count, 1, size))
            states.append([value[k] for k in range(count)] if count > 1 else [ops.reshape(value, (N, -1))])
        return states

    @property
    def _state_sizes(self) -> tuple[int, ...]:
        """The sizes of the states: h's (and c's for LSTM)."""
        return (self._h_size, self.hidden_size) if self.mode == "LSTM" else (self.hidden_size,)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text

    def get_config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "num_layers": self.num_layers,
                "bias": self.bias, "batch_first": self.batch_first, "dropout": self.dropout,
                "bidirectional": self.bidirectional, **({"proj_size": self.proj_size} if self.proj_size else {})}


class RNN(RNNBase):
    """Elman RNN, h_t = tanh(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh) (or relu), over one or more layers.

    ``RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)``, positionally as well, as PyTorch's.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(_nonlinearity_mode(nonlinearity), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


class LSTM(RNNBase):
    """Long short-term memory over one or more layers: gates i, f, g, o (in that order in the weights'
    rows), c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t). ``forward(input, (h_0, c_0))`` returns
    ``output, (h_n, c_n)``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit over one or more layers: gates r, z, n (in that order in the weights' rows),
    n = tanh(x·W_inᵀ + b_in + r·(h·W_hnᵀ + b_hn)), h_t = (1 − z)·n + z·h_{t−1}."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


# ------------------------------------------------------------------------------------------ cells

class RNNCellBase(Module):
    """One step of a recurrent layer: parameters ``weight_ih`` (G·H, in), ``weight_hh`` (G·H, H), ``bias_ih``,
    ``bias_hh`` (G·H,); it runs the layer's kernel for a sequence of length one."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.mode = mode
        self.input_size = _size(name, "input_size", input_size)
        self.hidden_size = _size(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype = np.dtype(dtype or get_default_dtype())
        gates = _GATES[mode] * hidden_size
        self.weight_ih = Parameter(placeholders.empty((gates, input_size), dtype))
        self.weight_hh = Parameter(placeholders.empty((gates, hidden_size), dtype))
        self.bias_ih = Parameter(placeholders.empty(gates, dtype)) if bias else None
        self.bias_hh = Parameter(placeholders.empty(gates, dtype)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _uniform_init(self, self.hidden_size)

    def forward(self, input: Any, hx: Any = None) -> Any:
        """input: (N, H_in) or (H_in,); hx: (N, H) or (H,) (for LSTMCell a pair), zeros if None → h' (for
        LSTMCell (h', c')) of hx's shape."""
        dtype = self.weight_ih._data.dtype
        x = _input(self, input, dtype, self.input_size, 2)
        batched = x._data.ndim == 2
        N = x._data.shape[0] if batched else 1
        x = ops.reshape(x, (1, N, self.input_size))
        shape = (N, self.hidden_size) if batched else (self.hidden_size,)
        if self.mode == "LSTM":
            if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
                raise TypeError(f"{self!r}: hx must be a pair (h_0, c_0), got {type(hx).__name__}")
            hx = (None, None) if hx is None else hx
            states = [_state(self, name, value, shape, dtype) for name, value in zip(("h_0", "c_0"), hx)]
        else:
            states = [_state(self, "hx", hx, shape, dtype)]
        states = [s if batched else ops.reshape(s, (1, self.hidden_size)) for s in states]
        _, last = _run_layer(self.mode, x, states, (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh),
                             False)
        if self.mode == "LSTM":
            return ops.reshape(last[0], shape), ops.reshape(last[1], shape)
        return ops.reshape(last[0], shape)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if self.mode == "RNN_RELU":
            text += ", nonlinearity=relu"  # sic: PyTorch's repr has no quotes
        return text

    def get_config(self) -> dict[str, Any]:
        return {"input_size": self.input_size, "hidden_size": self.hidden_size, "bias": self.bias}


class RNNCell(RNNCellBase):
    """h' = tanh(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(_nonlinearity_mode(nonlinearity), input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


class LSTMCell(RNNCellBase):
    """One LSTM step: ``cell(x, (h, c)) -> (h', c')``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)


class GRUCell(RNNCellBase):
    """One GRU step: ``cell(x, h) -> h'``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)
