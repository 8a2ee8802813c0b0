"""Take the README's pictures of the staff console:
`make screenshots`, or `PYTHONPATH=tests .venv/bin/python docs/screenshots.py [OUT_DIR]`.

The real bot runs against the tests' loopback fake Bot API (tests/fakebotapi.py) on a copy of
knowledge/, in English, and made-up people ask it questions over twelve days (the store's
clock is moved; Telegram's side runs in real time). The bot answers some and escalates the
rest; staff claim, reply, note and resolve through the same service methods as their
commands, and users rate. Then Debian's headless Chromium, launched as the browser tests
launch it (tests/browser.py), signs in with a /console link and saves the queue, one enquiry
and the figures as PNGs. Needs /usr/bin/chromium; reaches nothing but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from browser import CHROMIUM, MISSING, chromium
from conftest import (
    STAFF_CHAT_ID,
    STAFF_USER_ID,
    TOKEN,
    Harness,
    console_overrides,
    console_url,
    is_escalated,
    recorded,
    running_bot_at,
    sign_in_link,
)
from fakebotapi import FakeBotApi

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).resolve().parent
AIKO = 501

#: Questions the bot answers from knowledge/ (the figures' "answered by the bot").
ANSWERED = (
    "What does a CIR do?",
    "What does an ALT do?",
    "What is an SEA?",
    "CIRとは何ですか",
)
#: (days ago, asker, question, what staff do): the bot escalates every one of these. Each
#: day runs forward (answers, escalations, then staff's work): the outbox would hold back a
#: message made "later" in the day until the moved clock reached that time again.
ESCALATED = (
    (11, "Priya", "Can I change my placement preference after the interview?", "resolved"),
    (10, "Wei Ling", "Is there a JET alumni meetup in Singapore this December?", "resolved"),
    (8, "Daniel", "Can my spouse work in Japan while I am on JET?", "resolved"),
    (6, "Hui Min", "Is the Singapore office open on Christmas Eve?", "resolved"),
    (4, "Marcus", "My contracting organisation has not paid my relocation allowance yet", "open"),
    (3, "Sakura", "シンガポール事務所は年末年始も開いていますか？", "claimed"),
    (2, "Ravi", "How do I apply to be an ALT if I am a permanent resident?", "new"),
    (1, "Ana", "Can my spouse come with me to Japan on the JET Programme?", "replied"),
    (0, "Jun", "Do JET participants need to speak Japanese before they go?", "new"),
)
REPLY = (
    "Yes: spouses may join you. They need a dependant visa, which your contracting "
    "organisation helps with once your placement is confirmed. Bring your marriage "
    "certificate (with an English or Japanese translation) to the pre-departure briefing."
)
NOTE = "Checked with the Tokyo office: dependant visas take about 4 weeks. Ana leaves in July."


class Clock:
    """The store's clock: real time, moved back by a number of days and hours."""

    def __init__(self) -> None:
        self.back = timedelta()

    def __call__(self) -> datetime:
        """Now, for the store."""
        return datetime.now(UTC) - self.back

    def at(self, days: int, hour: float) -> None:
        """Days ago, at `hour` after midnight (UTC, ahead of Singapore by eight hours)."""
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        # Never ahead of real time: the outbox would then hold messages for the future.
        self.back = max(
            timedelta(), datetime.now(UTC) - (today - timedelta(days=days, hours=-hour))
        )


async def ask(bot: Harness, user: int, name: str, text: str) -> int | None:
    """`name` asks `text`; the enquiry's reference when the bot escalates it."""
    language = "ja" if any(ord(c) > 0x3000 for c in text) else "en"
    bot.api.user(user, name, language_code=language)
    bot.api.send_message(text, user=user)
    answer = await bot.api.next_message(user)
    found = re.search(r"#(\d+)", answer.text)
    if found is None or not is_escalated(answer.text, ref := int(found.group(1)), language):
        return None
    await bot.api.next_message(STAFF_CHAT_ID)
    await recorded(bot, ref)
    return ref


