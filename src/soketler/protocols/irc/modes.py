"""Reading MODE strings: `+o-v alice bob`, `+kl secret 10`, `-i`, `+b` (list).

Which modes take a parameter is what the server advertises in ISUPPORT: CHANMODES
gives four groups (A: lists, always a parameter, none to ask for the list; B: always a
parameter; C: a parameter only when set; D: never), PREFIX the member statuses, which
always take a nickname. The same table is used here to read, and by the door to
advertise, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from soketler.protocols.events import RoomChange, RoomSetting


@dataclass(frozen=True, slots=True)
class ChannelModeTable:
    lists: str = "bq"  # group A (q: muted, as charybdis and its kin say "quiet")
    always: str = "k"  # group B
    when_set: str = "l"  # group C
    flags: str = "imnst"  # group D
    prefixes: str = "ov"  # PREFIX modes, highest first
    symbols: str = "@+"  # their symbols, same order

    def chanmodes(self) -> str:
        """The CHANMODES ISUPPORT value."""
        return ",".join((self.lists, self.always, self.when_set, self.flags))

    def prefix(self) -> str:
        """The PREFIX ISUPPORT value, e.g. (ov)@+."""
        return f"({self.prefixes}){self.symbols}"

    def with_parameter(self) -> str:
        """Modes that take a parameter, for RPL_MYINFO (004)."""
        return self.lists + self.always + self.when_set + self.prefixes


DEFAULT_CHANNEL_MODES = ChannelModeTable()
USER_MODES = "iBo"  # invisible, bot, operator

# Mode letters of rooms as the neutral settings the hub knows.
ROOM_SETTINGS: dict[str, RoomSetting] = {
    "t": RoomSetting.TOPIC_LOCK,
    "n": RoomSetting.NO_OUTSIDE,
    "m": RoomSetting.MODERATED,
    "i": RoomSetting.INVITE_ONLY,
    "s": RoomSetting.SECRET,
    "k": RoomSetting.KEY,
    "l": RoomSetting.LIMIT,
    "b": RoomSetting.BAN,
    "q": RoomSetting.MUTE,
    "o": RoomSetting.OPERATOR,
    "v": RoomSetting.VOICE,
}
ROOM_LETTERS = {setting: letter for letter, setting in ROOM_SETTINGS.items()}


@dataclass(frozen=True, slots=True)
class ModeChange:
    adding: bool
    mode: str
    arg: str | None = None  # None for a list mode: the client asks to see the list

    def __str__(self) -> str:
        return ("+" if self.adding else "-") + self.mode


@dataclass(frozen=True, slots=True)
class ParsedModes:
    changes: tuple[ModeChange, ...]
    unknown: tuple[str, ...]  # mode letters we do not know, in order
    missing: tuple[str, ...] = ()  # modes that needed a parameter and got none


def parse_channel_modes(
    modestring: str, args: Sequence[str], table: ChannelModeTable = DEFAULT_CHANNEL_MODES
) -> ParsedModes:
    changes: list[ModeChange] = []
    unknown: list[str] = []
    missing: list[str] = []
    pending = list(args)
    adding = True
    for char in modestring:
        if char in "+-":
            adding = char == "+"
        elif char in table.lists:
            changes.append(ModeChange(adding, char, pending.pop(0) if pending else None))
        elif char in table.always or char in table.prefixes:
            if pending:
                changes.append(ModeChange(adding, char, pending.pop(0)))
            elif char in table.always and not adding:
                # "-k" without the key: the key is not needed to remove it.
                changes.append(ModeChange(adding, char, None))
            else:
                missing.append(char)
        elif char in table.when_set:
            if not adding:
                changes.append(ModeChange(adding, char))
            elif pending:
                changes.append(ModeChange(adding, char, pending.pop(0)))
            else:
                missing.append(char)
        elif char in table.flags:
            changes.append(ModeChange(adding, char))
        else:
            unknown.append(char)
    return ParsedModes(tuple(changes), tuple(unknown), tuple(missing))


def parse_user_modes(modestring: str, known: str = USER_MODES) -> ParsedModes:
    changes: list[ModeChange] = []
    unknown: list[str] = []
    adding = True
    for char in modestring:
        if char in "+-":
            adding = char == "+"
        elif char in known:
            changes.append(ModeChange(adding, char))
        else:
            unknown.append(char)
    return ParsedModes(tuple(changes), tuple(unknown))


def format_changes(changes: Sequence[ModeChange]) -> tuple[str, ...]:
    """A MODE line's parameters for applied changes: `+o-v alice bob`."""
    letters: list[str] = []
    args: list[str] = []
    sign = ""
    for change in changes:
        wanted = "+" if change.adding else "-"
        if wanted != sign:
            letters.append(wanted)
            sign = wanted
        letters.append(change.mode)
        if change.arg is not None:
            args.append(change.arg)
    return ("".join(letters), *args) if letters else ()


def room_change_params(changes: Sequence[RoomChange]) -> tuple[str, ...]:
    """A MODE line's parameters for changes the hub applied to a room."""
    return format_changes(
        [ModeChange(change.on, ROOM_LETTERS[change.setting], change.value) for change in changes]
    )
