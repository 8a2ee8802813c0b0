"""Delivery: TelegramSender and the OutboxWorker against the fake Bot API, over real HTTP.

A real `telegram.Bot` (short timeouts, so a slow server is a timeout within the test) sends
through the worker; the fake injects 429s, 5xx, slow responses and blocked users. Backoff is
50 ms so retries are quick.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    USER_ID,
    FastClock,
    fast_worker,
    open_services,
    settings_for,
    skip_waits,
    staff_overrides,
)
from fakebotapi import FakeBotApi
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.outbox import OutboxWorker, RetryLater, Sender, deliver_due
from bot.service import Services
from bot.storage.outbox import Lane
from bot.storage.records import Asker, Draft, Enquiry, Kind, OutboxItem, OutboxState
from handlers.delivery import TelegramSender

TIMEOUT_S = 0.3  # the bot's read/write timeout in these tests
ANA = Asker(user_id=USER_ID, chat_id=USER_ID, name="Ana <Test>", username="ana")


@dataclass
class World:
    api: FakeBotApi
    service: Services
    bot: Bot
    sender: TelegramSender
    clock: FastClock

    def worker(self, sender: Sender | None = None) -> OutboxWorker:
        return fast_worker(self.service, sender or self.sender)

    async def escalate(self, text: str = "When is the deadline?") -> Enquiry:
        return await self.service.users.ask_staff(ANA, text)

    async def reply(self, ref: int, text: str) -> None:
        await self.service.staff.reply(ref, STAFF_USER_ID, "Kenji", text)

    async def acknowledgement(self, ref: int = 1) -> str:
        """What the user's chat shows of the acknowledgement of enquiry `ref`."""
        enquiry = await self.service.storage.enquiries.get(ref)
        assert enquiry is not None
        return self.service.users.acknowledgement(enquiry, "en")

    def texts_to(self, chat_id: int) -> list[str]:
        return [m.text for m in self.api.messages(chat_id)]

    async def wait_texts(self, chat_id: int, count: int, timeout: float = 5.0) -> list[str]:  # noqa: ASYNC109
        await self.api.wait_for(lambda: len(self.api.messages(chat_id)) >= count, timeout)
        return self.texts_to(chat_id)


