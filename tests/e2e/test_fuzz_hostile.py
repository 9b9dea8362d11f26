"""Fuzzing a real server: every command of both flavours with boundary arguments.

One `soketler serve` process with an SQLite history. Two bystanders chat beside a
hostile client; after each batch of hostile input a message between the bystanders
must arrive within a few seconds, and the server's log must hold no traceback.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soketler.doors.lines.commands import COMMANDS

TIMEOUT = 5.0

# --- what a hostile client types ---------------------------------------------------------

BOUNDARY_NUMBERS = [
    0,
    -1,
    1,
    200,
    201,
    (1 << 63) - 1,
    1 << 63,
    -(1 << 63) - 1,
    10**30,
    -(10**30),
]
numbers = st.one_of(
    st.sampled_from(BOUNDARY_NUMBERS),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
)
SPECIAL_TEXTS = [
    "",
    " ",
    "x" * 5000,  # past the line limit
    "é" * 2100,  # past it in bytes, not in characters
    "\u202eevil\u202c",  # right-to-left override
    "a\u200bb\u200d",  # zero-width
    "\x1b[2J\x1b]0;title\x07",  # terminal escapes
    "\t\x00\x7f\x85",
    "🦊" * 300,
    "#",
    "#lobby",
    "canary_b",
    "before",
    "9223372036854775808",
    "-9223372036854775809",
    "1e30",
    "NaN",
    "\ud800",  # only JSON can carry a lone surrogate (as an escape)
]
texts = st.one_of(st.sampled_from(SPECIAL_TEXTS), st.text(max_size=60))
words = st.one_of(texts, numbers.map(str))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, texts),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
COMMAND_NAMES = [*COMMANDS, "message", "nosuch", "HELP", ""]
# A plain `/login NAME` or `/oper NAME` asks for a password and takes the next line as
# it (the ping that proves the server has caught up, here), and failed passwords slow
# down further attempts from the address on purpose: tests/e2e/test_logins.py has them.
ASKING = frozenset({"login", "oper"})
PLAIN_NAMES = [name for name in COMMAND_NAMES if name not in ASKING]
FIELDS = ["id", "room", "text", "limit", "before", "nick", "to", "with", "reason", "action"]


def plain_line(name: str, args: list[str]) -> bytes:
    return ("/" + name + " " + " ".join(args)).encode("utf-8", "surrogatepass")


json_objects = st.builds(
    lambda kind, extra: {"type": kind, **extra},
    st.one_of(st.sampled_from(COMMAND_NAMES), json_values),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5),
)
RAW_LINES = [
    b"[" * 100_000,  # deep nesting, and past the line limit
    b"[" * 3000,
    b'{"type":"ping","type":"join","room":"#a","room":"#b"}',  # duplicate keys
    b'{"type":"history","before":NaN,"limit":Infinity}',
    b'{"type":"message","text":"\\ud800\\udfff\\ud800"}',
    b"{",
    b"\xff\xfe\xfd invalid utf-8 \xc3",
    b"\xff\xfb\x01\xff\xfd\x03",  # telnet negotiation
    b"\r\x00\r\r\n",
    b"/history before 99999999999999999999999",
    b"/join " + b"#x" * 40,
]

# (flavour, line): "plain" lines go to the plain client, "json" ones to the JSON client.
raw_lines = st.sampled_from(RAW_LINES).flatmap(
    lambda raw: st.sampled_from([("plain", raw), ("json", raw)])
)
hostile_inputs = st.one_of(
    st.builds(
        lambda name, args: ("plain", plain_line(name, args)),
        st.sampled_from(PLAIN_NAMES),
        st.lists(words, max_size=3),
    ),
    texts.map(lambda t: ("plain", t.encode("utf-8", "surrogatepass"))),
    json_objects.map(lambda o: ("json", json.dumps(o).encode())),
    raw_lines,
    raw_lines,  # twice: the known-nasty lines come up as often as the generated ones
)

# --- the server and its clients ----------------------------------------------------------


@dataclass
class Client:
    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)

    @classmethod
    def connect(cls, port: int) -> Client:
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        return cls(sock)

    def send(self, line: bytes) -> None:
        self.sock.sendall(line + b"\n")

    def drain(self) -> bool:
        """Reads what is there now; False once the server has closed the connection."""
        self.sock.setblocking(False)
        try:
            while True:
                data = self.sock.recv(1 << 16)
                if not data:
                    return False
                self.buffer += data
                del self.buffer[: -(1 << 16)]  # only the tail is ever looked at
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            self.sock.setblocking(True)

    def wait_for(self, marker: bytes) -> None:
        deadline = time.monotonic() + TIMEOUT
        while marker not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{marker!r} did not arrive within {TIMEOUT} s")
            self.sock.settimeout(left)
            data = self.sock.recv(1 << 16)
            if not data:
                raise AssertionError(f"closed while waiting for {marker!r}")
            self.buffer += data
        del self.buffer[: self.buffer.index(marker) + len(marker)]

    def close(self) -> None:
        self.sock.close()


class Chat:
    """The server process, two bystanders, and the hostile clients."""

    def __init__(self, port: int, log: Path, proc: subprocess.Popen[bytes]) -> None:
        self.port, self.log, self.proc = port, log, proc
        self.alice = self._registered(b"canary_a")
        self.bob = self._registered(b"canary_b")
        self.hostile: dict[str, Client] = {}
        self.rounds = 0
        self.nicks = 0

    def _registered(self, nick: bytes) -> Client:
        client = Client.connect(self.port)
        client.send(nick)
        client.wait_for(b"You are in #lobby")
        return client

    def attacker(self, flavour: str) -> Client:
        client = self.hostile.get(flavour)
        if client is None or not client.drain():
            if client is not None:
                client.close()
                del self.hostile[flavour]
            client = Client.connect(self.port)
            self.nicks += 1
            nick = f"m{self.nicks}"
            hello = json.dumps({"type": "hello", "nick": nick}) if flavour == "json" else nick
            client.send(hello.encode())
            self.hostile[flavour] = client
        return client

    def settle(self) -> None:
        """Waits until the server has handled every hostile line sent so far: a ping
        answered after them (on a connection still open) proves it."""
        for flavour, client in list(self.hostile.items()):
            self.rounds += 1
            if flavour == "json":
                marker = f'"re":"sync {self.rounds}"'.encode()
                ping = json.dumps({"type": "ping", "id": f"sync {self.rounds}"}).encode()
            else:
                marker, ping = b"-- pong", b"/ping"
            try:
                client.send(b"\n" + ping)  # (ends a line left unfinished, if any)
                client.wait_for(marker)
            except (AssertionError, OSError):
                if client.drain():  # open, yet silent: that is a failure
                    raise
                client.close()  # it was closed (/quit, a flood): fine
                del self.hostile[flavour]

    def canary(self) -> None:
        self.settle()
        self.rounds += 1
        text = f"canary {self.rounds}".encode()
        self.alice.send(text)
        self.bob.wait_for(b"<canary_a> " + text)
        assert self.alice.drain(), "a bystander was disconnected"
        assert self.proc.poll() is None, "the server exited"
        log = self.log.read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]


@pytest.fixture
def chat(tmp_path: Path) -> Iterator[Chat]:
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "soketler", "serve", "--host", "127.0.0.1", "--port", "0"),
                *("--irc-port", "0"),
                "--web-port",
                "0",
                *("--db", str(tmp_path / "h.db"), "--rate", "0", "--max-per-address", "0"),
            ],
            stdout=subprocess.PIPE,
            stderr=sink,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        found = re.match(rb"listening on 127\.0\.0\.1:(\d+)", first)
        assert found, f"unexpected first line {first!r}"
        chat = Chat(int(found.group(1)), log, proc)
        yield chat
        for client in (chat.alice, chat.bob, *chat.hostile.values()):
            client.close()
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.mark.slow
def test_no_hostile_input_stops_or_drops_the_others(chat: Chat) -> None:
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(hostile_inputs, min_size=1, max_size=6))
    def batch(inputs: list[tuple[str, bytes]]) -> None:
        for flavour, line in inputs:
            chat.attacker(flavour).send(line)
        chat.canary()

    batch()
    assert chat.rounds >= 300
