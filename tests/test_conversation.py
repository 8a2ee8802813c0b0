"""The conversation rules in the core, without Telegram: gibberish, broad words, the same
thing, answers' contacts and sources, and the user flow's choices on a settable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_workflow import ANA, Clock, services_on_the_fixture, settings_for

from bot.answers import finish
from bot.config import load_settings
from bot.conversation import Conversation
from bot.decision import Candidate
from bot.knowledge import KnowledgeBase, load_knowledge
from bot.service import Services
from bot.storage.records import State

DEADLINE = "what is the application deadline for lgotp"


@pytest.fixture(scope="module")
def shipped() -> KnowledgeBase:
    """The shipped knowledge base: the issue's own examples are about its content."""
    return load_knowledge(load_settings(environ={}).knowledge.path)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # Friday 10:00 in Tokyo


@pytest.fixture
async def service(tmp_path: Path, clock: Clock) -> AsyncIterator[Services]:
    opened = await services_on_the_fixture(settings_for(tmp_path), clock)
    yield opened
    await opened.close()


@pytest.mark.parametrize(
    ("text", "gibberish"),
    [
        ("asdfgh qwerty zxcv", True),
        ("zzkq!!! 12345", True),
        ("ｱｱｱｱ", True),  # katakana, but no word of Sudachi's dictionary
        ("asdf visa", False),  # one real word is enough
        ("lgotp", False),  # the knowledge base's own word
        ("ビザ", False),
        ("what is the deadline", False),
    ],
)
def test_gibberish_has_no_word_of_either_language(
    shipped: KnowledgeBase, text: str, gibberish: bool
) -> None:
    assert Conversation(shipped).is_gibberish(text) is gibberish


def test_broad_words_name_a_category_or_several_entries(shipped: KnowledgeBase) -> None:
    conversation = Conversation(shipped)
    seminar = conversation.broad_topics("seminar")
    assert seminar is not None
    assert [shipped.categories[i] for i in seminar.categories] == [
        "Seminars on local administration"
    ]
    assert "best-practices-seminar" in seminar.entries and len(seminar.entries) >= 3
    japanese = conversation.broad_topics("セミナー")
    assert japanese is not None and japanese.categories == seminar.categories
    training = conversation.broad_topics("Training")  # no category: several titles
    assert training is not None and training.categories == ()
    assert {"lgotp-jiam-training", "lgotp-specialised-training"} <= set(training.entries)
    for narrow in ("fax", "when is the seminar", "visa", "2024", "ほげ"):
        assert conversation.broad_topics(narrow) is None, narrow


def test_same_thing_by_shared_words_unless_the_matcher_points_elsewhere(
    shipped: KnowledgeBase,
) -> None:
    same = Conversation(shipped).same_thing
    lgotp = [Candidate("lgotp-arrival", "", 60.0), Candidate("lgotp-schedule", "", 55.0)]
    jet = [Candidate("jet-numbers", "", 70.0), Candidate("jet-overview", "", 65.0)]
    assert same([DEADLINE], lgotp, "and the application deadline for 2026?", [])
    assert not same([DEADLINE], lgotp, "is there a visa fee", [])  # no word shared
    assert not same([DEADLINE], lgotp, "what is the lgotp fee", lgotp)  # half is not most
    assert not same([DEADLINE], lgotp, "the jet application deadline", jet)  # elsewhere
    assert not same([DEADLINE], lgotp, "and?", lgotp)  # nothing to compare: ask
    assert same(["LGOTPの応募締切はいつですか"], [], "2026年度の応募締切は？", [])


def test_answers_get_the_contact_phone_and_the_source(shipped: KnowledgeBase) -> None:
    arrival = shipped.entries["lgotp-arrival"]
    text = finish(shipped, ["lgotp-arrival"], arrival.answer, "en")
    assert text.startswith(arrival.answer.rstrip())
    assert "\nLGOTP contact (Tokyo division): Tel +81-3-5213-1726\n" in text
    assert text.endswith("\n\nSource: " + shipped.sources[arrival.source])
    sister = shipped.entries["sister-cities"]
    japanese = finish(shipped, ["sister-cities"], sister.answer_ja, "ja")
    assert "シンガポール事務所の連絡先：TEL 65-6224-7927" in japanese
    assert japanese.endswith("出典：Our Activities 2025（クレア・シンガポール事務所）")
    # No phone where the answer does not say to get in touch ("a contact point").
    after = shipped.entries["lgotp-after-training"]
    assert "Tel" not in finish(shipped, [after.id], after.answer, "en")
    # Two entries from one source name it once.
    both = finish(shipped, ["lgotp-arrival", "lgotp-duration"], "x", "en")
    assert both.count("Source:") == 1 and both.count("Training Overview") == 1


async def test_a_message_joins_only_soon_after(service: Services, clock: Clock) -> None:
    assert (await service.users.ask(ANA, DEADLINE)).enquiry is not None
    clock.moment += timedelta(minutes=20)
    soon = await service.users.ask(ANA, "and the application deadline for 2026?")
    assert soon.follow_up and soon.enquiry is not None and soon.enquiry.ref == 1
    clock.moment += timedelta(minutes=31)  # past limits.follow_up_minutes since the last one
    later = await service.users.ask(ANA, "and the application deadline for 2027?")
    assert later.enquiry is None and later.belongs is not None and later.belongs.ref == 1
    new = await service.users.open_new(ANA, "and the application deadline for 2027?")
    assert new.enquiry is not None and new.enquiry.ref == 2 and new.enquiry.state is State.NEW
    assert new.enquiry.code == "guard-topic"  # decided again: staff see why


async def test_the_cap_resets_when_the_oldest_enquiry_of_the_day_is_a_day_old(
    tmp_path: Path, clock: Clock
) -> None:
    settings = settings_for(tmp_path, CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY="2")
    service = await services_on_the_fixture(settings, clock)
    try:
        first = await service.users.ask_staff(ANA, "one")
        clock.moment += timedelta(hours=3)
        await service.users.ask_staff(ANA, "two")
        over = await service.users.open_new(ANA, "is there a visa fee")
        assert over.limited and over.enquiry is None
        resets = first.created_at + timedelta(days=1)
        assert over.acknowledgement == service.users.limit_notice(resets, "en")
        assert "Sat 21 Nov 10:00 JST" in over.acknowledgement
        clock.moment = resets
        assert (await service.users.open_new(ANA, "is there a visa fee")).enquiry is not None
    finally:
        await service.close()
