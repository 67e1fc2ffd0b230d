# model.apply(init_weights), gradient clipping, freezing a layer, and param groups with their own learning rates.
import json

import torch
import torch.nn as nn


def init_weights(m):
    if isinstance(m, nn.Linear):
        torch.nn.init.constant_(m.weight, 0.05)
        m.bias.data.fill_(0.01)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.Tanh())
        self.classifier = nn.Linear(8, 3)

    def forward(self, x):
        return self.classifier(self.base(x))


model = Model()
model.apply(init_weights)
with torch.no_grad():
    model.base[0].weight += torch.arange(32, dtype=torch.float32).reshape(8, 4) / 100
    model.classifier.weight.mul_(torch.linspace(-1, 1, 24).reshape(3, 8))

optimizer = torch.optim.SGD([
    {"params": model.base.parameters()},
    {"params": model.classifier.parameters(), "lr": 1e-3},
], lr=1e-2, momentum=0.9)
x = torch.linspace(-2, 2, 40).reshape(10, 4)
target = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
criterion = nn.CrossEntropyLoss()
norms = []
for step in range(5):
    optimizer.zero_grad()
    loss = criterion(model(x), target)
    loss.backward()
    norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5).item())
    torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=0.05)
    optimizer.step()

for param in model.base[0].parameters():
    param.requires_grad = False
frozen_before = model.base[0].weight.clone()
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=0.01)
for step in range(5):
    optimizer.zero_grad()
    loss = criterion(model(x), target)
    loss.backward()
    optimizer.step()

trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
vector = torch.nn.utils.parameters_to_vector(model.parameters())
print("RESULT", json.dumps({"norms": norms, "loss": loss.item(), "trainable": trainable,
                            "frozen_unchanged": bool(torch.equal(frozen_before, model.base[0].weight)),
                            "frozen_grad_is_none": model.base[0].weight.grad is None,
                            "vector_len": vector.numel(), "vector_sum": vector.sum().item(),
                            "lrs": [g["lr"] for g in optimizer.param_groups]}))
