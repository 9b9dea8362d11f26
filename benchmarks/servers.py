"""Starting the chat servers under test: soketler (per loop) and ncat --chat."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

from benchmarks import util
from benchmarks.chatload import ChatTarget
from benchmarks.ircpeer import ngircd_server

NCAT = "ncat"
NGIRCD = "ngircd"


@dataclass
class Options:
    quick: bool
    runs: int
    loops: tuple[str, ...]
    # Other source trees of soketler to measure beside this one, by label (a short
    # commit): `soketler@LABEL/LOOP` runs `soketler serve` from that tree's src/.
    compare: dict[str, str] = field(default_factory=dict)

    @property
    def soketlers(self) -> list[str]:
        here = [f"soketler/{loop}" for loop in self.loops]
        there = [f"soketler@{label}/{loop}" for label in self.compare for loop in self.loops]
        return here + there

    @property
    def irc_soketlers(self) -> list[str]:
        """soketler's IRC door, per loop."""
        return [f"soketler-irc/{loop}" for loop in self.loops]


def loop_of(subject: str) -> str:
    return subject.split("/", 1)[1]


def tree_of(subject: str, opts: Options | None) -> str | None:
    """The source tree a `soketler@LABEL/LOOP` subject runs from (None: this one)."""
    name = subject.split("/", 1)[0]
    if "@" not in name:
        return None
    label = name.split("@", 1)[1]
    if opts is None or label not in opts.compare:
        raise RuntimeError(f"no source tree for {subject}")
    return opts.compare[label]


def tree_env(src: str | None) -> dict[str, str] | None:
    """The environment that makes `soketler` import from `src` (a tree's src/
    directory comes before the installed one on the import path)."""
    if src is None:
        return None
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH", "")]))
    return env


@functools.cache
def _serve_options(src: str) -> frozenset[str]:
    """The options `soketler serve` knows in the source tree `src`."""
    help_text = subprocess.run(
        [util.SOKETLER, "serve", "--help"],
        capture_output=True,
        text=True,
        env=tree_env(src),
        check=True,
    ).stdout
    return frozenset(re.findall(r"--[a-z][a-z0-9-]*", help_text))


def tree_argv(argv: list[str], src: str | None) -> list[str]:
    """`argv` for the tree `src`: options an older tree does not know (the doors it did
    not have yet, such as --irc-port 0) are left out, with their values."""
    if src is None:
        return argv
    known = _serve_options(src)
    kept: list[str] = []
    words = iter(enumerate(argv))
    for at, word in words:
        if word.startswith("--") and word not in known:
            if at + 1 < len(argv) and not argv[at + 1].startswith("-"):
                next(words)  # its value
            continue
        kept.append(word)
    return kept


@contextlib.contextmanager
def irc_server(subject: str) -> Iterator[ChatTarget]:
    """An IRC server on 127.0.0.1 pinned to the server CPU: ngIRCd, or soketler's IRC
    door (with the same raised limits and SQLite history as `chat_server`)."""
    if subject == NGIRCD:
        with ngircd_server() as peer:
            yield ChatTarget(NGIRCD, peer.port, server_pid=peer.server_pid, irc=True)
        return
    irc_port = util.free_port()
    with (
        tempfile.TemporaryDirectory(prefix="soketler-bench-") as folder,
        tempfile.TemporaryFile() as log,
        util.running(
            util.serve_argv(
                loop_of(subject),
                f"{folder}/history.sqlite3",
                extra=("--irc-port", str(irc_port)),
            ),
            stdout=subprocess.PIPE,
            stderr=log,
            grace=5.0,
        ) as proc,
    ):
        try:
            util.read_port(proc)  # said once every listener is open
        except (RuntimeError, TimeoutError) as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}: {log.read()[-500:].decode(errors='replace')}") from exc
        yield ChatTarget("soketler", irc_port, server_pid=proc.pid, irc=True)


@contextlib.contextmanager
def chat_server(
    subject: str,
    *,
    sendq: int = 8 << 20,
    memory: bool = False,
    web: bool = False,
    opts: Options | None = None,
) -> Iterator[ChatTarget]:
    """A chat server on 127.0.0.1 pinned to the server CPU, ended when the block ends.
    History goes to an SQLite file of its own, or with `memory` nowhere (`:memory:`).
    With `web`, soketler's browser door listens too (`ChatTarget.web_port`). A
    `soketler@LABEL/LOOP` subject runs from the source tree `opts` names for LABEL."""
    if subject == NCAT:
        port = util.free_port()
        # -m: ncat refuses past 100 connections by default.
        argv = [*util.taskset(util.SERVER_CPU), "ncat", "-l", util.HOST, str(port)]
        with util.running([*argv, "--chat", "-m", "20000"]) as proc:
            # Not a probe connection: ncat --chat quits when a client leaves at once.
            util.wait_listening(port, proc=proc)
            yield ChatTarget("ncat", port, server_pid=proc.pid)
        return
    web_port = util.free_port() if web else 0
    with (
        tempfile.TemporaryDirectory(prefix="soketler-bench-") as folder,
        tempfile.TemporaryFile() as log,
        util.running(
            tree_argv(
                util.serve_argv(
                    loop_of(subject),
                    ":memory:" if memory else f"{folder}/history.sqlite3",
                    sendq=sendq,
                    extra=("--web-port", str(web_port)) if web else (),
                ),
                tree_of(subject, opts),
            ),
            stdout=subprocess.PIPE,
            stderr=log,
            grace=5.0,
            env=tree_env(tree_of(subject, opts)),
        ) as proc,
    ):
        try:
            port = util.read_port(proc)
        except (RuntimeError, TimeoutError) as exc:
            log.seek(0)
            raise RuntimeError(f"{exc}: {log.read()[-500:].decode(errors='replace')}") from exc
        if web:
            util.wait_listening(web_port, proc=proc)
        yield ChatTarget("soketler", port, server_pid=proc.pid, web_port=web_port)
