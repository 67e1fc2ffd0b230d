"""glassnet.sklearn's estimators under ``joblib.parallel_backend("dask")``: GridSearchCV on a 2-worker Dask
LocalCluster gives the cv_results_ of the serial GridSearchCV (every fit is seeded by ``random_state``, so it
does not matter which process runs it)."""
import joblib
import numpy as np
import pytest
from dask.distributed import get_task_stream
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV

from glassnet.distributed import local_client
from glassnet.sklearn import GlassClassifier, GlassRegressor


@pytest.fixture(scope="module")
def client():
    client = local_client(2)
    yield client
    cluster = client.cluster
    client.close()
    cluster.close()


def scores(search):
    keys = sorted(key for key in search.cv_results_ if key.startswith("split") or key.endswith("test_score"))
    return {key: np.asarray(search.cv_results_[key]) for key in keys}


@pytest.mark.parametrize("estimator, grid, data", [
    (GlassClassifier(epochs=12, learning_rate=0.02, random_state=0),
     {"hidden_layer_sizes": [(2,), (8,)], "activation": ["relu", "tanh"]}, "iris"),
    (GlassRegressor(epochs=8, learning_rate=0.01, random_state=1), {"hidden_layer_sizes": [(4,), (8,)]}, "regression"),
])
def test_grid_search_on_dask_equals_the_serial_one(client, estimator, grid, data):
    X, y = load_iris(return_X_y=True) if data == "iris" else make_regression(60, 3, noise=0.1, random_state=0)
    serial = GridSearchCV(estimator, grid, cv=3).fit(X, y)
    with get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        parallel = GridSearchCV(estimator, grid, cv=3, n_jobs=-1).fit(X, y)
    workers = {task["worker"] for task in tasks.data}
    assert len(workers) == 2, f"the fits ran on {workers}"  # both workers of the cluster trained
    expected, got = scores(serial), scores(parallel)
    assert sorted(got) == sorted(expected) and len(expected["mean_test_score"]) == len(parallel.cv_results_["params"])
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-12, atol=0, err_msg=key)
    assert parallel.best_params_ == serial.best_params_
    assert len(set(expected["mean_test_score"].round(6))) > 1  # the configurations differ: the check means something
