"""SSH clients for tests (asyncssh's client), and an in-process server with an SSH door.

Keys are made per test; the server's host key once per session. Nothing reads the
user's ~/.ssh: no default keys, no agent, no config file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncssh

from soketler.core.config import Limits, ServerConfig
from soketler.transport.server import ChatServer

TIMEOUT = 10.0


def new_key() -> asyncssh.SSHKey:
    return asyncssh.generate_private_key("ssh-ed25519")


async def start_ssh_server(host_key: Path, **settings: Any) -> ChatServer:
    """A server on 127.0.0.1: the lines door and the SSH door on free ports. `settings`
    are ServerConfig fields, or Limits fields."""
    limit_names = set(Limits.__dataclass_fields__)
    limits = {k: v for k, v in settings.items() if k in limit_names}
    fields = {k: v for k, v in settings.items() if k not in limit_names}
    config = ServerConfig(
        hosts=("127.0.0.1",),
        port=0,
        ssh_port=0,
        ssh_host_key=str(host_key),
        limits=replace(Limits(), **limits),
        **fields,
    )
    server = ChatServer(config)
    await server.start()
    return server


def ssh_port(server: ChatServer) -> int:
    return server.tcp_addresses_of("ssh")[0][1]


def lines_port(server: ChatServer) -> int:
    return server.tcp_addresses[0][1]


async def ssh_connect(
    port: int,
    user: str,
    key: asyncssh.SSHKey | None = None,
    password: str | None = None,
    **options: Any,
) -> asyncssh.SSHClientConnection:
    """Logs in with `key`, or `password`; asyncssh.PermissionDenied if refused."""
    return await asyncssh.connect(
        "127.0.0.1",
        port,
        username=user,
        client_keys=[key] if key is not None else None,
        password=password,
        known_hosts=None,
        agent_path=None,
        config=None,
        connect_timeout=TIMEOUT,
        **options,
    )


class Piped:
    """A session without a terminal: lines to its stdin, lines from its stdout."""

    def __init__(self, process: asyncssh.SSHClientProcess[str]) -> None:
        self.process = process
        self.seen: list[str] = []

    @classmethod
    async def open(cls, conn: asyncssh.SSHClientConnection, command: str | None = None) -> Piped:
        return cls(await conn.create_process(command, encoding="utf-8"))

    def send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")

    async def line(self, timeout: float = TIMEOUT) -> str:
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise EOFError(f"the session ended; its last lines: {self.seen[-5:]}")
        self.seen.append(line.rstrip("\n"))
        return self.seen[-1]

    async def expect(self, match: str | Callable[[str], bool], timeout: float = TIMEOUT) -> str:
        test = match if callable(match) else (lambda line: match in line)
        async with asyncio.timeout(timeout):
            while not test(line := await self.line()):
                pass
        return line

    async def rest(self, timeout: float = TIMEOUT) -> list[str]:
        """Every line until the session ends."""
        async with asyncio.timeout(timeout):
            while True:
                try:
                    await self.line()
                except EOFError:
                    return self.seen

    async def exit_status(self, timeout: float = TIMEOUT) -> int | None:
        await asyncio.wait_for(self.process.wait_closed(), timeout)
        return self.process.exit_status
