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

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    exists,
    func,
    not_,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import FromClause

from bot.markup import MAX_MESSAGE, visible_length
from bot.storage.database import Database, Transaction, parse, stamp
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
from bot.storage.schema import enquiries, outbox, thread_messages
from bot.storage.updates import record_in

#: What always goes to a user's chat: answers, edits of them, rating questions and notes
#: (closed, merged). A copy goes to a user when it is not in a staff thread (staff's
#: attachment); a user's attachment is copied into the staff thread.
USER_KINDS = (Kind.REPLY, Kind.EDIT, Kind.RATING, Kind.TO_USER)


def to_user(kind: Kind, in_thread: bool) -> bool:
    """Whether an outbox message of `kind` goes to a user's chat (else to the staff chat)."""
    return kind in USER_KINDS or (kind is Kind.COPY and not in_thread)


def _to_user(o: FromClause) -> ColumnElement[bool]:
    """`to_user` in SQL, for the outbox row `o`."""
    return or_(
        o.c.kind.in_([k.value for k in USER_KINDS]),
        and_(o.c.kind == Kind.COPY.value, o.c.in_thread == 0),
    )


class Lane(StrEnum):
    """The two delivery lanes, which do not wait for each other: what goes to users, and
    everything for the staff chat (which takes 20 messages a minute; a user's chat does not
    make an answer wait behind it)."""

    USERS = "users"
    STAFF = "staff"


#: The outbox row a query is about (`NOT_WAITING` is said of it; bot.storage.replicas too).
ITEM = outbox.alias("o")
_p = outbox.alias("p")
_t = outbox.alias("t")
_UNDELIVERED = [s.value for s in UNDELIVERED]

_IN_LANE: dict[Lane | None, ColumnElement[bool]] = {
    None: true(),
    Lane.USERS: _to_user(ITEM),
    Lane.STAFF: not_(_to_user(ITEM)),
}

# An outbox message `o` waits while an older one to the same chat about the same enquiry is
# undelivered, so an enquiry's thread arrives in the order it was written; a message to a
# user, or one about no enquiry, waits for every older one to its chat. In the staff chat
# enquiries do not wait for each other (a new one need not queue behind another's
# follow-ups), and a user's answer does not wait for the staff chat.
NOT_WAITING = ~exists().where(
    _p.c.id < ITEM.c.id,
    _p.c.state.in_(_UNDELIVERED),
    _p.c.chat_id == ITEM.c.chat_id,
    or_(_p.c.ref == ITEM.c.ref, ITEM.c.ref.is_(None), _to_user(ITEM)),
)
# New enquiries for staff and everything for users first; follow-ups, copies, reminders,
# notices and button updates in the staff chat after.
_PRIORITY = case((or_(ITEM.c.kind == Kind.ANNOUNCE.value, _to_user(ITEM)), 0), else_=1)
_ITEMS = select(
    ITEM,
    enquiries.c.staff_message_id,
    enquiries.c.staff_thread_id,
    _t.c.telegram_message_id.label("edit_message_id"),
    _t.c.copy_message_id.is_not(None).label("edit_caption"),
).select_from(
    ITEM.outerjoin(enquiries, enquiries.c.ref == ITEM.c.ref).outerjoin(
        _t, _t.c.id == ITEM.c.edit_of
    )
)

