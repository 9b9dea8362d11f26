"""The configuration as text: settings from `SOKETLER_*` environment variables, and the
effective configuration printed as TOML (`soketler serve --print-config`).

Every setting has one name (core/config.py SETTINGS): the flag's long name with `_`
for `-`, the key of the TOML file, and, upper-cased after `SOKETLER_`, the environment
variable: `--max-per-address` is `max_per_address` is `SOKETLER_MAX_PER_ADDRESS`. An
environment variable is text; it is read as the kind of value its setting holds
(a number, `true`/`false`, a comma-separated list).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from soketler.core.config import LISTS, SETTINGS, ConfigError, ServerConfig, current

ENV_PREFIX = "SOKETLER_"
CONFIG_VARIABLE = ENV_PREFIX + "CONFIG"  # names the TOML file, as --config does
HIDDEN = "<hidden>"
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
# Where each source of a value is named in --print-config's comments.
DEFAULT, FILE, ENVIRONMENT, FLAG = "default", "file", "environment", "flag"


def variable(name: str) -> str:
    """The environment variable of a setting."""
    return ENV_PREFIX + name.upper()


def environment_layer(environ: Mapping[str, str], base: ServerConfig) -> dict[str, Any]:
    """The settings the environment gives, as values of their kinds (a layer for
    `config.build`). Variables that name no setting are not ours and are left alone.
    Raises ConfigError naming a variable whose value cannot be read."""
    layer: dict[str, Any] = {}
    for name in SETTINGS:
        text = environ.get(variable(name))
        if text is not None:
            layer[name] = _parse(name, text, current(base, name))
    return layer


def _parse(name: str, text: str, now: Any) -> Any:
    word = text.strip()
    try:
        if isinstance(now, bool):
            if word.lower() in TRUE_WORDS:
                return True
            if word.lower() in FALSE_WORDS:
                return False
            raise ValueError(word)
        if isinstance(now, float):
            return float(word)
        if isinstance(now, int) or name == "port" or name.endswith("_port"):
            return int(word)
    except ValueError:
        raise ConfigError(f"{variable(name)} cannot be {text!r}") from None
    if name in LISTS:
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


# --- printing ----------------------------------------------------------------------------


def is_secret(name: str) -> bool:
    return "password" in name


def render(config: ServerConfig, sources: Mapping[str, str] | None = None) -> str:
    """The configuration as a TOML file would give it, each value's source as a comment
    and every password (or password hash) as <hidden>. Settings that are off (no value)
    are shown commented out."""
    sources = sources or {}
    sections: dict[str, list[str]] = {"": [], "limits": [], "retention": []}
    for name, (section, attr) in SETTINGS.items():
        value = current(config, name)
        key = attr if section else name
        source = sources.get(name, DEFAULT)
        if value is None:
            sections[section].append(f"# {key} = (none)  # {source}")
            continue
        shown = _toml(HIDDEN if is_secret(name) and value else value)
        sections[section].append(f"{key} = {shown}  # {source}")
    lines = ["# soketler serve: the effective configuration", *sections[""]]
    for section in ("limits", "retention"):
        lines += ["", f"[{section}]", *sections[section]]
    for operator in config.operators:
        lines += ["", f"[operators.{_key(operator.name)}]", f"password = {_toml(HIDDEN)}"]
        if operator.hosts is not None:
            hosts = [str(network) for network in operator.hosts.allow]
            lines.append(f"hosts = {_toml(hosts)}")
    return "\n".join(lines) + "\n"


def _key(name: str) -> str:
    """A TOML key: bare when it can be, quoted otherwise (a nickname of any script)."""
    return name if BARE_KEY.fullmatch(name) else _toml(name)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    # A TOML basic string escapes as JSON does (\", \\, \n, \uXXXX).
    return json.dumps(str(value), ensure_ascii=False)
