"""The autodiff engine: accumulation, freed graphs, deep graphs, no_grad, detach, aliasing and dtypes."""
import sys

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn, ops, optim


def pair(values, dtype=np.float64):
    """The same leaf in glassnet and torch."""
    array = np.asarray(values, dtype=dtype)
    return gn.tensor(array.copy(), requires_grad=True), torch.tensor(array, requires_grad=True)


# --- accumulation and freed graphs -------------------------------------------------------------------------------

def test_gradients_accumulate_across_backward_calls_like_torch():
    x, t = pair([0.5, -1.0, 2.0])
    for lib_x in (x, t):
        (lib_x * lib_x).sum().backward()
        (lib_x.exp()).sum().backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, 2 * x._data + np.exp(x._data), rtol=1e-12)


def test_second_backward_through_a_freed_graph_raises_graph_error():
    x = gn.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(gn.GraphError, match="second time.*retain_graph=True"):
        loss.backward()
    assert issubclass(gn.GraphError, RuntimeError)
    np.testing.assert_array_equal(x.grad._data, [2.0, 4.0])  # the failed call added nothing


def test_backward_through_a_freed_intermediate_raises():
    x, t = pair([1.0, 2.0])
    y, ty = x * 3, t * 3
    y.sum().backward()
    ty.sum().backward()
    with pytest.raises(RuntimeError):  # torch refuses too
        (ty.exp() * 2).sum().backward()
    with pytest.raises(gn.GraphError, match="second time"):
        (y.exp() * 2).sum().backward()


def test_retain_graph_allows_a_second_backward_and_accumulates():
    x, t = pair([1.0, -2.0, 0.5])
    loss, tloss = (x.tanh() * x).sum(), (t.tanh() * t).sum()
    loss.backward(retain_graph=True)
    tloss.backward(retain_graph=True)
    loss.backward()
    tloss.backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-12)
    with pytest.raises(gn.GraphError):
        loss.backward()


def test_deep_chain_of_20000_nodes_backpropagates_without_recursion():
    assert sys.getrecursionlimit() < 20_000
    x = gn.tensor(np.array([0.5, -0.25]), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = (y * 1.0001) + 0.0  # two nodes per round: 20,000 nodes
    y.sum().backward()
    np.testing.assert_allclose(x.grad._data, np.full(2, 1.0001 ** 10_000), rtol=1e-9)


def test_non_scalar_backward_needs_a_gradient():
    x, t = pair(np.ones((2, 3)))
    with pytest.raises(RuntimeError):
        (t * 2).backward()
    with pytest.raises(gn.GraphError, match=r"\(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))
    (x * 2).backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad._data, np.ones((2, 3)))


def test_backward_on_a_tensor_without_grad_raises():
    with pytest.raises(gn.GraphError, match="requires_grad"):
        (gn.tensor(np.ones(2)) * 2).sum().backward()


def test_one_element_output_of_any_shape_backpropagates_like_torch():
    x, t = pair([[1.0, 2.0]])
    (x.sum(keepdims=True) * 3).backward()
    (t.sum(dim=(0, 1), keepdim=True) * 3).backward()
    np.testing.assert_array_equal(x.grad._data, t.grad.numpy())


# --- no_grad, detach ---------------------------------------------------------------------------------------------

def test_no_grad_context_records_nothing_and_restores_the_mode():
    x = gn.tensor(np.ones(3), requires_grad=True)
    with gn.no_grad():
        assert not gn.is_grad_enabled()
        y = (x * 2).exp().sum()
        with gn.enable_grad():
            z = x * 2
    assert gn.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and z.requires_grad
    with pytest.raises(gn.GraphError):
        y.backward()
    with pytest.raises(KeyError):
        with gn.no_grad():
            raise KeyError("boom")
    assert gn.is_grad_enabled(), "an exception inside no_grad must not leave grad mode off"


def test_no_grad_decorator():
    @gn.no_grad()
    def double(t):
        assert not gn.is_grad_enabled()
        return t * 2

    x = gn.tensor(np.ones(2), requires_grad=True)
    out = double(x)
    assert not out.requires_grad and gn.is_grad_enabled()
    assert double.__name__ == "double"


def test_detach_shares_data_and_cuts_the_graph_like_torch():
    x, t = pair([0.5, 1.5, -1.0])
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and np.shares_memory(d._data, x._data)
    (x.detach() * x).sum().backward()
    (t.detach() * t).sum().backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy())
    np.testing.assert_allclose(x.grad._data, x._data)  # not 2x: the detached factor is a constant


