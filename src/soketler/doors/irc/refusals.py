"""A hub `Refusal` as the IRC reply a client expects (protocols/irc/errors.py)."""

from __future__ import annotations

from soketler.doors.irc.context import Context
from soketler.doors.irc.hubapi import Refusal
from soketler.protocols.irc.errors import error_messages


def render(ctx: Context, refusal: Refusal, command: str, room: str = "") -> None:
    ctx.out += error_messages(
        ctx.server.name,
        ctx.client.nick,
        refusal.code,
        refusal.subject,
        refusal.detail or room,
        command,
    )
