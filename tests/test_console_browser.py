"""The staff console in a real headless Chromium (Debian's, driven by Playwright), end to end:
the bot runs for real against the fake Bot API, with the console on a free port.

One browser, one test: sign in with a one-time link, see an escalated enquiry arrive, reply
(and find the reply at the user's end of the fake Bot API), add a note, resolve, see the
charts drawn, add the suggested question to an entry and find the bot answering it; and a
stored script in a question shown as text, never run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser import CHROMIUM, MISSING, chromium
from conftest import (
    STAFF_CHAT_ID,
    USER_ID,
    Harness,
    console_overrides,
    is_escalated,
    recorded,
    running_bot,
    sign_in_link,
)
from fakebotapi import FakeBotApi

from bot import consoletexts, staffview
from bot.decision import Action
from bot.markup import strip_tags

if not CHROMIUM.exists():
    pytest.skip(MISSING, allow_module_level=True)

QUESTION = "what do jets do on weekends"
REPLY = "Most JET participants rest, travel or join local events at weekends."
EN = consoletexts.EN


@pytest.fixture
async def desk(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    async with running_bot(staff_api, tmp_path, **console_overrides(tmp_path)) as bot:
        yield bot


async def escalate(bot: Harness, user: int, text: str, ref: int) -> None:
    bot.api.send_message(text, user=user)
    assert is_escalated((await bot.api.next_message(user)).text, ref)
    await bot.api.next_message(STAFF_CHAT_ID)
    await recorded(bot, ref)


async def test_staff_work_an_enquiry_in_the_console_in_chromium(desk: Harness) -> None:
    dialogs: list[str] = []
    errors: list[str] = []
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("dialog", lambda dialog: dialogs.append(dialog.message))
        page.on("pageerror", lambda error: errors.append(str(error)))

        # Sign in with the one-time link /console gave.
        await page.goto(await sign_in_link(desk))
        await page.click("#sign-in")
        await page.wait_for_url("**/queue")
        assert EN.queue_empty in await page.inner_text("main")

        # An escalated enquiry arrives.
        await escalate(desk, USER_ID, QUESTION, 1)
        await page.reload()
        assert QUESTION in await page.inner_text("table.queue")

        # Reply: the user gets it through the outbox, on the fake Bot API.
        await page.click("#oldest")
        await page.wait_for_url("**/enquiries/1")
        assert "jet-overview" in await page.inner_text("#considered")
        await page.fill("#reply", REPLY)
        await page.click("#reply-form button")
        await page.wait_for_selector(".flash.good")
        relayed = await desk.api.next_message(USER_ID)
        assert relayed.text == strip_tags(staffview.staff_reply_to_user(1, "en", REPLY))
        assert REPLY in await page.inner_text("ol.thread li.staff")

        # A note, kept in the thread; then resolve.
        await page.fill("#note", "Told them about weekend events.")
        await page.click("#note-form button")
        assert "Told them" in await page.inner_text("ol.thread li.note")
        await page.click("#resolve")
        await page.wait_for_selector("#reopen")
        assert await page.inner_text("#state") == "resolved"
        rating = await desk.api.next_message(USER_ID)  # resolving asks the user, as ever
        assert rating.text.startswith("Your enquiry #1 is resolved.")

        # The figures: the charts are drawn, and redrawn for another period.
        await page.goto(page.url.replace("/enquiries/1", "/figures"))
        await page.wait_for_selector("body[data-charts-drawn='30']")
        escalated = await page.evaluate(
            "Chart.getChart('chart-questions').data.datasets[1].data.reduce((a, b) => a + b)"
        )
        assert escalated == 1
        assert await page.evaluate("Chart.getChart('chart-first-reply') !== undefined")
        await page.select_option("#period", "7")
        await page.wait_for_selector("body[data-charts-drawn='7']")
        labels = await page.evaluate("Chart.getChart('chart-questions').data.labels.length")
        assert labels == 7

        # The knowledge base: the question joins an entry, and the bot answers it.
        await page.click("nav >> text=" + EN.nav_knowledge)
        group = page.locator("section.group", has_text=QUESTION)
        await group.locator("select[name=entry]").select_option("jet-roles")
        await group.locator("button[name=save]").click()
        await page.wait_for_selector("#edit-saved")
        assert f"+  - {QUESTION}" in await page.inner_text("#diff")
        decision = desk.service.knowledge.matcher.decide(QUESTION)
        assert decision.action is Action.ANSWER and decision.entry_id == "jet-roles"
        answered = await desk.say(QUESTION)
        assert not is_escalated(answered.text, 2) and "three roles" in answered.text

        # A script stored in a question (and a name) is shown as text, never run.
        desk.api.user(44, "<img src=x onerror=alert(1)>", language_code="en")
        await escalate(desk, 44, "<script>alert('x')</script> what about visas?", 2)
        await page.goto(page.url.split("/knowledge")[0] + "/queue")
        assert "<script>alert('x')</script>" in await page.inner_text("table.queue")
        await page.click("text=#2")
        assert "<img src=x onerror=alert(1)>" in await page.inner_text("dl.facts")
        assert (
            await page.evaluate("document.querySelectorAll('main script, main img').length") == 0
        )
    assert dialogs == [] and errors == []
