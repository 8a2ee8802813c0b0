"""The enquiry store: escalated questions, their messages, and answer feedback, in SQLite.

One connection, one writer: every write runs inside `_write()`, which holds an asyncio lock
for the whole transaction, so concurrent handlers never meet "database is locked". The
schema is versioned; numbered migrations run at start-up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosqlite

from bot.matcher import Candidate

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
)


class State(StrEnum):
    """Where an enquiry is in the staff workflow."""

    NEW = "new"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Asker:
    """Who wrote to the bot, as far as the store needs to know."""

    user_id: int
    chat_id: int
    name: str = ""
    username: str | None = None
    language: str | None = None


@dataclass(frozen=True)
class Enquiry:
    """An escalated question."""

    ref: int
    user_id: int
    chat_id: int
    name: str
    username: str | None
    language: str | None
    text: str
    candidates: tuple[Candidate, ...]
    reason: str
    state: State
    assignee: int | None
    created_at: datetime
    first_reply_at: datetime | None
    resolved_at: datetime | None


@dataclass(frozen=True)
class ForgetResult:
    """What `/forget` deleted."""

    enquiries: int
    messages: int
    feedback: int


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Store:
    """Repository of enquiries; open with `await Store.open(path)`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._db.row_factory = aiosqlite.Row
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating if needed) the database and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        store = cls(db)
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA foreign_keys=ON")
        await db.execute("PRAGMA busy_timeout=5000")
        await store._migrate()
        return store

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time, committed on success, rolled back on error."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.rollback()
                raise
            await self._db.commit()

    async def _migrate(self) -> None:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        version = int(row[0]) if row else 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._write() as db:
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")

    async def schema_version(self) -> int:
        """The migration the database is at."""
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    # -- enquiries -------------------------------------------------------------------------
    async def create_enquiry(
        self,
        asker: Asker,
        text: str,
        candidates: tuple[Candidate, ...] = (),
        reason: str = "",
    ) -> Enquiry:
        """Store a new enquiry and its first message; returns it with its reference."""
        now = _stamp(_now())
        data = json.dumps([c.to_json() for c in candidates])
        async with self._write() as db:
            cursor = await db.execute(
                "INSERT INTO enquiries (user_id, chat_id, name, username, language, text,"
                " candidates, reason, state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    asker.user_id,
                    asker.chat_id,
                    asker.name,
                    asker.username,
                    asker.language,
                    text,
                    data,
                    reason,
                    State.NEW.value,
                    now,
                ),
            )
            ref = cursor.lastrowid
            assert ref is not None
            await db.execute(
                "INSERT INTO messages (ref, author, author_id, text, created_at)"
                " VALUES (?, 'user', ?, ?, ?)",
                (ref, asker.user_id, text, now),
            )
        enquiry = await self.get_enquiry(ref)
        assert enquiry is not None
        return enquiry

    async def get_enquiry(self, ref: int) -> Enquiry | None:
        """One enquiry by reference number."""
        async with self._db.execute("SELECT * FROM enquiries WHERE ref = ?", (ref,)) as cursor:
            row = await cursor.fetchone()
        return _enquiry(row) if row else None

    async def enquiries_for_user(self, user_id: int, limit: int = 10) -> list[Enquiry]:
        """A user's enquiries, newest first."""
        async with self._db.execute(
            "SELECT * FROM enquiries WHERE user_id = ? ORDER BY ref DESC LIMIT ?",
            (user_id, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [_enquiry(r) for r in rows]

    async def messages(self, ref: int) -> list[tuple[str, str]]:
        """(author, text) of every message of an enquiry, in order."""
        async with self._db.execute(
            "SELECT author, text FROM messages WHERE ref = ? ORDER BY id", (ref,)
        ) as cursor:
            rows = await cursor.fetchall()
        return [(r["author"], r["text"]) for r in rows]

    # -- feedback and privacy ----------------------------------------------------------------
    async def add_feedback(self, user_id: int, entry_id: str, helpful: bool) -> None:
        """Record a 👍 or 👎 on an answer."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO feedback (user_id, entry_id, helpful, created_at) VALUES (?,?,?,?)",
                (user_id, entry_id, int(helpful), _stamp(_now())),
            )

    async def feedback_counts(self, entry_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes for an entry."""
        async with self._db.execute(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)"
            " FROM feedback WHERE entry_id = ?",
            (entry_id,),
        ) as cursor:
            row = await cursor.fetchone()
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def forget_user(self, user_id: int) -> ForgetResult:
        """Delete everything stored about a user: enquiries, their messages, feedback."""
        async with self._write() as db:
            cursor = await db.execute(
                "DELETE FROM messages WHERE ref IN (SELECT ref FROM enquiries WHERE user_id = ?)",
                (user_id,),
            )
            messages = cursor.rowcount
            cursor = await db.execute("DELETE FROM enquiries WHERE user_id = ?", (user_id,))
            enquiries = cursor.rowcount
            cursor = await db.execute("DELETE FROM feedback WHERE user_id = ?", (user_id,))
            feedback = cursor.rowcount
        return ForgetResult(enquiries, messages, feedback)

    async def purge_resolved(self, older_than_days: int) -> int:
        """Delete resolved enquiries older than the retention period; returns how many."""
        cutoff = _stamp(_now() - timedelta(days=older_than_days))
        async with self._write() as db:
            await db.execute(
                "DELETE FROM messages WHERE ref IN (SELECT ref FROM enquiries"
                " WHERE state = 'resolved' AND resolved_at < ?)",
                (cutoff,),
            )
            cursor = await db.execute(
                "DELETE FROM enquiries WHERE state = 'resolved' AND resolved_at < ?", (cutoff,)
            )
            return cursor.rowcount


def _enquiry(row: Any) -> Enquiry:
    candidates = tuple(
        Candidate(c["entry_id"], c["title"], float(c["score"]))
        for c in json.loads(row["candidates"])
    )
    created = _parse(row["created_at"])
    assert created is not None
    return Enquiry(
        ref=row["ref"],
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        name=row["name"],
        username=row["username"],
        language=row["language"],
        text=row["text"],
        candidates=candidates,
        reason=row["reason"],
        state=State(row["state"]),
        assignee=row["assignee"],
        created_at=created,
        first_reply_at=_parse(row["first_reply_at"]),
        resolved_at=_parse(row["resolved_at"]),
    )
