"""Optimizers and schedulers against ``torch.optim``: same model, same init, same batches, 20 steps (float64)."""
import copy

import numpy as np
import pytest
import torch

import glassnet as gn
from glassnet import nn, optim

TF = torch.nn.functional
STEPS = 20
_rng = np.random.default_rng(0)
BATCHES = [(_rng.normal(size=(4, 3)), _rng.normal(size=(4, 2))) for _ in range(STEPS)]

CASES = [  # (id, optimizer name, keyword arguments, the same for glassnet and torch)
    ("SGD", "SGD", dict(lr=0.1)),
    ("SGD momentum", "SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD dampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD nesterov", "SGD", dict(lr=0.1, momentum=0.8, nesterov=True)),
    ("SGD weight_decay", "SGD", dict(lr=0.1, weight_decay=0.05)),
    ("SGD nesterov weight_decay", "SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD maximize", "SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("SGD default lr", "SGD", dict()),
    ("Adam", "Adam", dict(lr=0.01)),
    ("Adam betas eps", "Adam", dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6)),
    ("Adam amsgrad", "Adam", dict(lr=0.02, amsgrad=True)),
    ("Adam weight_decay", "Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam amsgrad weight_decay maximize", "Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam defaults", "Adam", dict()),
    ("AdamW", "AdamW", dict(lr=0.01)),
    ("AdamW weight_decay amsgrad", "AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("Adagrad", "Adagrad", dict(lr=0.1)),
    ("Adagrad lr_decay", "Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad initial_accumulator_value", "Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad weight_decay eps", "Adagrad", dict(lr=0.1, weight_decay=0.1, eps=1e-4)),
    ("Adadelta", "Adadelta", dict()),
    ("Adadelta lr rho weight_decay", "Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta maximize", "Adadelta", dict(maximize=True)),
    ("RMSprop", "RMSprop", dict(lr=0.01)),
    ("RMSprop centered", "RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop momentum", "RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop centered momentum weight_decay alpha", "RMSprop",
     dict(lr=0.005, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1, eps=1e-6)),
]
IDS = [case[0] for case in CASES]


def make_models(torch_copy, seed=0):
    gn.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    return model, torch_copy(model)


def gn_step(model, optimizer, x, y):
    optimizer.zero_grad()
    nn.MSELoss()(model(x), y).backward()
    optimizer.step()


def torch_step(model, optimizer, x, y):
    optimizer.zero_grad()
    TF.mse_loss(model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    optimizer.step()


def assert_same_parameters(model, reference, atol=1e-6):
    for (name, p), t in zip(model.named_parameters(), reference.parameters()):
        np.testing.assert_allclose(p._data, t.detach().numpy(), rtol=0, atol=atol, err_msg=name)


def assert_same_state(optimizer, reference, params, torch_params):
    """Every buffer PyTorch keeps (and the step count) equals glassnet's, parameter by parameter."""
    state = optimizer.state
    for i, (p, t) in enumerate(zip(params, torch_params)):
        theirs = reference.state.get(t, {})
        mine = state.get(p, {})
        if theirs:
            assert mine, f"parameter {i}: PyTorch keeps state, glassnet none"
        for key, value in theirs.items():
            if key == "step":
                assert mine["step"] == int(value), f"parameter {i}: step {mine['step']} vs {int(value)}"
            elif value is not None:
                np.testing.assert_allclose(mine[key], value.numpy(), rtol=0, atol=1e-6, err_msg=f"{i}.{key}")


@pytest.mark.parametrize("name, optimizer, kwargs", CASES, ids=IDS)
def test_optimizer_matches_torch_for_20_steps(torch_copy, name, optimizer, kwargs):
    model, reference = make_models(torch_copy)
    opt = getattr(optim, optimizer)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, optimizer)(reference.parameters(), **kwargs)
    start = [p._data.copy() for p in model.parameters()]
    for x, y in BATCHES:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)
    assert_same_state(opt, topt, list(model.parameters()), list(reference.parameters()))
    moved = max(np.abs(p._data - s).max() for p, s in zip(model.parameters(), start))
    assert moved > 1e-3, "the optimizer hardly moved the parameters: the comparison would prove nothing"
    assert all(p.dtype == np.float64 for p in model.parameters())


@pytest.mark.parametrize("optimizer", ["SGD", "Adam", "AdamW", "Adagrad", "Adadelta", "RMSprop"])
def test_defaults_are_pytorchs(optimizer):
    mine = getattr(optim, optimizer)([nn.Parameter(np.zeros(2))]).defaults
    theirs = getattr(torch.optim, optimizer)([torch.nn.Parameter(torch.zeros(2))]).defaults
    assert {"lr", "weight_decay", "maximize"} <= set(mine)
    for key, value in mine.items():
        assert key in theirs and theirs[key] == value, \
            f"{optimizer} default {key}={value!r}, torch has {theirs.get(key)!r}"


@pytest.mark.parametrize("optimizer, kwargs", [("SGD", dict(momentum=0.9)), ("Adam", {}),
                                               ("RMSprop", dict(centered=True))])
