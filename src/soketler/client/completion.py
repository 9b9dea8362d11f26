"""Tab completion: `/commands` at the start of a line, `#rooms`, and nicknames."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from soketler.client.commands import COMMANDS
from soketler.client.state import ChatState
from soketler.protocols.names import key


def candidates(state: ChatState, line_before_cursor: str) -> tuple[str, list[str]]:
    """The word being completed and what it may become, best first."""
    word = line_before_cursor.rsplit(" ", 1)[-1]
    if word.startswith("/") and word == line_before_cursor:
        names: Iterable[str] = (f"/{name}" for name in COMMANDS)
    elif word.startswith("#"):
        names = state.known_rooms()
    else:
        names = (nick for nick in state.nicks() if not state.membership.is_me(nick))
    wanted = key(word)
    return word, [name for name in names if key(name).startswith(wanted)]


class ChatCompleter(Completer):
    def __init__(self, state: ChatState) -> None:
        self.state = state

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        word, names = candidates(self.state, document.text_before_cursor)
        for name in names:
            yield Completion(name, start_position=-len(word))
