"""The browser page: static HTML, CSS and JavaScript, served as they are (no build step)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).with_name("static")
INDEX = STATIC_DIR / "index.html"
