"""Storage primitives for several bots (replicas) on one PostgreSQL database, each tested,
used by the run loop in webhook mode (handlers.webhook, handlers.delivery, bot.outbox).

- `first_time` (bot.storage.updates): an update_id is recorded in the transaction of the
  update's effects, so a retried update (Telegram resends one that got no 2xx answer) is
  handled once across all replicas: a second transaction inserting the same id waits for
  the first, then finds it.
- `ChatTurns`: a chat's updates one at a time across replicas (a session advisory lock on
  the chat's id, held while an update is handled).
- `claim_next`: outbox messages claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` and a
  lease, so each message is taken by one replica, still in order per chat and per enquiry,
  and a claim that lapses (its replica died mid-send) returns the message to the others.
- `AdvisoryLock`: a session lock on a connection of its own; `JobsLeader` polls one, so the
  periodic jobs (reminders, the automatic close, the retention purge) run in one replica at a
  time, and another takes over once the holder's connection ends.

On SQLite (one process per database) the same calls work and the locks are no-ops or
always granted.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.storage.database import (
    Database,
    StorageUnavailable,
    describe,
    stamp,
)
from bot.storage.lock import SPACE, AdvisoryLock
from bot.storage.outbox import _IN_LANE, _ITEMS, _PRIORITY, ITEM, NOT_WAITING, Lane, _outbox
from bot.storage.records import OutboxItem, OutboxState
from bot.storage.schema import handled_updates, outbox, user_state
from bot.storage.updates import first_time

#: The jobs' leader's advisory key (see bot.storage.lock).
JOBS_LEADER = (SPACE, 3)
#: Held (to the end of its transaction) by each outbox claim, so claims of all replicas
#: happen one after another: a claim sees every earlier one committed. Without it, two
#: claims at once could each find a chat's first and second message "not waiting" (each
#: reads the other's rows as they were before it) and send them side by side, out of order.
OUTBOX_CLAIMS = (SPACE, 4)

__all__ = [
    "JOBS_LEADER",
    "AdvisoryLock",
    "ChatTurns",
    "JobsLeader",
    "OutboxClaims",
    "SharedLimits",
    "SharedWindow",
    "Turn",
    "claim_next",
    "first_time",
    "handled",
    "mark_handled",
]

log = logging.getLogger(__name__)


async def handled(database: Database, update_id: int) -> bool:
    """Whether `update_id` was handled (by any replica) and recorded."""
    found = await database.scalar(
        select(handled_updates.c.update_id).where(handled_updates.c.update_id == update_id)
    )
    return found is not None


async def mark_handled(database: Database, update_id: int) -> bool:
    """Record that `update_id` is handled, in a transaction of its own (for an update whose
    effects span several); False if it was recorded already."""
    async with database.write() as db:
        return await first_time(db, update_id, stamp(database.clock()))


async def forget_handled(database: Database, days: int) -> int:
    """Forget update_ids handled more than `days` ago (Telegram keeps an update for a day at
    most, so none of those comes again), and users' recent questions untouched as long (a
    button that old asks for the question again, as after a restart); how many update_ids."""
    before = stamp(database.clock() - timedelta(days=days))
    async with database.write() as db:
        result = await db.execute(
            handled_updates.delete().where(handled_updates.c.handled_at < before)
        )
        await db.execute(user_state.delete().where(user_state.c.updated_at < before))
    return int(result.rowcount)


class ChatTurns:
    """One update of a chat at a time across replicas: PostgreSQL's session advisory lock on
    the chat's id, held while the update is handled, on a
    connection from a small pool of its own. A connection of the store's pool would do, but
    updates waiting for their chat would then hold the connections their own handlers need.
    A replica that dies mid-update frees the lock with its session. On SQLite (one process)
    there is nothing to take: the update processor keeps a chat's updates in order."""

    def __init__(self, database: Database, connections: int) -> None:
        self.database = database
        self._engine = (
            create_async_engine(
                database.engine.url, pool_size=connections, max_overflow=0, pool_pre_ping=True
            )
            if database.dialect == "postgresql"
            else None
        )

    @asynccontextmanager
    async def turn(self, key: int) -> AsyncIterator[Turn]:
        """Wait for the chat `key`'s turn, and hold it until the block ends."""
        if self._engine is None:
            yield Turn(self.database, None)
            return
        connection = await self._engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.scalar(select(func.pg_advisory_lock(key)))
        except BaseException:
            await _drop(connection)
            raise
        try:
            yield Turn(self.database, connection)
        except BaseException:
            await _drop(connection)  # the lock goes with the session
            raise
        try:
            await connection.scalar(select(func.pg_advisory_unlock(key)))
        except SQLAlchemyError:
            await _drop(connection)
        else:
            await connection.close()

    async def close(self) -> None:
        """Close the pool (at shutdown, once no update is being handled)."""
        if self._engine is not None:
            await self._engine.dispose()


