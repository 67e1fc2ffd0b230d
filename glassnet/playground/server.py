"""The playground's web server: a Starlette app serving `static/`, ``GET /api/defaults`` and the ``/ws`` WebSocket.

Each WebSocket gets its own `Session` and three tasks: one receives and checks messages (size, rate, JSON), one
handles them and trains in slices of at most `SLICE_S` seconds, yielding to the event loop between slices so that
every page progresses, and makes a frame at most `MAX_FRAMES_PER_S` times a second, and one sends the replies and
frames (`Outbox`), so that training goes on while a slow page takes a frame. A closed socket ends all three and
frees the session. See PROTOCOL.md.

What no message or client can do: crash a session (every bad message gets an `error` frame), make a reply that
cannot be encoded, drive the playground from another web site (the Host and Origin checks: DNS rebinding, CSRF),
hold more than `max_sessions` sessions, or keep a session alive by not reading (`send_timeout_s`); uvicorn runs with
header and shutdown timeouts (`uvicorn_config`; the header timeout and the abort of a stalled page extend uvicorn's
private protocol classes, pinned in pyproject.toml and checked: `UVICORN_INTERNALS`).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import math
import socket
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .session import ProtocolError, Session
from .state import MAX_FRAMES_PER_S, MAX_MESSAGE_BYTES, MAX_MESSAGES_PER_S, describe

STATIC = Path(__file__).with_name("static")
SLICE_S = 0.005  # the longest stretch of training between two turns of the event loop
FRAME_INTERVAL_S = 1.0 / MAX_FRAMES_PER_S
INBOX_SIZE = 2 * MAX_MESSAGES_PER_S  # messages received and not yet handled
OUTBOX_SIZE = 4 * MAX_MESSAGES_PER_S  # replies made and not yet sent
WS_MAX_SIZE = 8 * MAX_MESSAGE_BYTES  # uvicorn closes the socket on a bigger one; smaller oversized ones get an error
MAX_JSON_DEPTH = 32  # the deepest nesting of arrays and objects a message may have
MAX_INT_DIGITS = 4300  # longer integers are refused when read (Python refuses to convert them); shorter ones
# beyond the range of a key get a warning (see state.py)
MAX_SESSIONS = 32  # pages connected at once; the next one is closed with "server busy"
SEND_TIMEOUT_S = 10.0  # a page that takes longer to take one message is closed and its session freed
HEADER_TIMEOUT_S = 5.0  # an HTTP request whose header has not fully arrived by then is dropped (slowloris)
SHUTDOWN_TIMEOUT_S = 1  # Ctrl+C: pages get this long to close before their tasks are cancelled
BUSY = 1013  # WebSocket close code "try again later"
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

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


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range (beyond ±1.8e308)")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits is out of range")
    return int(text)


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a decoded JSON value (a scalar: 0); iterative, so never too deep."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def decode(message: dict[str, Any]) -> dict[str, Any]:
    """The command in one WebSocket message; ProtocolError if it is not a JSON object of at most 128 KiB, nested at
    most 32 deep, whose floats are all finite and integers at most 4,300 digits long."""
    text = message.get("text")
    if text is None:
        raise ProtocolError("binary messages are not understood: send JSON text")
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message too large: {size} bytes, the limit is {MAX_MESSAGE_BYTES} bytes")
    try:
        command = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                             parse_int=_bounded_int)
    except RecursionError:
        command = None  # deeper than Python's JSON reader goes: far beyond the limit
    except ValueError as error:
        raise ProtocolError(f"malformed JSON: {error}") from None
    if command is None or _depth(command) > MAX_JSON_DEPTH:
        raise ProtocolError(f"message nested too deeply: arrays and objects may nest at most {MAX_JSON_DEPTH} deep")
    if not isinstance(command, dict):
        raise ProtocolError(f"a message must be a JSON object with a 'type', got {type(command).__name__}")
    return command


def encode(message: dict[str, Any]) -> str:
    """A reply as JSON text; a reply that cannot be encoded (a bug: every number sent is finite) becomes an error
    frame that says which one, so that the session goes on."""
    try:
        return json.dumps(message, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    except (ValueError, TypeError, RecursionError) as error:
        log.error("playground: a %r reply could not be encoded: %s", message.get("type"), error)
        return json.dumps(_error(f"the server could not encode its {message.get('type')!r} reply: {error}"))


class Stalled(Exception):
    """The page took longer than the send timeout to take one message: it has stopped reading."""


async def _send(websocket: WebSocket, messages: Iterable[dict[str, Any]]) -> None:
    timeout = websocket.app.state.send_timeout_s
    for message in messages:
        text = encode(message)
        with anyio.move_on_after(timeout) as scope:
            await websocket.send_text(text)
        if scope.cancelled_caught:
            raise Stalled(f"no progress sending for {timeout:g} s")


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


class Outbox:
    """What a session sends, in order, taken to the page by a task of its own (`_deliver`): training goes on while
    a slow page takes a frame, and a frame is made only when the last one has gone (so none queue up)."""

    def __init__(self) -> None:
        self.writer, self.reader = anyio.create_memory_object_stream[dict[str, Any]](OUTBOX_SIZE)
        self.sending = False

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing on its way."""
        return not self.sending and self.reader.statistics().current_buffer_used == 0

    async def put(self, messages: Iterable[dict[str, Any]]) -> None:
        for message in messages:
            await self.writer.send(message)  # waits while OUTBOX_SIZE replies are queued: slows a flooding page


