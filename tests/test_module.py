"""The Module API against torch: registration, traversal order and names, apply, modes, gradients, state dicts,
forward hooks, repr, Parameter."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn


@pytest.fixture(autouse=True)
def _float64(float64_default):
    """Comparisons with torch to 1e-12: every test here runs in float64."""


def build(lib):
    """The same nested tree in either library: a shared layer under two names, a buffer, a parameter of a
    module's own, containers."""
    class Block(lib.nn.Module):
        def __init__(self, shared):
            super().__init__()
            self.scale = lib.nn.Parameter(lib.ones(2, dtype=lib.float64) if lib is torch else
                                          gn.tensor(np.ones(2)))
            self.register_buffer("steps", lib.zeros(1, dtype=lib.float64) if lib is torch else
                                 gn.tensor(np.zeros(1)))
            self.inner = lib.nn.Sequential(shared, lib.nn.Tanh())
            self.shared = shared

        def forward(self, x):
            return self.inner(x) * self.scale

    shared = lib.nn.Linear(2, 2)
    return lib.nn.Sequential(lib.nn.Linear(2, 2), Block(shared), lib.nn.ModuleList([shared, lib.nn.ReLU()]))


def pair():
    model, reference = build(gn), build(torch).double()
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return model, reference


def names(items):
    return [name for name, _ in items]


@pytest.mark.parametrize("method,kwargs", [
    ("named_modules", {}), ("named_modules", {"prefix": "net"}), ("named_modules", {"remove_duplicate": False}),
    ("named_children", {}), ("named_parameters", {}), ("named_parameters", {"recurse": False}),
    ("named_parameters", {"prefix": "m", "remove_duplicate": False}), ("named_buffers", {}),
])
def test_traversal_order_and_names_equal_torchs(method, kwargs):
    model, reference = pair()
    assert names(getattr(model, method)(**kwargs)) == names(getattr(reference, method)(**kwargs))
    assert names(getattr(model[1], method)(**kwargs)) == names(getattr(reference[1], method)(**kwargs))


@pytest.mark.parametrize("method", ["parameters", "buffers"])
@pytest.mark.parametrize("recurse", [True, False])
def test_parameters_and_buffers_are_the_named_ones_in_torchs_order(method, recurse):
    """parameters()/buffers() walk without names: the same tensors as the named walk (a shared one once), whose
    values match torch's in order."""
    model, reference = pair()
    for ours, theirs in ((model, reference), (model[1], reference[1])):
        values = list(getattr(ours, method)(recurse=recurse))
        assert [id(v) for v in values] == [id(v) for _, v in getattr(ours, f"named_{method}")(recurse=recurse)]
        expected = [v.detach().numpy() for v in getattr(theirs, method)(recurse=recurse)]
        assert len(values) == len(expected)
        assert all(np.array_equal(v.numpy(), e) for v, e in zip(values, expected))


def test_state_dict_lists_shared_layers_under_each_name_and_shares_memory():
    model, reference = pair()
    state = model.state_dict()
    assert list(state) == list(reference.state_dict())
    assert all(type(v) is gn.Tensor and not v.requires_grad for v in state.values())
    model[0].weight._data[0, 0] = 42.0  # as torch: the values are views of the model
    assert state["0.weight"].numpy()[0, 0] == 42.0
    snapshot = copy.deepcopy(model.state_dict())  # what callbacks keep
    model[0].weight._data[0, 0] = 7.0
    assert snapshot["0.weight"].numpy()[0, 0] == 42.0
    kept = model.state_dict(keep_vars=True)
    assert kept["0.weight"] is model[0].weight
    assert model.state_dict(prefix="net.").keys() == {"net." + k: 0 for k in state}.keys()
    assert len(list(model.parameters())) == len(list(reference.parameters()))


