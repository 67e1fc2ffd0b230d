"""RNN, LSTM, GRU and their cells against PyTorch (float64, same weights) over random configurations, finite
differences, dropout between layers, state_dict round trips, dtype and errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import glassnet as gn

LAYERS = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"]


def make(mode: str, *args, **kwargs):
    """The glassnet layer of ``mode`` (float64) and the PyTorch one with the same constructor arguments."""
    name = "RNN" if mode.startswith("RNN") else mode
    if mode.startswith("RNN"):
        kwargs["nonlinearity"] = "relu" if mode == "RNN_RELU" else "tanh"
    return (getattr(gn.nn, name)(*args, dtype=np.float64, **kwargs),
            getattr(torch.nn, name)(*args, dtype=torch.float64, **kwargs))


def random_config(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return dict(mode=LAYERS[seed % 4], input_size=int(rng.integers(1, 5)), hidden_size=int(rng.integers(1, 6)),
                num_layers=int(rng.integers(1, 4)), bidirectional=bool(rng.integers(2)),
                batch_first=bool(rng.integers(2)), bias=bool(rng.random() < 0.8), unbatched=bool(rng.random() < 0.25),
                with_state=bool(rng.integers(2)), T=int(rng.integers(1, 6)), N=int(rng.integers(1, 4)))


@pytest.mark.parametrize("seed", range(24))
def test_layers_match_torch_over_random_configurations(seed, check_module):
    c = random_config(seed)
    model, reference = make(c["mode"], c["input_size"], c["hidden_size"], c["num_layers"], bias=c["bias"],
                            batch_first=c["batch_first"], bidirectional=c["bidirectional"])
    rng = np.random.default_rng(seed)
    T, N, I = c["T"], c["N"], c["input_size"]
    shape = (T, I) if c["unbatched"] else (N, T, I) if c["batch_first"] else (T, N, I)
    x = rng.uniform(-1.5, 1.5, shape)
    args = [x]
    if c["with_state"]:
        count = c["num_layers"] * (2 if c["bidirectional"] else 1)
        state_shape = (count, c["hidden_size"]) if c["unbatched"] else (count, N, c["hidden_size"])
        h0 = rng.uniform(-1, 1, state_shape)
        args.append((h0, rng.uniform(-1, 1, state_shape)) if c["mode"] == "LSTM" else h0)
    outs = check_module(model, reference, args, seed=seed)
    directions = 2 if c["bidirectional"] else 1
    assert outs[0].shape[-1] == directions * c["hidden_size"]


@pytest.mark.parametrize("seed", range(8))
def test_lstm_with_projections_matches_torch(seed, check_module):
    """proj_size: h_t = (o·tanh c_t)·W_hrᵀ of size P, weight_hr_l{k} (P, H), weight_hh (4H, P), layers > 0 fed
    D·P features; output (…, D·P), h_n (D·layers, N, P), c_n (D·layers, N, H), as torch."""
    rng = np.random.default_rng(seed)
    H = int(rng.integers(2, 6))
    P, layers, bidirectional = int(rng.integers(1, H)), int(rng.integers(1, 3)), bool(seed % 2)
    batch_first, bias, unbatched, with_state = bool(seed & 2), seed != 5, seed == 6, seed in (1, 3, 6)
    model, reference = make("LSTM", 3, H, layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                            proj_size=P)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in reference.named_parameters()]
    T, N, D = int(rng.integers(1, 5)), 2, 2 if bidirectional else 1
    x = rng.uniform(-1.5, 1.5, (T, 3) if unbatched else (N, T, 3) if batch_first else (T, N, 3))
    args = [x]
    if with_state:
        lead = (D * layers,) if unbatched else (D * layers, N)
        args.append((rng.uniform(-1, 1, lead + (P,)), rng.uniform(-1, 1, lead + (H,))))
    output, h_n, c_n = check_module(model, reference, args, seed=seed)
    assert output.shape[-1] == D * P and h_n.shape[-1] == P and c_n.shape[-1] == H
    assert repr(model) == repr(reference)


@pytest.mark.parametrize("mode", LAYERS)
@pytest.mark.parametrize("unbatched", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_cells_match_torch(mode, unbatched, with_state, check_module):
    name = {"RNN_TANH": "RNNCell", "RNN_RELU": "RNNCell", "LSTM": "LSTMCell", "GRU": "GRUCell"}[mode]
    kwargs = {"nonlinearity": "relu" if mode == "RNN_RELU" else "tanh"} if name == "RNNCell" else {}
    bias = not (unbatched and with_state)
    cell = getattr(gn.nn, name)(3, 4, bias=bias, dtype=np.float64, **kwargs)
    reference = getattr(torch.nn, name)(3, 4, bias=bias, dtype=torch.float64, **kwargs)
    rng = np.random.default_rng(1)
    lead = () if unbatched else (2,)
    args = [rng.uniform(-2, 2, lead + (3,))]
    if with_state:
        h = rng.uniform(-1, 1, lead + (4,))
        args.append((h, rng.uniform(-1, 1, lead + (4,))) if name == "LSTMCell" else h)
    check_module(cell, reference, args)


def test_a_cell_stepped_by_hand_is_the_layer(float64_default):
    """An LSTMCell run over the steps gives the LSTM's outputs and final states (same weights)."""
    lstm, cell = gn.nn.LSTM(3, 4), gn.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in lstm.state_dict().items()})
    x = np.random.default_rng(0).normal(size=(5, 2, 3))
    output, (h_n, c_n) = lstm(gn.tensor(x))
    h = c = None
    for t in range(5):
        h, c = cell(gn.tensor(x[t]), None if h is None else (h, c))
        np.testing.assert_allclose(h._data, output._data[t], atol=1e-12)
    np.testing.assert_allclose(h_n._data[0], h._data, atol=1e-12)
    np.testing.assert_allclose(c_n._data[0], c._data, atol=1e-12)


