"""ONNX export of MLPs (glassnet.cli.onnx_export): onnxruntime's outputs match glassnet's to 1e-5."""
from __future__ import annotations

import numpy as np
import onnxruntime
import pytest

import glassnet as gn
from glassnet import nn
from glassnet.cli.onnx_export import export_onnx


def run_onnx(path, X: np.ndarray) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: X})[0]


@pytest.mark.parametrize("layers", [
    lambda: [nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)],
    lambda: [nn.Linear(5, 4), nn.Tanh(), nn.Dropout(0.3), nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 2)],
    lambda: [nn.Linear(5, 6), nn.LeakyReLU(0.2), nn.Linear(6, 3, bias=False), nn.Identity(), nn.Softmax(dim=-1)],
    lambda: [nn.Linear(5, 1)],
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_exported_mlp_matches_glassnet(layers, dtype, tmp_path):
    gn.manual_seed(0)
    model = nn.Sequential(*layers()).to(dtype)
    X = np.random.default_rng(0).normal(size=(33, 5)).astype(dtype)
    export_onnx(model, tmp_path / "m.onnx", 5)
    outputs = run_onnx(tmp_path / "m.onnx", X)
    assert outputs.dtype == dtype
    np.testing.assert_allclose(outputs, gn.predict(model, X), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("activation, expected", [
    ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
    ("softmax", lambda z: np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)),
])
def test_output_activation_turns_logits_into_probabilities(activation, expected, tmp_path):
    gn.manual_seed(1)
    outputs = 1 if activation == "sigmoid" else 4
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, outputs))
    X = np.random.default_rng(1).normal(size=(20, 3)).astype(np.float32)
    proto = export_onnx(model, tmp_path / "m.onnx", 3, output_activation=activation)
    assert [o.name for o in proto.graph.output] == ["probabilities"]
    np.testing.assert_allclose(run_onnx(tmp_path / "m.onnx", X), expected(gn.predict(model, X).astype(np.float64)),
                               atol=1e-5)


def test_layers_without_an_onnx_export_are_named(tmp_path):
    model = nn.Sequential(nn.Linear(3, 3), nn.Flatten())
    with pytest.raises(ValueError, match=r"layer 1 \(Flatten\) has no ONNX export"):
        export_onnx(model, tmp_path / "m.onnx", 3)
    with pytest.raises(ValueError, match="layer 0 \\(Linear\\) takes 3 inputs but receives 4"):
        export_onnx(nn.Sequential(nn.Linear(3, 1)), tmp_path / "m.onnx", 4)
