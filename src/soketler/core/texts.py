"""User-visible strings and error codes, in one place (docs/protocol.md lists the codes)."""

from __future__ import annotations

# Error codes of the JSON flavour; the plain flavour shows only the text.
BAD_REQUEST = "bad-request"
UNKNOWN_COMMAND = "unknown-command"
NOT_REGISTERED = "not-registered"
ALREADY_REGISTERED = "already-registered"
NICK_INVALID = "nick-invalid"
NICK_TAKEN = "nick-taken"
ROOM_INVALID = "room-invalid"
NO_SUCH_NICK = "no-such-nick"
NOT_IN_ROOM = "not-in-room"
NO_SUCH_ROOM = "no-such-room"
LAST_ROOM = "last-room"
EMPTY_MESSAGE = "empty-message"
STORE_FAILED = "store-failed"
BUSY = "busy"

GREETING = "Welcome to soketler {version} on {server}. Type /help for commands."
CHOOSE_NICK = "Choose a nickname:"
NICK_TAKEN_TEXT = 'Nickname "{nick}" is taken.'
CHOOSE_ANOTHER = "Choose another:"
UNKNOWN_COMMAND_TEXT = "Unknown command /{name}. Type /help for the list."
USAGE_TEXT = "Usage: {usage}"
FIELD_TYPE_TEXT = 'Field "{field}" must be a string.'
NOT_REGISTERED_TEXT = "Choose a nickname first."
ALREADY_REGISTERED_TEXT = "You already have a nickname; use /nick to change it."
NO_SUCH_NICK_TEXT = 'Nobody is called "{nick}".'
NOT_IN_ROOM_TEXT = "You are not in {room}."
NO_SUCH_ROOM_TEXT = "Nobody is in {room}."
LAST_ROOM_TEXT = "{room} is your only room; /join another first, or /quit."
EMPTY_MESSAGE_TEXT = "Nothing to send."
ALREADY_NICK_TEXT = "You are already {nick}."
TOPIC_NONE_TEXT = "{room} has no topic."
TOPIC_TEXT = "Topic of {room}: {topic}"
SWITCHED_TEXT = "Now talking in {room}."
STORE_FAILED_TEXT = "Not sent: the history store failed ({reason})."
BUSY_TEXT = "Not sent: the server is busy storing messages; try again in a moment."
HISTORY_USAGE = "/history [#room | NICK] [N | before ID]"
HELP_HEADER = "Commands (a line without / is a message to your current room):"
HELP_FOOTER = "//text sends a line that starts with /."
# /help fits a terminal of 80 columns: "-- " before each line and 76 columns of text.
HELP_WIDTH = 76
HELP_USAGE_COLUMN = 24  # a longer usage gets its summary on the line below
CLOSE_WORDS_HELP = "A line that is only bye, close, quit, q, kapat or exit also quits."

# Reasons shown when a connection ends.
QUIT_DEFAULT = "Quit"
CONNECTION_CLOSED = "Connection closed"
SENDQ_EXCEEDED = "SendQ exceeded"
EXCESS_FLOOD = "Excess flood"
REGISTRATION_TIMEOUT = "Registration timeout"
SERVER_SHUTDOWN = "Server shutting down"
SERVER_FULL = "Server full ({limit} clients); try again later."
TOO_MANY_FROM_ADDRESS = "Too many connections from your address ({limit}); try again later."
