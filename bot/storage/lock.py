"""One running bot per database: an exclusive lock held for as long as the bot runs.

Two bots on one database would both deliver the outbox (a message sent twice), reset each
other's messages in flight at start-up, and each keep its own rate limit. On SQLite the lock
is `flock` on a file beside the database (``<database>.lock``, holding the pid): the kernel
releases it when the process ends in any way, SIGKILL included, so a crash never leaves a
stale lock. Writing the pid also proves at start-up that the disk takes writes. On
PostgreSQL it is a session advisory lock (`ServerLock`), which the server releases when the
process's connection ends, however it ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.database import Database, StorageUnavailable, describe

#: The advisory lock's key on PostgreSQL: two 32-bit numbers, the same in every clair-bot.
#: (PostgreSQL keeps two-number keys apart from one-number keys, which are left for ids
#: such as a chat's.)
SPACE = 0x636C6169  # "clai"
INSTANCE_LOCK_KEY = (SPACE, 1)  # the running bot


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
                "stop it first, or give this one its own storage.url"
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


class AdvisoryLock:
    """PostgreSQL's ``pg_try_advisory_lock`` on a connection of its own (autocommit: an open
    transaction would sit idle for as long as it is held), held until `release` or until
    the connection ends (the process died). On SQLite it is always granted: one process per
    database, which `InstanceLock` sees to."""

    def __init__(self, database: Database, key: tuple[int, int]) -> None:
        self.database = database
        self.key = key
        self._connection: AsyncConnection | None = None
        self._granted = False

    @property
    def held(self) -> bool:
        """Whether this process holds it."""
        return self._granted

    async def try_acquire(self) -> bool:
        """Take it if it is free (or already ours); False if another holds it. Raises
        StorageUnavailable if the server cannot be reached."""
        if self._granted:
            return True
        if self.database.dialect != "postgresql":
            self._granted = True
            return True
        try:
            connection = await self.database.engine.connect()
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            got = await connection.scalar(select(func.pg_try_advisory_lock(*self.key)))
        except SQLAlchemyError as exc:
            raise StorageUnavailable(self.database.path, describe(exc)) from exc
        if not got:
            await connection.close()
            return False
        self._connection, self._granted = connection, True
        return True

    async def alive(self) -> bool:
        """Whether the lock is still ours: its connection answers (when the server ended the
        session, or the link to it broke, the lock is gone and another may have it)."""
        if not self._granted:
            return False
        if self._connection is None:  # SQLite: always granted
            return True
        try:
            await self._connection.scalar(select(1))
        except (SQLAlchemyError, OSError):
            return False
        return True

    async def release(self) -> None:
        """Let it go (idempotent). The connection is dropped rather than pooled: a pooled
        one would keep the session, and the lock with it."""
        self._granted = False
        if self._connection is None:
            return
        with contextlib.suppress(SQLAlchemyError):
            await self._connection.scalar(select(func.pg_advisory_unlock(*self.key)))
        with contextlib.suppress(SQLAlchemyError):
            await self._connection.invalidate()
            await self._connection.close()
        self._connection = None


class ServerLock:
    """PostgreSQL's counterpart of `InstanceLock`: the bot's advisory lock."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = AdvisoryLock(database, INSTANCE_LOCK_KEY)

    async def acquire(self) -> None:
        """Take the lock; AlreadyRunning if another process has it, StorageUnavailable if the
        server cannot be reached."""
        if not await self._lock.try_acquire():
            raise AlreadyRunning(
                f"another clair-bot is running on {self.database.path}; "
                "stop it first, or give this one its own storage.url"
            )

    async def release(self) -> None:
        """Let the lock go (idempotent)."""
        await self._lock.release()
