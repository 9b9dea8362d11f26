"""Hypothesis strategies for IRC messages that can be written and read back."""

from __future__ import annotations

from hypothesis import strategies as st

from soketler.protocols.irc.message import Message

# Any text but the three characters no IRC line may hold.
line_text = st.text(st.characters(blacklist_characters="\x00\r\n", codec="utf-8"))
word = line_text.filter(lambda s: s != "" and " " not in s)
middle = word.filter(lambda s: not s.startswith(":"))
command = st.from_regex(r"[A-Z]{1,12}|[0-9]{3}", fullmatch=True)
tag_key = st.from_regex(r"\+?([a-z0-9]([a-z0-9.-]*[a-z0-9])?/)?[A-Za-z0-9-]{1,12}", fullmatch=True)
tag_value = st.text(st.characters(blacklist_characters="\x00", codec="utf-8"))


@st.composite
def messages(draw: st.DrawFn) -> Message:
    params = draw(st.lists(middle, max_size=6))
    if draw(st.booleans()):
        params.append(draw(line_text))
    return Message(
        draw(command),
        tuple(params),
        draw(st.none() | word),
        draw(st.dictionaries(tag_key, tag_value, max_size=4)),
        trailing=draw(st.booleans()),
    )
