# Module plumbing: named_parameters/state_dict names, buffers, ModuleList/ModuleDict, Sequential from an OrderedDict,
# forward hooks capturing activations, children/modules, train/eval flags, parameter counts, repr.
import json
from collections import OrderedDict

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(width, width) for _ in range(2)])
        self.acts = nn.ModuleDict({"relu": nn.ReLU(), "tanh": nn.Tanh()})
        self.register_buffer("calls", torch.zeros(1))

    def forward(self, x, act="relu"):
        self.calls += 1
        for layer in self.layers:
            x = self.acts[act](layer(x))
        return x


model = nn.Sequential(OrderedDict([
    ("stem", nn.Linear(3, 4)),
    ("block", Block(4)),
    ("head", nn.Linear(4, 2)),
]))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (1 + i / 10))

captured = {}


def save_output(name):
    def hook(module, inputs, output):
        captured[name] = output.detach().clone()
    return hook


handles = [model.block.layers[0].register_forward_hook(save_output("first")),
           model.head.register_forward_hook(save_output("head"))]
x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
y = model(x)
handles[0].remove()
model(x)
out = {
    "names": [name for name, _ in model.named_parameters()],
    "shapes": [list(p.shape) for p in model.parameters()],
    "state_keys": list(model.state_dict().keys()),
    "buffers": [name for name, _ in model.named_buffers()],
    "calls": model.block.calls.item(),
    "children": [name for name, _ in model.named_children()],
    "modules": [type(m).__name__ for m in model.modules()],
    "first": captured["first"].tolist(),
    "head_equals_output": bool(torch.allclose(captured["head"], y)),
    "count": sum(p.numel() for p in model.parameters() if p.requires_grad),
    "index": type(model[1]).__name__, "by_name": type(model.head).__name__, "len": len(model),
    "training": [model.training, model.eval().training, model.block.training, model.train().head.training],
    "repr_head": repr(model.head),
    "tanh": model.block(x[:, :1].repeat(1, 4), act="tanh").tolist(),
}
print("RESULT", json.dumps(out))
