"""Containers against torch: Sequential (names, indexing, edits, fusion that never changes meaning), ModuleList,
ModuleDict, ParameterList, ParameterDict."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn
from glassnet.nn.container import DenseRun, plan


@pytest.fixture(autouse=True)
def _float64(float64_default):
    """Comparisons with torch to 1e-12: every test here runs in float64."""


def copy_linear(layer: nn.Linear) -> torch.nn.Linear:
    copy = torch.nn.Linear(layer.in_features, layer.out_features).double()
    with torch.no_grad():
        copy.weight.copy_(torch.from_numpy(layer.weight.numpy()))
        copy.bias.copy_(torch.from_numpy(layer.bias.numpy()))
    return copy


def same_output(model: nn.Module, reference: torch.nn.Module, x: np.ndarray) -> None:
    np.testing.assert_allclose(model(gn.tensor(x)).numpy(), reference(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)


class ScaledTanh(nn.Tanh):
    def forward(self, x):
        return 10 * super().forward(x)


class TorchScaledTanh(torch.nn.Tanh):
    def forward(self, x):
        return 10 * super().forward(x)


X = np.array([[0.3, -0.7], [1.2, 0.4]])


def test_a_subclass_forward_runs_inside_a_sequential_as_in_torch():
    """The issue's case: 10·tanh gives torch's 4.19, not the fused kernel's 0.419."""
    layer = nn.Linear(2, 1)
    layer.weight._data[...] = [[0.5, 0.5]]
    layer.bias._data[...] = [0.0]
    model = nn.Sequential(layer, ScaledTanh())
    out = model(gn.tensor([[0.89, 0.0]]))
    reference = torch.nn.Sequential(copy_linear(layer), TorchScaledTanh())
    expected = reference(torch.tensor([[0.89, 0.0]], dtype=torch.float64))
    assert out.item() == pytest.approx(expected.item(), rel=1e-12) == pytest.approx(10 * np.tanh(0.445))
    assert [type(step) for _, step in plan(model)] == [DenseRun, ScaledTanh]
    assert plan(model)[0][1].layers == [(layer, None)]  # the Linear runs fused alone; the subclass by itself


def test_only_exact_built_in_types_are_fused():
    class MyLinear(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), MyLinear(3, 3), nn.ReLU(), nn.Linear(3, 2), nn.Sigmoid())
    kinds = [type(step).__name__ for _, step in plan(model)]
    assert kinds == ["DenseRun", "MyLinear", "ReLU", "DenseRun"]
    x = gn.tensor(X)
    manual = model[5](model[4](model[3](model[2](model[1](model[0](x))))))
    np.testing.assert_allclose(model(x).numpy(), manual.numpy(), rtol=1e-12)


def test_item_assignment_append_insert_and_del_change_what_runs_as_in_torch():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
    reference = torch.nn.Sequential(copy_linear(model[0]), torch.nn.Tanh(), copy_linear(model[2]))
    same_output(model, reference, X)  # the plan is made (and cached) here
    model[1], reference[1] = nn.ReLU(), torch.nn.ReLU()
    same_output(model, reference, X)
    model.append(nn.Sigmoid()), reference.append(torch.nn.Sigmoid())
    same_output(model, reference, X)
    model.insert(1, ScaledTanh()), reference.insert(1, TorchScaledTanh())
    same_output(model, reference, X)
    del model[2], reference[2]
    same_output(model, reference, X)
    assert [name for name, _ in model.named_children()] == [name for name, _ in reference.named_children()]
    del model[-1], reference[-1]
    same_output(model, reference, X)
    extra = nn.Linear(2, 2)
    model.extend([nn.Tanh(), extra]), reference.extend([torch.nn.Tanh(), copy_linear(extra)])
    same_output(model, reference, X)
    assert len(model) == len(reference) == 5
    assert model.pop(0) is not None and reference.pop(0) is not None
    assert [name for name, _ in model.named_children()] == [name for name, _ in reference.named_children()]


