"""irctest controller for `soketler serve` and its IRC door.

Run by `make irctest IRCTEST=path/to/irctest`. Each test class gets a fresh server:
its own port on 127.0.0.1, its own SQLite file in a temporary folder, limits relaxed
(the suite sends faster than the default 5 lines a second, and from one address).
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities, OptionalBehaviors

from tests.irctest.loopback import LOOPBACK, reserve_loopback_port
from tests.irctest.reaper import track

SERVER_NAME = "My.Little.Server"  # the name irctest's tests expect in replies
# The operator irctest logs in as before its INFO, KILL and WALLOPS tests.
OPERATOR, OPERATOR_PASSWORD = "operuser", "operpassword"

# Limits for a conformance run: no rate limit, no per-address limit (every client
# comes from 127.0.0.1), and nothing replayed on JOIN (the suite counts the lines
# a JOIN brings).
RELAXED = (
    "--rate", "0",
    "--max-per-address", "0",
    "--replay", "0",
    "--log-level", "warning",
)  # fmt: skip


@functools.cache
def operator_config() -> str:
    """A config file's operator table, with the password hashed (at the lowest cost the
    server accepts: this is a throwaway password, and each OPER hashes it again)."""
    from soketler.security.passwords import MIN_LOG_N, ScryptCost, hash_password

    hashed = hash_password(OPERATOR_PASSWORD, ScryptCost(MIN_LOG_N))
    return f'[operators.{OPERATOR}]\npassword = "{hashed}"\n'


@functools.cache
def serve_options() -> str:
    """`soketler serve --help`, to use only options this soketler has."""
    return subprocess.run(
        [sys.executable, "-m", "soketler", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


class SoketlerController(BaseServerController, DirectoryBasedController):
    software_name = "soketler"
    supported_sasl_mechanisms: ClassVar[set[str]] = set()
    supports_sts = False
    # What the door advertises: irctest then fails, rather than skips, a test of a
    # capability or behaviour we claim and do not deliver.
    capabilities = frozenset(
        {
            Capabilities.AWAY_NOTIFY,
            Capabilities.BATCH,
            Capabilities.ECHO_MESSAGE,
            Capabilities.MESSAGE_TAGS,
            Capabilities.MULTI_PREFIX,
            Capabilities.SERVER_TIME,
        }
    )
    optional_behaviors = frozenset(
        {
            OptionalBehaviors.CAP_REQ_MINUS,
            OptionalBehaviors.MULTI_JOIN,
            OptionalBehaviors.MULTI_KICK,
            OptionalBehaviors.MULTI_PRIVMSG,
        }
    )
    isupport: ClassVar[dict[str, str | None]] = {
        "BOT": "B",
        "CASEMAPPING": "ascii",
        "CHANTYPES": "#",
        "PREFIX": "(ov)@+",
        "UTF8ONLY": None,
    }

    def get_hostname_and_port(self) -> tuple[str, int]:
        return reserve_loopback_port(self)

    def execute(self, command: Any, proc_name: str | None = None, **kwargs: Any) -> Any:
        track(self)
        return super().execute(command, proc_name, **kwargs)

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: str | None,
        ssl: bool,
        run_services: bool,
        faketime: str | None,
        websocket_hostname: str | None,
        websocket_port: int | None,
        **_: Any,
    ) -> None:
        if ssl:
            raise NotImplementedByController("TLS")
        if websocket_hostname is not None or websocket_port is not None:
            raise NotImplementedByController("Websocket")
        if run_services:
            raise NotImplementedByController("services")
        assert self.proc is None
        self.hostname, self.port = LOOPBACK, port
        self.create_config()
        assert self.directory is not None
        self.proc = self.execute([*self.command(port, password, self.directory), *RELAXED])

    def command(self, port: int, password: str | None, directory: Path) -> list[str]:
        options = serve_options()
        command = [
            sys.executable, "-m", "soketler", "serve",
            "--host", LOOPBACK,
            "--db", str(directory / "history.sqlite3"),
            "--server-name", SERVER_NAME,
            "--web-port", "0",
        ]  # fmt: skip
        if "--irc-port" in options:
            command += ["--irc-port", str(port), "--port", "0"]
            config = directory / "soketler.toml"
            config.write_text(operator_config())
            command += ["--config", str(config)]
        else:
            # Before the IRC door is wired in, the suite reaches the line protocol on
            # this port: the server starts and the tests connect, and fail.
            command += ["--port", str(port)]
        if password is not None:
            if "--irc-password" not in options:
                raise NotImplementedByController("PASS")
            command += ["--irc-password", password]
        return command


def get_irctest_controller_class() -> type[SoketlerController]:
    return SoketlerController