def test_param_groups_with_different_lr(torch_copy, optimizer, kwargs):
    model, reference = make_models(torch_copy)
    groups = lambda m: [{"params": list(m[0].parameters()), "lr": 0.1}, {"params": list(m[2].parameters())}]
    opt = getattr(optim, optimizer)(groups(model), lr=0.01, **kwargs)
    topt = getattr(torch.optim, optimizer)(groups(reference), lr=0.01, **kwargs)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    for x, y in BATCHES:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)
    single = make_models(torch_copy)[0]
    one_lr = getattr(optim, optimizer)(single.parameters(), lr=0.01, **kwargs)
    for x, y in BATCHES:
        gn_step(single, one_lr, x, y)
    assert not np.allclose(single[0].weight._data, model[0].weight._data), "the group's lr made no difference"


@pytest.mark.parametrize("set_to_none", [True, False], ids=["grad None (skipped)", "grad zero (stepped)"])
@pytest.mark.parametrize("name, optimizer, kwargs", [CASES[1], CASES[10], CASES[16], CASES[22], CASES[26]],
                         ids=[IDS[1], IDS[10], IDS[16], IDS[22], IDS[26]])
def test_parameter_without_gradient_in_some_steps(name, optimizer, kwargs, set_to_none):
    """A parameter that takes no part in a step has grad None and is skipped, as PyTorch does: its step count
    and buffers stay; with zeroed (not None) grads it is stepped."""
    rng = np.random.default_rng(1)
    start = [rng.normal(size=(3,)), rng.normal(size=(2, 3)), rng.normal(size=(2,))]
    mine = [nn.Parameter(a.copy()) for a in start]
    theirs = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in start]
    opt = getattr(optim, optimizer)(mine, **kwargs)
    topt = getattr(torch.optim, optimizer)(theirs, **kwargs)
    for step, (x, _) in enumerate(BATCHES):
        uses = [True, step % 3 == 1, step >= 5]  # the last one gets its first gradient at step 5
        for params, o, lib in ((mine, opt, gn), (theirs, topt, torch)):
            o.zero_grad(set_to_none=set_to_none)
            xs = lib.tensor(x[0])
            loss = ((params[0] * xs).tanh() ** 2).sum()
            if uses[1]:
                loss = loss + (params[1] @ xs).tanh().sum()
            if uses[2]:
                loss = loss + (params[2] * params[2]).sum() * 0.5
            loss.backward()
            o.step()
    for p, t in zip(mine, theirs):
        np.testing.assert_allclose(p._data, t.detach().numpy(), rtol=0, atol=1e-6)
    assert_same_state(opt, topt, mine, theirs)
    if set_to_none and optimizer != "SGD":  # the skipped parameters took fewer steps (SGD keeps no step, as torch)
        assert [opt.state[p]["step"] for p in mine] == [STEPS, 7, STEPS - 5]


@pytest.mark.parametrize("name, optimizer, kwargs", [CASES[2], CASES[12], CASES[18], CASES[21], CASES[26]],
                         ids=[IDS[2], IDS[12], IDS[18], IDS[21], IDS[26]])
def test_state_dict_round_trip_continues_identically(torch_copy, name, optimizer, kwargs):
    model, reference = make_models(torch_copy)
    opt = getattr(optim, optimizer)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, optimizer)(reference.parameters(), **kwargs)
    for x, y in BATCHES[:10]:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    saved = opt.state_dict()
    snapshot = copy.deepcopy(saved)
    theirs = topt.state_dict()
    assert list(saved) == ["state", "param_groups"] and sorted(saved["state"]) == sorted(theirs["state"])
    assert saved["param_groups"][0]["params"] == theirs["param_groups"][0]["params"]
    for index, entry in saved["state"].items():
        assert set(theirs["state"][index]) <= set(entry)

    clone, _ = make_models(torch_copy, seed=1)
    clone.load_state_dict(model.state_dict())
    resumed = getattr(optim, optimizer)(clone.parameters(), lr=0.5)
    resumed.load_state_dict(copy.deepcopy(saved))
    assert resumed.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    for x, y in BATCHES[10:]:
        gn_step(model, opt, x, y)
        gn_step(clone, resumed, x, y)
        torch_step(reference, topt, x, y)
    for p, q in zip(model.parameters(), clone.parameters()):
        np.testing.assert_array_equal(p._data, q._data)
    assert_same_parameters(clone, reference)
    for index, entry in snapshot["state"].items():  # the saved state is a copy, not a view that kept moving
        for key, value in entry.items():
            np.testing.assert_array_equal(saved["state"][index][key], value)


# --- state dicts in PyTorch's layout, both ways ------------------------------------------------------------------

def torch_to_arrays(state_dict):
    """A torch optimizer's state dict with every tensor as a NumPy array (what a user converts, or gn.load reads)."""
    return {"state": {index: {key: value.numpy().copy() for key, value in entry.items()}
                      for index, entry in state_dict["state"].items()},
            "param_groups": copy.deepcopy(state_dict["param_groups"])}


def arrays_to_torch(state_dict):
    """glassnet's state dict with every array as a torch tensor (numbers, such as step, stay numbers)."""
    return {"state": {index: {key: torch.from_numpy(value.copy()) if isinstance(value, np.ndarray) else value
                              for key, value in entry.items()}
                      for index, entry in state_dict["state"].items()},
            "param_groups": copy.deepcopy(state_dict["param_groups"])}


