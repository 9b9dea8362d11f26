"""`soketler completion bash|zsh|fish`, tried in each real shell."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from soketler.cli import build_parser, subcommand_parsers
from tests.helpers import require_program

SOKETLER = [sys.executable, "-m", "soketler"]
BIN = str(Path(sys.executable).parent)  # where `soketler` is, for the shells' PATH
TIMEOUT = 10.0


def script(shell: str) -> str:
    done = subprocess.run(
        [*SOKETLER, "completion", shell], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def bash_complete(line: str) -> list[str]:
    """What bash's completion offers for `line` (the word being completed is its last)."""
    bash = require_program("bash")
    words = line.split(" ")
    program = (
        f"{script('bash')}\n"
        f"COMP_WORDS=({' '.join(repr(word) for word in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        '_soketler\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run([bash, "-c", program], capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_bash_completes_commands_options_and_values() -> None:
    assert bash_complete("soketler se") == ["serve"]
    assert sorted(bash_complete("soketler serve --lo")) == ["--log-level", "--loop"]
    assert bash_complete("soketler serve --loop ") == ["auto", "asyncio", "uvloop"]
    assert bash_complete("soketler completion ") == ["bash", "zsh", "fish"]
    nc_flags = bash_complete("soketler connect -")
    assert {"-n", "-N", "-p", "-s", "-z"} & set(nc_flags) == {"-n", "-N", "-p", "-s"}


def test_every_option_of_every_command_is_in_each_script() -> None:
    scripts = {shell: script(shell) for shell in ("bash", "zsh", "fish")}
    for name, parser in subcommand_parsers(build_parser()).items():
        for action in parser._actions:
            for flag in action.option_strings:
                for shell, text in scripts.items():
                    # fish spells options without their dashes (-l loop, -s p).
                    spelled = flag if shell != "fish" else flag.lstrip("-")
                    assert spelled in text, (shell, name, flag)


def test_fish_completes_commands_options_and_values() -> None:
    fish = require_program("fish")

    def complete(line: str) -> list[str]:
        program = f"{script('fish')}\ncomplete -C {line!r}"
        done = subprocess.run(
            [fish, "--no-config", "-c", program], capture_output=True, text=True, timeout=TIMEOUT
        )
        assert done.returncode == 0, done.stderr
        return [row.split("\t")[0] for row in done.stdout.splitlines()]

    assert "serve" in complete("soketler ") and "probe" in complete("soketler ")
    assert sorted(complete("soketler serve --lo")) == ["--log-level", "--loop"]
    assert complete("soketler serve --loop ") == ["asyncio", "auto", "uvloop"]
    assert complete("soketler completion ") == ["bash", "fish", "zsh"]


class Screen:
    """An interactive zsh in a tmux of its own, read with capture-pane."""

    def __init__(self, tmux: str) -> None:
        self.tmux = tmux
        self.socket = f"soketler-zsh-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    async def run(self, *args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            self.tmux, "-L", self.socket, "-f", "/dev/null", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        assert proc.returncode == 0, err.decode()
        return out.decode()

    async def wait_for(self, condition: Callable[[str], bool]) -> str:
        screen = ""
        try:
            async with asyncio.timeout(TIMEOUT):
                # The screen belongs to another process: there is no event to wait on.
                while not condition(screen := await self.run("capture-pane", "-p", "-t", "z")):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
        except TimeoutError:
            pytest.fail(f"the screen never matched; it shows:\n{screen}")
        return screen

    async def type(self, text: str, *keys: str) -> None:
        await self.run("send-keys", "-t", "z", "-l", text)
        if keys:
            await self.run("send-keys", "-t", "z", *keys)


@pytest.fixture
async def zsh_screen(tmp_path: Path) -> AsyncIterator[Screen]:
    zsh, tmux = require_program("zsh"), require_program("tmux")
    (tmp_path / "_soketler").write_text(script("zsh"))
    screen = Screen(tmux)
    env = f"PATH={BIN}:{os.environ['PATH']}"
    await screen.run("new-session", "-d", "-s", "z", "-x", "120", "-y", "30", "env", env, zsh, "-f")
    try:
        # fpath, as a system install puts _soketler in site-functions; then a bare prompt.
        await screen.type(
            f"fpath=({tmp_path} $fpath); autoload -Uz compinit; compinit -u -D; PS1='ready> '",
            "Enter",
        )
        await screen.wait_for(lambda s: s.rstrip().endswith("ready>"))
        yield screen
    finally:
        proc = await asyncio.create_subprocess_exec(
            tmux, "-L", screen.socket, "kill-server",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await asyncio.wait_for(proc.wait(), TIMEOUT)


async def test_zsh_completes_options_with_their_descriptions(zsh_screen: Screen) -> None:
    await zsh_screen.type("soketler serve --lo", "Tab")
    shown = await zsh_screen.wait_for(lambda s: "--log-level" in s and "--loop " in s)
    assert "-- event loop (default: uvloop when installed)" in shown
    await zsh_screen.type("", "C-u")
    await zsh_screen.type("soketler serve --loop ", "Tab")
    await zsh_screen.wait_for(lambda s: all(v in s for v in ("auto", "asyncio", "uvloop")))
    await zsh_screen.type("", "C-u")
    await zsh_screen.type("soketler comp", "Tab")
    await zsh_screen.wait_for(lambda s: "ready> soketler completion" in s)