async def _deliver(websocket: WebSocket, outbox: Outbox) -> None:
    async for message in outbox.reader:
        outbox.sending = True
        await _send(websocket, [message])
        outbox.sending = False


async def _handle(outbox: Outbox, session: Session, item: dict[str, Any] | ProtocolError) -> None:
    if isinstance(item, ProtocolError):
        await outbox.put([_error(str(item))])
    else:
        await outbox.put(_guarded(session, f"{item.get('type')!r}", session.handle, item))


async def _run(outbox: Outbox, session: Session, inbox: Inbox) -> None:
    """Handle commands, train in slices and send frames (at most MAX_FRAMES_PER_S a second, each once the page has
    taken the one before), forever."""
    last_frame = -math.inf
    await outbox.put([session.state_message(), session.data_message()])
    while True:
        while True:
            try:
                item = inbox.receive_nowait()
            except anyio.WouldBlock:
                break
            await _handle(outbox, session, item)
        until_frame = last_frame + FRAME_INTERVAL_S - time.monotonic()
        frame_ready = session.frame_due and outbox.idle
        if session.busy and (until_frame > 0 or not frame_ready):
            # train for a slice, or until the next frame is due if that comes first
            budget = min(SLICE_S, until_frame) if frame_ready and until_frame > 0 else SLICE_S
            await outbox.put(_guarded(session, "training", session.work, budget))
        now = time.monotonic()
        if session.frame_due and now - last_frame >= FRAME_INTERVAL_S and outbox.idle:
            # a steady cadence (the next frame is due one interval after this one was), unless we fell behind
            late = now - last_frame >= 2 * FRAME_INTERVAL_S
            last_frame = now if late else last_frame + FRAME_INTERVAL_S
            await outbox.put(_guarded(session, "frame", lambda: [session.frame()]))
        if session.busy:
            await anyio.sleep(0)  # let the other pages and this page's receiver and sender have the loop
            continue
        item = None
        wait = max(0.0, last_frame + FRAME_INTERVAL_S - now) if session.frame_due else None
        if session.frame_due and not outbox.idle:
            wait = max(wait, FRAME_INTERVAL_S / 4)  # the page is still taking the last frame
        with anyio.move_on_after(wait):
            item = await inbox.receive()  # idle: wait for a command (or until the next frame is due)
        if item is not None:
            await _handle(outbox, session, item)


def _host_allowed(host: str | None, server: tuple[str, int] | None) -> bool:
    """Whether a Host header names this server: its bound address or localhost (with the bound port). Any other name
    is refused, so that a web site whose DNS name is re-bound to 127.0.0.1 cannot reach the playground."""
    if not host:
        return False
    try:
        parts = urllib.parse.urlsplit(f"//{host}")
        name, port = parts.hostname, parts.port
    except ValueError:
        return False
    if name is None or parts.username is not None or parts.path:
        return False
    if server is None:
        return name in LOCAL_NAMES
    bound, bound_port = server
    return name in LOCAL_NAMES | {bound.lower()} and (port or 80) == bound_port


