"""Which casemapping the IRC door advertises (ISUPPORT CASEMAPPING), and why.

soketler has one identity rule for names on every door: NFC, then Unicode case
folding (`Ayşe` and `AYŞE` are one person; `민준` is a nickname). IRC clients cannot
be told that rule: the values they know are `ascii`, `rfc1459` and `rfc1459-strict`
(Ergo's `precis` mode also advertises `ascii`, with a separate `UTF8MAPPING=rfc8265`
token), and an unknown value makes WeeChat fall back to `rfc1459`.

What matters is the direction of the error. A client uses the casemapping to decide
that two spellings are the same person or channel; if it decides "same" where the
server says "different", it merges two people in its nick list and query windows.
The reverse, "different" where the server says "same", only costs it a lookup: the
server always answers with the one display name it knows.

- `ascii` folds A-Z only. Two names equal under it are equal under NFC + casefold,
  so a client never merges two soketler users. Non-ASCII letters are compared
  exactly by the client, which is the harmless direction.
- `rfc1459` also makes `[]\\~` the upper case of `{}|^`. soketler nicknames may
  contain `[]{}|^` and the shared rule does not fold them, so `a[` and `a{` are two
  people whom an rfc1459 client would take for one. Folding them in the shared rule
  instead would surprise every user of the other doors.

So the door advertises `ascii`.
"""

from __future__ import annotations

CASEMAPPING = "ascii"

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_fold(name: str) -> str:
    """What a client told CASEMAPPING=ascii compares: A-Z lowered, nothing else."""
    return name.translate(_ASCII_LOWER)