def test_replacing_a_nested_attribute_takes_effect_at_the_next_call():
    model = nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.1), nn.Linear(3, 2))
    reference = torch.nn.Sequential(copy_linear(model[0]), torch.nn.LeakyReLU(0.1), copy_linear(model[2]))
    same_output(model, reference, X)
    model[1].negative_slope = reference[1].negative_slope = 0.5
    same_output(model, reference, X)
    weight = np.random.default_rng(1).normal(size=(3, 2))
    model[0].weight = nn.Parameter(gn.tensor(weight))
    reference[0].weight = torch.nn.Parameter(torch.from_numpy(weight.copy()))
    same_output(model, reference, X)
    model[2].bias = None
    reference[2].bias = None
    same_output(model, reference, X)
    model[1].forward = lambda x: x * 3  # an instance's own forward runs, as in torch
    reference[1].forward = lambda x: x * 3
    same_output(model, reference, X)


def block(lib):
    """A module of one's own with a Linear and an activation as attributes, in glassnet or torch."""
    class Block(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.act = lib.nn.Linear(3, 3), lib.nn.Tanh()

        def forward(self, x):
            return self.act(self.fc(x))
    return Block()


def test_edits_deep_inside_a_tree_take_effect_at_the_next_call_as_in_torch():
    """A Sequential inside a Sequential, and a module of one's own inside it: an edit anywhere below the model
    (item assignment, append, attribute replacement of a child) changes what the cached plan runs."""
    inner, mine = nn.Sequential(nn.Linear(2, 3), nn.Tanh()), block(gn)
    model = nn.Sequential(inner, mine, nn.Linear(3, 2), nn.Sigmoid())
    theirs = block(torch).double()
    theirs.fc = copy_linear(mine.fc)
    reference = torch.nn.Sequential(torch.nn.Sequential(copy_linear(inner[0]), torch.nn.Tanh()), theirs,
                                    copy_linear(model[2]), torch.nn.Sigmoid())
    same_output(model, reference, X)
    model[0][1], reference[0][1] = ScaledTanh(), TorchScaledTanh()
    same_output(model, reference, X)
    model[0].append(nn.ReLU()), reference[0].append(torch.nn.ReLU())
    same_output(model, reference, X)
    mine.act, theirs.act = nn.ReLU(), torch.nn.ReLU()
    same_output(model, reference, X)
    replacement = nn.Linear(3, 3)
    mine.fc, theirs.fc = replacement, copy_linear(replacement)
    same_output(model, reference, X)
    model[3], reference[3] = nn.Tanh(), torch.nn.Tanh()
    same_output(model, reference, X)


def test_hooks_on_a_child_run_and_stop_fusion_until_removed():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    seen = []
    handle = model[1].register_forward_hook(lambda module, args, output: seen.append(output.numpy().copy()))
    out = model(gn.tensor(X))
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], np.tanh(X @ model[0].weight.numpy().T + model[0].bias.numpy()))
    assert [type(step).__name__ for _, step in plan(model)] == ["DenseRun", "Tanh", "DenseRun"]
    handle.remove()
    model(gn.tensor(X))
    assert len(seen) == 1
    assert [type(step).__name__ for _, step in plan(model)] == ["DenseRun"]
    np.testing.assert_array_equal(model(gn.tensor(X)).numpy(), out.numpy())  # fused or not: the same numbers


def test_a_fused_sequential_is_one_graph_node_and_checks_the_plan_cheaply():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1), nn.Tanh())
    x = gn.tensor(X)
    out = model(x)
    assert len(out._parents) == 1 + 4  # input and both layers' weights and biases
    steps = model._plan[1]
    model(x)
    assert model._plan[1] is steps  # cached while nothing changes


def test_sequential_from_an_ordered_dict_keeps_the_names_as_torch():
    layers = OrderedDict([("hidden", nn.Linear(2, 3)), ("act", nn.Tanh()), ("out", nn.Linear(3, 1))])
    model = nn.Sequential(layers)
    reference = torch.nn.Sequential(OrderedDict([("hidden", copy_linear(layers["hidden"])), ("act", torch.nn.Tanh()),
                                                 ("out", copy_linear(layers["out"]))]))
    assert list(model.state_dict()) == list(reference.state_dict())
    assert model.hidden is layers["hidden"] and model[0] is layers["hidden"] and model[-1] is layers["out"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and [n for n, _ in head.named_children()] == ["hidden", "act"]
    assert head[0] is model[0]  # slices share the modules
    same_output(model, reference, X)
    assert repr(model) == repr(reference).replace("torch.", "")
    with pytest.raises(TypeError, match="OrderedDict"):
        nn.Sequential({"a": nn.Tanh()})


def test_sequential_indexing_errors_and_iteration():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    assert list(model) == [model[0], model[1]] and len(model) == 2
    with pytest.raises(IndexError, match="index 2 is out of range"):
        model[2]
    with pytest.raises(IndexError):
        model[-3]
    with pytest.raises(TypeError, match="not a Module"):
        model[0] = "tanh"
    with pytest.raises(TypeError, match="integers or slices"):
        model["0"]
    combined = model + nn.Sequential(nn.Linear(3, 1))
    assert len(combined) == 3 and combined[2].out_features == 1
    del model[0:2]
    assert len(model) == 0
    x = gn.tensor(X)
    assert model(x) is x


def test_errors_inside_a_sequential_name_the_layer():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"layer 2 \(Linear\) of the Sequential"):
        model(gn.tensor(X))


