"""The README's two commands (scripts/run.sh, scripts/test.sh) and scripts/venv.sh, checked without installing
anything: a fake python3 and apt-get on PATH record what the scripts ask of them."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"

# A python3 that records its arguments: `-m venv DIR` makes DIR/bin/python (itself), `-m pip` records the install,
# the version check passes unless FAKE_OLD=1, `import ensurepip` fails when FAKE_NO_ENSUREPIP=1.
FAKE_PYTHON = r"""#!/usr/bin/env bash
echo "$0 $*" >> "$FAKE_LOG"
case "$1" in
  --version) echo "Python 3.11.0" ;;
  -c) case "$2" in
        *ensurepip*) [ "${FAKE_NO_ENSUREPIP:-0}" = 1 ] && [ ! -e "$FAKE_LOG.apt" ] && exit 1; exit 0 ;;
        *print*) echo 3.11 ;;
        *version_info*) [ "${FAKE_OLD:-0}" = 1 ] && exit 1; exit 0 ;;
        *) exit 0 ;;
      esac ;;
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi ;;
esac
"""
FAKE_APT = r"""#!/usr/bin/env bash
echo "apt-get $*" >> "$FAKE_LOG"; touch "$FAKE_LOG.apt"
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A checkout with scripts/venv.sh and a pyproject.toml, and a bin/ of fakes first on PATH."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(SCRIPTS / "venv.sh", tmp_path / "scripts")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "glassnet"\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("python3", FAKE_PYTHON), ("apt-get", FAKE_APT)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def bash(sandbox: Path, script: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PATH=f"{sandbox / 'bin'}:/usr/bin:/bin", FAKE_LOG=str(sandbox / "log"), **env)
    environment.pop("PYTHON", None)
    environment.pop("GLASSNET_VENV", None)
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source scripts/venv.sh; {script}"], cwd=sandbox,
                          env=environment, capture_output=True, text=True, timeout=60)


def calls(sandbox: Path) -> list[str]:
    log = sandbox / "log"
    return log.read_text().splitlines() if log.exists() else []


def pip_installs(sandbox: Path) -> list[str]:
    return [line for line in calls(sandbox) if " -m pip install" in line]


def test_install_runs_once_until_pyproject_changes(sandbox):
    for _ in range(2):
        result = bash(sandbox, 'use_venv; install_extras playground "60 MB"')
        assert result.returncode == 0, result.stderr
    installs = pip_installs(sandbox)
    assert len(installs) == 1  # the second run found the stamp
    assert installs[0].startswith(".venv/bin/python -m pip install")  # the venv's pip, not the system's
    assert installs[0].endswith('-e .[playground]')
    with open(sandbox / "pyproject.toml", "a") as file:
        file.write('version = "0.2"\n')
    assert bash(sandbox, 'use_venv; install_extras playground "60 MB"').returncode == 0
    assert len(pip_installs(sandbox)) == 2


def test_install_says_what_and_how_large_before_it_starts(sandbox):
    result = bash(sandbox, 'use_venv; install_extras test "about 1.1 GB"')
    assert result.returncode == 0, result.stderr
    assert "creating the virtual environment .venv with Python 3.11.0" in result.stderr
    assert "installing glassnet[test] into .venv (about 1.1 GB" in result.stderr
    assert result.stderr.index("installing glassnet[test]") < result.stderr.index("installed glassnet[test]")


def test_each_set_of_extras_has_its_own_stamp(sandbox):
    assert bash(sandbox, 'use_venv; install_extras playground x; install_extras test y').returncode == 0
    assert [line.rsplit(" ", 1)[1] for line in pip_installs(sandbox)] == [".[playground]", ".[test]"]


def test_an_existing_venv_is_used_without_the_base_python(sandbox):
    assert bash(sandbox, "use_venv").returncode == 0
    created = len(calls(sandbox))
    assert bash(sandbox, "use_venv").returncode == 0
    assert all(line.startswith(".venv/bin/python ") for line in calls(sandbox)[created:])
    assert not any(" -m venv" in line for line in calls(sandbox)[created:])


def test_a_python_without_ensurepip_gets_debians_venv_package_first(sandbox):
    result = bash(sandbox, "use_venv", FAKE_NO_ENSUREPIP="1")
    assert result.returncode == 0, result.stderr
    log = calls(sandbox)
    apt = [line for line in log if line.startswith("apt-get install")]
    assert apt == ["apt-get install -y -q python3.11-venv"], log  # the fake says it is Python 3.11
    assert "installing Debian's python" in result.stderr
    venv = next(i for i, line in enumerate(log) if " -m venv .venv" in line)
    assert venv > log.index(apt[0])  # the venv is made after the package is in


def test_too_old_a_python_is_refused_with_one_line(sandbox):
    result = bash(sandbox, "use_venv", FAKE_OLD="1")
    assert result.returncode != 0
    assert "too old: glassnet needs Python 3.10 or newer" in result.stderr
    assert not (sandbox / ".venv").exists()


def test_scripts_install_only_through_the_venv():
    """No bare `pip install` or `python3 -m pip` into the user's environment in any script."""
    for path in SCRIPTS.glob("*.sh"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if "pip" in code and "install" in code:
                assert '"$VENV_PYTHON" -m pip install' in code, f"{path.name}:{number}: {line}"
            assert not re.search(r"\bpython3 -m (pip|pytest)\b", code), f"{path.name}:{number}: {line}"


def test_run_uses_the_venv_and_only_the_playground_extra():
    text = (SCRIPTS / "run.sh").read_text()
    assert "source scripts/venv.sh" in text and "use_venv" in text
    assert re.findall(r"install_extras (\S+)", text) == ["playground"]
    assert '"$VENV_DIR/bin/glassnet" demo' in text and 'exec "$VENV_DIR/bin/glassnet" playground "$@"' in text


def test_test_command_uses_the_venv_and_says_chromiums_size():
    text = (SCRIPTS / "test.sh").read_text()
    assert re.findall(r"install_extras (\S+)", text) == ["test"]
    assert 'exec "$VENV_PYTHON" -m pytest "$@"' in text
    apt_line = text.index("apt-get install -y -q chromium")
    assert text.index("480 MB") < apt_line  # said before the download


def test_ci_calls_the_test_command_and_the_venv_is_ignored():
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_torch_stays_pinned_in_every_extra():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.findall(r'"torch[^"]*"', text) == ['"torch==2.13.0"', '"torch==2.13.0"']
