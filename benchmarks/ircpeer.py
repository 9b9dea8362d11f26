"""ngIRCd as the IRC benchmarks' peer: a C server that frames lines as we do.

It is started the way soketler is: on 127.0.0.1, a free port, pinned to the server
CPU, its configuration generated in a temporary folder, with the limits that would
stop a load test turned off (flood penalties, connections per address, channels per
user), and ended when the block ends.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks import util

NGIRCD = "ngircd"
SERVER_NAME = "ngircd.bench"

# ngircd.conf(5): "MaxPenaltyTime ... 0 to disable penalties altogether"; without
# it ngIRCd delays each client's commands by a second or two under load and the
# comparison would measure its flood control, not its delivery.
CONFIG = """\
[Global]
    Name = {name}
    Info = soketler benchmark peer
    AdminInfo1 = soketler benchmarks
    AdminEMail = nobody@localhost
    Listen = {host}
    Ports = {port}
    MotdFile = {motd}
[Limits]
    MaxConnections = 0
    MaxConnectionsIP = 0
    MaxJoins = 0
    MaxNickLength = 31
    MaxPenaltyTime = 0
    PingTimeout = 600
    PongTimeout = 600
[Options]
    DNS = no
    Ident = no
    PAM = no
    MorePrivacy = no
"""


@dataclass(frozen=True)
class IrcTarget:
    name: str
    port: int
    server_pid: int


def write_config(folder: Path, port: int) -> Path:
    motd = folder / "motd.txt"
    motd.write_text("benchmark peer\n")
    config = folder / "ngircd.conf"
    config.write_text(CONFIG.format(name=SERVER_NAME, host=util.HOST, port=port, motd=motd))
    return config


@contextlib.contextmanager
def ngircd_server(*, cpu: int | None = util.SERVER_CPU) -> Iterator[IrcTarget]:
    """ngIRCd listening on 127.0.0.1 until the block ends (`cpu=None`: not pinned)."""
    port = util.free_port()
    with tempfile.TemporaryDirectory(prefix="ngircd-peer-") as folder:
        config = write_config(Path(folder), port)
        pin = util.taskset(cpu) if cpu is not None else []
        with util.running([*pin, NGIRCD, "--nodaemon", "--config", str(config)]) as proc:
            util.wait_listening(port, proc=proc)
            yield IrcTarget("ngircd", port, proc.pid)