def assert_same_layout(mine, theirs):
    """Same parameter indices with the same state keys, and the same group keys and hyper-parameters."""
    assert list(mine) == ["state", "param_groups"]
    assert sorted(mine["state"]) == sorted(theirs["state"])
    for index, entry in theirs["state"].items():
        assert set(mine["state"][index]) == set(entry), f"parameter {index}: {set(mine['state'][index])}"
        for key, value in entry.items():
            np.testing.assert_allclose(np.asarray(mine["state"][index][key]), value.numpy(), rtol=0, atol=1e-6,
                                       err_msg=f"{index}.{key}")
    for mine_group, their_group in zip(mine["param_groups"], theirs["param_groups"]):
        assert set(mine_group) == set(their_group), set(mine_group) ^ set(their_group)
        for key, value in their_group.items():
            assert mine_group[key] == (list(value) if isinstance(value, tuple) and key != "betas" else value), key


CONVERSIONS = [  # (id, optimizer, keyword arguments): every optimizer, each with state in all its buffers
    ("SGD", "SGD", dict(lr=0.1, weight_decay=0.01)),
    ("SGD momentum", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.1)),
    ("SGD nesterov", "SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("Adam", "Adam", dict(lr=0.01)),
    ("Adam amsgrad", "Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
    ("AdamW", "AdamW", dict(lr=0.02, weight_decay=0.3)),
    ("Adagrad", "Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.2)),
    ("Adadelta", "Adadelta", dict(lr=0.5, rho=0.8)),
    ("RMSprop", "RMSprop", dict(lr=0.01)),
    ("RMSprop centered momentum", "RMSprop", dict(lr=0.005, centered=True, momentum=0.5)),
]


def _two_groups(model, optimizer, kwargs, lib):
    """The optimizer over two param groups (the second with its own lr), as a torch user writes it."""
    first, second = (list(model[0].parameters()), list(model[2].parameters()))
    namespace = optim if lib is gn else torch.optim
    return getattr(namespace, optimizer)([{"params": first}, {"params": second, "lr": kwargs["lr"] / 2}], **kwargs)


@pytest.mark.parametrize("name, optimizer, kwargs", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_a_torch_optimizers_state_dict_loads_and_training_continues_identically(torch_copy, name, optimizer, kwargs):
    model, reference = make_models(torch_copy)
    topt = _two_groups(reference, optimizer, kwargs, torch)
    for x, y in BATCHES[:10]:
        torch_step(reference, topt, x, y)
    model.load_state_dict({key: value.detach().numpy().copy() for key, value in reference.state_dict().items()})
    opt = _two_groups(model, optimizer, dict(kwargs, lr=0.7), gn)  # lr and state come from the state dict
    opt.load_state_dict(torch_to_arrays(topt.state_dict()))
    assert_same_layout(opt.state_dict(), topt.state_dict())
    for x, y in BATCHES[10:]:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)
    assert_same_layout(opt.state_dict(), topt.state_dict())


@pytest.mark.parametrize("name, optimizer, kwargs", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_glassnets_state_dict_loads_into_torch_and_training_continues_identically(torch_copy, name, optimizer,
                                                                                   kwargs):
    model, reference = make_models(torch_copy)
    opt = _two_groups(model, optimizer, kwargs, gn)
    for x, y in BATCHES[:10]:
        gn_step(model, opt, x, y)
    reference.load_state_dict({key: torch.from_numpy(np.array(value)) for key, value in
                               model.state_dict().items()})
    topt = _two_groups(reference, optimizer, dict(kwargs, lr=0.7), torch)
    topt.load_state_dict(arrays_to_torch(opt.state_dict()))
    assert_same_layout(opt.state_dict(), topt.state_dict())
    for x, y in BATCHES[10:]:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)


def test_state_dict_before_any_step_is_torchs():
    for optimizer, kwargs in [("SGD", dict(momentum=0.9)), ("Adam", {}), ("Adagrad", dict(lr=0.1))]:
        mine = getattr(optim, optimizer)([nn.Parameter(np.ones(2))], **kwargs).state_dict()
        theirs = getattr(torch.optim, optimizer)([torch.nn.Parameter(torch.ones(2, dtype=torch.float64))],
                                                 **kwargs).state_dict()
        assert_same_layout(mine, theirs)


def test_load_state_dict_names_what_does_not_fit():
    p, q = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))
    adam = optim.Adam([p, q])
    p.grad, q.grad = gn.tensor(np.ones(2)), gn.tensor(np.ones(3))
    adam.step()
    saved = adam.state_dict()
    with pytest.raises(ValueError, match="1 param group.*2"):
        optim.Adam([{"params": [p]}, {"params": [q]}]).load_state_dict(saved)
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict, 1"):
        optim.Adam([p]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"exp_avg of parameter 0 has shape \(2,\), the parameter \(3,\)"):
        optim.Adam([q, p]).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"betas.*amsgrad|option"):
        optim.SGD([p, q], momentum=0.9).load_state_dict(saved)
    bad = copy.deepcopy(saved)
    bad["param_groups"][0]["lr"] = float("nan")
    with pytest.raises(ValueError, match="lr"):
        optim.Adam([p, q]).load_state_dict(bad)


