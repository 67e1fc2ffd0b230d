"""glassnet keeps freed memory for the next large arrays (glibc's mallopt, glassnet/_memory.py)."""
from __future__ import annotations

import ctypes
import sys

import pytest

from glassnet import _memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_the_settings_take_effect_on_glibc():
    try:
        ctypes.CDLL(None).gnu_get_libc_version
    except AttributeError:
        pytest.skip("not glibc")
    assert _memory.keep_freed_memory()


def test_opt_out_and_other_systems(monkeypatch):
    monkeypatch.setenv("GLASSNET_KEEP_FREED_MEMORY", "0")
    assert not _memory.keep_freed_memory()
    monkeypatch.delenv("GLASSNET_KEEP_FREED_MEMORY")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not _memory.keep_freed_memory()
