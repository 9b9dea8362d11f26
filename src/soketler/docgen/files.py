"""The generated files the wheel installs, and where each goes under a prefix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from soketler.docgen.completion import script
from soketler.docgen.manpage import render

# Path under share/ (the same in the repository and under the installation prefix),
# and what writes it. The places are where each shell looks for completions.
GENERATED: dict[str, Callable[[], str]] = {
    "share/man/man1/soketler.1": render,
    "share/bash-completion/completions/soketler": lambda: script("bash"),
    "share/zsh/site-functions/_soketler": lambda: script("zsh"),
    "share/fish/vendor_completions.d/soketler.fish": lambda: script("fish"),
}


def write_all(root: Path) -> list[Path]:
    written = []
    for relative, make in GENERATED.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(), encoding="utf-8")
        written.append(path)
    return written
