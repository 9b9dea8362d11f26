"""irssi, a real IRC client, in #lobby of `soketler serve` with a telnet/nc-style user:
each sees the other's joins, messages, nick changes and quits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.helpers import require_program
from tests.realclients.irssi import RECEIVED, SENT, Irssi
from tests.realclients.rawlines import RawLines
from tests.realclients.soketlerserve import HOST, soketler_serve


@pytest.mark.slow
def test_irssi_and_a_plain_line_user_talk_in_the_lobby(tmp_path: Path) -> None:
    for program in ("tmux", "irssi"):
        require_program(program)
    with (
        soketler_serve("--server-name", "soketler.test") as served,
        RawLines(HOST, served.lines_port, ending=b"\n") as bob,  # as nc sends
        Irssi(tmp_path / "irssi", served.irc_port, nick="ayse", realname="Ayşe Yılmaz") as ayse,
    ):
        bob.register("bob")
        ayse.connect()
        ayse.command("/join #lobby")
        ayse.wait_for_raw(f"{SENT}JOIN #lobby")
        bob.expect("-- ayse joined #lobby")
        # irssi got the names after its JOIN: bob (who made the room) is its operator.
        ayse.wait_for_raw_matching(lambda line: " 353 ayse = #lobby :" in line and "@bob" in line)

        ayse.command("merhaba dünya 👋")
        said = bob.expect("merhaba")
        assert said.endswith("<ayse> merhaba dünya 👋")

        bob.send("selam Ayşe")
        # irssi asks for server-time, so the line starts with its tag.
        line = ayse.wait_for_raw_matching(
            lambda line: (
                line.startswith(RECEIVED)
                and line.endswith(":bob!bob@127.0.0.1 PRIVMSG #lobby :selam Ayşe")
            )
        )
        assert "@time=" in line
        screen = ayse.wait_for_screen("selam Ayşe")
        assert re.search(r"<.?bob> selam Ayşe", screen), screen

        bob.send("/nick bora")
        ayse.wait_for_screen("bob is now known as bora")
        ayse.command("/nick ayşe")
        bob.expect("-- ayse is now known as ayşe")

        ayse.command("/quit hoşça kal")
        assert bob.expect("quit").endswith("-- ayşe quit (Quit: hoşça kal)")
