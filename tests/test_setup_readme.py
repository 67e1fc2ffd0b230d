"""The README's code blocks run as written. A block is run when the line before its fence is
``<!-- readme-test: bash -->`` or ``<!-- readme-test: python -->``; unmarked blocks (the two set-up commands, which
install, and the playground, which serves until stopped) are covered by tests/test_setup.py and tests/test_cli.py."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKED = re.compile(r"<!-- readme-test: (bash|python) -->\n```(\w+)\n(.*?)```", re.S)


def marked_blocks() -> list[tuple[str, str, str]]:
    """(section heading, language, code) of every marked block."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for match in MARKED.finditer(text):
        assert match.group(1) == match.group(2), f"marker says {match.group(1)}, fence says {match.group(2)}"
        heading = re.findall(r"^## (.+)$", text[:match.start()], re.M)[-1]
        blocks.append((heading, match.group(1), match.group(3)))
    return blocks


def test_the_sections_of_the_command_line_estimators_and_viz_have_runnable_blocks():
    headings = {heading for heading, _, _ in marked_blocks()}
    assert {"The command line", "scikit-learn estimators", "Seeing inside"} <= headings


@pytest.mark.parametrize("heading, language, code", marked_blocks(), ids=lambda v: v if len(v) < 40 else None)
def test_readme_block_runs(heading, language, code, tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "glassnet"  # the installed command, as `pip install -e .` would make it
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m glassnet "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    command = ["bash", "-euo", "pipefail", "-c", code] if language == "bash" else [sys.executable, "-c", code]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{heading}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    assert "Traceback" not in result.stderr
    written = {path.name for path in tmp_path.iterdir()}
    if heading == "The command line":
        assert {"iris.glass", "iris.curves.png", "predictions.csv", "iris.onnx"} <= written
        assert re.search(r"accuracy \d+\.\d%", result.stdout)
    if heading == "Seeing inside":
        assert {"curves.png", "boundary.png", "network.png"} <= written
    if heading == "scikit-learn estimators":
        assert "cross-validated accuracy 0.9" in result.stdout
