"""An update is recorded in the transaction of its effects (bot.storage.updates), on both
engines: a bot that dies right after storing a user's message leaves the update recorded and
the acknowledgement queued; one that finds the update recorded by another changes nothing."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import fixture_matcher
from postgres import PostgresServer
from sqlalchemy import func, select
from test_workflow import ANA, STAFF_CHAT, Clock, settings_for

from bot.service import Services
from bot.storage import Storage
from bot.storage.outbox import Lane
from bot.storage.records import Kind
from bot.storage.replicas import handled, mark_handled
from bot.storage.schema import handled_updates
from bot.storage.updates import AlreadyHandled, handling
from bot.users import HOLD_S, RecentQuestions

UNANSWERABLE = "what is the visa fee for trainees?"


@pytest.fixture
async def service(tmp_path: Path, store_url: str | Path, clock: Clock) -> AsyncIterator[Services]:
    settings = settings_for(tmp_path, CLAIRBOT_STORAGE_PATH=str(store_url))
    matcher = fixture_matcher(settings.matcher)
    service = Services(settings, matcher.kb, await Storage.open(store_url, clock), matcher)
    yield service
    await service.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # Friday 10:00 in Tokyo


async def test_the_update_is_recorded_with_the_enquiry_and_its_acknowledgement(
    service: Services,
) -> None:
    database = service.storage.database
    with handling(101) as current:
        reply = await service.users.ask(ANA, UNANSWERABLE)
    # The bot could die here, before its 200: what another finds when the update comes again.
    assert reply.enquiry is not None and reply.queued and current.recorded
    assert await handled(database, 101)
    announcement, acknowledgement = await service.storage.outbox.items(reply.enquiry.ref)
    assert announcement.kind is Kind.ANNOUNCE and announcement.chat_id == STAFF_CHAT
    assert acknowledgement.kind is Kind.TO_USER and acknowledgement.chat_id == ANA.chat_id
    assert f"#{reply.enquiry.ref}" in acknowledgement.text
    assert acknowledgement.text == html.escape(reply.acknowledgement)


async def test_a_follow_up_and_its_acknowledgement_are_recorded_together(
    service: Services,
) -> None:
    first = await service.users.ask(ANA, UNANSWERABLE)
    assert first.enquiry is not None
    with handling(102):
        joined = await service.users.join(ANA, first.enquiry.ref, "and for their families?")
    assert await handled(service.storage.database, 102)
    acks = [
        i for i in await service.storage.outbox.items(first.enquiry.ref) if i.kind is Kind.TO_USER
    ]
    assert [a.text for a in acks][1:] == [html.escape(joined.acknowledgement)]
    assert joined.queued


async def test_an_update_another_bot_recorded_changes_nothing(service: Services) -> None:
    database = service.storage.database
    assert await mark_handled(database, 103)  # another bot, with its effects
    with handling(103) as current, pytest.raises(AlreadyHandled):
        await service.users.ask(ANA, UNANSWERABLE)
    assert current.elsewhere and not current.recorded
    assert await service.storage.enquiries.for_user(ANA.user_id) == []  # rolled back
    assert await service.storage.outbox.items() == []


async def test_later_transactions_of_the_update_do_not_record_it_again(
    service: Services,
) -> None:
    recent = RecentQuestions()
    number = recent.remember(UNANSWERABLE)
    with handling(104) as current:
        notice = await service.users.forward_remembered(ANA, recent, number, "asked", "en")
        assert current.recorded
        # A second change in the same update (e.g. a button that also joins): no AlreadyHandled.
        assert notice.ref is not None
        await service.users.join(ANA, notice.ref, "one more thing")
    assert await handled(service.storage.database, 104)


async def test_without_an_update_nothing_is_recorded(service: Services) -> None:
    reply = await service.users.ask(ANA, UNANSWERABLE)
    assert reply.enquiry is not None
    count = select(func.count()).select_from(handled_updates)
    assert await service.storage.database.scalar(count) == 0


async def test_two_bots_handling_one_update_at_once_store_it_once(
    tmp_path: Path, postgres_server: PostgresServer, clock: Clock
) -> None:
    """On PostgreSQL (one process per SQLite database: no second bot there)."""
    store_url = postgres_server.database()
    settings = settings_for(tmp_path, CLAIRBOT_STORAGE_PATH=str(store_url))
    matcher = fixture_matcher(settings.matcher)
    one = Services(settings, matcher.kb, await Storage.open(store_url, clock), matcher)
    two = Services(settings, matcher.kb, await Storage.open(store_url, clock), matcher)
    try:

        async def handle(service: Services) -> bool:
            with handling(105):
                try:
                    await service.users.ask(ANA, UNANSWERABLE)
                except AlreadyHandled:
                    return False
            return True

        outcomes = await asyncio.gather(handle(one), handle(two))
        assert sorted(outcomes) == [False, True]
        assert len(await one.storage.enquiries.for_user(ANA.user_id)) == 1
    finally:
        await one.close()
        await two.close()


IN_PART = "when do trainees arrive in japan, and how much is the fee?"


async def test_an_acknowledgement_after_an_answer_in_part_waits_for_that_answer(
    service: Services,
) -> None:
    """The answer goes straight away, the acknowledgement of the rest through the outbox:
    held until the handler says the answer went, so that it does not overtake it."""
    reply = await service.users.ask(ANA, IN_PART)
    assert reply.enquiry is not None and reply.answer and reply.queued
    outbox = service.storage.outbox
    assert await outbox.due(lane=Lane.USERS) == []
    await service.users.release(reply)
    [acknowledgement] = await outbox.due(lane=Lane.USERS)
    assert acknowledgement.kind is Kind.TO_USER and acknowledgement.ref == reply.enquiry.ref


async def test_a_held_acknowledgement_goes_even_if_the_answer_never_does(
    service: Services, clock: Clock
) -> None:
    reply = await service.users.ask(ANA, IN_PART)
    assert reply.enquiry is not None  # the bot stops here: no release
    clock.moment += timedelta(seconds=HOLD_S + 1)
    [acknowledgement] = await service.storage.outbox.due(lane=Lane.USERS)
    assert acknowledgement.kind is Kind.TO_USER


async def test_an_acknowledgement_alone_is_not_held(service: Services) -> None:
    reply = await service.users.ask(ANA, UNANSWERABLE)
    assert reply.enquiry is not None and not reply.answer
    [acknowledgement] = await service.storage.outbox.due(lane=Lane.USERS)
    assert acknowledgement.kind is Kind.TO_USER
