"""Password hashes: scrypt with a random salt per password, the cost written beside it.

A stored hash reads `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` (the PHC string format,
base64 without padding). Because the cost travels with the hash, the default can be
raised later: old hashes still verify with the cost they were made with, and
`needs_rehash` says which ones to hash again at the next successful login.

scrypt (RFC 7914) is memory-hard: each guess costs 128·r·2^ln bytes of memory
(32 MiB at the default), so guessing on graphics cards or custom chips gains little.
hashlib's scrypt releases the interpreter lock while it works, so hashing in a
thread does not hold up the event loop; it still takes tens of milliseconds of CPU,
which is why callers run it off the loop (`accounts.PasswordChecker`).

This module is pure: no I/O, no threads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass

SCHEME = "scrypt"
SALT_BYTES = 16
HASH_BYTES = 32
# A password longer than this is refused rather than hashed: a line of a megabyte
# would still hash quickly (scrypt reads it once), but nobody types one.
MAX_PASSWORD_CHARS = 1024
MIN_PASSWORD_CHARS = 8

# Bounds on what a stored hash may ask for. A hash is data; one edited to demand
# 2^30 blocks must not be able to take the server's memory.
MIN_LOG_N, MAX_LOG_N = 10, 20
MAX_R, MAX_P = 32, 16

_ENCODED = re.compile(
    r"^\$scrypt\$ln=(?P<ln>\d{1,2}),r=(?P<r>\d{1,2}),p=(?P<p>\d{1,2})"
    r"\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)$"
)


class PasswordFormatError(ValueError):
    """A stored hash that is not one of ours, or asks for an unreasonable cost."""


class PasswordRefused(ValueError):
    """A new password that cannot be accepted (too short, too long); the message says why."""


@dataclass(frozen=True, slots=True)
class ScryptCost:
    """scrypt's parameters: N = 2^log_n blocks of 128·r bytes, p lanes."""

    log_n: int = 15
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (
            MIN_LOG_N <= self.log_n <= MAX_LOG_N and 1 <= self.r <= MAX_R and 1 <= self.p <= MAX_P
        ):
            raise PasswordFormatError(
                f"scrypt cost out of bounds: ln={self.log_n}, r={self.r}, p={self.p} "
                f"(ln {MIN_LOG_N}-{MAX_LOG_N}, r 1-{MAX_R}, p 1-{MAX_P})"
            )

    @property
    def memory(self) -> int:
        """Bytes scrypt needs: 128·r·N for the big array, 128·r·p for the lanes."""
        return 128 * self.r * ((1 << self.log_n) + self.p)

    def weaker_than(self, other: ScryptCost) -> bool:
        """Less memory per guess, or less time (memory times lanes), than `other`."""
        mine, theirs = (1 << self.log_n) * self.r, (1 << other.log_n) * other.r
        return mine < theirs or mine * self.p < theirs * other.p


DEFAULT_COST = ScryptCost()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _secret(password: str) -> bytes:
    # NFC: "ş" typed as one code point or as s + combining cedilla is one password.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def check_new_password(password: str) -> None:
    """Raises PasswordRefused when `password` should not be accepted as a new one."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordRefused(f"a password has at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRefused(f"a password has at most {MAX_PASSWORD_CHARS} characters")


def _scrypt(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        _secret(password),
        salt=salt,
        n=1 << cost.log_n,
        r=cost.r,
        p=cost.p,
        # OpenSSL refuses to use more than maxmem; give it what this cost needs and a
        # little room for its own bookkeeping.
        maxmem=cost.memory + (1 << 20),
        dklen=HASH_BYTES,
    )


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST, salt: bytes | None = None) -> str:
    """The string to store for `password`: `$scrypt$ln=..,r=..,p=..$salt$hash`."""
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordRefused(f"a password has at most {MAX_PASSWORD_CHARS} characters")
    salt = salt if salt is not None else os.urandom(SALT_BYTES)
    digest = _scrypt(password, salt, cost)
    return f"${SCHEME}$ln={cost.log_n},r={cost.r},p={cost.p}${_b64(salt)}${_b64(digest)}"


@dataclass(frozen=True, slots=True)
class ParsedHash:
    cost: ScryptCost
    salt: bytes
    digest: bytes


def parse_hash(encoded: str) -> ParsedHash:
    """The parts of a stored hash; raises PasswordFormatError for anything else."""
    found = _ENCODED.match(encoded.strip())
    if found is None:
        raise PasswordFormatError(
            "not a soketler password hash ($scrypt$ln=..,r=..,p=..$salt$hash)"
        )
    cost = ScryptCost(int(found["ln"]), int(found["r"]), int(found["p"]))
    try:
        salt, digest = _unb64(found["salt"]), _unb64(found["hash"])
    except (binascii.Error, ValueError):
        raise PasswordFormatError("the salt or hash of a password hash is not base64") from None
    if len(digest) != HASH_BYTES or not salt:
        raise PasswordFormatError("a password hash with a hash of the wrong length")
    return ParsedHash(cost, salt, digest)


def is_password_hash(text: str) -> bool:
    try:
        parse_hash(text)
    except PasswordFormatError:
        return False
    return True


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` is the one `encoded` was made from.

    The comparison takes the same time wherever the digests differ. A hash that
    cannot be parsed raises PasswordFormatError: a broken store is not "wrong password".
    """
    parsed = parse_hash(encoded)
    if len(password) > MAX_PASSWORD_CHARS:
        # Still spend the time a real check takes: no shortcut that a timer could see.
        _scrypt("", parsed.salt, parsed.cost)
        return False
    return hmac.compare_digest(_scrypt(password, parsed.salt, parsed.cost), parsed.digest)


def needs_rehash(encoded: str, cost: ScryptCost = DEFAULT_COST) -> bool:
    """True when `encoded` was made with a lower cost than `cost`."""
    return parse_hash(encoded).cost.weaker_than(cost)
