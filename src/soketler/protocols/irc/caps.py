"""IRCv3 capability negotiation: CAP LS, LIST, REQ, ACK, NAK and END.

Follows ircv3.net/specs/extensions/capability-negotiation. What matters to clients:
- `CAP LS` or `CAP REQ` before registration holds registration until `CAP END`;
- `CAP LS 302` (or higher) earns capability values and multi-line replies, and turns
  on cap-notify, which a 302 client cannot turn off again;
- a REQ is granted or refused as a whole, and the ACK or NAK repeats it exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from soketler.protocols.irc import numerics, texts
from soketler.protocols.irc.message import MAX_LINE_CONTENT, Message, pack_words

CAP_NOTIFY = "cap-notify"
SERVER_TIME = "server-time"
MESSAGE_TAGS = "message-tags"
ECHO_MESSAGE = "echo-message"
MULTI_PREFIX = "multi-prefix"
AWAY_NOTIFY = "away-notify"
BATCH = "batch"
CHATHISTORY = "draft/chathistory"
USERHOST_IN_NAMES = "userhost-in-names"

# Offered in this order; a value (after '=') is shown only to 302 clients.
DEFAULT_CAPS: Mapping[str, str] = {
    AWAY_NOTIFY: "",
    BATCH: "",
    CAP_NOTIFY: "",
    CHATHISTORY: "",
    ECHO_MESSAGE: "",
    MESSAGE_TAGS: "",
    MULTI_PREFIX: "",
    SERVER_TIME: "",
    USERHOST_IN_NAMES: "",
}

VERSION_302 = 302
_DEFAULT_VERSION = 301  # CAP LS without a version: the 3.1 rules


@dataclass(slots=True)
class CapOutcome:
    replies: list[Message] = field(default_factory=list)
    changed: bool = False  # the enabled set changed: the session's codec must follow
    ended: bool = False  # CAP END closed a negotiation: registration may go on


class CapNegotiation:
    """The capability state of one connection."""

    __slots__ = ("available", "enabled", "negotiating", "server", "version")

    def __init__(self, server: str, available: Mapping[str, str] = DEFAULT_CAPS) -> None:
        self.server = server
        self.available = available
        self.version = 0  # 0: the client never sent CAP LS
        self.negotiating = False
        self.enabled: set[str] = set()

    def handle(self, params: Sequence[str], client: str, registered: bool) -> CapOutcome:
        """Answer one CAP command. `client` is the nick, or '*' before registration."""
        out = CapOutcome()
        if not params:
            out.replies.append(
                Message(
                    numerics.ERR_NEEDMOREPARAMS,
                    (client, "CAP", texts.NEED_MORE_PARAMS),
                    self.server,
                    trailing=True,
                )
            )
            return out
        sub = params[0].upper() if params[0].isascii() else params[0]
        if sub == "LS":
            self._ls(params[1:], client, registered, out)
        elif sub == "LIST":
            out.replies += self._lines(client, "LIST", sorted(self.enabled))
        elif sub == "REQ":
            if not registered:
                self.negotiating = True
            self._req(params[1] if len(params) > 1 else "", client, out)
        elif sub == "END":
            if self.negotiating:
                self.negotiating = False
                out.ended = True
        else:
            out.replies.append(
                Message(
                    numerics.ERR_INVALIDCAPCMD,
                    (client, params[0], texts.INVALID_CAP_COMMAND),
                    self.server,
                    trailing=True,
                )
            )
        return out

    def _ls(self, args: Sequence[str], client: str, registered: bool, out: CapOutcome) -> None:
        version = int(args[0]) if args and args[0].isdigit() and len(args[0]) < 6 else 0
        self.version = max(self.version, version or _DEFAULT_VERSION)
        if not registered:
            self.negotiating = True
        if (
            self.version >= VERSION_302
            and CAP_NOTIFY in self.available
            and CAP_NOTIFY not in self.enabled
        ):
            self.enabled.add(CAP_NOTIFY)
            out.changed = True
        values = self.version >= VERSION_302
        words = [
            f"{name}={value}" if values and value else name
            for name, value in self.available.items()
        ]
        out.replies += self._lines(client, "LS", words)

    def _req(self, request: str, client: str, out: CapOutcome) -> None:
        wanted: list[tuple[str, bool]] = []
        acceptable = bool(request.strip())
        for word in request.split():
            name = word.removeprefix("-")
            adding = not word.startswith("-")
            if name not in self.available or (
                not adding and name == CAP_NOTIFY and self.version >= VERSION_302
            ):
                acceptable = False
                break
            wanted.append((name, adding))
        if not acceptable:
            out.replies.append(self._reply(client, "NAK", request))
            return
        before = set(self.enabled)
        for name, adding in wanted:
            if adding:
                self.enabled.add(name)
            else:
                self.enabled.discard(name)
        out.changed = self.enabled != before
        out.replies.append(self._reply(client, "ACK", request))

    def _reply(self, client: str, sub: str, text: str, *more: str) -> Message:
        return Message("CAP", (client, sub, *more, text), self.server, trailing=True)

    def _lines(self, client: str, sub: str, words: list[str]) -> list[Message]:
        """One reply, or for 302 clients as many lines as it takes ('*' on all but the last)."""
        if self.version < VERSION_302:
            return [self._reply(client, sub, " ".join(words))]
        overhead = len(f":{self.server} CAP {client} {sub} * :".encode())
        groups = pack_words(words, MAX_LINE_CONTENT - overhead) or [[]]
        last = len(groups) - 1
        return [
            self._reply(client, sub, " ".join(group), "*")
            if index < last
            else self._reply(client, sub, " ".join(group))
            for index, group in enumerate(groups)
        ]