def _origin_allowed(origin: str | None, host: str) -> bool:
    """Whether a WebSocket's Origin is the page's own (http(s)://<Host>), or absent (a client that is not a browser:
    browsers always send one)."""
    if origin is None:
        return True
    parts = urllib.parse.urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower() and not parts.path


class HostCheck:
    """ASGI middleware: refuses HTTP requests and WebSockets whose Host is not this server (see `_host_allowed`)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = Headers(scope=scope).get("host")
            if not _host_allowed(host, scope.get("server")):
                log.warning("playground: refused a request for Host %r (only this server's address or localhost)",
                            host)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                response = PlainTextResponse(f"refused: Host {host!r} is not this server's address; open the "
                                             f"playground at its own address or at localhost", status_code=400)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def playground_socket(websocket: WebSocket) -> None:
    """``/ws``: one Session for as long as the page stays connected (and reads what it is sent)."""
    state = websocket.app.state
    origin = websocket.headers.get("origin")
    if not _origin_allowed(origin, websocket.headers.get("host", "")):
        log.warning("playground: refused a WebSocket from origin %r (only the playground's own page may connect)",
                    origin)
        await websocket.close(code=1008)
        return
    await websocket.accept()
    sessions: set[Session] = state.sessions
    if len(sessions) >= state.max_sessions:
        log.warning("playground: server busy, closed a new page (%d pages connected, --max-sessions %d)",
                    len(sessions), state.max_sessions)
        with contextlib.suppress(WebSocketDisconnect, OSError):
            await websocket.close(code=BUSY, reason=f"server busy: {state.max_sessions} pages are open, "
                                                    f"the most it serves at once; try again later")
        return
    session = Session(autoplay=state.autoplay)
    sessions.add(session)
    sender, inbox = anyio.create_memory_object_stream[Any](INBOX_SIZE)
    outbox = Outbox()
    try:
        async with anyio.create_task_group() as group:
            async def until_closed(job: Any) -> None:  # whichever task ends first ends the others
                try:
                    await job
                except (WebSocketDisconnect, OSError):
                    pass  # the page went away while we were sending
                except Stalled as error:
                    log.warning("playground: closed a page that stopped reading (%s)", error)
                finally:
                    group.cancel_scope.cancel()
            group.start_soon(until_closed, _receive(websocket, sender))
            group.start_soon(until_closed, _run(outbox, session, inbox))
            group.start_soon(until_closed, _deliver(websocket, outbox))
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


def create_app(autoplay: bool = False, max_sessions: int = MAX_SESSIONS,
               send_timeout_s: float = SEND_TIMEOUT_S) -> Starlette:
    """The playground's Starlette app; with `autoplay`, every new page starts training at once. At most
    `max_sessions` pages at once; a page that takes more than `send_timeout_s` to take a message is closed."""
    app = Starlette(routes=[
        Route("/api/defaults", defaults),
        WebSocketRoute("/ws", playground_socket),
        Mount("/", StaticFiles(directory=STATIC, html=True)),
    ], middleware=[Middleware(HostCheck)], lifespan=_lifespan)
    app.state.autoplay = autoplay
    app.state.max_sessions = max_sessions
    app.state.send_timeout_s = send_timeout_s
    app.state.sessions = set()  # the live sessions, one per connected page
    return app


def uvicorn_config(app: Starlette, **options: Any) -> Any:
    """uvicorn's configuration for the playground: message size limit, a header timeout (`HeaderTimeout`),
    connections of pages that stopped reading aborted (`AbortStalled`), and a short graceful shutdown."""
    import uvicorn

    return uvicorn.Config(app, log_level="warning", ws_max_size=WS_MAX_SIZE, http=_protocols()[0],
                          ws=_protocols()[1], timeout_graceful_shutdown=SHUTDOWN_TIMEOUT_S, **options)


# uvicorn has no public hook for a header (slowloris) timeout nor for aborting a connection whose peer stopped
# reading, so the playground extends two of its protocol classes and relies on these private names, checked when the
# classes are made (`_protocols`) and by tests/playground/test_server_limits.py. pyproject.toml pins uvicorn to the
# versions they were checked with: a new uvicorn fails loudly here, never quietly without the timeouts.
UVICORN_VERSIONS = ">=0.54,<0.55"
UVICORN_INTERNALS = {
    "uvicorn.protocols.http.h11_impl.H11Protocol": ("connection_made", "on_response_complete"),
    "uvicorn.protocols.websockets.websockets_sansio_impl.WebSocketsSansIOProtocol": ("run_asgi", "shutdown"),
}  # and the instance attributes loop, conn (h11) and transport; writable (an asyncio.Event) and transport


def _uvicorn_class(path: str) -> type:
    """One of uvicorn's protocol classes named in UVICORN_INTERNALS; RuntimeError naming what this uvicorn lacks."""
    import importlib

    import uvicorn

    module, _, name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        cls = None
    missing = [path] if cls is None else [f"{name}.{m}" for m in UVICORN_INTERNALS[path] if not callable(getattr(
        cls, m, None))]
    if missing:
        raise RuntimeError(f"the playground's server extends uvicorn's private {', '.join(missing)}, which uvicorn "
                           f"{uvicorn.__version__} lacks: install uvicorn{UVICORN_VERSIONS} (pip install "
                           f"'uvicorn[standard]{UVICORN_VERSIONS}')")
    return cls


