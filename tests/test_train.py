"""gn.fit / gn.evaluate / gn.predict / gn.train.restarts: History, options, metrics and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest

import glassnet as gn
import glassnet.metrics
from glassnet import nn, optim



def regression_data(n: int = 24, features: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, features))
    y = X @ np.arange(1.0, features + 1) + 0.1 * rng.normal(size=n)
    return X, y


def binary_data(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def mlp(inputs: int = 3, outputs: int = 1, seed: int = 0) -> nn.Sequential:
    gn.manual_seed(seed)
    return nn.Sequential(nn.Linear(inputs, 5), nn.Tanh(), nn.Linear(5, outputs))


def weights(model: nn.Module) -> dict[str, np.ndarray]:
    return {name: value.numpy().copy() for name, value in model.state_dict().items()}


def assert_same_weights(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def identity_model(width: int = 1, activation: nn.Module | None = None, dtype=np.float64) -> nn.Sequential:
    """A model whose output is its input (optionally through an activation): metrics see chosen outputs."""
    linear = nn.Linear(width, width).to(dtype)
    linear.weight._data[...] = np.eye(width)
    linear.bias._data[...] = 0
    return nn.Sequential(linear, activation) if activation is not None else nn.Sequential(linear)


# ------------------------------------------------------------------------------------------ History

def test_history_keys_and_lengths_with_validation_data():
    X, y = binary_data(40)
    Xv, yv = binary_data(20, seed=1)
    model = mlp(2)
    history = gn.fit(model, X, y, loss=nn.BCEWithLogitsLoss(), optimizer="adam", epochs=4, batch_size=8,
                     validation_data=(Xv, yv), metrics=["accuracy", "mse", "mae"])
    assert isinstance(history, gn.History)
    assert set(history.history) == {"loss", "accuracy", "mse", "mae",
                                     "val_loss", "val_accuracy", "val_mse", "val_mae"}
    assert all(len(values) == 4 for values in history.history.values())
    assert history.epoch == [0, 1, 2, 3]
    assert all(0 <= a <= 1 for a in history.history["accuracy"] + history.history["val_accuracy"])
    # the last val_ entries describe the final model
    final = gn.evaluate(model, Xv, yv, loss=nn.BCEWithLogitsLoss(), metrics=["accuracy", "mse", "mae"])
    for key, value in final.items():
        assert history.history[f"val_{key}"][-1] == pytest.approx(value, rel=1e-6, abs=1e-7)


def test_history_without_validation_has_no_val_keys():
    X, y = regression_data()
    history = gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=3, batch_size=5, metrics=["mae"])
    assert set(history.history) == {"loss", "mae"}
    assert len(history.history["loss"]) == 3


def test_epochs_zero_trains_nothing():
    X, y = regression_data()
    model = mlp()
    before = weights(model)
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=0)
    assert history.history == {} and history.epoch == []
    assert_same_weights(before, weights(model))


def test_logged_loss_is_the_mean_batch_loss_before_each_step():
    """Full batch, one epoch: the logged training loss is the loss of the initial weights; val_loss is the
    loss of the weights after the step."""
    X, y = regression_data(20)
    Xv, yv = regression_data(10, seed=1)
    model = mlp()
    initial = gn.evaluate(model, X, y, loss=nn.MSELoss())["loss"]
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.05), epochs=1,
                     batch_size=len(X), validation_data=(Xv, yv))
    assert history.history["loss"][0] == pytest.approx(initial, rel=1e-6)
    after = gn.evaluate(model, Xv, yv, loss=nn.MSELoss())["loss"]
    assert history.history["val_loss"][0] == pytest.approx(after, rel=1e-6)
    assert history.history["loss"][0] != pytest.approx(gn.evaluate(model, X, y, loss=nn.MSELoss())["loss"])


def test_logged_loss_weights_batches_by_their_size():
    """Batches of 4, 4 and 2 samples: the epoch's loss is the sample-weighted mean of the batch losses."""
    X, y = regression_data(10)
    model = mlp()
    batch = []
    record = gn.callbacks.LambdaCallback(on_batch_end=lambda b, logs: batch.append((logs["loss"], logs["size"])))
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=1, batch_size=4, shuffle=False,
                     callbacks=[record])
    assert [size for _, size in batch] == [4, 4, 2]
    expected = sum(loss * size for loss, size in batch) / 10
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)


