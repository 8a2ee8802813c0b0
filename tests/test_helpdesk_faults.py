"""Faults: attachments, notes and ratings survive a failing Bot API and a killed bot.

Thirty per cent of the Bot API calls the outbox makes fail (a third each 500, 429 with
retry_after, and timeouts the server never carries out), and the delivering process is killed
once, between Telegram accepting a copied attachment and the bot recording it: the one window
the outbox documents for a duplicate. Everything is still delivered, each item once (that one
attachment at most twice), in order per enquiry; no note ever reaches a user.

The flow goes through the services exactly as the handlers call them, with the users' and
staff's messages made in the fake first (copyMessage copies from them); a real `telegram.Bot`
with short timeouts delivers over HTTP. Retries wait on the store's clock, which the test
moves forward instead of sleeping.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    FastClock,
    fast_worker,
    open_services,
    settings_for,
    skip_waits,
    staff_overrides,
)
from fakebotapi import FakeBotApi, SentMessage
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.outbox import OutboxWorker, Sender
from bot.service import Services
from bot.storage.records import Asker, Kind, Media, OutboxItem, OutboxState, Source
from handlers.delivery import TelegramSender

TIMEOUT_S = 0.5  # a call that takes longer counts as a timeout (and is sent again)
USERS = range(2001, 2007)
FAILING = ("sendMessage", "copyMessage", "editMessageReplyMarkup", "editMessageText")


@dataclass
class Desk:
    api: FakeBotApi
    service: Services
    sender: TelegramSender
    clock: FastClock

    def worker(self, sender: Sender | None = None) -> OutboxWorker:
        return fast_worker(self.service, sender or self.sender, idle_s=0.2)


@pytest.fixture
async def desk(bot_api: FakeBotApi, tmp_path: Path) -> AsyncIterator[Desk]:
    bot_api.group(STAFF_CHAT_ID, "CLAIR staff")
    bot_api.user(STAFF_USER_ID, "Kenji")
    clock = FastClock()
    service = await open_services(settings_for(bot_api, tmp_path, **staff_overrides()), clock)
    request = HTTPXRequest(read_timeout=TIMEOUT_S, write_timeout=TIMEOUT_S, connect_timeout=1)
    bot = Bot(bot_api.token, base_url=bot_api.base_url, request=request)
    skipper = asyncio.create_task(skip_waits(service.storage.outbox, clock))
    try:
        async with bot:
            yield Desk(
                bot_api, service, TelegramSender(bot, service.staff, service.settings.staff), clock
            )
    finally:
        skipper.cancel()
        await service.close()


class KilledAfterCopy:
    """Delivers for real; after the first copy to a user, the process dies before the worker
    records it (the task is cancelled), as a killed bot would."""

    def __init__(self, inner: TelegramSender) -> None:
        self.inner = inner
        self.killed: OutboxItem | None = None
        self.dead = asyncio.Event()

    async def send(self, item: OutboxItem) -> int:
        message_id = await self.inner.send(item)
        if item.kind is Kind.COPY and item.chat_id != STAFF_CHAT_ID and self.killed is None:
            self.killed = item
            self.dead.set()
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)
        return message_id


async def work_one_enquiry(desk: Desk, user: int) -> int:
    """A user's photo opens an enquiry; staff note it, answer with a PDF, resolve it; the user
    rates it. Returns the enquiry's number."""
    api, service = desk.api, desk.service
    api.user(user, f"User {user}")
    photo_id = api.send_photo(caption=f"photo from {user}", user=user)
    asker = Asker(user, user, f"User {user}", message_id=photo_id)
    attached = await service.relay.user_attachment(
        asker, Media("photo", f"P{user}", f"UP{user}", file_size=3), f"photo from {user}"
    )
    ref = attached.enquiry.ref
    await service.staff.note(ref, STAFF_USER_ID, "Kenji", f"internal note {ref}")
    pdf_id = api.send_document(f"answer-{ref}.pdf", user=STAFF_USER_ID, chat=STAFF_CHAT_ID)
    pdf = Media("document", f"D{ref}", f"UD{ref}", f"answer-{ref}.pdf", "application/pdf", 8)
    source = Source(STAFF_CHAT_ID, pdf_id)
    await service.staff.reply(
        ref, STAFF_USER_ID, "Kenji", f"answer {ref}", source=source, media=pdf
    )
    await service.staff.resolve(ref, STAFF_USER_ID, "Kenji")
    await service.satisfaction.rate(ref, user, 1 + ref % 5)
    return ref


