"""In-place ops (add_ … +=, x[i] = v) and the version check, each case run on glassnet and torch side by side."""
import numpy as np
import pytest
import torch

import glassnet as gn




def test_the_course_update_rule_with_isub_under_no_grad_trains_like_torch(leaf_pair, assert_same):
    (w, tw), (x, tx) = leaf_pair([0.5, -1.0]), leaf_pair([[1.0, 2.0], [3.0, -1.0]], requires_grad=False)
    for _ in range(3):
        loss, tloss = ((x @ w) ** 2).mean(), ((tx @ tw) ** 2).mean()
        loss.backward()
        tloss.backward()
        with gn.no_grad():
            for p in [w]:
                p -= 0.1 * p.grad
        with torch.no_grad():
            for p in [tw]:
                p -= 0.1 * p.grad
        assert_same(w, tw)
        w.grad, tw.grad = None, None
    assert w.is_leaf and w.requires_grad


@pytest.mark.parametrize("name, change", [
    ("add_", lambda t: t.add_(1.0)), ("sub_", lambda t: t.sub_(2.0, alpha=0.5)), ("mul_", lambda t: t.mul_(3)),
    ("div_", lambda t: t.div_(4)), ("pow_", lambda t: t.pow_(2)), ("neg_", lambda t: t.neg_()),
    ("clamp_", lambda t: t.clamp_(-0.5, 0.5)), ("clip_", lambda t: t.clip_(max=0.1)), ("zero_", lambda t: t.zero_()),
    ("fill_", lambda t: t.fill_(7.5)), ("copy_ broadcast", lambda t: t.copy_(t.new_ones(3) * 2)),
    ("masked_fill_", lambda t: t.masked_fill_(t > 0, -1.0)), ("+=", lambda t: t.__iadd__(t)),
    ("-=", lambda t: t.__isub__(1)), ("*=", lambda t: t.__imul__(2.5)), ("/=", lambda t: t.__itruediv__(2)),
])
def test_in_place_ops_change_the_tensor_itself_like_torch(leaf_pair, assert_same, name, change):
    (x, t) = leaf_pair([[0.5, -1.5, 2.0], [1.0, 0.25, -0.75]], requires_grad=False)
    alias = x
    out = change(x)
    change(t)
    assert out is alias and x is alias  # the same tensor, changed
    assert_same(x, t)


def test_in_place_on_a_leaf_that_requires_grad_needs_no_grad_like_torch(leaf_pair):
    w, tw = leaf_pair([1.0, 2.0])
    for change in (lambda t: t.add_(1), lambda t: t.zero_(), lambda t: t.__setitem__(0, 5.0)):
        with pytest.raises(RuntimeError):
            change(tw)
        with pytest.raises(gn.GraphError, match="no_grad"):
            change(w)
    with gn.no_grad():
        w.add_(1)
        w[0] = 5.0
    np.testing.assert_array_equal(w._data, [5.0, 3.0])


def test_data_changes_the_parameter_without_recording():
    w = gn.nn.Parameter(gn.ones(3))
    w.data.add_(1.0)
    w.data.mul_(gn.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(w._data, [2.0, 4.0, 6.0])
    assert w.is_leaf and w.grad_fn is None


def test_in_place_add_on_a_non_leaf_is_recorded_like_torch(leaf_pair, assert_same):  # out = bn(x); out += x
    (x, tx), (r, tr) = leaf_pair([1.0, -2.0, 3.0]), leaf_pair([0.5, 0.5, -1.0])
    out, tout = x * 2, tx * 2
    out += r
    tout += tr
    (out * out).sum().backward()
    (tout * tout).sum().backward()
    assert_same(out, tout)
    assert_same(x.grad, tx.grad)
    assert_same(r.grad, tr.grad)
    assert out.grad_fn is not None and not out.is_leaf


@pytest.mark.parametrize("name, change", [
    ("mul_ by a tensor that requires grad", lambda h, w: h.mul_(w)), ("div_", lambda h, w: h.div_(w + 3)),
    ("copy_", lambda h, w: h.copy_(w)), ("pow_", lambda h, w: h.pow_(2)), ("clamp_", lambda h, w: h.clamp_(0, 1)),
])
def test_gradients_through_in_place_ops_on_non_leaves_equal_torch(leaf_pair, assert_same, name, change):
    (x, tx), (w, tw) = leaf_pair([0.5, -1.5, 2.0]), leaf_pair([1.5, 2.0, -0.5])
    h, th = x * 1.5, tx * 1.5
    change(h, w)
    change(th, tw)
    (h * gn.tensor([1.0, 2.0, 3.0], dtype=gn.float64)).sum().backward()
    (th * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)).sum().backward()
    assert_same(h, th)
    assert_same(x.grad, tx.grad)
    if tw.grad is not None:
        assert_same(w.grad, tw.grad)


