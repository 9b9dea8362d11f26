"""WHO, WHOIS, WHOWAS, ISON, USERHOST, AWAY, LUSERS, MOTD, VERSION, TIME."""

from __future__ import annotations

from tests.doors.irc.door import SERVER, Door, commands
from tests.doors.irc.fakehub import FIXED


def test_who_a_room_with_flags() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #w", "AWAY :gone")
    bot = door.user("bot")
    bot.send("MODE bot +B", "JOIN #w")
    asker = door.user("asker")
    assert asker.lines("WHO #w") == [
        f":{SERVER} 352 asker #w op 127.0.0.1 {SERVER} op G@ :0 op real",
        f":{SERVER} 352 asker #w bot 127.0.0.1 {SERVER} bot HB :0 bot real",
        f":{SERVER} 315 asker #w :End of WHO list",
    ]


def test_who_a_nick_and_nobody() -> None:
    door = Door()
    door.user("ayşe")
    asker = door.user("asker")
    assert asker.lines("WHO AYŞE") == [
        f":{SERVER} 352 asker * ayşe 127.0.0.1 {SERVER} ayşe H :0 ayşe real",
        f":{SERVER} 315 asker AYŞE :End of WHO list",
    ]
    assert asker.lines("WHO ghost") == [f":{SERVER} 315 asker ghost :End of WHO list"]


def test_who_a_mask_looks_through_the_people_one_shares_a_room_with() -> None:
    door = Door()
    ayse = door.user("ayşe")
    door.user("aylin")  # in no room with the asker: a mask does not find her
    asker = door.user("asker")
    assert commands(asker.send("WHO ay*")) == ["315"]
    ayse.send("JOIN #r")
    asker.send("JOIN #r")
    assert asker.lines("WHO AY*") == [
        f":{SERVER} 352 asker * ayşe 127.0.0.1 {SERVER} ayşe H :0 ayşe real",
        f":{SERVER} 315 asker AY* :End of WHO list",
    ]
    assert commands(asker.send("WHO")) == ["352", "352", "315"]  # no mask: "*"


def test_whois() -> None:
    door = Door(opers={"root": "pw"})
    target = door.user("target")
    target.send("JOIN #a", "AWAY :afk", "MODE target +B", "OPER root pw")
    asker = door.user("asker")
    replies = asker.send("WHOIS target")
    assert commands(replies) == ["311", "319", "312", "301", "313", "335", "317", "318"]
    assert replies[0].params == ("asker", "target", "target", "127.0.0.1", "*", "target real")
    assert replies[1].params == ("asker", "target", "@#a")
    assert replies[5].params[:2] == ("asker", "target")
    assert replies[6].params[2:4] == ("12", str(int(FIXED.timestamp())))
    assert commands(asker.send("WHOIS irc.test target")) == commands(replies)
    assert asker.lines("WHOIS ghost") == [
        f":{SERVER} 401 asker ghost :No such nick/channel",
        f":{SERVER} 318 asker ghost :End of /WHOIS list",
    ]


def test_whowas_after_a_nick_change() -> None:
    door = Door()
    old = door.user("old")
    old.send("NICK new")
    asker = door.user("asker")
    replies = asker.send("WHOWAS old")
    assert commands(replies) == ["314", "312", "369"]
    assert replies[0].params == ("asker", "old", "old", "127.0.0.1", "*", "old real")
    assert asker.lines("WHOWAS never") == [
        f":{SERVER} 406 asker never :There was no such nickname",
        f":{SERVER} 369 asker never :End of WHOWAS",
    ]


def test_ison_and_userhost() -> None:
    door = Door()
    door.user("Ayşe").send("AWAY :out")
    door.user("bob")
    asker = door.user("asker")
    assert asker.lines("ISON ayşe ghost BOB") == [f":{SERVER} 303 asker :Ayşe bob"]
    assert asker.lines("ISON :ayşe bob") == [f":{SERVER} 303 asker :Ayşe bob"]
    assert asker.lines("USERHOST ayşe bob ghost") == [
        f":{SERVER} 302 asker :Ayşe=-Ayşe@127.0.0.1 bob=+bob@127.0.0.1"
    ]


def test_away() -> None:
    door = Door()
    bob = door.user("bob")
    assert bob.lines("AWAY :lunch") == [f":{SERVER} 306 bob :You have been marked as being away"]
    assert bob.session.away == "lunch"
    assert bob.lines("AWAY") == [f":{SERVER} 305 bob :You are no longer marked as being away"]
    assert bob.session.away is None


def test_lusers_counts() -> None:
    door = Door()
    door.user("a").send("MODE a +i")
    door.user("b")
    door.connect()  # not registered
    asker = door.user("asker")
    asker.send("JOIN #x")
    replies = {m.command: m.params for m in asker.send("LUSERS")}
    assert replies["251"] == ("asker", "There are 2 users and 1 invisible on 1 servers")
    assert replies["253"][1] == "1"
    assert replies["254"][1] == "1"
    assert replies["265"][1:3] == ("3", "3")
    assert replies["255"] == ("asker", "I have 3 clients and 0 servers")


def test_info_lines_then_the_end() -> None:
    replies = Door().user("bob").send("INFO")
    assert commands(replies) == ["371", "371", "374"]
    assert replies[0].params[1].startswith("soketler-")
    assert replies[-1].params == ("bob", "End of INFO list")


def test_motd_version_time() -> None:
    door = Door(motd=("hello",))
    bob = door.user("bob")
    assert commands(bob.send("MOTD")) == ["375", "372", "376"]
    version = bob.send("VERSION")
    assert version[0].command == "351" and version[0].params[2] == SERVER
    assert set(commands(version[1:])) == {"005"}
    (time,) = bob.send("TIME")
    assert time.command == "391" and time.params[1] == SERVER
