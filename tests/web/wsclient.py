"""Test clients of the browser door: aiohttp's WebSocket client speaking the chat's
JSON messages, and a raw socket for what a well-behaved client never does."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from collections.abc import Callable
from typing import Any

import aiohttp

TIMEOUT = 10.0
Message = dict[str, Any]


class WebClient:
    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.seen: list[Message] = []  # every object read, for failure messages
        self.close_code: int | None = None
        self.close_reason = ""

    @classmethod
    async def connect(cls, url: str, **options: Any) -> WebClient:
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        try:
            ws = await session.ws_connect(url, **options)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    @classmethod
    async def registered(cls, url: str, nick: str) -> WebClient:
        """Connected, with a nickname, and past the replay of #lobby."""
        client = await cls.connect(url)
        await client.send({"type": "hello", "nick": nick, "id": "hello"})
        await client.expect("hello")
        await client.expect("history", room="#lobby")
        return client

    async def send(self, message: Message | str) -> None:
        """One object (or any text) as one frame."""
        text = message if isinstance(message, str) else json.dumps(message)
        await self.ws.send_str(text)

    async def next(self, timeout: float = TIMEOUT) -> Message:
        """The next object; EOFError once the server has closed (code and reason kept)."""
        message = await self.ws.receive(timeout=timeout)
        if message.type is aiohttp.WSMsgType.TEXT:
            obj: Message = json.loads(message.data)
            self.seen.append(obj)
            return obj
        if message.type is aiohttp.WSMsgType.CLOSE:
            self.close_code, self.close_reason = message.data, message.extra or ""
        elif self.close_code is None:
            self.close_code = self.ws.close_code
        raise EOFError(f"closed ({self.close_code} {self.close_reason!r}); seen {self.seen[-5:]}")

    async def expect(
        self, kind: str, test: Callable[[Message], bool] | None = None, **fields: Any
    ) -> Message:
        """Reads objects until one of this type with these fields (and passing `test`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {kind} {fields}; last: {self.seen[-5:]}")
            obj = await self.next(remaining)
            if obj.get("type") != kind:
                continue
            if all(obj.get(k) == v for k, v in fields.items()) and (test is None or test(obj)):
                return obj

    async def closed(self) -> tuple[int | None, str]:
        """Reads until the server closes; its close code and reason."""
        while True:
            try:
                await self.next()
            except EOFError:
                return self.close_code, self.close_reason

    async def close(self) -> None:
        await self.ws.close()
        await self.session.close()


# --- a WebSocket by hand --------------------------------------------------------------


def client_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """A masked client frame (RFC 6455 section 5.2); the mask is fixed, which is allowed
    for a test (it only has to be unpredictable to scripts in a browser)."""
    mask = b"\x01\x02\x03\x04"
    size = len(payload)
    if size <= 125:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
    elif size <= 0xFFFF:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def raw_handshake(port: int, rcvbuf: int | None = None, source: str | None = None) -> socket.socket:
    """A WebSocket opened by hand (blocking; run it in a thread). With a tiny receive
    buffer, not reading from it soon fills the kernel's buffers (a browser tab frozen by
    the OS, say)."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if source is not None:
        sock.bind((source, 0))
    sock.settimeout(TIMEOUT)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(1)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


def read_frames(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """Whole server frames (opcode, payload) at the start of `data`, and the rest."""
    frames = []
    while len(data) >= 2:
        opcode, size = data[0] & 0x0F, data[1] & 0x7F
        start = 2
        if size == 126:
            if len(data) < 4:
                break
            size, start = struct.unpack("!H", data[2:4])[0], 4
        elif size == 127:
            if len(data) < 10:
                break
            size, start = struct.unpack("!Q", data[2:10])[0], 10
        if len(data) < start + size:
            break
        frames.append((opcode, data[start : start + size]))
        data = data[start + size :]
    return frames, data
