"""What the IRC door says about the server: names, limits, MOTD, ISUPPORT."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from soketler import __version__
from soketler.protocols import names
from soketler.protocols.irc.caps import CHATHISTORY, DEFAULT_CAPS
from soketler.protocols.irc.casemap import CASEMAPPING
from soketler.protocols.irc.modes import DEFAULT_CHANNEL_MODES, USER_MODES, ChannelModeTable
from soketler.protocols.irc.registration import USERLEN

DEFAULT_NETWORK = "soketler"
BOT_MODE = "B"


@dataclass(frozen=True, slots=True)
class IrcLimits:
    nicklen: int = names.MAX_NICK
    channellen: int = names.MAX_ROOM
    topiclen: int = 390
    kicklen: int = 390
    awaylen: int = 390
    hostlen: int = 64
    max_targets: int = 4  # PRIVMSG/NOTICE/TAGMSG targets in one command
    max_rooms: int = 50  # rooms one person may be in (CHANLIMIT; the hub enforces it)
    max_bans: int = 100  # bans in one room (MAXLIST)
    modes: int = 4  # mode changes with a parameter in one MODE command
    chathistory: int = 100  # messages in one CHATHISTORY reply
    whowas: int = 10  # WHOWAS entries when no count is given
    who_replies: int = 500  # people one WHO with a mask lists


@dataclass(frozen=True, slots=True)
class ServerInfo:
    name: str
    network: str = DEFAULT_NETWORK
    version: str = f"soketler-{__version__}"
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    motd: tuple[str, ...] = ()
    password: str | None = None  # the PASS a client must give; None: none needed
    limits: IrcLimits = field(default_factory=IrcLimits)
    channel_modes: ChannelModeTable = DEFAULT_CHANNEL_MODES
    caps: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_CAPS))

    def user_modes(self) -> str:
        return "".join(sorted(USER_MODES))

    def channel_mode_letters(self) -> str:
        table = self.channel_modes
        return "".join(
            sorted(table.lists + table.always + table.when_set + table.flags + table.prefixes)
        )

    def isupport(self) -> dict[str, str | None]:
        """The ISUPPORT tokens, in the order they are sent."""
        limits = self.limits
        tokens: dict[str, str | None] = {
            "AWAYLEN": str(limits.awaylen),
            "BOT": BOT_MODE,
            "CASEMAPPING": CASEMAPPING,
            "CHANLIMIT": f"#:{limits.max_rooms}",
            "CHANMODES": self.channel_modes.chanmodes(),
            "CHANNELLEN": str(limits.channellen),
            "CHANTYPES": "#",
        }
        if CHATHISTORY in self.caps:
            tokens["CHATHISTORY"] = str(limits.chathistory)
        tokens |= {
            "HOSTLEN": str(limits.hostlen),
            "KICKLEN": str(limits.kicklen),
            "MAXLIST": f"bq:{limits.max_bans}",
            "MAXTARGETS": str(limits.max_targets),
            "MODES": str(limits.modes),
        }
        if CHATHISTORY in self.caps:
            # The history stores page by message id (LATEST, and BEFORE an id).
            tokens["MSGREFTYPES"] = "msgid"
        targets = limits.max_targets
        tokens |= {
            "NETWORK": self.network,
            "NICKLEN": str(limits.nicklen),
            "PREFIX": self.channel_modes.prefix(),
            "TARGMAX": (
                f"JOIN:,PART:,KICK:,NAMES:1,LIST:,WHOIS:1,ISON:,USERHOST:5,"
                f"PRIVMSG:{targets},NOTICE:{targets},TAGMSG:{targets}"
            ),
            "TOPICLEN": str(limits.topiclen),
            "USERLEN": str(USERLEN),
            "UTF8ONLY": None,
        }
        return tokens