# ------------------------------------------------------------------------------------------ options

def test_validation_split_holds_out_the_last_fraction():
    X, y = regression_data(20)
    split = mlp(seed=3)
    history = gn.fit(split, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(split.parameters(), lr=0.01), epochs=3,
                     batch_size=4, shuffle=False, validation_split=0.25)
    manual = mlp(seed=3)
    gn.fit(manual, X[:15], y[:15], loss=nn.MSELoss(), optimizer=optim.SGD(manual.parameters(), lr=0.01), epochs=3,
           batch_size=4, shuffle=False)
    assert_same_weights(weights(split), weights(manual))
    held_out = gn.evaluate(split, X[15:], y[15:], loss=nn.MSELoss())["loss"]
    assert history.history["val_loss"][-1] == pytest.approx(held_out, rel=1e-6)


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5])
def test_validation_split_out_of_range(split):
    X, y = regression_data()
    with pytest.raises(ValueError, match="validation_split"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", validation_split=split)


def test_validation_split_that_leaves_nothing_is_refused():
    X, y = regression_data(3)
    with pytest.raises(ValueError, match="validation_split=0.1 leaves no"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", validation_split=0.1)


def test_one_dimensional_y_equals_a_column():
    X, y = regression_data()
    flat, column = mlp(seed=1), mlp(seed=1)
    h1 = gn.fit(flat, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(flat.parameters(), lr=0.01), epochs=2,
                batch_size=6, shuffle=False)
    h2 = gn.fit(column, X, y[:, None], loss=nn.MSELoss(), optimizer=optim.SGD(column.parameters(), lr=0.01),
                epochs=2, batch_size=6, shuffle=False)
    assert h1.history == h2.history
    assert_same_weights(weights(flat), weights(column))
    # the flat target was not broadcast against the (N, 1) output: training reduced the loss
    assert h1.history["loss"][-1] < h1.history["loss"][0]


def test_optimizer_by_instance_name_and_factory_agree():
    X, y = regression_data()
    runs = {}
    for label, make in [("instance", lambda m: optim.Adam(m.parameters())), ("name", lambda m: "adam"),
                        ("Name", lambda m: "Adam"), ("factory", lambda m: (lambda params: optim.Adam(params)))]:
        model = mlp(seed=2)
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=make(model), epochs=2, batch_size=6, shuffle=False)
        runs[label] = weights(model)
    for label in ("name", "Name", "factory"):
        assert_same_weights(runs["instance"], runs[label])
    assert not np.array_equal(runs["instance"]["0.weight"], weights(mlp(seed=2))["0.weight"])


def test_optimizer_factory_gets_the_models_parameters():
    X, y = regression_data()
    model = mlp()
    seen = []

    def factory(params):
        params = list(params)
        seen.append(params)
        return optim.SGD(params, lr=0.1)

    gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=factory, epochs=1)
    assert [id(p) for p in seen[0]] == [id(p) for p in model.parameters()]


def test_optimizer_of_another_model_is_rejected():
    X, y = regression_data()
    model, other = mlp(seed=0), mlp(seed=1)
    with pytest.raises(ValueError, match="another model"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(other.parameters(), lr=0.1))


def test_unknown_optimizer_name_lists_the_choices():
    X, y = regression_data()
    with pytest.raises(ValueError, match="unknown optimizer 'adamax'") as info:
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="adamax")
    for name in ("sgd", "adam", "adamw", "adagrad", "adadelta", "rmsprop"):
        assert name in str(info.value)


