"""The SSH door's keys: the server's host key, made once and kept, and the allowlist
of client keys (an authorized_keys file).

A host key is the server's identity: clients remember it on first connection and
warn when it changes, so it is made once (Ed25519) in the data folder and reused on
every start. The allowlist is read again whenever its file changes, so a key can be
added or removed without a restart.
"""

from __future__ import annotations

import contextlib
import os

import asyncssh

from soketler.doors import DoorSetupError

HOST_KEY_ALGORITHM = "ssh-ed25519"


def fingerprint(key: asyncssh.SSHKey) -> str:
    """`SHA256:...`, as `ssh-keygen -l` shows it."""
    return key.get_fingerprint("sha256")


def host_key(path: str) -> tuple[asyncssh.SSHKey, bool]:
    """The host key in `path`, made there first if there is none; (key, made now)."""
    try:
        return asyncssh.read_private_key(path), False
    except FileNotFoundError:
        pass
    except (OSError, asyncssh.KeyImportError) as exc:
        raise DoorSetupError(f"cannot use the SSH host key {path}: {_why(exc)}") from exc
    key = asyncssh.generate_private_key(HOST_KEY_ALGORITHM, comment="soketler host key")
    try:
        _write_new(path, key.export_private_key(), 0o600)
        _write_new(path + ".pub", key.export_public_key(), 0o644)
    except OSError as exc:
        raise DoorSetupError(f"cannot write the SSH host key {path}: {_why(exc)}") from exc
    return key, True


def _write_new(path: str, data: bytes, mode: int) -> None:
    """Writes a file whole or not at all, never readable by others in between (the
    private key is created with its final mode, and renamed into place)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _why(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


class Allowlist:
    """The keys that may log in, from an authorized_keys file (options such as
    `from="10.0.0.0/8"` are honoured). Read again when the file changes; while it
    cannot be read, or lists no key, nobody may log in (see `Gate`)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._keys = asyncssh.SSHAuthorizedKeys()
        self.reload()  # a file that cannot be read is a start-up error

    def reload(self) -> None:
        """Reads the file if it changed. DoorSetupError if it cannot be read."""
        try:
            status = os.stat(self.path)
            stamp = (status.st_mtime_ns, status.st_size)
            if stamp == self._stamp:
                return
            with open(self.path, encoding="utf-8") as file:
                text = file.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise DoorSetupError(f"cannot read the SSH allowlist {self.path}: {_why(exc)}") from exc
        try:
            keys = asyncssh.import_authorized_keys(text)
        except ValueError:  # not one line that is a key (asyncssh skips the others)
            raise DoorSetupError(f"the SSH allowlist {self.path} lists no keys") from None
        self._keys, self._stamp = keys, stamp

    def allows(self, key: asyncssh.SSHKey, address: str) -> bool:
        return self._keys.validate(key, "", address) is not None
