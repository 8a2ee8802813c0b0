"""End to end in Japanese: the real Application over HTTP against the loopback fake server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import USER_ID, Harness, is_escalated, running_bot
from fakebotapi import FakeBotApi

from bot import texts
from bot.storage.records import Kind

KENJI = 77  # a Japanese official whose Telegram client is set to Japanese
STAFF_CHAT = -100123


async def say_as(clair: Harness, user_id: int, text: str) -> str:
    clair.api.send_message(text, user=user_id)
    return (await clair.api.next_message(user_id)).text


async def test_japanese_question_is_answered_in_japanese(clair: Harness) -> None:
    reply = await clair.say("研修員はいつ日本に到着しますか")
    assert "5月" in reply.text and "mid-May" not in reply.text


async def test_japanese_table_question(clair: Harness) -> None:
    reply = await clair.say("フィリピンからのJET参加者は何人ですか")
    assert "339" in reply.text and "334" in reply.text and "フィリピン" in reply.text


async def test_japanese_unanswerable_question_is_escalated_in_japanese(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    bot_api.group(STAFF_CHAT, "CLAIR staff")
    async with running_bot(bot_api, tmp_path, CLAIRBOT_STAFF_CHAT_ID=str(STAFF_CHAT)) as clair:
        reply = await clair.say("LGOTPの応募締め切りはいつですか")
        assert is_escalated(reply.text, 1, "ja")
        [enquiry] = await clair.service.storage.enquiries.for_user(USER_ID)
        assert enquiry.text == "LGOTPの応募締め切りはいつですか"  # kept as written
        assert enquiry.language == "ja"
        announcement, acknowledgement = await clair.service.storage.outbox.items(1)
        assert acknowledgement.chat_id == USER_ID and acknowledgement.kind is Kind.TO_USER
        assert "言語: 日本語" in announcement.text
        assert "LGOTPの応募締め切りはいつですか" in announcement.text


async def test_language_command_switches_the_menus(clair: Harness) -> None:
    assert (await clair.say("/topics")).buttons()[0][0] == clair.service.kb.categories[0]
    prompt = await clair.say("/language")
    assert ("日本語", "l:ja") in prompt.buttons() and ("English", "l:en") in prompt.buttons()
    clair.api.press(prompt, "l:ja", user=USER_ID)
    await clair.api.wait_for(lambda: prompt.text == texts.JA.language_set)
    topics = await clair.say("/topics")
    assert topics.text.startswith("トピック")
    labels = [label for label, _ in topics.buttons()]
    assert "姉妹都市" in labels and "Sister cities" not in labels
    # An English question is now answered in Japanese too: the user chose the language.
    assert "5月" in (await clair.say("When do LGOTP trainees arrive in Japan?")).text
    assert (await clair.say("/help")).text.startswith("このボットの使い方")
    prompt = await clair.say("/language")
    clair.api.press(prompt, "l:en", user=USER_ID)
    await clair.api.wait_for(lambda: prompt.text == texts.EN.language_set)
    assert (await clair.say("/topics")).text.startswith("Topics")


async def test_telegram_language_decides_commands_until_the_user_chooses(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    bot_api.user(KENJI, "健二", language_code="ja")
    async with running_bot(bot_api, tmp_path) as clair:
        assert (await say_as(clair, KENJI, "/start")).startswith("こんにちは")
        # Short Latin text from a Japanese client is answered in Japanese...
        assert "全国市町村国際文化研修所" in await say_as(clair, KENJI, "JIAM")
        # ...but a real English sentence is answered in English.
        answer = await say_as(clair, KENJI, "What does a CIR do?")
        assert "Coordinator for International Relations" in answer


async def test_language_choice_survives_a_restart_and_forget_clears_it(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    async with running_bot(bot_api, tmp_path) as clair:
        prompt = await clair.say("/language")
        clair.api.press(prompt, "l:ja", user=USER_ID)
        await clair.api.wait_for(lambda: prompt.text == texts.JA.language_set)
    async with running_bot(bot_api, tmp_path) as clair:
        assert (await clair.say("/help")).text.startswith("このボットの使い方")
        confirm = await clair.say("/forget")
        clair.api.press(confirm, "fg:yes", user=USER_ID)
        await clair.api.wait_for(lambda: confirm.text.startswith("削除しました"))
        assert (await clair.say("/help")).text.startswith("How to use this bot")


async def test_an_error_is_apologised_for_in_the_chosen_language(clair: Harness) -> None:
    prompt = await clair.say("/language")  # the test user's client is set to English
    clair.api.press(prompt, "l:ja", user=USER_ID)
    await clair.api.wait_for(lambda: prompt.text == texts.JA.language_set)
    clair.expected_failures.add("sendMessage")
    clair.api.fail_next("sendMessage", status=500)
    assert (await clair.say("/help")).text == texts.JA.something_wrong
