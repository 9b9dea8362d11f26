"""OPER and KILL."""

from __future__ import annotations

from tests.doors.irc.door import SERVER, Door, commands


def test_oper() -> None:
    door = Door(opers={"root": "pw"})
    bob = door.user("bob")
    assert bob.lines("OPER nobody pw") == [f":{SERVER} 491 bob :No O-lines for your host"]
    assert bob.lines("OPER root wrong") == [f":{SERVER} 464 bob :Password incorrect"]
    assert not bob.state.operator
    assert bob.lines("OPER root pw") == [
        f":{SERVER} 381 bob :You are now an IRC operator",
        ":bob!bob@127.0.0.1 MODE bob :+o",
    ]
    assert bob.state.operator


def test_kill() -> None:
    door = Door(opers={"root": "pw"})
    victim = door.user("victim")
    bob = door.user("bob")
    bob.send("OPER root pw")
    assert commands(bob.send("KILL ghost :x")) == ["401"]
    assert bob.send("KILL victim :spam") == []
    assert victim.session.closed == "Killed (bob (spam))"
