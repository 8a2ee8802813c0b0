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

import aiosqlite

from bot.decision import Candidate
from bot.storage.database import Database, now, parse, placeholders, stamp
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
from bot.storage.rows import enquiry_from_row, read_enquiry

_OPEN = f"state IN ({placeholders(OPEN_STATES)})"
_WAITING = f"state IN ({placeholders(WAITING_STATES)})"


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
            await _add_message(db, ref, _from_user(asker, text, moment, media))
            return await self._finish(db, ref, render)

    async def _finish(
        self, db: aiosqlite.Connection, ref: int, render: Render | None, carries: int | None = None
    ) -> Enquiry:
        """The enquiry as the transaction left it, with its outbox messages added."""
        enquiry = await read_enquiry(db, ref)
        if enquiry is None:
            raise KeyError(ref)
        await self._outbox.add(db, enquiry, render, carries)
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

    async def staff_replies_after(
        self, user_id: int, after: int
    ) -> list[tuple[int, str | None, Message]]:
        """Staff replies to a user's enquiries with a message id above `after`, oldest first,
        as (enquiry ref, the enquiry's language, the reply); notes and edits are left out.
        The terminal chat shows them as they arrive."""
        rows = await self._db.all(
            "SELECT m.*, e.language AS enquiry_language FROM messages m"
            " JOIN enquiries e ON e.ref = m.ref WHERE e.user_id = ? AND m.author = ?"
            f" AND m.kind IN ({placeholders(REPLY_KINDS)}) AND m.id > ? ORDER BY m.id",
            (user_id, Author.STAFF.value, *REPLY_KINDS, after),
        )
        return [(int(r["ref"]), r["enquiry_language"], _message(r)) for r in rows]

    async def last_message_id(self) -> int:
        """The id of the newest message of any thread (0 when there is none)."""
        row = await self._db.one("SELECT COALESCE(MAX(id), 0) FROM messages")
        return int(row[0])

    async def messages(self, ref: int) -> list[Message]:
        """Every message of an enquiry (and of those merged into it), oldest first."""
        rows = await self._db.all(
            "SELECT * FROM messages WHERE ref = ? ORDER BY created_at, id", (ref,)
        )
        return [_message(r) for r in rows]

    async def message_at(self, source: Source) -> ThreadMessage | None:
        """The stored message written as `source` in Telegram (not an edit of it), if any."""
        row = await self._db.one(
            "SELECT * FROM messages WHERE chat_id = ? AND message_id = ? AND edit_of IS NULL"
            " ORDER BY id LIMIT 1",
            (source.chat_id, source.message_id),
        )
        return ThreadMessage(int(row["ref"]), _message(row)) if row else None

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
            await db.execute("UPDATE messages SET ref = ? WHERE ref = ?", (into, merged))
            await db.execute("UPDATE thread_messages SET ref = ? WHERE ref = ?", (into, merged))
            await self._apply(db, merged, Event.MERGED)
            await db.execute(
                "UPDATE enquiries SET merged_into = ? WHERE ref = ? OR merged_into = ?",
                (into, merged, merged),
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
        db: aiosqlite.Connection,
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
        params: tuple[object, ...]
        if event is Event.CLAIM:
            sql = "assignee = ?, assignee_name = ?, resolved_at = NULL, pending_since = NULL"
            params = (staff_id, staff_name)
        elif event is Event.STAFF_REPLY:
            sql = (
                "first_reply_at = COALESCE(first_reply_at, ?), pending_since = ?,"
                " assignee_name = CASE WHEN assignee IS NULL THEN ? ELSE assignee_name END,"
                " assignee = COALESCE(assignee, ?), resolved_at = NULL"
            )
            params = (moment, moment, staff_name, staff_id)
        elif target is State.RESOLVED:
            sql, params = "resolved_at = ?, pending_since = NULL", (moment,)
        else:  # open again: reopened by staff, or the user wrote about it
            sql, params = "resolved_at = NULL, reminded_at = NULL, pending_since = NULL", ()
        await db.execute(
            f"UPDATE enquiries SET state = ?, {sql} WHERE ref = ?", (target.value, *params, ref)
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
        out."""
        where = f"state IN ({placeholders(states)}) AND merged_into IS NULL"
        params: tuple[object, ...] = tuple(s.value for s in states)
        if assignee is not None:
            where += " AND assignee = ?"
            params += (assignee,)
        if unclaimed:
            where += " AND assignee IS NULL"
        if search.strip():
            pattern = "%" + _like_escaped(search.strip()) + "%"
            where += (
                " AND (text LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR ref IN"
                " (SELECT ref FROM messages WHERE text LIKE ? ESCAPE '\\'))"
            )
            params += (pattern, pattern, pattern)
        rows = await self._db.all(
            f"SELECT * FROM enquiries WHERE {where} ORDER BY ref LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        total = await self._db.one(f"SELECT COUNT(*) FROM enquiries WHERE {where}", params)
        return [enquiry_from_row(r) for r in rows], int(total[0])

    async def holders(self) -> list[tuple[int, str]]:
        """Who holds enquiries that are not resolved: (staff id, name), by name."""
        rows = await self._db.all(
            "SELECT assignee, MAX(assignee_name) FROM enquiries WHERE assignee IS NOT NULL"
            f" AND {_OPEN} AND merged_into IS NULL GROUP BY assignee ORDER BY 2",
            OPEN_STATES,
        )
        return [(int(r[0]), str(r[1] or r[0])) for r in rows]

    async def pending_since_before(self, cutoff: datetime) -> list[Enquiry]:
        """Pending enquiries whose last staff reply is older than `cutoff`."""
        rows = await self._db.all(
            "SELECT * FROM enquiries WHERE state = ? AND pending_since < ? ORDER BY ref",
            (State.PENDING.value, stamp(cutoff)),
        )
        return [enquiry_from_row(r) for r in rows]

    async def active_since(self, since: datetime) -> list[Enquiry]:
        """Enquiries opened, answered or resolved since a moment (for the figures)."""
        moment = stamp(since)
        rows = await self._db.all(
            "SELECT * FROM enquiries WHERE merged_into IS NULL AND (created_at >= ?"
            " OR first_reply_at >= ? OR resolved_at >= ?) ORDER BY ref",
            (moment, moment, moment),
        )
        return [enquiry_from_row(r) for r in rows]

    async def count_by_state(self) -> dict[State, int]:
        """How many enquiries are in each state (merged ones left out)."""
        rows = await self._db.all(
            "SELECT state, COUNT(*) FROM enquiries WHERE merged_into IS NULL GROUP BY state"
        )
        counts = dict.fromkeys(State, 0)
        counts.update({State(r[0]): int(r[1]) for r in rows})
        return counts

    async def saved_reply_uses(self) -> dict[str, int]:
        """How often each saved reply was sent."""
        rows = await self._db.all(
            "SELECT saved_reply, COUNT(*) FROM messages WHERE saved_reply != ''"
            " GROUP BY saved_reply"
        )
        return {str(r[0]): int(r[1]) for r in rows}

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
        """The enquiry that owns a forum topic in the staff chat (topic ids are unique in it);
        the one it was merged into, if it was."""
        row = await self._db.one(
            "SELECT COALESCE(merged_into, ref) FROM enquiries WHERE staff_thread_id = ?",
            (thread_id,),
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


def _like_escaped(text: str) -> str:
    """`text` with LIKE's wildcards taken literally (the ESCAPE character is a backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
    db: aiosqlite.Connection,
    ref: int,
    row: _Row,
    edit_of: int | None = None,
    saved_reply: str = "",
) -> int:
    """Store one message of a thread; returns its id."""
    cursor = await db.execute(
        "INSERT INTO messages (ref, author, author_id, author_name, text, created_at, kind,"
        " media, chat_id, message_id, edit_of, saved_reply) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            ref,
            row.author.value,
            row.author_id,
            row.author_name,
            row.text,
            row.moment,
            row.kind.value,
            json.dumps(row.media.to_json()) if row.media else None,
            row.source.chat_id if row.source else None,
            row.source.message_id if row.source else None,
            edit_of,
            saved_reply,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _message(row: aiosqlite.Row) -> Message:
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