class Turn:
    """A chat's turn: was an update handled, and the record that it is; on PostgreSQL also
    the sender's recent questions, which every replica must see. These go through the turn's
    own connection (each one statement, committed at once), so they do not wait for this
    process's one write transaction at a time."""

    def __init__(self, database: Database, connection: AsyncConnection | None) -> None:
        self.database = database
        self._connection = connection

    @property
    def shared(self) -> bool:
        """Whether other replicas may handle this chat's updates (PostgreSQL): a user's
        state in memory is then only a copy, read before and kept after each update."""
        return self._connection is not None

    async def user_state(self, user_id: int) -> str | None:
        """The user's state as the last replica kept it (None: none kept, or SQLite)."""
        if self._connection is None:
            return None
        found = await self._connection.scalar(
            select(user_state.c.state).where(user_state.c.user_id == user_id)
        )
        return None if found is None else str(found)

    async def keep_user_state(self, user_id: int, state: str) -> None:
        """Keep the user's state for every replica (nothing to do on SQLite)."""
        if self._connection is None:
            return
        insert = postgresql.insert(user_state).values(
            user_id=user_id, state=state, updated_at=stamp(self.database.clock())
        )
        await self._connection.execute(
            insert.on_conflict_do_update(
                index_elements=[user_state.c.user_id],
                set_={"state": insert.excluded.state, "updated_at": insert.excluded.updated_at},
            )
        )

    async def handled(self, update_id: int) -> bool:
        """Whether `update_id` was handled (by any replica) and recorded."""
        if self._connection is None:
            return await handled(self.database, update_id)
        found = await self._connection.scalar(
            select(handled_updates.c.update_id).where(handled_updates.c.update_id == update_id)
        )
        return found is not None

    async def record(self, update_id: int) -> bool:
        """Record `update_id` as handled; False if it was recorded already."""
        if self._connection is None:
            return await mark_handled(self.database, update_id)
        result = await self._connection.execute(
            postgresql.insert(handled_updates)
            .values(update_id=update_id, handled_at=stamp(self.database.clock()))
            .on_conflict_do_nothing()
            .returning(handled_updates.c.update_id)
        )
        return result.first() is not None


async def _drop(connection: AsyncConnection) -> None:
    """Close a connection for good, ending its session and the locks it holds."""
    with suppress(SQLAlchemyError, OSError):
        await connection.invalidate()
        await connection.close()


async def claim_next(
    database: Database, owner: str, lease_s: float, lane: Lane | None = None
) -> OutboxItem | None:
    """Claim the next outbox message of `lane` (or of both) for `owner` until `lease_s` from
    now, in the order `OutboxStore.due` gives: a pending one whose time has come, or one
    whose claim lapsed (its replica died mid-send), not waiting behind an older undelivered
    one to its chat; None when there is none. The claim counts as an attempt."""
    moment = database.clock()
    now = stamp(moment)
    due = or_(
        and_(ITEM.c.state == OutboxState.PENDING.value, ITEM.c.next_attempt_at <= now),
        and_(ITEM.c.state == OutboxState.SENDING.value, ITEM.c.lease_until < now),
    )
    query = (
        select(ITEM.c.id)
        .where(due, NOT_WAITING, _IN_LANE[lane])
        .order_by(_PRIORITY, ITEM.c.id)
        .limit(1)
    )
    async with database.write() as db:
        if db.dialect.name == "postgresql":
            await db.execute(select(func.pg_advisory_xact_lock(*OUTBOX_CLAIMS)))
            query = query.with_for_update(skip_locked=True, of=ITEM)
        item_id = await db.scalar(query)
        if item_id is None:
            return None
        await db.execute(
            update(outbox)
            .where(outbox.c.id == item_id)
            .values(
                state=OutboxState.SENDING.value,
                claimed_by=owner,
                lease_until=stamp(moment + timedelta(seconds=lease_s)),
                attempts=outbox.c.attempts + 1,
            )
        )
        row = (await db.execute(_ITEMS.where(ITEM.c.id == item_id))).first()
    return _outbox(row)


