"""Turning untrusted bytes into text that is safe to show on someone else's terminal."""

from __future__ import annotations

import re

# ANSI/ECMA-48 escape sequences: CSI (ESC [ or C1 0x9B) with parameters and a final
# byte; OSC, DCS, SOS, PM and APC strings up to BEL or ST; and the other ESC
# sequences (intermediate bytes, then a final byte: ESC ( B selects a charset).
# Removing them whole (not just the ESC) keeps "[2J" and friends out of the text.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 controls except tab, DEL, C1 controls, and lone surrogates (only JSON's \u
# escapes can make those, and they cannot be encoded back to UTF-8).
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Text with escape sequences and control characters removed."""
    if text.isprintable():
        return text
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


def decode_line(raw: bytes) -> str:
    """A framed line as clean text. Invalid UTF-8 becomes U+FFFD; nothing raises."""
    return clean_text(raw.decode("utf-8", "replace"))
