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
from enum import StrEnum
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
    Source,
)
from bot.storage.rows import read_enquiry

#: What always goes to a user's chat: answers, edits of them, rating questions and notes
#: (closed, merged). A copy goes to a user when it is not in a staff thread (staff's
#: attachment); a user's attachment is copied into the staff thread.
USER_KINDS = (Kind.REPLY, Kind.EDIT, Kind.RATING, Kind.TO_USER)


def to_user(kind: Kind, in_thread: bool) -> bool:
    """Whether an outbox message of `kind` goes to a user's chat (else to the staff chat)."""
    return kind in USER_KINDS or (kind is Kind.COPY and not in_thread)


_TO_USER = (
    f"(o.kind IN ({', '.join(repr(k.value) for k in USER_KINDS)})"
    f" OR (o.kind = '{Kind.COPY.value}' AND NOT o.in_thread))"
)


class Lane(StrEnum):
    """The two delivery lanes, which do not wait for each other: what goes to users, and
    everything for the staff chat (which takes 20 messages a minute; a user's chat does not
    make an answer wait behind it)."""

    USERS = "users"
    STAFF = "staff"


_IN_LANE = {None: "1", Lane.USERS: _TO_USER, Lane.STAFF: f"NOT {_TO_USER}"}

# An outbox message `o` waits while an older one to the same chat about the same enquiry is
# undelivered, so an enquiry's thread arrives in the order it was written; a message to a
# user, or one about no enquiry, waits for every older one to its chat. In the staff chat
# enquiries do not wait for each other (a new one need not queue behind another's
# follow-ups), and a user's answer does not wait for the staff chat.
_NOT_WAITING = (
    "NOT EXISTS (SELECT 1 FROM outbox p WHERE p.id < o.id"
    f" AND p.state IN ({placeholders(UNDELIVERED)}) AND p.chat_id = o.chat_id"
    f" AND (p.ref = o.ref OR o.ref IS NULL OR {_TO_USER}))"
)
# New enquiries for staff and everything for users first; follow-ups, copies, reminders,
# notices and button updates in the staff chat after.
_PRIORITY = f"CASE WHEN o.kind = '{Kind.ANNOUNCE.value}' OR {_TO_USER} THEN 0 ELSE 1 END"
_ITEMS = (
    "SELECT o.*, e.staff_message_id, e.staff_thread_id, t.telegram_message_id AS edit_message_id,"
    " t.copy_message_id IS NOT NULL AS edit_caption FROM outbox o"
    " LEFT JOIN enquiries e ON e.ref = o.ref LEFT JOIN outbox t ON t.id = o.edit_of"
)


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
        self,
        db: aiosqlite.Connection,
        enquiry: Enquiry | None,
        render: Render | None,
        carries: int | None = None,
    ) -> None:
        """Inside a write transaction: put what `render` says about `enquiry` in the outbox.

        `carries` is the thread message the drafts relay (a draft may name its own)."""
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
                " next_attempt_at, created_at, copy_chat_id, copy_message_id, edit_of, carries)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
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
                    draft.copy_of.chat_id if draft.copy_of else None,
                    draft.copy_of.message_id if draft.copy_of else None,
                    draft.edit_of,
                    draft.carries if draft.carries is not None else carries,
                ),
            )
        if drafts:  # the worker reads through the read connection: wake it after the commit
            self._db.after_commit(self.changed.set)

    async def _merge(self, db: aiosqlite.Connection, ref: int, draft: Draft) -> bool:
        """Append `draft.merge` to the last message queued about `ref` for the same chat, if
        that one waits (is not being sent), is of the draft's kind, starts with the same
        heading, and still fits in one message with it. Anything queued after it (a copy, a
        notice) keeps the thread's order: the draft is then a message of its own."""
        heading = draft.text.removesuffix(draft.merge)
        cursor = await db.execute(
            "SELECT id, kind, state, text FROM outbox WHERE ref = ? AND chat_id = ?"
            " ORDER BY id DESC LIMIT 1",
            (ref, draft.chat_id),
        )
        row = await cursor.fetchone()
        if (
            row is None
            or row[1] != draft.kind.value
            or row[2] != OutboxState.PENDING.value
            or not row[3].startswith(heading)
            or visible_length(row[3] + draft.merge) > MAX_MESSAGE
        ):
            return False
        await db.execute("UPDATE outbox SET text = ? WHERE id = ?", (row[3] + draft.merge, row[0]))
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

    async def due(self, limit: int = 20, lane: Lane | None = None) -> list[OutboxItem]:
        """Messages (of one `lane`, or both) whose time to (re)try has come, with their
        threading: announcements and what goes to users first, then the rest, oldest first
        within each.

        A message waits while an older one about the same enquiry (or, for a user, to the
        same chat) is still undelivered: a retried announcement must not be overtaken by the
        follow-up that threads under it, nor a user's first answer by their second, nor an
        edit by the answer it edits.
        """
        rows = await self._db.all(
            f"{_ITEMS} WHERE o.state = ? AND o.next_attempt_at <= ? AND {_NOT_WAITING}"
            f" AND {_IN_LANE[lane]} ORDER BY {_PRIORITY}, o.id LIMIT ?",
            (OutboxState.PENDING.value, stamp(self._db.clock()), *UNDELIVERED, limit),
        )
        return [_outbox(r) for r in rows]

    async def next_attempt_at(self, lane: Lane | None = None) -> datetime | None:
        """When the next message (of `lane`) that is not waiting behind another is due."""
        row = await self._db.one(
            f"SELECT MIN(o.next_attempt_at) FROM outbox o WHERE o.state = ? AND {_NOT_WAITING}"
            f" AND {_IN_LANE[lane]}",
            (OutboxState.PENDING.value, *UNDELIVERED),
        )
        return parse(row[0]) if row and row[0] else None

    async def mark_sending(self, item_id: int) -> bool:
        """About to call the Bot API for this message: take it, if it is still pending.
        False if it is not (sent or taken since it was read as due): then it must not go."""
        async with self._db.write() as db:
            cursor = await db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1 WHERE id = ? AND state = ?",
                (OutboxState.SENDING.value, item_id, OutboxState.PENDING.value),
            )
            return cursor.rowcount == 1

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
        """A temporary failure: try again after `delay_s` seconds (only a message still
        being sent: a failure never undoes a delivery recorded meanwhile)."""
        when = stamp(self._db.clock() + timedelta(seconds=delay_s))
        async with self._db.write() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, last_error = ?, next_attempt_at = ?"
                " WHERE id = ? AND state = ?",
                (OutboxState.PENDING.value, error, when, item_id, OutboxState.SENDING.value),
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

    async def relay_of(self, message_id: int, chat_id: int) -> int | None:
        """The outbox message that relayed thread message `message_id` to `chat_id`."""
        row = await self._db.one(
            "SELECT id FROM outbox WHERE carries = ? AND chat_id = ? AND kind IN (?, ?)"
            " ORDER BY id LIMIT 1",
            (message_id, chat_id, Kind.REPLY.value, Kind.COPY.value),
        )
        return int(row[0]) if row else None

    async def kind_of_sent(self, chat_id: int, telegram_message_id: int) -> Kind | None:
        """What kind of outbox message Telegram's message `telegram_message_id` was, if ours."""
        row = await self._db.one(
            "SELECT kind FROM outbox WHERE chat_id = ? AND telegram_message_id = ? LIMIT 1",
            (chat_id, telegram_message_id),
        )
        return Kind(row[0]) if row else None

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
        copy_of=(
            Source(row["copy_chat_id"], row["copy_message_id"])
            if row["copy_message_id"] is not None
            else None
        ),
        edit_message_id=row["edit_message_id"],
        edit_caption=bool(row["edit_caption"]),
    )
