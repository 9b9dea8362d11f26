"""irssi, a real IRC client, under tmux with a private home and a raw log.

The home folder holds a pre-written minimal configuration (nick, user name, real
name, one server entry, nothing saved back), so irssi starts without asking anything.
After connecting it opens `/rawlog open FILE`, which first writes every line of the
connection so far: a test can assert on the exact IRC lines irssi sent (`<<`) and
received (`>>`), and on what it shows on the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from tests.realclients.tmux import Tmux
from tests.realclients.waiting import wait_for

CONFIG = """\
servers = (
  {{ address = "{host}"; chatnet = "test"; port = "{port}"; use_tls = "no"; autoconnect = "no"; }}
);
chatnets = {{ test = {{ type = "IRC"; }}; }};
settings = {{
  core = {{
    real_name = "{realname}";
    user_name = "{user}";
    nick = "{nick}";
    settings_autosave = "no";
  }};
}};
"""
STARTED = "Irssi v"
CONNECTED = "Connection to {host} established"
SENT = "<< "  # rawlog's mark of a line irssi sent
RECEIVED = ">> "  # and of a line it received
WELCOME = " 001 "  # RPL_WELCOME: registration is complete


class Irssi:
    def __init__(
        self,
        home: Path,
        port: int,
        *,
        nick: str,
        host: str = "127.0.0.1",
        user: str = "harness",
        realname: str = "Harness User",
    ) -> None:
        self.home = home
        self.host = host
        self.port = port
        self.rawlog = home / "raw.log"
        home.mkdir(parents=True, exist_ok=True)
        (home / "config").write_text(
            CONFIG.format(host=host, port=port, nick=nick, user=user, realname=realname)
        )
        self.tmux = Tmux(["irssi", f"--home={home}"])

    def __enter__(self) -> Irssi:
        try:
            self.tmux.wait_for_screen(STARTED)
        except BaseException:
            self.tmux.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.tmux.close()

    def command(self, text: str) -> None:
        """What a person types: a /command or a line of text for the current window."""
        self.tmux.type(text)

    def connect(self, timeout: float = 15.0) -> None:
        """Connects and returns once registered: a command typed before the welcome
        would be refused by the server (451) and lost."""
        self.command(f"/connect {self.host} {self.port}")
        self.tmux.wait_for_screen(CONNECTED.format(host=self.host), timeout)
        self.command(f"/rawlog open {self.rawlog}")
        self.wait_for_raw_matching(
            lambda line: line.startswith(RECEIVED) and WELCOME in line, timeout
        )

    def raw_lines(self) -> list[str]:
        try:
            return self.rawlog.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def wait_for_raw(self, line: str, timeout: float = 10.0) -> str:
        """Waits for an exact rawlog line (irssi writes its raw log about once a second)."""
        return wait_for(lambda: line if line in self.raw_lines() else None, timeout, repr(line))

    def wait_for_raw_matching(self, match: Callable[[str], bool], timeout: float = 10.0) -> str:
        def look() -> str | None:
            return next((line for line in self.raw_lines() if match(line)), None)

        return wait_for(look, timeout, "a matching rawlog line")

    def wait_for_screen(self, text: str, timeout: float = 10.0) -> str:
        return self.tmux.wait_for_screen(text, timeout)