# The statements the delivery worker runs for every message, built once (database.Params).
_INSERT = outbox.insert()
_DUE = {
    lane: _ITEMS.where(
        ITEM.c.state == OutboxState.PENDING.value,
        ITEM.c.next_attempt_at <= bindparam("now"),
        NOT_WAITING,
        in_lane,
    )
    .order_by(_PRIORITY, ITEM.c.id)
    .limit(bindparam("limit"))
    for lane, in_lane in _IN_LANE.items()
}
_NEXT_ATTEMPT = {
    lane: select(func.min(ITEM.c.next_attempt_at)).where(
        ITEM.c.state == OutboxState.PENDING.value, NOT_WAITING, in_lane
    )
    for lane, in_lane in _IN_LANE.items()
}
_MARK_SENDING = (  # only while pending: a message read as due may have gone since
    update(outbox)
    .where(outbox.c.id == bindparam("item_id"), outbox.c.state == OutboxState.PENDING.value)
    .values(state=OutboxState.SENDING.value, attempts=outbox.c.attempts + 1)
)
_MARK_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("item_id"))
    .values(state=OutboxState.SENT.value, last_error=None)
)
_THREADED = {
    "postgresql": postgresql.insert(thread_messages).on_conflict_do_nothing(),
    "sqlite": sqlite.insert(thread_messages).on_conflict_do_nothing(),
}
_ANNOUNCED = update(enquiries).where(enquiries.c.ref == bindparam("the_ref"))


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
        db: Transaction,
        enquiry: Enquiry | None,
        render: Render | None,
        carries: int | None = None,
    ) -> None:
        """Inside a write transaction: put what `render` says about `enquiry` in the outbox.

        `carries` is the thread message the drafts relay (a draft may name its own). The
        transaction records the update being handled, if any (bot.storage.updates)."""
        await record_in(db, self._db)
        if render is None:
            return
        drafts = render(enquiry) if enquiry is not None else ()
        moment = self._db.clock()
        now = stamp(moment)
        for draft in drafts:
            if enquiry is not None and draft.merge and await self._merge(db, enquiry.ref, draft):
                continue
            await db.execute(
                _INSERT,
                {
                    "ref": enquiry.ref if enquiry else None,
                    "kind": draft.kind.value,
                    "chat_id": draft.chat_id,
                    "in_thread": int(draft.in_thread),
                    "text": draft.text,
                    "markup": json.dumps([list(map(list, row)) for row in draft.markup])
                    if draft.markup
                    else None,
                    "next_attempt_at": stamp(moment + timedelta(seconds=draft.delay_s)),
                    "created_at": now,
                    "copy_chat_id": draft.copy_of.chat_id if draft.copy_of else None,
                    "copy_message_id": draft.copy_of.message_id if draft.copy_of else None,
                    "edit_of": draft.edit_of,
                    "carries": draft.carries if draft.carries is not None else carries,
                },
            )
        if drafts:  # the worker reads through the read side: wake it after the commit
            self._db.after_commit(self.changed.set)

    async def _merge(self, db: Transaction, ref: int, draft: Draft) -> bool:
        """Append `draft.merge` to the last message queued about `ref` for the same chat, if
        that one waits (is not being sent), is of the draft's kind, starts with the same
        heading, and still fits in one message with it. Anything queued after it (a copy, a
        notice) keeps the thread's order: the draft is then a message of its own."""
        heading = draft.text.removesuffix(draft.merge)
        row = (
            await db.execute(
                select(outbox.c.id, outbox.c.kind, outbox.c.state, outbox.c.text)
                .where(outbox.c.ref == ref, outbox.c.chat_id == draft.chat_id)
                .order_by(outbox.c.id.desc())
                .limit(1)
            )
        ).first()
        if (
            row is None
            or row.kind != draft.kind.value
            or row.state != OutboxState.PENDING.value
            or not row.text.startswith(heading)
            or visible_length(row.text + draft.merge) > MAX_MESSAGE
        ):
            return False
        await db.execute(
            update(outbox).where(outbox.c.id == row.id).values(text=row.text + draft.merge)
        )
        return True

    async def enqueue(self, drafts: Sequence[Draft]) -> None:
        """Put messages about no enquiry in the outbox, outside any other change."""
        now = stamp(self._db.clock())
        async with self._db.write() as db:
            for draft in drafts:
                await db.execute(
                    outbox.insert().values(
                        kind=draft.kind.value,
                        chat_id=draft.chat_id,
                        text=draft.text,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            if drafts:
                self._db.after_commit(self.changed.set)

    async def recover(self) -> int:
        """After a crash: messages caught mid-send go back to pending (better twice than never)."""
        async with self._db.write() as db:
            result = await db.execute(
                update(outbox)
                .where(outbox.c.state == OutboxState.SENDING.value)
                .values(state=OutboxState.PENDING.value)
            )
            return int(result.rowcount)

    async def due(self, limit: int = 20, lane: Lane | None = None) -> list[OutboxItem]:
        """Messages (of one `lane`, or both) whose time to (re)try has come, with their
        threading: announcements and what goes to users first, then the rest, oldest first
        within each.

        A message waits while an older one about the same enquiry (or, for a user, to the
        same chat) is still undelivered: a retried announcement must not be overtaken by the
        follow-up that threads under it, nor a user's first answer by their second, nor an
        edit by the answer it edits.
        """
        rows = await self._db.all(_DUE[lane], {"now": stamp(self._db.clock()), "limit": limit})
        return [_outbox(r) for r in rows]

    async def next_attempt_at(self, lane: Lane | None = None) -> datetime | None:
        """When the next message (of `lane`) that is not waiting behind another is due."""
        first = await self._db.scalar(_NEXT_ATTEMPT[lane])
        return parse(first) if first else None

    async def mark_sending(self, item_id: int) -> bool:
        """About to call the Bot API for this message: take it, if it is still pending.
        False if it is not (sent or taken since it was read as due): then it must not go."""
        async with self._db.write() as db:
            result = await db.execute(_MARK_SENDING, {"item_id": item_id})
            return bool(result.rowcount == 1)

    async def mark_sent(self, item: OutboxItem, telegram_message_id: int) -> None:
        """Delivered: keep Telegram's message id, and thread it with its enquiry."""
        async with self._db.write() as db:
            await db.execute(
                _MARK_SENT,
                {
                    "item_id": item.id,
                    "telegram_message_id": telegram_message_id,
                    "sent_at": stamp(self._db.clock()),
                },
            )
            if item.ref is None:
                return
            await db.execute(
                _THREADED[db.dialect.name],
                {"chat_id": item.chat_id, "message_id": telegram_message_id, "ref": item.ref},
            )
            if item.kind is Kind.ANNOUNCE:
                await db.execute(
                    _ANNOUNCED, {"the_ref": item.ref, "staff_message_id": telegram_message_id}
                )

    async def mark_retry(self, item_id: int, error: str, delay_s: float) -> None:
        """A temporary failure: try again after `delay_s` seconds (only a message still
        being sent: a failure never undoes a delivery recorded meanwhile)."""
        when = stamp(self._db.clock() + timedelta(seconds=delay_s))
        async with self._db.write() as db:
            await db.execute(
                update(outbox)
                .where(outbox.c.id == item_id, outbox.c.state == OutboxState.SENDING.value)
                .values(state=OutboxState.PENDING.value, last_error=error, next_attempt_at=when)
            )

    async def mark_failed(self, item: OutboxItem, error: str, render: Render | None) -> None:
        """A permanent failure (e.g. the user blocked the bot); `render` may tell staff."""
        async with self._db.write() as db:
            await db.execute(
                update(outbox)
                .where(outbox.c.id == item.id)
                .values(state=OutboxState.FAILED.value, last_error=error)
            )
            if item.ref is not None:
                await self.add(db, await read_enquiry(db, item.ref), render)

    async def relay_of(self, message_id: int, chat_id: int) -> int | None:
        """The outbox message that relayed thread message `message_id` to `chat_id`."""
        found = await self._db.scalar(
            select(outbox.c.id)
            .where(
                outbox.c.carries == message_id,
                outbox.c.chat_id == chat_id,
                outbox.c.kind.in_([Kind.REPLY.value, Kind.COPY.value]),
            )
            .order_by(outbox.c.id)
            .limit(1)
        )
        return int(found) if found is not None else None

    async def kind_of_sent(self, chat_id: int, telegram_message_id: int) -> Kind | None:
        """What kind of outbox message Telegram's message `telegram_message_id` was, if ours."""
        kind = await self._db.scalar(
            select(outbox.c.kind)
            .where(
                outbox.c.chat_id == chat_id, outbox.c.telegram_message_id == telegram_message_id
            )
            .limit(1)
        )
        return Kind(kind) if kind is not None else None

    async def release(self, ref: int, chat_id: int) -> bool:
        """Messages to `chat_id` about `ref` held back (a draft's `delay_s`) may go now;
        whether there were any."""
        now = stamp(self._db.clock())
        async with self._db.write() as db:
            result = await db.execute(
                update(outbox)
                .where(
                    outbox.c.ref == ref,
                    outbox.c.chat_id == chat_id,
                    outbox.c.state == OutboxState.PENDING.value,
                    outbox.c.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
            )
            released = bool(result.rowcount)
            if released:
                self._db.after_commit(self.changed.set)
        return released

    async def items(self, ref: int | None = None) -> list[OutboxItem]:
        """Every outbox message (of one enquiry), oldest first: for tests and /show."""
        query = _ITEMS if ref is None else _ITEMS.where(ITEM.c.ref == ref)
        rows = await self._db.all(query.order_by(ITEM.c.id))
        return [_outbox(r) for r in rows]


def _outbox(result: Any) -> OutboxItem:
    row = result._mapping
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
