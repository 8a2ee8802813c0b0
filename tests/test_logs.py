"""The token never reaches a log line: the filter on every handler, and a rejected token."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import TOKEN, open_services, running_bot, settings_for
from fakebotapi import FakeBotApi

from bot import logs
from handlers.app import EXIT_FAILED, TOKEN_REJECTED, serve

REAL_SHAPE = "7301234567:AAHk3v9Qw-ErTyUiOpAsDfGhJkLzXcVbNm1"


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """Everything the root logger's handlers write, at DEBUG, with the filter installed as
    clair-bot installs it (after the handler exists)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(logs.FORMAT))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logs.install([TOKEN])
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_redact_takes_the_token_and_the_token_part_of_urls() -> None:
    text = (
        f"GET https://api.telegram.org/bot{REAL_SHAPE}/getMe and "
        "http://127.0.0.1:8081/file/bot99:x-y_z/photos/1.jpg and the bare 55:SECRET"
    )
    clean = logs.redact(text, ["55:SECRET"])
    assert REAL_SHAPE not in clean and "99:x-y_z" not in clean and "55:SECRET" not in clean
    assert "https://api.telegram.org/bot<redacted>/getMe" in clean
    assert "/file/bot<redacted>/photos/1.jpg" in clean
    assert logs.redact("/bottom/of/the/page") == "/bottom/of/the/page"  # not a token
    assert logs.redact(f"a token {REAL_SHAPE} pasted alone") == "a token <redacted> pasted alone"


def test_every_logger_and_every_part_of_a_record_is_redacted(written: io.StringIO) -> None:
    logging.getLogger("telegram.ext.Updater").debug("polling %s", f"http://x/bot{TOKEN}/get")
    logging.getLogger("httpx").warning("HTTP Request: POST https://h/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"The token `{TOKEN}` was rejected by the server.")
    except RuntimeError:
        logging.getLogger("bot.anything").exception("failed")
    logging.getLogger("asyncio").error("stack of %s", TOKEN, stack_info=True)
    logging.getLogger("x").info(TOKEN + " %s", "with args")  # in the format string itself
    text = written.getvalue()
    assert TOKEN not in text
    assert text.count("<redacted>") >= 4 and "Traceback" in text and "RuntimeError" in text


def test_a_handler_added_later_is_covered_by_install(written: io.StringIO) -> None:
    late = io.StringIO()
    handler = logging.StreamHandler(late)
    logging.getLogger().addHandler(handler)
    try:
        logs.install()  # clair-bot calls this after adding a handler; the secrets are kept
        logging.getLogger("telegram").warning("token %s", TOKEN)
    finally:
        logging.getLogger().removeHandler(handler)
    assert TOKEN not in late.getvalue() and "<redacted>" in late.getvalue()


async def test_debug_logging_of_a_whole_conversation_shows_no_token(
    bot_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, written: io.StringIO
) -> None:
    """python-telegram-bot and httpx at DEBUG log the Bot API URLs; none keeps the token."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    for name in ("telegram", "httpx", "httpcore"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.DEBUG)
    async with running_bot(bot_api, tmp_path) as bot:
        await bot.say("/start")
        # An exception whose text carries the URL, as httpx raises them.
        try:
            raise httpx.ConnectError(f"cannot reach {bot_api.base_url}{TOKEN}/getUpdates")
        except httpx.ConnectError:
            logging.getLogger("telegram.ext.Updater").exception("Error while getting Updates")
    text = written.getvalue()
    assert "getUpdates" in text and "/bot<redacted>/" in text  # the URLs were logged...
    assert TOKEN not in text  # ...without the token


async def test_a_rejected_token_stops_with_one_line_saying_what_to_do(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    written: io.StringIO,
) -> None:
    wrong = "123456:WRONG-token-of-the-right-shape"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", wrong)
    logs.install([wrong])
    settings = settings_for(bot_api, tmp_path)
    services = await open_services(settings)
    try:
        code = await asyncio.wait_for(serve(settings, asyncio.Event(), services=services), 10)
    finally:
        await services.close()
    assert code == EXIT_FAILED
    err = capsys.readouterr().err
    assert err.splitlines() == [f"clair-bot: {TOKEN_REJECTED}"]
    assert "@BotFather" in err and wrong not in err
    text = written.getvalue()
    assert wrong not in text and "Traceback" not in text
