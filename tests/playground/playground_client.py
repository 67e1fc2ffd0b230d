"""What the playground's server tests share: a page's end of the WebSocket, waiting, a real server in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import uvicorn

from glassnet.playground.server import uvicorn_config

Message = dict[str, Any]


class Page:
    """The page's end of one WebSocket: send commands, read messages until the wanted one arrives."""

    def __init__(self, websocket: Any) -> None:
        self.ws = websocket

    def send(self, kind: str, **fields: Any) -> None:
        self.ws.send_json({"type": kind, **fields})

    def expect(self, kind: str, until: Callable[[Message], bool] = lambda m: True) -> Message:
        """The next message of type `kind` that satisfies `until` (other messages are skipped)."""
        while True:
            message = self.ws.receive_json()
            if message["type"] == kind and until(message):
                return message

    def request(self, kind: str, reply: str, **fields: Any) -> Message:
        self.send(kind, **fields)
        return self.expect(reply)

    def error(self, text: str) -> Message:
        """Send raw text and return the error it gets."""
        self.ws.send_text(text)
        return self.expect("error")

    def set(self, **changes: Any) -> Message:
        """`set` and return the state reply; the first frame after it is read too (so the next is fresh)."""
        state = self.request("set", "state", state=changes)
        self.expect("frame")
        return state


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@contextlib.contextmanager
def serve_in_thread(app: Any, send_buffer: int | None = None) -> Iterator[tuple[uvicorn.Server, int]]:
    """`app` on uvicorn (configured as `serve` does) in a thread, on a free port of 127.0.0.1; with `send_buffer`,
    the kernel's send buffer of each connection is that small (so that a page that stops reading stalls it soon)."""
    sock = socket.socket()
    if send_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)  # accepted sockets inherit it
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    assert wait_until(lambda: server.started, 10)
    try:
        yield server, sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
