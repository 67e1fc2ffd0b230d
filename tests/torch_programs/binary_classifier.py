# A binary classifier in the everyday style: nn.Module with Dropout, BCEWithLogitsLoss(pos_weight), Adam with
# weight decay, a DataLoader over a TensorDataset, eval with torch.sigmoid(...) > 0.5, and early stopping by hand.
import copy
import json

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Subset, TensorDataset

rng = np.random.default_rng(7)
X = rng.normal(0, 1, (200, 5)).astype(np.float32)
y = ((X[:, 0] * X[:, 1] + X[:, 2]) > 0.3).astype(np.float32)
dataset = TensorDataset(torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1))
train_set, val_set = Subset(dataset, list(range(150))), Subset(dataset, list(range(150, 200)))
train_loader = DataLoader(train_set, batch_size=25, shuffle=False, drop_last=True)
val_loader = DataLoader(val_set, batch_size=50)


class Classifier(nn.Module):
    def __init__(self, n_in: int, hidden: int = 16, p: float = 0.2):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


model = Classifier(5, p=0.0)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape))))
pos_weight = torch.tensor([(y[:150] == 0).sum() / (y[:150] == 1).sum()])
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-4)

best_loss, best_state, patience, bad = float("inf"), None, 3, 0
history = []
for epoch in range(30):
    model.train()
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(xb), yb)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        val_loss = sum(criterion(model(xb), yb).item() for xb, yb in val_loader) / len(val_loader)
    history.append(val_loss)
    if val_loss < best_loss - 1e-4:
        best_loss, best_state, bad = val_loss, copy.deepcopy(model.state_dict()), 0
    else:
        bad += 1
        if bad >= patience:
            break
model.load_state_dict(best_state)
model.eval()
with torch.no_grad():
    logits = model(torch.from_numpy(X[150:]))
    predicted = (torch.sigmoid(logits) > 0.5).float()
    accuracy = (predicted.squeeze(1) == torch.from_numpy(y[150:])).float().mean().item()
print("RESULT", json.dumps({"history": history, "epochs": len(history), "best": best_loss, "accuracy": accuracy,
                            "batches": len(train_loader), "val_size": len(val_set)}))