def test_module_list_registers_its_modules_as_torch():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    reference = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    layers.append(nn.ReLU()), reference.append(torch.nn.ReLU())
    assert repr(layers) == repr(reference)
    assert [n for n, _ in layers.named_parameters()] == [n for n, _ in reference.named_parameters()]
    layers.insert(0, nn.Tanh()), reference.insert(0, torch.nn.Tanh())
    del layers[1], reference[1]
    assert [n for n, _ in layers.named_parameters()] == [n for n, _ in reference.named_parameters()]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == len(layers) - 1
    layers += [nn.Sigmoid()]
    assert isinstance(layers[-1], nn.Sigmoid) and len(layers) == 5
    with pytest.raises(NotImplementedError):
        layers(gn.tensor(X))


class Tower(nn.Module):
    """Layers held in a ModuleList and a ModuleDict, used by a custom forward."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(2, 1), "b": nn.Linear(2, 3)})

    def forward(self, x, head):
        for block in self.blocks:
            x = block(x).tanh()
        return self.heads[head](x)


def test_module_dict_and_a_custom_forward_train_like_torch():
    model = Tower()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "heads.a.weight",
                     "heads.a.bias", "heads.b.weight", "heads.b.bias"]
    heads = model.heads
    assert list(heads) == heads.keys() == ["a", "b"] and "a" in heads and len(heads) == 2
    heads["c"] = nn.Tanh()
    assert heads.pop("c").__class__ is nn.Tanh and "c" not in heads
    del heads["b"]
    assert [n for n, _ in model.named_parameters()][-2:] == ["heads.a.weight", "heads.a.bias"]
    with pytest.raises(KeyError):
        heads["train"] = nn.Tanh()  # would hide the method, as torch refuses
    assert model(gn.tensor(X), "a").shape == (2, 1)


def test_parameter_list_and_dict():
    params = nn.ParameterList([nn.Parameter(gn.tensor(np.ones(2))), gn.tensor(np.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in params) and len(params) == 2
    params.append(gn.tensor(np.ones((2, 2))))
    assert [n for n, _ in params.named_parameters()] == ["0", "1", "2"]
    assert params[-1].shape == (2, 2) and isinstance(params[:2], nn.ParameterList)
    reference = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2, 3))])
    assert repr(nn.ParameterList([nn.Parameter(gn.tensor(np.ones((2, 3)), dtype=np.float32))])) == \
        repr(reference).replace("torch.", "")
    table = nn.ParameterDict({"w": gn.tensor(np.ones(2))})
    table["b"] = nn.Parameter(gn.tensor(np.zeros(1)))
    assert table.keys() == ["w", "b"] and isinstance(table["w"], nn.Parameter)
    assert [n for n, _ in table.named_parameters()] == ["w", "b"]
    del table["w"]
    assert list(table) == ["b"]
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        params.append(np.ones(2))


def test_a_linear_followed_by_an_identity_is_fused_and_equals_torch():
    model = nn.Sequential(nn.Linear(2, 3), nn.Identity(), nn.Linear(3, 1), nn.Identity())
    assert [type(step).__name__ for _, step in plan(model)] == ["DenseRun"]
    reference = torch.nn.Sequential(copy_linear(model[0]), torch.nn.Identity(), copy_linear(model[2]))
    same_output(model, reference, X)


def test_a_subclass_of_sequential_that_skips_its_init_still_runs():
    class Chain(nn.Sequential):
        def __init__(self):
            nn.Module.__init__(self)
            self.first = nn.Linear(2, 2)

    model = Chain()
    np.testing.assert_allclose(model(gn.tensor(X)).numpy(), model.first(gn.tensor(X)).numpy())