def test_add_param_group_after_steps_matches_torch(torch_copy):
    """Unfreezing a layer: the second layer joins with its own lr after 5 steps, without state, as in torch."""
    model, reference = make_models(torch_copy)
    opt = optim.Adam(model[0].parameters(), lr=0.01)
    topt = torch.optim.Adam(reference[0].parameters(), lr=0.01)
    for step, (x, y) in enumerate(BATCHES):
        if step == 5:
            opt.add_param_group({"params": list(model[2].parameters()), "lr": 0.05})
            topt.add_param_group({"params": list(reference[2].parameters()), "lr": 0.05})
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)
    assert_same_layout(opt.state_dict(), topt.state_dict())
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.05]
    with pytest.raises(ValueError, match="more than one param group"):
        opt.add_param_group({"params": [model[0].weight]})
    with pytest.raises(TypeError, match="not a set"):
        opt.add_param_group({"params": {nn.Parameter(np.zeros(1))}})
    with pytest.raises(ValueError, match="not a leaf"):
        opt.add_param_group({"params": [nn.Parameter(np.zeros(1)) * 2]})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("optimizer, option", [("SGD", "lr"), ("SGD", "momentum"), ("Adam", "lr"), ("Adam", "eps"),
                                               ("AdamW", "weight_decay"), ("Adagrad", "lr_decay"),
                                               ("Adadelta", "rho"), ("RMSprop", "alpha"), ("Adam", "betas")])
def test_nan_and_inf_hyper_parameters_are_refused_naming_the_option(optimizer, option, value):
    kwargs = {option: (0.9, value) if option == "betas" else value}
    with pytest.raises(ValueError, match=option):
        getattr(optim, optimizer)([nn.Parameter(np.zeros(2))], **kwargs)
    with pytest.raises(ValueError, match=option):  # in a param group too
        getattr(optim, optimizer)([{"params": [nn.Parameter(np.zeros(2))], **kwargs}])


def test_named_parameters_keep_their_names_in_the_groups_as_torch():
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3))
    reference = torch.nn.Sequential(torch.nn.Linear(2, 3))
    mine, theirs = optim.SGD(model.named_parameters(), lr=0.1), torch.optim.SGD(reference.named_parameters(), lr=0.1)
    assert mine.param_groups[0]["param_names"] == ["0.weight", "0.bias"] == theirs.param_groups[0]["param_names"]
    assert_same_layout(mine.state_dict(), theirs.state_dict())
    mine.load_state_dict(theirs.state_dict())
    assert mine.param_groups[0]["params"] == list(model.parameters())


def test_torchs_implementation_switches_are_accepted_and_differentiable_is_refused():
    p = nn.Parameter(np.zeros(2))
    opt = optim.Adam([p], foreach=True, fused=False, capturable=True)
    assert opt.param_groups[0]["foreach"] is True
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.SGD([p], differentiable=True)


def test_optimizer_keeps_working_after_model_double(torch_copy):
    gn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))
    assert model[0].weight.dtype == np.float32
    reference = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).double()
    reference.load_state_dict(model.state_dict())
    opt = optim.Adam(model.parameters(), lr=0.01)
    ref_opt = optim.Adam(reference.parameters(), lr=0.01)
    for x, y in BATCHES[:5]:
        gn_step(model, opt, x.astype(np.float32), y.astype(np.float32))
        gn_step(reference, ref_opt, x, y)
    model.double()
    before = model[0].weight._data.copy()
    for x, y in BATCHES[5:]:
        gn_step(model, opt, x, y)
        gn_step(reference, ref_opt, x, y)
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert all(buffer.dtype == np.float64 for entry in opt.state.values() for key, buffer in entry.items()
               if key != "step")
    assert not np.array_equal(model[0].weight._data, before), "the optimizer no longer updates the model"
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p._data, q._data, atol=1e-5)  # float32 for 5 steps, then float64


@pytest.mark.parametrize("name, optimizer, kwargs", [CASES[1], CASES[10], CASES[23]], ids=[IDS[1], IDS[10], IDS[23]])
def test_optimizer_keeps_working_after_model_load_state_dict(torch_copy, name, optimizer, kwargs):
    model, reference = make_models(torch_copy)
    opt = getattr(optim, optimizer)(model.parameters(), **kwargs)
    topt = getattr(torch.optim, optimizer)(reference.parameters(), **kwargs)
    for x, y in BATCHES[:5]:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    other, other_reference = make_models(torch_copy, seed=3)
    model.load_state_dict(other.state_dict())
    reference.load_state_dict(other_reference.state_dict())
    for x, y in BATCHES[5:]:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)


STRICTER = [  # lr = 0 is accepted by PyTorch (a frozen optimizer) but rejected by glassnet as a likely mistake
    ("SGD", dict(lr=0), "lr"), ("AdamW", dict(lr=0), "lr"), ("Adagrad", dict(lr=0), "lr"),
    ("RMSprop", dict(lr=0), "lr"), ("Adadelta", dict(lr=0.0), "lr"),
]
BAD = [  # (optimizer, keyword arguments, the option the message must name)
    ("SGD", dict(lr=-0.1), "lr"), ("SGD", dict(lr=0.1, momentum=-0.5), "momentum"),
    ("SGD", dict(lr=0.1, weight_decay=-1), "weight_decay"), ("SGD", dict(lr=0.1, nesterov=True), "momentum"),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
    ("Adam", dict(lr=-1e-3), "lr"), ("Adam", dict(betas=(1.0, 0.999)), r"betas\[0\]"),
    ("Adam", dict(betas=(0.9, -0.1)), r"betas\[1\]"), ("Adam", dict(eps=-1e-8), "eps"),
    ("Adam", dict(weight_decay=-0.1), "weight_decay"),
    ("AdamW", dict(betas=(0.9, 1.5)), r"betas\[1\]"),
    ("Adagrad", dict(lr_decay=-1), "lr_decay"),
    ("Adagrad", dict(initial_accumulator_value=-1), "initial_accumulator_value"), ("Adagrad", dict(eps=-1), "eps"),
    ("Adadelta", dict(lr=-1), "lr"), ("Adadelta", dict(rho=1.5), "rho"), ("Adadelta", dict(eps=-1), "eps"),
    ("RMSprop", dict(alpha=-0.1), "alpha"), ("RMSprop", dict(momentum=-1), "momentum"),
    ("RMSprop", dict(eps=-1), "eps"), ("RMSprop", dict(weight_decay=-1), "weight_decay"),
]