# --- graph shapes ------------------------------------------------------------------------------------------------

def test_diamond_graph_sums_both_paths():
    x, t = pair([0.3, -1.2, 2.0])
    for v in (x, t):
        a, b = v * 2, v + 1  # x reaches the output along two paths
        (a * b + a.tanh()).sum().backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad._data, 2 * (x._data + 1) + 2 * x._data + 2 / np.cosh(2 * x._data) ** 2,
                               rtol=1e-12)


def test_same_tensor_twice_in_one_op():
    x, t = pair([1.0, -3.0])
    (x + x).sum().backward()
    (x * x).sum().backward()
    (t + t).sum().backward()
    (t * t).sum().backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy())


def test_shared_subexpression_used_many_times():
    x, t = pair([0.7, -0.4])
    for v in (x, t):
        h = v.exp()
        total = h
        for _ in range(5):
            total = total + h * h
        total.sum().backward()
    np.testing.assert_allclose(x.grad._data, t.grad.numpy(), rtol=1e-12)


def test_leaf_gradients_are_not_aliased():
    a, b = gn.tensor(np.ones(3), requires_grad=True), gn.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad._data[...] = 99.0
    np.testing.assert_array_equal(b.grad._data, np.ones(3))
    c, d = gn.tensor(np.ones((2, 3)), requires_grad=True), gn.tensor(np.ones(3), requires_grad=True)
    upstream = np.full((2, 3), 2.0)
    (c + d).backward(upstream)
    c.grad._data[...] = -1.0
    np.testing.assert_array_equal(upstream, np.full((2, 3), 2.0))
    np.testing.assert_array_equal(d.grad._data, np.full(3, 4.0))
    upstream[...] = 7.0
    assert (c.grad._data == -1).all()


def test_leaf_backward_does_not_keep_the_callers_array():
    x = gn.tensor(np.zeros(3), requires_grad=True)
    g = np.ones(3)
    x.backward(g)
    g[0] = 5.0
    np.testing.assert_array_equal(x.grad._data, np.ones(3))


def test_views_from_split_ops_are_not_aliased():
    a, b = gn.tensor(np.ones(2), requires_grad=True), gn.tensor(np.ones(2), requires_grad=True)
    gn.concatenate([a, b]).backward(np.arange(4.0))
    a.grad._data[...] = 0
    np.testing.assert_array_equal(b.grad._data, [2.0, 3.0])
    s, t = gn.tensor(np.ones(2), requires_grad=True), gn.tensor(np.ones(2), requires_grad=True)
    gn.stack([s, t]).backward(np.arange(4.0).reshape(2, 2))
    s.grad._data[...] = 0
    np.testing.assert_array_equal(t.grad._data, [2.0, 3.0])


def test_constant_inputs_get_no_gradient():
    x = gn.tensor(np.ones(2), requires_grad=True)
    c = gn.tensor(np.ones(2))
    (x * c).sum().backward()
    assert c.grad is None and x.grad is not None


# --- dtypes ------------------------------------------------------------------------------------------------------

