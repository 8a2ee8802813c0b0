"""The SQLite database: its schema, one writer at a time, and reads that see only commits.

Every write runs inside `write()`, which holds an asyncio lock for the whole transaction on
the one write connection, so concurrent handlers never meet "database is locked". Reads go
through a second, read-only connection: in WAL mode it sees only committed transactions, so
a read never sees another task's unfinished change. The schema is versioned; numbered
migrations run at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

#: The schema, one script per version; a database at version N runs scripts N+1 onwards.
MIGRATIONS: tuple[str, ...] = (
    # 1: enquiries, their messages, and feedback on answers.
    """
    CREATE TABLE enquiries (
        ref INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        chat_id INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        username TEXT,
        language TEXT,
        text TEXT NOT NULL,
        candidates TEXT NOT NULL DEFAULT '[]',
        reason TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'new',
        assignee INTEGER,
        created_at TEXT NOT NULL,
        first_reply_at TEXT,
        resolved_at TEXT
    );
    CREATE INDEX enquiries_user ON enquiries (user_id, created_at);
    CREATE INDEX enquiries_state ON enquiries (state, created_at);
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref INTEGER NOT NULL REFERENCES enquiries (ref) ON DELETE CASCADE,
        author TEXT NOT NULL CHECK (author IN ('user', 'staff')),
        author_id INTEGER,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX messages_ref ON messages (ref, id);
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        entry_id TEXT NOT NULL,
        helpful INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX feedback_user ON feedback (user_id);
    """,
    # 2: the staff side: where each enquiry lives in the staff chat, and the outbox.
    """
    ALTER TABLE enquiries ADD COLUMN staff_message_id INTEGER;
    ALTER TABLE enquiries ADD COLUMN staff_thread_id INTEGER;
    ALTER TABLE enquiries ADD COLUMN reminded_at TEXT;
    ALTER TABLE enquiries ADD COLUMN kb_suggested INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN author_name TEXT NOT NULL DEFAULT '';
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref INTEGER REFERENCES enquiries (ref) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        chat_id INTEGER NOT NULL,
        in_thread INTEGER NOT NULL DEFAULT 0,
        text TEXT NOT NULL,
        markup TEXT,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error TEXT,
        telegram_message_id INTEGER,
        created_at TEXT NOT NULL,
        sent_at TEXT
    );
    CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
    CREATE TABLE thread_messages (
        chat_id INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        ref INTEGER NOT NULL REFERENCES enquiries (ref) ON DELETE CASCADE,
        PRIMARY KEY (chat_id, message_id)
    );
    """,
    # 3: the language a user chose with /language.
    """
    CREATE TABLE users (
        user_id INTEGER PRIMARY KEY,
        language TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 4: the matcher's stable reason code for why an enquiry went to staff.
    """
    ALTER TABLE enquiries ADD COLUMN code TEXT NOT NULL DEFAULT '';
    """,
    # 5: left for the outbox's own change (issue 10); a database at 4 runs it as a no-op.
    """
    SELECT 1;
    """,
    # 6: the helpdesk side: pending and merged enquiries, who holds one, attachments, notes
    # and edits in threads, copies and edits in the outbox, ratings, the bot's own answers.
    """
    UPDATE enquiries SET state = 'pending' WHERE state = 'answered';
    ALTER TABLE enquiries ADD COLUMN assignee_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE enquiries ADD COLUMN pending_since TEXT;
    ALTER TABLE enquiries ADD COLUMN merged_into INTEGER;
    ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
    ALTER TABLE messages ADD COLUMN media TEXT;
    ALTER TABLE messages ADD COLUMN chat_id INTEGER;
    ALTER TABLE messages ADD COLUMN message_id INTEGER;
    ALTER TABLE messages ADD COLUMN edit_of INTEGER;
    ALTER TABLE messages ADD COLUMN saved_reply TEXT NOT NULL DEFAULT '';
    CREATE INDEX messages_source ON messages (chat_id, message_id);
    ALTER TABLE outbox ADD COLUMN copy_chat_id INTEGER;
    ALTER TABLE outbox ADD COLUMN copy_message_id INTEGER;
    ALTER TABLE outbox ADD COLUMN edit_of INTEGER;
    ALTER TABLE outbox ADD COLUMN carries INTEGER;
    CREATE INDEX outbox_carries ON outbox (carries);
    CREATE INDEX outbox_telegram ON outbox (chat_id, telegram_message_id);
    CREATE TABLE ratings (
        ref INTEGER PRIMARY KEY REFERENCES enquiries (ref) ON DELETE CASCADE,
        asked_at TEXT NOT NULL,
        score INTEGER CHECK (score BETWEEN 1 AND 5),
        comment TEXT NOT NULL DEFAULT '',
        rated_at TEXT,
        prompt_chat_id INTEGER,
        prompt_message_id INTEGER
    );
    CREATE TABLE bot_answers (
        day TEXT PRIMARY KEY,
        answered INTEGER NOT NULL DEFAULT 0
    );
    """,
)


