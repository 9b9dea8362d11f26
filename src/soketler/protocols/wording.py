"""The plain and JSON-lines doors' words for errors, made from their codes and subjects.

The hub reports what went wrong as data (`Error(code, subject, detail)`); these are the
sentences people on telnet, nc and the terminal client read, and the `text` of a JSON
error. Other doors (IRC) have their own words.
"""

from __future__ import annotations

from soketler.protocols import codes, names
from soketler.protocols.events import Error

CHOOSE_ANOTHER = "Choose another:"

_NICK_PROBLEMS = {
    names.EMPTY: "A nickname cannot be empty.",
    names.TOO_LONG: f"A nickname has at most {names.MAX_NICK} characters.",
    names.BAD_START: "A nickname cannot start with a digit, # or /.",
    names.BAD_CHARACTER: f"A nickname may hold letters, digits, emoji and {names.NICK_SYMBOLS}.",
}
_ROOM_PROBLEMS = {
    names.TOO_SHORT: "A room name is # and at least one more character.",
    names.TOO_LONG: f"A room name has at most {names.MAX_ROOM} characters.",
    names.BAD_CHARACTER: "A room name cannot hold spaces, commas or control characters.",
}
_FIELD_KINDS = {
    codes.FIELD_NOT_TEXT: 'Field "{field}" must be a string.',
    codes.FIELD_NOT_NUMBER: 'Field "{field}" must be a whole number from 1 to {high}.',
    codes.FIELD_NOT_ZONE: 'Field "{field}" must be minutes east of UTC, from -1440 to 1440.',
}
_TEXTS = {
    codes.UNKNOWN_COMMAND: "Unknown command /{subject}. Type /help for the list.",
    codes.NOT_REGISTERED: "Choose a nickname first.",
    codes.ALREADY_REGISTERED: "You already have a nickname; use /nick to change it.",
    codes.NICK_TAKEN: 'Nickname "{subject}" is taken.',
    codes.NO_SUCH_NICK: 'Nobody is called "{subject}".',
    codes.NOT_IN_ROOM: "You are not in {subject}.",
    codes.NO_SUCH_ROOM: "Nobody is in {subject}.",
    codes.LAST_ROOM: "{subject} is your only room; /join another first, or /quit.",
    codes.TOO_MANY_ROOMS: (
        "You are in {detail} rooms, the most one person may be in; /part one first."
    ),
    codes.EMPTY_MESSAGE: "Nothing to send.",
    codes.LINE_TOO_LONG: "Line too long (the limit is {detail} bytes); it was dropped.",
    codes.STORE_FAILED: "Not sent: the history store failed ({detail}).",
    codes.BUSY: "Not sent: the server is busy storing messages; try again in a moment.",
    codes.INTERNAL_ERROR: "That request failed on the server; it was not done.",
    codes.CANNOT_SEND: "You cannot speak in {subject} now (it is moderated, or you are banned).",
    codes.BAD_KEY: "{subject} needs a key: /join {subject} KEY",
    codes.INVITE_ONLY: "{subject} is invite only; one of its operators can invite you.",
    codes.ROOM_FULL: "{subject} is full.",
    codes.BANNED: "You are banned from {subject}.",
    codes.NOT_OPERATOR: "Only operators of {subject} may do that.",
    codes.KEY_SET: "{subject} already has a key.",
    codes.USER_NOT_IN_ROOM: "{subject} is not in {detail}.",
    codes.ALREADY_IN_ROOM: "{subject} is already in {detail}.",
    codes.NOT_SERVER_OPERATOR: "Only server operators may do that.",
    codes.BAD_PASSWORD: "Wrong password.",
    codes.NO_OPERATOR_HERE: "You may not become an operator from here.",
    codes.PASSWORD_REQUIRED: "This server needs a password.",
    codes.NO_SUCH_ACCOUNT_HERE: "This server keeps no accounts.",
    codes.SERVER_BANNED: "You are banned from this server ({detail}).",
    codes.NOT_LISTED: "No ban or mute holds {subject}.",
    codes.ALREADY_LISTED: "{subject} is banned already.",
}
_REGISTERED = {
    "account": '"{subject}" is a registered nickname: /login {subject} first, or choose another.',
    "key": '"{subject}" belongs to the SSH key that claimed it; choose another.',
}


def nick_problem_text(problem: str) -> str:
    """Why a name cannot be a nickname, from names.nick_problem's code."""
    return _NICK_PROBLEMS.get(problem, "That cannot be a nickname.")


def error_text(error: Error) -> str:
    """The sentence for an error (its own `text` when it came with one)."""
    if error.text:
        return error.text
    code, subject, detail = error.code, error.subject, error.detail
    if code == codes.NICK_INVALID:
        return nick_problem_text(detail)
    if code == codes.ROOM_INVALID:
        return _ROOM_PROBLEMS.get(detail, "That cannot be a room name.")
    if code == codes.NICK_REGISTERED:
        return _REGISTERED.get(detail, _REGISTERED["account"]).format(subject=subject)
    if code == codes.NOT_IN_ROOM and not subject:
        subject = "any room"
    if code == codes.BAD_QUERY:
        return f"Cannot search: {detail}" if detail else "Cannot search that."
    if code == codes.BAD_REQUEST:
        field, _, kind = detail.partition(":")
        if kind in _FIELD_KINDS:
            return _FIELD_KINDS[kind].format(field=field, high=(1 << 63) - 1)
        return f"Usage: {detail}" if detail else "Bad request."
    template = _TEXTS.get(code)
    if template is None:
        return detail
    return template.format(subject=subject, detail=detail)
