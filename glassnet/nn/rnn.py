"""Recurrent layers with PyTorch's names, parameter layout and semantics: ``RNN`` (tanh/relu), ``LSTM``, ``GRU`` and
their one-step cells ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Speed: a recurrent step on small sizes is a handful of tiny array operations, so the cost is per op, not per flop.
Each layer and direction is therefore ONE graph node for the whole sequence (``rnn_layer``, ``lstm_layer``,
``gru_layer``): each step is one GEMM for the whole gate set, input and biases included, and a few elementwise ops
in place; backpropagation through time is written out beside the forward loop, and the weight gradients are one GEMM
each over all steps. A cell is the same kernel run for one step.

Shapes: the layers hand the kernels x (T, N, I) time-major and states (N, H); W_ih (G·H, I), W_hh (G·H, H) with G
gates in PyTorch's order (LSTM i, f, g, o; GRU r, z, n). Inside, the kernels work on transposed states (see
"kernels" below).
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
#
# The three kernels share one frame, with states as columns (N is the last axis everywhere):
# - Z (T + 1, P + I (+ 1), N) holds each step's input [h_{t∓1}; x_t; 1] in one slot (``_step_inputs``): a step
#   reads its slot and writes h_t straight into the h rows of the slot the next step reads. So one GEMM of the
#   stacked weights [W_hh | W_ih | b_ih + b_hh] (``_step_weights``) with the slot gives all of a step's
#   pre-activations, written in place: no separate input projection to add, no bias add, no temporary.
# - Each gate is then a contiguous (H, N) block for the elementwise ops (views into an (N, G·H) row layout cost
#   ~1 µs more per op at these sizes), and the kernel orders the gate blocks (``*_ORDER``) so that the ops of a
#   step work on as few, as large blocks as possible: the sigmoid gates side by side, products of pairs in one op.
# - σ(a) = ½·tanh(a/2) + ½: the halving is folded into the weights' sigmoid rows (exact: a power of two), so one
#   tanh covers every gate and cannot overflow.
# - The backward first forms, over all steps at once, the factors that each step's gradients are its incoming
#   gradient times (a few ops on (T, H, N) arrays instead of many small ones per step); a step of backpropagation
#   through time is then a few broadcast products and one GEMM, W_hhᵀ · ∂a. The weight gradients are one GEMM
#   each over all steps (``_weight_grads``), from the ∂a of all steps in PyTorch's gate order.

_LSTM_ORDER = [3, 0, 1, 2]  # the gate blocks o, i, f, g: the sigmoids o, i, f side by side, g last
_LSTM_SCALE = np.array([0.5, 0.5, 0.5, 1.0])
_LSTM_BLOCKS = [1, 2, 3, 0]  # where PyTorch's gates i, f, g, o are in the kernel's order
_GRU_ORDER = [2, 0, 1]      # h·W_hnᵀ + b_hn first, then the sigmoids r, z
_GRU_SCALE = np.array([1.0, 0.5, 0.5])
_GRU_HH_BLOCKS, _GRU_IH_BLOCKS = [1, 2, 0], [1, 2, 3]  # PyTorch's r, z, n among the backward's ∂hn, ∂a_r, ∂a_z, ∂a_n


def _steps(T: int, reverse: bool) -> range:
    """The time steps in processing order."""
    return range(T - 1, -1, -1) if reverse else range(T)


def _slots(A: np.ndarray, reverse: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of A (T + 1, …), the slots of a recurrence that each step t reads one of and writes the next one
    processed: (the slot the first step reads, what step t reads (T, …), what step t writes (T, …))."""
    T, r = len(A) - 1, int(reverse)
    return A[T * r], A[r:T + r], A[1 - r:T + 1 - r]


