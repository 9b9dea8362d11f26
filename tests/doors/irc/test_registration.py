"""Registration through the IRC door: the welcome, CAP, PASS, nick refusals, QUIT."""

from __future__ import annotations

from soketler.protocols.irc.isupport import ISUPPORT_TEXT
from tests.doors.irc.door import SERVER, Door, commands

WELCOME = [
    "001",
    "002",
    "003",
    "004",
    "005",
    "005",
    "251",
    "252",
    "253",
    "254",
    "255",
    "265",
    "266",
]


def test_nick_and_user_get_the_whole_welcome_in_order() -> None:
    door = Door()
    replies = door.connect().send("NICK ayşe", "USER ayse 0 * :Ayşe Yılmaz")
    assert commands(replies) == [*WELCOME, "422"]
    assert replies[0].to_line() == (
        f":{SERVER} 001 ayşe :Welcome to the soketler IRC Network ayşe!ayse@127.0.0.1"
    )
    myinfo = replies[3]
    assert myinfo.params[:2] == ("ayşe", SERVER)
    assert myinfo.params[3:] == ("Bio", "biklmnoqstv", "bqklov")
    assert door.hub.calls[-1] == ("register", ("ayşe", "ayse", "Ayşe Yılmaz"))


def test_isupport_advertises_what_the_door_does() -> None:
    replies = Door().connect().send("NICK bob", "USER b 0 * :Bob")
    tokens: dict[str, str | None] = {}
    for message in replies:
        if message.command == "005":
            assert message.params[0] == "bob" and message.params[-1] == ISUPPORT_TEXT
            assert len(message.params) <= 15
            for token in message.params[1:-1]:
                name, _, value = token.partition("=")
                tokens[name] = value or None
    assert tokens["CASEMAPPING"] == "ascii"
    assert tokens["BOT"] == "B"
    assert tokens["PREFIX"] == "(ov)@+"
    assert tokens["CHANMODES"] == "bq,k,l,imnst"
    assert tokens["CHANTYPES"] == "#"
    assert tokens["NICKLEN"] == "30"
    assert tokens["NETWORK"] == "soketler"
    assert "UTF8ONLY" in tokens
    assert tokens["CHATHISTORY"] == "100"


def test_motd_lines_when_there_is_one() -> None:
    replies = Door(motd=("merhaba", "hello")).connect().send("NICK bob", "USER b 0 * :Bob")
    assert commands(replies)[-4:] == ["375", "372", "372", "376"]
    assert replies[-3].params == ("bob", "- merhaba")


def test_cap_negotiation_holds_the_welcome_until_cap_end() -> None:
    door = Door()
    client = door.connect()
    replies = client.send("CAP LS 302", "NICK foo", "USER foo foo foo :foo")
    assert commands(replies) == ["CAP"]
    assert replies[0].params[:2] == ("*", "LS")
    replies = client.send("CAP REQ :multi-prefix echo-message")
    assert [m.params for m in replies] == [("*", "ACK", "multi-prefix echo-message")]
    assert not any(name == "register" for name, _ in door.hub.calls)
    replies = client.send("CAP END")
    assert commands(replies)[0] == "001"
    # The session's capabilities are set before it exists for anyone else.
    caps_call = door.hub.calls.index(
        ("set_caps", (frozenset({"multi-prefix", "echo-message", "cap-notify"}),))
    )
    assert caps_call < [name for name, _ in door.hub.calls].index("register")


def test_a_taken_nick_is_refused_and_the_next_one_tried() -> None:
    door = Door()
    door.user("foo")
    client = door.connect()
    replies = client.send("NICK foo", "USER u 0 * :r")
    assert [m.to_line() for m in replies] == [f":{SERVER} 433 * foo :Nickname is already in use"]
    assert commands(client.send("NICK FOO")) == ["433"]  # the same person, ignoring case
    assert commands(client.send("NICK foo2"))[0] == "001"


def test_an_invalid_nick_is_refused_with_432() -> None:
    client = Door().connect()
    replies = client.send("NICK *", "USER u s e r")
    assert commands(replies) == ["432"]
    assert replies[0].params[:2] == ("*", "*")
    assert commands(client.send("NICK valid"))[0] == "001"


def test_a_wrong_password_closes_with_464_and_error() -> None:
    door = Door(password="sesame")
    client = door.connect()
    replies = client.send("PASS wrong", "NICK foo", "USER u 0 * :r", "JOIN #after")
    assert commands(replies) == ["464", "ERROR"]
    assert client.state.closing == "Password incorrect"
    assert not any(name in ("register", "join") for name, _ in door.hub.calls)
    ok = door.connect()
    assert commands(ok.send("PASS sesame", "NICK foo", "USER u 0 * :r"))[0] == "001"


def test_commands_before_registration() -> None:
    client = Door().connect()
    assert client.lines("JOIN #a") == [f":{SERVER} 451 * :You have not registered"]
    assert client.lines("PING tok") == [f":{SERVER} PONG {SERVER} :tok"]
    assert client.lines("FOO bar") == [f":{SERVER} 421 * FOO :Unknown command"]
    assert client.send("PONG x") == []


def test_after_registration_pass_and_user_are_refused_and_cap_still_works() -> None:
    door = Door()
    client = door.user("bob")
    assert commands(client.send("PASS x", "USER a b c :d")) == ["462", "462"]
    replies = client.send("CAP REQ :server-time", "CAP LIST")
    assert [m.params for m in replies] == [
        ("bob", "ACK", "server-time"),
        ("bob", "LIST", "server-time"),
    ]
    assert door.hub.calls[-1] == ("set_caps", (frozenset({"server-time"}),))
    assert client.send("CAP END") == []


def test_nick_changes_after_registration() -> None:
    door = Door()
    door.user("alice")
    bob = door.user("bob")
    assert bob.send("NICK bob") == []  # no change, no reply, nobody told
    assert ("rename", ("bob",)) not in door.hub.calls
    assert bob.lines("NICK Alice") == [f":{SERVER} 433 bob Alice :Nickname is already in use"]
    assert bob.send("NICK Bob") == []  # a change of case is a change
    assert door.hub.events[-1] == ("nick", ("bob", "Bob"))
    assert commands(bob.send("NICK")) == ["431"]


def test_quit_sends_error_and_stops_reading() -> None:
    door = Door()
    client = door.user("bob")
    replies = client.send("QUIT :see you", "PRIVMSG #a :never")
    assert [m.to_line() for m in replies] == ["ERROR :Closing Link: 127.0.0.1 (Quit: see you)"]
    assert client.state.closing == "Quit: see you"
    assert not any(name == "say" for name, _ in door.hub.calls)
    assert door.connect().send("QUIT")[0].params == ("Closing Link: 127.0.0.1 (Quit)",)
