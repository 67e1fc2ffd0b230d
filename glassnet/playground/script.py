"""Export: a standalone Python script that rebuilds and trains the playground's current setup.

The script uses glassnet's public API only and makes the same calls as the session (same data, split, features,
initial weights and mini-batch order), so without dropout it reproduces the page's losses epoch by epoch.
"""

from __future__ import annotations

import numpy as np

from .recipe import HIDDEN_ACTIVATIONS, OPTIMIZERS, POINTS, REGRESSION_DATASETS, data_source, head_of, hidden_layers
from .state import FEATURES, State

TEMPLATE = '''\
"""{title}

Exported from the glassnet playground: the same data, network and initial weights as the page (data seed {seed},
initialisation seed {init_seed}), trained with glassnet's public API.

    python {filename} [epochs]
"""
import sys

import numpy as np

import glassnet as gn
from glassnet import nn, optim

EPOCHS = int(sys.argv[1]) if len(sys.argv) > 1 else {epochs}
SEED, INIT_SEED = {seed}, {init_seed}
gn.manual_seed(INIT_SEED)  # dropout masks

# Data: {data_comment}
{data}
n_test = len(X) - len(X) * {perc} // 100  # {perc}% of the points train, the rest test
X_train, X_test, y_train, y_test = gn.data.train_test_split(X, y, test_size=n_test, seed=SEED)

FEATURES = {features}


def inputs(points):
    return gn.tensor(gn.data.features(points, FEATURES).astype(np.float32))


def targets(labels):
    {targets}


x_train, t_train, x_test, t_test = inputs(X_train), targets(y_train), inputs(X_test), targets(y_test)
batches = [(x_train[i:i + {batch}], t_train[i:i + {batch}]) for i in range(0, len(X_train), {batch})]

# The network: {head}
model = nn.Sequential(
{layers}
)
{init}

{loss}
optimizer = optim.{optimizer}


def evaluate(x, t, labels):
    """(loss, accuracy) on one set, in eval mode without a graph."""
    model.eval()
    with gn.no_grad():
        output = model(x)
        loss = loss_fn(output, t).item()
    model.train()
    {accuracy}


for epoch in range(1, EPOCHS + 1):
    for x, t in batches:  # the same order every epoch, as TensorFlow Playground
        optimizer.zero_grad()
        loss = {objective}
        loss.backward()
        optimizer.step()
    if epoch % max(1, EPOCHS // 10) == 0 or epoch == EPOCHS:
        (train_loss, train_acc), (test_loss, test_acc) = evaluate(x_train, t_train, y_train), \\
            evaluate(x_test, t_test, y_test)
        print(f"epoch {{epoch}}: train loss {{train_loss:.6f}}, test loss {{test_loss:.6f}}"
              + ("" if train_acc is None else f", train accuracy {{train_acc:.3f}}, test accuracy {{test_acc:.3f}}"))
'''

TARGETS = {
    "tanh": "return gn.tensor((2.0 * labels - 1.0).reshape(-1, 1).astype(np.float32))  # classes 0/1 → targets ±1",
    "sigmoid": "return gn.tensor(labels.reshape(-1, 1).astype(np.float32))  # classes 0/1",
    "softmax": "return gn.tensor(labels.astype(np.int64))  # class indices",
    "linear": "return gn.tensor(labels.reshape(-1, 1).astype(np.float32))",
}
LOSSES = {
    "mse": "loss_fn = nn.HalfMSELoss()  # TensorFlow Playground's loss: the mean of ½(o − t)²",
    "bce": "loss_fn = nn.BCEWithLogitsLoss()  # the model outputs logits; sigmoid(logit) is the probability",
    "crossentropy": "loss_fn = nn.CrossEntropyLoss()  # the model outputs logits; softmax gives the probabilities",
}
ACCURACY = {
    "tanh": "return loss, float(((output.detach().numpy()[:, 0] >= 0) == labels).mean())",
    "sigmoid": "return loss, float(((output.detach().numpy()[:, 0] >= 0) == labels).mean())",
    "softmax": "return loss, float((output.detach().numpy().argmax(axis=1) == labels).mean())",
    "linear": "return loss, None",
}


def _array(values: np.ndarray) -> str:
    """A NumPy literal that reads back as exactly the same values."""
    return f"np.array({np.asarray(values).tolist()!r})"


INIT = """# TensorFlow Playground's initialisation: weights U(-0.5, 0.5), biases 0.1.
rng = np.random.default_rng(INIT_SEED)
model.load_state_dict({name: rng.uniform(-0.5, 0.5, p.shape) if name.endswith("weight") else np.full(p.shape, 0.1)
                       for name, p in model.named_parameters()})"""
INIT_ZERO = """# initZero: every weight and bias starts at 0.
model.load_state_dict({name: np.zeros(p.shape) for name, p in model.named_parameters()})"""


def python_script(state: State, init_seed: int, upload: tuple[np.ndarray, np.ndarray] | None, epochs: int) -> str:
    """The script for `state` (with the page's initialisation seed); `upload` = the uploaded points, if used."""
    head = head_of(state)
    name = state[data_source(state)]
    if upload is None:
        dataset = REGRESSION_DATASETS.get(name, name)
        data = (f"X, y = gn.data.make_dataset({dataset!r}, n={POINTS[state['problem']]}, "
                f"noise={state['noise'] / 100!r}, seed=SEED)")
        data_comment = f"the playground's {name!r} data set, noise {state['noise']}"
    else:
        data = f"X = {_array(upload[0])}\ny = {_array(upload[1])}"
        data_comment = f"the {len(upload[0])} uploaded points"
    features = [feature for key, feature in FEATURES.items() if state[key]]
    lines, width = [], len(features)
    for out, activation, rate in hidden_layers(state):
        lines.append(f"nn.Linear({width}, {out}), nn.{HIDDEN_ACTIVATIONS[activation].__name__}(),")
        if rate > 0:
            lines.append(f"nn.Dropout({rate!r}),")
        width = out
    lines.append(f"nn.Linear({width}, {head.outputs}),")
    if head.activation == "tanh":
        lines.append("nn.Tanh(),")
    optimizer, options = OPTIMIZERS[state["optimizer"]]
    arguments = "".join(f", {key}={value!r}" for key, value in options.items())
    objective = "loss_fn(model(x), t)"
    if state["regularization"] != "none" and state["regularizationRate"]:
        penalty = "l1_penalty" if state["regularization"] == "L1" else "l2_penalty"
        objective += f" + nn.{penalty}(model, {state['regularizationRate']!r})"
    filename = f"playground_{name.replace('-', '_')}.py"
    return TEMPLATE.format(
        title=f"The glassnet playground's {state['problem']} setup on {name!r}.", seed=state["seed"],
        init_seed=init_seed, filename=filename, epochs=epochs, data_comment=data_comment, data=data,
        perc=state["percTrainData"], features=features, targets=TARGETS[head.activation], batch=state["batchSize"],
        head=head.text, layers="\n".join(f"    {line}" for line in lines), loss=LOSSES[head.loss],
        optimizer=f"{optimizer}(model.parameters(), lr={state['learningRate']!r}{arguments})",
        accuracy=ACCURACY[head.activation], objective=objective, init=INIT_ZERO if state["initZero"] else INIT)