@pytest.mark.parametrize("mode", LAYERS)
def test_gradients_match_finite_differences(mode, numerical_grad):
    """Inputs, initial states and every weight of a 2-layer bidirectional layer against central differences."""
    model, _ = make(mode, 2, 3, 2, bidirectional=True)
    rng = np.random.default_rng(2)
    x, h0, c0 = rng.normal(size=(3, 2, 2)), rng.normal(size=(4, 2, 3)), rng.normal(size=(4, 2, 3))
    weights = rng.uniform(-1, 1, (3, 2, 6)), rng.uniform(-1, 1, (4, 2, 3)), rng.uniform(-1, 1, (4, 2, 3))
    params = [p._data for p in model.parameters()]

    def objective(x, h0, c0, *_):
        with gn.no_grad():
            out, state = model(gn.tensor(x), (gn.tensor(h0), gn.tensor(c0)) if mode == "LSTM" else gn.tensor(h0))
            states = state if mode == "LSTM" else (state,)
            return float((out._data * weights[0]).sum() + sum((s._data * w).sum() for s, w in zip(states, weights[1:])))
    tensors = [gn.tensor(a.copy(), requires_grad=True) for a in (x, h0, c0)]
    out, state = model(tensors[0], tuple(tensors[1:]) if mode == "LSTM" else tensors[1])
    states = state if mode == "LSTM" else (state,)
    loss = (out * gn.tensor(weights[0])).sum()
    for s, w in zip(states, weights[1:]):
        loss = loss + (s * gn.tensor(w)).sum()
    loss.backward()
    expected = numerical_grad(objective, x, h0, c0, *params)
    got = [t.grad._data if t.grad is not None else np.zeros(t.shape) for t in tensors]
    got += [p.grad._data for p in model.parameters()]
    for name, g, e in zip(["x", "h0", "c0"] + [n for n, _ in model.named_parameters()], got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=name)


def test_dropout_between_layers_only_in_training(check_module):
    model, reference = make("LSTM", 3, 4, 3, dropout=0.5)
    x = np.random.default_rng(3).normal(size=(4, 2, 3))
    model.eval(), reference.eval()
    check_module(model, reference, [x])  # eval: no dropout, as torch
    model.train()
    with gn.no_grad():
        runs = [model(gn.tensor(x))[0]._data for _ in range(2)]
        evaluated = gn.nn.LSTM.forward(model.eval(), gn.tensor(x))[0]._data
    assert not np.allclose(runs[0], runs[1]), "training mode should drop different units each run"
    assert not np.allclose(runs[0], evaluated)


def test_dropout_one_drops_the_whole_layer_output_as_torch(check_module):
    """With p = 1 the upper layers see zeros: deterministic, so training mode can be compared with torch."""
    model, reference = make("GRU", 3, 4, 2, dropout=1.0, bidirectional=True)
    model.train(), reference.train()
    check_module(model, reference, [np.random.default_rng(4).normal(size=(4, 2, 3))])


