"""Where soketler keeps its files by default: the user data folder (platformdirs)."""

from __future__ import annotations

import os

APP_NAME = "soketler"
HISTORY_FILE = "history.sqlite3"


def data_directory() -> str:
    """`~/.local/share/soketler` on Linux (XDG_DATA_HOME respected), the OS's own elsewhere."""
    import platformdirs  # only the commands that store something pay for the import

    return platformdirs.user_data_dir(APP_NAME)


def default_database() -> str:
    """The SQLite file that holds history, and the accounts beside it."""
    return os.path.join(data_directory(), HISTORY_FILE)


SSH_HOST_KEY = os.path.join("ssh", "host_ed25519_key")


def default_ssh_host_key() -> str:
    """The SSH door's host key, made on its first start and kept: clients remember it."""
    return os.path.join(data_directory(), SSH_HOST_KEY)
