# PyTorch quickstart: a NeuralNetwork module with Flatten and nn.Sequential, train/test loops over DataLoaders,
# device selection, saving and loading the state dict.
import json
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(1)
images = rng.random((320, 1, 8, 8)).astype(np.float32)
targets = (images.reshape(320, -1)[:, :32].sum(1) > images.reshape(320, -1)[:, 32:].sum(1)).astype(np.int64)
targets += 2 * (images[:, 0, 0, 0] > 0.5)
training_data = TensorDataset(torch.from_numpy(images[:256]), torch.from_numpy(targets[:256]))
test_data = TensorDataset(torch.from_numpy(images[256:]), torch.from_numpy(targets[256:]))

batch_size = 32
train_dataloader = DataLoader(training_data, batch_size=batch_size)
test_dataloader = DataLoader(test_data, batch_size=batch_size)
for X, y in test_dataloader:
    first_shapes = [list(X.shape), list(y.shape), y.dtype == torch.int64, X.dtype == torch.float32]
    break

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
cuda = torch.cuda.is_available()


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(64, 32),
            nn.ReLU(),
            nn.Linear(32, 32),
            nn.ReLU(),
            nn.Linear(32, 4)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
init = np.random.default_rng(2)
with torch.no_grad():
    for param in model.parameters():
        param.copy_(torch.from_numpy(init.uniform(-0.3, 0.3, tuple(param.shape))))

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)


def train(dataloader, model, loss_fn, optimizer):
    size = len(dataloader.dataset)
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch % 4 == 0:
            loss, current = loss.item(), (batch + 1) * len(X)
            print(f"loss: {loss:>7f}  [{current:>5d}/{size:>5d}]")


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: \n Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f} \n")
    return test_loss, correct


results = []
epochs = 5
for t in range(epochs):
    print(f"Epoch {t+1}\n-------------------------------")
    train(train_dataloader, model, loss_fn, optimizer)
    results.append(test(test_dataloader, model, loss_fn))

with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "model.pth")
    torch.save(model.state_dict(), path)
    model2 = NeuralNetwork().to(device)
    model2.load_state_dict(torch.load(path, weights_only=True))
    model2.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        pred = model2(x.unsqueeze(0))
        predicted, actual = pred[0].argmax(0).item(), y.item()
print(model)
print("RESULT", json.dumps({"results": results, "first_shapes": first_shapes, "device": device, "cuda": cuda,
                            "predicted": predicted, "actual": actual, "size": len(training_data)}))