class OutboxClaims:
    """The outbox worker's way to take messages when several replicas deliver one outbox
    (bot.outbox.Claimer): each message claimed by one of them, with a lease."""

    def __init__(self, database: Database, lease_s: float, owner: str | None = None) -> None:
        self.database = database
        self.lease_s = lease_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"

    async def claim(self, lane: Lane | None) -> OutboxItem | None:
        """The next message of `lane` this replica is to send, claimed; None if none is due."""
        return await claim_next(self.database, self.owner, self.lease_s, lane)


class JobsLeader:
    """Whether this replica runs the periodic jobs: it holds `JOBS_LEADER`. `poll` often (a
    replica that dies frees the lock with its session, and the next poll of another takes
    it); a job runs only while `held`. On SQLite the one bot always leads."""

    def __init__(self, database: Database) -> None:
        self._lock = AdvisoryLock(database, JOBS_LEADER)

    @property
    def held(self) -> bool:
        """Whether this replica led at the last poll."""
        return self._lock.held

    async def poll(self) -> bool:
        """Keep the lead (its connection still answers) or take it if it is free; whether
        this replica leads now. A database that cannot be reached means not leading."""
        was = self._lock.held
        if was and not await self._lock.alive():  # the server ended the session: lock gone
            await self._lock.release()
        try:
            leads = await self._lock.try_acquire()
        except StorageUnavailable as exc:
            leads = False
            log.warning("jobs: cannot ask who runs them: %s", exc.problem)
        if leads != was:
            log.info("jobs: this bot %s the periodic jobs", "runs" if leads else "no longer runs")
        return leads

    async def release(self) -> None:
        """Give up the lead (at shutdown), so another replica takes it at its next poll."""
        await self._lock.release()


class SharedLimits:
    """Telegram's limits for all replicas together, as send slots reserved in PostgreSQL.

    Each bucket (the bot as a whole, one group) is a row holding the moment its next slot is
    free, by the server's clock (the same for every replica). A reservation takes one slot
    in each bucket it names at once, in one short transaction holding their rows: its moment
    is the latest of their free moments (or now), and each bucket's moves on to that moment
    plus its interval. So the sends of all replicas into a group are at least the group's
    interval apart, and all sends at least the bot's. The rate limiter (handlers.limits)
    reserves a group's slot, waits for it, and only then the bot's: one moment for both
    would move the bot's bucket to the group's, seconds ahead, and every send to a user
    would wait behind the group's queue. The table is kept out of the
    migrations on purpose: UNLOGGED (a crash empties it, which only frees the slots) and
    created on first use, it holds nothing worth keeping.
    """

    TABLE = "clair_rate_slots"

    def __init__(self, database: Database) -> None:
        self.database = database
        self._created = False

    async def wait_for_slot(self, intervals: dict[str, float]) -> float:
        """Reserve the next slot of a send in each bucket (key: seconds between its slots);
        seconds to wait until it (0 if now). StorageUnavailable without a database."""
        wait, _ = await self.reserve(intervals)
        return wait

    async def reserve(self, intervals: dict[str, float]) -> tuple[float, float]:
        """`wait_for_slot`'s reservation: the seconds to wait, and the slot's moment by the
        server's clock (seconds since the epoch; the same for every replica)."""
        keys = sorted(intervals)  # rows locked in one order: no deadlock between replicas
        try:
            async with self.database.engine.connect() as connection:
                if not self._created:
                    await self._create(connection)
                async with connection.begin():
                    await connection.execute(
                        text(
                            f"INSERT INTO {self.TABLE} (key, free_at) SELECT k, 0"
                            " FROM unnest(CAST(:keys AS text[])) AS k ON CONFLICT DO NOTHING"
                        ),
                        {"keys": keys},
                    )
                    rows = (
                        await connection.execute(
                            text(
                                "SELECT free_at, extract(epoch FROM clock_timestamp())"
                                f" FROM {self.TABLE} WHERE key = ANY(CAST(:keys AS text[]))"
                                " ORDER BY key FOR UPDATE"
                            ),
                            {"keys": keys},
                        )
                    ).all()
                    read_at = time.monotonic()  # the wait runs from here, not from the commit
                    now = float(rows[0][1])
                    slot = max(now, *(float(row[0]) for row in rows))
                    await connection.execute(
                        text(f"UPDATE {self.TABLE} SET free_at = :free WHERE key = :key"),
                        [{"key": key, "free": slot + intervals[key]} for key in keys],
                    )
        except (SQLAlchemyError, OSError) as exc:
            raise StorageUnavailable(self.database.path, describe(exc)) from exc
        return max(0.0, slot - now - (time.monotonic() - read_at)), slot

    async def _create(self, connection: AsyncConnection) -> None:
        await _create_unlogged(
            connection, f"{self.TABLE} (key text PRIMARY KEY, free_at double precision NOT NULL)"
        )
        self._created = True