def test_load_state_dict_reports_keys_as_torch_and_refuses_bad_shapes():
    model, reference = pair()
    state = {k: v for k, v in reference.state_dict().items() if k != "0.bias"}
    state["extra"] = torch.zeros(1)
    theirs = reference.load_state_dict(state, strict=False)
    ours = model.load_state_dict({k: v.numpy() for k, v in state.items()}, strict=False)
    assert ours.missing_keys == theirs.missing_keys and ours.unexpected_keys == theirs.unexpected_keys
    assert repr(model.load_state_dict(model.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(RuntimeError, match=r"missing keys \['0.bias'\].*unexpected keys \['extra'\]") as info:
        model.load_state_dict({k: v.numpy() for k, v in state.items()})
    assert isinstance(info.value, ValueError)
    before = model[0].weight.numpy().copy()
    bad = {k: v.numpy() + 1 for k, v in model.state_dict().items()}
    bad["1.scale"] = np.ones(3)
    with pytest.raises(ValueError, match=r"size mismatch for '1.scale': shape \(3,\) in the state, \(2,\)"):
        model.load_state_dict(bad, strict=False)
    np.testing.assert_array_equal(model[0].weight.numpy(), before)  # nothing was copied
    weight = model[0].weight
    model.load_state_dict({k: v.numpy() + 1 for k, v in model.state_dict().items()})
    assert model[0].weight is weight  # in place: optimizers keep their parameters
    np.testing.assert_array_equal(weight.numpy(), before + 1)


def test_apply_visits_children_first_as_torch():
    model, reference = pair()
    ours, theirs = [], []
    assert model.apply(lambda m: ours.append(type(m).__name__)) is model
    reference.apply(lambda m: theirs.append(type(m).__name__))
    assert ours == theirs


def test_apply_with_init_reinitialises_every_linear():
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Sequential(nn.Linear(4, 2)))

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
            nn.init.constant_(m.bias, 0.5)
    model.apply(init)
    assert all(np.all(p.numpy() == 0) for n, p in model.named_parameters() if n.endswith("weight"))
    assert all(np.all(p.numpy() == 0.5) for n, p in model.named_parameters() if n.endswith("bias"))


def test_train_and_eval_return_self_and_call_each_childs_own_train():
    class Frozen(nn.Module):
        def train(self, mode=True):
            return super().train(False)  # a module that always stays in eval mode

    model = nn.Sequential(nn.Dropout(), nn.Sequential(Frozen(), nn.Dropout()))
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert model.train() is model
    assert [m.training for m in model.modules()] == [True, True, True, False, True]
    with pytest.raises(ValueError, match="True or False"):
        model.train("yes")


def test_zero_grad_and_requires_grad_as_torch():
    model = nn.Sequential(nn.Linear(2, 2))
    model(gn.tensor(np.ones((1, 2)))).sum().backward()
    grad = model[0].weight.grad
    model.zero_grad(set_to_none=False)
    assert model[0].weight.grad is grad and np.all(grad.numpy() == 0)
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    assert model.requires_grad_(False) is model and not any(p.requires_grad for p in model.parameters())


def test_registration_errors_and_lookups():
    model = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter or None"):
        model.register_parameter("scale", gn.tensor(np.ones(2)))
    with pytest.raises(KeyError, match="contain no '.'"):
        model.register_parameter("a.b", None)
    with pytest.raises(KeyError, match="'weight' already exists"):
        model.register_buffer("weight", gn.tensor(np.ones(2)))
    with pytest.raises(KeyError, match="'forward' already exists"):
        model.add_module("forward", nn.Tanh())
    with pytest.raises(TypeError, match="not a Module"):
        model.add_module("act", "tanh")
    model.register_parameter("scale", nn.Parameter(gn.tensor(np.ones(2))))
    model.add_module("act", nn.Tanh())
    assert names(model.named_parameters()) == ["weight", "bias", "scale"]
    model.register_buffer("count", gn.tensor(np.zeros(1)))
    tree = nn.Sequential(nn.Sequential(model))
    assert tree.get_submodule("0.0.act") is model.act and tree.get_parameter("0.0.scale") is model.scale
    assert tree.get_buffer("0.0.count") is model.count
    assert names(tree.named_modules(memo={model})) == ["", "0"]  # memo: modules to leave out, as torch
    with pytest.raises(AttributeError, match="no sub-module 'x'"):
        tree.get_submodule("0.x")
    del model.act
    assert names(model.named_children()) == []


def test_parameter_shares_the_tensors_memory():
    t = gn.tensor(np.zeros(3))
    p = nn.Parameter(t)
    p._data[0] = 5.0
    assert t.numpy()[0] == 5.0 and p.requires_grad and not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_forward_hooks_replace_inputs_and_outputs_as_torch():
    model, reference = pair()
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    calls = []
    for lib_model, tag in ((model, "gn"), (reference, "torch")):
        lib_model[0].register_forward_pre_hook(lambda m, args, tag=tag: (calls.append(tag + " double"),
                                                                          (args[0] * 2,))[1])
        lib_model[0].register_forward_pre_hook(lambda m, args, tag=tag: calls.append(tag + " first"), prepend=True)
        lib_model[1].register_forward_hook(lambda m, args, out: out + 1)
        lib_model[1].register_forward_hook(lambda m, args, kwargs, out, tag=tag: calls.append((tag, kwargs)),
                                           with_kwargs=True)
    out = model[1](model[0](gn.tensor(x)))
    expected = reference[1](reference[0](torch.from_numpy(x)))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-12)
    assert calls == ["gn first", "gn double", ("gn", {}), "torch first", "torch double", ("torch", {})]


def test_removed_hooks_stop_running():
    layer = nn.Linear(2, 1)
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append(out))
    with layer.register_forward_pre_hook(lambda m, args: seen.append("pre")):
        layer(gn.tensor(np.ones((1, 2))))
    layer(gn.tensor(np.ones((1, 2))))
    handle.remove()
    handle.remove()  # twice is harmless, as torch
    layer(gn.tensor(np.ones((1, 2))))
    assert seen[0] == "pre" and len(seen) == 3 and not layer._forward_hooks and not layer._forward_pre_hooks
    with pytest.raises(TypeError, match="callable"):
        layer.register_forward_hook("print")


def test_pre_hook_with_kwargs_replaces_args_and_kwargs():
    class Add(nn.Module):
        def forward(self, x, y=0):
            return x + y

    add = Add()
    add.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 10,), {"y": 1}), with_kwargs=True)
    assert add(gn.tensor(2.0)).item() == 21.0


def body(lib_nn):
    return lib_nn.Sequential(lib_nn.Linear(2, 3), lib_nn.ReLU(), lib_nn.Dropout(0.25), lib_nn.Flatten(),
                             lib_nn.Softmax(dim=1))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = body(nn), nn.Linear(3, 1, bias=False)

    def extra_repr(self):
        return "custom=1"


class TorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.head = body(torch.nn), torch.nn.Linear(3, 1, bias=False)

    def extra_repr(self):
        return "custom=1"


def test_repr_is_torchs():
    assert repr(Net()) == repr(TorchNet()).replace("TorchNet(", "Net(")
    assert repr(nn.Linear(2, 3)) == repr(torch.nn.Linear(2, 3)) and repr(nn.Sequential()) == "Sequential()"