def test_optimizer_of_wrong_type():
    X, y = regression_data()
    with pytest.raises(TypeError, match="optimizer"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer=0.1)


@pytest.mark.parametrize("lr", [0, -0.5])
def test_non_positive_learning_rate(lr):
    X, y = regression_data()
    model = mlp()
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        optim.SGD(model.parameters(), lr=lr)
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=lambda params: optim.Adam(params, lr=lr))


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_regularization_adds_the_penalty_and_changes_the_weights(kind):
    X, y = regression_data(20)
    rate = 0.1
    plain, regular = mlp(seed=4), mlp(seed=4)
    start = weights(plain)
    w = [start["0.weight"], start["2.weight"]]  # weights only, not biases
    penalty = rate * (sum(np.abs(a).sum() for a in w) if kind == "l1" else 0.5 * sum((a * a).sum() for a in w))
    h_plain = gn.fit(plain, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(plain.parameters(), lr=0.01),
                     epochs=1, batch_size=len(X))
    h_reg = gn.fit(regular, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(regular.parameters(), lr=0.01),
                   epochs=1, batch_size=len(X), regularization=(kind, rate))
    assert h_reg.history["loss"][0] == pytest.approx(h_plain.history["loss"][0] + penalty, rel=1e-5)
    assert h_reg.history["loss"][0] > h_plain.history["loss"][0] + 0.5 * penalty
    assert not np.allclose(weights(plain)["0.weight"], weights(regular)["0.weight"])
    # the penalty pulls the weights towards zero; the biases get the same gradient as without it
    assert np.abs(weights(regular)["0.weight"]).sum() < np.abs(weights(plain)["0.weight"]).sum()
    np.testing.assert_allclose(weights(regular)["0.bias"], weights(plain)["0.bias"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("spec", [("l3", 0.1), ("l2", -1.0), ("l2", "big")])
def test_bad_regularization(spec):
    X, y = regression_data()
    with pytest.raises(ValueError, match="regularization"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", regularization=spec)


def test_shuffle_false_is_deterministic_and_shuffle_true_uses_the_seed():
    X, y = regression_data(30)

    def run(shuffle: bool, seed: int) -> dict[str, np.ndarray]:
        model = mlp(seed=5)
        gn.manual_seed(seed)  # only the shuffling draws from the generator after this
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.02), epochs=3,
               batch_size=4, shuffle=shuffle)
        return weights(model)

    assert_same_weights(run(False, 1), run(False, 2))
    assert_same_weights(run(True, 1), run(True, 1))
    assert not np.array_equal(run(True, 1)["0.weight"], run(True, 2)["0.weight"])
    assert not np.array_equal(run(True, 1)["0.weight"], run(False, 1)["0.weight"])


def test_training_reduces_the_loss():
    X, y = regression_data(40)
    model = mlp()
    history = gn.fit(model, X, y, loss=nn.MSELoss(), optimizer=optim.Adam(model.parameters(), lr=0.05), epochs=40,
                     batch_size=8)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def test_fit_in_float64():
    X, y = regression_data()
    model = mlp().double()
    gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=2)
    assert all(p._data.dtype == np.float64 for p in model.parameters())
    assert gn.predict(model, X).dtype == np.float64


# ------------------------------------------------------------------------------------------ predict, evaluate