@pytest.mark.parametrize("optimizer, kwargs, option", BAD + STRICTER, ids=[f"{o} {k}" for o, k, _ in BAD + STRICTER])
def test_bad_hyper_parameters_raise_value_error_naming_the_option(optimizer, kwargs, option):
    with pytest.raises(ValueError, match=option):
        getattr(optim, optimizer)([nn.Parameter(np.zeros(2))], **kwargs)
    if (optimizer, kwargs, option) in BAD:
        with pytest.raises(ValueError):  # the oracle agrees the value is bad
            getattr(torch.optim, optimizer)([torch.nn.Parameter(torch.zeros(2))], **kwargs)


def test_amsgrad_can_be_set_per_group_like_pytorch(torch_copy):
    model, reference = make_models(torch_copy)
    groups = lambda m: [{"params": list(m[0].parameters()), "amsgrad": True}, {"params": list(m[2].parameters())}]
    opt, topt = optim.Adam(groups(model), lr=0.02), torch.optim.Adam(groups(reference), lr=0.02)
    for x, y in BATCHES:
        gn_step(model, opt, x, y)
        torch_step(reference, topt, x, y)
    assert_same_parameters(model, reference)
    assert_same_state(opt, topt, list(model.parameters()), list(reference.parameters()))


def test_bad_parameters_and_options():
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="requires_grad"):
        optim.SGD([gn.tensor(np.zeros(2))], lr=0.1)
    with pytest.raises(TypeError, match="momentun"):
        optim.SGD([{"params": [nn.Parameter(np.zeros(2))], "momentun": 0.9}], lr=0.1)
    p = nn.Parameter(np.zeros(2))
    with pytest.raises(ValueError, match="more than one"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.SGD([{"params": [p], "lr": -1}], lr=0.1)


def test_zero_grad_clears_gradients():
    p = nn.Parameter(np.ones(3))
    opt = optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.zero_grad()
    assert p.grad is None
    (p * p).sum().backward()
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad._data, np.zeros(3))


# --- learning-rate schedulers ------------------------------------------------------------------------------------

def _scheduled(make_optimizer_params, scheduler, kwargs, metrics=None):
    """lr of every group after each of 30 epochs."""
    lrs = []
    optimizer, sched = make_optimizer_params(scheduler, kwargs)
    for epoch in range(30):
        optimizer.step()
        sched.step(*([metrics[epoch]] if metrics is not None else []))
        lrs.append([group["lr"] for group in optimizer.param_groups])
        assert list(sched.get_last_lr()) == lrs[-1]
    return lrs


def _gn_pair(scheduler, kwargs):
    opt = optim.SGD([{"params": [nn.Parameter(np.zeros(2))], "lr": 0.1}, {"params": [nn.Parameter(np.zeros(2))]}],
                    lr=0.03, momentum=0.9)
    return opt, getattr(optim, scheduler)(opt, **kwargs)


def _torch_pair(scheduler, kwargs):
    opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": 0.1},
                           {"params": [torch.nn.Parameter(torch.zeros(2))]}], lr=0.03, momentum=0.9)
    return opt, getattr(torch.optim.lr_scheduler, scheduler)(opt, **kwargs)


