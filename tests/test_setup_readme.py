"""The README's code blocks run as written. A block is run when the line before its fence is
``<!-- readme-test: bash -->`` or ``<!-- readme-test: python -->`` (``python, after the block above``: run after that
block's code, which it continues); unmarked blocks (the two set-up commands, which install, and the playground, which
serves until stopped) are covered by tests/test_setup.py and tests/test_cli.py."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MARKED = re.compile(r"<!-- readme-test: (bash|python)(, after the block above)? -->\n```(\w+)\n(.*?)```", re.S)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
UNMARKED = {("The two commands", "bash scripts/run.sh\n"), ("The two commands", "bash scripts/test.sh\n"),
            ("The playground", None)}  # the set-up commands (tests/test_setup.py) and a server (tests/test_cli.py)


def heading_before(text: str, position: int) -> str:
    return re.findall(r"^## (.+)$", text[:position], re.M)[-1]


def marked_blocks() -> list[tuple[str, str, str]]:
    """(section heading, language, code) of every marked block; a continuing block's code follows the one above."""
    text = (ROOT / "README.md").read_text()
    blocks = []
    for match in MARKED.finditer(text):
        language, continues, fence, code = match.groups()
        assert language == fence, f"marker says {language}, fence says {fence}"
        if continues:
            assert blocks and blocks[-1][1] == language, "a continuing block follows a block of its language"
            code = blocks[-1][2] + code
        blocks.append((heading_before(text, match.start()), language, code))
    return blocks


def test_every_code_block_of_the_readme_is_run_by_a_test():
    text = (ROOT / "README.md").read_text()
    marked = {match.start(3) for match in MARKED.finditer(text)}
    for match in FENCE.finditer(text):
        if match.start(1) in marked:
            continue
        heading, code = heading_before(text, match.start()), match.group(2)
        assert (heading, code) in UNMARKED or (heading, None) in UNMARKED, f"an unmarked block in {heading}:\n{code}"


def test_the_sections_of_the_library_command_line_estimators_viz_and_export_have_runnable_blocks():
    headings = {heading for heading, _, _ in marked_blocks()}
    assert {"A first model", "The command line", "scikit-learn estimators", "Seeing inside",
            "The learner's lens: why it learns, or fails", "Model export"} <= headings


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
    if heading.startswith("The learner's lens"):
        assert {"gradient_flow.png", "landscape.png", "lr_finder.png"} <= written
        kinds = [line.split(":")[0] for line in result.stdout.splitlines()[:2]]
        assert kinds == ["vanishing_gradients", "underfitting"], result.stdout  # as the block's comment says
        assert 0.01 < float(re.search(r"suggested learning rate (\S+)", result.stdout).group(1)) < 1
    if heading == "scikit-learn estimators":
        assert "cross-validated accuracy 0.9" in result.stdout
    if heading == "A first model":
        assert "spiral.glass" in written and float(result.stdout.split()[0]) > 0.85  # the validation accuracy
    if heading == "Model export":
        assert "cnn.onnx" in written
