"""End to end: the real Application over HTTP against tests/fakebotapi.py on 127.0.0.1.

Nothing is mocked: updates arrive by long polling, replies are real sendMessage calls that
the fake validates like Telegram (HTML, 4096 characters, 64-byte callback data). The
`clair` fixture fails a test if any Bot API call was rejected unexpectedly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from conftest import (
    TOKEN,
    USER_ID,
    Harness,
    free_port,
    is_escalated,
    running_bot,
    serving,
    settings_for,
)
from fakebotapi import JSON, FakeBotApi, SentMessage
from telegram import Update

import handlers.app
from bot import texts
from bot.config import Settings
from bot.service import Services
from bot.storage.database import Database, now
from bot.storage.lock import InstanceLock
from handlers.app import ClairApplication, serve


async def answers(clair: Harness, query_id: str) -> str | None:
    """Wait for the bot to answer a callback query; return the answer's text."""
    [answer] = await clair.api.wait_for(
        lambda: [a for a in clair.api.callback_answers if a.callback_query_id == query_id]
    )
    return answer.text


# ---------------------------------------------------------------------------- commands
async def test_start_shows_welcome_topics_and_registers_menu(clair: Harness) -> None:
    reply = await clair.say("/start")
    assert reply.text.startswith("Hello! I'm the CLAIR Singapore assistant")
    assert reply.parse_mode == "HTML"
    assert [text for text, _ in reply.buttons()] == clair.service.kb.categories
    menus = list(clair.api.commands.values())
    assert [c["command"] for c in menus[0]] == [name for name, _ in texts.EN.commands]
    # The same commands, described in Japanese for clients set to Japanese.
    assert [(c["command"], c["description"]) for c in menus[1]] == list(texts.JA.commands)


async def test_deep_links(clair: Harness) -> None:
    category = await clair.say("/start jet")
    assert category.text == "JET Programme"
    assert ("« Back", "t") in category.buttons()
    assert ("What is the JET Programme?", "e:jet-overview") in category.buttons()

    entry = await clair.say("/start jet-overview")
    assert entry.text.startswith("What is the JET Programme?\nThe Japan Exchange and Teaching")
    assert entry.entities[0] == {"type": "bold", "offset": 0, "length": 26}

    unknown = await clair.say("/start no_such_thing")
    assert unknown.text.startswith("Hello! I'm the CLAIR Singapore assistant")


async def test_help_privacy_contact(clair: Harness) -> None:
    assert "/forget" in (await clair.say("/help")).text
    privacy = (await clair.say("/privacy")).text
    assert "user id" in privacy and "365 more days" in privacy and "/forget" in privacy
    contact = (await clair.say("/contact")).text
    for fact in ("Fax +81-3-5213-1742", "FAX 65-6224-8376", "www.clair.org.sg"):
        assert fact in contact


async def test_topics_browse_and_back(clair: Harness) -> None:
    menu = await clair.say("/topics")
    clair.api.press(menu, menu.button("LGOTP"), user=USER_ID)
    await clair.api.wait_for(lambda: menu.text == "LGOTP")
    clair.api.press(menu, menu.button("Back"), user=USER_ID)
    await clair.api.wait_for(lambda: menu.text.startswith("Topics"))
    clair.api.press(menu, menu.button("LGOTP"), user=USER_ID)
    await clair.api.wait_for(lambda: menu.text == "LGOTP")
    clair.api.press(menu, menu.button("JIAM training"), user=USER_ID)
    entry = await clair.api.next_message(USER_ID)
    assert entry.text.startswith("JIAM training (June)\nOnce the Tokyo orientation")


async def test_unknown_command(clair: Harness) -> None:
    assert (await clair.say("/nonsense")).text == texts.EN.unknown_command


