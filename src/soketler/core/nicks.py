"""Who holds which nickname: one registry for every door (a nickname taken through
any door is taken for all). A nickname is taken when one of the same identity is held
(case aside: `names.key`), or one that looks the same (core/lookalikes.py)."""

from __future__ import annotations

from soketler.core.lookalikes import looks
from soketler.core.session import Session
from soketler.protocols import codes, names


class Nicks:
    def __init__(self) -> None:
        self.by_key: dict[str, Session] = {}
        self.by_look: dict[str, Session] = {}

    def get(self, nick: str) -> Session | None:
        """The session holding a nickname (as typed: normalized and folded here)."""
        return self.by_key.get(names.key(names.normalize(nick)))

    def problem(self, session: Session, nick: str) -> tuple[str, str] | None:
        """Why `session` cannot take `nick` (already normalized): (code, detail)."""
        problem = names.nick_problem(nick)
        if problem is not None:
            return codes.NICK_INVALID, problem
        holders = [self.by_key.get(names.key(nick))]
        holders += [self.by_look.get(look) for look in looks(nick)]
        if any(holder is not None and holder is not session for holder in holders):
            return codes.NICK_TAKEN, ""
        return None

    def take(self, session: Session, nick: str) -> None:
        """Gives `session` the nickname, releasing the one it had."""
        self.release(session)
        session.nick = nick
        session.key = names.key(nick)
        self.by_key[session.key] = session
        for look in looks(nick):
            self.by_look[look] = session

    def release(self, session: Session) -> None:
        if session.key and self.by_key.get(session.key) is session:
            del self.by_key[session.key]
            for look in looks(session.nick):
                if self.by_look.get(look) is session:
                    del self.by_look[look]

    def clear(self) -> None:
        self.by_key.clear()
        self.by_look.clear()

    def __len__(self) -> int:
        return len(self.by_key)
