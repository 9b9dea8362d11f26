"""`soketler chat` in a real terminal: tmux runs it, capture-pane reads the screen."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from soketler.client import ChatMessage, Joined
from tests.client.conftest import Connect, next_matching
from tests.helpers import require_program

WIDTH, HEIGHT = 100, 30


class Tmux:
    """One tmux server of our own (`-L`), so tests never meet a person's sessions."""

    def __init__(self, program: str) -> None:
        self.program = program
        self.socket = f"soketler-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    async def run(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            self.program,
            "-L",
            self.socket,
            "-f",
            "/dev/null",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), 10)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0, err.decode()
        return out.decode()

    async def screen(self) -> str:
        """The visible screen plus scrollback, wrapped lines joined."""
        return await self.run("capture-pane", "-p", "-J", "-S", "-500", "-t", "chat")

    async def wait_for(self, condition: Callable[[str], bool], within: float = 10.0) -> str:
        """Polls the screen until `condition` holds; fails with the screen after `within`."""
        screen = ""
        try:
            async with asyncio.timeout(within):
                # The screen belongs to another process: there is no event to wait on.
                while not condition(screen := await self.screen()):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pytest.fail(f"the screen never matched; it shows:\n{screen}")
        return screen

    async def keys(self, *keys: str, literal: bool = False) -> None:
        await self.run("send-keys", "-t", "chat", *(["-l"] if literal else []), *keys)


@pytest.fixture
async def tmux() -> AsyncIterator[Tmux]:
    session = Tmux(require_program("tmux"))
    try:
        yield session
    finally:
        # Ends the tmux server and the chat process in it.
        proc = await asyncio.create_subprocess_exec(
            session.program,
            "-L",
            session.socket,
            "kill-server",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.wait_for(proc.wait(), 10)


def prompt_line(screen: str) -> str:
    """The input line: the last line that starts with the room prompt."""
    lines = [line for line in screen.splitlines() if line.startswith("#lobby> ")]
    return lines[-1] if lines else ""


async def test_incoming_lines_print_above_a_half_typed_line(
    tmux: Tmux, connect: Connect, port: int, tmp_path: Path
) -> None:
    bob = await connect("bob")
    chat = [sys.executable, "-m", "soketler", "chat", "127.0.0.1", str(port), "--nick", "alice"]
    # A shell records the exit status: tmux itself is slow to reap a finished pane.
    status_file = tmp_path / "status"
    command = ["sh", "-c", f'"$@"; echo $? > {status_file}', "sh", *chat]
    await tmux.run(
        "new-session",
        "-d",
        "-s",
        "chat",
        "-x",
        str(WIDTH),
        "-y",
        str(HEIGHT),
        "-e",
        "NO_COLOR=1",
        *command,
    )
    await next_matching(bob, lambda e: isinstance(e, Joined) and e.nick == "alice")
    await tmux.wait_for(lambda s: any(line.startswith("#lobby>") for line in s.splitlines()))

    await tmux.keys("half typed line", literal=True)
    await tmux.wait_for(lambda s: prompt_line(s) == "#lobby> half typed line")

    sent = [f"message {n:02d} from bob" for n in range(50)]
    for text in sent:
        await bob.send("#lobby", text)
    # Between printing and redrawing, the prompt is briefly away: wait for it to return.
    screen = await tmux.wait_for(lambda s: sent[-1] in s and s.rfind("#lobby>") > s.rfind(sent[-1]))
    lines = screen.splitlines()
    shown = [line for line in lines if "from bob" in line]
    assert [line.split("<bob> ")[1] for line in shown] == sent  # all, in order, one per line
    assert prompt_line(screen) == "#lobby> half typed line"
    assert lines.index(prompt_line(screen)) > lines.index(shown[-1])  # below the messages

    await tmux.keys(" and the rest", literal=True)
    await tmux.keys("Enter")
    got = await next_matching(bob, lambda e: isinstance(e, ChatMessage) and e.sender == "alice")
    assert isinstance(got, ChatMessage) and got.text == "half typed line and the rest"

    # Tab completes a nickname; the private message reaches bob.
    await tmux.keys("/msg bo", literal=True)
    await tmux.keys("Tab")
    await tmux.wait_for(lambda s: prompt_line(s).startswith("#lobby> /msg bob"))
    await tmux.keys(" psst", literal=True)
    await tmux.keys("Enter")
    private = await next_matching(bob, lambda e: isinstance(e, ChatMessage) and e.to is not None)
    assert isinstance(private, ChatMessage) and private.text == "psst"

    # Ctrl-D leaves cleanly: the others see a quit, the process exits 0.
    await tmux.keys("C-d")
    await next_matching(
        bob, lambda e: getattr(e, "nick", None) == "alice" and not isinstance(e, Joined)
    )
    async with asyncio.timeout(10):
        while not status_file.exists():  # noqa: ASYNC110 - another process writes it
            await asyncio.sleep(0.05)
    assert status_file.read_text().strip() == "0"
