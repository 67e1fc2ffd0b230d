# PyTorch tutorial "nn": the polynomial as nn.Sequential(Linear, Flatten), MSELoss(reduction="sum"), manual update.
import json
import math

import numpy as np
import torch

x = torch.linspace(-math.pi, math.pi, 2000)
y = torch.sin(x)

p = torch.tensor([1, 2, 3])
xx = x.unsqueeze(-1).pow(p)

model = torch.nn.Sequential(
    torch.nn.Linear(3, 1),
    torch.nn.Flatten(0, 1)
)
rng = np.random.default_rng(0)
model.load_state_dict({"0.weight": torch.from_numpy(rng.uniform(-0.5, 0.5, (1, 3)).astype(np.float32)),
                       "0.bias": torch.tensor([0.05])})
loss_fn = torch.nn.MSELoss(reduction="sum")

learning_rate = 1e-6
losses = []
for t in range(300):
    y_pred = model(xx)
    loss = loss_fn(y_pred, y)
    if t % 100 == 99:
        losses.append(loss.item())
    model.zero_grad()
    loss.backward()
    with torch.no_grad():
        for param in model.parameters():
            param -= learning_rate * param.grad

linear_layer = model[0]
print(f"Result: y = {linear_layer.bias.item()} + {linear_layer.weight[:, 0].item()} x + "
      f"{linear_layer.weight[:, 1].item()} x^2 + {linear_layer.weight[:, 2].item()} x^3")
print("RESULT", json.dumps({"losses": losses, "bias": linear_layer.bias.item(),
                            "weight": linear_layer.weight.detach().flatten().tolist(),
                            "xx_shape": list(xx.shape), "xx_dtype": str(xx.dtype).replace("torch.", "")}))
