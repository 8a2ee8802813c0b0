"""The enquiries table and its threads: escalated questions, their messages, their states.

Every change that owes someone a message takes a `Render`, whose drafts go into the outbox
in the same transaction. States change only through `bot.storage.records.next_state`; what
every change of state owes (the announcement's buttons, the rating question on the first
close) comes from the `StoreHooks` the services install.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from bot.decision import Candidate
from bot.storage.database import Database, Transaction, now, parse, stamp, upsert
from bot.storage.outbox import OutboxStore
from bot.storage.ratings import ask_rating
from bot.storage.records import (
    OPEN_STATES,
    REPLY_KINDS,
    WAITING_STATES,
    Asker,
    Author,
    Draft,
    Enquiry,
    Event,
    Media,
    Message,
    MessageKind,
    Render,
    Source,
    State,
    next_state,
)
from bot.storage.rows import BY_REF, enquiry_from_row, read_enquiry
from bot.storage.schema import enquiries, messages, thread_messages

_OPEN = enquiries.c.state.in_([s.value for s in OPEN_STATES])
_WAITING = enquiries.c.state.in_([s.value for s in WAITING_STATES])
# The statements run for every enquiry and message, built once (see database.Params).
_INSERT_ENQUIRY = insert(enquiries).returning(enquiries.c.ref)
_INSERT_MESSAGE = insert(messages).returning(messages.c.id)
_MESSAGES = (
    select(messages)
    .where(messages.c.ref == bindparam("ref"))
    .order_by(messages.c.created_at, messages.c.id)
)


#: What a close owes: the enquiry, the event that closed it, and whether the rating question
#: is asked now (only on an enquiry's first close).
ResolvedRender = Callable[[Enquiry, Event, bool], Sequence[Draft]]
#: What a change of state owes, given the enquiry before and after it.
ChangeRender = Callable[[Enquiry, Enquiry], Sequence[Draft]]


@dataclass
class StoreHooks:
    """What every change of state owes, whichever command made it (set by the services)."""

    state_changed: ChangeRender | None = None  # e.g. the announcement's buttons
    resolved: ResolvedRender | None = None  # e.g. the rating question


@dataclass(frozen=True)
class ThreadMessage:
    """A stored message found by where it was written in Telegram."""

    ref: int
    message: Message


class EnquiryStore:
    """Repository of enquiries; each change writes its outbox messages with it."""

    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        self._db = database
        self._outbox = outbox
        self.hooks = StoreHooks()

    async def create(
        self,
        asker: Asker,
        text: str,
        candidates: Sequence[Candidate] = (),
        reason: str = "",
        render: Render | None = None,
        code: str = "",
        media: Media | None = None,
    ) -> Enquiry:
        """Store a new enquiry and its first message, plus what `render` says to send.

        `reason` says in words why it went to staff, `code` is the matcher's reason code;
        `media` is the attachment the first message came with."""
        moment = stamp(self._db.clock())
        data = json.dumps([c.to_json() for c in candidates])
        async with self._db.write() as db:
            ref = (
                await db.execute(
                    _INSERT_ENQUIRY,
                    {
                        "user_id": asker.user_id,
                        "chat_id": asker.chat_id,
                        "name": asker.name,
                        "username": asker.username,
                        "language": asker.language,
                        "text": text,
                        "candidates": data,
                        "reason": reason,
                        "code": code,
                        "state": State.NEW.value,
                        "created_at": moment,
                    },
                )
            ).scalar_one()
            await _add_message(db, ref, _from_user(asker, text, moment, media))
            return await self._finish(db, ref, render)

    async def _finish(
        self, db: Transaction, ref: int, render: Render | None, carries: int | None = None
    ) -> Enquiry:
        """The enquiry as the transaction left it, with its outbox messages added."""
        enquiry = await read_enquiry(db, ref)
        if enquiry is None:
            raise KeyError(ref)
        await self._outbox.add(db, enquiry, render, carries)
        return enquiry

    async def get(self, ref: int) -> Enquiry | None:
        """One enquiry by reference number."""
        row = await self._db.one(BY_REF, {"ref": ref})
        return enquiry_from_row(row) if row else None

    async def for_user(self, user_id: int, limit: int = 10) -> list[Enquiry]:
        """A user's enquiries, newest first."""
        rows = await self._db.all(
            select(enquiries)
            .where(enquiries.c.user_id == user_id)
            .order_by(enquiries.c.ref.desc())
            .limit(limit)
        )
        return [enquiry_from_row(r) for r in rows]

    async def open_for_user(self, user_id: int) -> Enquiry | None:
        """The user's most recent enquiry that is not resolved, if any."""
        row = await self._db.one(
            select(enquiries)
            .where(enquiries.c.user_id == user_id, _OPEN)
            .order_by(enquiries.c.ref.desc())
            .limit(1)
        )
        return enquiry_from_row(row) if row else None

    async def created_since(self, user_id: int, since: datetime) -> list[datetime]:
        """When a user opened each enquiry after a moment, oldest first (for the daily cap)."""
        rows = await self._db.all(
            select(enquiries.c.created_at)
            .where(enquiries.c.user_id == user_id, enquiries.c.created_at > stamp(since))
            .order_by(enquiries.c.created_at)
        )
        return [parse(r.created_at) or now() for r in rows]

    async def staff_replies_after(
        self, user_id: int, after: int
    ) -> list[tuple[int, str | None, Message]]:
        """Staff replies to a user's enquiries with a message id above `after`, oldest first,
        as (enquiry ref, the enquiry's language, the reply); notes and edits are left out.
        The terminal chat shows them as they arrive."""
        rows = await self._db.all(
            select(messages, enquiries.c.language.label("enquiry_language"))
            .join(enquiries, enquiries.c.ref == messages.c.ref)
            .where(
                enquiries.c.user_id == user_id,
                messages.c.author == Author.STAFF.value,
                messages.c.kind.in_([k.value for k in REPLY_KINDS]),
                messages.c.id > after,
            )
            .order_by(messages.c.id)
        )
        return [(int(r.ref), r.enquiry_language, _message(r)) for r in rows]

    async def last_message_id(self) -> int:
        """The id of the newest message of any thread (0 when there is none)."""
        return int(await self._db.scalar(select(func.coalesce(func.max(messages.c.id), 0))))

    async def messages(self, ref: int) -> list[Message]:
        """Every message of an enquiry (and of those merged into it), oldest first."""
        rows = await self._db.all(_MESSAGES, {"ref": ref})
        return [_message(r) for r in rows]

    async def message_at(self, source: Source) -> ThreadMessage | None:
        """The stored message written as `source` in Telegram (not an edit of it), if any."""
        row = await self._db.one(
            select(messages)
            .where(
                messages.c.chat_id == source.chat_id,
                messages.c.message_id == source.message_id,
                messages.c.edit_of.is_(None),
            )
            .order_by(messages.c.id)
            .limit(1)
        )
        return ThreadMessage(int(row.ref), _message(row)) if row else None

    # -- changes of state --------------------------------------------------------------------
    async def add_user_message(
        self,
        ref: int,
        asker: Asker,
        text: str,
        render: Render | None = None,
        media: Media | None = None,
    ) -> Enquiry:
        """A user's follow-up; a pending or resolved enquiry is open again after it."""
        moment = stamp(self._db.clock())
        async with self._db.write() as db:
            await _add_message(db, ref, _from_user(asker, text, moment, media))
            await self._apply(db, ref, Event.USER_WROTE)
            return await self._finish(db, ref, render)

    async def add_staff_reply(
        self,
        ref: int,
        staff_id: int,
        staff_name: str,
        text: str,
        render: Render | None = None,
        *,
        media: Media | None = None,
        source: Source | None = None,
        saved_reply: str = "",
    ) -> Enquiry:
        """A staff answer: recorded, the enquiry pending on the user, the relay in the outbox.

        The relay's outbox message carries the stored message's id, so that an edit of the
        staff message (`source`) can find and edit the user's copy."""
        moment = stamp(self._db.clock())
        kind = MessageKind.ATTACHMENT if media else MessageKind.TEXT
        message = _Row(Author.STAFF, staff_id, staff_name, text, moment, kind, media, source)
        async with self._db.write() as db:
            message_id = await _add_message(db, ref, message, saved_reply=saved_reply)
            await self._apply(db, ref, Event.STAFF_REPLY, staff_id, staff_name)
            return await self._finish(db, ref, render, carries=message_id)

    async def add_note(
        self, ref: int, staff_id: int, staff_name: str, text: str, source: Source | None = None
    ) -> Enquiry:
        """An internal note: stored in the thread, sent to nobody, the state unchanged."""
        moment = stamp(self._db.clock())
        note = _Row(
            Author.STAFF, staff_id, staff_name, text, moment, MessageKind.NOTE, None, source
        )
        async with self._db.write() as db:
            await _add_message(db, ref, note)
            return await self._finish(db, ref, None)

    async def add_edit(
        self,
        original: ThreadMessage,
        author_id: int | None,
        text: str,
        render: Render | None = None,
    ) -> Enquiry:
        """A later version of a stored message; what `render` says (the relay of the edit)."""
        moment = stamp(self._db.clock())
        before = original.message
        edit = _Row(
            before.author,
            author_id,
            before.author_name,
            text,
            moment,
            MessageKind.EDIT,
            None,
            None,
        )
        async with self._db.write() as db:
            await _add_message(db, original.ref, edit, edit_of=before.id)
            return await self._finish(db, original.ref, render, carries=before.id)

    async def change(
        self,
        ref: int,
        event: Event,
        staff_id: int | None = None,
        render: Render | None = None,
        staff_name: str = "",
    ) -> Enquiry:
        """Claim, resolve or reopen; `staff_id` becomes the assignee when claiming."""
        async with self._db.write() as db:
            await self._apply(db, ref, event, staff_id, staff_name)
            return await self._finish(db, ref, render)

    async def merge(self, into: int, merged: int, render: Render | None = None) -> Enquiry:
        """Fold enquiry `merged` into `into`: its messages and its thread in the chats (a reply
        to one of its messages joins `into` from now on); `merged` is resolved, pointing at
        `into`, and `into` is open again if `merged` was open. `render` gets `into`."""
        async with self._db.write() as db:
            source = await read_enquiry(db, merged)
            if source is None:
                raise KeyError(merged)
            await db.execute(update(messages).where(messages.c.ref == merged).values(ref=into))
            await db.execute(
                update(thread_messages).where(thread_messages.c.ref == merged).values(ref=into)
            )
            await self._apply(db, merged, Event.MERGED)
            await db.execute(
                update(enquiries)
                .where((enquiries.c.ref == merged) | (enquiries.c.merged_into == merged))
                .values(merged_into=into)
            )
            if (changed := self.hooks.state_changed) is not None:  # its buttons go
                await self._outbox.add(
                    db, await read_enquiry(db, merged), partial(changed, source)
                )
            if source.is_open:
                await self._apply(db, into, Event.USER_WROTE)
            return await self._finish(db, into, render)

    async def _apply(
        self,
        db: Transaction,
        ref: int,
        event: Event,
        staff_id: int | None = None,
        staff_name: str = "",
    ) -> None:
        """Move an enquiry to the state `event` leads to, with what goes with that state."""
        current = await read_enquiry(db, ref)
        if current is None:
            raise KeyError(ref)
        target = next_state(event, current.state, current.assignee)
        if target is None:
            return
        moment = stamp(self._db.clock())
        e = enquiries.c
        values: dict[str, object]
        if event is Event.CLAIM:
            values = {
                "assignee": staff_id,
                "assignee_name": staff_name,
                "resolved_at": None,
                "pending_since": None,
            }
        elif event is Event.STAFF_REPLY:
            values = {
                "first_reply_at": func.coalesce(e.first_reply_at, moment),
                "pending_since": moment,
                "assignee_name": case((e.assignee.is_(None), staff_name), else_=e.assignee_name),
                "assignee": func.coalesce(e.assignee, staff_id),
                "resolved_at": None,
            }
        elif target is State.RESOLVED:
            values = {"resolved_at": moment, "pending_since": None}
        else:  # open again: reopened by staff, or the user wrote about it
            values = {"resolved_at": None, "reminded_at": None, "pending_since": None}
        await db.execute(
            update(enquiries).where(e.ref == ref).values(state=target.value, **values)
        )
        after = await read_enquiry(db, ref)
        assert after is not None
        changed = self.hooks.state_changed
        if changed is not None and event is not Event.MERGED:  # merge() does it once merged
            await self._outbox.add(db, after, partial(changed, current))
        if target is State.RESOLVED and current.state is not State.RESOLVED:
            first = event is not Event.MERGED and await ask_rating(db, ref, moment)
            resolved = self.hooks.resolved
            if resolved is not None:
                await self._outbox.add(db, after, lambda e: resolved(e, event, first))

    # -- lists and figures -------------------------------------------------------------------
    async def open_page(
        self,
        offset: int = 0,
        limit: int = 10,
        states: Sequence[State] = OPEN_STATES,
        assignee: int | None = None,
        *,
        unclaimed: bool = False,
        search: str = "",
    ) -> tuple[list[Enquiry], int]:
        """Enquiries in `states` (held by `assignee` if given, by nobody if `unclaimed`; with
        `search` in the question, a message of the thread or the sender's name), oldest
        first, one page of them, and how many there are in all. Merged enquiries are left
        out. The search ignores case and takes LIKE's wildcards (`%`, `_`) literally."""
        e = enquiries.c
        where: list[ColumnElement[bool]] = [
            e.state.in_([s.value for s in states]),
            e.merged_into.is_(None),
        ]
        if assignee is not None:
            where.append(e.assignee == assignee)
        if unclaimed:
            where.append(e.assignee.is_(None))
        if wanted := search.strip():
            in_thread = select(messages.c.ref).where(
                messages.c.text.icontains(wanted, autoescape=True)
            )
            where.append(
                or_(
                    e.text.icontains(wanted, autoescape=True),
                    e.name.icontains(wanted, autoescape=True),
                    e.ref.in_(in_thread),
                )
            )
        rows = await self._db.all(
            select(enquiries).where(*where).order_by(enquiries.c.ref).limit(limit).offset(offset)
        )
        total = await self._db.scalar(select(func.count()).select_from(enquiries).where(*where))
        return [enquiry_from_row(r) for r in rows], int(total)

    async def holders(self) -> list[tuple[int, str]]:
        """Who holds enquiries that are not resolved: (staff id, name), by name."""
        e = enquiries.c
        name = func.max(e.assignee_name)
        rows = await self._db.all(
            select(e.assignee, name)
            .where(e.assignee.is_not(None), _OPEN, e.merged_into.is_(None))
            .group_by(e.assignee)
            .order_by(name, e.assignee)
        )
        return [(int(r[0]), str(r[1] or r[0])) for r in rows]

    async def pending_since_before(self, cutoff: datetime) -> list[Enquiry]:
        """Pending enquiries whose last staff reply is older than `cutoff`."""
        rows = await self._db.all(
            select(enquiries)
            .where(
                enquiries.c.state == State.PENDING.value,
                enquiries.c.pending_since < stamp(cutoff),
            )
            .order_by(enquiries.c.ref)
        )
        return [enquiry_from_row(r) for r in rows]

    async def active_since(self, since: datetime) -> list[Enquiry]:
        """Enquiries opened, answered or resolved since a moment (for the figures)."""
        moment = stamp(since)
        e = enquiries.c
        rows = await self._db.all(
            select(enquiries)
            .where(
                e.merged_into.is_(None),
                (e.created_at >= moment)
                | (e.first_reply_at >= moment)
                | (e.resolved_at >= moment),
            )
            .order_by(e.ref)
        )
        return [enquiry_from_row(r) for r in rows]

    async def count_by_state(self) -> dict[State, int]:
        """How many enquiries are in each state (merged ones left out)."""
        rows = await self._db.all(
            select(enquiries.c.state, func.count())
            .where(enquiries.c.merged_into.is_(None))
            .group_by(enquiries.c.state)
        )
        counts = dict.fromkeys(State, 0)
        counts.update({State(r[0]): int(r[1]) for r in rows})
        return counts

    async def saved_reply_uses(self) -> dict[str, int]:
        """How often each saved reply was sent."""
        rows = await self._db.all(
            select(messages.c.saved_reply, func.count())
            .where(messages.c.saved_reply != "")
            .group_by(messages.c.saved_reply)
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def all(self) -> list[Enquiry]:
        """Every enquiry, oldest first (for the CSV export)."""
        rows = await self._db.all(select(enquiries).order_by(enquiries.c.ref))
        return [enquiry_from_row(r) for r in rows]

    async def unreminded_waiting(self) -> list[Enquiry]:
        """Enquiries nobody has answered yet and that were not re-announced."""
        rows = await self._db.all(
            select(enquiries)
            .where(_WAITING, enquiries.c.reminded_at.is_(None))
            .order_by(enquiries.c.ref)
        )
        return [enquiry_from_row(r) for r in rows]

    async def mark_reminded(self, ref: int, render: Render | None = None) -> bool:
        """Record that an enquiry was re-announced, with the reminder in the outbox; False
        (and nothing queued) when it no longer needs one: answered or closed since it was
        read, or reminded meanwhile by another replica that ran the jobs."""
        async with self._db.write() as db:
            result = await db.execute(
                update(enquiries)
                .where(enquiries.c.ref == ref, _WAITING, enquiries.c.reminded_at.is_(None))
                .values(reminded_at=stamp(self._db.clock()))
            )
            if result.rowcount != 1:
                return False
            await self._finish(db, ref, render)
            return True

    async def mark_kb_suggested(self, ref: int) -> bool:
        """Mark an enquiry as added to the suggestions file; False if it already was."""
        async with self._db.write() as db:
            result = await db.execute(
                update(enquiries)
                .where(enquiries.c.ref == ref, enquiries.c.kb_suggested == 0)
                .values(kb_suggested=1)
            )
            return result.rowcount == 1

    async def purge_resolved(self, older_than_days: int) -> int:
        """Delete resolved enquiries older than the retention period; returns how many."""
        cutoff = stamp(self._db.clock() - timedelta(days=older_than_days))
        async with self._db.write() as db:
            result = await db.execute(
                delete(enquiries).where(
                    enquiries.c.state == State.RESOLVED.value, enquiries.c.resolved_at < cutoff
                )
            )
            return int(result.rowcount)

    # -- threads in chats ----------------------------------------------------------------------
    async def ref_for_message(self, chat_id: int, message_id: int) -> int | None:
        """The enquiry a chat message belongs to (a staff thread message or a relayed reply)."""
        ref = await self._db.scalar(
            select(thread_messages.c.ref).where(
                thread_messages.c.chat_id == chat_id, thread_messages.c.message_id == message_id
            )
        )
        return int(ref) if ref is not None else None

    async def ref_for_thread(self, thread_id: int) -> int | None:
        """The enquiry that owns a forum topic in the staff chat (topic ids are unique in it);
        the one it was merged into, if it was."""
        ref = await self._db.scalar(
            select(func.coalesce(enquiries.c.merged_into, enquiries.c.ref))
            .where(enquiries.c.staff_thread_id == thread_id)
            .limit(1)
        )
        return int(ref) if ref is not None else None

    async def record_thread_messages(
        self, ref: int, chat_id: int, message_ids: Sequence[int]
    ) -> None:
        """Remember that chat messages belong to an enquiry's thread."""
        if not message_ids:
            return
        async with self._db.write() as db:
            await db.execute(
                upsert(db, thread_messages)
                .values([{"chat_id": chat_id, "message_id": m, "ref": ref} for m in message_ids])
                .on_conflict_do_nothing()
            )

    async def set_staff_thread(self, ref: int, thread_id: int) -> None:
        """Record the forum topic created for an enquiry."""
        async with self._db.write() as db:
            await db.execute(
                update(enquiries).where(enquiries.c.ref == ref).values(staff_thread_id=thread_id)
            )


@dataclass(frozen=True)
class _Row:
    """A message about to be stored."""

    author: Author
    author_id: int | None
    author_name: str
    text: str
    moment: str
    kind: MessageKind = MessageKind.TEXT
    media: Media | None = None
    source: Source | None = None


def _from_user(asker: Asker, text: str, moment: str, media: Media | None) -> _Row:
    source = Source(asker.chat_id, asker.message_id) if asker.message_id is not None else None
    kind = MessageKind.ATTACHMENT if media else MessageKind.TEXT
    return _Row(Author.USER, asker.user_id, asker.name, text, moment, kind, media, source)


async def _add_message(
    db: Transaction,
    ref: int,
    row: _Row,
    edit_of: int | None = None,
    saved_reply: str = "",
) -> int:
    """Store one message of a thread; returns its id."""
    result = await db.execute(
        _INSERT_MESSAGE,
        {
            "ref": ref,
            "author": row.author.value,
            "author_id": row.author_id,
            "author_name": row.author_name,
            "text": row.text,
            "created_at": row.moment,
            "kind": row.kind.value,
            "media": json.dumps(row.media.to_json()) if row.media else None,
            "chat_id": row.source.chat_id if row.source else None,
            "message_id": row.source.message_id if row.source else None,
            "edit_of": edit_of,
            "saved_reply": saved_reply,
        },
    )
    return int(result.scalar_one())


def _message(result: Any) -> Message:
    row = result._mapping
    media = Media.from_json(json.loads(row["media"])) if row["media"] else None
    return Message(
        author=Author(row["author"]),
        author_name=row["author_name"],
        text=row["text"],
        created_at=parse(row["created_at"]) or now(),
        kind=MessageKind(row["kind"]),
        media=media,
        id=row["id"],
        edit_of=row["edit_of"],
        saved_reply=row["saved_reply"],
    )
