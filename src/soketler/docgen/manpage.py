"""soketler(1), the man page, written from the argparse definitions in roff.

`make man` writes it to share/man/man1/soketler.1, which the wheel installs; a test
checks that the file in the repository is what this writes.
"""

from __future__ import annotations

import re

from soketler import __version__
from soketler.docgen.spec import Command, Option, describe

EXIT_STATUS = (
    ("0", "done; for probe, a port is open; for chat in a pipe, every line was delivered"),
    ("1", 'the answer is "no" (probe: nothing open; ports: no match), or an unforeseen error'),
    ("2", "bad arguments"),
    ("3", "unknown host"),
    ("4", "connection refused"),
    ("5", "network or host unreachable"),
    ("6", "timed out"),
    ("7", "address in use"),
    ("8", "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)"),
    ("9", "the chat server said no (nickname rejected, server full, a line refused)"),
    ("10", "the connection was lost or reset"),
    ("11", "the history database cannot be used"),
    ("130", "interrupted (Ctrl-C)"),
)


def _text(text: str) -> str:
    """Text safe for roff: backslashes escaped, dashes as minus signs (so options can be
    copied), no leading dot, and letters beyond ASCII as \\[uXXXX] (groff and mandoc
    read those whatever the locale)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(char if char.isascii() else f"\\[u{ord(char):04X}]" for char in text)
    return re.sub(r"^([.'])", r"\\&\1", text, flags=re.MULTILINE)


def _option(option: Option) -> list[str]:
    flags = ", ".join(f"\\fB{_text(flag)}\\fR" for flag in option.flags)
    value = f" \\fI{_text(option.metavar)}\\fR" if option.metavar else ""
    return [".TP", flags + value, _text(" ".join(option.help.split()))]


# An epilog's item: "  soketler serve --host 127.0.0.1    this machine only".
_ITEM = re.compile(r"^\s+(\S.*?)(?:\s{2,}(\S.*))?$")
# Epilog sections the EXIT STATUS section says for every command at once.
_SAID_ONCE = ("exit codes:", "exit status:")


def _epilog(epilog: str) -> list[str]:
    """An epilog as man text: prose filled, `heading:` lists as tagged paragraphs (the
    command in bold, its comment below), so nothing is wider than the page."""
    lines: list[str] = []
    for block in epilog.strip("\n").split("\n\n"):
        rows = block.split("\n")
        listed = rows[0].endswith(":") and all(row.startswith(" ") for row in rows[1:] if row)
        if listed and rows[0] in _SAID_ONCE:
            continue
        if not listed:
            lines += [".PP", _text(" ".join(" ".join(rows).split()))]
            continue
        lines += [".PP", f"\\fI{_text(rows[0].rstrip(':'))}\\fR:"]
        for row in rows[1:]:
            item = _ITEM.match(row)
            if item is None:
                continue
            what, comment = item.groups()
            if row.startswith("    ") and lines[-1] != ".TP":  # continues the comment above
                lines[-1] += " " + _text(" ".join(row.split()))
                continue
            lines += [".TP", f"\\fB{_text(what)}\\fR"]
            if comment:
                lines.append(_text(comment))
    return lines


def _command(command: Command) -> list[str]:
    lines = [f'.SS "soketler {command.name}"']
    for form in command.usage:
        lines += [".PP", f"\\fB{_text(form)}\\fR"]
    if command.description:
        lines += [".PP", _text(command.description)]
    lines += [item for option in command.options for item in _option(option)]
    if command.epilog:
        lines += _epilog(command.epilog)
    return lines


def manpage(top: Command, commands: list[Command]) -> str:
    lines = [
        '.\\" Generated from the argparse definitions by soketler.docgen.manpage; do not edit.',
        f'.TH SOKETLER 1 "" "soketler {__version__}" "User Commands"',
        ".nh",  # option names must not be hyphenated
        ".ad l",  # nor stretched
        ".SH NAME",
        "soketler \\- " + _text(top.description.rstrip(".")),
        ".SH SYNOPSIS",
        "\\fBsoketler\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]",
        ".br",
        "\\fBsoketler\\fR \\fB\\-\\-version\\fR",
        ".SH DESCRIPTION",
        _text(top.description),
        "Each command is described below; \\fBsoketler\\fR \\fICOMMAND\\fR"
        " \\fB\\-\\-help\\fR shows the same.",
    ]
    for command in commands:
        lines += [".TP", f"\\fB{command.name}\\fR", _text(command.summary)]
    lines.append(".SH COMMANDS")
    for command in commands:
        lines += _command(command)
    lines.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f"\\fB{code}\\fR", _text(meaning)]
    lines += [
        ".SH ENVIRONMENT",
        ".TP",
        "\\fBNO_COLOR\\fR",
        "Any non\\-empty value turns colours off in \\fBsoketler chat\\fR.",
        ".SH SEE ALSO",
        "\\fBnc\\fR(1), \\fBncat\\fR(1), \\fBsocat\\fR(1), \\fBtelnet\\fR(1)",
        "",
    ]
    return "\n".join(lines)


def render() -> str:
    from soketler.cli import build_parser

    top, commands = describe(build_parser())
    return manpage(top, commands)


if __name__ == "__main__":
    print(render(), end="")
