"""The storage primitives of replicas (bot.storage.replicas) on PostgreSQL: handled updates,
chats' locks, outbox claims, the jobs' leader and Telegram's limits shared."""

from __future__ import annotations

import asyncio
import bisect
import random
import time
from datetime import datetime, timedelta
from typing import Any

from postgres import PostgresServer
from sqlalchemy import func, select, text

from bot.config import TelegramSettings
from bot.outbox import OutboxWorker
from bot.storage import Storage
from bot.storage.database import Database, now, stamp
from bot.storage.records import Asker, Draft, Kind, OutboxItem, OutboxState, Render
from bot.storage.replicas import (
    JOBS_LEADER,
    AdvisoryLock,
    ChatTurns,
    OutboxClaims,
    SharedLimits,
    SharedWindow,
    claim_next,
    first_time,
    forget_handled,
    handled,
    mark_handled,
)
from bot.storage.schema import outbox
from handlers.app import rate_limiter
from handlers.limits import SharedRateLimiter


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


async def claims(database: Database, owner: str, lease_s: float) -> list[int]:
    """Every message `owner` can claim now, one claim at a time as a worker makes them."""
    ids: list[int] = []
    while (item := await claim_next(database, owner, lease_s)) is not None:
        ids.append(item.id)
    return ids


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
            claimed = await asyncio.wait_for(claims(store.database, "replica-a", 30), timeout=5)
            assert claimed == [3, 5]  # 1 is held; 2, 4 and 6 wait behind 1, 3 and 5
            await holder.rollback()
        assert await claims(other, "replica-b", 60) == [1]
        clock.at += timedelta(seconds=10)
        assert await claims(other, "replica-b", 30) == []  # leases hold
        clock.at += timedelta(seconds=25)  # replica-a died: its leases lapse, not b's
        assert await claims(other, "replica-b", 30) == [3, 5]
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


class Recording:
    """A sender that takes a little while, and notes when each send starts and ends."""

    def __init__(self, name: str, events: list[tuple[str, str, int, str]]) -> None:
        self.name = name
        self.events = events
        self.random = random.Random(name)

    async def send(self, item: OutboxItem) -> int:
        self.events.append(("start", self.name, item.chat_id, item.text))
        await asyncio.sleep(self.random.uniform(0, 0.004))
        self.events.append(("end", self.name, item.chat_id, item.text))
        return item.id


