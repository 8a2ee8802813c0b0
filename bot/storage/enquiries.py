"""The enquiries table and its threads: escalated questions, their messages, their states.

Every change that owes someone a message takes a `Render`, whose drafts go into the outbox
in the same transaction. States change only through `bot.storage.records.next_state`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import aiosqlite

from bot.decision import Candidate
from bot.storage.database import Database, now, parse, placeholders, stamp
from bot.storage.outbox import OutboxStore
from bot.storage.records import (
    OPEN_STATES,
    WAITING_STATES,
    Asker,
    Author,
    Enquiry,
    Event,
    Message,
    Render,
    State,
    Stats,
    next_state,
)
from bot.storage.rows import enquiry_from_row, read_enquiry

_OPEN = f"state IN ({placeholders(OPEN_STATES)})"
_WAITING = f"state IN ({placeholders(WAITING_STATES)})"


class EnquiryStore:
    """Repository of enquiries; each change writes its outbox messages with it."""

    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        self._db = database
        self._outbox = outbox

    async def create(
        self,
        asker: Asker,
        text: str,
        candidates: Sequence[Candidate] = (),
        reason: str = "",
        render: Render | None = None,
        code: str = "",
    ) -> Enquiry:
        """Store a new enquiry and its first message, plus what `render` says to send.

        `reason` says in words why it went to staff, `code` is the matcher's reason code."""
        moment = stamp(self._db.clock())
        data = json.dumps([c.to_json() for c in candidates])
        async with self._db.write() as db:
            cursor = await db.execute(
                "INSERT INTO enquiries (user_id, chat_id, name, username, language, text,"
                " candidates, reason, code, state, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    asker.user_id,
                    asker.chat_id,
                    asker.name,
                    asker.username,
                    asker.language,
                    text,
                    data,
                    reason,
                    code,
                    State.NEW.value,
                    moment,
                ),
            )
            ref = cursor.lastrowid
            assert ref is not None
            await _add_message(db, ref, Author.USER, asker.user_id, asker.name, text, moment)
            return await self._finish(db, ref, render)

    async def _finish(self, db: aiosqlite.Connection, ref: int, render: Render | None) -> Enquiry:
        """The enquiry as the transaction left it, with its outbox messages added."""
        enquiry = await read_enquiry(db, ref)
        if enquiry is None:
            raise KeyError(ref)
        await self._outbox.add(db, enquiry, render)
        return enquiry

    async def get(self, ref: int) -> Enquiry | None:
        """One enquiry by reference number."""
        row = await self._db.one("SELECT * FROM enquiries WHERE ref = ?", (ref,))
        return enquiry_from_row(row) if row else None

    async def for_user(self, user_id: int, limit: int = 10) -> list[Enquiry]:
        """A user's enquiries, newest first."""
        rows = await self._db.all(
            "SELECT * FROM enquiries WHERE user_id = ? ORDER BY ref DESC LIMIT ?",
            (user_id, limit),
        )
        return [enquiry_from_row(r) for r in rows]

    async def open_for_user(self, user_id: int) -> Enquiry | None:
        """The user's most recent enquiry that is not resolved, if any."""
        row = await self._db.one(
            f"SELECT * FROM enquiries WHERE user_id = ? AND {_OPEN} ORDER BY ref DESC LIMIT 1",
            (user_id, *OPEN_STATES),
        )
        return enquiry_from_row(row) if row else None

    async def created_since(self, user_id: int, since: datetime) -> list[datetime]:
        """When a user opened each enquiry after a moment, oldest first (for the daily cap)."""
        rows = await self._db.all(
            "SELECT created_at FROM enquiries WHERE user_id = ? AND created_at > ?"
            " ORDER BY created_at",
            (user_id, stamp(since)),
        )
        return [parse(r[0]) or now() for r in rows]

    async def staff_replies_after(self, user_id: int, after: int) -> list[tuple[int, int, str]]:
        """Staff replies to a user's enquiries with a message id above `after`, oldest first:
        (message id, enquiry ref, text). The terminal chat shows them as they arrive."""
        rows = await self._db.all(
            "SELECT m.id, m.ref, m.text FROM messages m JOIN enquiries e ON e.ref = m.ref"
            " WHERE e.user_id = ? AND m.author = ? AND m.id > ? ORDER BY m.id",
            (user_id, Author.STAFF.value, after),
        )
        return [(int(r[0]), int(r[1]), str(r[2])) for r in rows]

    async def last_message_id(self) -> int:
        """The id of the newest message of any thread (0 when there is none)."""
        row = await self._db.one("SELECT COALESCE(MAX(id), 0) FROM messages")
        return int(row[0])

    async def messages(self, ref: int) -> list[Message]:
        """Every message of an enquiry, in order."""
        rows = await self._db.all(
            "SELECT author, author_name, text, created_at FROM messages WHERE ref = ? ORDER BY id",
            (ref,),
        )
        return [
            Message(
                Author(r["author"]), r["author_name"], r["text"], parse(r["created_at"]) or now()
            )
            for r in rows
        ]

    # -- changes of state --------------------------------------------------------------------
    async def add_user_message(
        self, ref: int, asker: Asker, text: str, render: Render | None = None
    ) -> Enquiry:
        """A user's follow-up; an answered or resolved enquiry is open again after it."""
        moment = stamp(self._db.clock())
        async with self._db.write() as db:
            await _add_message(db, ref, Author.USER, asker.user_id, asker.name, text, moment)
            await self._apply(db, ref, Event.USER_WROTE)
            return await self._finish(db, ref, render)

    async def add_staff_reply(
        self, ref: int, staff_id: int, staff_name: str, text: str, render: Render | None = None
    ) -> Enquiry:
        """A staff answer: recorded, the enquiry marked answered, the relay put in the outbox."""
        moment = stamp(self._db.clock())
        async with self._db.write() as db:
            await _add_message(db, ref, Author.STAFF, staff_id, staff_name, text, moment)
            await self._apply(db, ref, Event.STAFF_REPLY, staff_id)
            return await self._finish(db, ref, render)

    async def change(
        self, ref: int, event: Event, staff_id: int | None = None, render: Render | None = None
    ) -> Enquiry:
        """Claim, resolve or reopen; `staff_id` becomes the assignee when claiming."""
        async with self._db.write() as db:
            await self._apply(db, ref, event, staff_id)
            return await self._finish(db, ref, render)

    async def _apply(
        self, db: aiosqlite.Connection, ref: int, event: Event, staff_id: int | None = None
    ) -> None:
        """Move an enquiry to the state `event` leads to, with what goes with that state."""
        current = await read_enquiry(db, ref)
        if current is None:
            raise KeyError(ref)
        target = next_state(event, current.state, current.assignee)
        if target is None:
            return
        moment = stamp(self._db.clock())
        params: tuple[object, ...]
        if event is Event.CLAIM:
            sql, params = "assignee = ?, resolved_at = NULL", (staff_id,)
        elif event is Event.STAFF_REPLY:
            sql = (
                "first_reply_at = COALESCE(first_reply_at, ?),"
                " assignee = COALESCE(assignee, ?), resolved_at = NULL"
            )
            params = (moment, staff_id)
        elif target is State.RESOLVED:
            sql, params = "resolved_at = ?", (moment,)
        else:  # open again: reopened by staff, or the user wrote about it
            sql, params = "resolved_at = NULL, reminded_at = NULL", ()
        await db.execute(
            f"UPDATE enquiries SET state = ?, {sql} WHERE ref = ?", (target.value, *params, ref)
        )

    # -- lists and figures -------------------------------------------------------------------
    async def open_page(self, offset: int = 0, limit: int = 10) -> tuple[list[Enquiry], int]:
        """Open enquiries, oldest first, one page of them, and how many there are in all."""
        rows = await self._db.all(
            f"SELECT * FROM enquiries WHERE {_OPEN} ORDER BY ref LIMIT ? OFFSET ?",
            (*OPEN_STATES, limit, offset),
        )
        total = await self._db.one(f"SELECT COUNT(*) FROM enquiries WHERE {_OPEN}", OPEN_STATES)
        return [enquiry_from_row(r) for r in rows], int(total[0])

    async def all(self) -> list[Enquiry]:
        """Every enquiry, oldest first (for the CSV export)."""
        rows = await self._db.all("SELECT * FROM enquiries ORDER BY ref")
        return [enquiry_from_row(r) for r in rows]

    async def unreminded_waiting(self) -> list[Enquiry]:
        """Enquiries nobody has answered yet and that were not re-announced."""
        rows = await self._db.all(
            f"SELECT * FROM enquiries WHERE {_WAITING} AND reminded_at IS NULL ORDER BY ref",
            WAITING_STATES,
        )
        return [enquiry_from_row(r) for r in rows]

    async def mark_reminded(self, ref: int, render: Render | None = None) -> None:
        """Record that an enquiry was re-announced, with the reminder in the outbox."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE enquiries SET reminded_at = ? WHERE ref = ?",
                (stamp(self._db.clock()), ref),
            )
            await self._finish(db, ref, render)

    async def mark_kb_suggested(self, ref: int) -> bool:
        """Mark an enquiry as added to the suggestions file; False if it already was."""
        async with self._db.write() as db:
            cursor = await db.execute(
                "UPDATE enquiries SET kb_suggested = 1 WHERE ref = ? AND kb_suggested = 0",
                (ref,),
            )
            return cursor.rowcount == 1

    async def stats(self, moment: datetime, week_start: datetime, day_start: datetime) -> Stats:
        """Open count, median time to first reply, answered today/this week, open topics."""
        open_row = await self._db.one(f"SELECT COUNT(*) FROM enquiries WHERE {_OPEN}", OPEN_STATES)
        rows = await self._db.all(
            "SELECT created_at, first_reply_at FROM enquiries WHERE first_reply_at IS NOT NULL"
        )
        waits = sorted(
            (
                (parse(r["first_reply_at"]) or moment) - (parse(r["created_at"]) or moment)
            ).total_seconds()
            for r in rows
        )
        median: float | None = None
        if waits:
            middle = len(waits) // 2
            median = waits[middle] if len(waits) % 2 else (waits[middle - 1] + waits[middle]) / 2
        today = await self._db.one(
            "SELECT COUNT(*) FROM enquiries WHERE first_reply_at >= ?", (stamp(day_start),)
        )
        week = await self._db.one(
            "SELECT COUNT(*) FROM enquiries WHERE first_reply_at >= ?", (stamp(week_start),)
        )
        topics: dict[str, int] = {}
        for row in await self._db.all(
            f"SELECT candidates FROM enquiries WHERE {_WAITING}", WAITING_STATES
        ):
            candidates = json.loads(row["candidates"])
            title = candidates[0]["title"] if candidates else "(no close entry)"
            topics[title] = topics.get(title, 0) + 1
        ranked = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        return Stats(int(open_row[0]), median, int(today[0]), int(week[0]), ranked)

    async def purge_resolved(self, older_than_days: int) -> int:
        """Delete resolved enquiries older than the retention period; returns how many."""
        cutoff = stamp(self._db.clock() - timedelta(days=older_than_days))
        async with self._db.write() as db:
            cursor = await db.execute(
                "DELETE FROM enquiries WHERE state = ? AND resolved_at < ?",
                (State.RESOLVED.value, cutoff),
            )
            return cursor.rowcount

    # -- threads in chats ----------------------------------------------------------------------
    async def ref_for_message(self, chat_id: int, message_id: int) -> int | None:
        """The enquiry a chat message belongs to (a staff thread message or a relayed reply)."""
        row = await self._db.one(
            "SELECT ref FROM thread_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return int(row[0]) if row else None

    async def ref_for_thread(self, thread_id: int) -> int | None:
        """The enquiry that owns a forum topic in the staff chat (topic ids are unique in it)."""
        row = await self._db.one(
            "SELECT ref FROM enquiries WHERE staff_thread_id = ?", (thread_id,)
        )
        return int(row[0]) if row else None

    async def record_thread_messages(
        self, ref: int, chat_id: int, message_ids: Sequence[int]
    ) -> None:
        """Remember that chat messages belong to an enquiry's thread."""
        async with self._db.write() as db:
            await db.executemany(
                "INSERT OR IGNORE INTO thread_messages (chat_id, message_id, ref) VALUES (?,?,?)",
                [(chat_id, message_id, ref) for message_id in message_ids],
            )

    async def set_staff_thread(self, ref: int, thread_id: int) -> None:
        """Record the forum topic created for an enquiry."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE enquiries SET staff_thread_id = ? WHERE ref = ?", (thread_id, ref)
            )


async def _add_message(
    db: aiosqlite.Connection,
    ref: int,
    author: Author,
    author_id: int | None,
    author_name: str,
    text: str,
    moment: str,
) -> None:
    await db.execute(
        "INSERT INTO messages (ref, author, author_id, author_name, text, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (ref, author.value, author_id, author_name, text, moment),
    )
