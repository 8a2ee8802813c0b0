"""The enquiry store: escalated questions, their threads, feedback and the outbox, in SQLite.

One connection, one writer: every write runs inside `_write()`, which holds an asyncio lock
for the whole transaction, so concurrent handlers never meet "database is locked". Every
message the bot owes someone is written to the outbox in the same transaction as the change
that caused it, so a crash can delay a message but never lose it. The schema is versioned;
numbered migrations run at start-up.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import aiosqlite

from bot.decision import Candidate

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
)


class State(StrEnum):
    """Where an enquiry is in the staff workflow."""

    NEW = "new"
    CLAIMED = "claimed"
    ANSWERED = "answered"
    RESOLVED = "resolved"


OPEN_STATES = (State.NEW, State.CLAIMED, State.ANSWERED)


class OutboxState(StrEnum):
    """Delivery state of one outgoing message."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Kind(StrEnum):
    """What an outgoing message is, which decides how it is threaded."""

    ANNOUNCE = "announce"  # a new enquiry in the staff chat
    FOLLOW_UP = "follow_up"  # the user wrote again; into the staff thread
    REPLY = "reply"  # a staff answer relayed to the user
    REMINDER = "reminder"  # an enquiry waiting too long, re-announced
    NOTICE = "notice"  # anything else for the staff thread (e.g. delivery failed)


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
    staff_message_id: int | None = None
    staff_thread_id: int | None = None
    reminded_at: datetime | None = None
    kb_suggested: bool = False

    @property
    def is_open(self) -> bool:
        """Not resolved yet."""
        return self.state is not State.RESOLVED


@dataclass(frozen=True)
class Message:
    """One message of an enquiry's thread."""

    author: str  # 'user' or 'staff'
    author_name: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class Draft:
    """A message to put in the outbox: to `chat_id`, or into the enquiry's staff thread."""

    kind: Kind
    chat_id: int
    text: str
    markup: Sequence[Sequence[tuple[str, str]]] = ()
    in_thread: bool = False


@dataclass(frozen=True)
class OutboxItem:
    """A message waiting to be delivered (or delivered)."""

    id: int
    ref: int | None
    kind: Kind
    chat_id: int
    text: str
    markup: tuple[tuple[tuple[str, str], ...], ...]
    in_thread: bool
    state: OutboxState
    attempts: int
    telegram_message_id: int | None
    last_error: str | None
    reply_to_message_id: int | None = None
    thread_id: int | None = None


@dataclass(frozen=True)
class ForgetResult:
    """What `/forget` deleted."""

    enquiries: int
    messages: int
    feedback: int


@dataclass(frozen=True)
class Stats:
    """Figures for `/stats`."""

    open: int
    median_first_reply_s: float | None
    answered_today: int
    answered_this_week: int
    unanswered_topics: list[tuple[str, int]] = field(default_factory=list)


Render = Callable[[Enquiry], Sequence[Draft]]

