"""The ngIRCd peer of the IRC benchmarks (benchmarks/ircpeer.py) is configured as meant."""

from __future__ import annotations

import subprocess
from pathlib import Path

from benchmarks.ircpeer import write_config

from tests.helpers import require_program


def test_the_generated_configuration_turns_the_load_limits_off(tmp_path: Path) -> None:
    ngircd = require_program("ngircd")
    config = write_config(tmp_path, 6999)
    result = subprocess.run(
        [ngircd, "--configtest", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    # The dump lists sections in order ([GLOBAL], [LIMITS], [OPTIONS], [SSL], ...);
    # a later section may repeat a name ([SSL] has Ports too): keep the first.
    dump: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            dump.setdefault(key.strip(), value.strip())
    assert dump["Listen"] == "127.0.0.1"
    assert dump["Ports"] == "6999"
    assert dump["MaxPenaltyTime"] == "0"
    assert dump["MaxConnectionsIP"] == "0"
    assert dump["MaxJoins"] == "-1"  # 0 in the file: "no limit", which the dump shows as -1
    assert "Unknown" not in result.stdout + result.stderr