@pytest.fixture
async def world(bot_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[World]:
    bot_api.group(STAFF_CHAT_ID, "CLAIR staff")
    clock = FastClock()
    settings = settings_for(bot_api, tmp_path, **staff_overrides())
    service = await open_services(settings, clock)
    request = HTTPXRequest(read_timeout=TIMEOUT_S, write_timeout=TIMEOUT_S, connect_timeout=1)
    bot = Bot(bot_api.token, base_url=bot_api.base_url, request=request)
    skipper = asyncio.create_task(skip_waits(service.storage.outbox, clock))
    try:
        async with bot:
            sender = TelegramSender(bot, service.staff, service.settings.staff)
            yield World(bot_api, service, bot, sender, clock)
    finally:
        skipper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await skipper  # its read ends before the store closes
        await service.close()


async def replies_arrive_once(world: World) -> list[str]:
    """An announcement, the user's acknowledgement and three replies go out through a
    worker; return what the user got."""
    enquiry = await world.escalate()
    for n in (1, 2, 3):
        await world.reply(enquiry.ref, f"answer {n}")
    worker = world.worker()
    await worker.start()
    try:
        got = await world.wait_texts(USER_ID, 4)
        await world.wait_texts(STAFF_CHAT_ID, 1)
    finally:
        await worker.stop()
    items = await world.service.storage.outbox.items(enquiry.ref)
    # The announcement, the acknowledgement, its buttons ("claimed by" after the first
    # reply) and three replies.
    assert [i.state for i in items] == [OutboxState.SENT] * 6
    assert len(world.texts_to(STAFF_CHAT_ID)) == 1
    return got


def expected_replies() -> list[str]:
    return [f"CLAIR staff (about your enquiry #1):\nanswer {n}" for n in (1, 2, 3)]


async def test_all_delivered_in_order_without_faults(world: World) -> None:
    got = await replies_arrive_once(world)
    assert got == [await world.acknowledgement(), *expected_replies()]


class Timed:
    """Sends for real and notes, on the store's clock, when each message to the user was
    attempted and when Telegram refused one (RetryLater)."""

    def __init__(self, inner: TelegramSender, clock: FastClock) -> None:
        self.inner, self.clock = inner, clock
        self.attempts: list[datetime] = []
        self.refusals: list[datetime] = []

    async def send(self, item: OutboxItem) -> int:
        if item.chat_id == USER_ID:
            self.attempts.append(self.clock())
        try:
            return await self.inner.send(item)
        except RetryLater:
            self.refusals.append(self.clock())
            raise


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429, "retry_after": 1},
        {"status": 500},
        {"status": 502},
        {"status": None, "delay": 1.0},  # slower than the bot's timeout: TimedOut
    ],
    ids=["429", "500", "502", "timeout"],
)
async def test_temporary_failure_is_retried_and_each_message_arrives_once(
    world: World, fault: dict[str, float | None]
) -> None:
    enquiry = await world.escalate()
    await world.reply(enquiry.ref, "answer 1")
    sender = Timed(world.sender, world.clock)
    worker = world.worker(sender)
    await worker.start()
    try:
        await world.wait_texts(USER_ID, 2)  # the acknowledgement and answer 1
        world.api.fail_next("sendMessage", **fault, chat_id=USER_ID)  # type: ignore[arg-type]
        await world.reply(enquiry.ref, "answer 2")
        got = await world.wait_texts(USER_ID, 3, timeout=5)
    finally:
        await worker.stop()
    assert got == [await world.acknowledgement(), *expected_replies()[:2]]
    failed = [c.status for c in world.api.calls_to("sendMessage") if c.status != 200]
    if fault["status"] is not None:
        assert failed == [fault["status"]]
    if fault["status"] == 429:  # the retry waited the server's retry_after, on the clock
        # Measured from the moment the 429 came back to the retry, never a moment less. (The
        # skipped wait alone is 1 s less the real time between the clock read that set the
        # retry and the poll that skipped to it: the write, the commit, the poll.)
        [refused] = sender.refusals
        [*_, refused_attempt, retry] = sender.attempts
        assert refused_attempt <= refused and (retry - refused).total_seconds() >= 1.0
        assert max(world.clock.jumps) <= 1.05  # and not the backoff on top of it
    [*_, item] = await world.service.storage.outbox.items(enquiry.ref)
    assert item.state is OutboxState.SENT and item.attempts == 2


@pytest.mark.parametrize("status", [429, 500])
async def test_a_failure_with_more_queued_still_delivers_everything_once(
    world: World, status: int
) -> None:
    retry_after = 1 if status == 429 else None
    world.api.fail_next("sendMessage", status=status, retry_after=retry_after, chat_id=USER_ID)
    got = await replies_arrive_once(world)  # the first to the user (the acknowledgement) fails
    assert sorted(got) == sorted([await world.acknowledgement(), *expected_replies()])


async def test_order_is_kept_when_the_first_message_must_be_retried(world: World) -> None:
    # The announcement fails twice, slowly (0.2 s each, within the bot's timeout): long
    # enough for the user's three messages to go meanwhile if they do not wait for the staff
    # chat.
    world.api.fail_next("sendMessage", 2, status=500, delay=0.2, chat_id=STAFF_CHAT_ID)
    enquiry = await world.escalate()
    await world.service.users.follow_up(enquiry.ref, ANA, "one more thing")
    await world.reply(enquiry.ref, "answer 1")
    worker = world.worker()
    await worker.start()
    try:
        await world.wait_texts(USER_ID, 3)
        await world.wait_texts(STAFF_CHAT_ID, 2)
    finally:
        await worker.stop()
    # In the staff chat the follow-up waited for its announcement, and threads under it;
    # the user's messages (the two acknowledgements, then the answer, in the order they
    # were written) did not wait for the staff chat.
    announcement, follow_up = world.api.messages(STAFF_CHAT_ID)
    assert announcement.text.startswith("#1 new enquiry") and "one more thing" in follow_up.text
    assert follow_up.reply_to_message_id == announcement.message_id
    acknowledged, followed_up, answer = world.texts_to(USER_ID)
    assert acknowledged == await world.acknowledgement()
    assert followed_up.startswith("I've added this to your open question #1")
    assert answer == expected_replies()[0]
    sends = [c for c in world.api.calls_to("sendMessage") if c.status == 200]
    assert [c.params["chat_id"] for c in sends] == [USER_ID] * 3 + [STAFF_CHAT_ID] * 2


