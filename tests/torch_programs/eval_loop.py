# The classic CIFAR-tutorial evaluation loop: torch.max(outputs.data, 1), labels.size(0), (predicted == labels).sum(),
# per-class accuracy, and a training loop that prints running losses.
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 20)
        self.fc2 = nn.Linear(20, 10)
        self.fc3 = nn.Linear(10, 3)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


rng = np.random.default_rng(5)
inputs_all = torch.from_numpy(rng.normal(0, 1, (150, 3, 4)).astype(np.float32))
labels_all = torch.from_numpy((rng.normal(0, 1, (150, 3)) + inputs_all.numpy()[:, :, 0]).argmax(1))
net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

running = []
for epoch in range(3):
    running_loss = 0.0
    for i in range(0, 120, 10):
        inputs, labels = inputs_all[i:i + 10], labels_all[i:i + 10]
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    running.append(running_loss / 12)
    print(f"[{epoch + 1}] loss: {running_loss / 12:.3f}")

classes = ("a", "b", "c")
correct = 0
total = 0
correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}
with torch.no_grad():
    images, labels = inputs_all[120:], labels_all[120:]
    outputs = net(images)
    _, predicted = torch.max(outputs.data, 1)
    total += labels.size(0)
    correct += (predicted == labels).sum().item()
    for label, prediction in zip(labels, predicted):
        if label == prediction:
            correct_pred[classes[label]] += 1
        total_pred[classes[label]] += 1
    values, indices = outputs.max(dim=1, keepdim=True)
    top2 = outputs.topk(2, dim=1).indices
print(f"Accuracy of the network on the test images: {100 * correct // total} %")
print("RESULT", json.dumps({"running": running, "correct": correct, "total": total, "per_class": correct_pred,
                            "total_pred": total_pred, "max_shape": list(values.shape),
                            "indices_equal": bool((indices.squeeze(1) == predicted).all()),
                            "top2": top2[:4].tolist()}))
