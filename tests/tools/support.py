"""Running `soketler` subprocesses in tests: start, wait for a line, always clean up."""

from __future__ import annotations

import contextlib
import queue
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO, Any

STEP_TIMEOUT = 10.0  # seconds any single wait may take before the test fails


def soketler_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "soketler", *args]


class LineReader:
    """Reads a pipe's lines in a thread so a test can wait for one with a timeout."""

    def __init__(self, pipe: IO[bytes]) -> None:
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        self.seen: list[bytes] = []
        self._thread = threading.Thread(target=self._run, args=(pipe,), daemon=True)
        self._thread.start()

    def _run(self, pipe: IO[bytes]) -> None:
        for line in iter(pipe.readline, b""):
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: str, timeout: float = STEP_TIMEOUT) -> re.Match[str]:
        regex = re.compile(pattern)
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no line matching {pattern!r} within {timeout} s; saw {self.seen!r}"
                ) from None
            if line is None:
                raise AssertionError(f"stream ended before {pattern!r}; saw {self.seen!r}")
            self.seen.append(line)
            match = regex.search(line.decode(errors="replace"))
            if match:
                return match


class Tool:
    """A running `soketler ...` process with its stderr read line by line."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        stdin: Any = subprocess.PIPE,
        stdout: Any = subprocess.PIPE,
        env: dict[str, str] | None = None,
        **popen: Any,
    ) -> None:
        self.proc = subprocess.Popen(
            soketler_command(*args),
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            env=env,
            **popen,
        )
        assert self.proc.stderr is not None
        self.stderr = LineReader(self.proc.stderr)
        self._stdout: LineReader | None = None

    def stdout_line(self, timeout: float = STEP_TIMEOUT) -> bytes:
        """The next line of stdout, waited for with a timeout (do not mix with finish())."""
        if self._stdout is None:
            assert self.proc.stdout is not None
            self._stdout = LineReader(self.proc.stdout)
        return self._stdout.wait_for(r"", timeout).string.encode()

    def listening_port(self) -> int:
        return int(self.stderr.wait_for(r"listening on .* port (\d+)").group(1))

    def finish(self, timeout: float = STEP_TIMEOUT) -> tuple[int, bytes]:
        """Closes our end of stdin, waits for the exit; returns (code, stdout)."""
        out = b""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        if self.proc.stdout is not None:
            out = self.proc.stdout.read()
        return self.proc.wait(timeout), out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(STEP_TIMEOUT)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


@contextlib.contextmanager
def running(args: Sequence[str], **kwargs: Any) -> Iterator[Tool]:
    tool = Tool(args, **kwargs)
    try:
        yield tool
    finally:
        tool.stop()


def run_tool(
    args: Sequence[str], *, input: bytes = b"", timeout: float = STEP_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        soketler_command(*args), input=input, capture_output=True, timeout=timeout, check=False
    )


def recv_all(sock: socket.socket, timeout: float = STEP_TIMEOUT) -> bytes:
    """Everything until the peer closes (one recv is not one message)."""
    sock.settimeout(timeout)
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def recv_exactly(sock: socket.socket, count: int, timeout: float = STEP_TIMEOUT) -> bytes:
    sock.settimeout(timeout)
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            break
        data += chunk
    return bytes(data)


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now (for peers that cannot bind port 0 and say so)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
