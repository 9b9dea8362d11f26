"""irctest's own ngIRCd controller, on 127.0.0.1 instead of every interface.

Used for the comparison figures in the README (`make irctest-ngircd IRCTEST=path`).
"""

from __future__ import annotations

from typing import Any

from irctest.controllers.ngircd import NgircdController

from tests.irctest.loopback import reserve_loopback_port
from tests.irctest.reaper import track


class LoopbackNgircdController(NgircdController):
    def get_hostname_and_port(self) -> tuple[str, int]:
        return reserve_loopback_port(self)

    def execute(self, command: Any, proc_name: str | None = None, **kwargs: Any) -> Any:
        track(self)
        return super().execute(command, proc_name, **kwargs)


def get_irctest_controller_class() -> type[LoopbackNgircdController]:
    return LoopbackNgircdController
