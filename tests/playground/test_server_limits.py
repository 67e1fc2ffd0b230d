"""The playground's server under bad input and load: messages nested too deep, numbers out of range, replies that
must always encode, other web sites (Host and Origin), session limits, pages that stop reading, slow headers,
Ctrl+C, and what it logs."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
websockets_client = pytest.importorskip("websockets.asyncio.client")
websockets_sync = pytest.importorskip("websockets.sync.client")

from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from glassnet.playground import Session, create_app  # noqa: E402
from glassnet.playground import server as server_module  # noqa: E402
from glassnet.playground.server import MAX_JSON_DEPTH, ProtocolError, decode  # noqa: E402
from playground_client import Message, Page, serve_in_thread, wait_until  # noqa: E402

pytestmark = [pytest.mark.timeout(120), pytest.mark.filterwarnings("ignore::DeprecationWarning")]
REPO = Path(__file__).resolve().parents[2]
BIG_NET = {"expert": True, "networkShape": [32] * 10}  # frames of about 300 KB: a stalled page blocks soon


def nested(depth: int) -> str:
    """A `focus` message whose extra field nests arrays so that the whole message is `depth` deep."""
    return '{"type": "focus", "neuron": null, "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def trains_on(page: Page) -> None:
    """The session still works: one step trains exactly one more epoch. (The epoch is read from any frame of the
    paused session: a frame asked for with a step could be one made before the step.)"""
    epoch = page.request("focus", "frame", neuron=None)["epoch"]
    page.send("step")
    assert page.expect("frame", lambda m: m["epoch"] != epoch)["epoch"] == epoch + 1


# ---------------------------------------------------------------------------------------------- bad messages

def test_a_message_nested_too_deep_gets_an_error_and_the_session_goes_on(page: Page) -> None:
    deep = '{"type": "set", "state": ' + "[" * 1000 + "]" * 1000 + "}"  # 2 KB, beyond Python's JSON reader
    assert len(deep) < 2100
    for text in (deep, nested(MAX_JSON_DEPTH + 1), '{"type": "set", "state": {"a": ' + '{"b": ' * 40 + "1" +
                 "}" * 41 + "}"):
        assert f"at most {MAX_JSON_DEPTH} deep" in page.error(text)["message"]
    decode({"text": nested(MAX_JSON_DEPTH)})  # exactly the limit is fine
    trains_on(page)


def test_numbers_beyond_floats_are_refused_when_read(page: Page) -> None:
    for text, named in (('{"type": "set_weight", "layer": 0, "row": 0, "col": 0, "value": 1e400}', "out of range"),
                        ('{"type": "inspect_neuron", "layer": 0, "index": 0, "point": [-1e999, 0]}', "out of range"),
                        ('{"type": "set", "state": {"seed": 1' + "0" * 5000 + "}}", "5001 digits is out of range"),
                        ('{"type": "run_many", "n": Infinity}', "Infinity is not a number")):
        assert named in page.error(text)["message"]
    assert "|value| ≤ 1e+06" in page.request("inspect_neuron", "error", layer=0, index=0,
                                             point=[1.7e308, 0])["message"]
    trains_on(page)


def test_a_huge_integer_in_set_is_out_of_range_and_training_goes_on(page: Page) -> None:
    page.send("play")
    before = page.expect("frame", lambda m: m["epoch"] >= 2)["epoch"]
    page.send("set", state={"learningRate": 10**400, "batchSize": -(10**399), "patience": 10**300})
    warnings = [page.expect("warning")["message"] for _ in range(3)]
    state = page.expect("state")
    assert ["out of range" in w for w in warnings] == [True, True, False] and "patience" in warnings[2], warnings
    assert (state["state"]["learningRate"], state["state"]["batchSize"], state["playing"]) == (0.03, 10, True)
    assert page.expect("frame", lambda m: m["epoch"] >= before + 5)["playing"]


def test_an_uploaded_value_out_of_range_is_refused_naming_its_line(page: Page) -> None:
    rows = [f"{x},{x},1" for x in np.linspace(-5, 5, 12)]
    rows[4] = "1.8e304,0,1"
    text = "x1,x2,label\n\n" + "\n".join(rows)  # data row 5 is on line 7 (a header and a blank line before)
    message = page.request("upload", "error", csv=text)["message"]
    assert "row 7, column 'x1'" in message and "out of range" in message
    trains_on(page)


def test_upload_labels_of_three_classes_in_a_two_class_problem_name_the_first_offending_line(page: Page) -> None:
    labels = [0, 1] * 6 + [2, 0]
    text = "x1,x2,label\n" + "\n".join(f"{i},{-i},{label}" for i, label in enumerate(labels))
    message = page.request("upload", "error", csv=text)["message"]
    assert message.startswith("upload: row 14, column 'label': 2 is not a class label") and "multiclass" in message
    mixed = "\n".join(f"{i},{i},{label}" for i, label in enumerate([1, -1, 1, -1, 1, 0, 1, -1, 1, -1, 1]))
    assert "row 6, column 'label': 0 is not" in page.request("upload", "error", csv=mixed)["message"]


JSON_SCALARS = (st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.sampled_from([0, 1, -1, 2, 10**400])
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8)
                | st.sampled_from(["model", "script", "forward", "backward", "update", "bias", "upload", "4,2"]))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3) |
                           st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
FIELDS = ["state", "hash", "csv", "neuron", "layer", "index", "point", "row", "col", "value", "phase", "n", "what"]
STATE_KEYS = ["learningRate", "batchSize", "networkShape", "dropout", "stopAtLoss", "seed", "noise", "problem",
              "dataset", "regDataset", "expert", "x", "sinY", "layerActivations", "patience", "stopAfterEpochs"]


@st.composite
def commands(draw: Any) -> Message:
    """Any command of the protocol with any JSON values in its fields (and, for `set`, in state keys)."""
    kind = draw(st.sampled_from(sorted(Session._COMMANDS)))
    message = {"type": kind, **draw(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=4))}
    if kind == "set" and draw(st.booleans()):
        message["state"] = draw(st.dictionaries(st.sampled_from(STATE_KEYS), JSON_VALUES, max_size=4))
    if kind == "upload" and draw(st.booleans()):
        values = draw(st.lists(st.floats(-1e308, 1e308) | st.sampled_from([0.0, 1.0, 2.0, -1.0]),
                               min_size=30, max_size=30))
        message["csv"] = "\n".join(f"{a!r},{b!r},{c!r}" for a, b, c in zip(values[::3], values[1::3], values[2::3]))
    return message


SESSION = Session(seed=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(commands(), min_size=1, max_size=4))
def test_every_reply_to_any_command_encodes(messages: list[Message]) -> None:
    """Whatever is sent (as the server decodes it), every reply and the next frame are JSON without NaN or
    infinity: `encode`'s fallback for a reply that cannot be encoded is never needed."""
    for message in messages:
        try:
            command = decode({"text": json.dumps(message)})
            replies = SESSION.handle(command)
        except ProtocolError as error:
            replies = [{"type": "error", "message": str(error)}]
        replies += SESSION.work(0.002) + [SESSION.frame(), SESSION.state_message(), SESSION.data_message()]
        for reply in replies:
            json.dumps(reply, allow_nan=False)
    SESSION.halt()


