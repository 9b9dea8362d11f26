"""Shared test helpers (import as `from tests.helpers import ...`).

External programs (telnet, nc, socat, tmux, ...) are installed by `make test` where
apt-get is usable. Elsewhere a test that needs one skips, except under CI=true, where
a missing program is a failure: CI must never pass by skipping what it should test.
"""

from __future__ import annotations

import os
import shutil

import pytest


def require_program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name!r} is not installed (make test installs it where apt-get is usable)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path
