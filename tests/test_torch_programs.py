"""PyTorch programs run unchanged on glassnet: each file in tests/torch_programs/ is run as written (``import torch``)
and with its imports rewritten to glassnet (``import glassnet as torch``, …), and both runs must print the same
``RESULT`` line (numbers to float32 rounding). See tests/torch_programs/README.md."""
from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

PROGRAMS = Path(__file__).parent / "torch_programs"
REPO = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"^(?P<indent>\s*)(?:import torch(?P<module>(?:\.\w+)*)(?: as (?P<alias>\w+))?"
                    r"|from torch(?P<package>(?:\.\w+)*) import (?P<names>.+))$")
RTOL, ATOL = 1e-4, 1e-6


def to_glassnet(source: str) -> str:
    """The program with every torch import rewritten to glassnet's; nothing else changes."""
    lines = []
    for line in source.splitlines():
        match = IMPORT.match(line)
        if match is None:
            if re.search(r"\bimport torch\b|\bfrom torch\b", line):
                raise ValueError(f"unhandled torch import form: {line!r}")
            lines.append(line)
        elif match["names"] is not None:
            lines.append(f"{match['indent']}from glassnet{match['package']} import {match['names']}")
        elif match["module"]:
            if match["alias"] is None:
                raise ValueError(f"'import torch.x' without an alias binds the name torch: {line!r}")
            lines.append(f"{match['indent']}import glassnet{match['module']} as {match['alias']}")
        else:
            lines.append(f"{match['indent']}import glassnet as {match['alias'] or 'torch'}")
    return "\n".join(lines) + "\n"


def run(source: str, folder: Path, name: str) -> Any:
    path = folder / name
    path.write_text(source)
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=240, cwd=folder,
                          env=env)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    results = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert results, f"{name} printed no RESULT line:\n{done.stdout[-3000:]}"
    return json.loads(results[-1][len("RESULT "):])


def assert_same(torch_value: Any, glassnet_value: Any, where: str = "RESULT") -> None:
    if isinstance(torch_value, float) or isinstance(glassnet_value, float):
        assert isinstance(glassnet_value, (int, float)) and not isinstance(glassnet_value, bool), \
            f"{where}: torch gave {torch_value!r}, glassnet {glassnet_value!r}"
        assert math.isclose(glassnet_value, torch_value, rel_tol=RTOL, abs_tol=ATOL), \
            f"{where}: torch gave {torch_value!r}, glassnet {glassnet_value!r}"
    elif isinstance(torch_value, dict):
        assert isinstance(glassnet_value, dict) and list(glassnet_value) == list(torch_value), \
            f"{where}: keys {list(torch_value)} (torch) vs {glassnet_value!r}"
        for key in torch_value:
            assert_same(torch_value[key], glassnet_value[key], f"{where}.{key}")
    elif isinstance(torch_value, list):
        assert isinstance(glassnet_value, list) and len(glassnet_value) == len(torch_value), \
            f"{where}: torch gave {torch_value!r}, glassnet {glassnet_value!r}"
        for i, (t, g) in enumerate(zip(torch_value, glassnet_value)):
            assert_same(t, g, f"{where}[{i}]")
    else:
        assert glassnet_value == torch_value and type(glassnet_value) is type(torch_value), \
            f"{where}: torch gave {torch_value!r}, glassnet {glassnet_value!r}"


def test_import_rewriting():
    source = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch import nn, optim\n"
              "from torch.utils.data import DataLoader, TensorDataset\n    import torch\nx = torch.ones(2)  # torch\n")
    assert to_glassnet(source) == (
        "import glassnet as torch\nimport glassnet.nn as nn\nimport glassnet.nn.functional as F\n"
        "from glassnet import nn, optim\nfrom glassnet.utils.data import DataLoader, TensorDataset\n"
        "    import glassnet as torch\nx = torch.ones(2)  # torch\n")
    with pytest.raises(ValueError, match="binds the name torch"):
        to_glassnet("import torch.nn\n")
    with pytest.raises(AssertionError, match="glassnet"):
        assert_same({"a": [1.0, 2.0]}, {"a": [1.0, 2.1]})


@pytest.mark.parametrize("program", sorted(p.name for p in PROGRAMS.glob("*.py")))
def test_program_gives_torchs_results(program, tmp_path):
    source = (PROGRAMS / program).read_text()
    expected = run(source, tmp_path, "with_torch_" + program)
    assert_same(expected, run(to_glassnet(source), tmp_path, "with_glassnet_" + program))