def test_a_reply_that_cannot_be_encoded_becomes_an_error_frame(caplog: Any) -> None:
    text = server_module.encode({"type": "frame", "trainLoss": float("inf")})
    assert json.loads(text) == {"type": "error", "message": "the server could not encode its 'frame' reply: Out of "
                                                            "range float values are not JSON compliant"}
    assert [r.message for r in caplog.records] == ["playground: a 'frame' reply could not be encoded: Out of range "
                                                   "float values are not JSON compliant"]


# ---------------------------------------------------------------------------------------------- other web sites

@pytest.mark.parametrize("host, allowed", [
    ("testserver", True), ("localhost", True), ("127.0.0.1", True), ("[::1]", True), ("LOCALHOST:80", True),
    ("evil.example", False), ("localhost.evil.example", False), ("localhost:81", False), ("testserver:8080", False),
    ("", False), ("user@localhost", False), ("localhost:x", False), ("localhost/a", False),
])
def test_http_requests_only_for_this_servers_own_name(client: Any, host: str, allowed: bool) -> None:
    response = client.get("/api/defaults", headers={"host": host})
    assert response.status_code == (200 if allowed else 400)
    if not allowed:
        assert "is not this server's address" in response.text


@pytest.mark.parametrize("headers, allowed", [
    ({}, True), ({"origin": "http://testserver"}, True), ({"origin": "http://localhost", "host": "localhost"}, True),
    ({"origin": "http://evil.example"}, False), ({"origin": "null"}, False),
    ({"origin": "http://testserver:8080"}, False), ({"origin": "http://localhost"}, False),
    ({"host": "evil.example"}, False),
])
def test_the_websocket_accepts_only_the_pages_own_origin(app: Any, client: Any, headers: dict,
                                                        allowed: bool) -> None:
    if allowed:
        with client.websocket_connect("/ws", headers=headers) as websocket:
            assert Page(websocket).expect("state")["playing"] is False
    else:
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/ws", headers=headers) as ws:
            ws.receive_json()
        assert closed.value.code in (1000, 1008) and not app.state.sessions


