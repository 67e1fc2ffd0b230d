"""Linear algebra: matmul (NumPy's and PyTorch's broadcasting rules), mm, bmm, dot, outer, einsum."""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from ..tensor import ShapeError, Tensor, as_tensor, result
from ._args import operands

__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum"]


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands, batched broadcasting)."""
    a, b = operands(a, b)
    A, B = a._data, b._data
    try:
        out = A @ B
    except ValueError:
        inner = B.shape[-2] if B.ndim > 1 else (B.shape[0] if B.ndim else None)
        raise ShapeError(f"matmul: shapes {A.shape} @ {B.shape} do not fit: the last dimension of the first "
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


def _need(name: str, t: Any, ndim: int) -> Tensor:
    t = as_tensor(t)
    if t._data.ndim != ndim:
        raise ShapeError(f"{name}: expected {ndim}-D tensors, got shape {t._data.shape}")
    return t


def mm(a: Any, b: Any) -> Tensor:
    """(n, m) @ (m, p) → (n, p)."""
    return matmul(_need("mm", a, 2), _need("mm", b, 2))


def bmm(a: Any, b: Any) -> Tensor:
    """(batch, n, m) @ (batch, m, p) → (batch, n, p)."""
    a, b = _need("bmm", a, 3), _need("bmm", b, 3)
    if a._data.shape[0] != b._data.shape[0]:
        raise ShapeError(f"bmm: batch sizes differ: {a._data.shape} and {b._data.shape}")
    return matmul(a, b)


def dot(a: Any, b: Any) -> Tensor:
    """Σ aᵢbᵢ of two 1-D tensors of one length."""
    a, b = _need("dot", a, 1), _need("dot", b, 1)
    if a._data.shape != b._data.shape:
        raise ShapeError(f"dot: lengths differ: {a._data.shape} and {b._data.shape}")
    return matmul(a, b)


def outer(a: Any, b: Any) -> Tensor:
    """aᵢbⱼ of two 1-D tensors, (n,) × (m,) → (n, m)."""
    a, b = _need("outer", a, 1), _need("outer", b, 1)
    return matmul(a.reshape(-1, 1), b.reshape(1, -1))


def _spelled_out(equation: str, ndims: list[int]) -> tuple[list[str], str]:
    """The subscripts of each operand and of the output, with ``...`` replaced by letters of its own."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    subs = inputs.split(",")
    if len(subs) != len(ndims):
        raise ValueError(f"einsum: {equation!r} names {len(subs)} operands, got {len(ndims)}")
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in equation]
    widest = max((n - len(s.replace("...", "")) for s, n in zip(subs, ndims) if "..." in s), default=0)
    fill = "".join(spare[:widest])
    subs = [s.replace("...", fill[widest - (n - len(s.replace("...", ""))):]) for s, n in zip(subs, ndims)]
    if not arrow:
        letters = "".join(subs)
        output = fill + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in fill))
    else:
        output = output.replace("...", fill)
    for s, n in zip(subs, ndims):
        if len(s) != n:
            raise ShapeError(f"einsum: subscripts {s!r} do not fit an operand with {n} dims")
        if len(set(s)) != len(s):
            raise NotImplementedError(f"einsum: a letter repeated within one operand ({s!r}, a diagonal) is not "
                                      f"supported")
    return subs, output


def einsum(equation: str, *tensors: Any) -> Tensor:
    """Einstein summation, e.g. ``einsum("bqd,bkd->bqk", q, k)``; each operand's gradient is the einsum of the
    upstream gradient with the other operands, broadcast over the letters only that operand has."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = [as_tensor(t) for t in tensors]
    if len(tensors) == 2:
        tensors = list(operands(*tensors))
    subs, output = _spelled_out(equation, [t._data.ndim for t in tensors])
    spelled = ",".join(subs) + "->" + output
    out = np.einsum(spelled, *[t._data for t in tensors], optimize=len(tensors) > 2)

    def backward(g: np.ndarray) -> tuple:
        grads = []
        for i, (t, sub) in enumerate(zip(tensors, subs)):
            if not t.requires_grad:
                grads.append(None)
                continue
            others = [(s, tensors[j]._data) for j, s in enumerate(subs) if j != i]
            known = set(output).union(*[set(s) for s, _ in others])
            kept = "".join(c for c in sub if c in known)
            grad = np.einsum(",".join([output] + [s for s, _ in others]) + "->" + kept, g, *[x for _, x in others])
            shape = tuple(n if c in known else 1 for c, n in zip(sub, t._data.shape))
            grads.append(np.broadcast_to(grad.reshape(shape), t._data.shape))
        return tuple(grads)
    return result(out, tuple(tensors), backward)
