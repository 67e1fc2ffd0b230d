"""bench_core's autoencoder workload (W7) runs the same training on every side: glassnet, torch and the NumPy floor
agree step by step from the same weights, in float32 (otherwise their rates compare different work)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import bench_core  # noqa: E402


def test_w7_sides_train_alike():
    import glassnet
    spec = bench_core.w7()
    assert spec.sizes == [784, 128, 32, 128, 784] and spec.batch == 128 and spec.optimizer == "Adam"
    glassnet.manual_seed(0)
    gside = bench_core.build("glassnet", spec, None)
    sides = {"glassnet": gside, **{name: bench_core.build(name, spec, gside["model"].state_dict())
                                   for name in bench_core.SIDES[1:]}}
    x, target = gside["batches"][0]
    assert (target._data == x._data).all(), "an autoencoder's target is its input"
    report = bench_core.check_agreement(sides, steps=3)  # raises if the losses or dtypes differ
    assert report.startswith("3 identical steps agree")
