"""The ``glassnet`` command (``glassnet --help``; also ``python -m glassnet``): train, predict, evaluate, inspect
and export models of CSV files, serve the playground, run demos. Needs the ``cli`` extra (Click, Rich)."""
from __future__ import annotations

import sys
from typing import Sequence

__all__ = ["main", "install_hint"]


def install_hint(extra: str) -> str:
    """How to install an extra: from this checkout when glassnet runs from one (it is not on PyPI)."""
    from pathlib import Path
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").exists():
        return f"pip install -e '{checkout}[{extra}]'"
    return f"install glassnet with its {extra!r} extra"


def main(argv: Sequence[str] | None = None) -> int:
    """The entry point: the exit status of the command (argv defaults to sys.argv[1:])."""
    try:
        from .commands import main as run
    except ImportError as error:
        print(f"glassnet: the command needs Click and Rich ({install_hint('cli')}): {error}", file=sys.stderr)
        return 1
    return run(argv)
