"""The ``glassnet`` command: ``demo`` trains the playground's network in the terminal; ``--help`` lists the
commands."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from glassnet import cli

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "glassnet.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def test_demo_trains_and_prints_the_test_accuracy():
    result = run_cli("demo", "--epochs", "30")
    assert result.returncode == 0, result.stderr
    match = re.search(r"spiral, (\d+) epochs: test accuracy (\d+\.\d)%", result.stdout)
    assert match, result.stdout
    epochs, accuracy = int(match.group(1)), float(match.group(2))
    assert 1 <= epochs <= 30
    assert accuracy >= 85.0  # chance is 50%: 30 epochs of the playground network learn the spiral
    assert "epoch" in result.stdout + result.stderr  # the progress bar


def test_help_lists_demo_and_playground():
    result = run_cli("--help", timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: glassnet")
    assert "demo" in result.stdout and "playground" in result.stdout


def test_demo_help_lists_its_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["demo", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--epochs" in out and "--seed" in out


def test_missing_or_unknown_command_is_a_usage_error(capsys):
    for argv in ([], ["train"], ["demo", "--epochs", "many"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        assert exit_info.value.code == 2
        assert "usage: glassnet" in capsys.readouterr().err


def test_demo_in_process_returns_zero_and_reports(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain per-epoch lines
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert cli.main(["demo", "--epochs", "3", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert [line.split(" - ")[0] for line in lines[:-1]] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert re.fullmatch(r"spiral, 3 epochs: test accuracy \d+\.\d%", lines[-1])


def test_demo_function_returns_the_accuracy_quietly(capsys):
    accuracy = cli.demo(epochs=20, seed=0, verbose=0)
    assert capsys.readouterr() == ("", "")
    assert 0.8 <= accuracy <= 1.0


def test_playground_without_its_extra_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "glassnet.playground.server", None)  # as if starlette were missing
    assert cli.main(["playground", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "pip install 'glassnet[playground]'" in err
