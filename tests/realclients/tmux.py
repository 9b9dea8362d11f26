"""A program in a tmux server of its own, its screen read with `capture-pane`.

Each `Tmux` starts a server with its own socket name (`tmux -L NAME`) and no user
configuration, so tests never see each other's windows or anybody's tmux.conf, and
`close` kills that whole server.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.realclients.waiting import wait_for

UTF8 = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
COMMAND_TIMEOUT = 10.0


class Tmux:
    def __init__(self, command: Sequence[str], *, width: int = 160, height: int = 40) -> None:
        self.name = f"soketler-realclient-{secrets.token_hex(4)}"
        self._env = {**os.environ, **UTF8}
        self._tmux(
            "new-session", "-d", "-s", "main", "-x", str(width), "-y", str(height),
            subprocess.list2cmdline(list(command)),
        )  # fmt: skip
        self._socket = self._tmux("display-message", "-p", "#{socket_path}").strip()

    def _tmux(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.name, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            env=self._env,
            timeout=COMMAND_TIMEOUT,
            check=True,
        )
        return result.stdout

    def type(self, text: str) -> None:
        """Types `text` (taken literally, not as key names) and presses Enter."""
        self._tmux("send-keys", "-t", "main", "-l", text)
        self._tmux("send-keys", "-t", "main", "Enter")

    def keys(self, *keys: str, literal: bool = False) -> None:
        """Presses keys (tmux key names such as "Enter", "C-c"), or types text as it is."""
        self._tmux("send-keys", "-t", "main", *(["-l"] if literal else []), *keys)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", "main", "-x", str(width), "-y", str(height))

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "main")

    def wait_for_screen(self, text: str, timeout: float = 10.0) -> str:
        def look() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        return wait_for(look, timeout, repr(text))

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.name, "kill-server"],
            capture_output=True,
            env=self._env,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        # The server is gone; its socket file may stay behind in the shared folder.
        Path(self._socket).unlink(missing_ok=True)
