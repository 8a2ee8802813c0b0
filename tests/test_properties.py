"""Generated input for the matcher and every handler: each gets an answer, nothing raises.

Hypothesis writes the input: any Unicode (control and zero-width characters, lone
surrogates in what Telegram sends), 0-10,000 characters, forged callback data up to 64
bytes, commands with random arguments (superscript digits included), from a user, from
staff, and in the staff chat. The handlers run in the real Application over HTTP against
the fake Bot API, as every end-to-end test does. `make test` runs a few hundred examples
(the "ci" profile, in conftest.py); `make chaos` runs 10,000 (HYPOTHESIS_PROFILE=chaos).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from conftest import (
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    USER_ID,
    Harness,
    fixture_matcher,
    running_bot,
    staff_overrides,
)
from fakebotapi import FakeBotApi
from hypothesis import example, given
from hypothesis import strategies as st

from bot.config import load_settings
from bot.decision import Action
from handlers import registry, staff

#: Characters that break naive code: controls, zero-width, direction marks, digits that are
#: not ASCII digits, HTML and the bot's own markers.
AWKWARD = (
    "\x00\x01\x07\x1b\x7f\u0085\u200b\u200c\u200d\u200e\u202e\u2060\ufeff\ufffd"
    "²³¹⁰①٣０９#@/<>&;\"'\\\n\r\t "
)
CHARACTERS = st.one_of(st.characters(), st.sampled_from(AWKWARD))
TEXT = st.text(CHARACTERS, max_size=10_000)
SHORT = st.text(CHARACTERS, max_size=40)
COMMAND_NAMES = sorted({*registry.COMMANDS, *staff.COMMANDS, "nosuchcommand"})
NUMBERS = st.one_of(
    st.integers(-5, 10**13).map(str), st.sampled_from(["²", "¹²", "#1", "#０", "1x", "٣"])
)


@st.composite
def commands(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(COMMAND_NAMES))
    mention = draw(st.sampled_from(["", "@clair_test_bot", "@other_bot"]))
    first = draw(st.one_of(NUMBERS, NUMBERS, SHORT))  # most staff commands take a number
    rest = draw(st.lists(st.one_of(NUMBERS, SHORT), max_size=2))
    return " ".join([f"/{name}{mention}", first, *rest])


def callback_data() -> st.SearchStrategy[str]:
    """Up to 64 bytes of UTF-8, shaped like ours or not at all."""
    ours = st.builds(
        lambda prefix, rest: f"{prefix}{rest}",
        st.sampled_from(["e:", "d:", "c:", "s:", "n:", "f:", "fg:", "l:", "st:c:", "st:p:"]),
        st.one_of(NUMBERS, SHORT),
    )
    return st.one_of(ours, st.text(CHARACTERS, min_size=1, max_size=64)).filter(
        lambda data: 1 <= len(data.encode("utf-8", "surrogatepass")) <= 64
    )


# ------------------------------------------------------------------------------ the matcher
@given(TEXT)
def test_the_matcher_decides_on_anything(text: str) -> None:
    matcher = fixture_matcher(load_settings(environ={}).matcher)
    decision = matcher.decide(text)
    assert decision.action in Action
    json.dumps(decision.to_json(), ensure_ascii=False)  # what `ask --json` prints
    if decision.action is Action.ANSWER:
        assert decision.answer.strip()


# ----------------------------------------------------------------------------- the handlers
@pytest.fixture
async def open_bot(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """One bot for every example of a test: staff chat, no flood limit to speak of."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    overrides = staff_overrides() | {
        "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "1000000",
        "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "1000000",
        "CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND": "0",
        "CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "0",
    }
    async with running_bot(staff_api, tmp_path, **overrides) as bot:
        # Forged buttons on messages that do not exist: Telegram refuses the edit.
        bot.expected_failures |= {"editMessageText", "editMessageReplyMarkup"}
        yield bot


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


async def answered_in(bot: Harness, chat: int, before: int) -> None:
    """Wait until the bot has sent something more to `chat` than the `before` it had."""
    await bot.api.wait_for(lambda: len(bot.api.messages(chat)) > before, timeout=10)


@example(sender=STAFF_USER_ID, text="/show ²", surrogate=None)  # found by fuzzing (issue 10)
@example(sender=USER_ID, text="", surrogate="\ud800")  # nothing but a lone surrogate
@given(
    sender=st.sampled_from([USER_ID, STAFF_USER_ID]),
    text=st.one_of(TEXT.filter(lambda t: not t.startswith("/")), commands(), commands()),
    surrogate=st.one_of(st.none(), st.characters(categories=["Cs"])),
)
async def test_every_message_or_command_gets_an_answer(
    open_bot: Harness, caplog: pytest.LogCaptureFixture, sender: int, text: str, surrogate: str
) -> None:
    text = (text + (surrogate or "")) or "?"  # Telegram delivers no empty message
    before = len(open_bot.api.messages(sender))
    open_bot.api.send_message(text, user=sender)
    await answered_in(open_bot, sender, before)
    assert errors(caplog) == []


@example(presser=USER_ID, data="c:0", on_a_real_message=False)  # "message to edit not found"
@given(
    presser=st.sampled_from([USER_ID, STAFF_USER_ID]),
    data=callback_data(),
    on_a_real_message=st.booleans(),
)
async def test_every_button_press_gets_an_answer(
    open_bot: Harness,
    caplog: pytest.LogCaptureFixture,
    presser: int,
    data: str,
    on_a_real_message: bool,
) -> None:
    api = open_bot.api
    message_id = 987_654_321
    if on_a_real_message:
        if not api.messages(presser):
            api.send_message("/topics", user=presser)
            await answered_in(open_bot, presser, 0)
        message_id = api.messages(presser)[-1].message_id
    query_id = api.press_raw(data, presser, message_id, user=presser)
    await api.wait_for(
        lambda: [a for a in api.callback_answers if a.callback_query_id == query_id], timeout=10
    )
    assert errors(caplog) == []


@given(text=TEXT, reply_to_the_bot=st.booleans())
async def test_staff_chat_talk_is_handled_quietly(
    open_bot: Harness, caplog: pytest.LogCaptureFixture, text: str, reply_to_the_bot: bool
) -> None:
    api = open_bot.api
    replied = None
    if reply_to_the_bot:
        if not api.messages(STAFF_CHAT_ID):
            api.send_message("/stats", user=STAFF_USER_ID, chat=STAFF_CHAT_ID)
            await answered_in(open_bot, STAFF_CHAT_ID, 0)
        replied = api.messages(STAFF_CHAT_ID)[-1]
    api.send_message(text or ".", user=STAFF_USER_ID, chat=STAFF_CHAT_ID, reply_to=replied)
    # The staff chat answers only some messages: /help after it shows it was handled.
    probe = api.send_message("/help", user=STAFF_USER_ID, chat=STAFF_CHAT_ID)
    await api.wait_for(
        lambda: [m for m in api.messages(STAFF_CHAT_ID) if m.reply_to_message_id == probe],
        timeout=10,
    )
    assert errors(caplog) == []
