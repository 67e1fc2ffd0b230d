"""ONNX export of multilayer perceptrons (``onnx`` is an optional extra, imported here only).

A ``Sequential`` of Linear, ReLU, Tanh, Sigmoid, LeakyReLU, Identity, Softmax and Dropout (the identity at
inference) becomes one ONNX graph of Gemm and activation nodes with a dynamic batch dimension. The convolution and
recurrent layers do not exist in glassnet yet, so they cannot be exported; any other layer is refused by name.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from glassnet import nn

__all__ = ["export_onnx", "OPSET"]

OPSET = 17
OUTPUT_ACTIVATIONS = ("linear", "sigmoid", "softmax")


def export_onnx(model: nn.Module, path: str | os.PathLike, inputs: int, output_activation: str = "linear",
                input_name: str = "features") -> Any:
    """Write ``model`` (input (N, inputs) → output (N, outputs)) to ``path`` as ONNX and return the ModelProto.

    ``output_activation`` appends a Sigmoid or Softmax to the graph (for networks that output logits); the output
    is then named "probabilities", else "values".
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"output_activation must be one of {OUTPUT_ACTIVATIONS}, got {output_activation!r}")
    layers = list(model) if isinstance(model, nn.Sequential) else [model]
    nodes, weights = [], []
    current, width, dtype = input_name, inputs, None
    for index, layer in enumerate(layers):
        name = f"{index}_{type(layer).__name__.lower()}"
        if isinstance(layer, nn.Linear):
            if layer.in_features != width:
                raise ValueError(f"layer {index} (Linear) takes {layer.in_features} inputs but receives {width}")
            weight = layer.weight.numpy()
            dtype = dtype or weight.dtype
            weights.append(numpy_helper.from_array(weight.astype(dtype), f"{name}.weight"))
            gemm_inputs = [current, f"{name}.weight"]
            if layer.bias is not None:
                weights.append(numpy_helper.from_array(layer.bias.numpy().astype(dtype), f"{name}.bias"))
                gemm_inputs.append(f"{name}.bias")
            nodes.append(helper.make_node("Gemm", gemm_inputs, [name], transB=1))
            width = layer.out_features
        elif isinstance(layer, (nn.Dropout, nn.Identity)):
            continue
        elif isinstance(layer, nn.LeakyReLU):
            nodes.append(helper.make_node("LeakyRelu", [current], [name], alpha=float(layer.negative_slope)))
        elif isinstance(layer, nn.Softmax):
            nodes.append(helper.make_node("Softmax", [current], [name], axis=-1))
        elif isinstance(layer, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
            op = {nn.ReLU: "Relu", nn.Tanh: "Tanh", nn.Sigmoid: "Sigmoid"}[type(layer)]
            nodes.append(helper.make_node(op, [current], [name]))
        else:
            raise ValueError(f"layer {index} ({type(layer).__name__}) has no ONNX export: only Linear, its "
                             f"activations and Dropout (MLPs) are exported")
        current = name
    if output_activation != "linear":
        op = "Sigmoid" if output_activation == "sigmoid" else "Softmax"
        options = {"axis": -1} if op == "Softmax" else {}
        nodes.append(helper.make_node(op, [current], ["output_activation"], **options))
        current = "output_activation"
    output = "probabilities" if output_activation != "linear" else "values"
    nodes.append(helper.make_node("Identity", [current], [output]))
    elem = TensorProto.DOUBLE if np.dtype(dtype or np.float32) == np.float64 else TensorProto.FLOAT
    graph = helper.make_graph(nodes, "glassnet_mlp", [helper.make_tensor_value_info(input_name, elem, ["N", inputs])],
                              [helper.make_tensor_value_info(output, elem, ["N", width])], initializer=weights)
    proto = helper.make_model(graph, producer_name="glassnet", opset_imports=[helper.make_opsetid("", OPSET)])
    proto.ir_version = min(proto.ir_version, 8)  # readable by onnxruntime releases of the last years
    onnx.checker.check_model(proto)
    onnx.save(proto, os.fspath(path))
    return proto
