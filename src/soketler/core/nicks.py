"""Who holds which nickname: one registry for every door (a nickname taken through
any door is taken for all)."""

from __future__ import annotations

from soketler.core.session import Session
from soketler.protocols import codes, names


class Nicks:
    def __init__(self) -> None:
        self.by_key: dict[str, Session] = {}

    def get(self, nick: str) -> Session | None:
        """The session holding a nickname (as typed: normalized and folded here)."""
        return self.by_key.get(names.key(names.normalize(nick)))

    def problem(self, session: Session, nick: str) -> tuple[str, str] | None:
        """Why `session` cannot take `nick` (already normalized): (code, detail)."""
        problem = names.nick_problem(nick)
        if problem is not None:
            return codes.NICK_INVALID, problem
        holder = self.by_key.get(names.key(nick))
        if holder is not None and holder is not session:
            return codes.NICK_TAKEN, ""
        return None

    def take(self, session: Session, nick: str) -> None:
        """Gives `session` the nickname, releasing the one it had."""
        if session.key and self.by_key.get(session.key) is session:
            del self.by_key[session.key]
        session.nick = nick
        session.key = names.key(nick)
        self.by_key[session.key] = session

    def release(self, session: Session) -> None:
        if session.key and self.by_key.get(session.key) is session:
            del self.by_key[session.key]

    def clear(self) -> None:
        self.by_key.clear()

    def __len__(self) -> int:
        return len(self.by_key)
