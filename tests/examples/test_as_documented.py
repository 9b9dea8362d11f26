"""The examples run as README.md and docs/client.md say, and fail in one clear line."""

from __future__ import annotations

import ast
import asyncio
import re
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from soketler.client import ChatClient, ChatMessage, Joined
from soketler.core.config import DEFAULT_PORT, Limits, ServerConfig
from soketler.transport.server import ChatServer
from tests.tools.support import STEP_TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOCS = [ROOT / "README.md", ROOT / "docs" / "client.md", EXAMPLES / "time_bot.py"]
VENV_PYTHON = ".venv/bin/python"


def documented_bot_commands() -> list[list[str]]:
    """Every command line in the docs that starts time_bot.py, as words."""
    found = []
    for doc in DOCS:
        for match in re.finditer(r"[^\n`]*examples/time_bot\.py[^\n`]*", doc.read_text()):
            line = match.group().strip()
            if line.startswith((VENV_PYTHON, "python")):
                found.append(shlex.split(line.split("  #")[0]))
    return found


def test_the_docs_run_the_bot_with_the_python_that_has_soketler() -> None:
    commands = documented_bot_commands()
    assert len(commands) >= 3
    for words in commands:
        # A bare `python` on a fresh clone has no soketler: ModuleNotFoundError.
        assert words[0] == VENV_PYTHON, words


def test_make_venv_and_make_example_run_it_with_that_python() -> None:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(
        [make, "-n", "-C", str(ROOT), "example", "NAME=time_bot", "ARGS=--join '#dev'"],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=True,
    )
    assert f"{VENV_PYTHON} examples/time_bot.py --join '#dev'" in plan.stdout
    venv = subprocess.run(
        [make, "-n", "-C", str(ROOT), "venv"], capture_output=True, timeout=STEP_TIMEOUT
    )
    assert venv.returncode == 0, venv.stderr


def test_without_soketler_the_bot_says_how_to_run_it() -> None:
    # -S: no site-packages, as with a system Python on a fresh clone.
    done = subprocess.run(
        [sys.executable, "-S", str(EXAMPLES / "time_bot.py"), "--join", "#dev"],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "make venv" in done.stderr


def test_without_a_server_the_bot_says_so_in_one_line() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # bound, not listening: connecting is refused
        port = holder.getsockname()[1]
        bot = [sys.executable, str(EXAMPLES / "time_bot.py")]
        done = subprocess.run(
            [*bot, "--host", "127.0.0.1", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
    assert done.returncode == 1
    assert done.stderr == f"time_bot.py: connection refused: 127.0.0.1 port {port}\n"


@pytest.fixture
async def chat_port() -> AsyncIterator[int]:
    server = ChatServer(ServerConfig(hosts=("127.0.0.1",), port=0, limits=Limits(rate=0)))
    await server.start()
    try:
        yield server.tcp_addresses[0][1]
    finally:
        await server.shutdown(grace=1.0)


async def test_the_documented_bot_command_answers_in_its_room(chat_port: int) -> None:
    words = next(w for w in documented_bot_commands() if "--join" in w)
    room = words[words.index("--join") + 1]
    # The documented line, pointed at this test's server (argparse: the last one wins).
    argv = [sys.executable, *words[1:], "--host", "127.0.0.1", "--port", str(chat_port)]
    async with ChatClient("127.0.0.1", chat_port, nick="ayşe", rooms=[room], rate=0) as ayse:
        bot = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, stdout=asyncio.subprocess.DEVNULL
        )
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                while not (  # bounded by the timeout
                    isinstance(event := await ayse.next_event(), Joined) and event.nick == "timebot"
                ):
                    pass
                await ayse.send(room, "!time")
                while not (  # bounded by the timeout
                    isinstance(event := await ayse.next_event(), ChatMessage)
                    and event.sender == "timebot"
                ):
                    pass
            assert event.room == room and event.text.startswith("ayşe: it is ")
        finally:
            bot.terminate()
            await asyncio.wait_for(bot.wait(), STEP_TIMEOUT)


def port_defaults(path: Path) -> list[int]:
    """The default of every `port` parameter and every `else NUMBER` port fallback."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            args = node.args.args[len(node.args.args) - len(node.args.defaults) :]
            for arg, default in zip(args, node.args.defaults, strict=True):
                if arg.arg == "port" and isinstance(default, ast.Constant):
                    found.append(int(default.value))
        fallback = node.orelse if isinstance(node, ast.IfExp) else None
        if isinstance(fallback, ast.Constant) and isinstance(fallback.value, int):
            found.append(fallback.value)
    return found


@pytest.mark.parametrize(
    "name", sorted(p.name for p in EXAMPLES.glob("*.py") if p.name != "time_bot.py")
)
def test_tutorial_examples_keep_away_from_the_chat_servers_port(name: str) -> None:
    assert DEFAULT_PORT not in port_defaults(EXAMPLES / name)
    assert str(DEFAULT_PORT) not in (EXAMPLES / name).read_text()


@pytest.fixture
def taken_tcp() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as holder:
        yield holder.getsockname()[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["greeting_server.py", "127.0.0.1", "{port}"],
        ["merhaba_server.py", "127.0.0.1", "{port}"],
        ["turn_chat_server.py", "127.0.0.1", "{port}"],
        ["thread_chat.py", "serve", "127.0.0.1", "{port}"],
    ],
)
def test_a_taken_port_is_one_line(argv: list[str], taken_tcp: int) -> None:
    name, *rest = argv
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *(a.format(port=taken_tcp) for a in rest)],
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stderr == f"{name}: 127.0.0.1 port {taken_tcp}: Address already in use\n"


def test_a_taken_udp_or_ipv6_port_is_one_line() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.bind(("127.0.0.1", 0))
        port = udp.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "udp_pair.py"), "serve", "127.0.0.1", str(port)],
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
    assert done.stderr == f"udp_pair.py: 127.0.0.1 port {port}: Address already in use\n"
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as v6:
        port = v6.getsockname()[1]
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "ipv6_pair.py"), "serve", "::1", str(port)],
            capture_output=True,
            text=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
    assert done.stderr == f"ipv6_pair.py: [::1]:{port}: Address already in use\n"
