"""glassnet.sklearn: GlassClassifier and GlassRegressor pass scikit-learn's estimator checks and work in
Pipeline, GridSearchCV and cross_val_score."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet.sklearn import GlassClassifier, GlassRegressor


@parametrize_with_checks([GlassClassifier(), GlassRegressor()])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, np.array(["setosa", "versicolor", "virginica"])[y]


def test_cross_val_score_in_a_pipeline_learns_iris(iris):
    X, y = iris
    pipeline = make_pipeline(StandardScaler(), GlassClassifier((16,), epochs=60, learning_rate=0.01, random_state=0))
    scores = cross_val_score(pipeline, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9  # chance is 1/3


def test_grid_search_picks_among_hidden_layer_sizes(iris):
    X, y = iris
    grid = GridSearchCV(make_pipeline(StandardScaler(), GlassClassifier(epochs=40, learning_rate=0.01,
                                                                       random_state=0)),
                        {"glassclassifier__hidden_layer_sizes": [(1,), (16,)]}, cv=3)
    grid.fit(X, y)
    means = grid.cv_results_["mean_test_score"]
    assert grid.best_params_ == {"glassclassifier__hidden_layer_sizes": (16,)}
    assert means[1] > means[0]  # one hidden neuron cannot separate three classes as well
    assert set(grid.predict(X)) <= set(y)


def test_fitted_attributes_and_probabilities(iris):
    X, y = iris
    clf = GlassClassifier((8, 8), epochs=30, learning_rate=0.01, random_state=1).fit(X, y)
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    assert clf.n_features_in_ == 4 and clf.n_iter_ == 30 == len(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and np.allclose(proba.sum(axis=1), 1)
    assert list(clf.predict(X)) == list(clf.classes_[proba.argmax(axis=1)])
    shapes = [p.shape for p in clf.model_.parameters()]
    assert shapes == [(8, 4), (8,), (8, 8), (8,), (3, 8), (3,)]
    assert clf.score(X, y) == np.mean(clf.predict(X) == y)


def test_two_classes_use_one_sigmoid_output():
    X = np.random.default_rng(0).normal(size=(120, 2))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    clf = GlassClassifier((8,), epochs=40, learning_rate=0.02, random_state=0).fit(X, y)
    assert clf.model_[-1].out_features == 1
    assert clf.score(X, y) > 0.9
    logit = clf.model_(X.astype(np.float64)).numpy()[:, 0]
    assert np.allclose(clf.predict_proba(X)[:, 1], 1 / (1 + np.exp(-logit)))


def test_early_stopping_keeps_the_best_validation_weights(iris):
    X, y = iris
    clf = GlassClassifier((16,), epochs=2000, learning_rate=0.05, early_stopping=True, n_iter_no_change=5,
                          validation_fraction=0.2, random_state=0).fit(X, y)
    assert clf.n_iter_ < 2000
    assert len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_loss_ == min(clf.validation_loss_curve_)
    assert np.argmin(clf.validation_loss_curve_) == clf.n_iter_ - 1 - 5  # stopped 5 epochs after the best


def test_partial_fit_continues_one_epoch_per_call(iris):
    X, y = iris
    clf = GlassClassifier((16,), learning_rate=0.01, random_state=0)
    clf.partial_fit(X[:10], y[:10], classes=np.unique(y))  # the first batch holds one class only
    assert list(clf.classes_) == ["setosa", "versicolor", "virginica"]
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 21 and clf.loss_curve_[-1] < clf.loss_curve_[1]
    with pytest.raises(ValueError, match="labels not in classes_"):
        clf.partial_fit(X, np.where(y == "setosa", "rose", y))


def test_same_random_state_same_model(iris):
    X, y = iris
    a = GlassClassifier((8,), epochs=5, random_state=3).fit(X, y).predict_proba(X)
    b = GlassClassifier((8,), epochs=5, random_state=3).fit(X, y).predict_proba(X)
    c = GlassClassifier((8,), epochs=5, random_state=4).fit(X, y).predict_proba(X)
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_regressor_predicts_in_ys_units_and_handles_several_targets():
    X, y = make_regression(n_samples=300, n_features=4, n_targets=2, noise=1.0, random_state=0)
    y = y * 100 + 5000
    reg = GlassRegressor((32,), epochs=100, learning_rate=0.01, random_state=0).fit(X, y)
    assert reg.predict(X).shape == (300, 2)
    assert reg.score(X, y) > 0.95
    single = GlassRegressor((32,), epochs=100, learning_rate=0.01, random_state=0).fit(X, y[:, 0])
    assert single.predict(X).shape == (300,) and abs(single.predict(X).mean() - y[:, 0].mean()) < 0.05 * y.std()


def test_pickle_round_trip_keeps_predictions(iris):
    X, y = iris
    clf = GlassClassifier((8,), activation="relu", epochs=5, random_state=0).fit(X, y)
    copy = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(copy.predict_proba(X), clf.predict_proba(X))
    copy.partial_fit(X, y)  # trains on with a new optimizer
    assert copy.n_iter_ == 6


@pytest.mark.parametrize("params, message", [
    ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes must be positive integers"),
    ({"activation": "swish"}, "'activation' parameter of GlassClassifier must be a str among"),
    ({"learning_rate": 0}, "'learning_rate' parameter of GlassClassifier must be a float in the range"),
    ({"dropout": 1.0}, "'dropout' parameter"),
])
def test_bad_parameters_are_named_at_fit(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        GlassClassifier(**params).fit(X, y)
