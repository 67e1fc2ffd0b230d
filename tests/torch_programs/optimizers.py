# The same small regression trained with each optimizer of the course (SGD, momentum, Adam, AdamW, Adagrad,
# Adadelta, RMSprop), the loop a PyTorch user writes: zero_grad, forward, loss, backward, step.
import json

import numpy as np
import torch
import torch.nn as nn

rng = np.random.default_rng(11)
X = torch.tensor(rng.uniform(-1, 1, (64, 3)), dtype=torch.float32)
Y = torch.sin(X.sum(dim=1, keepdim=True) * 2)
init = [rng.uniform(-0.5, 0.5, s) for s in ((10, 3), (10,), (1, 10), (1,))]


def train(make_optimizer, epochs=15):
    model = nn.Sequential(nn.Linear(3, 10), nn.Tanh(), nn.Linear(10, 1))
    with torch.no_grad():
        for p, values in zip(model.parameters(), init):
            p.copy_(torch.from_numpy(values))
    optimizer = make_optimizer(model.parameters())
    loss_fn = nn.MSELoss()
    losses = []
    for epoch in range(epochs):
        for i in range(0, 64, 16):
            optimizer.zero_grad()
            loss = loss_fn(model(X[i:i + 16]), Y[i:i + 16])
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
    return losses


print("RESULT", json.dumps({
    "sgd": train(lambda p: torch.optim.SGD(p, lr=0.1)),
    "momentum": train(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    "adam": train(lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.99))),
    "adamw": train(lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    "adagrad": train(lambda p: torch.optim.Adagrad(p, lr=0.1)),
    "adadelta": train(lambda p: torch.optim.Adadelta(p, lr=1.0)),
    "rmsprop": train(lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5)),
}))