class Probe(nn.Module):
    """Records the mode and grad mode of each forward; returns 2·x."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[bool, bool, int]] = []

    def forward(self, x):
        self.calls.append((self.training, gn.is_grad_enabled(), len(x._data)))
        return x * 2


def test_predict_runs_in_eval_mode_without_a_graph_and_restores_the_mode():
    probe = Probe()
    X = np.arange(10.0).reshape(5, 2)
    out = gn.predict(probe, X)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, 2 * X)
    assert probe.calls == [(False, False, 5)]
    assert probe.training and gn.is_grad_enabled()
    probe.eval()
    gn.predict(probe, X)
    assert not probe.training


def test_predict_in_batches_and_dropout_is_off():
    model = nn.Sequential(nn.Linear(3, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 2))
    X = np.random.default_rng(0).normal(size=(23, 3))
    whole = gn.predict(model, X)
    assert whole.shape == (23, 2) and whole.dtype == np.float32
    np.testing.assert_allclose(gn.predict(model, X, batch_size=5), whole, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(gn.predict(model, X), whole)  # no dropout noise
    model.eval()
    with gn.no_grad():
        np.testing.assert_array_equal(model(gn.tensor(X.astype(np.float32)))._data, whole)
    assert model.training is False
    model.train()
    with gn.no_grad():
        noisy = model(gn.tensor(X.astype(np.float32)))._data
    assert not np.allclose(noisy, whole)  # dropout is active in training mode, so predict really switched it off
    assert model.training


def test_predict_raw_outputs_are_logits():
    model = identity_model()
    X = np.array([[-3.0], [0.5], [7.0]])
    np.testing.assert_array_equal(gn.predict(model, X), X)


def test_predict_bad_batch_size_and_bad_input():
    model = mlp()
    with pytest.raises(ValueError, match="batch_size"):
        gn.predict(model, np.zeros((4, 3)), batch_size=0)
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\).*last dimension must be 3"):
        gn.predict(model, np.zeros((4, 2)))


def test_evaluate_returns_loss_and_metrics():
    model = identity_model()
    X = np.array([[1.0], [2.0], [4.0]])
    y = np.array([1.5, 2.0, 1.0])
    scores = gn.evaluate(model, X, y, loss=nn.MSELoss(), metrics=["mse", "mae"])
    assert set(scores) == {"loss", "mse", "mae"}
    assert scores["loss"] == pytest.approx((0.25 + 0 + 9) / 3)
    assert scores["mse"] == pytest.approx((0.25 + 0 + 9) / 3)
    assert scores["mae"] == pytest.approx((0.5 + 0 + 3) / 3)
    assert gn.evaluate(model, X, y, metrics=["mae"]) == {"mae": pytest.approx(3.5 / 3)}
    assert gn.evaluate(model, X, y, loss=nn.L1Loss())["loss"] == pytest.approx(3.5 / 3)


# ------------------------------------------------------------------------------------------ metrics

def test_accuracy_from_logits_with_bce_with_logits():
    model = identity_model()
    X = np.array([[-2.0], [0.3], [0.4], [4.0]])  # logits: classes 0, 1, 1, 1
    y = np.array([0, 1, 1, 1])
    assert gn.evaluate(model, X, y, loss=nn.BCEWithLogitsLoss(), metrics=["accuracy"])["accuracy"] == 1.0
    # read as probabilities, 0.3 and 0.4 would be class 0
    assert gn.evaluate(model, X, y, metrics=["accuracy"])["accuracy"] == 0.5


def test_accuracy_from_probabilities_with_bce():
    model = identity_model(activation=nn.Sigmoid())
    p = np.array([0.2, 0.4, 0.6, 0.9])
    X = np.log(p / (1 - p))[:, None]  # the sigmoid gives back p
    y = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(gn.predict(model, X).ravel(), p)
    assert gn.evaluate(model, X, y, loss=nn.BCELoss(), metrics=["accuracy"])["accuracy"] == 1.0
    assert gn.evaluate(model, X, y, loss=nn.BCEWithLogitsLoss(), metrics=["acc"])["acc"] == 0.5


def test_accuracy_with_plus_minus_one_targets_by_sign():
    model = identity_model(activation=nn.Tanh())
    X = np.array([[-2.0], [-0.1], [0.2], [3.0]])
    y = np.array([-1.0, 1.0, 1.0, 1.0])
    assert gn.evaluate(model, X, y, loss=nn.MSELoss(), metrics=["accuracy"])["accuracy"] == 0.75


def test_multiclass_accuracy_with_labels_and_one_hot():
    model = identity_model(3)
    X = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 1.0, 5.0], [1.0, 0.0, 1.5]])  # argmax 0, 1, 2, 2
    labels = np.array([0, 1, 1, 2])
    assert gn.evaluate(model, X, labels, loss=nn.CrossEntropyLoss(), metrics=["accuracy"])["accuracy"] == 0.75
    one_hot = np.eye(3)[labels]
    assert gn.evaluate(model, X, one_hot, metrics=["accuracy"])["accuracy"] == 0.75
    # without a loss the labels arrive as one column: still class indices, not a one-hot row
    assert gn.evaluate(model, X, labels, metrics=["accuracy"])["accuracy"] == 0.75
    assert glassnet.metrics.accuracy(X, labels[:, None]) == 0.75


def test_metric_functions_directly():
    out = np.array([[0.5], [2.0], [-1.0]])
    target = np.array([1.0, 2.0, 1.0])
    assert glassnet.metrics.mse(out, target) == pytest.approx((0.25 + 0 + 4) / 3)
    assert glassnet.metrics.mae(out, target) == pytest.approx((0.5 + 0 + 2) / 3)
    assert glassnet.metrics.accuracy(np.array([0.1, 0.7]), np.array([0, 1])) == 1.0
    assert glassnet.metrics.accuracy(np.array([0.1, 0.7]), np.array([0, 1]), from_logits=True) == 0.5


def test_fit_logs_training_accuracy_of_each_epoch():
    X, y = binary_data(60)
    model = mlp(2)
    history = gn.fit(model, X, y, loss=nn.BCEWithLogitsLoss(), optimizer=optim.Adam(model.parameters(), lr=0.05),
                     epochs=30, batch_size=10, metrics=["accuracy"])
    assert history.history["accuracy"][-1] >= 0.9
    final = gn.evaluate(model, X, y, metrics=["accuracy"], loss=nn.BCEWithLogitsLoss())["accuracy"]
    assert final >= 0.9


def test_unknown_metric_lists_the_choices():
    X, y = regression_data()
    with pytest.raises(ValueError, match="unknown metric 'f1'") as info:
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", metrics=["f1"])
    for name in ("accuracy", "mse", "mae"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="unknown metric 'r2'"):
        gn.evaluate(mlp(), X, y, metrics=["r2"])


# ------------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_named_by_row_and_column(bad):
    X, y = regression_data()
    X[7, 2] = bad
    model = mlp()
    before = weights(model)
    with pytest.raises(ValueError, match=r"X contains 1 NaN or infinite value\(s\); the first at row 7, column 2"):
        gn.fit(model, X, y, loss=nn.MSELoss(), optimizer="sgd")
    assert_same_weights(before, weights(model))


def test_non_finite_targets_are_named_by_row():
    X, y = regression_data()
    y[[3, 9]] = np.nan
    with pytest.raises(ValueError, match=r"y contains 2 NaN or infinite value\(s\); the first at row 3"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd")


def test_non_finite_validation_data_is_named():
    X, y = regression_data()
    Xv, yv = regression_data(6, seed=1)
    Xv[4, 0] = np.inf
    with pytest.raises(ValueError, match="validation X contains .* row 4, column 0"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", validation_data=(Xv, yv))
    Xv[4, 0] = 0
    yv[5] = np.nan
    with pytest.raises(ValueError, match="validation y contains .* row 5"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", validation_data=(Xv, yv))


def test_non_finite_input_to_predict_and_evaluate():
    X, y = regression_data()
    X[0, 1] = np.nan
    with pytest.raises(ValueError, match="row 0, column 1"):
        gn.predict(mlp(), X)
    with pytest.raises(ValueError, match="row 0, column 1"):
        gn.evaluate(mlp(), X, y, loss=nn.MSELoss())


def test_empty_data():
    with pytest.raises(ValueError, match="X is empty"):
        gn.fit(mlp(), np.zeros((0, 3)), np.zeros(0), loss=nn.MSELoss(), optimizer="sgd")
    with pytest.raises(ValueError, match="y is empty"):
        gn.fit(mlp(), np.zeros((4, 3)), [], loss=nn.MSELoss(), optimizer="sgd")
    with pytest.raises(ValueError, match="is empty"):
        gn.predict(mlp(), np.zeros((0, 3)))


def test_mismatched_lengths():
    X, y = regression_data(10)
    with pytest.raises(ValueError, match="y has 9 samples but the inputs have 10"):
        gn.fit(mlp(), X, y[:9], loss=nn.MSELoss(), optimizer="sgd")
    with pytest.raises(ValueError, match="validation y has 4 samples but the inputs have 5"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", validation_data=(X[:5], y[:4]))


def test_non_numeric_data():
    with pytest.raises(TypeError, match="X must be numeric"):
        gn.fit(mlp(), np.array([["a", "b", "c"]]), [1.0], loss=nn.MSELoss(), optimizer="sgd")


def test_wrong_number_of_features_names_the_layer():
    X, y = regression_data(features=2)
    with pytest.raises(ValueError, match=r"layer 0 \(Linear\).*\(.*2\).*last dimension must be 3"):
        gn.fit(mlp(3), X, y, loss=nn.MSELoss(), optimizer="sgd")


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_bad_batch_size(batch_size):
    X, y = regression_data()
    with pytest.raises(ValueError, match=r"batch_size must be an integer ≥ 1"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", batch_size=batch_size)


@pytest.mark.parametrize("epochs", [-1, 1.5])
def test_bad_epochs(epochs):
    X, y = regression_data()
    with pytest.raises(ValueError, match=r"epochs must be an integer ≥ 0"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=epochs)


def test_fit_needs_a_module_and_a_loss():
    X, y = regression_data()
    with pytest.raises(TypeError, match="Module"):
        gn.fit(lambda x: x, X, y, loss=nn.MSELoss(), optimizer="sgd")
    with pytest.raises(TypeError, match="loss"):
        gn.fit(mlp(), X, y, loss="mse", optimizer="sgd")


def test_cross_entropy_labels_must_be_integers():
    X = np.random.default_rng(0).normal(size=(6, 3))
    with pytest.raises(TypeError, match="CrossEntropyLoss needs integer class labels in y, got fractions"):
        gn.fit(mlp(3, 3), X, [0, 1, 2, 0.5, 1, 2], loss=nn.CrossEntropyLoss(), optimizer="sgd")
    # whole-number floats are accepted as labels
    gn.fit(mlp(3, 3), X, [0.0, 1.0, 2.0, 0.0, 1.0, 2.0], loss=nn.CrossEntropyLoss(), optimizer="sgd")


@pytest.mark.parametrize("bad_label", [3, -1])
def test_cross_entropy_labels_out_of_range_are_refused_before_training(bad_label):
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = np.arange(40) % 3
    y[-1] = bad_label  # in the last batch only
    model = mlp(3, 3)
    before = weights(model)
    with pytest.raises(ValueError, match=r"class labels in \[0, 2\] for the model's 3 outputs"):
        gn.fit(model, X, y, loss=nn.CrossEntropyLoss(), optimizer="sgd", batch_size=4, shuffle=False)
    assert_same_weights(before, weights(model))
    with pytest.raises(ValueError, match=r"validation y must hold class labels in \[0, 2\]"):
        gn.fit(model, X[:-1], y[:-1], loss=nn.CrossEntropyLoss(), optimizer="sgd", validation_data=(X, y))
    assert_same_weights(before, weights(model))
    with pytest.raises(ValueError, match=r"y must hold class labels in \[0, 2\] for the model's 3 outputs"):
        gn.evaluate(model, X, y, loss=nn.CrossEntropyLoss())


def test_binary_targets_outside_unit_interval_for_bce():
    X, _ = binary_data(10)
    y = np.where(np.arange(10) % 2, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        gn.fit(mlp(2), X, y, loss=nn.BCEWithLogitsLoss(), optimizer="sgd")


def test_monitor_missing_without_validation_data():
    X, y = regression_data()
    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    with pytest.raises(ValueError, match="monitors 'val_loss'.*pass validation_data or validation_split"):
        gn.fit(mlp(), X, y, loss=nn.MSELoss(), optimizer="sgd", epochs=3, callbacks=[stop])


def test_unknown_dataset_and_activation_list_the_choices():
    with pytest.raises(ValueError, match="unknown dataset 'moons'") as info:
        gn.data.make_dataset("moons", n=10, noise=0, seed=0)
    for name in ("circle", "xor", "gauss", "spiral", "plane", "multi_gauss", "spiral3"):
        assert name in str(info.value)
    with pytest.raises(ValueError, match="unknown activation 'swish'") as info:
        nn.ActivationLayer("swish")
    for name in ("tanh", "sigmoid", "relu", "leaky_relu", "identity"):
        assert name in str(info.value)


# ------------------------------------------------------------------------------------------ restarts

def test_restarts_trains_n_different_models_and_keeps_the_best():
    X, y = regression_data(30)
    Xv, yv = regression_data(15, seed=1)
    initial = []

    def build():
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        initial.append(weights(model))
        return model

    kwargs = dict(X=X, y=y, loss=nn.MSELoss(), optimizer=lambda p: optim.SGD(p, lr=0.02), epochs=5, batch_size=6,
                  validation_data=(Xv, yv))
    result = gn.train.restarts(build, 4, kwargs, seed=10)
    assert len(initial) == 4 and len(result.histories) == 4 and result.seeds == [10, 11, 12, 13]
    for i in range(4):
        for j in range(i):
            assert not np.array_equal(initial[i]["0.weight"], initial[j]["0.weight"])
            assert result.histories[i].history["val_loss"] != result.histories[j].history["val_loss"]
    assert result.scores == [h.history["val_loss"][-1] for h in result.histories]
    assert result.best_index == int(np.argmin(result.scores))
    assert result.best_history is result.histories[result.best_index]
    best = gn.evaluate(result.best_model, Xv, yv, loss=nn.MSELoss())["loss"]
    assert best == pytest.approx(min(result.scores), rel=1e-6)
    assert len(set(result.scores)) == 4
    # the same seed gives the same runs
    again = gn.train.restarts(build, 4, kwargs, seed=10)
    assert again.scores == result.scores
    assert_same_weights(weights(again.best_model), weights(result.best_model))


def test_restarts_without_validation_ranks_by_training_loss():
    X, y = regression_data(20)
    result = gn.restarts(lambda: nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), 3,
                         dict(X=X, y=y, loss=nn.MSELoss(), optimizer="adam", epochs=3), seed=0)
    assert result.scores == [h.history["loss"][-1] for h in result.histories]
    assert result.best_index == int(np.argmin(result.scores))


def test_restarts_refuses_an_optimizer_instance_and_bad_n():
    X, y = regression_data()
    model = mlp()
    kwargs = dict(X=X, y=y, loss=nn.MSELoss(), optimizer=optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(TypeError, match="name .* or a factory"):
        gn.train.restarts(lambda: mlp(), 2, kwargs)
    with pytest.raises(ValueError, match="n must be an integer ≥ 1"):
        gn.train.restarts(lambda: mlp(), 0, dict(kwargs, optimizer="sgd"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_restarts_scores_a_diverged_run_as_infinite():
    X, y = regression_data(20)
    runs = []

    def build():
        model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
        if not runs:  # the first run starts from weights whose loss overflows at once
            for p in model.parameters():
                p._data[...] = 1e20
        runs.append(model)
        return model

    result = gn.train.restarts(build, 2, dict(X=X, y=y, loss=nn.MSELoss(), optimizer="sgd", epochs=2), seed=0)
    assert result.scores[0] == math.inf and math.isfinite(result.scores[1])
    assert "loss became" in result.histories[0].stop_reason
    assert result.best_index == 1 and result.best_model is runs[1]
