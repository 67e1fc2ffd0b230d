# Learning-rate schedulers stepped once per epoch, as the PyTorch docs show, and their learning rates.
import json

import torch
from torch import nn
from torch.optim import lr_scheduler


def run(make_scheduler, epochs=12):
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.fill_(0.5)
        model.bias.fill_(-0.5)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = make_scheduler(optimizer)
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    y = torch.tensor([[1.0], [0.0], [2.0]])
    lrs, losses = [], []
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        scheduler.step()
        lrs.append(scheduler.get_last_lr()[0])
        losses.append(loss.item())
    return {"lrs": lrs, "losses": losses}


results = {
    "step": run(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)),
    "multistep": run(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)),
    "exponential": run(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)),
    "cosine": run(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=6, eta_min=0.01)),
    "lambda": run(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda epoch: 0.95 ** epoch)),
    "linear": run(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4)),
    "onecycle": run(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=12)),
}
print("RESULT", json.dumps(results))
