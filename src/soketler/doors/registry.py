"""Every door by name: what a listener entry names."""

from __future__ import annotations

from soketler.doors import Door
from soketler.doors.irc.door import DOOR as IRC
from soketler.doors.lines import DOOR as LINES
from soketler.doors.ssh import DOOR as SSH
from soketler.doors.web.door import DOOR as WEB

DOORS: dict[str, Door] = {door.name: door for door in (LINES, IRC, SSH, WEB)}