def _sigmoid_then_change_its_output(a):
    b = a.sigmoid()  # saves its output
    b.mul_(2)
    return b.sum()


def _square_then_change_the_input(a):
    h = a * 1.0
    y = h * h  # saves h
    h.add_(1)
    return y.sum()


@pytest.mark.parametrize("build", [_sigmoid_then_change_its_output, _square_then_change_the_input])
def test_changing_a_saved_tensor_makes_backward_raise_like_torch(leaf_pair, build):
    x, tx = leaf_pair([0.5, -1.0])
    with pytest.raises(RuntimeError):
        build(tx).backward()
    loss = build(x)
    with pytest.raises(gn.GraphError, match="modified by an in-place operation"):
        loss.backward()
    assert x.grad is None


def test_a_graph_that_did_not_save_the_changed_tensor_still_backpropagates_like_torch(leaf_pair, assert_same):
    (x, tx) = leaf_pair([0.5, -1.0, 2.0])
    h, th = x * 2, tx * 2
    y, ty = h + 1, th + 1  # add saves nothing
    h.mul_(3)
    th.mul_(3)
    (y * 2).sum().backward()
    (ty * 2).sum().backward()
    assert_same(x.grad, tx.grad)


def test_in_place_on_a_view_of_a_graph_tensor_raises_a_clear_error():
    x = gn.tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(gn.GraphError, match="view"):
        y[0].mul_(2)
    with pytest.raises(gn.GraphError, match="view"):
        y.T.add_(1)


def test_changing_a_constant_that_a_graph_saved_raises():
    w = gn.tensor([1.0, 2.0], requires_grad=True)
    c = gn.tensor([3.0, 4.0])
    loss = (w * c).sum()
    c.add_(1)  # torch: "modified by an inplace operation"
    with pytest.raises(gn.GraphError):
        loss.backward()


def test_backward_through_a_retained_graph_after_an_optimizer_step_raises_like_torch():
    """The second layer's backward needs its weight, which the step changed. (glassnet also raises for a single
    layer, whose weight torch does not save when the input needs no gradient: an error, never a wrong result.)"""
    model = gn.nn.Sequential(gn.nn.Linear(3, 2), gn.nn.Tanh(), gn.nn.Linear(2, 1))
    opt = gn.optim.SGD(model.parameters(), lr=0.1)
    loss = model(gn.ones(4, 3)).sum()
    loss.backward(retain_graph=True)
    opt.step()
    with pytest.raises(gn.GraphError, match="in-place"):
        loss.backward()
    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh(), torch.nn.Linear(2, 1))
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.1)
    tloss = tmodel(torch.ones(4, 3)).sum()
    tloss.backward(retain_graph=True)
    topt.step()
    with pytest.raises(RuntimeError):
        tloss.backward()
    loss = model(gn.ones(4, 3)).sum()  # a graph recorded after the step is fine
    loss.backward()


