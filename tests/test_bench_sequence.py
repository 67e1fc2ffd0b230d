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


def test_instruction_counts_cover_the_sequence_workloads(capsys, monkeypatch):
    """benchmarks/instructions.py counts W5/W6 steps too (built as bench_sequence builds them); its child part, the
    steps that callgrind counts, runs here without valgrind."""
    import instructions
    found = instructions.workloads()
    assert {"W1", "W3", "W7", "W5", "W6"} <= set(found)
    assert found["W5"][0] is bench_sequence and found["W5"][1] is bench_sequence.WORKLOADS["W5"]
    instructions.run_steps("W5", "glassnet", 1)
    monkeypatch.setattr(sys, "argv", ["instructions.py", "W5", "floor", "--steps", "1"])
    with pytest.raises(SystemExit):
        instructions.main()
    assert "W5 has no floor side" in capsys.readouterr().err


def test_kernel_share_times_the_lstm_kernel_inside_the_step_and_puts_it_back():
    """W5's kernel share: the time inside lstm_layer (forward call and backward closure) is most of a step but
    less than all of it, and the module's kernel and node constructor are the originals afterwards."""
    import glassnet
    import glassnet.nn.rnn as rnn
    kernel, result = rnn.lstm_layer, rnn.result
    spec = bench_sequence.WORKLOADS["W5"]
    glassnet.manual_seed(0)
    side = bench_sequence.build("glassnet", spec, None)
    whole, inside = bench_sequence.kernel_share(side, spec.kernel, rounds=2, seconds=0.01)
    assert 0.5 * whole < inside < whole
    assert rnn.lstm_layer is kernel and rnn.result is result
    before = side["model"].lstm.weight_hh_l0.detach().numpy().copy()
    bench_sequence.kernel_share(side, spec.kernel, rounds=1, seconds=0.0)
    assert not (side["model"].lstm.weight_hh_l0.detach().numpy() == before).all()  # the steps trained


@pytest.mark.parametrize("side", ["session", "loop"])
def test_instruction_counts_cover_a_playground_epoch(side, monkeypatch):
    """instructions.py's playground sides train the default net's session: the epochs counted are real epochs
    (the session's counter for `session`; the weights change for `loop`)."""
    import instructions
    from glassnet.playground import Session
    trained = []
    original = Session.train_epochs
    monkeypatch.setattr(Session, "train_epochs", lambda self, n: trained.append(n) or original(self, n))
    made = []
    init = Session.__init__
    monkeypatch.setattr(Session, "__init__", lambda self, **kw: made.append(self) or init(self, **kw))
    instructions.run_steps("playground", side, 2)
    session = made[0]
    if side == "session":
        assert trained == [30, 2] and session.run.epoch == 32
    else:
        assert trained == [30] and session.run.epoch == 30
        fresh = Session(seed=1)
        fresh.train_epochs(30)
        assert not (fresh.run.model[0].weight.numpy() == session.run.model[0].weight.numpy()).all()