def test_a_rebound_dns_name_cannot_reach_the_real_server() -> None:
    import httpx
    with serve_in_thread(create_app()) as (_, port):
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/api/defaults").status_code == 200
        assert httpx.get(f"{base}/api/defaults", headers={"host": f"localhost:{port}"}).status_code == 200
        assert httpx.get(f"{base}/", headers={"host": f"attacker.example:{port}"}).status_code == 400

        async def connect(**options: Any) -> None:
            async with websockets_client.connect(f"ws://127.0.0.1:{port}/ws", **options) as websocket:
                assert json.loads(await websocket.recv())["type"] == "state"

        asyncio.run(connect(origin=f"http://127.0.0.1:{port}"))
        for options in ({"origin": "http://attacker.example"}, {"additional_headers": {"Host": "attacker.example"}}):
            with pytest.raises(Exception, match="403|400"):
                asyncio.run(connect(**options))


# ---------------------------------------------------------------------------------------------- limits

def test_at_most_max_sessions_pages_and_the_next_is_told_the_server_is_busy(caplog: Any) -> None:
    app = create_app(max_sessions=2)
    with TestClient(app) as client, client.websocket_connect("/ws") as first:
        with client.websocket_connect("/ws") as second:
            Page(first).expect("frame"), Page(second).expect("frame")
            with pytest.raises(WebSocketDisconnect) as busy, client.websocket_connect("/ws") as third:
                third.receive_json()
            assert busy.value.code == 1013 and busy.value.reason.startswith("server busy: 2 pages are open")
            assert len(app.state.sessions) == 2
        assert wait_until(lambda: len(app.state.sessions) == 1)
        with client.websocket_connect("/ws") as again:  # a freed place is taken again
            assert Page(again).expect("state")["type"] == "state"
    busy_lines = [r for r in caplog.records if "server busy" in r.getMessage()]
    assert len(busy_lines) == 1 and busy_lines[0].levelno == logging.WARNING


