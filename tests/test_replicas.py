"""The storage primitives replicas will need (bot.storage.replicas), on PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from postgres import PostgresServer
from sqlalchemy import select, text

from bot.storage import Storage
from bot.storage.database import Database, now, stamp
from bot.storage.records import Asker, Draft, Kind, OutboxState, Render
from bot.storage.replicas import JOBS_LEADER, AdvisoryLock, claim_outbox, first_time, lock_chat
from bot.storage.schema import outbox


def reply_to(chat: int) -> Render:
    return lambda enquiry: [Draft(Kind.REPLY, chat, "a")]


class Clock:
    def __init__(self) -> None:
        self.at = now()

    def __call__(self) -> datetime:
        return self.at


async def test_an_update_is_handled_once_across_replicas(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    one, two = await Database.open(url), await Database.open(url)
    try:
        inside = asyncio.Event()

        async def handle(db_: Database, hold: bool) -> bool:
            async with db_.write() as db:
                fresh = await first_time(db, 10**12, stamp(now()))
                if hold:
                    inside.set()
                    await asyncio.sleep(0.2)  # the other replica's insert waits meanwhile
                return fresh

        first = asyncio.create_task(handle(one, True))
        await inside.wait()
        assert await handle(two, False) is False  # waited for the first, then found it
        assert await first is True
    finally:
        await one.close()
        await two.close()


async def test_a_chat_lock_holds_other_replicas_until_the_transaction_ends(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    one, two = await Database.open(url), await Database.open(url)
    order: list[str] = []
    try:
        locked = asyncio.Event()

        async def first() -> None:
            async with one.write() as db:
                await lock_chat(db, -1009876543210)
                locked.set()
                await asyncio.sleep(0.2)
                order.append("first done")

        async def second() -> None:
            await locked.wait()
            async with two.write() as db:
                await lock_chat(db, -1009876543210)
                order.append("second in")

        async def other_chat() -> None:
            await locked.wait()
            async with two.write() as db:
                await lock_chat(db, 42)
                order.append("other chat in")

        await asyncio.gather(first(), other_chat())
        await asyncio.gather(second())
        assert order == ["other chat in", "first done", "second in"]
    finally:
        await one.close()
        await two.close()


async def test_outbox_claims_skip_locked_rows_and_lapse(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    clock = Clock()
    store = await Storage.open(url, clock)
    other = await Database.open(url, clock)
    try:
        for chat in (1, 2, 3):
            await store.enquiries.create(Asker(chat, chat), "q", render=reply_to(chat))
            await store.outbox.enqueue([Draft(Kind.TO_USER, chat, "b")])  # waits behind "a"
        async with other.engine.connect() as holder:  # a replica in the middle of a claim
            await holder.execute(text("SELECT id FROM outbox WHERE id = 1 FOR UPDATE"))
            # Skipped, not waited for (a wait would hold here until the timeout).
            claimed = await asyncio.wait_for(
                claim_outbox(store.database, "replica-a", lease_s=30), timeout=5
            )
            assert claimed == [3, 5]  # 1 is held; 2, 4 and 6 wait behind 1, 3 and 5
            await holder.rollback()
        assert await claim_outbox(other, "replica-b", lease_s=60) == [1]
        clock.at += timedelta(seconds=10)
        assert await claim_outbox(other, "replica-b", lease_s=30) == []  # leases hold
        clock.at += timedelta(seconds=25)  # replica-a died: its leases lapse, not b's
        assert await claim_outbox(other, "replica-b", lease_s=30) == [3, 5]
        rows = await store.database.all(
            select(outbox.c.id, outbox.c.state, outbox.c.claimed_by, outbox.c.attempts)
            .where(outbox.c.id.in_([1, 3, 5]))
            .order_by(outbox.c.id)
        )
        assert [tuple(r) for r in rows] == [
            (1, OutboxState.SENDING.value, "replica-b", 1),
            (3, OutboxState.SENDING.value, "replica-b", 2),
            (5, OutboxState.SENDING.value, "replica-b", 2),
        ]
    finally:
        await other.close()
        await store.close()


async def test_one_leader_at_a_time_and_another_takes_over(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    one, two = await Database.open(url), await Database.open(url)
    try:
        leader, follower = AdvisoryLock(one, JOBS_LEADER), AdvisoryLock(two, JOBS_LEADER)
        assert await leader.try_acquire() and leader.held
        assert not await follower.try_acquire() and not follower.held
        await leader.release()  # or its process dies: the server ends the session
        assert await follower.try_acquire()
        await follower.release()
    finally:
        await one.close()
        await two.close()
