"""The irssi harness proved against ngIRCd: the same steps will drive soketler's IRC door.

irssi connects, joins #lobby, sends a line that a raw socket client receives, and
receives the raw client's line, seen both on its screen and in its raw log.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from benchmarks.ircpeer import ngircd_server

from tests.helpers import require_program
from tests.realclients.irssi import RECEIVED, SENT, Irssi
from tests.realclients.rawirc import RawIrcClient


@pytest.mark.slow
def test_irssi_joins_and_talks_with_a_raw_client(tmp_path: Path) -> None:
    for program in ("tmux", "irssi", "ngircd"):
        require_program(program)
    with (
        ngircd_server(cpu=None) as server,
        RawIrcClient("127.0.0.1", server.port) as bob,
        Irssi(tmp_path / "irssi", server.port, nick="ayse", realname="Ayşe Yılmaz") as ayse,
    ):
        bob.register("bob")
        bob.send("JOIN #lobby")
        bob.wait_for(lambda m: m.command == "366")

        ayse.connect()
        ayse.command("/join #lobby")
        joined = bob.wait_for(lambda m: m.command == "JOIN")
        assert joined.source is not None and joined.source.startswith("ayse!")
        ayse.wait_for_raw(f"{SENT}JOIN #lobby")

        ayse.command("merhaba dünya 👋")
        said = bob.wait_for(lambda m: m.command == "PRIVMSG")
        assert said.params == ("#lobby", "merhaba dünya 👋")
        assert said.source is not None and said.source.startswith("ayse!")
        ayse.wait_for_raw(f"{SENT}PRIVMSG #lobby :merhaba dünya 👋")

        bob.send("PRIVMSG #lobby :selam Ayşe")
        line = ayse.wait_for_raw(f"{RECEIVED}:bob!~bob@127.0.0.1 PRIVMSG #lobby :selam Ayşe")
        assert line.endswith("selam Ayşe")
        screen = ayse.wait_for_screen("selam Ayşe")
        assert re.search(r"<.?bob> selam Ayşe", screen), screen