# ---------------------------------------------------------------------------- questions
async def test_known_question_is_answered_with_its_facts(clair: Harness) -> None:
    reply = await clair.say("How many JET participants came from the Philippines?")
    assert "339" in reply.text and "334" in reply.text
    labels = [text for text, _ in reply.buttons()]
    assert {"Ask staff", "👍", "👎"} <= set(labels)

    query_id = clair.api.press(reply, reply.button("👍"), user=USER_ID)
    assert await answers(clair, query_id) == texts.EN.feedback_thanks
    await clair.api.wait_for(lambda: reply.edited)
    assert "👍" not in [text for text, _ in reply.buttons()]
    assert await clair.service.storage.users.feedback_counts("jet-participants") == (1, 0)


async def test_typo_is_understood(clair: Harness) -> None:
    reply = await clair.say("wen do trainees arive in japan")
    assert "mid-May" in reply.text


async def test_did_you_mean_choice(clair: Harness) -> None:
    choices = await clair.say("fax")
    assert choices.text == texts.EN.did_you_mean
    assert choices.buttons()[-1][0] == texts.EN.none_of_these
    clair.api.press(choices, choices.button("LGOTP contact"), user=USER_ID)
    answer = await clair.api.next_message(USER_ID)
    assert "Fax +81-3-5213-1742" in answer.text


async def test_none_of_these_goes_to_staff_once(clair: Harness) -> None:
    choices = await clair.say("fax")
    none = choices.button(texts.EN.none_of_these)
    clair.api.press(choices, none, user=USER_ID)
    assert "#1" in (await clair.api.next_message(USER_ID)).text
    clair.api.press(choices, none, user=USER_ID)
    assert (await clair.api.next_message(USER_ID)).text == texts.EN.already_forwarded.format(ref=1)
    [enquiry] = await clair.service.storage.enquiries.for_user(USER_ID)
    assert enquiry.text == "fax" and enquiry.reason == "none of the suggestions"


async def test_unanswerable_question_is_escalated_and_listed(clair: Harness) -> None:
    reply = await clair.say("what is the application deadline for lgotp")
    assert is_escalated(reply.text, 1)
    status = await clair.say("/status")
    assert "#1 (new): what is the application deadline for lgotp" in status.text


async def test_next_unanswerable_message_joins_the_open_enquiry(clair: Harness) -> None:
    assert is_escalated((await clair.say("what is the application deadline for lgotp")).text, 1)
    follow_up = await clair.say("and what is the application deadline for 2026?")
    assert follow_up.text == texts.EN.followed_up.format(ref=1)
    [enquiry] = await clair.service.storage.enquiries.for_user(USER_ID)
    assert enquiry.ref == 1


async def test_a_message_answered_in_part_sends_the_answer_and_forwards_the_rest(
    clair: Harness,
) -> None:
    clair.api.send_message(
        "when do trainees arrive in japan, and how much is the fee?", user=clair.user_id
    )
    answer = await clair.api.next_message(clair.user_id)
    assert "mid-May" in answer.text
    acknowledgement = await clair.api.next_message(clair.user_id)
    assert is_escalated(acknowledgement.text, 1)
    [enquiry] = await clair.service.storage.enquiries.for_user(USER_ID)
    # Staff get the whole message, the parts left to them, and the reason code.
    assert enquiry.text == "when do trainees arrive in japan, and how much is the fee?"
    assert enquiry.code == "answered-part"
    assert "how much is the fee" in enquiry.reason


async def test_enquiries_record_the_reason_code(clair: Harness) -> None:
    assert is_escalated((await clair.say("what is the application deadline for lgotp")).text, 1)
    assert is_escalated((await clair.say("/ask who can I talk to")).text, 2)
    codes = [e.code for e in await clair.service.storage.enquiries.for_user(USER_ID)]
    assert sorted(codes) == ["asked-staff", "guard-topic"]


