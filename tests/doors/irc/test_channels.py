"""JOIN, PART, TOPIC, NAMES, LIST, KICK and INVITE against the fake hub."""

from __future__ import annotations

from soketler.doors.irc.hubapi import RoomSetting
from tests.doors.irc.door import SERVER, Door, commands


def test_join_asks_the_hub_and_answers_only_refusals() -> None:
    door = Door()
    bob = door.user("bob")
    assert bob.send("JOIN #lobby") == []
    assert door.hub.calls[-1] == ("join", ("#lobby", None))
    assert door.hub.events[-1] == ("join", ("#lobby", "bob"))


def test_join_several_with_keys_and_a_bad_name() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #a,#b")
    op.send("MODE #a +k secret", "MODE #b +k other")
    bob = door.user("bob")
    replies = bob.send("JOIN #a,inv@lid,#b secret,wrong")
    assert [m.to_line() for m in replies] == [
        f":{SERVER} 403 bob inv@lid :No such channel",
        f":{SERVER} 475 bob #b :Cannot join channel (+k)",
    ]
    assert ("join", ("#a", "secret")) in door.hub.calls
    assert ("join", ("#b", None)) in door.hub.calls  # keys go with names by position


def test_join_refusals_are_the_numerics_clients_know() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #inv,#full,#banned,#ok")
    op.send("MODE #inv +i", "MODE #full +l 1", "MODE #banned +b bob")
    bob = door.user("bob")
    assert commands(bob.send("JOIN #inv", "JOIN #full", "JOIN #banned")) == ["473", "471", "474"]
    assert commands(bob.send("JOIN #" + "x" * 60)) == ["476"]
    op.send("INVITE bob #inv")
    assert bob.send("JOIN #inv") == []


def test_join_zero_leaves_every_room() -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #a,#b")
    assert bob.send("JOIN 0") == []
    assert door.hub.rooms_of(bob.session) == ()
    assert ("part", ("#a", "")) in door.hub.calls and ("part", ("#b", "")) in door.hub.calls


def test_part() -> None:
    door = Door()
    bob = door.user("bob")
    alice = door.user("alice")
    alice.send("JOIN #here")
    assert bob.lines("PART #here,#nowhere :bye") == [
        f":{SERVER} 442 bob #here :You're not on that channel",
        f":{SERVER} 403 bob #nowhere :No such channel",
    ]
    assert alice.send("PART #here :bye") == []
    assert door.hub.events[-1] == ("part", ("#here", "alice", "bye"))


def test_topic_shown_and_set_and_locked() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #t")
    bob = door.user("bob")
    bob.send("JOIN #t")
    assert bob.lines("TOPIC #t") == [f":{SERVER} 331 bob #t :No topic is set"]
    assert bob.send("TOPIC #t :release day") == []
    lines = bob.lines("TOPIC #t")
    assert lines[0] == f":{SERVER} 332 bob #t :release day"
    assert lines[1].startswith(f":{SERVER} 333 bob #t bob ")
    op.send("MODE #t +t")
    assert bob.lines("TOPIC #t :mine") == [f":{SERVER} 482 bob #t :You're not channel operator"]
    assert commands(bob.send("TOPIC #none")) == ["403"]
    assert door.hub.rooms["#t"].topic == "release day"


def test_topic_is_cut_to_topiclen() -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #t", "TOPIC #t :" + "y" * 450)
    assert door.hub.rooms["#t"].topic == "y" * 390


def test_names_with_and_without_multi_prefix_and_userhost_in_names() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #n")
    voiced = door.user("v")
    voiced.send("JOIN #n")
    op.send("MODE #n +vo v v")
    plain = door.user("plain")
    assert plain.lines("NAMES #n") == [
        f":{SERVER} 353 plain = #n :@op @v",
        f":{SERVER} 366 plain #n :End of /NAMES list",
    ]
    rich = door.user("rich", "multi-prefix", "userhost-in-names")
    assert rich.lines("NAMES #n")[0] == f":{SERVER} 353 rich = #n :@op!op@127.0.0.1 @+v!v@127.0.0.1"
    assert plain.lines("NAMES #none") == [f":{SERVER} 366 plain #none :End of /NAMES list"]
    assert plain.lines("NAMES") == [f":{SERVER} 366 plain * :End of /NAMES list"]