_noise = np.random.default_rng(5).normal(size=30)
DESCENDING = np.concatenate([np.linspace(1.0, 0.6, 8), 0.6 + 0.003 * _noise[:22]])
SCHEDULES = [  # (id, scheduler, keyword arguments, metric per epoch or None)
    ("StepLR", "StepLR", dict(step_size=3), None),
    ("StepLR gamma", "StepLR", dict(step_size=4, gamma=0.5), None),
    ("ExponentialLR", "ExponentialLR", dict(gamma=0.9), None),
    ("Plateau min", "ReduceLROnPlateau", dict(patience=2), DESCENDING),
    ("Plateau max", "ReduceLROnPlateau", dict(mode="max", patience=2), -DESCENDING),
    ("Plateau rel threshold", "ReduceLROnPlateau", dict(patience=1, threshold=0.05), DESCENDING),
    ("Plateau abs threshold", "ReduceLROnPlateau", dict(patience=1, threshold=0.004, threshold_mode="abs"),
     DESCENDING),
    ("Plateau max abs", "ReduceLROnPlateau", dict(mode="max", threshold=0.01, threshold_mode="abs"), 1 - DESCENDING),
    ("Plateau cooldown", "ReduceLROnPlateau", dict(patience=0, cooldown=3, factor=0.5), DESCENDING),
    ("Plateau min_lr", "ReduceLROnPlateau", dict(patience=0, factor=0.3, min_lr=0.005), DESCENDING),
    ("Plateau eps", "ReduceLROnPlateau", dict(patience=0, factor=0.9, eps=0.003), 0.5 + 0.0 * DESCENDING),
    ("Plateau min_lr per group", "ReduceLROnPlateau", dict(patience=0, factor=0.5, min_lr=[0.02, 0.001]),
     DESCENDING),
    ("MultiStepLR", "MultiStepLR", dict(milestones=[3, 7, 7, 12]), None),
    ("MultiStepLR gamma", "MultiStepLR", dict(milestones=[12, 2], gamma=0.5), None),
    ("CosineAnnealingLR", "CosineAnnealingLR", dict(T_max=10), None),
    ("CosineAnnealingLR eta_min", "CosineAnnealingLR", dict(T_max=7, eta_min=0.004), None),
    ("LambdaLR", "LambdaLR", dict(lr_lambda=lambda epoch: 0.9 ** epoch), None),
    ("LambdaLR per group", "LambdaLR", dict(lr_lambda=[lambda e: 1 / (1 + e), lambda e: min(1.0, (e + 1) / 5)]),
     None),
    ("LinearLR warm-up", "LinearLR", dict(), None),
    ("LinearLR decay", "LinearLR", dict(start_factor=1.0, end_factor=0.1, total_iters=12), None),
    ("OneCycleLR", "OneCycleLR", dict(max_lr=0.5, total_steps=30), None),
    ("OneCycleLR per group, linear", "OneCycleLR",
     dict(max_lr=[0.5, 0.2], epochs=3, steps_per_epoch=10, anneal_strategy="linear", pct_start=0.4), None),
    ("OneCycleLR three phase", "OneCycleLR", dict(max_lr=0.3, total_steps=30, three_phase=True, div_factor=10.0),
     None),
    ("OneCycleLR no momentum", "OneCycleLR", dict(max_lr=0.3, total_steps=30, cycle_momentum=False), None),
]


@pytest.mark.parametrize("name, scheduler, kwargs, metrics", SCHEDULES, ids=[case[0] for case in SCHEDULES])
def test_scheduler_lr_sequence_matches_torch(name, scheduler, kwargs, metrics):
    mine = _scheduled(_gn_pair, scheduler, kwargs, metrics)
    theirs = _scheduled(_torch_pair, scheduler, kwargs, metrics)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=0)
    assert len({tuple(lrs) for lrs in mine}) > 1, "the schedule never changed the lr: nothing was tested"


@pytest.mark.parametrize("optimizer, kwargs, momentum", [("SGD", dict(lr=0.1, momentum=0.9), "momentum"),
                                                         ("Adam", dict(lr=0.01), "betas")])
def test_one_cycle_moves_momentum_or_beta1_as_torch(optimizer, kwargs, momentum):
    mine_opt = getattr(optim, optimizer)([nn.Parameter(np.zeros(2))], **kwargs)
    their_opt = getattr(torch.optim, optimizer)([torch.nn.Parameter(torch.zeros(2))], **kwargs)
    mine = optim.OneCycleLR(mine_opt, max_lr=0.4, total_steps=20, three_phase=True, max_momentum=0.9)
    theirs = torch.optim.lr_scheduler.OneCycleLR(their_opt, max_lr=0.4, total_steps=20, three_phase=True,
                                                 max_momentum=0.9)
    seen = set()
    for _ in range(20):
        mine_opt.step()
        their_opt.step()
        mine.step()
        theirs.step()
        ours, reference = mine_opt.param_groups[0], their_opt.param_groups[0]
        np.testing.assert_allclose(np.ravel(ours[momentum]), np.ravel(reference[momentum]), rtol=1e-12)
        np.testing.assert_allclose(ours["lr"], reference["lr"], rtol=1e-12)
        seen.add(np.ravel(ours[momentum])[0])
    assert len(seen) > 5
    with pytest.raises(ValueError, match="total_steps is 20"):
        mine.step()


def _scheduler_pair(lib, scheduler, kwargs):
    return (_gn_pair if lib is gn else _torch_pair)(scheduler, kwargs)


def _torch_optimizer_to_arrays(state_dict):
    return {"state": {i: {k: v.numpy().copy() for k, v in e.items()} for i, e in state_dict["state"].items()},
            "param_groups": copy.deepcopy(state_dict["param_groups"])}


@pytest.mark.parametrize("direction", ["torch to glassnet", "glassnet to torch"])
@pytest.mark.parametrize("name, scheduler, kwargs, metrics", [c for c in SCHEDULES if "LambdaLR" not in c[1]]
                         + [("LambdaLR", "LambdaLR", dict(lr_lambda=lambda e: 0.9 ** e), None)],
                         ids=[c[0] for c in SCHEDULES if "LambdaLR" not in c[1]] + ["LambdaLR"])