def test_no_dropout_after_the_last_layer(float64_default):
    with pytest.warns(UserWarning, match="num_layers=1"):
        model = gn.nn.RNN(3, 4, 1, dropout=0.5)
    x = gn.tensor(np.random.default_rng(5).normal(size=(3, 2, 3)))
    np.testing.assert_array_equal(model(x)[0]._data, model.eval()(x)[0]._data)


def test_state_dict_round_trips_with_torch_and_gn_save(tmp_path):
    reference = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    model = gn.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    model.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    x = np.random.default_rng(6).normal(size=(2, 4, 3)).astype(np.float32)
    out, (h, c) = model(gn.tensor(x))
    want, (wh, wc) = reference(torch.from_numpy(x))
    for a, b in ((out, want), (h, wh), (c, wc)):
        np.testing.assert_allclose(a._data, b.detach().numpy(), atol=1e-5)
    assert out.dtype == np.float32 and h.dtype == np.float32
    path = tmp_path / "lstm.npz"
    gn.save(model, path)
    loaded = gn.load(path)
    assert type(loaded) is gn.nn.LSTM and loaded.bidirectional and loaded.batch_first and loaded.num_layers == 2
    np.testing.assert_array_equal(loaded(gn.tensor(x))[0]._data, out._data)


def test_parameter_names_shapes_and_default_initialisation():
    model = gn.nn.GRU(7, 16, num_layers=2, bidirectional=True)
    reference = torch.nn.GRU(7, 16, num_layers=2, bidirectional=True)
    assert {k: v.shape for k, v in model.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    values = np.concatenate([p._data.ravel() for p in model.parameters()])
    bound = 1 / 4
    assert values.dtype == np.float32 and np.abs(values).max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.01  # U(−b, b) has std b/√3
    assert not gn.nn.LSTM(3, 4, bias=False).state_dict().keys() & {"bias_ih_l0", "bias_hh_l0"}


def test_all_weights_as_torch():
    model, reference = gn.nn.LSTM(3, 4, 2, bidirectional=True), torch.nn.LSTM(3, 4, 2, bidirectional=True)
    assert [[tuple(p.shape) for p in ws] for ws in model.all_weights] == \
        [[tuple(p.shape) for p in ws] for ws in reference.all_weights]
    assert model.all_weights[1][0] is model.weight_ih_l0_reverse
    assert [len(ws) for ws in gn.nn.GRU(3, 4, bias=False).all_weights] == [2]


def test_float32_stays_float32_through_backward():
    model = gn.nn.LSTM(3, 4, num_layers=2)
    out, (h, c) = model(gn.tensor(np.ones((5, 2, 3), np.float32)))
    (out.sum() + c.sum()).backward()
    assert out.dtype == c.dtype == np.float32
    assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float32)}


@pytest.mark.parametrize("mode", LAYERS)
def test_float32_layers_match_torch_at_benchmark_sizes(mode):
    """The float32 kernels (σ as ½·tanh(a/2) + ½, folded into the weights) against torch's float32 layer on a
    2-layer bidirectional batch-first stack of W5-like sizes: outputs, final states and every gradient."""
    name = "RNN" if mode.startswith("RNN") else mode
    kwargs = {"nonlinearity": "relu" if mode == "RNN_RELU" else "tanh"} if name == "RNN" else {}
    model = getattr(gn.nn, name)(10, 32, 2, batch_first=True, bidirectional=True, **kwargs)
    reference = getattr(torch.nn, name)(10, 32, 2, batch_first=True, bidirectional=True, **kwargs)
    reference.load_state_dict({k: torch.from_numpy(v._data.copy()) for k, v in model.state_dict().items()})
    x = np.random.default_rng(4).normal(size=(16, 30, 10)).astype(np.float32)
    w = np.random.default_rng(5).uniform(-1, 1, (16, 30, 64)).astype(np.float32)
    xg, xt = gn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (out, state), (t_out, t_state) = model(xg), reference(xt)
    states, t_states = (state, t_state) if name == "LSTM" else ((state,), (t_state,))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out._data, t_out.detach().numpy(), rtol=1e-4, atol=2e-6)
    for s, t in zip(states, t_states):
        np.testing.assert_allclose(s._data, t.detach().numpy(), rtol=1e-4, atol=2e-6)
    ((out * gn.tensor(w)).sum() + sum(s.sum() for s in states)).backward()
    ((t_out * torch.from_numpy(w)).sum() + sum(t.sum() for t in t_states)).backward()
    np.testing.assert_allclose(xg.grad._data, xt.grad.numpy(), rtol=1e-3, atol=1e-5)
    for (n, p), (_, q) in zip(model.named_parameters(), reference.named_parameters()):
        np.testing.assert_allclose(p.grad._data, q.grad.numpy(), rtol=1e-3, atol=1e-4, err_msg=n)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_saturated_gates_are_exact_and_raise_no_floating_point_error(mode, check_module):
    """Pre-activations of ±1e4: every gate at 0 or 1, as torch, without an overflow anywhere (σ is computed through
    tanh, never through e^(−a))."""
    model, reference = make(mode, 2, 3)
    for p in model.parameters():
        p._data *= 1e3
    x = np.random.default_rng(6).uniform(-10, 10, (4, 2, 2))
    with np.errstate(all="raise"):
        check_module(model, reference, [x])


