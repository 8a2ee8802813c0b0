"""Starting and stopping as a service: no network yet, a second poller, SIGTERM (issue 10,
sections 3 and 5)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from conftest import (
    STAFF_CHAT_ID,
    TOKEN,
    USER_ID,
    free_port,
    serving,
    settings_for,
    staff_overrides,
)
from fakebotapi import FakeBotApi

import bot.outbox
import handlers.app
from bot import texts
from bot.cli import main
from bot.storage.records import Asker, OutboxState
from handlers.app import EXIT_FAILED, EXIT_OK


async def test_without_a_network_the_bot_waits_for_it_one_line_per_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(handlers.app, "CONNECT_FIRST_RETRY_S", 0.05)  # then 0.1, 0.2, ...
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    api = FakeBotApi(token=TOKEN, max_poll_timeout=0.5, port=free_port())  # not started yet
    api.user(USER_ID)
    async with serving(settings_for(api, tmp_path)) as running:

        def attempts() -> list[str]:
            return [r.getMessage() for r in caplog.records if "cannot reach" in r.getMessage()]

        async with asyncio.timeout(5):
            while len(attempts()) < 3:  # noqa: ASYNC110 - a poll with a deadline on the log
                await asyncio.sleep(0.01)
        why = "httpx.ConnectError: All connection attempts failed"
        assert attempts()[:3] == [
            f"cannot reach the Bot API (attempt {n}): {why}; trying again in {wait} s"
            for n, wait in ((1, 0.05), (2, 0.1), (3, 0.2))
        ]
        async with api:  # the network is back: the bot answers without a restart
            api.send_message("/start", user=USER_ID)
            assert (await api.next_message(USER_ID, timeout=5)).text.startswith("Hello")
            assert await running.stopped() == EXIT_OK  # while the server is still there
    assert "Traceback" not in caplog.text


def test_once_fails_fast_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("CLAIRBOT_TELEGRAM_BASE_URL", f"http://127.0.0.1:{port}/bot")
    monkeypatch.setenv("CLAIRBOT_STORAGE_PATH", str(tmp_path / "db.sqlite3"))
    monkeypatch.setenv(
        "CLAIRBOT_KNOWLEDGE_PATH", str(Path(__file__).parent / "fixtures" / "knowledge")
    )
    assert main(["run", "--once"]) == EXIT_FAILED
    out = capsys.readouterr()
    assert out.err.splitlines() == [
        f"clair-bot: cannot reach the Bot API (http://127.0.0.1:{port}/bot): "
        "httpx.ConnectError: All connection attempts failed"
    ]
    assert TOKEN not in out.err + out.out


async def test_a_409_conflict_is_one_clear_line_and_a_back_off(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    bot_api.fail_next(
        "getUpdates", 1, status=409, description="Conflict: terminated by other getUpdates request"
    )
    async with serving(settings_for(bot_api, tmp_path)):
        await bot_api.wait_for(lambda: len(bot_api.calls_to("getUpdates")) >= 2, timeout=5)
        bot_api.send_message("/start", user=USER_ID)
        assert (await bot_api.next_message(USER_ID)).text.startswith("Hello")
    conflicts = [r for r in caplog.records if "409" in r.getMessage()]
    assert [r.getMessage() for r in conflicts] == [
        "another bot is polling with this token (409 Conflict); waiting before trying again"
    ]
    assert conflicts[0].levelno == logging.WARNING and not conflicts[0].exc_info
    assert "Traceback" not in caplog.text
    first, second = bot_api.calls_to("getUpdates")[:2]
    assert first.status == 409 and second.status == 200


async def test_sigterm_stops_within_seconds_leaving_the_queue_pending(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    monkeypatch.setattr(bot.outbox, "STOP_GRACE_S", 0.5)
    # Two messages a minute into the staff group: the third waits 30 s in the rate limiter.
    overrides = staff_overrides() | {"CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "2"}
    async with serving(settings_for(staff_api, tmp_path, **overrides)) as running:
        for user in range(1, 11):  # ten announcements to send, two a minute
            asker = Asker(user, user, f"user {user}")
            await running.services.users.ask_staff(asker, "what is the fee?")
        await staff_api.wait_for(lambda: len(staff_api.messages(STAFF_CHAT_ID)) == 2)
        staff_api.send_message("/start", user=USER_ID)  # a handler in progress finishes
        await staff_api.next_message(USER_ID)
        loop = asyncio.get_running_loop()
        started = loop.time()
        # What SIGTERM does (run_like_the_cli in test_e2e sends the signal itself).
        assert await running.stopped() == EXIT_OK
        # Not a speed goal: anything under the 30 s the rate limiter would hold the message
        # in hand shows the stop cut it short (STOP_GRACE_S is 0.5 s here).
        assert loop.time() - started < 15
        items = await running.services.storage.outbox.items()
        states = [i.state for i in items if i.chat_id == STAFF_CHAT_ID]  # not the users' acks
    # The one in hand, cut short in the rate limiter, stays "sending" and goes at next start.
    assert states.count(OutboxState.SENT) == 2 and states.count(OutboxState.SENDING) == 1
    assert states.count(OutboxState.PENDING) == 7
    assert len(staff_api.messages(STAFF_CHAT_ID)) == 2


async def test_a_429_is_one_line_not_a_traceback(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    monkeypatch.setattr(logging.getLogger("telegram.ext.AIORateLimiter"), "level", 0)
    monkeypatch.setattr(logging.getLogger("apscheduler"), "level", 0)
    async with serving(settings_for(bot_api, tmp_path)):
        await bot_api.wait_for(lambda: bot_api.calls_to("getUpdates"))
        bot_api.fail_next("sendMessage", status=429, chat_id=USER_ID)  # the welcome
        bot_api.send_message("/start", user=USER_ID)
        assert (await bot_api.next_message(USER_ID)).text == texts.EN.something_wrong
    lines = [r for r in caplog.records if "update" in r.getMessage() and "Flood" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is None
    assert "Traceback" not in caplog.text and "Adding job" not in caplog.text