F32_OPS = [  # (id, computation on float32 tensors x of shape (2, 3), y of shape (3,))
    ("add", lambda x, y: x + y), ("sub scalar", lambda x, y: 1.5 - x), ("mul", lambda x, y: x * y * 2),
    ("div", lambda x, y: x / (y.abs() + 1)), ("rdiv", lambda x, y: 2 / (x.abs() + 1)), ("pow int", lambda x, y: x ** 2),
    ("pow float", lambda x, y: x.abs() ** 1.5), ("rpow", lambda x, y: 2.0 ** x), ("neg", lambda x, y: -x),
    ("np.float64 scalar", lambda x, y: x * np.float64(3.0)), ("matmul", lambda x, y: x @ y),
    ("sum", lambda x, y: x.sum(0)), ("mean", lambda x, y: x.mean()), ("max", lambda x, y: x.max(1).values),
    ("amax", lambda x, y: x.amax(1)),
    ("min", lambda x, y: x.min()), ("reshape", lambda x, y: x.reshape(3, 2)), ("T", lambda x, y: x.T),
    ("getitem", lambda x, y: x[[0, 0, 1], 1:]), ("mask", lambda x, y: x[x._data > 0]),
    ("exp", lambda x, y: x.exp()), ("log", lambda x, y: (x.abs() + 1).log()), ("sqrt", lambda x, y: (x * x + 1).sqrt()),
    ("tanh", lambda x, y: x.tanh()), ("sigmoid", lambda x, y: x.sigmoid()), ("relu", lambda x, y: x.relu()),
    ("leaky_relu", lambda x, y: x.leaky_relu(0.1)), ("softmax", lambda x, y: x.softmax(-1)),
    ("log_softmax", lambda x, y: x.log_softmax(0)), ("clip", lambda x, y: x.clip(-0.5, 0.5)),
    ("where", lambda x, y: gn.where(x._data > 0, x, 0.0)), ("concatenate", lambda x, y: gn.concatenate([x, x], 1)),
    ("stack", lambda x, y: gn.stack([x[0], y])), ("linear", lambda x, y: nn.functional.linear(x, x, y[:2])),
    ("dropout", lambda x, y: nn.functional.dropout(x, 0.5)),
    ("mse", lambda x, y: nn.MSELoss()(x, np.zeros((2, 3)))), ("l1", lambda x, y: nn.L1Loss()(x, np.zeros((2, 3)))),
    ("bce", lambda x, y: nn.BCELoss()(x.sigmoid(), np.ones((2, 3)))),
    ("bce logits", lambda x, y: nn.BCEWithLogitsLoss()(x, np.ones((2, 3)))),
    ("cross entropy", lambda x, y: nn.CrossEntropyLoss()(x, np.array([0, 2]))),
    ("cross entropy probabilities", lambda x, y: nn.CrossEntropyLoss()(x, np.full((2, 3), 1 / 3))),
    ("nll", lambda x, y: nn.NLLLoss(reduction="sum")(x, np.array([1, 2]))),
]


@pytest.mark.parametrize("name, fn", F32_OPS, ids=[case[0] for case in F32_OPS])
def test_float32_stays_float32_through_every_op_and_its_gradient(name, fn):
    rng = np.random.default_rng(0)
    x = gn.tensor(rng.normal(size=(2, 3)).astype(np.float32), requires_grad=True)
    y = gn.tensor(rng.normal(size=3).astype(np.float32), requires_grad=True)
    out = fn(x, y)
    assert out.dtype == np.float32, f"{name}: float32 inputs gave {out.dtype}"
    out.backward(np.ones(out.shape, dtype=np.float32))
    for leaf in (x, y):
        if leaf.grad is not None:
            assert leaf.grad.dtype == np.float32, f"{name}: float32 leaf got a {leaf.grad.dtype} gradient"
    assert x.grad is not None


@pytest.mark.parametrize("optimizer, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)), ("Adam", dict(amsgrad=True)),
    ("AdamW", {}), ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", {}), ("RMSprop", dict(centered=True, momentum=0.5)),
])
def test_float32_model_and_optimizer_stay_float32(optimizer, kwargs):
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 2), nn.Softmax())
    opt = getattr(optim, optimizer)(model.parameters(), **kwargs)
    x, y = np.random.default_rng(0).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1])  # float64 data
    for _ in range(3):
        opt.zero_grad()
        out = model(x)
        assert out.dtype == np.float32
        loss = nn.NLLLoss()(out.log(), y) + nn.l2_penalty(model, 0.01) + nn.l1_penalty(model, 0.01)
        assert loss.dtype == np.float32
        loss.backward()
        opt.step()
    for name, p in model.named_parameters():
        assert p.dtype == np.float32 and p.grad.dtype == np.float32, name
    for entry in opt.state.values():
        for key, buffer in entry.items():
            if key != "step":
                assert buffer.dtype == np.float32, key


def test_set_default_dtype_float64(float64_default):
    assert gn.get_default_dtype() == np.float64
    assert gn.tensor(1.5).dtype == np.float64 and gn.tensor([1.0, 2.0]).dtype == np.float64
    layer = nn.Linear(2, 3)
    assert layer.weight.dtype == np.float64 and layer.bias.dtype == np.float64
    assert nn.Parameter([1, 2]).dtype == np.float64
    assert (gn.tensor([1.0]) * 2.0).dtype == np.float64
    assert layer(np.ones((1, 2), dtype=np.float32)).dtype == np.float64