async def test_blocked_user_fails_the_item_and_tells_the_staff_thread(world: World) -> None:
    enquiry = await world.escalate()
    worker = world.worker()
    await worker.start()
    try:
        announcement = await world.api.next_message(STAFF_CHAT_ID)
        await world.wait_texts(USER_ID, 1)  # the acknowledgement, before the user blocks us
        world.api.block_user(USER_ID)
        await world.reply(enquiry.ref, "Here is your answer.")
        notice = await world.api.next_message(STAFF_CHAT_ID)
    finally:
        await worker.stop()
    assert "#1: the reply could not be delivered to the user" in notice.text
    assert "blocked" in notice.text
    assert notice.reply_to_message_id == announcement.message_id  # in the enquiry's thread
    to_user = [
        i for i in await world.service.storage.outbox.items(enquiry.ref) if i.chat_id == USER_ID
    ]
    assert [(i.kind, i.state, i.attempts) for i in to_user] == [
        (Kind.TO_USER, OutboxState.SENT, 1),
        (Kind.REPLY, OutboxState.FAILED, 1),
    ]
    assert world.texts_to(USER_ID) == [await world.acknowledgement()]  # not the reply


async def test_unknown_chat_is_undeliverable(world: World) -> None:
    await world.service.storage.outbox.enqueue([Draft(Kind.REPLY, 777, "hello")])
    worker = world.worker()
    await worker.start()
    try:
        await world.api.wait_for(
            lambda: [c for c in world.api.calls_to("sendMessage") if c.status == 400]
        )
    finally:
        await worker.stop()  # returns once the round that got the 400 has recorded it
    [item] = await world.service.storage.outbox.items()
    assert (item.state, item.last_error) == (OutboxState.FAILED, "Chat not found")


async def test_item_caught_mid_send_is_sent_after_a_restart(world: World) -> None:
    enquiry = await world.escalate()
    await world.reply(enquiry.ref, "answer 1")
    for item in await world.service.storage.outbox.due():
        await world.service.storage.outbox.mark_sending(item.id)  # the process died here
    assert await world.service.storage.outbox.due() == []
    worker = world.worker()
    await worker.start()  # recovers 'sending' items first
    try:
        got = await world.wait_texts(USER_ID, 2)
        await world.wait_texts(STAFF_CHAT_ID, 1)
    finally:
        await worker.stop()
    assert got == [await world.acknowledgement(), *expected_replies()[:1]]
    assert len(world.texts_to(STAFF_CHAT_ID)) == 1


async def test_a_message_read_as_due_but_delivered_meanwhile_is_not_sent_again(
    world: World,
) -> None:
    """However a message comes to be read as due after it went (a read that predates the
    write recording it, a second worker), it is taken only while still pending."""
    enquiry = await world.escalate()
    store = world.service.storage.outbox
    assert await deliver_due(store, world.sender, lane=Lane.USERS) == 1  # the acknowledgement
    await world.reply(enquiry.ref, "answer 1")
    [stale] = await store.due(lane=Lane.USERS)
    assert stale.kind is Kind.REPLY
    assert await store.mark_sending(stale.id)
    await store.mark_sent(stale, await world.sender.send(stale))
    assert not await store.mark_sending(stale.id)  # a second taker gets nothing
    await store.mark_retry(stale.id, "a late failure", 0)  # and cannot undo the delivery

    class StaleReads:
        """The store, whose first read of what is due still shows the message pending."""

        def __init__(self) -> None:
            self.first = True

        def __getattr__(self, name: str) -> Any:
            return getattr(store, name)

        async def due(self, limit: int = 20, lane: Lane | None = None) -> list[OutboxItem]:
            if self.first:
                self.first = False
                return [stale]
            return await store.due(limit, lane)

    sent = await deliver_due(StaleReads(), world.sender, lane=Lane.USERS)  # type: ignore[arg-type]
    assert sent == 0
    assert world.texts_to(USER_ID).count(expected_replies()[0]) == 1
    [item] = [i for i in await store.items(enquiry.ref) if i.id == stale.id]
    assert (item.state, item.attempts) == (OutboxState.SENT, 1)


