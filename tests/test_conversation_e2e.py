"""End to end, the flow of a conversation: which enquiry a message joins, gibberish, broad
words, the daily cap, and what every answer ends with (a contact's telephone, its source).

The real Application over HTTP against tests/fakebotapi.py on 127.0.0.1, as in test_e2e.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from conftest import USER_ID, Harness, is_escalated, running_bot
from fakebotapi import FakeBotApi, SentMessage

from bot import texts
from bot.storage.records import State

KENJI = 77  # an official whose Telegram client is set to Japanese
DEADLINE = "what is the application deadline for lgotp"
SOURCE_LGOTP = "Source: Local Government Officials Training Programme - Training Overview"


async def stored(clair: Harness) -> list[int]:
    return [e.ref for e in await clair.service.storage.enquiries.for_user(USER_ID)]


async def press(clair: Harness, message: SentMessage, label: str) -> SentMessage:
    clair.api.press(message, message.button(label), user=USER_ID)
    return await clair.api.next_message(USER_ID)


# ---------------------------------------------------------------------------- enquiries
async def test_an_unrelated_question_asks_whether_it_is_new_or_part_of_the_open_one(
    clair: Harness,
) -> None:
    assert is_escalated((await clair.say(DEADLINE)).text, 1)
    question = await clair.say("is there a visa fee")
    assert question.text == texts.EN.which_enquiry.format(ref=1)
    assert [label for label, _ in question.buttons()] == ["New question", "Part of #1"]
    assert await stored(clair) == [1]  # nothing forwarded until the user says which
    assert is_escalated((await press(clair, question, "New question")).text, 2)
    again = await press(clair, question, "New question")
    assert again.text == texts.EN.already_forwarded.format(ref=2)

    other = await clair.say("do trainees need insurance")
    assert other.text == texts.EN.which_enquiry.format(ref=2)  # the newest open enquiry
    assert (await press(clair, other, "Part of #2")).text == texts.EN.followed_up.format(ref=2)
    thread = await clair.service.storage.enquiries.messages(2)
    assert [m.text for m in thread] == ["is there a visa fee", "do trainees need insurance"]
    assert await stored(clair) == [2, 1]


async def test_the_same_thing_soon_after_joins_and_a_reply_joins_whatever_it_says(
    clair: Harness,
) -> None:
    acknowledgement = await clair.say(DEADLINE)
    assert is_escalated(acknowledgement.text, 1)
    joined = await clair.say("and what is the application deadline for 2026?")
    assert joined.text == texts.EN.followed_up.format(ref=1)
    clair.api.send_message("do trainees need insurance", user=USER_ID, reply_to=acknowledgement)
    assert (await clair.api.next_message(USER_ID)).text == texts.EN.followed_up.format(ref=1)
    assert len(await clair.service.storage.enquiries.messages(1)) == 3
    assert await stored(clair) == [1]


async def test_once_staff_have_answered_a_new_question_is_a_new_enquiry(clair: Harness) -> None:
    assert is_escalated((await clair.say(DEADLINE)).text, 1)
    await clair.service.staff.reply(1, 500, "Kenji", "Applications close in March.")
    assert (await clair.api.next_message(USER_ID)).text.endswith("Applications close in March.")
    answered = await clair.service.storage.enquiries.get(1)
    assert answered is not None and answered.state is State.PENDING  # staff answered
    assert is_escalated((await clair.say("and the deadline for 2027?")).text, 2)
    assert await stored(clair) == [2, 1]


async def test_gibberish_asks_to_rephrase_with_the_topics_and_uses_no_slot(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    async with running_bot(bot_api, tmp_path, CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY="1") as clair:
        reply = await clair.say("asdfgh qwerty zxcv")
        assert reply.text == texts.EN.rephrase
        assert [label for label, _ in reply.buttons()] == clair.service.kb.categories
        assert await stored(clair) == []
        assert is_escalated((await clair.say(DEADLINE)).text, 1)  # the one slot was free


async def test_the_daily_cap_stops_only_new_enquiries_and_says_when_it_resets(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    async with running_bot(bot_api, tmp_path, CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY="1") as clair:
        assert is_escalated((await clair.say(DEADLINE)).text, 1)
        question = await clair.say("is there a visa fee")
        enquiry = await clair.service.storage.enquiries.get(1)
        assert enquiry is not None
        resets = enquiry.created_at + timedelta(days=1)
        when = texts.format_time(resets, clair.service.hours, "en")
        notice = texts.EN.daily_limit.format(when=when)
        assert (await press(clair, question, "New question")).text == notice
        assert (await clair.say("/ask is there a visa fee")).text == notice
        # Everything else keeps working: commands, answers, and adding to the open enquiry.
        assert (await clair.say("/topics")).text.startswith("Topics")
        assert (await clair.say("/help")).text.startswith("How to use")
        assert (await clair.say("/language")).text == texts.EN.language_prompt
        assert "#1 (new)" in (await clair.say("/status")).text
        assert "mid-May" in (await clair.say("wen do trainees arive in japan")).text
        again = await clair.say("is there a visa fee")
        assert (await press(clair, again, "Part of #1")).text == texts.EN.followed_up.format(ref=1)
        assert await stored(clair) == [1]


# ---------------------------------------------------------------------------- topics
async def test_a_broad_word_offers_its_topics(clair: Harness) -> None:
    kb = clair.service.kb
    reply = await clair.say("jet")
    assert reply.text == texts.EN.broad_topics
    labels = [label for label, _ in reply.buttons()]
    assert labels[0] == "JET Programme"  # the category, then the entries named after it
    assert labels[1:] == [e.title for e in kb.entries.values() if "JET" in e.title]
    assert len(labels) >= 3
    clair.api.press(reply, reply.button("JET Programme"), user=USER_ID)
    await clair.api.wait_for(lambda: reply.text == "JET Programme")  # the category's list


async def test_a_broad_japanese_word_offers_its_topics_in_japanese(clair: Harness) -> None:
    clair.api.user(KENJI, "Kenji", language_code="ja")
    clair.api.send_message("交流", user=KENJI)
    reply = await clair.api.next_message(KENJI)
    assert reply.text == texts.JA.broad_topics
    assert reply.buttons()[0][0] == "交流事業"


# ---------------------------------------------------------------------------- answers
async def test_an_answer_that_says_to_contact_the_division_gives_its_phone_and_source(
    clair: Harness,
) -> None:
    reply = await clair.say("wen do trainees arive in japan")
    lines = reply.text.splitlines()
    assert "please contact CLAIR's International Cooperation" in reply.text
    assert "LGOTP contact (Tokyo division): Tel +81-3-5213-1726" in lines
    assert lines[-1].startswith(SOURCE_LGOTP)
    menu = await clair.say("/topics")
    clair.api.press(menu, menu.button("Contacts"), user=USER_ID)
    await clair.api.wait_for(lambda: menu.text == "Contacts")
    entry = await press(clair, menu, "J.CLAIR Singapore contact")
    assert entry.text.endswith("Source: Our Activities 2025 (J.CLAIR Singapore)")
    assert entry.text.count("65-6224-7927") == 1  # a contact's own answer gets nothing more


async def test_a_japanese_answer_ends_with_its_source_in_japanese(clair: Harness) -> None:
    reply = await clair.say("研修員はいつ日本に到着しますか")
    assert "電話 +81-3-5213-1726" in reply.text
    assert reply.text.endswith("出典：自治体職員協力交流事業 研修概要（クレアウェブサイト）")


async def test_a_did_you_mean_choice_ends_with_its_source(clair: Harness) -> None:
    choices = await clair.say("fax")
    answer = await press(clair, choices, "LGOTP contact")
    assert answer.text.splitlines()[-1].startswith(SOURCE_LGOTP)
