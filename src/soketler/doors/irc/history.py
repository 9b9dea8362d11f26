"""CHATHISTORY (IRCv3 draft/chathistory): earlier messages of a room or a conversation.

The request is checked here; the page itself comes back from the hub as one event,
which the codec frames as a `chathistory` batch.
"""

from __future__ import annotations

from datetime import datetime

from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import HistoryQuery, HistorySelector, Refusal
from soketler.protocols import codes
from soketler.protocols.irc.message import Message

COMMAND = "CHATHISTORY"
INVALID_PARAMS = "INVALID_PARAMS"
INVALID_TARGET = "INVALID_TARGET"
MESSAGE_ERROR = "MESSAGE_ERROR"
INVALID_PARAMS_TEXT = "Invalid parameters"
INVALID_TARGET_TEXT = "Messages could not be retrieved"
UNLIMITED = "*"  # LATEST's "no bound"

# Parameters after the subcommand: the target, this many references, the limit.
_REFERENCES = {
    HistorySelector.LATEST: 1,
    HistorySelector.BEFORE: 1,
    HistorySelector.AFTER: 1,
    HistorySelector.AROUND: 1,
    HistorySelector.BETWEEN: 2,
}


def parse_reference(text: str) -> int | datetime | None:
    """`msgid=<id>` or `timestamp=<ISO 8601>`; None when it is neither."""
    kind, _, value = text.partition("=")
    if kind == "msgid" and value.isdigit():
        return int(value)
    if kind == "timestamp":
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        return moment if moment.tzinfo is not None else None
    return None


def chathistory(ctx: Context, message: Message) -> None:
    params = message.params
    subcommand = params[0].upper() if params[0].isascii() else params[0]
    try:
        selector = HistorySelector(subcommand.lower())
    except ValueError:
        ctx.fail(COMMAND, INVALID_PARAMS, subcommand, INVALID_PARAMS_TEXT)
        return
    count = _REFERENCES[selector]
    if len(params) != count + 3:
        ctx.fail(COMMAND, INVALID_PARAMS, subcommand, INVALID_PARAMS_TEXT)
        return
    target, raw_refs, raw_limit = params[1], params[2 : 2 + count], params[-1]
    refs: list[int | datetime | None] = []
    for raw in raw_refs:
        ref = (
            None
            if selector is HistorySelector.LATEST and raw == UNLIMITED
            else parse_reference(raw)
        )
        if ref is None and not (selector is HistorySelector.LATEST and raw == UNLIMITED):
            ctx.fail(COMMAND, INVALID_PARAMS, subcommand, raw, INVALID_PARAMS_TEXT)
            return
        refs.append(ref)
    if not raw_limit.isdigit() or int(raw_limit) < 1:
        ctx.fail(COMMAND, INVALID_PARAMS, subcommand, raw_limit, INVALID_PARAMS_TEXT)
        return
    limit = min(int(raw_limit), ctx.server.limits.chathistory)
    query = HistoryQuery(selector, limit, refs[0], refs[1] if count > 1 else None)
    refusal = ctx.hub.history(ctx.client.session, target, query)
    if isinstance(refusal, Refusal):
        if refusal.code == codes.BAD_REQUEST:  # a selector or bound the store cannot page by
            ctx.fail(COMMAND, INVALID_PARAMS, subcommand, INVALID_PARAMS_TEXT)
        else:
            ctx.fail(COMMAND, INVALID_TARGET, subcommand, target, INVALID_TARGET_TEXT)