def test_gradients_flow_only_where_needed():
    """A constant input gets no gradient; the weights still do."""
    model = gn.nn.GRU(2, 3)
    x = gn.tensor(np.ones((4, 1, 2), np.float32))
    model(x)[0].sum().backward()
    assert x.grad is None and all(p.grad is not None for p in model.parameters())


def test_wrong_feature_size_names_the_layer_and_sizes():
    with pytest.raises(ValueError, match=r"LSTM\(10, 64\).*Expected 10, got 5"):
        gn.nn.LSTM(10, 64)(gn.tensor(np.zeros((3, 2, 5), np.float32)))
    with pytest.raises(ValueError, match=r"GRUCell\(3, 4\).*Expected 3, got 2"):
        gn.nn.GRUCell(3, 4)(gn.tensor(np.zeros((2, 2), np.float32)))


def test_bad_shapes_and_states_are_named():
    lstm = gn.nn.LSTM(3, 4, num_layers=2)
    x = gn.tensor(np.zeros((5, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"2-D \(unbatched\) or 3-D"):
        lstm(gn.tensor(np.zeros((1, 5, 2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"h_0 of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        lstm(x, (gn.tensor(np.zeros((1, 2, 4))), gn.tensor(np.zeros((2, 2, 4)))))
    with pytest.raises(TypeError, match="pair"):
        lstm(x, gn.tensor(np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match="nonlinearity"):
        gn.nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        gn.nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="proj_size should be a positive integer or zero"):
        gn.nn.LSTM(3, 4, proj_size=-1)
    with pytest.raises(ValueError, match=r"expected h_0 of shape \(2, 2, 2\), got \(2, 2, 4\)"):
        gn.nn.LSTM(3, 4, 2, proj_size=2)(x, (gn.tensor(np.zeros((2, 2, 4))), gn.tensor(np.zeros((2, 2, 4)))))
    with pytest.raises(ValueError, match="hidden_size"):
        gn.nn.GRU(3, 0)


def test_repr_as_torch():
    assert repr(gn.nn.LSTM(10, 20, num_layers=2, batch_first=True)) == \
        repr(torch.nn.LSTM(10, 20, num_layers=2, batch_first=True))
    assert repr(gn.nn.RNN(3, 4, nonlinearity="relu", bidirectional=True)) == \
        repr(torch.nn.RNN(3, 4, nonlinearity="relu", bidirectional=True))
    assert repr(gn.nn.RNNCell(3, 4, nonlinearity="relu")) == repr(torch.nn.RNNCell(3, 4, nonlinearity="relu"))


def test_an_lstm_learns_to_remember_the_first_token():
    """BPTT carries the signal back over 8 steps: the sign of the first input, read from h_n."""
    gn.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 64, 1)).astype(np.float32)
    y = (x[0, :, 0] > 0).astype(np.int64)
    lstm, head = gn.nn.LSTM(1, 8), gn.nn.Linear(8, 2)
    opt = gn.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.05)
    loss_fn = gn.nn.CrossEntropyLoss()
    for _ in range(150):
        opt.zero_grad()
        _, (h, _) = lstm(gn.tensor(x))
        loss = loss_fn(head(h[0]), y)
        loss.backward()
        opt.step()
    _, (h, _) = lstm(gn.tensor(x))
    assert (head(h[0])._data.argmax(1) == y).mean() >= 0.95