async def test_replicas_deliver_each_message_once_in_order_per_chat(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    one, two = await Storage.open(url), await Storage.open(url)
    events: list[tuple[str, str, int, str]] = []
    chats, per_chat = (11, 12, 13, 14), 8
    for i in range(per_chat):
        for chat in chats:
            await one.outbox.enqueue([Draft(Kind.TO_USER, chat, f"{chat}-{i}")])
    workers = [
        OutboxWorker(
            store.outbox,
            Recording(name, events),
            idle_s=0.05,
            claimer=OutboxClaims(store.database, lease_s=30, owner=name),
        )
        for name, store in (("a", one), ("b", two))
    ]
    try:
        for worker in workers:
            await worker.start()
        deadline = time.monotonic() + 20
        while sum(e[0] == "end" for e in events) < len(chats) * per_chat:
            assert time.monotonic() < deadline, "not everything was sent"
            await asyncio.sleep(0.02)
    finally:
        for worker in workers:
            await worker.stop()
    sent = [e[3] for e in events if e[0] == "end"]
    assert sorted(sent) == sorted(f"{c}-{i}" for c in chats for i in range(per_chat))  # once
    for chat in chats:  # one at a time and in order: start, end, start, end...
        mine = [(e[0], e[3]) for e in events if e[2] == chat]
        expected = [(step, f"{chat}-{i}") for i in range(per_chat) for step in ("start", "end")]
        assert mine == expected
    assert {e[1] for e in events} == {"a", "b"}  # both replicas delivered
    rows = await one.database.all(select(outbox.c.state, func.count()).group_by(outbox.c.state))
    assert [tuple(r) for r in rows] == [(OutboxState.SENT.value, len(chats) * per_chat)]
    await one.close()
    await two.close()


async def test_a_dead_replicas_claim_returns_to_the_others_after_its_lease(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    one, two = await Storage.open(url), await Storage.open(url)
    events: list[tuple[str, str, int, str]] = []
    await one.outbox.enqueue([Draft(Kind.TO_USER, 21, "first"), Draft(Kind.TO_USER, 21, "2nd")])
    started = time.monotonic()  # before the claim: the lease runs from it
    claimed = await claim_next(one.database, "dead", lease_s=0.5)  # then the replica dies
    assert claimed is not None and claimed.text == "first"
    worker = OutboxWorker(
        two.outbox,
        Recording("b", events),
        idle_s=0.05,
        claimer=OutboxClaims(two.database, lease_s=30, owner="b"),
    )
    try:
        await worker.start()  # no reset of what is being sent at start-up: the lease rules
        while sum(e[0] == "end" for e in events) < 2:
            assert time.monotonic() - started < 10, "the lapsed claim never returned"
            await asyncio.sleep(0.02)
    finally:
        await worker.stop()
    assert time.monotonic() - started >= 0.4  # not before the lease lapsed
    assert [e[3] for e in events if e[0] == "end"] == ["first", "2nd"]  # the 2nd waited
    rows = await two.database.all(
        select(outbox.c.text, outbox.c.claimed_by, outbox.c.attempts).order_by(outbox.c.id)
    )
    assert [tuple(r) for r in rows] == [("first", "b", 2), ("2nd", "b", 1)]
    await one.close()
    await two.close()


async def test_handled_update_ids_are_recorded_once_and_forgotten_after_days(
    store_url: str,
) -> None:
    clock = Clock()
    database = await Database.open(store_url, clock)
    try:
        assert not await handled(database, 2**40)
        assert await mark_handled(database, 2**40) is True
        assert await mark_handled(database, 2**40) is False  # a second bot found it recorded
        assert await handled(database, 2**40)
        clock.at += timedelta(days=1)
        assert await forget_handled(database, days=2) == 0
        clock.at += timedelta(days=1, seconds=1)
        assert await forget_handled(database, days=2) == 1
        assert not await handled(database, 2**40)
    finally:
        await database.close()


async def test_a_users_state_is_kept_for_every_replica_and_forgotten_after_days(
    postgres_server: PostgresServer,
) -> None:
    clock = Clock()
    url = postgres_server.database()
    one, two = await Database.open(url, clock), await Database.open(url, clock)
    turns_one, turns_two = ChatTurns(one, 1), ChatTurns(two, 1)
    try:
        async with turns_one.turn(7) as turn:
            assert turn.shared and await turn.user_state(7) is None
            await turn.keep_user_state(7, '{"last_number": 1}')
            await turn.keep_user_state(7, '{"last_number": 2}')  # the same row, changed
        async with turns_two.turn(7) as turn:  # another replica reads what the first kept
            assert await turn.user_state(7) == '{"last_number": 2}'
        clock.at += timedelta(days=2, seconds=1)
        await forget_handled(two, days=2)
        async with turns_two.turn(7) as turn:
            assert await turn.user_state(7) is None
    finally:
        await turns_one.close()
        await turns_two.close()
        await one.close()
        await two.close()


async def test_a_flood_window_counts_the_hits_of_every_replica(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    one, two = await Database.open(url), await Database.open(url)
    try:
        windows = [SharedWindow(one), SharedWindow(two)]
        assert await windows[0].forget(0) == 0  # before any replica made the table
        hits = await asyncio.gather(*(windows[n % 2].hit("update:7", 3, 0.5) for n in range(8)))
        assert hits.count(True) == 3  # at once, from two replicas: three in all
        assert await windows[1].hit("update:8", 3, 0.5)  # another key, its own window
        await asyncio.sleep(0.6)  # the window moves on
        assert await windows[1].hit("update:7", 3, 0.5)
        assert await windows[0].forget(0.3) == 1  # user 8 wrote in no window since
        assert await windows[0].forget(0) == 1
    finally:
        await one.close()
        await two.close()


async def test_telegrams_limits_hold_for_all_replicas_together(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    one, two = await Database.open(url), await Database.open(url)
    telegram = TelegramSettings(max_messages_per_second=25, group_messages_per_minute=600)
    # The moment each send was given (its slot, by the server's clock), whatever the event
    # loop does after: a loaded machine wakes a sleeping send late, and late sends bunch up.
    slots: list[tuple[float, bool]] = []
    limiters = []
    for database in (one, two):
        limiter = SharedRateLimiter(rate_limiter(telegram), telegram)
        limits = SharedLimits(database)
        reserve = limits.reserve

        async def recorded(
            intervals: dict[str, float], reserve: Any = reserve
        ) -> tuple[float, float]:
            wait, slot = await reserve(intervals)
            slots.append((slot, any(k.startswith("group") for k in intervals)))
            return wait, slot

        limits.reserve = recorded  # type: ignore[method-assign]
        limiter.limits = limits
        limiters.append(limiter)
    sent: list[int] = []

    async def send(chat: int) -> bool:
        sent.append(chat)
        return True

    group, chats = -1001234, [1, 2, 3, 4, 5]
    try:
        await asyncio.gather(
            *(
                limiter.process_request(send, (chat,), {}, "sendMessage", {"chat_id": chat}, None)
                for limiter in limiters
                for chat in [group] * 4 + chats
            )
        )
    finally:
        await one.close()
        await two.close()
    assert len(sent) == 18 and len(slots) == 8 + 18  # a group's slot, then the bot's

    def most_in(window: float, times: list[float]) -> int:
        ordered = sorted(times)
        return max(bisect.bisect_right(ordered, t + window) - i for i, t in enumerate(ordered))

    # Slots 0.101 s apart in the group (600 a minute, both replicas together), 0.0404 s
    # apart for the bot (25 a second), by the server's clock: one slot of slack all the same.
    # Limiters of their own would give each replica the full rate: half these spans.
    group_times = [t for t, in_group in slots if in_group]
    all_times = [t for t, in_group in slots if not in_group]
    assert max(group_times) - min(group_times) >= 7 * 0.101 - 0.05
    assert most_in(0.3, group_times) <= 3 + 1
    assert max(all_times) - min(all_times) >= 17 * 0.0404 - 0.05
    assert most_in(0.2, all_times) <= 5 + 1


async def test_a_groups_queue_does_not_hold_back_sends_to_users(
    postgres_server: PostgresServer,
) -> None:
    """A group's slots are 3 s apart here (as shipped), the bot's a thirtieth: a send to a
    user asked for after the group's second send waits for neither (before, it took the
    bot's slot at the group's moment, and all sends to users went at the group's pace)."""
    database = await Database.open(postgres_server.database())
    telegram = TelegramSettings(max_messages_per_second=30, group_messages_per_minute=20)
    limiter = SharedRateLimiter(rate_limiter(telegram), telegram)
    limits = SharedLimits(database)
    reserve = limits.wait_for_slot
    group_slots: list[float] = []
    second_group_slot = asyncio.Event()

    async def recorded(intervals: dict[str, float]) -> float:
        wait: float = await reserve(intervals)
        if any(k.startswith("group") for k in intervals):
            group_slots.append(wait)
            if len(group_slots) == 2:
                second_group_slot.set()
        return wait

    limits.wait_for_slot = recorded  # type: ignore[method-assign]
    limiter.limits = limits
    sent: list[int] = []

    async def send(chat: int) -> bool:
        sent.append(chat)
        return True

    def request(chat: int) -> Any:
        return limiter.process_request(send, (chat,), {}, "sendMessage", {"chat_id": chat}, None)

    group, user = -1005550001, 555
    try:
        groups = asyncio.gather(request(group), request(group))
        await second_group_slot.wait()  # the group's second send waits about 3 s
        assert group_slots[1] > 1.5
        await request(user)
        assert sent == [group, user]  # the user's went before the group's second
        await groups
        assert sent == [group, user, group]
    finally:
        await database.close()
