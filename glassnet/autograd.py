"""``gn.autograd.grad`` and the gradient-buffer interface between leaves and whoever owns their gradients.

The gradient buffer
-------------------
An optimizer keeps all of a param group's gradients in one flat array, so that its step is a handful of NumPy calls
for the whole model. Backward can write a parameter's first gradient straight into the parameter's slice of that
array, which saves a copy per parameter per step (for a large layer, a pass over its weights). Two sides share this
through the three functions below, and nothing else:

- the owner (the optimizer) offers a leaf a buffer: ``offer_buffer(leaf, view)`` (None withdraws it);
- the engine and the fused ops ask for it when they have a leaf's first gradient: ``gradient_buffer(leaf, dtype)``
  returns the buffer, now ``leaf.grad``'s array, to write into (``out=``), or None (then they return the gradient
  and the engine stores it);
- the owner asks whether a leaf's gradient is in its buffer: ``in_buffer(leaf)``.

The engine never looks at the optimizer: it sees the leaf's offered buffer and nothing more.

A parameter's post-accumulate hook (``Parameter.register_post_accumulate_grad_hook``, PyTorch's) is the other way
in while backward runs: ``hook(param)`` runs once the pass has completed ``param.grad``, so that an outer ring (a
data-parallel wrapper) can start sending a layer's gradients while backward works on the layers below, and the
engine knows nothing of what the hook does.
"""
from __future__ import annotations

from sys import getrefcount
from typing import Any, Sequence

import numpy as np

from .tensor import GraphError, Tensor, _backward_pass, _stamp, _wrap, no_grad, result

