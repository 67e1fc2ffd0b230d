"""Fixtures of the playground's server tests: an app, a test client on one event loop, and a connected page."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient  # noqa: E402

from glassnet.playground import create_app  # noqa: E402


@pytest.fixture
def app() -> Any:
    return create_app()


@pytest.fixture
def client(app: Any) -> Any:
    with TestClient(app) as client:  # one event loop for every page, as in uvicorn
        yield client


@pytest.fixture
def page(client: Any) -> Any:
    """A connected page on data seed 1, past its first state, data and frame messages."""
    from playground_client import Page

    with client.websocket_connect("/ws") as websocket:
        page = Page(websocket)
        page.expect("state")
        page.expect("data")
        page.expect("frame")
        page.set(seed=1)
        yield page
