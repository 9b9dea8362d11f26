"""The host key (made once, kept) and the allowlist (an authorized_keys file)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import asyncssh
import pytest

from soketler.doors import DoorSetupError
from soketler.doors.ssh.keys import Allowlist, fingerprint, host_key


def test_the_host_key_is_made_once_private_and_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "ssh" / "host_ed25519_key"
    key, made = host_key(str(path))
    assert made
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert key.get_algorithm() == "ssh-ed25519"
    public = asyncssh.read_public_key(str(path) + ".pub")
    assert fingerprint(public) == fingerprint(key)
    again, made_again = host_key(str(path))
    assert not made_again
    assert fingerprint(again) == fingerprint(key)
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_a_host_key_file_that_is_not_a_key_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("not a key\n")
    with pytest.raises(DoorSetupError, match="cannot use the SSH host key"):
        host_key(str(path))
    assert path.read_text() == "not a key\n"  # never overwritten


def test_the_allowlist_is_read_again_when_it_changes(tmp_path: Path) -> None:
    # The server is given the public half of the key a client offers.
    alice = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    bob = asyncssh.generate_private_key("ssh-ed25519").convert_to_public()
    path = tmp_path / "authorized_keys"
    path.write_bytes(b"# who may come in\n" + alice.export_public_key())
    allowlist = Allowlist(str(path))
    assert allowlist.allows(alice, "127.0.0.1")
    assert not allowlist.allows(bob, "127.0.0.1")
    # Options are honoured: bob only from 10.0.0.0/8.
    path.write_bytes(b'from="10.0.0.0/8" ' + bob.export_public_key())
    allowlist.reload()
    assert not allowlist.allows(alice, "127.0.0.1")
    assert allowlist.allows(bob, "10.1.2.3")
    assert not allowlist.allows(bob, "127.0.0.1")


def test_an_allowlist_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DoorSetupError, match="cannot read the SSH allowlist"):
        Allowlist(str(tmp_path / "missing"))
    bad = tmp_path / "bad"
    bad.write_text("# nobody yet\nssh-ed25519 !!!notbase64\n")
    with pytest.raises(DoorSetupError, match="lists no keys"):
        Allowlist(str(bad))