async def _create_unlogged(connection: AsyncConnection, table: str) -> None:
    """CREATE UNLOGGED TABLE IF NOT EXISTS `table` (its name and columns), when several
    replicas may do so at the same moment (one of them then fails once: try again)."""
    statement = text(f"CREATE UNLOGGED TABLE IF NOT EXISTS {table}")
    for attempt in (1, 2):
        try:
            async with connection.begin():
                await connection.execute(statement)
            return
        except SQLAlchemyError:  # another replica created it at the same moment
            if attempt == 2:
                raise


#: The table of `SharedWindow`.
FLOOD_TABLE = "clair_flood_hits"
#: A hit of a moving window (`SharedWindow.hit`): the hits still inside the window are kept,
#: and now is added if there are fewer than the limit; true when it was.
_HIT = text(
    "WITH moment AS (SELECT extract(epoch FROM clock_timestamp()) AS now)"
    f" INSERT INTO {FLOOD_TABLE} AS f (key, hits, last_at)"
    " SELECT :key, ARRAY[now], now FROM moment"
    " ON CONFLICT (key) DO UPDATE SET last_at = EXCLUDED.last_at, hits = ("
    "  SELECT CASE WHEN cardinality(kept) < :limit THEN kept || EXCLUDED.last_at ELSE kept END"
    "  FROM (SELECT ARRAY(SELECT h FROM unnest(f.hits) AS h"
    "   WHERE h > EXCLUDED.last_at - :window ORDER BY h) AS kept) AS inside)"
    " RETURNING f.hits[cardinality(f.hits)] = f.last_at"
)


class SharedWindow:
    """A moving window of hits per key for all replicas together (the per-user flood limit,
    bot.flood): a row per key holding the moments of its hits still inside the window, by
    the server's clock, brought up to date by one upsert, which holds the row meanwhile. Like
    `SharedLimits`' table it is UNLOGGED and created on first use: a crash empties it, which
    only forgives a flood."""

    TABLE = FLOOD_TABLE

    def __init__(self, database: Database) -> None:
        self.database = database
        self._created = False

    async def hit(self, key: str, limit: int, window_s: float) -> bool:
        """Count a hit of `key` if it had fewer than `limit` in the last `window_s` seconds;
        whether it counted. One statement (an upsert holds the row while it decides), so the
        hits of all replicas at once are counted one after another. StorageUnavailable
        without a database."""
        try:
            async with self.database.engine.connect() as connection:
                if not self._created:
                    await _create_unlogged(
                        connection,
                        f"{self.TABLE} (key text PRIMARY KEY, hits double precision[] NOT NULL,"
                        " last_at double precision NOT NULL)",
                    )
                    self._created = True
                counted = await connection.scalar(
                    _HIT, {"key": key, "limit": limit, "window": window_s}
                )
                await connection.commit()
        except (SQLAlchemyError, OSError) as exc:
            raise StorageUnavailable(self.database.path, describe(exc)) from exc
        return bool(counted)

    async def forget(self, older_than_s: float) -> int:
        """Drop the keys with no hit in the last `older_than_s` seconds (a daily job, in one
        replica); how many. Nothing to do before any replica made the table."""
        async with self.database.engine.begin() as connection:
            if await connection.scalar(text(f"SELECT to_regclass('{self.TABLE}')")) is None:
                return 0
            result = await connection.execute(
                text(
                    f"DELETE FROM {self.TABLE}"
                    " WHERE last_at < extract(epoch FROM clock_timestamp()) - :age"
                ),
                {"age": older_than_s},
            )
        return int(result.rowcount)
