"""The hub's refusal and error codes (protocols/codes.py) as the IRC replies clients
expect: a numeric where one exists, an IRCv3 standard reply (`FAIL`) otherwise."""

from __future__ import annotations

from soketler.protocols import codes
from soketler.protocols.irc import numerics as n
from soketler.protocols.irc import texts
from soketler.protocols.irc.message import Message

# Answered `<numeric> <client> <subject> :<text>`.
ABOUT_SUBJECT: dict[str, tuple[str, str]] = {
    codes.NICK_TAKEN: (n.ERR_NICKNAMEINUSE, texts.NICKNAME_IN_USE),
    codes.NICK_INVALID: (n.ERR_ERRONEUSNICKNAME, texts.ERRONEOUS_NICKNAME),
    codes.NO_SUCH_NICK: (n.ERR_NOSUCHNICK, texts.NO_SUCH_NICK),
    codes.NO_SUCH_ROOM: (n.ERR_NOSUCHCHANNEL, texts.NO_SUCH_CHANNEL),
    codes.NOT_IN_ROOM: (n.ERR_NOTONCHANNEL, texts.NOT_ON_CHANNEL),
    codes.ROOM_INVALID: (n.ERR_BADCHANMASK, texts.BAD_CHANNEL_MASK),
    codes.CANNOT_SEND: (n.ERR_CANNOTSENDTOCHAN, texts.CANNOT_SEND),
    codes.BAD_KEY: (n.ERR_BADCHANNELKEY, texts.BAD_CHANNEL_KEY),
    codes.INVITE_ONLY: (n.ERR_INVITEONLYCHAN, texts.INVITE_ONLY),
    codes.ROOM_FULL: (n.ERR_CHANNELISFULL, texts.CHANNEL_IS_FULL),
    codes.BANNED: (n.ERR_BANNEDFROMCHAN, texts.BANNED),
    codes.NOT_OPERATOR: (n.ERR_CHANOPRIVSNEEDED, texts.CHANOP_NEEDED),
    codes.TOO_MANY_ROOMS: (n.ERR_TOOMANYCHANNELS, texts.TOO_MANY_CHANNELS),
    codes.KEY_SET: (n.ERR_KEYSET, texts.KEY_SET),
    # A client that gets 433 tries another nickname, which is what it must do.
    codes.NICK_REGISTERED: (n.ERR_NICKNAMEINUSE, texts.NICK_REGISTERED),
}
# About a person in a room: `<numeric> <client> <nick> <room> :<text>`.
ABOUT_MEMBER: dict[str, tuple[str, str]] = {
    codes.USER_NOT_IN_ROOM: (n.ERR_USERNOTINCHANNEL, texts.USER_NOT_IN_CHANNEL),
    codes.ALREADY_IN_ROOM: (n.ERR_USERONCHANNEL, texts.USER_ON_CHANNEL),
}
# About the client itself: `<numeric> <client> :<text>`.
ABOUT_CLIENT: dict[str, tuple[str, str]] = {
    codes.NOT_SERVER_OPERATOR: (n.ERR_NOPRIVILEGES, texts.NO_PRIVILEGES),
    codes.BAD_PASSWORD: (n.ERR_PASSWDMISMATCH, texts.PASSWORD_MISMATCH),
    codes.NO_OPERATOR_HERE: (n.ERR_NOOPERHOST, texts.NO_OPER_HOST),
    codes.NOT_REGISTERED: (n.ERR_NOTREGISTERED, texts.NOT_REGISTERED),
    codes.ALREADY_REGISTERED: (n.ERR_ALREADYREGISTERED, texts.ALREADY_REGISTERED),
    codes.PASSWORD_REQUIRED: (n.ERR_PASSWDMISMATCH, texts.PASSWORD_REQUIRED),
    codes.SERVER_BANNED: (n.ERR_YOUREBANNEDCREEP, texts.YOURE_BANNED),
    codes.NO_SUCH_ACCOUNT_HERE: (n.ERR_SASLFAIL, texts.NO_ACCOUNTS),
}
# No numeric says "not stored": IRCv3 standard replies do (FAIL <command> <code>).
STANDARD: dict[str, tuple[str, str]] = {
    codes.BUSY: ("TEMPORARILY_UNAVAILABLE", texts.BUSY),
    codes.STORE_FAILED: ("TEMPORARILY_UNAVAILABLE", texts.STORE_FAILED),
    codes.INTERNAL_ERROR: ("INTERNAL_ERROR", texts.INTERNAL_ERROR),
}
UNKNOWN_ERROR = "UNKNOWN_ERROR"
ANY_COMMAND = "*"  # a standard reply not caused by one known command


def error_messages(
    server: str,
    nick: str,
    code: str,
    subject: str = "",
    detail: str = "",
    command: str = ANY_COMMAND,
) -> list[Message]:
    """The reply for one refusal or error, to the client called `nick` ('*' before it
    has a nickname). `command` is the one refused, for standard replies."""
    # A subject is one word on the line ('*' when the client's own was not one).
    subject = subject if subject and " " not in subject and subject[0] != ":" else ""
    detail = detail if detail and " " not in detail and detail[0] != ":" else ""
    if code in ABOUT_SUBJECT:
        numeric, text = ABOUT_SUBJECT[code]
        return [Message(numeric, (nick, subject or "*", text), server, trailing=True)]
    if code in ABOUT_MEMBER:
        numeric, text = ABOUT_MEMBER[code]
        return [
            Message(numeric, (nick, subject or "*", detail or "*", text), server, trailing=True)
        ]
    if code in ABOUT_CLIENT:
        numeric, text = ABOUT_CLIENT[code]
        return [Message(numeric, (nick, text), server, trailing=True)]
    reply, text = STANDARD.get(code, (UNKNOWN_ERROR, code))
    context = (subject,) if subject and " " not in subject else ()
    return [Message("FAIL", (command, reply, *context, text), server, trailing=True)]
