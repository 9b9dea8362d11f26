"""Connection registration: PASS, NICK, USER and CAP, no sockets."""

from __future__ import annotations

from soketler.protocols.irc.caps import CapNegotiation
from soketler.protocols.irc.message import Message, parse_message
from soketler.protocols.irc.registration import (
    BadPassword,
    Ready,
    Registration,
    clean_username,
)


def registration(password: str | None = None) -> Registration:
    return Registration("srv", CapNegotiation("srv"), password)


def send(reg: Registration, *lines: str) -> list[Message]:
    replies: list[Message] = []
    for line in lines:
        message = parse_message(line)
        assert message is not None
        replies += reg.receive(message)
    return replies


def test_nick_and_user_in_either_order() -> None:
    for lines in (("NICK ayşe", "USER a 0 * :Ayşe Y"), ("USER a 0 * :Ayşe Y", "NICK ayşe")):
        reg = registration()
        assert send(reg, lines[0]) == []
        assert reg.outcome() is None
        send(reg, lines[1])
        assert reg.outcome() == Ready("ayşe", "a", "Ayşe Y")


def test_cap_ls_holds_registration_until_cap_end() -> None:
    reg = registration()
    replies = send(reg, "CAP LS 302", "NICK foo", "USER foo foo foo :foo")
    assert [m.command for m in replies] == ["CAP"]
    assert reg.outcome() is None
    send(reg, "CAP REQ :multi-prefix", "CAP LS 302")
    assert reg.outcome() is None
    send(reg, "CAP END")
    assert reg.outcome() == Ready("foo", "foo", "foo")
    assert reg.caps.enabled == {"multi-prefix", "cap-notify"}


def test_cap_list_alone_does_not_hold_registration() -> None:
    reg = registration()
    send(reg, "CAP LIST", "NICK foo", "USER u s e :r")
    assert reg.outcome() == Ready("foo", "u", "r")


def test_user_needs_four_parameters_and_a_username_and_realname() -> None:
    for line in ("USER a b c", "USER a 0 * :", "USER :", "USER"):
        reg = registration()
        (reply,) = send(reg, "NICK foo", line)
        assert reply.command == "461"
        assert reply.params[:2] == ("*", "USER")
        assert reg.outcome() is None


def test_nick_without_a_name() -> None:
    reg = registration()
    for line in ("NICK", "NICK :"):
        (reply,) = send(reg, line)
        assert reply.command == "431" and reply.params[0] == "*"
    assert reg.nick is None


def test_a_refused_nick_waits_for_another() -> None:
    reg = registration()
    send(reg, "NICK taken", "USER u 0 * :r")
    assert reg.outcome() == Ready("taken", "u", "r")
    reg.refuse_nick()
    assert reg.outcome() is None
    send(reg, "NICK free")
    assert reg.outcome() == Ready("free", "u", "r")


def test_password() -> None:
    reg = registration("sesame")
    send(reg, "NICK foo", "USER u 0 * :r")
    assert reg.outcome() == BadPassword()  # none given
    reg = registration("sesame")
    send(reg, "PASS wrong", "NICK foo", "USER u 0 * :r")
    assert reg.outcome() == BadPassword()
    reg = registration("sesame")
    send(reg, "PASS sesame", "NICK foo", "USER u 0 * :r")
    assert reg.outcome() == Ready("foo", "u", "r")
    (reply,) = send(registration("x"), "PASS")
    assert reply.command == "461" and reply.params[1] == "PASS"


def test_a_password_sent_to_a_server_without_one_is_ignored() -> None:
    reg = registration()
    send(reg, "PASS whatever", "NICK foo", "USER u 0 * :r")
    assert reg.outcome() == Ready("foo", "u", "r")


def test_usernames_are_cleaned_for_nick_user_at_host() -> None:
    assert clean_username("ayse") == "ayse"
    assert clean_username("a@b!c") == "abc"
    assert clean_username("x" * 40) == "x" * 18
    assert clean_username("@@@") == "user"
    assert clean_username("😊" * 10) == "😊" * 10
