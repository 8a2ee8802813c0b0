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

# An outbox message `o` waits while an older one to the same chat or about the same enquiry
# is undelivered, so messages arrive in the order they were written.
_NOT_WAITING = (
    "NOT EXISTS (SELECT 1 FROM outbox p WHERE p.id < o.id"
    f" AND p.state IN ({placeholders(UNDELIVERED)})"
    " AND (p.chat_id = o.chat_id OR (o.ref IS NOT NULL AND p.ref = o.ref)))"
)
_ITEMS = (
    "SELECT o.*, e.staff_message_id, e.staff_thread_id, t.telegram_message_id AS edit_message_id,"
    " t.copy_message_id IS NOT NULL AS edit_caption FROM outbox o"
    " LEFT JOIN enquiries e ON e.ref = o.ref LEFT JOIN outbox t ON t.id = o.edit_of"
)


class OutboxStore:
    """Messages waiting to be delivered, and what became of each."""

    def __init__(self, database: Database) -> None:
        self._db = database
        # Set whenever the outbox gains a message, so the delivery worker wakes at once.
        self.changed = asyncio.Event()

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
        now = stamp(self._db.clock())
        for draft in drafts:
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
                    now,
                    now,
                    draft.copy_of.chat_id if draft.copy_of else None,
                    draft.copy_of.message_id if draft.copy_of else None,
                    draft.edit_of,
                    draft.carries if draft.carries is not None else carries,
                ),
            )
        if drafts:  # the worker reads through the read connection: wake it after the commit
            self._db.after_commit(self.changed.set)

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

    async def due(self, limit: int = 20) -> list[OutboxItem]:
        """Messages whose time to (re)try has come, oldest first, with their threading.

        A message waits while an older one to the same chat, or about the same enquiry, is
        still undelivered: a retried announcement must not be overtaken by the reply that
        threads under it, nor a user's first answer by their second.
        """
        rows = await self._db.all(
            f"{_ITEMS} WHERE o.state = ? AND o.next_attempt_at <= ? AND {_NOT_WAITING}"
            " ORDER BY o.id LIMIT ?",
            (OutboxState.PENDING.value, stamp(self._db.clock()), *UNDELIVERED, limit),
        )
        return [_outbox(r) for r in rows]

    async def next_attempt_at(self) -> datetime | None:
        """When the next message that is not waiting behind another is due, if any."""
        row = await self._db.one(
            f"SELECT MIN(o.next_attempt_at) FROM outbox o WHERE o.state = ? AND {_NOT_WAITING}",
            (OutboxState.PENDING.value, *UNDELIVERED),
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
