"""Any line a client sends, in any order, is answered without an exception: the door
on the real hub, no sockets. (Over a socket the pump would catch a bug and answer
`internal-error`; here a bug surfaces as the failure it is.)"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soketler.core.hub import Hub
from soketler.core.session import Session
from soketler.doors.irc import door
from soketler.doors.irc.commands import COMMANDS
from soketler.protocols.irc.receiver import IrcReceiver, Received
from tests.core.fakes import FakePeer, fixed_clock

# Words that mean something to the door, mixed with anything at all.
SPECIAL = st.sampled_from(
    [
        "#lobby", "#r", "#", "0", "*", "ay*", "bob", "ayse", ":", "::", ",", "#a,#b",
        "+o", "-o", "+ovk", "+b", "-b", "+l", "+k", "+imnst", "-k", "+B", "+i", "-o+v",
        "LS", "302", "REQ", "END", "LIST", "LATEST", "BEFORE", "msgid=1", "msgid=x",
        "multi-prefix server-time", "\x01ACTION x\x01", "", "a b", "#x y", "@", "!",
    ]
)  # fmt: skip
WORD = st.one_of(SPECIAL, st.text(st.characters(exclude_characters="\r\n\x00 "), max_size=12))
COMMAND = st.one_of(st.sampled_from(sorted(COMMANDS)), st.text(max_size=6))


@st.composite
def irc_lines(draw: st.DrawFn) -> str:
    command = draw(COMMAND).replace("\r", "").replace("\n", "").replace("\x00", "")
    middle = draw(st.lists(WORD, max_size=5))
    line = " ".join([command, *[w for w in middle if w]])
    if draw(st.booleans()):
        line += " :" + draw(WORD)
    if draw(st.booleans()):
        line = "@+typing=active;+draft/reply=1 " + line
    return line


def client(hub: Hub, nick: str) -> tuple[Session, IrcReceiver]:
    session = door.open_session(hub, FakePeer(), "127.0.0.1")
    receiver = IrcReceiver()
    feed(hub, session, receiver, [f"NICK {nick}", f"USER {nick} 0 * :{nick}", "JOIN #lobby"])
    assert session.registered
    return session, receiver


def feed(hub: Hub, session: Session, receiver: IrcReceiver, lines: list[str]) -> None:
    receiver.receive_data("".join(line + "\r\n" for line in lines).encode("utf-8", "replace"))
    for event in receiver.events_received():
        door.handle(hub, session, event)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(irc_lines(), min_size=1, max_size=25), st.lists(irc_lines(), max_size=10))
def test_no_line_makes_the_door_raise(mine: list[str], theirs: list[str]) -> None:
    hub = Hub("irc.test", clock=fixed_clock)
    ayse, ayse_in = client(hub, "ayse")
    bob, bob_in = client(hub, "bob")
    feed(hub, ayse, ayse_in, mine)
    feed(hub, bob, bob_in, theirs)
    # The hub is still whole: whoever is still there can talk in #lobby.
    for session in hub.sessions:
        assert session.registered or not session.nick
    fresh, fresh_in = client(hub, "canary")
    feed(hub, fresh, fresh_in, ["PRIVMSG #lobby :still here"])
    peer = fresh.peer
    assert isinstance(peer, FakePeer) and b"ERROR" not in peer.data


def test_what_the_door_writes_reads_back_as_irc() -> None:
    hub = Hub("irc.test", clock=fixed_clock)
    ayse, ayse_in = client(hub, "ayse")
    feed(hub, ayse, ayse_in, ["MODE #lobby +k :a b", "NAMES :#a b", "KICK #lobby :x y"])
    peer = ayse.peer
    assert isinstance(peer, FakePeer)
    receiver = IrcReceiver(max_line_content=1 << 16)
    receiver.receive_data(bytes(peer.data))
    events = receiver.events_received()
    assert events and all(isinstance(event, Received) for event in events)
