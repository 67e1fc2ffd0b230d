# PyTorch tutorial "What is torch.nn really?": logistic regression from scratch, then refactored step by step with
# torch.nn.functional, nn.Module, nn.Linear, optim, TensorDataset and DataLoader, with validation.
import json
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
centres = rng.normal(0, 1, (10, 64))
labels = rng.integers(0, 10, 600)
images = (centres[labels] + rng.normal(0, 4.0, (600, 64))).astype(np.float32)
x_train, y_train, x_valid, y_valid = map(torch.tensor, (images[:500], labels[:500], images[500:], labels[500:]))
n, c = x_train.shape
init_weights = rng.normal(0, 1, (64, 10)).astype(np.float32)

# from scratch
weights = torch.from_numpy(init_weights.copy()) / math.sqrt(64)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


loss_func = nll
bs, lr, epochs = 64, 0.1, 2
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
scratch = [loss_func(model(x_train), y_train).item(), accuracy(model(x_train), y_train).item()]

# refactored: F.cross_entropy, nn.Module, nn.Linear, optim, Dataset, DataLoader, validation
loss_func = F.cross_entropy


class Mnist_Logistic(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(64, 10)

    def forward(self, xb):
        return self.lin(xb)


def get_model():
    model = Mnist_Logistic()
    with torch.no_grad():
        model.lin.weight.copy_(torch.from_numpy(init_weights.T.copy()) / math.sqrt(64))
        model.lin.bias.zero_()
    return model, optim.SGD(model.parameters(), lr=lr)


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    history = []
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        history.append(float(val_loss))
        print(epoch, val_loss)
    return history


def get_data(train_ds, valid_ds, bs):
    return DataLoader(train_ds, batch_size=bs), DataLoader(valid_ds, batch_size=bs * 2)


train_dl, valid_dl = get_data(TensorDataset(x_train, y_train), TensorDataset(x_valid, y_valid), bs)
model, opt = get_model()
history = fit(epochs, model, loss_func, opt, train_dl, valid_dl)
with torch.no_grad():
    valid_loss = sum(loss_func(model(xb), yb) for xb, yb in valid_dl)
print("RESULT", json.dumps({"scratch": scratch, "history": history, "valid_loss_sum": valid_loss.item(),
                            "batches": len(train_dl), "n": n, "c": c,
                            "train_accuracy": accuracy(model(x_train), y_train).item()}))
