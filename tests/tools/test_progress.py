"""`--progress`: bytes, rate and time left for connect/listen, ports done for probe.

On by default only where a person watches (stderr is a terminal: a pty here) and the
work is big; the words themselves are tested without a clock.
"""

from __future__ import annotations

import io
import os
import pty
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from soketler.tools.meter import Meter, TransferMeter, duration, probe_line, size, transfer_line
from tests.tools.support import STEP_TIMEOUT, recv_all, soketler_command

MIB = 1 << 20


def test_the_words() -> None:
    assert (size(0), size(1023), size(1536), size(3 * MIB)) == (
        "0 B",
        "1023 B",
        "1.5 KiB",
        "3.0 MiB",
    )
    assert (duration(75), duration(3723)) == ("1:15", "1:02:03")
    assert transfer_line(400 * MIB, 0, 1000 * MIB, 100 * MIB, 4.0, False) == (
        "sent 400.0 MiB of 1000.0 MiB (40%), 100.0 MiB/s, 0:06 left; received 0 B"
    )
    assert transfer_line(5, 7, None, 0.0, 0.0, False) == "sent 5 B; received 7 B"
    assert transfer_line(MIB, 0, MIB, MIB / 2, 2.0, True) == (
        "sent 1.0 MiB of 1.0 MiB (100%), in 0:02 (512.0 KiB/s); received 0 B"
    )
    assert probe_line(512, 1024, 3, 4.2) == "probed 512 of 1024 ports (50%), 3 open, 0:04"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_meter_redraws_at_most_every_interval_with_the_recent_rate() -> None:
    clock, out = FakeClock(), io.StringIO()
    progress = TransferMeter(10 * MIB, Meter(out, every=0.5, clock=clock))
    for tenth in range(1, 21):  # 2 s at 5 MiB/s, updates every 0.1 s
        clock.now = tenth / 10
        progress.update(tenth * MIB // 2, 0)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # at 0.1, 0.6, 1.1, 1.6 s: not one per update
    assert lines[-1] == "sent 8.0 MiB of 10.0 MiB (80%), 5.0 MiB/s, 0:00 left; received 0 B"
    progress.finish(10 * MIB, 0)
    assert out.getvalue().splitlines()[-1].startswith("sent 10.0 MiB of 10.0 MiB (100%), in 0:02")


@contextmanager
def receiver() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP port on 127.0.0.1 that reads one connection to its end."""
    got: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as server:

        def accept() -> None:
            conn, _ = server.accept()
            with conn:
                got.append(recv_all(conn))

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        yield server.getsockname()[1], got
        thread.join(STEP_TIMEOUT)


def run_connect(stdin: Path, *options: str, terminal: bool) -> tuple[int, str]:
    """`connect` with stdin from a file and stderr a terminal (a pty) or a pipe."""
    with receiver() as (port, got), stdin.open("rb") as source:
        if not terminal:
            done = subprocess.run(
                soketler_command("connect", *options, "127.0.0.1", str(port)),
                stdin=source,
                capture_output=True,
                timeout=STEP_TIMEOUT,
            )
            return done.returncode, done.stderr.decode()
        controller, terminal_end = pty.openpty()
        try:
            proc = subprocess.Popen(
                soketler_command("connect", *options, "127.0.0.1", str(port)),
                stdin=source,
                stdout=subprocess.DEVNULL,
                stderr=terminal_end,
            )
            os.close(terminal_end)
            shown = b""
            while True:  # until the process closes its end of the pty
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: nobody holds the terminal end any more
                    break
                if not chunk:
                    break
                shown += chunk
            code = proc.wait(STEP_TIMEOUT)
        finally:
            os.close(controller)
    assert got and len(got[0]) == stdin.stat().st_size
    return code, shown.decode()


@pytest.fixture
def big_file(tmp_path: Path) -> Path:
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(8 * MIB))
    return path


def test_a_big_file_on_a_terminal_shows_progress_unasked(big_file: Path) -> None:
    code, shown = run_connect(big_file, terminal=True)
    assert code == 0
    # Redrawn in place (carriage return, erase line), ending on its own line.
    assert "\r\x1b[K" in shown
    final = shown.rsplit("\r\x1b[K", 1)[1]
    assert re.fullmatch(
        r"sent 8\.0 MiB of 8\.0 MiB \(100%\), in 0:\d\d.*; received 0 B\r?\n", final
    )


def test_no_progress_when_nobody_watches_or_it_is_small(big_file: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"merhaba\n")
    assert run_connect(big_file, terminal=False) == (0, "")  # stderr is not a terminal
    assert run_connect(small, terminal=True) == (0, "")  # too small to be worth it
    assert run_connect(big_file, "--no-progress", terminal=True) == (0, "")


def test_progress_when_asked_goes_into_a_log_line_by_line(big_file: Path) -> None:
    code, shown = run_connect(big_file, "--progress", terminal=False)
    assert code == 0
    assert "\r" not in shown
    assert shown.splitlines()[-1].startswith("sent 8.0 MiB of 8.0 MiB (100%), in ")


def test_listen_refuses_progress_where_there_is_no_one_transfer() -> None:
    done = subprocess.run(
        soketler_command("listen", "-k", "--progress", "-p", "0"),
        capture_output=True,
        timeout=STEP_TIMEOUT,
    )
    assert done.returncode == 2
    assert b"--progress follows one transfer" in done.stderr


def test_probe_shows_ports_done() -> None:
    done = subprocess.run(
        soketler_command("probe", "--progress", "127.0.0.1", "40000-40149", "-w", "0.5"),
        capture_output=True,
        timeout=STEP_TIMEOUT,
    )
    progress = done.stderr.decode().splitlines()
    assert progress[-1].startswith("probed 150 of 150 ports (100%), ")
    assert all(line.startswith("probed ") for line in progress)
    quiet = subprocess.run(
        soketler_command("probe", "127.0.0.1", "40000-40149", "-w", "0.5"),
        capture_output=True,
        timeout=STEP_TIMEOUT,
    )
    assert quiet.stderr == b""  # not a terminal, not asked