def test_scheduler_state_dict_moves_between_torch_and_glassnet(name, scheduler, kwargs, metrics, direction):
    """After 7 epochs of one library, the other library's scheduler (and optimizer) loads both state dicts and
    continues with the same learning rates."""
    source, target = (torch, gn) if direction == "torch to glassnet" else (gn, torch)
    source_opt, source_sched = _scheduler_pair(source, scheduler, kwargs)
    extra = lambda epoch: [metrics[epoch]] if metrics is not None else []  # noqa: E731
    for epoch in range(7):
        source_opt.step()
        source_sched.step(*extra(epoch))
    target_opt, target_sched = _scheduler_pair(target, scheduler, kwargs)
    if target is gn:
        target_opt.load_state_dict(_torch_optimizer_to_arrays(source_opt.state_dict()))
    else:
        target_opt.load_state_dict(copy.deepcopy(source_opt.state_dict()))
    target_sched.load_state_dict(copy.deepcopy(source_sched.state_dict()))
    assert target_sched.get_last_lr() == source_sched.get_last_lr()
    for epoch in range(7, 25):
        for opt, sched in ((source_opt, source_sched), (target_opt, target_sched)):
            opt.step()
            sched.step(*extra(epoch))
        np.testing.assert_allclose(target_sched.get_last_lr(), source_sched.get_last_lr(), rtol=1e-12)
        np.testing.assert_allclose([g["lr"] for g in target_opt.param_groups],
                                   [g["lr"] for g in source_opt.param_groups], rtol=1e-12)


def test_lambda_lr_state_dict_keeps_callable_objects_state_as_torch():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate ** epoch

    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0)
    sched = optim.LambdaLR(opt, Decay(0.5))
    saved = sched.state_dict()
    assert saved["lr_lambdas"] == [{"rate": 0.5}]
    other = optim.LambdaLR(optim.SGD([nn.Parameter(np.zeros(1))], lr=1.0), Decay(0.9))
    other.load_state_dict(saved)
    assert other.lr_lambdas[0].rate == 0.5
    assert optim.LambdaLR(opt, lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


def test_resuming_a_schedule_needs_initial_lr():
    with pytest.raises(KeyError, match="initial_lr"):
        optim.StepLR(optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1), step_size=2, last_epoch=3)


def test_scheduled_lr_is_the_one_the_optimizer_uses():
    p = nn.Parameter(np.zeros(1))
    opt = optim.SGD([p], lr=1.0)
    sched = optim.StepLR(opt, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        before = p._data.copy()
        p.grad = gn.tensor(np.ones(1))
        opt.step()
        sched.step()
        moves.append(float(before[0] - p._data[0]))
    assert moves == [1.0, 0.5, 0.25]


def test_scheduler_bad_arguments():
    opt = optim.SGD([nn.Parameter(np.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="step_size"):
        optim.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="mode"):
        optim.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="factor"):
        optim.ReduceLROnPlateau(opt, factor=1.5)
    with pytest.raises(ValueError, match="threshold_mode"):
        optim.ReduceLROnPlateau(opt, threshold_mode="relative")
    with pytest.raises(ValueError, match="min_lr has 2 values for 1 param groups"):
        optim.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])
    with pytest.raises(ValueError, match="milestones"):
        optim.MultiStepLR(opt, milestones=[2, -1])
    with pytest.raises(ValueError, match="T_max"):
        optim.CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="start_factor"):
        optim.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="total_iters"):
        optim.LinearLR(opt, total_iters=0)
    with pytest.raises(ValueError, match="lr_lambda has 2 values for 1 param groups"):
        optim.LambdaLR(opt, [lambda e: 1.0, lambda e: 1.0])
    with pytest.raises(ValueError, match="total_steps, or epochs and steps_per_epoch"):
        optim.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="pct_start"):
        optim.OneCycleLR(opt, max_lr=0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="cycle_momentum"):
        optim.OneCycleLR(optim.Adagrad([nn.Parameter(np.zeros(1))]), max_lr=0.1, total_steps=10)
    with pytest.raises(TypeError, match="Optimizer"):
        optim.CosineAnnealingLR(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))]), T_max=3)


# --- where gradients live, scratch and subnormal numbers ---------------------------------------------------------

def tiny_model():
    gn.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def backward_once(model, scale=1.0):
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    (model(gn.tensor(x)).sum() * scale).backward()


def test_backward_writes_gradients_into_the_optimizers_flat_buffer():
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    flat = opt._flat[0]
    for _ in range(3):
        opt.zero_grad()
        backward_once(model)
        assert all(p.grad._data.base is flat.grad for p in model.parameters()), "gradients were allocated elsewhere"
        gathered = np.concatenate([p.grad._data.ravel() for p in model.parameters()])
        np.testing.assert_array_equal(flat.gradient(), gathered)
        opt.step()


def test_a_gradient_someone_holds_is_never_overwritten():
    """PyTorch gives a fresh gradient after zero_grad(set_to_none=True): one kept from before must not change."""
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    backward_once(model)
    kept_tensor = model[0].weight.grad
    kept_array, kept_values = model[2].bias.grad._data, model[2].bias.grad._data.copy()
    before = kept_tensor._data.copy()
    opt.zero_grad()
    backward_once(model, scale=3.0)
    np.testing.assert_array_equal(kept_tensor._data, before)
    np.testing.assert_array_equal(kept_array, kept_values)
    np.testing.assert_allclose(model[0].weight.grad._data, 3 * before, rtol=1e-6)
    assert model[0].weight.grad is not kept_tensor
    opt.step()  # gathers the gradients that are not in the buffer: the step is still right
    np.testing.assert_allclose(opt._flat[0].grad[:12], 3 * before.ravel(), rtol=1e-6)


