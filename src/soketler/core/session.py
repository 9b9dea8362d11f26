"""A connected client as the chat core sees it, whatever door it came through, and the
rooms it can be in."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Protocol

from soketler.core.answers import Ban
from soketler.protocols.events import Codec, RoomSetting
from soketler.protocols.plain import PLAIN


class Peer(Protocol):
    """What the core needs of a transport: the only way it reaches a client.

    `write` only queues bytes (it never blocks and never calls back into the core);
    `close` sends what was queued, then closes; the reason is for the server's log.
    """

    def write(self, data: bytes) -> None: ...

    def close(self, reason: str) -> None: ...


# One empty set for every session: `frozenset()` makes a new one of 216 bytes each time,
# and most sessions never negotiate anything.
NO_CAPS: frozenset[str] = frozenset()


class SessionState(Enum):
    CONNECTING = "connecting"  # the transport is there; the door has not greeted yet
    REGISTERING = "registering"  # choosing a nickname (IRC: NICK, USER, CAP)
    REGISTERED = "registered"  # has a nickname; may chat
    CLOSING = "closing"  # ended: nothing more is delivered to it


class Session:
    """One client of any door. Hashed by identity: sessions are keys of rooms' member
    dicts. Thousands live at once, so only slots."""

    __slots__ = (
        "account",
        "address",
        "away",
        "caps",
        "codec",
        "current",
        "door",
        "door_state",
        "fingerprint",
        "flags",
        "host",
        "key",
        "last_activity",
        "nick",
        "nick_since",
        "peer",
        "realname",
        "rooms",
        "signon",
        "spoke",
        "state",
        "user",
    )

    def __init__(self, peer: Peer, address: str = "", door: str = "", codec: Codec = PLAIN) -> None:
        self.peer = peer
        self.address = address  # where it connects from ("" for a Unix socket)
        self.door = door  # the way in: "lines", "irc", "web", "ssh"
        self.codec = codec  # how this reader reads events; the door may change it
        self.state = SessionState.CONNECTING
        self.nick = ""  # empty until registered
        self.key = ""  # the nickname's identity (names.key)
        self.nick_since = 0  # the first message id said while it held this nickname
        self.user = ""  # IRC's user name (ident); the nickname by default
        # The host others see in nick!user@host. An IPv6 address starting with ':' is
        # written with a leading 0 (::1 is 0::1), as IRC servers do: a word starting
        # with ':' would end an IRC line's parameters.
        self.host = ("0" + address if address.startswith(":") else address) or "localhost"
        self.realname = ""
        self.account: str | None = None  # the account it logged in to, if any
        # The SSH key it logged in with (SHA256:...): the owner of the nicknames the key
        # claimed (core/owners.py). None for every other way in.
        self.fingerprint: str | None = None
        self.caps = NO_CAPS  # capabilities its door negotiated
        self.away: str | None = None
        self.last_activity = 0.0  # loop time of its last line (the door's pump sets it)
        self.signon = 0.0  # when it registered, seconds since the epoch
        self.spoke: datetime | None = None  # when it last said something
        self.flags = 0  # INVISIBLE, BOT, OPERATOR, NO_ECHO
        # What its door keeps about it (IRC: registration and capabilities). The hub
        # never looks inside.
        self.door_state: object = None
        self.rooms: dict[str, Room] = {}  # by room key, in the order joined
        # The room a reader of a door with a "current room" (the plain door) looks
        # at: lines about other rooms name their room. None for doors without one.
        self.current: Room | None = None

    @property
    def registered(self) -> bool:
        return self.state is SessionState.REGISTERED

    @property
    def closed(self) -> bool:
        return self.state is SessionState.CLOSING

    @property
    def secure(self) -> bool:
        """Its connection is encrypted (TLS, HTTPS, SSH). A flag, not a slot: thousands
        of idle sessions each keep one machine word less."""
        return bool(self.flags & SECURE)

    @secure.setter
    def secure(self, on: bool) -> None:
        self.set_flag(SECURE, on)

    def has(self, flag: int) -> bool:
        return bool(self.flags & flag)

    def set_flag(self, flag: int, on: bool) -> bool:
        """Turns a flag on or off; whether that changed anything."""
        before = self.flags
        self.flags = before | flag if on else before & ~flag
        return self.flags != before

    @property
    def echo(self) -> bool:
        """Whether it gets its own room and private messages back (plain users see what
        they said in the room's order; IRC clients only with echo-message)."""
        return not self.flags & NO_ECHO

    def __repr__(self) -> str:
        return f"<Session {self.nick or '(unregistered)'} {self.door} {self.address}>"


# Session flags.
INVISIBLE = 1  # counted apart in the server's figures
BOT = 2  # says it is a bot
SERVER_OPERATOR = 4  # may end others' sessions
NO_ECHO = 8  # does not want its own messages back
PASSWORD_GIVEN = 16  # gave the server password (or logged in to an account)
SECURE = 32  # on an encrypted connection
# A user of another node (cluster mode): a member of rooms and a name in lists, known
# from the other node's events; nothing is ever written to it.
REMOTE = 64


class _Nowhere:
    """The peer of a remote user: what is written to it goes nowhere (its own node
    writes to it)."""

    __slots__ = ()

    def write(self, data: bytes) -> None:
        return

    def close(self, reason: str) -> None:
        return


NOWHERE = _Nowhere()

# A member's status in a room; a member may hold both, highest first ("@+").
OPERATOR = "@"
VOICE = "+"
STATUS_ORDER = OPERATOR + VOICE


class Room:
    __slots__ = (
        "_audience",
        "_remote",
        "bans",
        "created",
        "invited",
        "key",
        "limit",
        "members",
        "mutes",
        "name",
        "password",
        "settings",
        "topic",
        "topic_by",
        "topic_time",
    )

    def __init__(self, name: str, key: str, created: float = 0.0) -> None:
        self.name = name
        self.key = key
        self.topic = ""
        self.topic_by: str | None = None
        self.topic_time: float = 0.0  # seconds since the epoch; 0 when never set
        # A dict as an ordered set: members in the order they joined, O(1) removal,
        # each with its status (OPERATOR, VOICE or ""). Change it only with add/remove,
        # which keep `audience` true.
        self.members: dict[Session, str] = {}
        self._audience: tuple[Session, ...] | None = None
        self._remote = 0  # members who are users of other nodes (cluster mode)
        self.created = created  # seconds since the epoch
        # What its operators set (IRC's +t +n +m +i +s; +k and +l are `password` and
        # `limit`), the bans, and who is invited (nickname keys): the hub enforces them.
        self.settings: set[RoomSetting] = set()
        self.password = ""  # "": none
        self.limit = 0  # the most members; 0: no limit
        self.bans: list[Ban] = []
        self.mutes: list[Ban] = []  # who may be here but not speak
        self.invited: set[str] = set()

    def add(self, session: Session, status: str = "") -> None:
        if session.flags & REMOTE and session not in self.members:
            self._remote += 1
        self.members[session] = status
        self._audience = None

    def remove(self, session: Session) -> None:
        if self.members.pop(session, None) is not None and session.flags & REMOTE:
            self._remote -= 1
        self._audience = None

    def audience(self) -> tuple[Session, ...]:
        """Who is in the room now and reads through this server (users of other
        nodes are read to by their own), as one tuple shared until someone joins or
        leaves.

        Messages said between two changes get the same tuple, which is how the hub
        knows it may deliver them together (and a message costs no copy of the room).
        """
        if self._audience is None:
            if self._remote:
                self._audience = tuple(s for s in self.members if not s.flags & REMOTE)
            else:
                self._audience = tuple(self.members)
        return self._audience