class DiesAfterSend:
    """Sends for real, then, after a message to the user, the task is cancelled before the
    worker can record it as sent."""

    def __init__(self, inner: TelegramSender) -> None:
        self.inner = inner

    async def send(self, item: OutboxItem) -> int:
        message_id = await self.inner.send(item)
        if item.chat_id != USER_ID:
            return message_id
        task = asyncio.current_task()
        assert task is not None
        task.cancel()  # as if the process were killed between send and mark_sent
        await asyncio.sleep(0)
        return message_id  # pragma: no cover - cancelled above


async def test_killed_between_send_and_mark_sends_again_after_restart(world: World) -> None:
    """The accepted duplicate window: Telegram took the message, the write did not happen.

    After a restart the message goes again: at least once, never lost. A message is sent
    twice only if the process dies in that window.
    """
    enquiry = await world.escalate()
    worker = world.worker()
    await worker.start()
    await world.wait_texts(STAFF_CHAT_ID, 1)
    await world.wait_texts(USER_ID, 1)  # the acknowledgement
    await worker.stop()
    await world.reply(enquiry.ref, "answer 1")
    dying = world.worker(DiesAfterSend(world.sender))
    await dying.start()
    await world.wait_texts(USER_ID, 2)
    await dying.stop()  # the task is already gone
    [*_, item] = await world.service.storage.outbox.items(enquiry.ref)
    assert item.state is OutboxState.SENDING

    worker = world.worker()
    await worker.start()
    try:
        got = await world.wait_texts(USER_ID, 3)
    finally:
        await worker.stop()
    [*_, item] = await world.service.storage.outbox.items(enquiry.ref)
    assert item.state is OutboxState.SENT
    assert got == [await world.acknowledgement(), *expected_replies()[:1] * 2]
    assert item.attempts == 2


async def test_forum_mode_creates_a_topic_per_enquiry(bot_api: FakeBotApi, tmp_path: Path) -> None:
    forum = -1005550000
    bot_api.group(forum, "CLAIR staff", is_forum=True)
    overrides = staff_overrides(forum=True) | {"CLAIRBOT_STAFF_CHAT_ID": str(forum)}
    service = await open_services(settings_for(bot_api, tmp_path, **overrides))
    bot = Bot(bot_api.token, base_url=bot_api.base_url)
    try:
        async with bot:
            sender = TelegramSender(bot, service.staff, service.settings.staff)
            world = World(bot_api, service, bot, sender, FastClock())
            enquiry = await world.escalate("A <question>")
            await world.service.users.follow_up(enquiry.ref, ANA, "more detail")
            worker = world.worker()
            await worker.start()
            try:
                announcement = await bot_api.next_message(forum)
                follow_up = await bot_api.next_message(forum)
            finally:
                await worker.stop()
            stored = await service.storage.enquiries.get(enquiry.ref)
    finally:
        await service.close()
    [topic_call] = bot_api.calls_to("createForumTopic")
    assert topic_call.params["name"] == "#1 Ana <Test>: A <question>"
    thread = announcement.message_thread_id
    assert thread is not None and follow_up.message_thread_id == thread
    assert follow_up.reply_to_message_id == announcement.message_id
    assert stored is not None and stored.staff_thread_id == thread


# ------------------------------------------------------------------------ a disk that fills
async def refuse_writes(service: Services, refuse: bool) -> None:
    """Make the database refuse every write, as a full or read-only disk does (SQLite's
    query_only: "attempt to write a readonly database"), or take them again."""
    writer = await service.storage.database.sqlite_driver_connection()
    await writer.execute(f"PRAGMA query_only={'ON' if refuse else 'OFF'}")


class DiskFillsDuringSend:
    """Telegram takes the message; by the time the bot writes down its id, the disk is full."""

    def __init__(self, inner: TelegramSender, service: Services) -> None:
        self.inner, self.service = inner, service
        self.filled = asyncio.Event()

    async def send(self, item: OutboxItem) -> int:
        message_id = await self.inner.send(item)
        if item.kind is Kind.ANNOUNCE and not self.filled.is_set():
            await refuse_writes(self.service, True)
            self.filled.set()
        return message_id