__all__ = ["grad", "backward", "Function", "FunctionCtx", "offer_buffer", "gradient_buffer", "in_buffer",
           "mark_changed", "other_references"]


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Any = None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool | None = None, materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) with respect to ``inputs``, as a tuple, without
    touching any ``.grad`` (``torch.autograd.grad``, first order). An input the outputs do not depend on is an
    error unless ``allow_unused`` (then None, or zeros with ``materialize_grads``)."""
    if create_graph:
        raise NotImplementedError("autograd.grad(create_graph=True): glassnet computes first-order gradients "
                                  "only (no gradients of gradients)")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"autograd.grad: {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise GraphError(f"autograd.grad: input {i} does not require grad")
    total: dict[int, np.ndarray] = {}
    for k, (output, weight) in enumerate(zip(outputs, grad_outputs)):
        keep = bool(retain_graph) or k < len(outputs) - 1
        for key, g in _backward_pass(output, weight, keep, inputs=inputs, collect=True).items():
            total[key] = total[key] + g if key in total else g
    found = []
    for i, t in enumerate(inputs):
        g = total.get(id(t))
        if g is None:
            if not (allow_unused or materialize_grads):
                raise GraphError(f"autograd.grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                                 f"pass allow_unused=True to get None for it")
            found.append(_wrap(np.zeros_like(t._data)) if materialize_grads else None)
        else:
            found.append(_wrap(np.array(g, dtype=t._data.dtype, copy=True)))
    return tuple(found)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
    """``t.backward(g)`` for each tensor and gradient in turn (``torch.autograd.backward``)."""
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(tensors)
    for k, (t, g) in enumerate(zip(tensors, grad_tensors)):
        t.backward(g, retain_graph=bool(retain_graph) or k < len(tensors) - 1, create_graph=create_graph,
                   inputs=inputs)


class FunctionCtx:
    """What a custom ``Function``'s forward hands its backward: ``ctx.save_for_backward(*tensors)`` and, in
    backward, ``ctx.saved_tensors``; ``ctx.needs_input_grad`` tells which inputs want a gradient."""

    saved_tensors: tuple = ()
    needs_input_grad: tuple = ()

    def save_for_backward(self, *tensors: Any) -> None:
        self.saved_tensors = tensors


class Function:
    """A custom differentiable op (``torch.autograd.Function``): subclass with static ``forward(ctx, *args)`` and
    ``backward(ctx, grad_output)`` (one gradient per argument, None for non-tensors), call ``MyOp.apply(*args)``.
    Both run without recording; one output tensor."""

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Tensor:
        raise NotImplementedError("a Function subclass defines forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        raise NotImplementedError("a Function subclass defines backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        with no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return one Tensor, got {type(out).__name__}")
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        saved = ctx.saved_tensors  # in the closure: what the in-place check and the freeing look at

        def backward(g: np.ndarray) -> tuple:
            ctx.saved_tensors = saved
            with no_grad():
                grads = cls.backward(ctx, _wrap(g))
            grads = grads if isinstance(grads, tuple) else (grads,)
            if len(grads) != len(args):
                raise ValueError(f"{cls.__name__}.backward returned {len(grads)} gradients for {len(args)} inputs")
            return tuple(None if grads[i] is None else np.asarray(grads[i]._data if isinstance(grads[i], Tensor)
                                                                  else grads[i]) for i in positions)
        backward.__qualname__ = f"{cls.__name__}.backward"  # grad_fn: <{cls.__name__}Backward0>
        return result(out._data, tuple(args[i] for i in positions), backward)


# mark_changed(array): record that ``array`` (and every tensor whose memory it holds) was changed in place outside
# the Tensor ops, e.g. by an optimizer step on its flat buffer; a backward through a graph recorded before, which
# saved one of those tensors, then raises instead of using the new values (PyTorch's version counter). It is the
# engine's own stamp function under its public name (no wrapper: the optimizer calls it every step).
mark_changed = _stamp


def offer_buffer(leaf: Tensor, buffer: np.ndarray | None) -> bool:
    """Offer ``buffer`` (an array of the leaf's shape) for the leaf's first gradient, or withdraw the offer (None).
    Returns whether the leaf takes buffers (Parameters do; a plain tensor keeps its own gradients)."""
    try:
        leaf._grad_store = buffer
    except AttributeError:
        return False
    return True


def gradient_buffer(leaf: Tensor, dtype: np.dtype) -> np.ndarray | None:
    """The leaf's offered buffer, to write the leaf's first gradient into (it is then ``leaf.grad``'s array and the
    writer returns None for the leaf), or None when it cannot be used.

    It can be used when the leaf has no gradient yet, ``dtype`` is the buffer's, and nobody else holds the buffer:
    after ``g = p.grad; opt.zero_grad()`` the user's ``g`` still is the buffer, and writing into it would change
    ``g`` behind the user's back (PyTorch's AccumulateGrad reuses a buffer only when its use count says so, too).
    Call it with no reference to the buffer of your own, or the buffer does not look free.
    """
    store = leaf._grad_store
    if store is None or leaf.grad is not None or store.dtype != dtype or other_references(store) != 1:
        return None  # the one other reference that may exist is the leaf's own
    leaf.grad = _wrap(store)
    return store


def in_buffer(leaf: Tensor) -> bool:
    """Whether ``leaf.grad`` is the buffer offered to the leaf (the owner then finds the gradient in place)."""
    grad = leaf.grad
    return grad is not None and grad._data is leaf._grad_store


# CPython-specific, in this one place: whether anybody still holds an array is read from its reference count. The
# gradient buffer (above) and the sequence kernels' scratch arrays (nn/workspace.py) reuse an array only when nothing
# but its known holder references it, so that no Tensor, view or user variable sees its values change. The count
# that getrefcount reports includes references of the call itself (its argument, the caller's name), and their
# number depends on the interpreter, so it is measured once, from a function shaped like every caller.
def other_references(array: np.ndarray) -> int:
    """How many references to ``array`` exist besides the calling function's one local name for it (e.g. 1: only
    the object that keeps it, such as a leaf or a pool). CPython-specific; see the comment above."""
    return getrefcount(array) - _CALL_REFERENCES


def _call_references() -> int:
    array = np.empty(0)  # held by this local name only: what other_references reports is the call's own
    return other_references(array)


_CALL_REFERENCES = 0  # while measuring, other_references reports getrefcount's own count
_CALL_REFERENCES = _call_references()