def test_accumulation_in_the_buffer_is_in_place_and_exact():
    model, reference = tiny_model(), tiny_model()
    optim.SGD(model.parameters(), lr=0.1)
    backward_once(model)
    first = model[0].weight.grad
    backward_once(model, scale=2.0)
    assert model[0].weight.grad is first  # added in place, as PyTorch's AccumulateGrad does
    backward_once(reference, scale=3.0)
    for p, q in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(p.grad._data, q.grad._data, rtol=1e-6)


def test_copies_and_pickles_of_a_trained_model_carry_no_gradient_store():
    import copy
    import pickle
    model = tiny_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    backward_once(model)
    opt.step()
    for make_copy in (copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))):
        clone = make_copy(model)
        assert all(p._grad_store is None for p in clone.parameters())
        for p, q in zip(model.parameters(), clone.parameters()):
            np.testing.assert_array_equal(q._data, p._data)
            np.testing.assert_array_equal(q.grad._data, p.grad._data)
            assert q.grad._data.base is not opt._flat[0].grad
        clone_opt = optim.SGD(clone.parameters(), lr=0.1)  # a copy trains as the original does
        for m, o in ((model, opt), (clone, clone_opt)):
            o.zero_grad()
            backward_once(m)
            o.step()
        for p, q in zip(model.parameters(), clone.parameters()):
            np.testing.assert_array_equal(q._data, p._data)
        assert all(q.grad._data.base is clone_opt._flat[0].grad for q in clone.parameters())


def test_a_second_optimizer_over_the_same_parameters_still_steps_right():
    model = tiny_model()
    first, second = optim.SGD(model.parameters(), lr=1.0), optim.SGD(model.parameters(), lr=1.0)
    backward_once(model)
    grads = [p.grad._data.copy() for p in model.parameters()]
    start = [p._data.copy() for p in model.parameters()]
    first.step()  # the gradients lie in the second optimizer's buffer: the first one must gather them
    for p, s, g in zip(model.parameters(), start, grads):
        np.testing.assert_allclose(p._data, s - g, rtol=1e-6)


def test_subnormal_state_is_flushed_to_zero_every_few_steps():
    """A weight whose gradient stays 0 lets Adam's first moment decay into subnormal numbers, on which arithmetic is
    many times slower; they are set to 0 every FLUSH_EVERY steps, and normal values are left alone."""
    from glassnet.optim.optimizer import FLUSH_EVERY
    w = nn.Parameter(np.ones(4, dtype=np.float32))
    opt = optim.Adam([w], lr=1e-3)
    w.grad = gn.tensor(np.ones(4, dtype=np.float32))
    opt.step()
    exp_avg = opt.state[w]["exp_avg"]._data  # the optimizer's own buffer
    exp_avg[:2] = [1e-39, -3e-40]  # subnormal in float32
    normal = exp_avg[2:].copy() * 0.9 ** (FLUSH_EVERY - 1)
    w.grad = gn.tensor(np.zeros(4, dtype=np.float32))
    for _ in range(FLUSH_EVERY - 1):
        opt.step()
    state = {key: np.asarray(value) for key, value in opt.state[w].items()}
    assert np.all(state["exp_avg"][:2] == 0)
    np.testing.assert_allclose(state["exp_avg"][2:], normal, rtol=1e-5)
    assert np.all(state["exp_avg_sq"] > 0)


@pytest.mark.parametrize("name, optimizer, kwargs", CASES, ids=IDS)
def test_the_step_of_a_large_group_allocates_no_temporaries_of_its_size(name, optimizer, kwargs):
    """Rules work in place on the group's scratch buffer (a fresh model-sized temporary per operation made large
    models' steps 3× slower). Allowed: Adadelta's update array, and one array each for folding L2 weight decay or
    maximize into the gradient."""
    import tracemalloc
    w = nn.Parameter(np.ones(250_000, dtype=np.float32))
    opt = getattr(optim, optimizer)([w], **kwargs)
    w.grad = gn.tensor(np.full(250_000, 0.5, dtype=np.float32))
    opt.step()
    tracemalloc.start()
    opt.step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    allowed = ((optimizer == "Adadelta") + bool(kwargs.get("maximize"))
               + bool(kwargs.get("weight_decay") and optimizer != "AdamW"))
    assert peak <= allowed * w._data.nbytes + 64_000, f"{peak / w._data.nbytes:.1f} model-sized temporaries"


@pytest.mark.parametrize("name, optimizer, kwargs", CASES, ids=IDS)
def test_a_group_larger_than_a_slice_matches_torch(name, optimizer, kwargs):
    """Large groups are updated slice by slice (see Optimizer._update_flat): the same steps as PyTorch's."""
    from glassnet.optim.optimizer import SLICE
    rng = np.random.default_rng(1)
    start = rng.normal(size=2 * SLICE + 123)
    mine, theirs = nn.Parameter(start.copy()), torch.tensor(start.copy(), requires_grad=True)
    opt, topt = getattr(optim, optimizer)([mine], **kwargs), getattr(torch.optim, optimizer)([theirs], **kwargs)
    for _ in range(3):
        grad = rng.normal(size=start.shape)
        mine.grad, theirs.grad = gn.tensor(grad.copy()), torch.tensor(grad)
        opt.step()
        topt.step()
    np.testing.assert_allclose(mine._data, theirs.detach().numpy(), rtol=0, atol=1e-9)
    assert np.abs(mine._data - start).max() > 1e-4
