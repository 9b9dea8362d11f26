"""MODE on rooms and on oneself."""

from __future__ import annotations

from soketler.doors.irc.hubapi import RoomChange, RoomSetting, UserFlag
from soketler.doors.irc.mode import ROOM_SETTINGS
from soketler.doors.irc.server_info import ServerInfo
from tests.doors.irc.door import SERVER, Door, commands


def test_every_advertised_room_mode_has_a_setting() -> None:
    assert set(ServerInfo("x").channel_mode_letters()) == set(ROOM_SETTINGS)


def test_room_modes_shown_with_creation_time() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m", "MODE #m +ntkl key 5")
    lines = op.lines("MODE #m")
    assert lines[0] == f":{SERVER} 324 op #m +ntkl key 5"
    assert lines[1].startswith(f":{SERVER} 329 op #m ")
    outsider = door.user("outsider")
    assert outsider.lines("MODE #m")[0] == f":{SERVER} 324 outsider #m +ntkl * 5"


def test_changes_go_to_the_hub_as_settings() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m")
    door.user("bob").send("JOIN #m")
    assert op.send("MODE #m +o-v+b bob bob bad@host") == []
    assert door.hub.calls[-1] == (
        "change_room",
        (
            "#m",
            (
                RoomChange(RoomSetting.OPERATOR, True, "bob"),
                RoomChange(RoomSetting.VOICE, False, "bob"),
                RoomChange(RoomSetting.BAN, True, "*!bad@host"),
            ),
        ),
    )


def test_refusals_and_unknown_letters() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m")
    bob = door.user("bob")
    bob.send("JOIN #m")
    assert bob.lines("MODE #m +m") == [f":{SERVER} 482 bob #m :You're not channel operator"]
    assert op.lines("MODE #m +zo ghost") == [
        f":{SERVER} 472 op z :is unknown mode char to me",
        f":{SERVER} 401 op ghost :No such nick/channel",
    ]
    door.user("away")
    assert op.lines("MODE #m +v away") == [f":{SERVER} 441 op away #m :They aren't on that channel"]
    assert commands(op.send("MODE #none +m")) == ["403"]
    op.send("MODE #m +k one")
    assert commands(op.send("MODE #m +k two")) == ["467"]


def test_bad_limit_is_ignored_and_bad_key_refused() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m")
    calls = len(door.hub.calls)
    assert op.send("MODE #m +l zero", "MODE #m +l 0") == []
    assert len(door.hub.calls) == calls
    assert commands(op.send("MODE #m +k a,b")) == ["525"]


def test_at_most_modes_changes_with_parameters() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m")
    for nick in "abcdef":
        door.user(nick).send("JOIN #m")
    op.send("MODE #m +vvvvvv a b c d e f")
    (name, (_room, changes)) = door.hub.calls[-1]
    assert name == "change_room" and len(changes) == 4


def test_ban_list() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #m", "MODE #m +b bad", "MODE #m +b *@evil.example")
    lines = op.lines("MODE #m +b")
    assert lines[0].startswith(f":{SERVER} 367 op #m bad!*@* op ")
    assert lines[1].startswith(f":{SERVER} 367 op #m *!*@evil.example op ")
    assert lines[2] == f":{SERVER} 368 op #m :End of channel ban list"


def test_user_modes() -> None:
    door = Door(opers={"root": "pw"})
    bob = door.user("bob")
    assert bob.lines("MODE bob") == [f":{SERVER} 221 bob +"]
    assert bob.lines("MODE bob +iB") == [":bob!bob@127.0.0.1 MODE bob :+iB"]
    assert bob.session.flags == {UserFlag.INVISIBLE, UserFlag.BOT}
    assert bob.send("MODE bob +i") == []  # nothing changed, nothing said
    assert bob.lines("MODE BOB") == [f":{SERVER} 221 bob +iB"]
    assert commands(bob.send("MODE bob +x")) == ["501"]
    assert bob.send("MODE bob +o") == []  # only OPER makes an operator
    door.user("alice")
    assert commands(bob.send("MODE alice +i")) == ["502"]
    assert commands(bob.send("MODE ghost +i")) == ["401"]
    bob.send("OPER root pw")
    assert bob.state.operator
    assert bob.lines("MODE bob -o") == [":bob!bob@127.0.0.1 MODE bob :-o"]
    assert not bob.state.operator
