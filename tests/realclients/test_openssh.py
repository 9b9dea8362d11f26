"""The OpenSSH client against the SSH door: a real `ssh` in a terminal (tmux) beside a
raw-socket telnet user in #lobby, and `ssh -T` with lines on its stdin."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import require_program
from tests.realclients.rawlines import RawLines
from tests.realclients.tmux import Tmux
from tests.realclients.waiting import wait_for

START_TIMEOUT = 15.0
SSH_OPTIONS = (
    "-F", "/dev/null",  # no user configuration
    "-o", "StrictHostKeyChecking=no",
    "-o", "UserKnownHostsFile=/dev/null",
    "-o", "LogLevel=ERROR",
    "-o", "BatchMode=yes",  # never a password prompt: the key or nothing
)  # fmt: skip


@contextmanager
def chat_server(tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`soketler serve` with the SSH door on free ports: (lines port, SSH port)."""
    command = [
        sys.executable, "-m", "soketler", "serve", "--host", "127.0.0.1", "--port", "0",
        "--ssh-port", "0", "--ssh-host-key", str(tmp_path / "host_key"), "--db", ":memory:",
        "--web-port", "0", "--irc-port", "0",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        said = b""
        while said.count(b"\n") < 2:  # where the lines door listens, then the SSH door
            ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
            assert ready, f"the server did not say where it listens: {said!r}"
            chunk = os.read(proc.stdout.fileno(), 4096)
            assert chunk, f"the server ended: {said!r}"
            said += chunk
        ports = [int(port) for port in re.findall(rb"listening on 127\.0\.0\.1:(\d+)", said)]
        yield ports[0], ports[1]
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def client_key(tmp_path: Path, name: str = "key") -> Path:
    key = tmp_path / name
    subprocess.run(
        [require_program("ssh-keygen"), "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
        check=True,
        timeout=30,
    )
    return key


def prompt_line(screen: str) -> str:
    lines = [line for line in screen.splitlines() if line.startswith("#lobby>")]
    return lines[-1] if lines else ""


@pytest.mark.slow
def test_ssh_in_a_terminal_chats_with_a_telnet_user(tmp_path: Path) -> None:
    ssh = require_program("ssh")
    require_program("tmux")
    key = client_key(tmp_path)
    with chat_server(tmp_path) as (port, ssh_port), RawLines("127.0.0.1", port) as bob:
        bob.register("bob")
        login = [ssh, "-p", str(ssh_port), *SSH_OPTIONS, "-i", str(key), "ayse@127.0.0.1"]
        # A shell keeps the pane after ssh exits, to show its exit status.
        shell = f"{subprocess.list2cmdline(login)}; echo ssh exited $?; sleep 60"
        terminal = Tmux(["sh", "-c", shell], width=100, height=30)
        try:
            screen = _wait(terminal, lambda s: "#lobby>" in s)  # (trailing space trimmed)
            assert "Connected to soketler" in screen and "as ayse, in #lobby" in screen
            bob.expect("ayse joined #lobby")

            # Lines that arrive never garble a half-typed line.
            terminal.keys("yarım kalan", literal=True)
            terminal.wait_for_screen("#lobby> yarım kalan")
            sent = [f"bob says {n:02d}" for n in range(20)]
            for text in sent:
                bob.send(text)
            screen = _wait(
                terminal, lambda s: sent[-1] in s and s.rfind("#lobby>") > s.rfind(sent[-1])
            )
            shown = [
                line.split("<bob> ")[1] for line in screen.splitlines() if "<bob> bob says" in line
            ]
            assert shown == sent[-len(shown) :] and len(shown) >= 10  # in order, one per line
            assert prompt_line(screen) == "#lobby> yarım kalan"

            terminal.keys(" cümle", literal=True)
            terminal.keys("Enter")
            bob.expect("<ayse> yarım kalan cümle")

            # A smaller window: the screen is drawn again, and still works.
            terminal.resize(72, 20)
            terminal.keys("/who", literal=True)
            terminal.keys("Enter")
            terminal.wait_for_screen("#lobby (2): bob, ayse")

            terminal.keys("C-c")
            bob.expect("ayse quit (Quit)")
            terminal.wait_for_screen("ssh exited 0")
        finally:
            terminal.close()


def _wait(terminal: Tmux, condition: Callable[[str], bool]) -> str:
    def look() -> str | None:
        screen = terminal.screen()
        return screen if condition(screen) else None

    try:
        return wait_for(look, 10.0, "the screen")
    except TimeoutError:
        pytest.fail(f"the screen never matched; it shows:\n{terminal.screen()}")


def test_ssh_without_a_terminal_sends_each_line_then_leaves(tmp_path: Path) -> None:
    ssh = require_program("ssh")
    key, other = client_key(tmp_path), client_key(tmp_path, "other")
    with chat_server(tmp_path) as (port, ssh_port), RawLines("127.0.0.1", port) as bob:
        bob.register("bob")
        login = [ssh, "-T", "-p", str(ssh_port), *SSH_OPTIONS]
        piped = subprocess.run(
            [*login, "-i", str(key), "ayse@127.0.0.1"],
            input="birinci satır\n/me el sallar\n//slash ile\n",
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert piped.returncode == 0, piped.stderr
        for line in ("birinci satır", "* ayse el sallar", "/slash ile"):
            bob.expect(line)
            assert line in piped.stdout
        bob.expect("ayse quit (Quit)")

        # A command is one line; another key cannot be ayse now.
        command = subprocess.run(
            [*login, "-i", str(key), "ayse@127.0.0.1", "tek satır"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert command.returncode == 0, command.stderr
        bob.expect("<ayse> tek satır")
        refused = subprocess.run(
            [*login, "-i", str(other), "ayse@127.0.0.1", "never"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert refused.returncode == 255
        assert "Permission denied" in refused.stderr