class StorageUnavailable(Exception):
    """The database cannot be opened or written: a full or read-only disk, a file that is not
    a database. Carries the file and the problem, for one line that names both."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"cannot use {path}: {problem}")
        self.path = path
        self.problem = problem


def describe(error: BaseException) -> str:
    """A storage error in words, the way an operator would name it."""
    text = str(error) or type(error).__name__
    lowered = text.lower()
    if "disk is full" in lowered or "no space" in lowered:
        return f"the disk is full ({text})"
    if "readonly" in lowered or "read-only" in lowered:
        return f"the file or its disk is read-only ({text})"
    return text


def now() -> datetime:
    """The current moment, in UTC (the store's default clock)."""
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """A moment as stored: ISO 8601 in UTC, to the microsecond (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse(value: str | None) -> datetime | None:
    """A stored moment back, or None."""
    return datetime.fromisoformat(value) if value else None


def placeholders(values: Sequence[Any]) -> str:
    """'?, ?, ?' for an ``IN (...)`` with one parameter per value."""
    return ", ".join("?" * len(values))


class Database:
    """The write connection (one transaction at a time) and the read connection."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        clock: Callable[[], datetime] = now,
        path: Path | None = None,
    ) -> None:
        self.path = path or Path("(database)")
        self._writer = writer
        self._reader = reader
        for connection in (writer, reader):
            connection.row_factory = aiosqlite.Row
        self._lock = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []
        self.clock = clock
        self._failing = False  # writes are failing: said once in the log, until they work
        self._opened = False  # failures while opening are the caller's to report

    @classmethod
    async def open(cls, path: Path, clock: Callable[[], datetime] = now) -> Database:
        """Open (creating if needed) the database and bring its schema up to date.

        Raises StorageUnavailable, naming the file and the problem, when it cannot be opened
        or written; nothing is left open then (aiosqlite's threads would keep the process
        alive)."""
        connections: list[aiosqlite.Connection] = []
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = await aiosqlite.connect(path)
            connections.append(writer)
            await writer.execute("PRAGMA journal_mode=WAL")
            await writer.execute("PRAGMA foreign_keys=ON")
            await writer.execute("PRAGMA busy_timeout=5000")
            reader = await aiosqlite.connect(path)
            connections.append(reader)
            await reader.execute("PRAGMA busy_timeout=5000")
            await reader.execute("PRAGMA query_only=ON")
            database = cls(writer, reader, clock, path)
            await database._migrate()
        except (sqlite3.Error, OSError, StorageUnavailable) as exc:
            for connection in reversed(connections):
                with contextlib.suppress(Exception):
                    await connection.close()
            if isinstance(exc, StorageUnavailable):
                raise
            raise StorageUnavailable(path, describe(exc)) from exc
        database._opened = True  # from now on a failed write is logged (once)
        return database

    async def close(self) -> None:
        """Close both connections."""
        await self._reader.close()
        await self._writer.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time, committed on success, rolled back on error.

        SQLite's operational errors (a full or read-only disk, a lock held too long) come
        out as StorageUnavailable; the first of a run of them is logged, once.
        """
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise self._failed(exc) from exc
            try:
                yield self._writer
                await self._writer.commit()
            except BaseException as exc:
                self._after_commit.clear()
                with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back itself
                    await self._writer.rollback()
                if isinstance(exc, sqlite3.OperationalError):
                    raise self._failed(exc) from exc
                raise
            callbacks, self._after_commit = self._after_commit, []
            if self._failing:
                self._failing = False
                log.warning("the database %s takes writes again", self.path)
        for callback in callbacks:
            callback()

    def _failed(self, error: sqlite3.Error) -> StorageUnavailable:
        problem = describe(error)
        if self._opened and not self._failing:
            self._failing = True
            log.error("cannot write to the database %s: %s", self.path, problem)
        return StorageUnavailable(self.path, problem)

    @property
    def failing(self) -> bool:
        """Whether the last write failed (and none has worked since)."""
        return self._failing

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Inside `write()`: call `callback` once the transaction is committed (not if it
        is rolled back), when readers can see what it wrote."""
        self._after_commit.append(callback)

    async def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a read, from committed data only."""
        async with self._reader.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Every row of a read, from committed data only."""
        async with self._reader.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def schema_version(self) -> int:
        """The migration the database is at."""
        row = await self.one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self.write() as db:
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")
