"""The glassnet playground: TensorFlow Playground in a browser, trained by glassnet (see PROTOCOL.md).

`Session` is one page's playground in pure Python; `create_app()` is the Starlette app and `serve()` runs it with
uvicorn. Starlette and uvicorn are an optional extra (``pip install glassnet[playground]``): they are imported only
when `create_app` or `serve` is first used, and ``import glassnet`` never imports this package.
"""

from __future__ import annotations

from typing import Any

from .session import ProtocolError, Session
from .state import default_state, from_hash, to_hash, validate

__all__ = ["Session", "ProtocolError", "create_app", "serve", "default_state", "from_hash", "to_hash", "validate"]


def __getattr__(name: str) -> Any:
    """`create_app` and `serve` load the web server (and Starlette) on first use."""
    if name in ("create_app", "serve"):
        try:
            from . import server
        except ImportError as error:
            raise ImportError(f"the playground's server needs Starlette and uvicorn ({error}); install them with "
                              f"pip install 'glassnet[playground]'") from error
        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
