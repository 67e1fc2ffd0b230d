"""The sequence benchmarks (benchmarks/bench_sequence.py) run the same training on both sides: W5 and W6 agree with
PyTorch step by step from the same weights, in float32 (otherwise their rates compare different work)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import bench_sequence  # noqa: E402


@pytest.mark.parametrize("workload", ["W5", "W6"])
def test_both_sides_train_alike(workload):
    import glassnet
    spec = bench_sequence.WORKLOADS[workload]
    glassnet.manual_seed(0)
    gside = bench_sequence.build("glassnet", spec, None)
    sides = {"glassnet": gside, "torch": bench_sequence.build("torch", spec, gside["model"].state_dict())}
    report = bench_sequence.check_agreement(sides, steps=2)  # raises if the losses or dtypes differ
    assert report.startswith("2 identical steps agree")