async def test_limits(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    limits = {
        "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "1",
        "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "3",
    }
    async with running_bot(bot_api, tmp_path, **limits) as clair:
        assert is_escalated((await clair.say("/ask first question")).text, 1)
        assert (await clair.say("/ask second question")).text == await limit_notice(clair, 1)
        assert "mid-May" in (await clair.say("wen do trainees arive in japan")).text
        assert (await clair.say("what is jiam")).text == texts.EN.too_fast
        assert [e.ref for e in await clair.service.storage.enquiries.for_user(USER_ID)] == [1]


async def limit_notice(clair: Harness, oldest: int, language: str = "en") -> str:
    """The daily-cap notice, with the time the oldest enquiry of the day leaves the cap."""
    enquiry = await clair.service.storage.enquiries.get(oldest)
    assert enquiry is not None
    resets = texts.format_time(
        enquiry.created_at + timedelta(days=1), clair.service.hours, language
    )
    return texts.get(language).daily_limit.format(when=resets)


async def test_flood_limit_covers_every_update_and_says_so_once(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    caplog.set_level(logging.INFO, logger="handlers.user")
    async with running_bot(bot_api, tmp_path, CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE="3") as clair:
        menu = await clair.say("/topics")  # commands count
        clair.api.press(menu, menu.button("LGOTP"), user=USER_ID)  # and so do buttons
        await clair.api.wait_for(lambda: menu.text == "LGOTP")
        assert (await clair.say("/help")).text.startswith("How to use")
        assert (await clair.say("/ask is there a visa fee")).text == texts.EN.too_fast
        for text in ("/ask and now?", "what is the deadline", "/status"):
            clair.api.send_message(text, user=USER_ID)
        query = clair.api.press(menu, "t", user=USER_ID)
        await clair.api.wait_for(
            lambda: caplog.text.count("flood limit: an update from a user was dropped") == 5
        )
        await answers(clair, query)  # the button is answered, silently
        replies = [m.text for m in clair.api.messages(USER_ID)]
        assert replies.count(texts.EN.too_fast) == 1  # once, not once per message
        assert menu.text == "LGOTP"  # the pressed button did nothing
        assert await clair.service.storage.enquiries.for_user(USER_ID) == []  # nothing forwarded


async def test_ask_staff_button_and_ask_command(clair: Harness) -> None:
    answer = await clair.say("wen do trainees arive in japan")
    clair.api.press(answer, answer.button("Ask staff"), user=USER_ID)
    assert is_escalated((await clair.api.next_message(USER_ID)).text, 1)
    assert (await clair.say("/ask")).text.startswith("Type /ask followed by your question")
    assert is_escalated((await clair.say("/ask Can my city host a trainee?")).text, 2)
    refs = [e.ref for e in await clair.service.storage.enquiries.for_user(USER_ID)]
    assert refs == [2, 1]


async def test_stickers_get_a_friendly_line_and_attachments_go_to_staff(clair: Harness) -> None:
    # Photos, voice notes and locations are forwarded to staff (test_helpdesk_e2e covers the
    # staff side); a sticker or a dice is neither read nor forwarded, and the user is told.
    clair.api.send_sticker(user=USER_ID)
    reply = await clair.api.next_message(USER_ID)
    assert reply.text.startswith("Sorry, I can't read or forward stickers")
    clair.api.send_photo(user=USER_ID)
    assert is_escalated((await clair.api.next_message(USER_ID)).text, 1)
    clair.api.send_voice(user=USER_ID)
    clair.api.send_location(user=USER_ID)
    for _ in range(2):
        assert "#1" in (await clair.api.next_message(USER_ID)).text
    messages = await clair.service.storage.enquiries.messages(1)
    assert [m.media.type for m in messages if m.media] == ["photo", "voice", "location"]


async def test_very_long_message_is_handled_and_stored_whole(clair: Harness) -> None:
    question = "What is the application deadline?" + " And some more detail here." * 200
    assert len(question) > 5000
    reply = await clair.say(question)
    assert is_escalated(reply.text, 1)
    assert all(len(m.text) <= 4096 for m in clair.api.messages(USER_ID))
    [enquiry] = await clair.service.storage.enquiries.for_user(USER_ID)
    assert enquiry.text == question  # the matcher read its start; staff get all of it
    status = await clair.say("/status")
    assert len(status.text) < 200


async def test_user_html_is_escaped(clair: Harness) -> None:
    nasty = "<b>hi</b> & what is jiam"
    reply = await clair.say(nasty)
    assert reply.text  # the fake rejects bad HTML, and the fixture checks nothing failed
    await clair.say(f"/ask {nasty}")
    status = await clair.say("/status")
    assert nasty in status.text
    assert "&lt;b&gt;hi&lt;/b&gt; &amp; what is jiam" in status.raw_text


# ---------------------------------------------------------------------------- buttons
async def test_forget_with_confirmation(clair: Harness) -> None:
    await clair.say("what is the application deadline for lgotp")
    confirm = await clair.say("/forget")
    clair.api.press(confirm, confirm.button("No"), user=USER_ID)
    await clair.api.wait_for(lambda: confirm.edited)
    assert confirm.text == texts.EN.forget_cancelled
    assert len(await clair.service.storage.enquiries.for_user(USER_ID)) == 1

    confirm = await clair.say("/forget")
    clair.api.press(confirm, confirm.button("Yes"), user=USER_ID)
    await clair.api.wait_for(lambda: confirm.edited)
    assert confirm.text == texts.EN.forgotten.format(enquiries=1, messages=1, feedback=0)
    assert confirm.reply_markup is None
    assert (await clair.say("/status")).text == texts.EN.no_enquiries


@pytest.mark.parametrize("data", ["zzz", "e:no-such-entry", "c:999", "f:2:jet-overview", ""])
async def test_forged_buttons_are_answered_as_expired(clair: Harness, data: str) -> None:
    menu = await clair.say("/start")
    query_id = clair.api.press_raw(data or "x" * 65, USER_ID, menu.message_id, user=USER_ID)
    assert await answers(clair, query_id) == texts.EN.button_expired


async def test_stale_ask_staff_button(clair: Harness) -> None:
    menu = await clair.say("/start")
    clair.api.press_raw("s:999", USER_ID, menu.message_id, user=USER_ID)
    assert (await clair.api.next_message(USER_ID)).text.startswith("I no longer have")


# ---------------------------------------------------------------------------- groups
async def test_group_reads_only_messages_addressed_to_the_bot(clair: Harness) -> None:
    api = clair.api
    group = api.group(-1001234, "LGOTP alumni")
    api.send_message("when do trainees arrive in japan", user=USER_ID, chat=group)
    api.send_sticker(user=USER_ID, chat=group)
    api.send_message("@clair_test_bot wen do trainees arive in japan", user=USER_ID, chat=group)
    reply = await api.next_message(group["id"])
    assert "mid-May" in reply.text
    assert reply.reply_to_message_id is not None  # quotes the question it answers
    api.send_message("and what is jiam", user=USER_ID, chat=group, reply_to=reply)
    assert "Japan Intercultural Academy" in (await api.next_message(group["id"])).text
    assert (await clair.say("/start")).text.startswith("Hello")  # nothing else was sent
    assert len(api.messages(group["id"])) == 2


# ---------------------------------------------------------------------------- failures
async def test_handler_error_is_logged_and_user_told(
    clair: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    clair.expected_failures.add("sendMessage")
    clair.api.fail_next("sendMessage", status=500)
    reply = await clair.say("/help")
    assert reply.text == texts.EN.something_wrong
    errors = [r for r in caplog.records if r.name == "handlers.errors"]
    assert errors and "error while handling update" in errors[0].getMessage()
    # Telegram's side failed (500): one line, no traceback.
    assert "Internal Server Error" in errors[0].getMessage() and errors[0].exc_info is None
    assert "Traceback" not in reply.text and "Traceback" not in caplog.text
    own = [r for r in caplog.records if r.name.startswith(("bot", "handlers"))]
    assert all(clair.api.token not in r.getMessage() for r in own)


async def test_command_menu_failure_is_not_fatal(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    bot_api.fail_next("setMyCommands", status=500)
    async with running_bot(bot_api, tmp_path) as clair:
        clair.expected_failures.add("setMyCommands")
        reply: SentMessage = await clair.say("/start")
        assert reply.text.startswith("Hello")
    assert "could not register the command menu" in caplog.text


# ---------------------------------------------------------------------------- run_telegram
Conversation = Callable[[FakeBotApi], Coroutine[Any, Any, list[str]]]


def run_like_the_cli(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    conversation: Conversation,
    webhook: bool,
    **overrides: str,
) -> tuple[FakeBotApi, ClairApplication, list[str]]:
    """Run `run_telegram` as `clair-bot run` does: it owns the main thread and its loop.

    The fake server runs on a loop in a thread; a driver thread runs `conversation` there,
    then stops the bot with SIGTERM, as systemd or Docker would. Returns the fake, the
    application and what the conversation returned.
    """
    server_loop = asyncio.new_event_loop()
    server = threading.Thread(target=server_loop.run_forever, daemon=True)
    server.start()
    api = FakeBotApi(token="99:RUN-token", max_poll_timeout=0.5)
    asyncio.run_coroutine_threadsafe(api.start(), server_loop).result(5)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
    built: list[ClairApplication] = []
    ready = threading.Event()
    original = handlers.app.build_application

    def build(settings: Settings, service: Services | None = None) -> ClairApplication:
        built.append(original(settings, service))
        ready.set()
        return built[0]

    monkeypatch.setattr(handlers.app, "build_application", build)
    main_loop = asyncio.new_event_loop()
    asyncio.set_event_loop(main_loop)
    outcome: list[list[str] | BaseException] = []

    def drive() -> None:
        try:
            future = asyncio.run_coroutine_threadsafe(conversation(api), server_loop)
            outcome.append(future.result(10))
        except BaseException as exc:  # re-raised in the test's thread below
            outcome.append(exc)
        finally:
            if ready.wait(5):
                os.kill(os.getpid(), signal.SIGTERM)

    driver = threading.Thread(target=drive)
    driver.start()
    try:
        settings = settings_for(api, tmp_path, **overrides)
        assert handlers.app.run_telegram(settings, webhook=webhook) == 0
    finally:
        driver.join(15)
        asyncio.set_event_loop(None)
        asyncio.run_coroutine_threadsafe(api.stop(), server_loop).result(5)
        server_loop.call_soon_threadsafe(server_loop.stop)
        server.join(5)
        server_loop.close()
        main_loop.close()  # run_polling closed it already; closing twice is harmless
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    assert not built[0].running
    lock = InstanceLock(Path(settings.storage.url))
    lock.acquire()  # the bot let its lock go on the way out
    lock.release()
    assert [c for c in api.calls if c.status != 200] == []
    return api, built[0], outcome[0]


def test_run_telegram_long_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def conversation(api: FakeBotApi) -> list[str]:
        api.user(USER_ID)
        api.send_message("/start", user=USER_ID)
        welcome = await api.next_message(USER_ID)
        api.send_message("what is the application deadline for lgotp", user=USER_ID)
        return [welcome.text, (await api.next_message(USER_ID)).text]

    api, _, replies = run_like_the_cli(monkeypatch, tmp_path, conversation, webhook=False)
    assert replies[0].startswith("Hello") and is_escalated(replies[1], 1)
    assert [c.method for c in api.calls[:2]] == ["getMe", "setMyCommands"]
    assert api.calls_to("getUpdates")[0].params["allowed_updates"] == list(Update.ALL_TYPES)


def test_run_telegram_webhook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/hook-path"

    async def conversation(api: FakeBotApi) -> list[str]:
        await api.wait_for(lambda: api.webhook_url)
        api.user(USER_ID)
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": api.chats[USER_ID],
                "from": api.users[USER_ID],
                "text": "wen do trainees arive in japan",
            },
        }
        statuses = []
        async with aiohttp.ClientSession() as session:
            for secret in ("wrong", "s3cret"):
                headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
                async with asyncio.timeout(5):
                    while True:  # the server starts listening just after setWebhook
                        try:
                            async with session.post(hook, json=update, headers=headers) as r:
                                statuses.append(str(r.status))
                                break
                        except aiohttp.ClientConnectionError:
                            await asyncio.sleep(0.01)
        return [*statuses, (await api.next_message(USER_ID)).text]

    overrides = {
        "CLAIRBOT_WEBHOOK_PORT": str(port),
        "CLAIRBOT_WEBHOOK_PATH": "hook-path",
        "CLAIRBOT_WEBHOOK_URL": hook,
        "CLAIRBOT_WEBHOOK_SECRET_TOKEN": "s3cret",
    }
    api, _, result = run_like_the_cli(
        monkeypatch, tmp_path, conversation, webhook=True, **overrides
    )
    assert result[:2] == ["401", "200"]  # a call without the secret is refused
    assert "mid-May" in result[2]
    [set_webhook] = api.calls_to("setWebhook")
    assert set_webhook.params["url"] == hook and set_webhook.params["secret_token"] == "s3cret"


# ---------------------------------------------------------------------------- one busy chat
BUSY_CHAT, OTHER_CHAT = 4242, 4343
SLOW_SEND_S = 0.003


class SlowToOneChat(FakeBotApi):
    """The fake server, answering sendMessage to BUSY_CHAT 3 ms late (a slow handler)."""

    @staticmethod
    async def _parse_params(request: web.Request) -> JSON:
        params = await FakeBotApi._parse_params(request)
        sending = request.match_info["method"].lower() == "sendmessage"
        if sending and int(params.get("chat_id") or 0) == BUSY_CHAT:
            await asyncio.sleep(SLOW_SEND_S)  # a deliberately slow response, not a poll
        return params


async def test_a_burst_from_one_chat_does_not_hold_up_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    busy, other = BUSY_CHAT, OTHER_CHAT
    async with SlowToOneChat(token=TOKEN, max_poll_timeout=0.5) as api:
        api.user(busy, "Busy")
        api.user(other, "Other")
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
        overrides = {
            "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "1000",
            "CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "0",
        }
        async with running_bot(api, tmp_path, **overrides):
            for _ in range(200):  # more than the 64 updates handled at once
                api.send_message("hello", user=busy)
            await api.wait_for(lambda: api.messages(busy))  # the burst is being handled
            api.send_message("wen do trainees arive in japan", user=other)
            answer = await api.next_message(other, timeout=5)
            assert "mid-May" in answer.text
            # Answered during the burst, not behind it (a count, not a clock: this machine's
            # speed varies too much for a time bound).
            assert len(api.messages(busy)) < 200
            await api.wait_for(lambda: len(api.messages(busy)) == 200, timeout=20)


# ---------------------------------------------------------------------------- small crashes
async def test_a_button_on_a_message_that_does_not_exist_has_quietly_expired(
    clair: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    clair.expected_failures.add("editMessageText")  # Telegram: "message to edit not found"
    for data, words in (
        ("c:0", texts.EN),
        ("t", texts.EN),
        ("fg:no", texts.EN),
        ("l:ja", texts.JA),
    ):
        query_id = clair.api.press_raw(data, USER_ID, 987654, user=USER_ID)
        assert await answers(clair, query_id) == words.button_expired
    assert "Traceback" not in caplog.text and "ERROR" not in caplog.text
    assert clair.api.messages(USER_ID) == []  # no apology either: nothing went wrong


async def test_lone_surrogates_are_replaced_on_the_way_in(clair: Harness) -> None:
    # The fake sends JSON with \\ud800 escapes, as Telegram may; json.loads keeps them.
    reply = await clair.say("wen do trainees arive in japan\ud800")
    assert "mid-May" in reply.text
    ack = await clair.say("what is the application deadline\udfff for lgotp \ud83d")
    assert is_escalated(ack.text, 1)
    enquiry = await clair.service.storage.enquiries.get(1)
    assert enquiry is not None
    assert enquiry.text == "what is the application deadline\ufffd for lgotp \ufffd"
    # A message of nothing else is still a message, and is answered.
    assert (await clair.say("\ud800")).text == texts.EN.empty_question


# ---------------------------------------------------------------------------- a full disk
async def test_start_up_on_an_unusable_database_exits_with_one_line(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    garbage = tmp_path / "not-a-database.sqlite3"
    garbage.write_bytes(b"this is no SQLite file\n" * 100)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    for path, problem in (
        (garbage, "file is not a database"),
        (blocker / "db.sqlite3", f"{blocker} is not a folder"),
    ):
        settings = settings_for(bot_api, tmp_path, CLAIRBOT_STORAGE_PATH=str(path))
        code = await asyncio.wait_for(serve(settings, asyncio.Event()), timeout=10)
        assert code == 1
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith(f"clair-bot: cannot use {path}") and problem in line
    # Nothing is left running: aiosqlite's threads kept a failed start-up alive for ever.
    assert not [t for t in threading.enumerate() if "aiosqlite" in repr(t.run)]
    assert bot_api.calls == []  # it never went to the network


async def test_a_database_that_takes_no_writes_at_start_up_is_one_line_and_exit_1(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The disk fills while the bot is down: the database opens (nothing to migrate), but
    the start-up's first write (the outbox's recovery of what was mid-send) fails."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    settings = settings_for(bot_api, tmp_path)
    services = await Services.open(settings)  # an existing, migrated database
    await services.close()
    opened = Database.open

    async def open_on_a_full_disk(
        target: Path | str, clock: Callable[[], Any] = now, migrate: bool = True
    ) -> Database:
        database = await opened(target, clock, migrate)
        driver = await database.sqlite_driver_connection()
        await driver.execute("PRAGMA query_only=ON")  # as a full disk refuses
        return database

    monkeypatch.setattr(Database, "open", open_on_a_full_disk)
    code = await asyncio.wait_for(serve(settings, asyncio.Event()), timeout=10)
    assert code == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"clair-bot: cannot use {settings.storage.path}: ")
    assert "Traceback" not in line and bot_api.token not in line


async def test_a_second_bot_on_the_same_database_refuses_to_start(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    settings = settings_for(bot_api, tmp_path)
    async with serving(settings):
        await bot_api.wait_for(lambda: bot_api.calls_to("getUpdates"))
        code = await asyncio.wait_for(serve(settings, asyncio.Event()), timeout=10)
        assert code == 1
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("clair-bot: another clair-bot (pid ")
        assert str(settings.storage.path) in line
        bot_api.send_message("/start", user=USER_ID)  # the first one runs on
        assert (await bot_api.next_message(USER_ID)).text.startswith("Hello")


async def test_while_the_disk_is_full_users_are_told_to_try_again(
    clair: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    writer = await clair.service.storage.database.sqlite_driver_connection()
    await writer.execute("PRAGMA query_only=ON")  # as a full or read-only disk refuses
    assert (await clair.say("what is the application deadline for lgotp")).text == (
        texts.EN.cannot_forward
    )
    assert "mid-May" in (await clair.say("wen do trainees arive in japan")).text  # answers work
    assert (await clair.say("/ask who signs the certificate?")).text == texts.EN.cannot_forward
    clair.api.user(77, "Kenta", language_code="ja")
    clair.api.send_message("研修の締め切りはいつですか", user=77)
    assert (await clair.api.next_message(77)).text == texts.JA.cannot_forward
    failures = [r for r in caplog.records if "cannot write to the database" in r.getMessage()]
    assert len(failures) == 1 and "Traceback" not in caplog.text
    await writer.execute("PRAGMA query_only=OFF")
    assert is_escalated((await clair.say("what is the application deadline for lgotp")).text, 1)
