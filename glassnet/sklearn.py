"""scikit-learn estimators: ``GlassClassifier`` and ``GlassRegressor``, multilayer perceptrons trained by glassnet
(optional extra ``glassnet[sklearn]``).

They follow scikit-learn's conventions to the letter (``check_estimator`` passes): constructor arguments are
stored as given and validated in ``fit``; learned state ends in ``_``; they work in ``Pipeline``, ``GridSearchCV``
and ``cross_val_score``. The parameters mirror ``MLPClassifier``/``MLPRegressor`` where they exist there.

    >>> from glassnet.sklearn import GlassClassifier
    >>> clf = GlassClassifier(hidden_layer_sizes=(16,), epochs=50, random_state=0).fit(X, y)   # doctest: +SKIP
    >>> clf.predict_proba(X[:3])                                                                  # doctest: +SKIP

``random_state`` seeds glassnet's global generator (``gn.manual_seed``) at the start of ``fit``, since the
initial weights and the shuffling draw from it.
"""
from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

import glassnet as gn
from glassnet import nn

from .cli.model_file import ACTIVATIONS, build_mlp

__all__ = ["GlassClassifier", "GlassRegressor"]


class _GlassMLP(BaseEstimator):
    """What both estimators share: the parameters, the network and the training loop (``gn.fit``)."""

    _parameter_constraints: dict[str, list[Any]] = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS) - {"linear"} | {"identity"})],
        "optimizer": [StrOptions(set(gn.train.OPTIMIZERS))],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", optimizer: str = "adam",
                 learning_rate: float = 1e-3, epochs: int = 200, batch_size: int = 32, alpha: float = 1e-4,
                 dropout: float = 0.0, early_stopping: bool = False, validation_fraction: float = 0.1,
                 n_iter_no_change: int = 10, random_state: Any = None, verbose: int = 0) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.alpha = alpha
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.verbose = verbose

    # what the subclasses define
    def _loss(self) -> nn.Module:
        """The training loss, from the network's outputs."""
        raise NotImplementedError

    def _encode(self, y: np.ndarray, first: bool) -> np.ndarray:
        """y as the loss's targets; ``first`` learns the encoding (classes, scaling) from it."""
        raise NotImplementedError

    def _build(self, n_features: int) -> nn.Sequential:
        hidden = [self.hidden_layer_sizes] if isinstance(self.hidden_layer_sizes, Integral) else \
            list(self.hidden_layer_sizes)
        if any(not isinstance(width, Integral) or width < 1 for width in hidden):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        activation = "linear" if self.activation == "identity" else self.activation
        self._architecture = {"inputs": n_features, "hidden": [int(w) for w in hidden], "outputs": self._outputs,
                              "activation": activation, "dropout": self.dropout}
        return build_mlp(**self._architecture).to(np.float64)

    def _train(self, X: np.ndarray, target: np.ndarray, epochs: int, validation: Any) -> gn.History:
        callbacks = []
        if validation is not None:
            callbacks.append(gn.callbacks.EarlyStopping("val_loss", patience=self.n_iter_no_change,
                                                        restore_best_weights=True))
        return gn.fit(self.model_, X, target, loss=self._loss(), epochs=epochs, batch_size=self.batch_size,
                      optimizer=self._optimizer, validation_data=validation, callbacks=callbacks,
                      verbose=self.verbose, regularization=self._l2(len(X)))

    def _l2(self, samples: int) -> tuple[str, float] | None:
        """``alpha`` as MLPClassifier means it: each batch's loss + alpha · ½Σw² / batch size."""
        return ("l2", self.alpha / min(self.batch_size, samples)) if self.alpha else None

    def _fit(self, X: Any, y: Any, partial: bool) -> _GlassMLP:
        first = not (partial and hasattr(self, "model_"))
        if first:
            self._validate_params()
        X, y = validate_data(self, X, y, reset=first, dtype=np.float64, multi_output=self._multi_output,
                             y_numeric=not isinstance(self, ClassifierMixin))
        target = self._encode(y, first)
        seed = check_random_state(self.random_state).randint(2 ** 31) if first else None
        if first:
            gn.manual_seed(int(seed))
            self.model_ = self._build(X.shape[1])
            self.loss_curve_, self.validation_loss_curve_, self.n_iter_ = [], [], 0
        if first or getattr(self, "_optimizer", None) is None:  # partial_fit goes on with the optimizer's state
            optimizer = gn.train.OPTIMIZERS[self.optimizer]
            self._optimizer = optimizer(self.model_.parameters(), lr=self.learning_rate)
        validation = None
        if self.early_stopping and not partial:
            X, Xv, target, tv = self._split(X, target, int(seed))
            validation = (Xv, tv)
        history = self._train(X, target, 1 if partial else self.epochs, validation)
        self.loss_curve_ += history.history.get("loss", [])
        self.validation_loss_curve_ += history.history.get("val_loss", [])
        self.n_iter_ += len(history.epoch)
        self.best_loss_ = min(self.validation_loss_curve_ or self.loss_curve_)
        return self

    def _split(self, X: np.ndarray, target: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
        from sklearn.model_selection import train_test_split
        stratify = target.reshape(len(target), -1)[:, 0] if isinstance(self, ClassifierMixin) else None
        try:
            return train_test_split(X, target, test_size=self.validation_fraction, random_state=seed,
                                    stratify=stratify)
        except ValueError:  # a class too small to stratify
            return train_test_split(X, target, test_size=self.validation_fraction, random_state=seed)

    def _outputs_of(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return gn.predict(self.model_, X)

    def __getstate__(self) -> dict[str, Any]:
        """Pickles the network as its architecture and weights (arrays), without the optimizer (a partial_fit
        after unpickling starts a new one)."""
        state = {key: value for key, value in self.__dict__.items() if key != "_optimizer"}
        if "model_" in state:
            state["model_"] = state["model_"].state_dict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "model_" in state:
            weights, state["model_"] = state["model_"], build_mlp(**state["_architecture"]).to(np.float64)
            state["model_"].load_state_dict(weights)
        self.__dict__.update(state)


class GlassClassifier(ClassifierMixin, _GlassMLP):
    """A multilayer perceptron classifier trained by glassnet: sigmoid output and binary cross-entropy for two
    classes, softmax and cross-entropy for more (fused into the loss; the network outputs logits).

    Parameters: ``hidden_layer_sizes`` (widths), ``activation`` (relu, tanh, sigmoid, leaky_relu, identity),
    ``optimizer`` (adam, sgd, …), ``learning_rate``, ``epochs``, ``batch_size``, ``alpha`` (L2 penalty as in
    ``MLPClassifier``: alpha · ½Σw² / batch size added to each batch's loss), ``dropout``,
    ``early_stopping`` (hold out ``validation_fraction``, stop after ``n_iter_no_change`` epochs without a better
    validation loss, keep the best weights), ``random_state``, ``verbose``.

    Attributes: ``classes_``, ``model_`` (the glassnet ``Sequential``), ``loss_curve_`` (training loss per epoch),
    ``validation_loss_curve_``, ``best_loss_``, ``n_iter_`` (epochs trained), ``n_features_in_``,
    ``feature_names_in_``.
    """

    _multi_output = False

    def fit(self, X: Any, y: Any) -> GlassClassifier:
        """Train from new random weights on X (n_samples, n_features) and class labels y (n_samples,)."""
        return self._fit(X, y, partial=False)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> GlassClassifier:
        """One epoch on (X, y), continuing from the current weights; the first call needs ``classes`` unless y
        holds every class."""
        if not hasattr(self, "model_") and classes is not None:
            self._all_classes = np.asarray(classes)
        return self._fit(X, y, partial=True)

    def _encode(self, y: np.ndarray, first: bool) -> np.ndarray:
        check_classification_targets(y)
        if first:
            classes = getattr(self, "_all_classes", None)
            self._label_encoder = LabelEncoder().fit(unique_labels(y) if classes is None else classes)
            self.classes_ = self._label_encoder.classes_
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs at least two classes in y; got only one class: "
                                 f"{self.classes_[0]!r}")
        unknown = np.setdiff1d(unique_labels(y), self.classes_)
        if len(unknown):
            raise ValueError(f"y contains labels not in classes_: {unknown.tolist()}")
        labels = self._label_encoder.transform(y)
        return labels.astype(np.float64).reshape(-1, 1) if self._binary else labels.astype(np.int64)

    @property
    def _binary(self) -> bool:
        return len(self.classes_) == 2

    @property
    def _outputs(self) -> int:
        return 1 if self._binary else len(self.classes_)

    def _loss(self) -> nn.Module:
        return nn.BCEWithLogitsLoss() if self._binary else nn.CrossEntropyLoss()

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n_samples, n_classes) class probabilities, columns in the order of ``classes_``."""
        logits = self._outputs_of(X)
        if self._binary:
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        """(n_samples,) the most probable class of each row, as one of ``classes_``."""
        best = self.predict_proba(X).argmax(axis=1)
        return self.classes_[best]


class GlassRegressor(RegressorMixin, _GlassMLP):
    """A multilayer perceptron regressor trained by glassnet: linear output, mean squared error on targets
    standardised inside ``fit`` (``predict`` returns y's own units). y may be (n_samples,) or (n_samples, k).

    Parameters and attributes as ``GlassClassifier`` (no ``classes_``).
    """

    _multi_output = True

    def fit(self, X: Any, y: Any) -> GlassRegressor:
        """Train from new random weights on X (n_samples, n_features) and y (n_samples,) or (n_samples, k)."""
        return self._fit(X, y, partial=False)

    def partial_fit(self, X: Any, y: Any) -> GlassRegressor:
        """One epoch on (X, y), continuing from the current weights."""
        return self._fit(X, y, partial=True)

    def _encode(self, y: np.ndarray, first: bool) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64)
        if first:
            self._y_1d = y.ndim == 1
            self._y_mean, scale = y.mean(axis=0), y.std(axis=0)
            self._y_scale = np.where(scale > 0, scale, 1.0)
            self._outputs = 1 if y.ndim == 1 else y.shape[1]
        y = y.reshape(len(y), -1)
        if y.shape[1] != self._outputs:
            raise ValueError(f"y has {y.shape[1]} columns but the regressor was fitted with {self._outputs}")
        return (y - np.reshape(self._y_mean, -1)) / np.reshape(self._y_scale, -1)

    def _loss(self) -> nn.Module:
        return nn.MSELoss()

    def predict(self, X: Any) -> np.ndarray:
        """(n_samples,) or (n_samples, k) predictions in y's units."""
        values = self._outputs_of(X) * np.reshape(self._y_scale, -1) + np.reshape(self._y_mean, -1)
        return values[:, 0] if self._y_1d else values

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags
