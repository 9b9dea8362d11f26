"""The IRC door's entry: what it says of the server comes from the configuration."""

from __future__ import annotations

from pathlib import Path

from soketler.core.config import ServerConfig
from soketler.doors.irc.door import MAX_MOTD_LINES, read_motd, server_info


def test_server_info_from_the_configuration(tmp_path: Path) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("Hoş geldiniz!  \n\nçay saati 16:00\n")
    config = ServerConfig(network="kahve", motd=str(motd), irc_password="sesame")
    info = server_info(config, "irc.test")
    assert (info.name, info.network, info.password) == ("irc.test", "kahve", "sesame")
    assert info.motd == ("Hoş geldiniz!", "", "çay saati 16:00")
    assert info.isupport()["NETWORK"] == "kahve"
    bare = server_info(ServerConfig(), "irc.test")
    assert (bare.network, bare.motd, bare.password) == ("soketler", (), None)


def test_a_long_motd_file_is_cut(tmp_path: Path) -> None:
    motd = tmp_path / "motd.txt"
    motd.write_text("line\n" * (MAX_MOTD_LINES + 50))
    assert len(read_motd(str(motd))) == MAX_MOTD_LINES