def test_default_dtype_is_float32_and_validated():
    assert gn.get_default_dtype() == np.float32
    assert gn.tensor(1.5).dtype == np.float32 and gn.tensor([[0.5]]).dtype == np.float32
    assert gn.tensor(np.ones(2)).dtype == np.float64  # an ndarray keeps its dtype, as torch.from_numpy
    assert gn.tensor([1, 2]).dtype == np.int64 and gn.tensor(np.ones(2), dtype=np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        gn.set_default_dtype(np.int32)
    assert gn.get_default_dtype() == np.float32


def test_module_dtype_conversions_follow_the_parameters():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = np.ones((4, 2))
    assert model(x).dtype == np.float32
    model.double()
    assert model.dtype == np.float64 and model(x).dtype == np.float64
    model.to(np.float32)
    assert all(p.dtype == np.float32 for p in model.parameters())
    with pytest.raises(TypeError):
        model.to(np.int64)


def test_load_state_dict_casts_to_the_parameter_dtype():
    model = nn.Sequential(nn.Linear(2, 3))
    state = {"0.weight": np.arange(6, dtype=np.float64).reshape(3, 2) / 7, "0.bias": gn.tensor(np.ones(3))}
    model.load_state_dict(state)
    assert model[0].weight.dtype == np.float32 and model[0].bias.dtype == np.float32
    np.testing.assert_allclose(model[0].weight._data, state["0.weight"], rtol=1e-7)
    state["0.weight"][...] = 0  # copied, not aliased
    assert model[0].weight._data.any()
    model.double().load_state_dict({"0.weight": np.ones((3, 2), dtype=np.float32), "0.bias": [1, 2, 3]})
    assert model[0].weight.dtype == np.float64 and model[0].bias.dtype == np.float64
    np.testing.assert_array_equal(model[0].bias._data, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"0.weight.*\(2, 3\).*\(3, 2\)"):
        model.load_state_dict({"0.weight": np.ones((2, 3)), "0.bias": np.ones(3)})
    with pytest.raises(ValueError, match="missing"):
        model.load_state_dict({"0.weight": np.ones((3, 2))})


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integer_tensors_cannot_require_grad(dtype):
    with pytest.raises(TypeError, match="floating"):
        gn.tensor(np.array([1, 0], dtype=dtype), requires_grad=True)
    with pytest.raises(TypeError, match="floating"):
        gn.tensor(np.array([1, 0], dtype=dtype)).requires_grad_()
    with pytest.raises(RuntimeError):  # torch agrees
        torch.tensor(np.array([1, 0], dtype=dtype), requires_grad=True)


def test_cast_to_an_integer_dtype_gives_a_tensor_without_grad_like_torch():
    x, t = pair([1.7, -2.2])
    y, ty = ops.cast(x, np.int64), t.long()
    np.testing.assert_array_equal(y._data, ty.numpy())
    assert y.dtype == np.int64 and y.requires_grad == ty.requires_grad == False  # noqa: E712
    z = ops.cast(x, np.float32)
    assert z.requires_grad and z.dtype == np.float32


def test_no_grad_is_per_thread():
    """no_grad() in one thread leaves another thread recording, as in PyTorch."""
    import threading
    inside, recorded = threading.Event(), []
    release = threading.Event()

    def other_thread():
        inside.wait()
        x = gn.tensor([1.0, 2.0], requires_grad=True)
        recorded.append((x * 2).requires_grad)
        release.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with gn.no_grad():
        inside.set()
        release.wait(5)
        assert not (gn.tensor([1.0], requires_grad=True) * 2).requires_grad
    worker.join(5)
    assert recorded == [True]


# --- post-accumulate hooks ---------------------------------------------------------------------------------------

def hooked_pair(values, seen, name):
    """The same Parameter in glassnet and torch, each recording (name, its gradient then) when its hook runs."""
    ours = gn.nn.Parameter(np.asarray(values, np.float64))
    theirs = torch.nn.Parameter(torch.tensor(values, dtype=torch.float64))
    ours.register_post_accumulate_grad_hook(lambda p: seen["ours"].append((name, p.grad.numpy().copy())))
    theirs.register_post_accumulate_grad_hook(lambda p: seen["torch"].append((name, p.grad.numpy().copy())))
    return ours, theirs


def test_a_post_accumulate_hook_runs_once_per_pass_with_the_whole_gradient_like_torch():
    """W is used by two products and b by one op after the first product: b's gradient is complete first, W's only
    after the first product's node, and each hook runs once per backward pass (twice over two passes), seeing the
    pass's full gradient, as torch's."""
    seen = {"ours": [], "torch": []}
    rng = np.random.default_rng(0)
    W, tW = hooked_pair(rng.normal(size=(3, 3)).tolist(), seen, "W")
    b, tb = hooked_pair(rng.normal(size=3).tolist(), seen, "b")
    x = rng.normal(size=(4, 3))
    for _ in range(2):
        ((gn.tensor(x) @ W + b).tanh() @ W).sum().backward()
        ((torch.tensor(x) @ tW + tb).tanh() @ tW).sum().backward()
    assert [name for name, _ in seen["ours"]] == [name for name, _ in seen["torch"]] == ["b", "W", "b", "W"]
    for (_, ours), (_, theirs) in zip(seen["ours"], seen["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(seen["ours"][3][1], W.grad.numpy())  # accumulated over both passes


def test_post_accumulate_hooks_run_from_the_last_layer_down_also_for_gradients_written_into_the_optimizer():
    """Linear layers called one by one are one node each, which writes its gradients straight into the optimizer's
    flat buffer (returning none to the engine): the hooks still run, last layer first, after each layer's node."""
    gn.manual_seed(0)
    layers = [nn.Linear(3, 5), nn.Linear(5, 4), nn.Linear(4, 1)]
    params = [p for layer in layers for p in layer.parameters()]
    optimizer = optim.SGD(params, lr=0.1)
    done = []
    for i, p in enumerate(params):
        p.register_post_accumulate_grad_hook(lambda p, i=i: done.append((i, p.grad.numpy().copy())))
    h = gn.tensor(np.random.default_rng(1).normal(size=(6, 3)).astype(np.float32))
    for layer in layers:
        h = layer(h).tanh()
    h.sum().backward()
    assert [i for i, _ in done] == [4, 5, 2, 3, 0, 1]
    assert all(gn.autograd.in_buffer(p) for p in params)
    for i, grad in done:
        np.testing.assert_array_equal(grad, params[i].grad.numpy())
    optimizer.zero_grad()


def test_post_accumulate_hooks_with_inputs_grad_removal_and_copies():
    seen = []
    p, q = gn.nn.Parameter(np.array([1.0, 2.0])), gn.nn.Parameter(np.array([3.0]))
    handle = p.register_post_accumulate_grad_hook(lambda t: seen.append("p"))
    q.register_post_accumulate_grad_hook(lambda t: seen.append("q"))
    (p.sum() * q).backward(inputs=[p])  # only the inputs accumulate: only their hooks run
    assert seen == ["p"] and q.grad is None
    gn.autograd.grad((p * q).sum(), [p, q])  # accumulates nothing: runs no hook
    assert seen == ["p"]
    p.backward(np.ones(2))  # a leaf as the root
    assert seen == ["p", "p"]
    import copy
    twin = copy.deepcopy(p)
    twin.sum().backward()  # a copy has no hooks
    assert seen == ["p", "p"]
    handle.remove()
    (p * q).sum().backward()
    assert seen == ["p", "p", "q"]
    with pytest.raises(gn.GraphError, match="only a Parameter"):
        gn.tensor([1.0], requires_grad=True).register_post_accumulate_grad_hook(print)
    with pytest.raises(gn.GraphError, match="non-leaf tensor"):
        (p * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="function of the parameter"):
        p.register_post_accumulate_grad_hook("print")


def test_a_hook_runs_at_the_end_of_the_pass_when_an_op_gives_one_branch_no_gradient():
    """A custom op returning None for its input cuts that branch off: the engine never visits the nodes below it,
    so the parameter's count of gradients to come never reaches 0; the hook still runs once, at the end of the
    pass, after what did arrive."""

    class NoGradient(gn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return None

    seen = []
    p = gn.nn.Parameter(np.array([1.0, 2.0]))
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.numpy().copy()))
    ((p * 3).sum() + NoGradient.apply(p * 5).sum()).backward()
    assert len(seen) == 1 and seen[0].tolist() == [3.0, 3.0] == p.grad.numpy().tolist()
