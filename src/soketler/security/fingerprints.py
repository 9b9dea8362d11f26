"""SHA-256 certificate fingerprints: computing, showing and reading them back.

A fingerprint is shown the way `openssl x509 -fingerprint -sha256` shows it: 32 bytes
as upper-case hex pairs joined by colons. People paste it from many places, so
reading accepts any case, with or without the colons, and the prefixes those places
add ("SHA256:", "sha256 Fingerprint=").
"""

from __future__ import annotations

import hashlib
import hmac
import re
import string

SHA256_BYTES = 32
_PREFIX = re.compile(r"^\s*(sha-?256)?\s*(fingerprint)?\s*[:=]?\s*", re.IGNORECASE)
_HEX = frozenset(string.hexdigits)


class FingerprintError(ValueError):
    """A text that is not a SHA-256 fingerprint; the message says what is wrong."""


def sha256_fingerprint(der: bytes) -> bytes:
    """The SHA-256 digest of a certificate in DER form (what a fingerprint is)."""
    return hashlib.sha256(der).digest()


def format_fingerprint(digest: bytes) -> str:
    """`AB:CD:...`: the colon form openssl prints."""
    return ":".join(f"{byte:02X}" for byte in digest)


def parse_fingerprint(text: str) -> bytes:
    """The 32 bytes of a SHA-256 fingerprint written as hex, colons optional."""
    body = _PREFIX.sub("", text, count=1).replace(":", "").replace(" ", "")
    if not body or any(char not in _HEX for char in body):
        raise FingerprintError(f"not a SHA-256 fingerprint: {text!r} (expected hex like AB:CD:...)")
    if len(body) != 2 * SHA256_BYTES:
        raise FingerprintError(
            f"a SHA-256 fingerprint is {SHA256_BYTES} bytes ({2 * SHA256_BYTES} hex digits), "
            f"not {len(body) / 2:g}: {text!r}"
        )
    return bytes.fromhex(body)


def matches(der: bytes, pinned: bytes) -> bool:
    # compare_digest: how much of a guessed fingerprint matched must not show in the time.
    return hmac.compare_digest(sha256_fingerprint(der), pinned)