def _step_inputs(X: np.ndarray, h0: np.ndarray, bias: bool, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    """Z (T + 1, P + I (+ 1), N) from x (T, N, I) and h0 (N, P), as two views: ``inputs`` (T, P + I (+ 1), N), step
    t's [h_{t∓1}; x_t; 1], and ``states`` (T, P, N), where step t writes h_t."""
    T, N, I = X.shape
    P = h0.shape[1]
    Z = empty((T + 1, P + I + bias, N), X.dtype)
    first, inputs, outputs = _slots(Z, reverse)
    inputs[:, P:P + I] = X.transpose(0, 2, 1)
    if bias:
        Z[:, P + I] = 1
    first[:P] = h0.T
    return inputs, outputs[:, :P]


def _blocks(A: np.ndarray, order: list[int]) -> np.ndarray:
    """A (G·H, …) with its G row blocks (PyTorch's gates) in the kernel's ``order``: a new array."""
    return A.reshape(len(order), -1, *A.shape[1:])[order].reshape(A.shape)


def _step_weights(w_hh: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, order: list[int],
                  scale: np.ndarray | None = None) -> np.ndarray:
    """[W_hh | W_ih | b_ih + b_hh] (G·H, P + I (+ 1)), the weights of one step on a slot of Z, gate blocks in
    ``order``, each times its ``scale``."""
    parts = [w_hh._data, w_ih._data] + ([] if b_ih is None else [(b_ih._data + b_hh._data)[:, None]])
    W = _blocks(np.concatenate(parts, axis=1), order)
    if scale is not None:
        W.reshape(len(order), -1, W.shape[1])[...] *= scale.astype(W.dtype)[:, None, None]
    return W


def _transposed(A: np.ndarray) -> np.ndarray:
    """A (T, a, b) as a contiguous (T, b, a) array: between the layer's (T, N, ·) and the kernel's (T, ·, N)."""
    out = empty((A.shape[0], A.shape[2], A.shape[1]), A.dtype)
    np.copyto(out, A.transpose(0, 2, 1))
    return out


def _step_grads(x: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None, dA: np.ndarray,
                inputs: np.ndarray, hh: list[int], ih: list[int]) -> list:
    """[dx, dW_ih, dW_hh, db_ih, db_hh] (biases only when present) from dA (T, R·H, N), the gradients of the
    kernel's R pre-activation blocks of every step, and ``inputs`` (T, P + I (+ 1), N), the slots the steps read:
    one GEMM Σ_t dA_t·[h_{t∓1}; x_t; 1]ᵀ gives every weight's gradient (h0's part included). ``hh`` and ``ih``
    list the blocks of dA that are PyTorch's gates of W_hh·h + b_hh and of W_ih·x + b_ih."""
    T, RH, N = dA.shape
    H, P, I = w_hh._data.shape[0] // len(hh), w_hh._data.shape[1], w_ih._data.shape[1]
    A = empty((RH, T, N), dA.dtype)
    np.copyto(A, dA.transpose(1, 0, 2))
    A = A.reshape(RH, T * N)
    dW = np.matmul(A, _transposed(inputs).reshape(T * N, -1)).reshape(RH // H, H, -1)
    dx = None
    if x.requires_grad:
        W_in = np.zeros((RH // H, H, I), dA.dtype)
        W_in[ih] = w_ih._data.reshape(len(ih), H, I)
        dx = np.matmul(A.T, W_in.reshape(RH, I)).reshape(x._data.shape)
    grads = [dx, dW[ih, :, P:P + I].reshape(-1, I) if w_ih.requires_grad else None,
             dW[hh, :, :P].reshape(-1, P) if w_hh.requires_grad else None]
    if b_ih is not None:
        grads += [dW[ih, :, P + I].reshape(-1) if b_ih.requires_grad else None,
                  dW[hh, :, P + I].reshape(-1) if b_hh.requires_grad else None]
    return grads


def _parents(x: Tensor, states: Sequence[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
             b_hh: Tensor | None) -> tuple[Tensor, ...]:
    biases = () if b_ih is None else (b_ih, b_hh)
    return (x, *states, w_ih, w_hh, *biases)


def _with_states(grads: list, *state_grads: np.ndarray | None) -> list:
    """Put the initial states' gradients after x's, in the order of ``_parents``."""
    return [grads[0], *state_grads, *grads[1:]]


def rnn_layer(x: Tensor, h0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
              nonlinearity: str = "tanh", reverse: bool = False) -> Tensor:
    """Elman RNN over a sequence, one node: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh).

    x: (T, N, I), h0: (N, H) → (T, N, H), the h_t in time order (``reverse`` runs from the last step to the first).
    A step is one GEMM straight into h_t's rows of Z and the activation in place.
    """
    X = x._data
    T = X.shape[0]
    W = _step_weights(w_hh, w_ih, b_ih, b_hh, [0])
    inputs, states = _step_inputs(X, h0._data, b_ih is not None, reverse)
    relu = nonlinearity == "relu"
    for t in _steps(T, reverse):
        h = np.matmul(W, inputs[t], out=states[t])
        if relu:
            np.maximum(h, 0, out=h)
        else:
            np.tanh(h, out=h)
    Y = _transposed(states)
    first = T - 1 if reverse else 0

    def backward(gY: np.ndarray) -> list:
        D = empty(states.shape, X.dtype)  # act'(a) in terms of h = act(a), all steps at once: h > 0, or 1 − h²
        if relu:
            np.greater(states, 0, out=D)
        else:
            np.multiply(states, states, out=D)
            np.subtract(1, D, out=D)
        GH = _transposed(gY)  # ∂/∂h_t from above, then all of it
        dA = empty(states.shape, X.dtype)
        W_hhT = np.ascontiguousarray(w_hh._data.T)
        dh, dh_buffer = None, np.empty(h0._data.shape[::-1], X.dtype)
        for t in _steps(T, not reverse):
            g = GH[t] if dh is None else np.add(GH[t], dh, out=GH[t])
            np.multiply(g, D[t], out=dA[t])
            dh = np.matmul(W_hhT, dA[t], out=dh_buffer) if t != first or h0.requires_grad else None
        grads = _step_grads(x, w_ih, w_hh, b_ih, b_hh, dA, inputs, [0], [0])
        return _with_states(grads, None if dh is None else dh.T)
    return result(Y, _parents(x, (h0,), w_ih, w_hh, b_ih, b_hh), backward)


def lstm_layer(x: Tensor, h0: Tensor, c0: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
               b_hh: Tensor | None, w_hr: Tensor | None = None, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """LSTM over a sequence, one node. With [i, f, g, o] = [σ, σ, tanh, σ](x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh):
    c_t = f·c_{t−1} + i·g, h_t = o·tanh(c_t), or with a projection W_hr (P, H): h_t = (o·tanh(c_t))·W_hrᵀ.

    x: (T, N, I), h0: (N, P), c0: (N, H) (P = H without projection) → (the h_t in time order (T, N, P), the final
    cell state (N, H)): two views of the node's one output array.

    A step: one GEMM into the gates (o, i, f, g) (T, 4H, N), one tanh over all four, ½·s + ½ on the sigmoid
    rows, then c_t and h_t; c has slots like Z's (c_{t∓1} read, c_t written).
    """
    X, W_hh = x._data, w_hh._data
    T, N, _ = X.shape
    H, P = W_hh.shape[0] // 4, W_hh.shape[1]
    dtype = X.dtype
    W = _step_weights(w_hh, w_ih, b_ih, b_hh, _LSTM_ORDER, _LSTM_SCALE)
    inputs, states = _step_inputs(X, h0._data, b_ih is not None, reverse)
    S = empty((T, 4 * H, N), dtype)        # pre-activations, then the gates o, i, f, g in place
    S4, sigmoids = S.reshape(T, 4, H, N), S[:, :3 * H]
    gate_o, gate_i, gate_f, gate_g = S4.transpose(1, 0, 2, 3)
    c_first, c_prev, C = _slots(empty((T + 1, H, N), dtype), reverse)
    c_first[...] = c0._data.T
    TC = empty((T, H, N), dtype)           # tanh(c_t)
    M = states if w_hr is None else empty((T, H, N), dtype)  # o·tanh(c_t): h_t itself without projection
    ig, half = np.empty((H, N), dtype), np.array(0.5, dtype)  # a 0-d array: a Python float costs ~0.4 µs an op
    for t in _steps(T, reverse):
        s = np.matmul(W, inputs[t], out=S[t])
        np.tanh(s, out=s)
        a = sigmoids[t]
        np.multiply(a, half, out=a)
        np.add(a, half, out=a)
        c = np.multiply(gate_f[t], c_prev[t], out=C[t])
        c += np.multiply(gate_i[t], gate_g[t], out=ig)
        np.multiply(gate_o[t], np.tanh(c, out=TC[t]), out=M[t])
        if w_hr is not None:
            np.matmul(w_hr._data, M[t], out=states[t])
    out = empty((T * N * P + N * H,), dtype)
    hs, c_n = out[:T * N * P].reshape(T, N, P), out[T * N * P:].reshape(N, H)
    hs[...] = states.transpose(0, 2, 1)
    c_n[...] = C[0 if reverse else T - 1].T
    first = T - 1 if reverse else 0

    def backward(g_out: np.ndarray) -> list:
        D = np.subtract(1, S, out=empty(S.shape, dtype))  # the gates' derivatives, all steps at once:
        D *= S                                             # σ' = s(1 − s) for o, i, f,
        D_g = D.reshape(T, 4, H, N)[:, 3]
        np.multiply(gate_g, gate_g, out=D_g)
        np.subtract(1, D_g, out=D_g)                       # tanh' = 1 − g² for g
        dTC = np.multiply(TC, TC, out=empty(TC.shape, dtype))
        np.subtract(1, dTC, out=dTC)                       # tanh' at c_t
        GH = _transposed(g_out[:T * N * P].reshape(T, N, P))  # ∂/∂h_t from above, then all of it (for dW_hr)
        dA = empty(S.shape, dtype)                         # ∂/∂a of the gates o, i, f, g of each step
        d_o, d_i, d_f, d_g = dA.reshape(T, 4, H, N).transpose(1, 0, 2, 3)
        W_hhT = np.ascontiguousarray(_blocks(W_hh, _LSTM_ORDER).T)
        W_hrT = None if w_hr is None else np.ascontiguousarray(w_hr._data.T)
        dc = np.ascontiguousarray(g_out[T * N * P:].reshape(N, H).T)  # ∂c_t, then ∂c_{t−1}, in place
        gc, dh, dh_buffer = np.empty((H, N), dtype), None, np.empty((P, N), dtype)
        for t in _steps(T, not reverse):
            gh = GH[t] if dh is None else np.add(GH[t], dh, out=GH[t])
            gm = gh if w_hr is None else np.matmul(W_hrT, gh)  # ∂/∂(o·tanh(c_t))
            np.multiply(gm, gate_o[t], out=gc)
            gc *= dTC[t]
            gc += dc                                       # all of ∂c_t
            np.multiply(gm, TC[t], out=d_o[t])
            np.multiply(gc, gate_g[t], out=d_i[t])
            np.multiply(gc, c_prev[t], out=d_f[t])
            np.multiply(gc, gate_i[t], out=d_g[t])
            np.multiply(gc, gate_f[t], out=dc)
            a = dA[t]
            a *= D[t]                                      # through σ and tanh
            dh = np.matmul(W_hhT, a, out=dh_buffer) if t != first or h0.requires_grad else None
        grads = _step_grads(x, w_ih, w_hh, b_ih, b_hh, dA, inputs, _LSTM_BLOCKS, _LSTM_BLOCKS)
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

    A step: one GEMM into (hn, r, z) (hn's rows without the input and with b_hn alone), then n and h_t; xn of all
    steps is one GEMM before the loop.
    """
    X, W_hh = x._data, w_hh._data
    T, N, I = X.shape
    H = W_hh.shape[1]
    dtype = X.dtype
    bias = b_ih is not None
    W = _step_weights(w_hh, w_ih, b_ih, b_hh, _GRU_ORDER, _GRU_SCALE)
    W[:H, H:H + I] = 0                                # hn = W_hn·h + b_hn
    if bias:
        W[:H, H + I] = b_hh._data[2 * H:]
    inputs, states = _step_inputs(X, h0._data, bias, reverse)
    W_xn = w_ih._data[2 * H:] if not bias else np.concatenate([w_ih._data[2 * H:], b_ih._data[2 * H:, None]], 1)
    XN = np.matmul(W_xn, inputs[:, H:], out=empty((T, H, N), dtype))  # xn of every step
    S = empty((T, 3 * H, N), dtype)                   # hn, then the gates r, z
    S3, sigmoids, h_prev = S.reshape(T, 3, H, N), S[:, H:], inputs[:, :H]
    NN = empty((T, H, N), dtype)                      # n
    one = np.array(1, dtype)
    half = np.array(0.5, dtype)
    for t in _steps(T, reverse):
        np.matmul(W, inputs[t], out=S[t])
        a = sigmoids[t]
        np.tanh(a, out=a)
        np.multiply(a, half, out=a)
        np.add(a, half, out=a)
        hn, r, z = S3[t]
        n = np.multiply(r, hn, out=NN[t])
        n += XN[t]
        np.tanh(n, out=n)
        h = np.subtract(h_prev[t], n, out=states[t])
        h *= z
        h += n
    Y = _transposed(states)
    first = T - 1 if reverse else 0

    def backward(gY: np.ndarray) -> list:
        D_rz = np.subtract(one, sigmoids, out=empty(sigmoids.shape, dtype))  # the derivatives, all steps at once:
        D_rz *= sigmoids                                   # σ' = s(1 − s) for r, z,
        D_n = np.multiply(NN, NN, out=empty(NN.shape, dtype))
        np.subtract(one, D_n, out=D_n)                     # tanh' = 1 − n² for n
        h_minus_n = np.subtract(h_prev, NN, out=empty(NN.shape, dtype))
        GH = _transposed(gY)                               # ∂/∂h_t from above, then all of it
        dS = empty((T, 4 * H, N), dtype)                   # per step ∂/∂[hn, a_r, a_z, a_n] (a_n = xn + r·hn)
        d_hn, d_r, d_z, d_n = dS.reshape(T, 4, H, N).transpose(1, 0, 2, 3)
        d_rz, hidden = dS[:, H:3 * H], dS[:, :3 * H]      # hidden: ∂hn, ∂a_r, ∂a_z, W's row order
        hn, r, z = S3.transpose(1, 0, 2, 3)
        W_hhT = np.ascontiguousarray(_blocks(W_hh, _GRU_ORDER).T)
        dh, dh_buffer, direct = None, np.empty((H, N), dtype), np.empty((H, N), dtype)
        for t in _steps(T, not reverse):
            gh = GH[t] if dh is None else np.add(GH[t], dh, out=GH[t])
            np.multiply(gh, h_minus_n[t], out=d_z[t])
            ghz = np.multiply(gh, z[t], out=direct)       # h_{t−1}'s direct path, z·∂h_t
            a_n = np.subtract(gh, ghz, out=d_n[t])         # (1 − z)·∂h_t
            a_n *= D_n[t]
            np.multiply(a_n, r[t], out=d_hn[t])
            np.multiply(a_n, hn[t], out=d_r[t])
            a_rz = d_rz[t]
            a_rz *= D_rz[t]
            if t != first or h0.requires_grad:
                dh = np.matmul(W_hhT, hidden[t], out=dh_buffer)
                dh += ghz
            else:
                dh = None
        grads = _step_grads(x, w_ih, w_hh, b_ih, b_hh, dS.reshape(T, 4 * H, N), inputs, _GRU_HH_BLOCKS,
                            _GRU_IH_BLOCKS)
        return _with_states(grads, None if dh is None else dh.T)
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
