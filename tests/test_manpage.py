"""soketler(1) and the completion files: generated from argparse, current, in the wheel."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

from soketler import __version__
from soketler.cli import build_parser, subcommand_parsers
from soketler.docgen.files import GENERATED
from soketler.docgen.manpage import render
from tests.helpers import require_program

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60.0


def test_the_files_in_share_are_what_the_parser_makes() -> None:
    for relative, make in GENERATED.items():
        committed = (ROOT / relative).read_text(encoding="utf-8")
        assert committed == make(), f"{relative} is out of date: run `make share`"


def read_as_man(page: str, tmp_path: Path) -> str:
    man = require_program("man")
    source = tmp_path / "soketler.1"
    source.write_text(page)
    done = subprocess.run(
        [man, "-l", str(source)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "MANWIDTH": "80", "LC_ALL": "C.UTF-8"},
    )
    assert done.returncode == 0 and not done.stderr, done.stderr
    # Bold and underline reach a pipe as overstrikes (x BACKSPACE x): keep the letters.
    return re.sub(".\x08", "", done.stdout)


def test_man_shows_every_command_and_option(tmp_path: Path) -> None:
    page = render()
    shown = read_as_man(page, tmp_path)
    assert shown.startswith("SOKETLER(1)")
    assert f"soketler {__version__}" in shown
    for name, parser in subcommand_parsers(build_parser()).items():
        assert f"soketler {name}" in shown
        for action in parser._actions:
            for flag in action.option_strings:
                assert flag in shown, (name, flag)
    assert "--nick ayşe" in shown  # the examples, non-ASCII letters included
    assert all(len(line) <= 80 for line in shown.splitlines())


def test_groff_finds_nothing_to_warn_about(tmp_path: Path) -> None:
    groff = require_program("groff")
    source = tmp_path / "soketler.1"
    source.write_text(render())
    done = subprocess.run(
        [groff, "-man", "-Tutf8", "-ww", "-z", str(source)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert (done.returncode, done.stderr) == (0, "")


def test_the_wheel_installs_the_man_page_and_completions(tmp_path: Path) -> None:
    build = ["wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "pip", *build, str(ROOT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    [wheel] = tmp_path.glob("soketler-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        data = f"soketler-{__version__}.data/data/"
        for relative in GENERATED:
            assert data + relative in names, relative
        assert archive.read(data + "share/man/man1/soketler.1").decode() == render()
        assert f"soketler-{__version__}.dist-info/licenses/LICENSE" in names
