"""The autograd API: autograd.grad, retain_grad, grad_fn names, is_leaf, grad modes, backward(inputs=)."""
import threading

import numpy as np
import pytest
import torch

import glassnet as gn




def test_autograd_grad_returns_gradients_without_touching_grad_like_torch(leaf_pair, assert_same):
    (x, tx), (w, tw) = leaf_pair([1.0, -2.0, 0.5]), leaf_pair([0.3, 0.2, -0.1])
    y, ty = (x * w).exp().sum(), (tx * tw).exp().sum()
    gx, gw = gn.autograd.grad(y, [x, w])
    tgx, tgw = torch.autograd.grad(ty, [tx, tw])
    assert_same(gx, tgx)
    assert_same(gw, tgw)
    assert x.grad is None and w.grad is None and isinstance(gx, gn.Tensor)
    with pytest.raises(gn.GraphError, match="second time"):  # the graph was freed, as in torch
        gn.autograd.grad(y, [x])


def test_autograd_grad_of_a_non_leaf_with_grad_outputs_and_several_outputs(leaf_pair, assert_same):
    (x, tx) = leaf_pair([[1.0, 2.0], [3.0, 4.0]])
    h, th = x * 3, tx * 3
    a, ta = h.tanh(), th.tanh()
    b, tb = (h * h).sum(1), (th * th).sum(1)
    weight_a, weight_b = np.full((2, 2), 0.5), np.array([1.0, -1.0])
    (gh,) = gn.autograd.grad([a, b], h, grad_outputs=[gn.tensor(weight_a), gn.tensor(weight_b)], retain_graph=True)
    (tgh,) = torch.autograd.grad([ta, tb], th, grad_outputs=[torch.tensor(weight_a), torch.tensor(weight_b)],
                                 retain_graph=True)
    assert_same(gh, tgh)
    (gx,) = gn.autograd.grad(a.sum(), x)
    (tgx,) = torch.autograd.grad(ta.sum(), tx)
    assert_same(gx, tgx)


def test_autograd_grad_unused_inputs_and_create_graph(leaf_pair):
    (x, _), (z, _) = leaf_pair([1.0]), leaf_pair([2.0])
    y = x * 2
    with pytest.raises(gn.GraphError, match="allow_unused"):
        gn.autograd.grad(y.sum(), [x, z], retain_graph=True)
    gx, gz = gn.autograd.grad(y.sum(), [x, z], allow_unused=True, retain_graph=True)
    assert gz is None and gx.tolist() == [2.0]
    (gz,) = gn.autograd.grad(y.sum(), [z], allow_unused=True, materialize_grads=True, retain_graph=True)
    assert gz.tolist() == [0.0]
    with pytest.raises(NotImplementedError, match="first-order"):
        gn.autograd.grad(y.sum(), [x], create_graph=True)
    with pytest.raises(NotImplementedError, match="first-order"):
        y.sum().backward(create_graph=True)


def test_retain_grad_keeps_a_non_leaf_gradient_like_torch(leaf_pair, assert_same):
    (x, tx) = leaf_pair([1.0, 2.0])
    h, th = x * x, tx * tx
    h.retain_grad()
    th.retain_grad()
    assert h.retains_grad and th.retains_grad
    (h.sin() * 3).sum().backward()
    (th.sin() * 3).sum().backward()
    assert_same(h.grad, th.grad)
    assert_same(x.grad, tx.grad)
    other = x * 2
    other.sum().backward()
    assert other.grad is None  # not asked to retain


def test_grad_fn_names_and_is_leaf_like_torch(leaf_pair):
    (x, tx) = leaf_pair([1.0, 2.0])
    cases = [(lambda a: a * a, "MulBackward0"), (lambda a: a + a, "AddBackward0"), (lambda a: a.sum(), "SumBackward0"),
             (lambda a: a.exp(), "ExpBackward0"), (lambda a: a.tanh(), "TanhBackward0"),
             (lambda a: a.sigmoid(), "SigmoidBackward0"), (lambda a: a / 2, "DivBackward0"),
             (lambda a: a.mean(), "MeanBackward0"), (lambda a: -a, "NegBackward0"), (lambda a: a.log(), "LogBackward0"),
             (lambda a: a.sqrt(), "SqrtBackward0"), (lambda a: a.relu(), "ReluBackward0"),
             (lambda a: a.reshape(2, 1), "ViewBackward0"), (lambda a: a.pow(2), "PowBackward0")]
    for fn, name in cases:
        assert type(fn(tx).grad_fn).__name__.startswith(name[:-1]), (name, type(fn(tx).grad_fn).__name__)
        assert fn(x).grad_fn.name() == name
        assert repr(fn(x).grad_fn).startswith(f"<{name} object")
    assert x.grad_fn is None and x.is_leaf and not (x * 2).is_leaf
    c = gn.tensor([1.0]) * 2
    assert c.is_leaf and c.grad_fn is None  # no input requires grad: a leaf, as in torch
    assert (x * 2).grad_fn.next_functions == ((None, 0),)


