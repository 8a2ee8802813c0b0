"""The Telegram update being handled, recorded in the transaction of its effects.

Webhook mode handles each update once across replicas (handlers.webhook): it looks for the
update's record before handling it. For that to hold when a bot dies mid-update, the record
must be committed with what the update changed, not after: the transaction that stores an
enquiry, a follow-up or a staff reply, and puts in the outbox every message owed because of
it (the announcement, the user's acknowledgement, the answer), also records the update.
Then a bot that dies before that commit leaves nothing behind (Telegram sends the update
again, and another bot handles it from the start), and one that dies after it leaves the
update recorded and its messages queued (another bot sends them; the update sent again is
recognised and not handled twice).

`handling(update_id)` marks the update a block handles (a context variable, so it follows
the handler's awaits); `OutboxStore.add`, which every such transaction calls, then records
it with `record_in`. The first transaction of the update records it; a later one of the
same update finds it recorded by itself and goes on. A transaction that finds it recorded
by another bot (two handling one update at once: the first holder of the chat's lock lost
its session mid-update) raises `AlreadyHandled`, so it changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from bot.storage.database import Database, Transaction, insert_new, stamp
from bot.storage.schema import handled_updates


class AlreadyHandled(Exception):
    """Another bot has handled (and recorded) the update this transaction belongs to."""

    def __init__(self, update_id: int) -> None:
        super().__init__(f"update {update_id} was handled by another bot")
        self.update_id = update_id


@dataclass
class Handling:
    """The update a block handles: whether a transaction of it recorded it (committed), and
    whether one found it handled by another bot."""

    update_id: int
    recorded: bool = False
    elsewhere: bool = False
    writing: Transaction | None = None  # the transaction that records it, until committed


_CURRENT: ContextVar[Handling | None] = ContextVar("clair_bot_update", default=None)


@contextmanager
def handling(update_id: int) -> Iterator[Handling]:
    """Within the block, transactions with effects record `update_id` (see the module)."""
    current = Handling(update_id)
    token = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(token)


async def first_time(db: Transaction, update_id: int, moment: str) -> bool:
    """Inside the transaction of an update's effects: record `update_id`; False if it was
    handled before (the caller then does nothing, and its transaction changes nothing)."""
    return await insert_new(db, handled_updates, update_id=update_id, handled_at=moment)


async def record_in(db: Transaction, database: Database) -> None:
    """Inside a transaction with effects: record the update being handled, if there is one
    and no earlier transaction of it did; AlreadyHandled if another bot recorded it."""
    current = _CURRENT.get()
    if current is None or current.recorded or current.writing is db:
        return
    if not await first_time(db, current.update_id, stamp(database.clock())):
        current.elsewhere = True
        raise AlreadyHandled(current.update_id)
    current.writing = db  # a transaction may add to the outbox more than once

    def committed() -> None:
        current.recorded = True
        current.writing = None

    database.after_commit(committed)