def stalled_page(port: int, play: dict) -> Any:
    """A page that asks for frames and never reads them (a tiny receive buffer and a one-message queue)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    websocket = websockets_sync.connect(f"ws://127.0.0.1:{port}/ws", sock=sock, max_queue=1, max_size=2**24,
                                        close_timeout=0.1)
    websocket.send(json.dumps({"type": "set", "state": play}))
    websocket.send(json.dumps({"type": "play"}))
    return websocket


def test_a_page_that_stops_reading_is_closed_and_its_session_freed(caplog: Any) -> None:
    app = create_app(send_timeout_s=0.5)
    with serve_in_thread(app, send_buffer=4096) as (server, port):
        stalled = stalled_page(port, BIG_NET)
        assert wait_until(lambda: len(app.state.sessions) == 1)
        assert wait_until(lambda: not app.state.sessions, 20)
        assert wait_until(lambda: not server.server_state.connections, 5)  # aborted, not waiting to flush
        stalled.close()
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("glassnet")]
    assert lines == ["playground: closed a page that stopped reading (no progress sending for 0.5 s)"]
    assert not [r for r in caplog.records if r.exc_info]


def test_slow_and_absent_request_headers_are_dropped(monkeypatch: Any, caplog: Any) -> None:
    monkeypatch.setattr(server_module, "HEADER_TIMEOUT_S", 0.5)
    with serve_in_thread(create_app()) as (_, port):
        silent, slow = socket.create_connection(("127.0.0.1", port)), socket.create_connection(("127.0.0.1", port))
        start = time.monotonic()
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # ... and the rest never comes
        for sock in (silent, slow):
            sock.settimeout(5)
            assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - start < 3
        quick = socket.create_connection(("127.0.0.1", port))
        quick.sendall(f"GET /api/defaults HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        assert quick.recv(1024).startswith(b"HTTP/1.1 200")
        for sock in (silent, slow, quick):
            sock.close()
    assert sum("did not arrive" in r.getMessage() for r in caplog.records) >= 2


def test_ctrl_c_stops_the_server_within_2_s_with_a_stalled_page(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    server = subprocess.Popen([sys.executable, "-c", f"from glassnet.playground import serve; serve(port={port})"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    try:
        assert wait_until(lambda: _accepts(port), 30)
        stalled = stalled_page(port, BIG_NET)
        reading = websockets_sync.connect(f"ws://127.0.0.1:{port}/ws", close_timeout=0.1)
        reading.send(json.dumps({"type": "play"}))
        time.sleep(3.0)  # the stalled page's buffers fill up
        start = time.monotonic()
        server.send_signal(signal.SIGINT)
        server.wait(10)
        assert time.monotonic() - start < 2.0
    finally:
        server.kill()
        output = server.communicate()[0]
    assert "Traceback" not in output and "Exception" not in output, output
    stalled.close(), reading.close()


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


# ---------------------------------------------------------------------------------------------- load

def test_200_abrupt_drops_free_every_session_and_connection() -> None:
    app = create_app()

    async def wave(port: int) -> None:
        pages = [await websockets_client.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) for _ in range(20)]
        for websocket in pages:
            await websocket.send(json.dumps({"type": "play"}))
        for websocket in pages:
            await websocket.recv()
        for websocket in pages:  # no close frame: the TCP connection just ends (reset)
            websocket.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                                    b"\x01\x00\x00\x00\x00\x00\x00\x00")
            websocket.transport.abort()

    with serve_in_thread(app) as (server, port):
        for _ in range(10):
            asyncio.run(wave(port))
        assert wait_until(lambda: not app.state.sessions, 20)
        assert wait_until(lambda: not server.server_state.connections, 10)
        asyncio.run(_train_one_page(port))  # and the server still serves


async def _train_one_page(port: int) -> None:
    async with websockets_client.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as websocket:
        await websocket.send(json.dumps({"type": "step"}))
        async for text in websocket:
            if json.loads(text).get("epoch") == 1:
                return


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def test_slow_readers_keep_the_servers_memory_flat() -> None:
    """Five playing pages that take one message every 0.2 s: the server waits for them (frames are not queued up),
    so its memory does not grow while they play."""
    app = create_app()

    async def slow_pages(port: int, seconds: float) -> list[float]:
        pages = [await websockets_client.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24, max_queue=1,
                                                  close_timeout=0.1)
                 for _ in range(5)]
        for websocket in pages:
            await websocket.send(json.dumps({"type": "set", "state": BIG_NET}))
            await websocket.send(json.dumps({"type": "play"}))
        samples, start = [], time.monotonic()
        while time.monotonic() - start < seconds:
            for websocket in pages:
                await websocket.recv()
            samples.append(_rss_mb(os.getpid()))
            await asyncio.sleep(0.2)
        for websocket in pages:
            await websocket.close()
        return samples

    with serve_in_thread(app, send_buffer=4096) as (_, port):
        samples = asyncio.run(slow_pages(port, 3.0))
    warm = samples[len(samples) // 3]
    assert max(samples[len(samples) // 3:]) - warm < 25, samples


def test_glassnet_playground_starts_paused_unless_asked_to_play(monkeypatch: Any) -> None:
    from glassnet import cli
    calls = []
    monkeypatch.setattr(server_module, "serve", lambda **options: calls.append(options))
    assert cli.main(["playground"]) == 0 and cli.main(["playground", "--play", "--max-sessions", "4"]) == 0
    assert [(c["autoplay"], c["max_sessions"]) for c in calls] == [(False, 32), (True, 4)]
    with TestClient(create_app()) as client, client.websocket_connect("/ws") as websocket:
        page = Page(websocket)
        assert page.expect("state")["playing"] is False
        assert page.expect("frame")["epoch"] == 0
        time.sleep(0.3)
        assert page.request("focus", "frame", neuron=None)["epoch"] == 0  # still paused: no autoplay


def test_training_goes_on_while_a_slow_page_takes_its_frames() -> None:
    """A page that takes one message every 0.5 s slows its frames, not its training: frames are made only when the
    last one has gone, and the session trains meanwhile."""
    app = create_app()
    with serve_in_thread(app, send_buffer=4096) as (_, port):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        with websockets_sync.connect(f"ws://127.0.0.1:{port}/ws", sock=sock, max_queue=1, max_size=2**24,
                                     close_timeout=0.1) as websocket:
            websocket.send(json.dumps({"type": "play"}))
            assert wait_until(lambda: len(app.state.sessions) == 1)
            (session,) = app.state.sessions
            time.sleep(0.5)
            start = session.run.epoch
            epochs = []
            for _ in range(4):
                time.sleep(0.5)
                message = json.loads(websocket.recv())
                epochs.append(message.get("epoch"))
            trained = session.run.epoch - start
    assert trained >= 20, (trained, epochs)


def test_a_message_beyond_1_mib_closes_the_socket_with_one_log_line_at_most(caplog: Any) -> None:
    app = create_app()
    with serve_in_thread(app) as (server, port):
        async def oversized() -> Any:
            async with websockets_client.connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as websocket:
                await websocket.recv()
                await websocket.send("x" * (2 * 2**20))
                with pytest.raises(Exception):
                    while True:
                        await websocket.recv()
                return websocket.close_code

        assert asyncio.run(oversized()) == 1009  # "message too big"
        assert wait_until(lambda: not app.state.sessions and not server.server_state.connections)
        asyncio.run(_train_one_page(port))  # the server goes on
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 1


# ---------------------------------------------------------------------------------------------- uvicorn's internals

def test_the_uvicorn_internals_the_server_extends_are_there_and_pinned(monkeypatch: Any) -> None:
    """The header timeout and the abort of a stalled page extend uvicorn's private protocol classes: a uvicorn
    without the names they use fails here (and at start, naming them), and pyproject.toml pins the versions."""
    import h11
    import uvicorn
    from packaging.specifiers import SpecifierSet
    from uvicorn.server import ServerState

    assert uvicorn.__version__ in SpecifierSet(server_module.UVICORN_VERSIONS)
    pins = (REPO / "pyproject.toml").read_text().count(f'"uvicorn[standard]{server_module.UVICORN_VERSIONS}"')
    assert pins == 2  # the playground extra and the test extra
    header_timeout, abort_stalled = server_module._protocols()
    config = server_module.uvicorn_config(create_app())
    config.load()

    async def made(protocol_class: type) -> Any:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        protocol = protocol_class(config=config, server_state=ServerState(), app_state={})
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, ours)
        seen = (protocol.transport is transport, getattr(protocol, "loop", None) is loop,
                getattr(getattr(protocol, "conn", None), "their_state", None), getattr(protocol, "writable", None))
        transport.abort()
        theirs.close()
        return seen

    assert asyncio.run(made(header_timeout))[:3] == (True, True, h11.IDLE)
    transport_seen, _, _, writable = asyncio.run(made(abort_stalled))
    assert transport_seen and isinstance(writable, asyncio.Event)
    path = "uvicorn.protocols.http.h11_impl.H11Protocol"
    monkeypatch.setitem(server_module.UVICORN_INTERNALS, path, ("connection_made", "a_hook_uvicorn_dropped"))
    with pytest.raises(RuntimeError, match=r"private H11Protocol.a_hook_uvicorn_dropped, which uvicorn [\d.]+ lacks: "
                                           r"install uvicorn>=0.54,<0.55"):
        server_module._uvicorn_class(path)
