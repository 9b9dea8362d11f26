"""What the hub remembers about people beyond their sessions: who had which nickname
(WHOWAS), and the server's head counts, kept as counters so that no question walks
every user."""

from __future__ import annotations

from collections import deque
from datetime import datetime

from soketler.core.answers import PastUser
from soketler.core.session import INVISIBLE, SERVER_OPERATOR, Session
from soketler.protocols import names
from soketler.protocols.irc.masks import mask_matches

# Nicknames left (by renaming or quitting) that are remembered, newest first; the oldest
# is forgotten. Bounded, so that nick changes cannot make it grow.
MAX_PAST_USERS = 1000


class PastUsers:
    def __init__(self, size: int = MAX_PAST_USERS) -> None:
        self._entries: deque[tuple[str, PastUser]] = deque(maxlen=size)

    def remember(self, session: Session, when: datetime) -> None:
        entry = PastUser(session.nick, session.user, session.host, session.realname, when)
        self._entries.appendleft((session.key, entry))

    def find(self, nick: str, limit: int) -> tuple[PastUser, ...]:
        """The newest `limit` who had a nickname matching `nick` (which may hold `*` and
        `?`)."""
        found: list[PastUser] = []
        if "*" in nick or "?" in nick:
            for _, entry in self._entries:
                if mask_matches(nick, entry.nick, names.key):
                    found.append(entry)
                    if len(found) >= limit:
                        break
            return tuple(found)
        wanted = names.key(names.normalize(nick))
        for key, entry in self._entries:
            if key == wanted:
                found.append(entry)
                if len(found) >= limit:
                    break
        return tuple(found)


class Census:
    """Registered people who are invisible or server operators, and the most people
    registered at once."""

    def __init__(self) -> None:
        self.invisible = 0
        self.operators = 0
        self.most = 0

    def registered(self, count: int) -> None:
        self.most = max(self.most, count)

    def flag_changed(self, session: Session, flag: int, on: bool) -> None:
        """`flag` of a registered session was turned on or off."""
        step = 1 if on else -1
        if flag == INVISIBLE:
            self.invisible += step
        elif flag == SERVER_OPERATOR:
            self.operators += step

    def left(self, session: Session) -> None:
        """A registered session is gone."""
        if session.has(INVISIBLE):
            self.invisible -= 1
        if session.has(SERVER_OPERATOR):
            self.operators -= 1