async def make_history(bot: Harness, clock: Clock) -> int:
    """Twelve days of questions and staff work; the enquiry to picture."""
    staff = bot.service.staff
    pictured = 0
    people = iter(range(1000, 2000))
    for days_ago in range(12, -1, -1):
        for hour in (0.5, 1, 1.5)[: 1 + days_ago % 3]:
            clock.at(days_ago, hour)
            asker = next(people)
            question = ANSWERED[asker % len(ANSWERED)]
            if await ask(bot, asker, f"Visitor {asker}", question) is not None:
                raise SystemExit(f"the bot escalated {question!r}: pick another question")
        for when, name, question, outcome in ESCALATED:
            if when != days_ago:
                continue
            clock.at(days_ago, 2)
            user = next(people)
            ref = await ask(bot, user, name, question)
            if ref is None:
                raise SystemExit(f"the bot answered {question!r}: pick another question")
            if outcome == "new":
                continue
            clock.at(days_ago, 2.5)
            await staff.claim(
                ref, STAFF_USER_ID if ref % 2 else AIKO, "Kenji" if ref % 2 else "Aiko"
            )
            if outcome == "claimed":
                continue
            clock.at(days_ago, 4 + ref % 3)
            if outcome == "replied":
                await staff.note(ref, STAFF_USER_ID, "Kenji", NOTE)
                await staff.reply(ref, STAFF_USER_ID, "Kenji", REPLY)
                await bot.api.next_message(user)
                bot.api.send_message(
                    "Thank you! Does she need to attend the briefing too?", user=user
                )
                await bot.api.next_message(user)
                pictured = ref
                continue
            await staff.send_saved(
                ref, next(iter(bot.service.knowledge.saved.replies)), AIKO, "Aiko"
            )
            await bot.api.next_message(user)
            if outcome == "resolved":
                await staff.resolve(ref, AIKO, "Aiko")
                await bot.api.next_message(user)  # the rating question
                await bot.service.satisfaction.rate(ref, user, 5 - ref % 2)
    return pictured


async def main(out: Path) -> None:
    """Run the bot, make its history, and save the three pictures in `out`."""
    if not CHROMIUM.exists():
        raise SystemExit(MISSING)
    with tempfile.TemporaryDirectory(prefix="clair-bot-screenshots-") as tmp:
        tmp_path = Path(tmp)
        knowledge = tmp_path / "knowledge"
        shutil.copytree(ROOT / "knowledge", knowledge)
        overrides = console_overrides(tmp_path) | {
            "CLAIRBOT_KNOWLEDGE_PATH": str(knowledge),
            "CLAIRBOT_STAFF_SAVED_REPLIES": str(ROOT / "saved-replies.yaml"),
            # Twelve days of the staff group's messages in seconds: Telegram's 20 a minute
            # would make this take minutes, and the fake server has no such limit.
            "CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "0",
        }
        clock = Clock()
        async with FakeBotApi(token=TOKEN, max_poll_timeout=0.5) as api:
            api.group(STAFF_CHAT_ID, "CLAIR staff")
            api.user(STAFF_USER_ID, "Kenji", username="kenji", language_code="en")
            os.environ["TELEGRAM_BOT_TOKEN"] = api.token
            async with running_bot_at(api, tmp_path, clock, overrides) as bot:
                ref = await make_history(bot, clock)
                clock.back = timedelta()
                await shoot(bot, ref, out)


async def shoot(bot: Harness, ref: int, out: Path) -> None:
    """Sign in as the browser tests do and save queue.png, enquiry.png and figures.png."""
    base = console_url(bot)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1200, "height": 480})
        await page.goto(await sign_in_link(bot))
        await page.click("#sign-in")
        await page.wait_for_url("**/queue")
        await page.screenshot(path=str(out / "console-queue.png"), full_page=True)
        await page.goto(f"{base}/enquiries/{ref}")
        await page.screenshot(path=str(out / "console-enquiry.png"), full_page=True)
        await page.goto(f"{base}/figures")
        await page.wait_for_selector("body[data-charts-drawn='30']")
        await page.screenshot(path=str(out / "console-figures.png"), full_page=True)
    print(f"wrote console-queue.png, console-enquiry.png and console-figures.png in {out}")


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
