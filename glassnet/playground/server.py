"""The playground's web server: a Starlette app serving `static/`, ``GET /api/defaults`` and the ``/ws`` WebSocket.

Each WebSocket gets its own `Session` and two tasks: one receives and checks messages (size, rate, JSON), the other
handles them and trains in slices of at most `SLICE_S` seconds, yielding to the event loop between slices so that
every page progresses, and sends a frame at most `MAX_FRAMES_PER_S` times a second. A closed socket ends both
tasks and frees the session. See PROTOCOL.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .session import ProtocolError, Session
from .state import MAX_FRAMES_PER_S, MAX_MESSAGE_BYTES, MAX_MESSAGES_PER_S, describe

STATIC = Path(__file__).with_name("static")
SLICE_S = 0.005  # the longest stretch of training between two turns of the event loop
FRAME_INTERVAL_S = 1.0 / MAX_FRAMES_PER_S
INBOX_SIZE = 2 * MAX_MESSAGES_PER_S  # messages received and not yet handled
WS_MAX_SIZE = 8 * MAX_MESSAGE_BYTES  # uvicorn closes the socket on a bigger one; smaller oversized ones get an error

log = logging.getLogger(__name__)


class RateLimit:
    """A token bucket: bursts of up to `rate` messages, `rate` per second on average."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.last = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number in JSON")


def decode(message: dict[str, Any]) -> dict[str, Any]:
    """The command in one WebSocket message; ProtocolError if it is not a JSON object of at most 128 KiB."""
    text = message.get("text")
    if text is None:
        raise ProtocolError("binary messages are not understood: send JSON text")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message too large: {size} bytes, the limit is {MAX_MESSAGE_BYTES} bytes")
    try:
        command = json.loads(text, parse_constant=_reject_constant)
    except ValueError as error:
        raise ProtocolError(f"malformed JSON: {error}") from None
    if not isinstance(command, dict):
        raise ProtocolError(f"a message must be a JSON object with a 'type', got {type(command).__name__}")
    return command


async def _send(websocket: WebSocket, messages: Iterable[dict[str, Any]]) -> None:
    for message in messages:
        await websocket.send_text(json.dumps(message, allow_nan=False, separators=(",", ":"), ensure_ascii=False))


def _error(text: str) -> dict[str, Any]:
    return {"type": "error", "message": text}


Inbox = MemoryObjectReceiveStream[Any]


async def _receive(websocket: WebSocket, inbox: MemoryObjectSendStream[Any]) -> None:
    """Queue each message (or the ProtocolError it raises) until the page goes away; a full inbox makes this wait,
    which slows a page that sends faster than its session can answer."""
    limit = RateLimit(MAX_MESSAGES_PER_S)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if not limit.allow():
            await inbox.send(ProtocolError(f"too many messages: at most {MAX_MESSAGES_PER_S} per second; "
                                           f"this one was dropped"))
            continue
        try:
            await inbox.send(decode(message))
        except ProtocolError as error:
            await inbox.send(error)


def _guarded(session: Session, action: str, call: Any, *args: Any) -> list[dict[str, Any]]:
    """`call(*args)`'s replies; a ProtocolError becomes an error frame, any other failure too (logged, paused)."""
    try:
        return call(*args)
    except ProtocolError as error:
        return [_error(str(error))]
    except Exception as error:  # a bug must not end the page's session: report it, stop training, go on
        log.exception("playground: %s failed", action)
        session.halt()
        return [_error(f"{action} failed: {type(error).__name__}: {error}")]


async def _handle(websocket: WebSocket, session: Session, item: dict[str, Any] | ProtocolError) -> None:
    if isinstance(item, ProtocolError):
        await _send(websocket, [_error(str(item))])
    else:
        await _send(websocket, _guarded(session, f"{item.get('type')!r}", session.handle, item))


async def _run(websocket: WebSocket, session: Session, inbox: Inbox) -> None:
    """Handle commands, train in slices and send frames (at most MAX_FRAMES_PER_S a second), forever."""
    last_frame = -math.inf
    await _send(websocket, [session.state_message(), session.data_message()])
    while True:
        while True:
            try:
                item = inbox.receive_nowait()
            except anyio.WouldBlock:
                break
            await _handle(websocket, session, item)
        until_frame = last_frame + FRAME_INTERVAL_S - time.monotonic()
        if session.busy and (until_frame > 0 or not session.frame_due):
            # train for a slice, or until the next frame is due if that comes first
            budget = min(SLICE_S, until_frame) if session.frame_due else SLICE_S
            await _send(websocket, _guarded(session, "training", session.work, budget))
        now = time.monotonic()
        if session.frame_due and now - last_frame >= FRAME_INTERVAL_S:
            # a steady cadence (the next frame is due one interval after this one was), unless we fell behind
            late = now - last_frame >= 2 * FRAME_INTERVAL_S
            last_frame = now if late else last_frame + FRAME_INTERVAL_S
            await _send(websocket, _guarded(session, "frame", lambda: [session.frame()]))
        if session.busy:
            await anyio.sleep(0)  # let the other pages and this page's receiver have the loop
            continue
        item = None
        with anyio.move_on_after(max(0.0, last_frame + FRAME_INTERVAL_S - now) if session.frame_due else None):
            item = await inbox.receive()  # idle: wait for a command (or until the next frame is due)
        if item is not None:
            await _handle(websocket, session, item)


async def playground_socket(websocket: WebSocket) -> None:
    """``/ws``: one Session for as long as the page stays connected."""
    await websocket.accept()
    session = Session(autoplay=websocket.app.state.autoplay)
    sessions: set[Session] = websocket.app.state.sessions
    sessions.add(session)
    sender, inbox = anyio.create_memory_object_stream[Any](INBOX_SIZE)
    try:
        async with anyio.create_task_group() as group:
            async def until_closed(job: Any) -> None:  # whichever task ends first ends the other
                try:
                    await job
                except (WebSocketDisconnect, OSError):
                    pass  # the page went away while we were sending
                finally:
                    group.cancel_scope.cancel()
            group.start_soon(until_closed, _receive(websocket, sender))
            group.start_soon(until_closed, _run(websocket, session, inbox))
    finally:
        sessions.discard(session)


async def defaults(request: Request) -> JSONResponse:
    """``GET /api/defaults``: the default state, every key's values and the limits."""
    return JSONResponse(describe())


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    """Run BLAS on one thread while serving: the playground's matrices are small, and on a busy machine
    multithreaded BLAS made a grid forward pass up to 100× slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional speed-up
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def create_app(autoplay: bool = False) -> Starlette:
    """The playground's Starlette app; with `autoplay`, every new page starts training at once."""
    app = Starlette(routes=[
        Route("/api/defaults", defaults),
        WebSocketRoute("/ws", playground_socket),
        Mount("/", StaticFiles(directory=STATIC, html=True)),
    ], lifespan=_lifespan)
    app.state.autoplay = autoplay
    app.state.sessions = set()  # the live sessions, one per connected page
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, autoplay: bool = False) -> None:
    """Serve the playground with uvicorn until interrupted (on 127.0.0.1 unless another host is asked for)."""
    import uvicorn

    print(f"glassnet playground on http://{host}:{port}/ (Ctrl+C stops it)")
    uvicorn.run(create_app(autoplay=autoplay), host=host, port=port, log_level="warning", ws_max_size=WS_MAX_SIZE)