@functools.cache
def _protocols() -> tuple[type, type]:
    """uvicorn's HTTP and WebSocket protocols with the two timeouts it lacks (classes made on first use, so that
    importing this module does not import uvicorn)."""
    import h11

    h11_protocol, sansio_protocol = map(_uvicorn_class, UVICORN_INTERNALS)

    class HeaderTimeout(h11_protocol):  # type: ignore[misc, valid-type]
        """Drops a connection whose request header has not fully arrived `HEADER_TIMEOUT_S` after it opened or after
        its last response (uvicorn has a keep-alive timeout, but none for a header sent a byte at a time)."""

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            self.loop.call_later(HEADER_TIMEOUT_S, self._header_timeout)

        def _header_timeout(self) -> None:
            if (self.conn.their_state is h11.IDLE and self.transport.get_protocol() is self
                    and not self.transport.is_closing()):
                log.warning("playground: dropped a connection whose request header did not arrive within %g s",
                            HEADER_TIMEOUT_S)
                self.transport.close()

    class AbortStalled(sansio_protocol):  # type: ignore[misc, valid-type]
        """Aborts (instead of closing, which waits for the peer to read what is buffered) the connection of a page
        that has stopped reading, once its session is over or the server shuts down."""

        async def run_asgi(self) -> None:
            await super().run_asgi()
            self._abort_if_stalled()

        def shutdown(self) -> None:
            super().shutdown()
            self._abort_if_stalled()

        def _abort_if_stalled(self) -> None:
            if not self.writable.is_set() or self.transport.get_write_buffer_size():
                self.transport.abort()

    return HeaderTimeout, AbortStalled


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), bound before anything is announced. OSError naming the address when
    the port is busy or the host is not an address of this machine."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise OSError(f"--host {host}: not an address of this machine ({error.strerror})") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
        listener.listen(128)
    except OSError as error:
        listener.close()
        reason = "in use by another program" if error.errno == errno.EADDRINUSE else error.strerror
        raise OSError(f"cannot listen on {host}:{port}: {reason}") from None
    return listener


def serve(host: str = "127.0.0.1", port: int = 8000, autoplay: bool = False, max_sessions: int = MAX_SESSIONS,
          announce: Callable[[str], None] = print) -> None:
    """Serve the playground with uvicorn until interrupted (on 127.0.0.1 unless another host is asked for; port 0
    picks a free one). The socket is bound first, then ``announce`` gets the line with the real address."""
    import uvicorn

    listener = listen(host, port)
    shown = f"[{host}]" if ":" in host else host
    announce(f"glassnet playground serving on http://{shown}:{listener.getsockname()[1]}/ (Ctrl+C stops it)")
    server = uvicorn.Server(uvicorn_config(create_app(autoplay=autoplay, max_sessions=max_sessions)))
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn raises it again once it has shut down
        server.run(sockets=[listener])
