# Saving and loading a general checkpoint for inference or resuming training (PyTorch recipe), with Adam.
import json
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 1)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return self.fc3(x)


rng = np.random.default_rng(3)
X = torch.tensor(rng.normal(0, 1, (128, 6)), dtype=torch.float32)
Y = (X[:, :1] * 2 - X[:, 1:2] ** 2 + 0.1 * X[:, 2:3]).clone()


def make():
    net = Net()
    init = np.random.default_rng(4)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(init.uniform(-0.4, 0.4, tuple(p.shape))))
    return net


def train(net, optimizer, epochs):
    criterion = nn.MSELoss()
    for epoch in range(epochs):
        for i in range(0, 128, 16):
            optimizer.zero_grad()
            loss = criterion(net(X[i:i + 16]), Y[i:i + 16])
            loss.backward()
            optimizer.step()
    return loss


net = make()
optimizer = optim.Adam(net.parameters(), lr=0.01)
loss = train(net, optimizer, 3)
with tempfile.TemporaryDirectory() as folder:
    PATH = os.path.join(folder, "model.pt")
    torch.save({"epoch": 3, "model_state_dict": net.state_dict(), "optimizer_state_dict": optimizer.state_dict(),
                "loss": loss.item(), "notes": ["adam", {"lr": 0.01}]}, PATH)
    straight = train(net, optimizer, 2).item()

    model = make()
    optimizer = optim.Adam(model.parameters(), lr=0.5)
    checkpoint = torch.load(PATH, weights_only=True)
    opt_state = checkpoint["optimizer_state_dict"]
    saved = {"state_keys": sorted(opt_state["state"][0].keys()), "step": float(opt_state["state"][0]["step"]),
             "group_params": opt_state["param_groups"][0]["params"], "lr": opt_state["param_groups"][0]["lr"]}
    model.load_state_dict(checkpoint["model_state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
    epoch = checkpoint["epoch"]
    saved_loss = checkpoint["loss"]
    model.train()
    resumed = train(model, optimizer, 2).item()

keys = list(checkpoint["model_state_dict"].keys())
print("RESULT", json.dumps({"straight": straight, "resumed": resumed, "epoch": epoch, "saved_loss": saved_loss,
                            "keys": keys, "notes": checkpoint["notes"], **saved}))
