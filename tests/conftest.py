"""Settings for the whole suite."""

from __future__ import annotations

from hypothesis import settings

# Hypothesis' per-example deadline (200 ms) measures the machine as much as the code:
# on a loaded 2-core machine a parser example can take longer without anything being
# wrong. Slowness is measured in benchmarks/, never as a test failure.
settings.register_profile("soketler", deadline=None)
settings.load_profile("soketler")
