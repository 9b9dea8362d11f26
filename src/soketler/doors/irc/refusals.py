"""A hub `Refusal` as the IRC reply a client expects."""

from __future__ import annotations

from soketler.doors.irc import hubapi
from soketler.doors.irc.context import Context
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts

# Refusals answered `<numeric> <client> <subject> :<text>`.
_ABOUT_SUBJECT: dict[str, tuple[str, str]] = {
    hubapi.NICK_TAKEN: (n.ERR_NICKNAMEINUSE, texts.NICKNAME_IN_USE),
    hubapi.NICK_INVALID: (n.ERR_ERRONEUSNICKNAME, texts.ERRONEOUS_NICKNAME),
    hubapi.NO_SUCH_NICK: (n.ERR_NOSUCHNICK, texts.NO_SUCH_NICK),
    hubapi.NO_SUCH_ROOM: (n.ERR_NOSUCHCHANNEL, texts.NO_SUCH_CHANNEL),
    hubapi.NOT_IN_ROOM: (n.ERR_NOTONCHANNEL, texts.NOT_ON_CHANNEL),
    hubapi.ROOM_INVALID: (n.ERR_BADCHANMASK, texts.BAD_CHANNEL_MASK),
    hubapi.CANNOT_SEND: (n.ERR_CANNOTSENDTOCHAN, texts.CANNOT_SEND),
    hubapi.BAD_KEY: (n.ERR_BADCHANNELKEY, texts.BAD_CHANNEL_KEY),
    hubapi.INVITE_ONLY: (n.ERR_INVITEONLYCHAN, texts.INVITE_ONLY),
    hubapi.ROOM_FULL: (n.ERR_CHANNELISFULL, texts.CHANNEL_IS_FULL),
    hubapi.BANNED: (n.ERR_BANNEDFROMCHAN, texts.BANNED),
    hubapi.NOT_OPERATOR: (n.ERR_CHANOPRIVSNEEDED, texts.CHANOP_NEEDED),
    hubapi.TOO_MANY_ROOMS: (n.ERR_TOOMANYCHANNELS, texts.TOO_MANY_CHANNELS),
    hubapi.KEY_SET: (n.ERR_KEYSET, texts.KEY_SET),
}
# Refusals about a person in a room: `<numeric> <client> <nick> <room> :<text>`.
_ABOUT_MEMBER: dict[str, tuple[str, str]] = {
    hubapi.USER_NOT_IN_ROOM: (n.ERR_USERNOTINCHANNEL, texts.USER_NOT_IN_CHANNEL),
    hubapi.ALREADY_IN_ROOM: (n.ERR_USERONCHANNEL, texts.USER_ON_CHANNEL),
}
# Refusals about the client itself: `<numeric> <client> :<text>`.
_ABOUT_CLIENT: dict[str, tuple[str, str]] = {
    hubapi.NOT_SERVER_OPERATOR: (n.ERR_NOPRIVILEGES, texts.NO_PRIVILEGES),
    hubapi.BAD_PASSWORD: (n.ERR_PASSWDMISMATCH, texts.PASSWORD_MISMATCH),
    hubapi.NO_OPERATOR_HERE: (n.ERR_NOOPERHOST, texts.NO_OPER_HOST),
}
# No numeric says "not stored": IRCv3 standard replies do (FAIL <command> <code>).
_STANDARD: dict[str, tuple[str, str]] = {
    hubapi.BUSY: ("TEMPORARILY_UNAVAILABLE", texts.BUSY),
    hubapi.STORE_FAILED: ("TEMPORARILY_UNAVAILABLE", texts.STORE_FAILED),
}
UNKNOWN_ERROR = "UNKNOWN_ERROR"


def render(ctx: Context, refusal: hubapi.Refusal, command: str, room: str = "") -> None:
    code, subject = refusal.code, refusal.subject
    if code in _ABOUT_SUBJECT:
        numeric, text = _ABOUT_SUBJECT[code]
        ctx.numeric(numeric, subject, text)
    elif code in _ABOUT_MEMBER:
        numeric, text = _ABOUT_MEMBER[code]
        ctx.numeric(numeric, subject, room, text)
    elif code in _ABOUT_CLIENT:
        numeric, text = _ABOUT_CLIENT[code]
        ctx.numeric(numeric, text)
    elif code in _STANDARD:
        reply, text = _STANDARD[code]
        ctx.fail(command, reply, subject, text)
    else:
        # A code this door does not know yet still tells the client that nothing happened.
        ctx.fail(command, UNKNOWN_ERROR, subject, code)