async def drained(desk: Desk) -> None:
    """Wait until every outbox message is delivered (or has failed for good)."""

    async def poll() -> None:
        # A poll with a deadline: the store has no event for deliveries.
        while any(  # noqa: ASYNC110
            item.state in (OutboxState.PENDING, OutboxState.SENDING)
            for item in await desk.service.storage.outbox.items()
        ):
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout=20)


def copies(messages: list[SentMessage]) -> Counter[tuple[int, int]]:
    return Counter(m.copied_from for m in messages if m.copied_from is not None)


async def test_nothing_lost_or_doubled_with_failures_and_a_kill(desk: Desk) -> None:
    api = desk.api
    api.fail_randomly(0.3, FAILING, seed=13, timeout_s=TIMEOUT_S + 0.2)
    refs = {}
    dying = KilledAfterCopy(desk.sender)
    first = desk.worker(dying)
    await first.start()
    for user in list(USERS)[:3]:
        refs[user] = await work_one_enquiry(desk, user)
    await asyncio.wait_for(dying.dead.wait(), timeout=10)
    await first.stop()  # its task is already gone, mid-delivery
    second = desk.worker()  # the bot restarted: what was mid-send goes again
    await second.start()
    try:
        for user in list(USERS)[3:]:
            refs[user] = await work_one_enquiry(desk, user)
        await drained(desk)
    finally:
        await second.stop()

    items = await desk.service.storage.outbox.items()
    assert {item.state for item in items} == {OutboxState.SENT}
    assert set(api.injected) == {"500", "429", "timeout"}
    calls = [c for c in api.calls if c.method in FAILING]
    failed = [c for c in calls if c.status != 200]  # a timed-out call's answer is never sent
    assert len(failed) == api.injected["500"] + api.injected["429"]
    assert 0.15 < sum(api.injected.values()) / len(calls) < 0.45
    killed = dying.killed
    assert killed is not None and killed.copy_of is not None
    window = (killed.copy_of.chat_id, killed.copy_of.message_id)

    staff_copies = copies(api.messages(STAFF_CHAT_ID))
    for user, ref in refs.items():
        to_user = api.messages(user)
        texts = [m.text for m in to_user]
        # The user's photo: in the staff thread once, threaded under the announcement.
        [photo] = [
            m
            for m in api._all_messages.values()
            if m["chat"]["id"] == user and m.get("caption") == f"photo from {user}"
        ]
        assert staff_copies[(user, photo["message_id"])] == 1
        [copy] = [
            m for m in api.messages(STAFF_CHAT_ID) if m.copied_from == (user, photo["message_id"])
        ]
        enquiry = await desk.service.storage.enquiries.get(ref)
        assert enquiry is not None and copy.reply_to_message_id == enquiry.staff_message_id
        # Staff's PDF: with the user once; twice only the one sent in the kill's window.
        [pdf] = [c for c in copies(to_user) if c[0] == STAFF_CHAT_ID]
        assert copies(to_user)[pdf] == (2 if pdf == window else 1)
        # The rating question once, after the answer; the note never.
        asked = [t for t in texts if t.startswith(f"Your enquiry #{ref} is resolved")]
        assert len(asked) == 1
        assert texts.index(asked[0]) > max(
            i for i, m in enumerate(to_user) if m.copied_from == pdf
        )
        assert not any("internal note" in t for t in texts)
        rated = [m for m in api.messages(STAFF_CHAT_ID) if m.text.startswith(f"⭐ #{ref}:")]
        assert len(rated) == 1
        rating = await desk.service.storage.ratings.get(ref)
        assert rating is not None and rating.score == 1 + ref % 5
        notes = [m.text for m in await desk.service.storage.enquiries.messages(ref)]
        assert f"internal note {ref}" in notes
    # Apart from the one in the window, no message arrived twice anywhere.
    everything = [m for chat in (STAFF_CHAT_ID, *USERS) for m in api.messages(chat)]
    doubled = [key for key, n in copies(everything).items() if n > 1]
    assert doubled in ([], [window])
    texts_by_chat = Counter((m.chat_id, m.text) for m in everything if m.copied_from is None)
    assert [key for key, n in texts_by_chat.items() if n > 1] == []