async def test_a_failed_write_after_a_send_neither_sticks_nor_sends_twice(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    first = await world.escalate("first question")
    for n in (1, 2):
        await world.reply(first.ref, f"answer {n}")
    sender = DiskFillsDuringSend(world.sender, world.service)
    worker = world.worker(sender)
    await worker.start()
    try:
        await sender.filled.wait()  # the announcement went out; its id cannot be written
        async with asyncio.timeout(5):  # a poll with a deadline: the write is the worker's
            while not world.service.storage.database.failing:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        [announcement, *_] = await world.service.storage.outbox.items(first.ref)
        assert announcement.state is OutboxState.SENDING
        answers_so_far = world.texts_to(USER_ID)  # the users' lane may have sent one first
        # The worker tries again and again (backing off 50-200 ms); the disk is still full,
        # and nothing may go out meanwhile: a wait is what this asserts.
        await asyncio.sleep(0.3)
        assert world.texts_to(USER_ID) == answers_so_far
        assert len(world.texts_to(STAFF_CHAT_ID)) == 1
        await refuse_writes(world.service, False)  # space again: no restart needed
        world.service.storage.outbox.changed.set()
        await world.wait_texts(USER_ID, 3)  # the acknowledgement and both answers
    finally:
        await worker.stop()
    items = await world.service.storage.outbox.items(first.ref)
    # The first answer claimed the enquiry: its announcement's buttons were updated too.
    kinds = [Kind.ANNOUNCE, Kind.TO_USER, Kind.KEYBOARD, Kind.REPLY, Kind.REPLY]
    assert [(i.kind, i.state) for i in items] == [(kind, OutboxState.SENT) for kind in kinds]
    acknowledgement = await world.acknowledgement(first.ref)
    assert world.texts_to(USER_ID) == [acknowledgement, *expected_replies()[:2]]  # each once
    staff_chat = world.api.messages(STAFF_CHAT_ID)
    assert len(staff_chat) == 1  # the announcement once, its id recorded after all
    assert items[0].telegram_message_id == staff_chat[0].message_id
    enquiry = await world.service.storage.enquiries.get(first.ref)
    assert enquiry is not None and enquiry.staff_message_id == staff_chat[0].message_id
    # The user's replies thread under it as usual, and the log said why once.
    failures = [r for r in caplog.records if "cannot write to the database" in r.getMessage()]
    assert len(failures) == 1 and "read-only" in failures[0].getMessage()
    assert "takes writes again" in caplog.text and "Traceback" not in caplog.text


async def test_stop_leaves_the_queue_pending_instead_of_draining_it(world: World) -> None:
    enquiry = await world.escalate()
    for n in range(1, 31):
        await world.reply(enquiry.ref, f"answer {n}")
    world.api.fail_next("sendMessage", 1000, status=None, delay=0.05)  # every send is slow
    worker = world.worker()
    await worker.start()
    await world.wait_texts(USER_ID, 2)  # the acknowledgement and the first answer
    await worker.stop()
    # Quick because it does not drain: at most the send in flight finishes (no wall-clock
    # bound here, the machines are shared; the fault run times a real SIGTERM).
    items = await world.service.storage.outbox.items(enquiry.ref)
    sent = [i for i in items if i.state is OutboxState.SENT]
    pending = [i for i in items if i.state is OutboxState.PENDING]
    # The announcement, the acknowledgement, its buttons' update and 30 answers.
    assert len(items) == 33
    assert 2 <= len(sent) < 10 and len(sent) + len(pending) == 33  # none left "sending"


async def test_an_answer_to_a_user_does_not_wait_behind_the_staff_chat(world: World) -> None:
    for n in range(5):  # five announcements, each held up (as by the 20-a-minute limit)
        world.api.user(100 + n)
        await world.service.users.ask_staff(replace(ANA, user_id=100 + n, chat_id=100 + n), "?")
    await world.reply(1, "answer 1")
    world.api.fail_next("sendMessage", 5, status=None, delay=0.2, chat_id=STAFF_CHAT_ID)
    worker = world.worker()
    await worker.start()
    answer = expected_replies()[0]
    try:
        # (The user's acknowledgement comes first: wait for the answer itself.)
        await world.api.wait_for(lambda: answer in world.texts_to(100))
        # The answer arrived while the staff chat was still working through its queue.
        assert len(world.texts_to(STAFF_CHAT_ID)) < 5
        await world.wait_texts(STAFF_CHAT_ID, 5)
    finally:
        await worker.stop()
