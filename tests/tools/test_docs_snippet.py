"""docs/tools.md's Python snippet runs as printed (its one port aside)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.tools.support import STEP_TIMEOUT, recv_all

DOC = Path(__file__).resolve().parents[2] / "docs" / "tools.md"


def snippet() -> str:
    text = DOC.read_text()
    start = text.index("```python\n", text.index("## Python API")) + len("```python\n")
    return text[start : text.index("```", start)]


def test_the_python_api_snippet_runs(tmp_path: Path) -> None:
    code = snippet()
    assert '"localhost", 12345' in code
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        received: list[bytes] = []

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"merhaba\r\n")
                received.append(recv_all(conn))  # until the snippet's stdin ends

        peer = threading.Thread(target=answer, daemon=True)
        peer.start()
        script = tmp_path / "snippet.py"
        script.write_text(code.replace('"localhost", 12345', f'"127.0.0.1", {port}'))
        done = subprocess.run(
            [sys.executable, str(script)],
            input=b"hello\n",
            capture_output=True,
            timeout=STEP_TIMEOUT,
            check=False,
        )
        peer.join(STEP_TIMEOUT)
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "'localhost'" in out and "domain" in out and "[22, 80]" in out
    assert "merhaba" in out
    assert received == [b"hello\r\n"]  # crlf=True
    assert re.search(r"^\d+ 9 peer-closed$", out, re.MULTILINE), out