def test_names_of_a_big_room_are_split_within_512_bytes() -> None:
    door = Door()
    people = [door.user(f"person{n:03}") for n in range(120)]
    for person in people:
        person.send("JOIN #big")
    replies = people[0].send("NAMES #big")
    assert commands(replies) == ["353"] * (len(replies) - 1) + ["366"]
    assert len(replies) > 3
    for reply in replies:
        assert len(reply.encode()) <= 512
    listed = " ".join(r.params[3] for r in replies[:-1]).split()
    assert [name.lstrip("@") for name in listed] == [f"person{n:03}" for n in range(120)]


def test_list() -> None:
    door = Door()
    bob = door.user("bob")
    bob.send("JOIN #a,#b", "TOPIC #a :about a")
    assert bob.lines("LIST") == [
        f":{SERVER} 321 bob Channel :Users  Name",
        f":{SERVER} 322 bob #a 1 :about a",
        f":{SERVER} 322 bob #b 1 :",
        f":{SERVER} 323 bob :End of /LIST",
    ]
    assert commands(bob.send("LIST #B")) == ["321", "322", "323"]


def test_kick() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #k")
    bob = door.user("bob")
    bob.send("JOIN #k")
    door.user("outsider")
    assert bob.lines("KICK #k op") == [f":{SERVER} 482 bob #k :You're not channel operator"]
    assert op.lines("KICK #k outsider,ghost :out") == [
        f":{SERVER} 441 op outsider #k :They aren't on that channel",
        f":{SERVER} 401 op ghost :No such nick/channel",
    ]
    assert op.send("KICK #k bob") == []
    # The reason defaults to the kicker's nickname.
    assert door.hub.events[-1] == ("kick", ("#k", "bob", "op"))


def test_kick_pairs_rooms_and_nicks() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #a,#b")
    for nick in ("x", "y"):
        door.user(nick).send("JOIN #a,#b")
    assert op.send("KICK #a,#b x,y :bye") == []
    assert door.hub.events[-2:] == [("kick", ("#a", "x", "bye")), ("kick", ("#b", "y", "bye"))]
    assert commands(op.send("KICK #a,#b x,y,z")) == ["461"]


def test_invite() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #i", "MODE #i +i")
    door.user("bob")
    member = door.user("member")
    assert op.lines("INVITE bob #i") == [f":{SERVER} 341 op bob #i"]
    assert door.hub.events[-1] == ("invite", ("op", "bob", "#i"))
    assert commands(op.send("INVITE ghost #i")) == ["401"]
    assert commands(member.send("INVITE bob #i")) == ["442"]
    op.send("INVITE member #i")
    member.send("JOIN #i")
    assert op.lines("INVITE member #i") == [f":{SERVER} 443 op member #i :is already on channel"]
    assert RoomSetting.INVITE_ONLY in door.hub.rooms["#i"].flags


def test_secret_rooms_are_marked_in_names_and_hidden_from_list_and_whois() -> None:
    door = Door()
    op = door.user("op")
    op.send("JOIN #hidden,#open", "MODE #hidden +s")
    assert op.lines("NAMES #hidden")[0] == f":{SERVER} 353 op @ #hidden :@op"
    outsider = door.user("outsider")
    assert [m.params[1] for m in outsider.send("LIST") if m.command == "322"] == ["#open"]
    assert [m.params for m in outsider.send("WHOIS op") if m.command == "319"] == [
        ("outsider", "op", "@#open")
    ]
    assert [m.params[1] for m in op.send("LIST") if m.command == "322"] == ["#hidden", "#open"]
