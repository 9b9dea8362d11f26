"""The SSH door's own words: what people on ssh read that is not an event of the hub."""

from __future__ import annotations

NICK_PROMPT = "Nickname: "
NICK_CLAIMED = 'Nickname "{nick}" belongs to another SSH key. Choose another:'
NICK_ACCOUNT = (
    'Nickname "{nick}" is registered: log in with its password to use it '
    "(ssh -o PreferredAuthentications=password). Choose another:"
)
TOO_MANY_LINES = "Too many lines at once: that one was dropped."
LINE_TOO_LONG = "Line too long (the limit is {limit} bytes); it was dropped."
CLAIM_LOST = "Another SSH key has just taken this nickname."
SHUTTING_DOWN = "The server is shutting down."
