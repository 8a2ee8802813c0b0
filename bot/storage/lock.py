"""One running bot per database: an exclusive lock held for as long as the bot runs.

Two bots on one database would both deliver the outbox (a message sent twice), reset each
other's messages in flight at start-up, and each keep its own rate limit. The lock is
`flock` on a file beside the database (``<database>.lock``, holding the pid): the kernel
releases it when the process ends in any way, SIGKILL included, so a crash never leaves a
stale lock. Writing the pid also proves at start-up that the disk takes writes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.storage.database import StorageUnavailable, describe


class AlreadyRunning(Exception):
    """Another process holds the database's lock."""


class InstanceLock:
    """The lock of the database at `database`; `acquire` takes it, `release` lets it go."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock; AlreadyRunning if another process has it, StorageUnavailable if
        the file cannot be created or written (read-only or full disk)."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise StorageUnavailable(self.database, f"{folder} is not a folder") from None
        except OSError as exc:
            raise StorageUnavailable(
                self.database, f"cannot create {folder}: {_why(exc)}"
            ) from exc
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._unwritable(exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (pid {holder})" if holder else ""
            raise AlreadyRunning(
                f"another clair-bot{who} is running on {self.database}; "
                "stop it first, or give this one its own storage.path"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise self._unwritable(exc) from exc
        self._fd = fd

    def _unwritable(self, error: OSError) -> StorageUnavailable:
        return StorageUnavailable(self.database, f"cannot write {self.path.name}: {_why(error)}")

    def release(self) -> None:
        """Let the lock go (idempotent); the file stays, empty."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)  # closing the descriptor releases the flock
        self._fd = None


def _why(error: OSError) -> str:
    return describe(OSError(error.strerror or str(error)))


def _read_pid(fd: int) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(os.pread(fd, 32, 0).decode().strip() or "0") or None
    return None