# An outbox message `o` waits while an older one to the same chat or about the same enquiry
# is undelivered, so messages arrive in the order they were written.
_NOT_WAITING = (
    "NOT EXISTS (SELECT 1 FROM outbox p WHERE p.id < o.id AND p.state IN ('pending', 'sending')"
    " AND (p.chat_id = o.chat_id OR (o.ref IS NOT NULL AND p.ref = o.ref)))"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class Store:
    """Repository of enquiries; open with `await Store.open(path)`."""

    def __init__(self, db: aiosqlite.Connection, clock: Callable[[], datetime] = _now) -> None:
        self._db = db
        self._db.row_factory = aiosqlite.Row
        self._lock = asyncio.Lock()
        self.clock = clock
        # Set whenever the outbox gains a message, so the delivery worker wakes at once.
        self.outbox_changed = asyncio.Event()

    @classmethod
    async def open(cls, path: Path, clock: Callable[[], datetime] = _now) -> Store:
        """Open (creating if needed) the database and bring its schema up to date."""
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        store = cls(db, clock)
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
        version = await self.schema_version()
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

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        async with self._db.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        async with self._db.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    # -- enquiries -------------------------------------------------------------------------
    async def create_enquiry(
        self,
        asker: Asker,
        text: str,
        candidates: Sequence[Candidate] = (),
        reason: str = "",
        render: Render | None = None,
    ) -> Enquiry:
        """Store a new enquiry and its first message, plus what `render` says to send."""
        now = _stamp(self.clock())
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
            await self._add_message(db, ref, "user", asker.user_id, asker.name, text, now)
            enquiry = await self._get(db, ref)
            await self._enqueue(db, enquiry, render)
        return enquiry

    async def _get(self, db: aiosqlite.Connection, ref: int) -> Enquiry:
        async with db.execute("SELECT * FROM enquiries WHERE ref = ?", (ref,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            raise KeyError(ref)
        return _enquiry(row)

    async def _add_message(
        self,
        db: aiosqlite.Connection,
        ref: int,
        author: str,
        author_id: int | None,
        author_name: str,
        text: str,
        now: str,
    ) -> None:
        await db.execute(
            "INSERT INTO messages (ref, author, author_id, author_name, text, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (ref, author, author_id, author_name, text, now),
        )

    async def _enqueue(
        self, db: aiosqlite.Connection, enquiry: Enquiry | None, render: Render | None
    ) -> None:
        if render is None:
            return
        drafts = render(enquiry) if enquiry is not None else ()
        now = _stamp(self.clock())
        for draft in drafts:
            await db.execute(
                "INSERT INTO outbox (ref, kind, chat_id, in_thread, text, markup,"
                " next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?,?)",
                (
                    enquiry.ref if enquiry else None,
                    draft.kind.value,
                    draft.chat_id,
                    int(draft.in_thread),
                    draft.text,
                    json.dumps([list(map(list, row)) for row in draft.markup])
                    if draft.markup
                    else None,
                    now,
                    now,
                ),
            )
        if drafts:
            self.outbox_changed.set()

    async def get_enquiry(self, ref: int) -> Enquiry | None:
        """One enquiry by reference number."""
        row = await self._one("SELECT * FROM enquiries WHERE ref = ?", (ref,))
        return _enquiry(row) if row else None

    async def enquiries_for_user(self, user_id: int, limit: int = 10) -> list[Enquiry]:
        """A user's enquiries, newest first."""
        rows = await self._all(
            "SELECT * FROM enquiries WHERE user_id = ? ORDER BY ref DESC LIMIT ?",
            (user_id, limit),
        )
        return [_enquiry(r) for r in rows]

    async def open_enquiry_for_user(self, user_id: int) -> Enquiry | None:
        """The user's most recent enquiry that is not resolved, if any."""
        row = await self._one(
            "SELECT * FROM enquiries WHERE user_id = ? AND state != 'resolved'"
            " ORDER BY ref DESC LIMIT 1",
            (user_id,),
        )
        return _enquiry(row) if row else None

    async def count_created_since(self, user_id: int, since: datetime) -> int:
        """How many enquiries a user has opened since a moment (for the daily cap)."""
        row = await self._one(
            "SELECT COUNT(*) FROM enquiries WHERE user_id = ? AND created_at >= ?",
            (user_id, _stamp(since)),
        )
        return int(row[0])

    async def messages(self, ref: int) -> list[Message]:
        """Every message of an enquiry, in order."""
        rows = await self._all(
            "SELECT author, author_name, text, created_at FROM messages WHERE ref = ? ORDER BY id",
            (ref,),
        )
        return [
            Message(r["author"], r["author_name"], r["text"], _parse(r["created_at"]) or _now())
            for r in rows
        ]

    async def add_user_message(
        self, ref: int, asker: Asker, text: str, render: Render | None = None
    ) -> Enquiry:
        """A user's follow-up; an answered enquiry is reopened by it."""
        now = _stamp(self.clock())
        async with self._write() as db:
            await self._add_message(db, ref, "user", asker.user_id, asker.name, text, now)
            await db.execute(
                "UPDATE enquiries SET state = CASE WHEN assignee IS NULL THEN 'new'"
                " ELSE 'claimed' END, resolved_at = NULL, reminded_at = NULL"
                " WHERE ref = ? AND state IN ('answered', 'resolved')",
                (ref,),
            )
            enquiry = await self._get(db, ref)
            await self._enqueue(db, enquiry, render)
        return enquiry

    async def add_staff_reply(
        self, ref: int, staff_id: int, staff_name: str, text: str, render: Render | None = None
    ) -> Enquiry:
        """A staff answer: recorded, the enquiry marked answered, the relay put in the outbox."""
        now = _stamp(self.clock())
        async with self._write() as db:
            await self._add_message(db, ref, "staff", staff_id, staff_name, text, now)
            await db.execute(
                "UPDATE enquiries SET state = 'answered',"
                " first_reply_at = COALESCE(first_reply_at, ?),"
                " assignee = COALESCE(assignee, ?), resolved_at = NULL WHERE ref = ?",
                (now, staff_id, ref),
            )
            enquiry = await self._get(db, ref)
            await self._enqueue(db, enquiry, render)
        return enquiry

    async def set_state(
        self,
        ref: int,
        state: State,
        staff_id: int | None = None,
        render: Render | None = None,
    ) -> Enquiry:
        """Claim, resolve or reopen; `staff_id` becomes the assignee when claiming."""
        now = _stamp(self.clock())
        async with self._write() as db:
            if state is State.CLAIMED:
                await db.execute(
                    "UPDATE enquiries SET state = 'claimed', assignee = ?, resolved_at = NULL"
                    " WHERE ref = ?",
                    (staff_id, ref),
                )
            elif state is State.RESOLVED:
                await db.execute(
                    "UPDATE enquiries SET state = 'resolved', resolved_at = ? WHERE ref = ?",
                    (now, ref),
                )
            else:  # reopen
                await db.execute(
                    "UPDATE enquiries SET state = CASE WHEN assignee IS NULL THEN 'new'"
                    " ELSE 'claimed' END, resolved_at = NULL, reminded_at = NULL WHERE ref = ?",
                    (ref,),
                )
            enquiry = await self._get(db, ref)
            await self._enqueue(db, enquiry, render)
        return enquiry

    async def open_enquiries(self, offset: int = 0, limit: int = 10) -> tuple[list[Enquiry], int]:
        """Open enquiries, oldest first, one page of them, and how many there are in all."""
        rows = await self._all(
            "SELECT * FROM enquiries WHERE state != 'resolved' ORDER BY ref LIMIT ? OFFSET ?",
            (limit, offset),
        )
        total = await self._one("SELECT COUNT(*) FROM enquiries WHERE state != 'resolved'")
        return [_enquiry(r) for r in rows], int(total[0])

    async def all_enquiries(self) -> list[Enquiry]:
        """Every enquiry, oldest first (for the CSV export)."""
        return [_enquiry(r) for r in await self._all("SELECT * FROM enquiries ORDER BY ref")]

    async def unreminded_waiting(self) -> list[Enquiry]:
        """Enquiries nobody has answered yet and that were not re-announced."""
        rows = await self._all(
            "SELECT * FROM enquiries WHERE state IN ('new', 'claimed') AND reminded_at IS NULL"
            " ORDER BY ref"
        )
        return [_enquiry(r) for r in rows]

    async def mark_reminded(self, ref: int, render: Render | None = None) -> None:
        """Record that an enquiry was re-announced, with the reminder in the outbox."""
        async with self._write() as db:
            await db.execute(
                "UPDATE enquiries SET reminded_at = ? WHERE ref = ?",
                (_stamp(self.clock()), ref),
            )
            await self._enqueue(db, await self._get(db, ref), render)

    async def mark_kb_suggested(self, ref: int) -> bool:
        """Mark an enquiry as added to the suggestions file; False if it already was."""
        async with self._write() as db:
            cursor = await db.execute(
                "UPDATE enquiries SET kb_suggested = 1 WHERE ref = ? AND kb_suggested = 0",
                (ref,),
            )
            return cursor.rowcount == 1

    async def stats(self, now: datetime, week_start: datetime, day_start: datetime) -> Stats:
        """Open count, median time to first reply, answered today/this week, open topics."""
        open_row = await self._one("SELECT COUNT(*) FROM enquiries WHERE state != 'resolved'")
        rows = await self._all(
            "SELECT created_at, first_reply_at FROM enquiries WHERE first_reply_at IS NOT NULL"
        )
        waits = sorted(
            (
                (_parse(r["first_reply_at"]) or now) - (_parse(r["created_at"]) or now)
            ).total_seconds()
            for r in rows
        )
        median: float | None = None
        if waits:
            middle = len(waits) // 2
            median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
        today = await self._one(
            "SELECT COUNT(*) FROM enquiries WHERE first_reply_at >= ?", (_stamp(day_start),)
        )
        week = await self._one(
            "SELECT COUNT(*) FROM enquiries WHERE first_reply_at >= ?", (_stamp(week_start),)
        )
        topics: dict[str, int] = {}
        for row in await self._all(
            "SELECT candidates FROM enquiries WHERE state IN ('new', 'claimed')"
        ):
            candidates = json.loads(row["candidates"])
            title = candidates[0]["title"] if candidates else "(no close entry)"
            topics[title] = topics.get(title, 0) + 1
        ranked = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return Stats(int(open_row[0]), median, int(today[0]), int(week[0]), ranked)

    # -- threads in chats ----------------------------------------------------------------------
    async def ref_for_message(self, chat_id: int, message_id: int) -> int | None:
        """The enquiry a chat message belongs to (a staff thread message or a relayed reply)."""
        row = await self._one(
            "SELECT ref FROM thread_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return int(row[0]) if row else None

    async def ref_for_thread(self, chat_id: int, thread_id: int) -> int | None:
        """The enquiry that owns a forum topic in the staff chat."""
        del chat_id  # one staff chat: topic ids are unique in it
        row = await self._one("SELECT ref FROM enquiries WHERE staff_thread_id = ?", (thread_id,))
        return int(row[0]) if row else None

    async def record_thread_message(self, chat_id: int, message_id: int, ref: int) -> None:
        """Remember that a chat message belongs to an enquiry's thread."""
        async with self._write() as db:
            await db.execute(
                "INSERT OR IGNORE INTO thread_messages (chat_id, message_id, ref) VALUES (?,?,?)",
                (chat_id, message_id, ref),
            )

    async def set_staff_thread(self, ref: int, thread_id: int) -> None:
        """Record the forum topic created for an enquiry."""
        async with self._write() as db:
            await db.execute(
                "UPDATE enquiries SET staff_thread_id = ? WHERE ref = ?", (thread_id, ref)
            )

    # -- the outbox ------------------------------------------------------------------------------
    async def enqueue(self, ref: int | None, drafts: Sequence[Draft]) -> None:
        """Put messages in the outbox outside any other change (e.g. from the command line)."""
        async with self._write() as db:
            enquiry = await self._get(db, ref) if ref is not None else None
            if enquiry is None:
                now = _stamp(self.clock())
                for draft in drafts:
                    await db.execute(
                        "INSERT INTO outbox (kind, chat_id, text, next_attempt_at, created_at)"
                        " VALUES (?,?,?,?,?)",
                        (draft.kind.value, draft.chat_id, draft.text, now, now),
                    )
                if drafts:
                    self.outbox_changed.set()
            else:
                await self._enqueue(db, enquiry, lambda _: drafts)

    async def recover_outbox(self) -> int:
        """After a crash: messages caught mid-send go back to pending (better twice than never)."""
        async with self._write() as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = 'pending' WHERE state = 'sending'"
            )
            return cursor.rowcount

    async def due_outbox(self, limit: int = 20) -> list[OutboxItem]:
        """Messages whose time to (re)try has come, oldest first, with their threading.

        A message waits while an older one to the same chat, or about the same enquiry, is
        still undelivered: a retried announcement must not be overtaken by the reply that
        threads under it, nor a user's first answer by their second.
        """
        rows = await self._all(
            "SELECT o.*, e.staff_message_id, e.staff_thread_id FROM outbox o"
            " LEFT JOIN enquiries e ON e.ref = o.ref"
            f" WHERE o.state = 'pending' AND o.next_attempt_at <= ? AND {_NOT_WAITING}"
            " ORDER BY o.id LIMIT ?",
            (_stamp(self.clock()), limit),
        )
        return [_outbox(r) for r in rows]

    async def next_attempt_at(self) -> datetime | None:
        """When the next message that is not waiting behind another is due, if any."""
        row = await self._one(
            "SELECT MIN(o.next_attempt_at) FROM outbox o"
            f" WHERE o.state = 'pending' AND {_NOT_WAITING}"
        )
        return _parse(row[0]) if row and row[0] else None

    async def mark_sending(self, item_id: int) -> None:
        """About to call the Bot API for this message."""
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id = ?",
                (item_id,),
            )

    async def mark_sent(self, item: OutboxItem, telegram_message_id: int) -> None:
        """Delivered: keep Telegram's message id, and thread it with its enquiry."""
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET state = 'sent', telegram_message_id = ?, sent_at = ?,"
                " last_error = NULL WHERE id = ?",
                (telegram_message_id, _stamp(self.clock()), item.id),
            )
            if item.ref is None:
                return
            await db.execute(
                "INSERT OR IGNORE INTO thread_messages (chat_id, message_id, ref) VALUES (?,?,?)",
                (item.chat_id, telegram_message_id, item.ref),
            )
            if item.kind is Kind.ANNOUNCE:
                await db.execute(
                    "UPDATE enquiries SET staff_message_id = ? WHERE ref = ?",
                    (telegram_message_id, item.ref),
                )

    async def mark_retry(self, item_id: int, error: str, delay_s: float) -> None:
        """A temporary failure: try again after `delay_s` seconds."""
        when = _stamp(self.clock() + timedelta(seconds=delay_s))
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET state = 'pending', last_error = ?, next_attempt_at = ?"
                " WHERE id = ?",
                (error, when, item_id),
            )

    async def mark_failed(self, item: OutboxItem, error: str, render: Render | None) -> None:
        """A permanent failure (e.g. the user blocked the bot); `render` may tell staff."""
        async with self._write() as db:
            await db.execute(
                "UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ?",
                (error, item.id),
            )
            if item.ref is not None:
                await self._enqueue(db, await self._get(db, item.ref), render)

    async def outbox_items(self, ref: int | None = None) -> list[OutboxItem]:
        """Every outbox message (of one enquiry), oldest first: for tests and /show."""
        where, params = ("WHERE o.ref = ?", (ref,)) if ref is not None else ("", ())
        rows = await self._all(
            "SELECT o.*, e.staff_message_id, e.staff_thread_id FROM outbox o"
            f" LEFT JOIN enquiries e ON e.ref = o.ref {where} ORDER BY o.id",
            params,
        )
        return [_outbox(r) for r in rows]

    # -- users -----------------------------------------------------------------------------
    async def language_of(self, user_id: int) -> str | None:
        """The language a user chose with /language, if any."""
        row = await self._one("SELECT language FROM users WHERE user_id = ?", (user_id,))
        return str(row[0]) if row else None

    async def set_language(self, user_id: int, language: str) -> None:
        """Remember a user's language."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO users (user_id, language, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                " updated_at = excluded.updated_at",
                (user_id, language, _stamp(self.clock())),
            )

    # -- feedback and privacy ----------------------------------------------------------------
    async def add_feedback(self, user_id: int, entry_id: str, helpful: bool) -> None:
        """Record a 👍 or 👎 on an answer."""
        async with self._write() as db:
            await db.execute(
                "INSERT INTO feedback (user_id, entry_id, helpful, created_at) VALUES (?,?,?,?)",
                (user_id, entry_id, int(helpful), _stamp(self.clock())),
            )

    async def feedback_counts(self, entry_id: str) -> tuple[int, int]:
        """(helpful, not helpful) votes for an entry."""
        row = await self._one(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)"
            " FROM feedback WHERE entry_id = ?",
            (entry_id,),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def forget_user(self, user_id: int) -> ForgetResult:
        """Delete everything stored about a user: enquiries, messages, feedback, language."""
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
            await db.execute("DELETE FROM users WHERE user_id = ?", (user_id,))
        return ForgetResult(enquiries, messages, feedback)

    async def purge_resolved(self, older_than_days: int) -> int:
        """Delete resolved enquiries older than the retention period; returns how many."""
        cutoff = _stamp(self.clock() - timedelta(days=older_than_days))
        async with self._write() as db:
            cursor = await db.execute(
                "DELETE FROM enquiries WHERE state = 'resolved' AND resolved_at < ?", (cutoff,)
            )
            return cursor.rowcount


def _enquiry(row: Any) -> Enquiry:
    candidates = tuple(
        Candidate(c["entry_id"], c["title"], float(c["score"]))
        for c in json.loads(row["candidates"])
    )
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
        created_at=_parse(row["created_at"]) or _now(),
        first_reply_at=_parse(row["first_reply_at"]),
        resolved_at=_parse(row["resolved_at"]),
        staff_message_id=row["staff_message_id"],
        staff_thread_id=row["staff_thread_id"],
        reminded_at=_parse(row["reminded_at"]),
        kb_suggested=bool(row["kb_suggested"]),
    )


def _outbox(row: Any) -> OutboxItem:
    markup = tuple(
        tuple((str(label), str(data)) for label, data in line)
        for line in json.loads(row["markup"] or "[]")
    )
    in_thread = bool(row["in_thread"])
    return OutboxItem(
        id=row["id"],
        ref=row["ref"],
        kind=Kind(row["kind"]),
        chat_id=row["chat_id"],
        text=row["text"],
        markup=markup,
        in_thread=in_thread,
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        telegram_message_id=row["telegram_message_id"],
        last_error=row["last_error"],
        reply_to_message_id=row["staff_message_id"] if in_thread else None,
        thread_id=row["staff_thread_id"] if in_thread else None,
    )
