"""Error codes: what went wrong, as data. Every door renders them in its own words
(the plain and JSON-lines doors with `wording`, IRC with numerics); docs/protocol.md
lists them."""

from __future__ import annotations

BAD_REQUEST = "bad-request"  # detail: the usage, or the field at fault
UNKNOWN_COMMAND = "unknown-command"  # subject: the command
NOT_REGISTERED = "not-registered"
ALREADY_REGISTERED = "already-registered"
NICK_INVALID = "nick-invalid"  # subject: the nickname; detail: a names.NickProblem
NICK_TAKEN = "nick-taken"  # subject: the nickname
ROOM_INVALID = "room-invalid"  # subject: the room; detail: a names.RoomProblem
NO_SUCH_NICK = "no-such-nick"  # subject: the nickname
NOT_IN_ROOM = "not-in-room"  # subject: the room ("" when in none)
NO_SUCH_ROOM = "no-such-room"  # subject: the room
LAST_ROOM = "last-room"  # subject: the room
TOO_MANY_ROOMS = "too-many-rooms"  # detail: the limit
EMPTY_MESSAGE = "empty-message"
LINE_TOO_LONG = "line-too-long"  # detail: the limit in bytes
STORE_FAILED = "store-failed"  # detail: why
BUSY = "busy"
BAD_QUERY = "bad-query"  # detail: why the search cannot be run, for people
INTERNAL_ERROR = "internal-error"
# Room settings and status (subject: the room unless said otherwise).
CANNOT_SEND = "cannot-send"  # moderated, banned, or outside a room that takes no outsiders
BAD_KEY = "bad-key"
INVITE_ONLY = "invite-only"
ROOM_FULL = "room-full"
BANNED = "banned"
NOT_OPERATOR = "not-operator"  # of the room
KEY_SET = "key-set"
USER_NOT_IN_ROOM = "user-not-in-room"  # subject: the person acted on; detail: the room
ALREADY_IN_ROOM = "already-in-room"  # subject: the person invited; detail: the room
# Server operators.
NOT_SERVER_OPERATOR = "not-server-operator"
BAD_PASSWORD = "bad-password"
NO_OPERATOR_HERE = "no-operator-here"  # the name and password are right, the address is not
# Who may use what (subject: the nickname; detail: "account" or "key", core/owners.py).
NICK_REGISTERED = "nick-registered"  # log in to the account (or use the SSH key) first
PASSWORD_REQUIRED = "password-required"  # the server (or the account) needs a password
NO_SUCH_ACCOUNT_HERE = "no-accounts"  # this server keeps no accounts
SERVER_BANNED = "server-banned"  # detail: the ban's reason
NOT_LISTED = "not-listed"  # subject: a mask no ban (or mute) holds; detail: the room, if any
ALREADY_LISTED = "already-listed"  # subject: a mask already banned

# Details of BAD_REQUEST for a JSON field of the wrong kind: "field:kind".
FIELD_NOT_TEXT = "text"
FIELD_NOT_NUMBER = "number"
FIELD_NOT_ZONE = "zone"  # minutes east of UTC
