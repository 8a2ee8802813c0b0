"""The outbox table: every message the bot owes someone, until Telegram has it.

Messages are added inside the transaction of the change that caused them (`add`), so a
crash can delay a message but never lose it; the delivery worker (bot.outbox) reads what is
due and records each attempt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import aiosqlite

from bot.markup import MAX_MESSAGE, visible_length
from bot.storage.database import Database, parse, placeholders, stamp
from bot.storage.records import (
    UNDELIVERED,
    Draft,
    Enquiry,
    Kind,
    OutboxItem,
    OutboxState,
    Render,
)
from bot.storage.rows import read_enquiry

# An outbox message `o` waits while an older one to the same chat about the same enquiry is
# undelivered, so an enquiry's thread arrives in the order it was written; a reply to a
# user, or a message about no enquiry, waits for every older one to its chat. In the staff
# chat enquiries do not wait for each other (a new one need not queue behind another's
# follow-ups), and a user's answer does not wait for the staff chat.
_NOT_WAITING = (
    "NOT EXISTS (SELECT 1 FROM outbox p WHERE p.id < o.id"
    f" AND p.state IN ({placeholders(UNDELIVERED)}) AND p.chat_id = o.chat_id"
    f" AND (p.ref = o.ref OR o.ref IS NULL OR o.kind = '{Kind.REPLY.value}'))"
)
# New enquiries for staff and answers for users first; follow-ups, reminders and notes after.
_FIRST = (Kind.ANNOUNCE.value, Kind.REPLY.value)
_PRIORITY = f"CASE WHEN o.kind IN ({placeholders(_FIRST)}) THEN 0 ELSE 1 END"
_ITEMS = (
    "SELECT o.*, e.staff_message_id, e.staff_thread_id FROM outbox o"
    " LEFT JOIN enquiries e ON e.ref = o.ref"
)


#: The two delivery lanes: answers to users, and everything for the staff chat. They do not
#: wait for each other: the staff group takes 20 messages a minute, a user's chat does not.
USER_KINDS = (Kind.REPLY,)
STAFF_KINDS = tuple(kind for kind in Kind if kind not in USER_KINDS)


class Wakeup:
    """Set whenever the outbox gains a message; each delivery lane waits on its own event."""

    def __init__(self) -> None:
        self._events: list[asyncio.Event] = []
        self._ever = False

    def subscribe(self) -> asyncio.Event:
        """A new event that every `set` sets."""
        event = asyncio.Event()
        self._events.append(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        """Forget an event (its lane stopped)."""
        self._events.remove(event)

    def set(self) -> None:
        """Wake every lane."""
        self._ever = True
        for event in self._events:
            event.set()

    def is_set(self) -> bool:
        """Whether anything woke the lanes since the store was opened."""
        return self._ever


class OutboxStore:
    """Messages waiting to be delivered, and what became of each."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # Set whenever the outbox gains a message, so the delivery worker wakes at once.
        self.changed = Wakeup()

    @property
    def clock(self) -> Callable[[], datetime]:
        """The store's clock (a callable returning an aware datetime)."""
        return self._db.clock

    async def add(
        self, db: aiosqlite.Connection, enquiry: Enquiry | None, render: Render | None
    ) -> None:
        """Inside a write transaction: put what `render` says about `enquiry` in the outbox."""
        if render is None:
            return
        drafts = render(enquiry) if enquiry is not None else ()
        moment = self._db.clock()
        now = stamp(moment)
        for draft in drafts:
            if enquiry is not None and draft.merge and await self._merge(db, enquiry.ref, draft):
                continue
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
                    stamp(moment + timedelta(seconds=draft.delay_s)),
                    now,
                ),
            )
        if drafts:  # the worker reads through the read connection: wake it after the commit
            self._db.after_commit(self.changed.set)

    async def _merge(self, db: aiosqlite.Connection, ref: int, draft: Draft) -> bool:
        """Append `draft.merge` to a queued message of its kind about `ref`, if one is
        waiting (not being sent) and the result still fits in one message."""
        cursor = await db.execute(
            "SELECT id, text FROM outbox WHERE ref = ? AND kind = ? AND state = ?"
            " ORDER BY id DESC LIMIT 1",
            (ref, draft.kind.value, OutboxState.PENDING.value),
        )
        row = await cursor.fetchone()
        if row is None or visible_length(row[1] + draft.merge) > MAX_MESSAGE:
            return False
        await db.execute("UPDATE outbox SET text = ? WHERE id = ?", (row[1] + draft.merge, row[0]))
        return True

    async def enqueue(self, drafts: Sequence[Draft]) -> None:
        """Put messages about no enquiry in the outbox, outside any other change."""
        now = stamp(self._db.clock())
        async with self._db.write() as db:
            for draft in drafts:
                await db.execute(
                    "INSERT INTO outbox (kind, chat_id, text, next_attempt_at, created_at)"
                    " VALUES (?,?,?,?,?)",
                    (draft.kind.value, draft.chat_id, draft.text, now, now),
                )
            if drafts:
                self._db.after_commit(self.changed.set)

    async def recover(self) -> int:
        """After a crash: messages caught mid-send go back to pending (better twice than never)."""
        async with self._db.write() as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = ? WHERE state = ?",
                (OutboxState.PENDING.value, OutboxState.SENDING.value),
            )
            return cursor.rowcount

    async def due(self, limit: int = 20, kinds: Sequence[Kind] = tuple(Kind)) -> list[OutboxItem]:
        """Messages (of `kinds`) whose time to (re)try has come, with their threading:
        announcements and answers to users first, then the rest, oldest first within each.

        A message waits while an older one about the same enquiry (or, for a user, to the
        same chat) is still undelivered: a retried announcement must not be overtaken by the
        follow-up that threads under it, nor a user's first answer by their second.
        """
        rows = await self._db.all(
            f"{_ITEMS} WHERE o.state = ? AND o.next_attempt_at <= ? AND {_NOT_WAITING}"
            f" AND o.kind IN ({placeholders(kinds)}) ORDER BY {_PRIORITY}, o.id LIMIT ?",
            (
                OutboxState.PENDING.value,
                stamp(self._db.clock()),
                *UNDELIVERED,
                *kinds,
                *_FIRST,
                limit,
            ),
        )
        return [_outbox(r) for r in rows]

    async def next_attempt_at(self, kinds: Sequence[Kind] = tuple(Kind)) -> datetime | None:
        """When the next message (of `kinds`) that is not waiting behind another is due."""
        row = await self._db.one(
            f"SELECT MIN(o.next_attempt_at) FROM outbox o WHERE o.state = ? AND {_NOT_WAITING}"
            f" AND o.kind IN ({placeholders(kinds)})",
            (OutboxState.PENDING.value, *UNDELIVERED, *kinds),
        )
        return parse(row[0]) if row and row[0] else None

    async def mark_sending(self, item_id: int) -> None:
        """About to call the Bot API for this message."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1 WHERE id = ?",
                (OutboxState.SENDING.value, item_id),
            )

    async def mark_sent(self, item: OutboxItem, telegram_message_id: int) -> None:
        """Delivered: keep Telegram's message id, and thread it with its enquiry."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, telegram_message_id = ?, sent_at = ?,"
                " last_error = NULL WHERE id = ?",
                (OutboxState.SENT.value, telegram_message_id, stamp(self._db.clock()), item.id),
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
        when = stamp(self._db.clock() + timedelta(seconds=delay_s))
        async with self._db.write() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                (OutboxState.PENDING.value, error, when, item_id),
            )

    async def mark_failed(self, item: OutboxItem, error: str, render: Render | None) -> None:
        """A permanent failure (e.g. the user blocked the bot); `render` may tell staff."""
        async with self._db.write() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = ? WHERE id = ?",
                (OutboxState.FAILED.value, error, item.id),
            )
            if item.ref is not None:
                await self.add(db, await read_enquiry(db, item.ref), render)

    async def items(self, ref: int | None = None) -> list[OutboxItem]:
        """Every outbox message (of one enquiry), oldest first: for tests and /show."""
        where, params = ("WHERE o.ref = ?", (ref,)) if ref is not None else ("", ())
        rows = await self._db.all(f"{_ITEMS} {where} ORDER BY o.id", params)
        return [_outbox(r) for r in rows]


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
