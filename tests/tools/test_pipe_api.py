"""`soketler.tools.pipe` and the copy engine under it, on every kind of descriptor."""

from __future__ import annotations

import asyncio
import os
import pty
import socket
import threading
from pathlib import Path

import pytest

from soketler import exitcodes
from soketler.tools import ToolError, fdcopy, pipe
from soketler.tools.transforms import CrlfLines
from tests.tools.support import recv_all

DATA = os.urandom(3 << 20)


def test_copy_file_to_socket_and_socket_to_file(tmp_path: Path) -> None:
    """sendfile one way, splice through a private pipe the other."""
    source, sink = tmp_path / "in", tmp_path / "out"
    source.write_bytes(DATA)
    left, right = socket.socketpair()
    with left, right, source.open("rb") as src, sink.open("wb") as dst:
        progress = fdcopy.Progress()
        endings: list[fdcopy.Ending] = []
        reader = threading.Thread(
            target=lambda: endings.append(fdcopy.copy(right.fileno(), dst.fileno()))
        )
        reader.start()
        try:
            assert fdcopy.copy(src.fileno(), left.fileno(), progress=progress) is fdcopy.Ending.EOF
        finally:
            left.shutdown(socket.SHUT_WR)
            reader.join(10)
    assert endings == [fdcopy.Ending.EOF]
    assert progress.bytes == len(DATA)
    assert sink.read_bytes() == DATA


def test_copy_reports_a_closed_output_pipe() -> None:
    left, right = socket.socketpair()
    read_end, write_end = os.pipe()
    os.close(read_end)
    with left, right:
        left.sendall(b"nobody will read this")
        assert fdcopy.copy(right.fileno(), write_end) is fdcopy.Ending.OUTPUT_CLOSED
    os.close(write_end)


def test_copy_with_a_transform_uses_the_plain_loop() -> None:
    read_end, write_end = os.pipe()
    left, right = socket.socketpair()
    with left, right:
        os.write(write_end, b"a\nb\n")
        os.close(write_end)
        fdcopy.copy(read_end, left.fileno(), transform=CrlfLines())
        left.shutdown(socket.SHUT_WR)
        assert recv_all(right) == b"a\r\nb\r\n"
    os.close(read_end)


def test_stopper_ends_a_copy_waiting_on_a_silent_source() -> None:
    read_end, write_end = os.pipe()
    stopper = fdcopy.Stopper()
    stopper.stop()
    try:
        assert fdcopy.copy(read_end, write_end, stopper=stopper) is fdcopy.Ending.STOPPED
    finally:
        stopper.close()
        os.close(read_end)
        os.close(write_end)


async def test_pipe_both_ways_over_a_socketpair(tmp_path: Path) -> None:
    source, sink = tmp_path / "in", tmp_path / "out"
    source.write_bytes(DATA)
    ours, theirs = socket.socketpair()
    with ours, theirs, source.open("rb") as src, sink.open("wb") as dst:

        def peer() -> bytes:
            theirs.sendall(b"reply")
            got = recv_all(theirs)
            theirs.shutdown(socket.SHUT_WR)
            return got

        peer_got = asyncio.get_running_loop().run_in_executor(None, peer)
        result = await pipe(ours, src, dst)
        assert await peer_got == DATA
    assert (result.sent, result.received, result.ending) == (len(DATA), 5, "peer-closed")
    assert sink.read_bytes() == b"reply"


async def test_pipe_from_a_terminal_ends_when_the_peer_closes(tmp_path: Path) -> None:
    """A person at a keyboard is told at once; the silent terminal is not waited for."""
    controller, terminal = pty.openpty()
    ours, theirs = socket.socketpair()
    out = tmp_path / "out"
    try:
        with ours, out.open("wb") as dst:
            theirs.sendall(b"bye\n")
            theirs.close()
            result = await asyncio.wait_for(pipe(ours, terminal, dst), 10)
        assert result.ending == "peer-closed"
        assert out.read_bytes() == b"bye\n"
    finally:
        os.close(controller)
        os.close(terminal)


async def test_pipe_idle_timeout(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    ours, theirs = socket.socketpair()
    try:
        with (
            ours,
            theirs,
            (tmp_path / "out").open("wb") as dst,
            pytest.raises(ToolError) as caught,
        ):
            await pipe(ours, read_end, dst, idle_timeout=0.2)
        assert caught.value.exit_code == exitcodes.TIMEOUT
    finally:
        os.close(read_end)
        os.close(write_end)