SETITEMS = [  # (id, shape of x, index, shape of the value)
    ("int", (3, 4), 1, (4,)), ("slice", (5, 2), slice(1, 3), (2, 2)), ("broadcast value", (3, 4), slice(None), (4,)),
    ("int array", (4, 3), np.array([0, 2]), (2, 3)), ("bool mask", (3, 4), "mask", ()),
    ("torch order: int with list", (2, 3, 4), (1, slice(None), [0, 2]), (3, 2)),
    ("tuple of ints", (3, 4), (2, 1), ()), ("ellipsis", (2, 3, 4), (Ellipsis, 0), (2, 3)),
]


@pytest.mark.parametrize("name, shape, index, value_shape", SETITEMS, ids=[c[0] for c in SETITEMS])
def test_setitem_values_and_gradients_equal_torch(leaf_pair, assert_same, to_torch, name, shape, index,
                                                 value_shape):
    rng = np.random.default_rng(0)
    (x, tx), (v, tv) = leaf_pair(rng.normal(size=shape)), leaf_pair(rng.normal(size=value_shape))
    h, th = x * 1.0, tx * 1.0
    mask = rng.normal(size=shape) > 0
    gi, ti = (mask, torch.from_numpy(mask)) if isinstance(index, str) else (index, to_torch(index))
    h[gi] = v
    th[ti] = tv
    weight = rng.normal(size=shape)
    (h * gn.tensor(weight)).sum().backward()
    (th * torch.from_numpy(weight)).sum().backward()
    assert_same(h, th)
    assert_same(x.grad, tx.grad)
    assert_same(v.grad, tv.grad)


def test_setitem_on_a_constant_with_a_tensor_that_requires_grad_puts_it_in_the_graph(leaf_pair, assert_same):
    (x, tx) = leaf_pair([1.0, 2.0, 3.0])
    z, tz = gn.zeros(3, dtype=gn.float64), torch.zeros(3, dtype=torch.float64)
    z[1] = x[0] * 5
    tz[1] = tx[0] * 5
    z[2:] = x[2:]
    tz[2:] = tx[2:]
    assert z.requires_grad and not z.is_leaf and z.grad_fn.name() == "CopySlices"
    z.sum().backward()
    tz.sum().backward()
    assert_same(x.grad, tx.grad)


def test_setitem_without_grad_writes_in_place_and_names_shapes_on_mismatch():
    x = gn.zeros(2, 3)
    x[0] = gn.tensor([1.0, 2.0, 3.0])
    x[1, 1:] = 9
    x[x > 5] = -1
    np.testing.assert_array_equal(x._data, [[1, 2, 3], [0, -1, -1]])
    with pytest.raises(ValueError, match=r"\(2,\)") as error:
        x[0] = gn.ones(2)
    assert isinstance(error.value, RuntimeError)


def test_random_fills_and_requires_grad_():
    gn.manual_seed(0)
    w = gn.empty(200, 50)
    assert w.normal_(0.0, 0.02) is w and abs(float(w.std()) - 0.02) < 0.002
    w.uniform_(-1, 1)
    assert -1 <= float(w.min()) and float(w.max()) <= 1
    g = gn.Generator().manual_seed(3)
    a, b = gn.empty(5).normal_(generator=g), gn.empty(5).normal_(generator=gn.Generator().manual_seed(3))
    np.testing.assert_array_equal(a._data, b._data)
    assert w.requires_grad_() is w and w.requires_grad
    with pytest.raises(RuntimeError):
        w.normal_()  # a leaf that requires grad, outside no_grad (torch refuses too)
    with gn.no_grad():
        w.normal_()


def test_second_backward_works_through_nodes_that_saved_nothing_like_torch(leaf_pair, assert_same):
    (x, tx) = leaf_pair([1.0, 2.0])
    y, ty = (x + 1).sum(), (tx + 1).sum()
    y.backward()
    y.backward()
    ty.backward()
    ty.backward()
    assert_same(x.grad, tx.grad)
    z, tz = x.reshape(2, 1).expand(2, 3).sum(), tx.reshape(2, 1).expand(2, 3).sum()
    z.backward()
    z.backward()
    tz.backward()
    tz.backward()
    assert_same(x.grad, tx.grad)