def test_grad_modes_like_torch(leaf_pair):
    (x, _) = leaf_pair([1.0])
    with gn.no_grad():
        assert not (x * 2).requires_grad and not gn.is_grad_enabled()
        with gn.enable_grad():
            assert (x * 2).requires_grad
    with gn.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert gn.is_grad_enabled()
    gn.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        gn.set_grad_enabled(True)
    with gn.inference_mode():
        assert not (x * 2).requires_grad and gn.is_inference_mode_enabled()
    assert not gn.is_inference_mode_enabled()
    with gn.inference_mode(False):
        assert (x * 2).requires_grad

    @gn.inference_mode()
    def predict(t):
        return t * 2

    @gn.no_grad()
    def evaluate(t):
        return t * 2
    assert not predict(x).requires_grad and not evaluate(x).requires_grad and (x * 2).requires_grad


def test_grad_mode_is_per_thread():
    seen = []
    with gn.no_grad():
        thread = threading.Thread(target=lambda: seen.append(gn.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_backward_with_inputs_accumulates_only_into_those(leaf_pair, assert_same):
    (x, tx), (w, tw) = leaf_pair([1.0, 2.0]), leaf_pair([3.0, 4.0])
    (x * w).sum().backward(inputs=[x])
    (tx * tw).sum().backward(inputs=[tx])
    assert_same(x.grad, tx.grad)
    assert w.grad is None and tw.grad is None


def test_detach_and_detach_(leaf_pair):
    (x, _) = leaf_pair([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d._data, y._data)
    y.detach_()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    with pytest.raises(gn.GraphError, match="detach"):
        (x * 2).requires_grad_(False)


def test_the_gradient_buffer_interface():
    """A leaf's first gradient goes into the buffer offered to it, unless someone still holds that buffer."""
    from glassnet.autograd import gradient_buffer, in_buffer, offer_buffer
    p = gn.nn.Parameter(gn.zeros(3))
    assert offer_buffer(p, np.full(3, -1.0, dtype=np.float32))  # held by the leaf only, as an optimizer does
    (p * gn.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert in_buffer(p) and p.grad.tolist() == [1.0, 2.0, 3.0]
    buffer_id = id(p.grad._data)
    (p * 2).sum().backward()  # a second contribution adds in place, into the same buffer
    assert in_buffer(p) and id(p.grad._data) == buffer_id and p.grad.tolist() == [3.0, 4.0, 5.0]
    held = p.grad
    p.grad = None
    (p * 10).sum().backward()  # the caller still holds the buffer (through `held`): it is not reused
    assert held.tolist() == [3.0, 4.0, 5.0] and p.grad.tolist() == [10.0] * 3 and not in_buffer(p)
    del held
    p.grad = None
    assert gradient_buffer(p, np.dtype(np.float64)) is None  # another dtype: not used
    assert gradient_buffer(p, np.dtype(np.float32)) is not None and in_buffer(p)
    plain = gn.zeros(2, requires_grad=True)
    assert not offer_buffer(plain, np.zeros(2)) and not in_buffer(plain)


def test_other_references_counts_what_holds_an_array_besides_the_callers_name():
    """The one reference-count test, shared by the gradient buffer and the sequence kernels' workspace."""
    from glassnet.autograd import other_references
    array = np.zeros(3)
    assert other_references(array) == 0
    holders = [array, array]
    view = array[1:]  # a view holds its base
    assert other_references(array) == 3
    del holders, view
    assert other_references(array) == 0


def test_an_optimizer_offers_its_flat_buffer_and_finds_the_gradients_there():
    model = gn.nn.Sequential(gn.nn.Linear(3, 4), gn.nn.Tanh(), gn.nn.Linear(4, 1))
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    model(gn.ones(5, 3)).sum().backward()
    flat = opt._flat[0].grad
    assert all(gn.autograd.in_buffer(p) and p.grad._data.base is flat for p in model.parameters())


def test_a_custom_function_like_the_pytorch_tutorials_legendre_polynomial(leaf_pair, assert_same):
    def make(lib):
        class LegendrePolynomial3(lib.autograd.Function):
            @staticmethod
            def forward(ctx, input):
                ctx.save_for_backward(input)
                return 0.5 * (5 * input ** 3 - 3 * input)

            @staticmethod
            def backward(ctx, grad_output):
                input, = ctx.saved_tensors
                return grad_output * 1.5 * (5 * input ** 2 - 1)
        return LegendrePolynomial3

    (x, tx), (a, ta) = leaf_pair([0.3, -0.7, 1.2]), leaf_pair([0.5, 2.0, -1.0])
    y, ty = make(gn).apply(x * a), make(torch).apply(tx * ta)
    assert y.grad_fn.name() == "LegendrePolynomial3Backward0"
    y.sum().backward()
    ty.sum().backward()
    assert_same(y, ty)
    assert_same(x.grad, tx.grad)
    assert_same(a.grad, ta.grad)


def test_autograd_backward_of_several_tensors(leaf_pair, assert_same):
    (x, tx) = leaf_pair([1.0, 2.0])
    gn.autograd.backward([x * 2, (x * x).sum()], [gn.tensor([1.0, 1.0], dtype=gn.float64), None])
    torch.autograd.backward([tx * 2, (tx * tx).sum()], [torch.ones(2, dtype=torch.float64), None])
    assert_same(x.grad, tx.grad)
