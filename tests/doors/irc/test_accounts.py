"""PASS, SASL PLAIN and server bans in the IRC door, against the fake hub."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from soketler.doors.irc.sasl import _plain
from tests.doors.irc.door import Client, Door, commands

PLAIN_CAPS = "sasl"


def plain(account: str, password: str, authzid: str = "") -> str:
    return base64.b64encode(f"{authzid}\0{account}\0{password}".encode()).decode()


def with_sasl(client: Client) -> Client:
    """As the door offers it where a password may cross (door.open_session)."""
    client.state.caps.available = {**client.state.caps.available, "sasl": "PLAIN"}
    return client


def test_pass_logs_in_to_an_account() -> None:
    door = Door(accounts={"ayşe": "sesame"})
    for given_ in ("PASS ayşe:sesame", "PASS sesame"):  # name:password, or the nickname's
        client = door.connect()
        replies = client.send(given_, "NICK ayşe", "USER a 0 * :a")
        assert commands(replies)[:2] == ["900", "001"]
        assert replies[0].params[2] == "ayşe"
        assert client.session.account == "ayşe"
        door.hub.close(client.session, "done")
    wrong = door.connect()
    assert commands(wrong.send("PASS ayşe:nope", "NICK x", "USER a 0 * :a")) == ["464", "ERROR"]
    # No server password and not an account: PASS is ignored, as servers do.
    guest = door.connect()
    assert commands(guest.send("PASS whatever", "NICK misafir", "USER m 0 * :m"))[0] == "001"


def test_a_server_password_or_an_account_is_needed() -> None:
    door = Door(password="sesame", accounts={"ayşe": "kendi"})
    none = door.connect()
    replies = none.send("NICK x", "USER a 0 * :a")
    assert commands(replies) == ["464", "ERROR"]
    assert "needs a password" in replies[0].params[-1]
    owner = door.connect()
    assert commands(owner.send("PASS ayşe:kendi", "NICK ayşe", "USER a 0 * :a"))[:2] == [
        "900",
        "001",
    ]
    other = door.connect()
    assert commands(other.send("PASS sesame", "NICK bob", "USER b 0 * :b"))[0] == "001"
    # The password check happens once: a second PASS is no second guess.
    assert [name for name, _ in door.hub.calls].count("check_password") == 2


def test_sasl_plain() -> None:
    door = Door(accounts={"ayşe": "sesame"})
    client = with_sasl(door.connect())
    assert commands(client.send("AUTHENTICATE PLAIN")) == ["904"]  # the cap first
    client.send("CAP LS 302", "CAP REQ :sasl", "NICK ayşe", "USER a 0 * :a")
    mechs = client.send("AUTHENTICATE EXTERNAL")
    assert commands(mechs) == ["908", "904"] and mechs[0].params[1] == "PLAIN"
    assert client.lines("AUTHENTICATE PLAIN") == ["AUTHENTICATE +"]
    assert commands(client.send(f"AUTHENTICATE {plain('ayşe', 'wrong')}")) == ["904"]
    client.send("AUTHENTICATE PLAIN")
    assert commands(client.send("AUTHENTICATE *")) == ["906"]
    client.send("AUTHENTICATE PLAIN")
    assert commands(client.send(f"AUTHENTICATE {plain('ayşe', 'sesame', 'bob')}")) == ["904"]
    client.send("AUTHENTICATE PLAIN")
    done = client.send(f"AUTHENTICATE {plain('ayşe', 'sesame')}")
    assert commands(done) == ["900", "903"]
    assert commands(client.send("AUTHENTICATE PLAIN")) == ["907"]
    assert commands(client.send("CAP END"))[0] == "001"


def test_sasl_payloads_come_in_chunks_of_400_and_are_bounded() -> None:
    door = Door(accounts={"ayşe": "s" * 293})
    client = with_sasl(door.connect())
    client.send("CAP REQ :sasl")
    client.send("AUTHENTICATE PLAIN")
    payload = plain("ayşe", "s" * 293)  # 400 characters exactly: "+" ends it
    assert len(payload) == 400
    assert client.send(f"AUTHENTICATE {payload}") == []
    assert commands(client.send("AUTHENTICATE +")) == ["900", "903"]
    other = with_sasl(door.connect())
    other.send("CAP REQ :sasl", "AUTHENTICATE PLAIN")
    for _ in range(4):
        assert other.send("AUTHENTICATE " + "A" * 400) == []
    assert commands(other.send("AUTHENTICATE " + "A" * 400)) == ["905"]


def test_sasl_is_refused_where_a_password_would_cross_in_clear() -> None:
    door = Door(accounts={"ayşe": "sesame"}, private=False)
    client = with_sasl(door.connect())
    client.send("CAP REQ :sasl")
    refused = client.send("AUTHENTICATE PLAIN")
    assert commands(refused) == ["904"] and "TLS" in refused[0].params[-1]


@given(st.binary(max_size=64))
def test_any_payload_is_read_or_refused_never_raises(raw: bytes) -> None:
    found = _plain(base64.b64encode(raw).decode())
    if found is not None:
        account, password = found
        assert account and password and "\0" not in account + password


def test_kline_and_unkline_are_for_operators() -> None:
    door = Door(opers={"root": "kök"})
    client = door.user("root")
    assert commands(client.send("KLINE *!*@203.0.113.0/24 :spam")) == ["481"]
    client.send("OPER root kök")
    notice = client.send("KLINE 3600 *!*@203.0.113.0/24 :spam")  # a duration is not kept
    assert commands(notice) == ["NOTICE"]
    assert door.hub.server_bans == ["*!*@203.0.113.0/24"]
    assert commands(client.send("UNKLINE *!*@203.0.113.0/24")) == ["NOTICE"]
    assert commands(client.send("UNKLINE *!*@203.0.113.0/24")) == ["FAIL"]
