"""The helpdesk core without Telegram: saved replies' validation, the figures, button data,
the migration of 'answered' to 'pending', and what a merge and a rating do in the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiosqlite
import pytest
from conftest import FIXTURE_REPLIES, open_services, settings_for, staff_overrides
from fakebotapi import FakeBotApi
from sqlalchemy import TextClause, text

from bot import figures
from bot.callback_data import Rate, StaffAction, StaffButton, parse
from bot.core import TERMINAL_CHAT_ID
from bot.outbox import Undeliverable, deliver_due
from bot.savedreplies import check_saved_replies, load_saved_replies, office_hours_text
from bot.storage import Storage, users
from bot.storage.legacy import SCRIPTS
from bot.storage.migrate import head
from bot.storage.ratings import Rated
from bot.storage.records import Asker, Event, Kind, Media, OutboxItem, OutboxState, State
from bot.workhours import OfficeHours

HOURS = OfficeHours.parse("Asia/Tokyo", ("mon", "tue", "wed", "thu", "fri"), "09:00", "17:45")
ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "replies.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_and_fixture_saved_replies_are_valid() -> None:
    for path in (ROOT / "saved-replies.yaml", FIXTURE_REPLIES):
        replies, problems = check_saved_replies(path)
        assert problems == [] and replies is not None and len(replies.replies) >= 3


def test_saved_replies_render_in_both_languages() -> None:
    replies = load_saved_replies(FIXTURE_REPLIES)
    assert replies.render("office", "en", "Ana", 3, HOURS) == (
        "Please call us (Mon-Fri 09:00-17:45 (Asia/Tokyo))."
    )
    assert replies.render("thanks", "ja", "アナ", 3, HOURS) == "アナ 様、ありがとうございます。"
    assert office_hours_text(HOURS, "ja") == "月～金 09:00～17:45（日本時間）"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "replies:\n  a:\n    title: A\n    title_ja: エー\n    text: Hi {nmae}\n"
            "    text_ja: こんにちは\n",
            "replies.yaml:5: error: entry 'a': text: unknown placeholder {nmae}",
        ),
        (
            "replies:\n  a:\n    title: A\n    title_ja: エー\n    text: Hi\n",
            "replies.yaml:2: error: entry 'a': text_ja: Field required",
        ),
        (
            "replies:\n  a:\n    title: A\n    title_ja: エー\n    text: Hi {\n    text_ja: x\n",
            "replies.yaml:5: error: entry 'a': text: braces:",
        ),
        (
            "replies:\n  Bad Key:\n    title: A\n    title_ja: エー\n    text: Hi\n"
            "    text_ja: x\n",
            "replies.yaml:2: error: key 'Bad Key'",
        ),
        (
            "replies:\n  a:\n    title: A\n    title: B\n",
            "replies.yaml:4: error: not valid YAML: duplicate key 'title' (first at line 3)",
        ),
        ("answers: {}\n", "replies.yaml:1: error: expected one key, 'replies', at the top"),
    ],
)
def test_saved_replies_problems_name_the_line(tmp_path: Path, text: str, expected: str) -> None:
    replies, problems = check_saved_replies(write(tmp_path, text))
    assert replies is None
    assert str(problems[0]).startswith(expected), str(problems[0])


def test_percentile_and_office_hours_figures() -> None:
    assert figures.percentile([], 0.5) is None
    assert figures.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert figures.percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


def test_button_data_for_ratings_and_saved_replies() -> None:
    assert parse("r:12:5") == Rate(12, 5)
    assert parse("r:12:6") is None and parse("r:0:3") is None
    assert parse("st:s:3:deadline") == StaffButton(StaffAction.SEND_SAVED, 3, "deadline")
    assert parse("st:s:3") is None  # a saved reply needs its key
    assert parse("st:c:3:deadline") is None  # a claim takes none
    assert parse("st:p:1:mine") == StaffButton(StaffAction.QUEUE_PAGE, 1, "mine")
    assert parse("st:p:1") == StaffButton(StaffAction.QUEUE_PAGE, 1)
    assert StaffButton(StaffAction.SEND_SAVED, 10**11, "a" * 24).data.count(":") == 3


async def test_a_database_at_version_4_moves_answered_to_pending(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    async with aiosqlite.connect(path) as db:
        for script in SCRIPTS[:4]:
            await db.executescript(script)
        await db.execute(
            "INSERT INTO enquiries (user_id, chat_id, text, state, created_at)"
            " VALUES (1, 1, 'q', 'answered', '2026-01-01T00:00:00+00:00')"
        )
        await db.execute("PRAGMA user_version = 4")
        await db.commit()
    storage = await Storage.open(path)
    try:
        enquiry = await storage.enquiries.get(1)
        assert enquiry is not None and enquiry.state is State.PENDING
        assert await storage.database.schema_version() == head()
    finally:
        await storage.close()


async def test_rating_is_asked_once_and_counts_once(tmp_path: Path) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        enquiry = await storage.enquiries.create(Asker(5, 5), "q")
        await storage.enquiries.change(enquiry.ref, Event.RESOLVE)
        assert await storage.ratings.rate(enquiry.ref, 6, 4, None) is Rated.UNKNOWN
        assert await storage.ratings.rate(enquiry.ref, 5, 4, None) is Rated.RECORDED
        assert await storage.ratings.rate(enquiry.ref, 5, 1, None) is Rated.ALREADY
        await storage.enquiries.change(enquiry.ref, Event.REOPEN)
        await storage.enquiries.change(enquiry.ref, Event.RESOLVE)
        rating = await storage.ratings.get(enquiry.ref)
        assert rating is not None and rating.score == 4
        scores, asked = await storage.ratings.since(datetime.now(UTC) - timedelta(days=1))
        assert (scores, asked) == ({4: 1}, 1)
    finally:
        await storage.close()


async def test_the_daily_count_of_bot_answers_is_written_soon_and_at_close(
    tmp_path: Path,
) -> None:
    storage = await Storage.open(tmp_path / "db.sqlite3")
    try:
        for day in (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 2)):
            await storage.users.count_answer(day)
        assert await storage.users.answers_since(date(2026, 11, 1)) == {
            date(2026, 11, 1): 2,
            date(2026, 11, 2): 1,
        }
        await storage.users.count_answer(date(2026, 11, 2))
        stored = text("SELECT answered FROM bot_answers WHERE day = '2026-11-02'")
        assert await storage.database.scalar(stored) == 1  # counted, not written yet
        await asyncio.wait_for(
            _until_written(storage, stored, 2), timeout=users.ANSWERS_FLUSH_S + 2
        )
        await storage.users.count_answer(date(2026, 11, 3))
    finally:
        await storage.close()
    storage = await Storage.open(tmp_path / "db.sqlite3")  # the one counted last was written
    try:
        assert (await storage.users.answers_since(date(2026, 11, 3))) == {date(2026, 11, 3): 1}
    finally:
        await storage.close()


async def _until_written(storage: Storage, sql: TextClause, expected: int) -> None:
    # A poll with a deadline: the count is written by a timer.
    while await storage.database.scalar(sql) != expected:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def test_kb_check_checks_the_saved_replies_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    config = tmp_path / "config.yaml"
    replies = write(tmp_path, "replies:\n  a:\n    title: A\n")
    config.write_text(
        f"knowledge:\n  path: {ROOT / 'knowledge'}\nstaff:\n  saved_replies: {replies}\n"
    )
    assert main(["--config", str(config), "kb", "check"]) == 1
    out = capsys.readouterr().out
    assert "replies.yaml:2: error: entry 'a': title_ja: Field required" in out
    assert out.rstrip().endswith("saved replies: 3 error(s)")
    assert main(["kb", "check"]) == 0
    assert "ok: 4 saved replies" in capsys.readouterr().out


def test_the_bot_does_not_start_with_invalid_saved_replies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.config import load_settings
    from handlers.app import EXIT_FAILED, run_telegram

    replies = write(tmp_path, "replies:\n  a:\n    title: A\n    title_ja: エー\n    text: {x}\n")
    settings = load_settings(
        environ={
            "CLAIRBOT_STAFF_SAVED_REPLIES": str(replies),
            "CLAIRBOT_STORAGE_PATH": str(tmp_path / "db.sqlite3"),
        }
    )
    assert run_telegram(settings) == EXIT_FAILED
    error = capsys.readouterr().err
    assert "the saved replies have 2 error(s)" in error and "replies.yaml:5" in error


class GoneSender:
    """Plays Telegram: every copy fails for good (the user deleted the message)."""

    def __init__(self) -> None:
        self.sent: list[OutboxItem] = []

    async def send(self, item: OutboxItem) -> int:
        if item.copy_of is not None:
            raise Undeliverable("Bad Request: message to copy not found")
        self.sent.append(item)
        return 100 + len(self.sent)


async def test_an_attachment_that_cannot_be_copied_is_said_in_the_thread(
    bot_api: FakeBotApi, tmp_path: Path
) -> None:
    settings = settings_for(bot_api, tmp_path, **staff_overrides())
    service = await open_services(settings)
    try:
        asker = Asker(7, 7, "Ana", message_id=55)
        photo = Media("photo", "F1", "U1", file_size=10)
        attached = await service.relay.user_attachment(asker, photo, "my letter")
        assert attached.opened
        sender = GoneSender()
        await deliver_due(
            service.storage.outbox, sender, on_failure=service.notices.failure_notice
        )
        kinds = [
            (i.kind, i.state) for i in await service.storage.outbox.items(attached.enquiry.ref)
        ]
        assert kinds == [
            (Kind.ANNOUNCE, OutboxState.SENT),
            (Kind.COPY, OutboxState.FAILED),
            (Kind.NOTICE, OutboxState.SENT),
        ]
        assert sender.sent[-1].text == (
            "⚠️ <b>#1</b>: the user's attachment could not be copied here (Bad Request: message "
            "to copy not found); /show 1 lists it."
        )
        messages = await service.storage.enquiries.messages(1)
        assert messages[0].media == photo and messages[0].text == "my letter"
    finally:
        await service.close()


async def test_a_note_is_no_reply_to_the_user(bot_api: FakeBotApi, tmp_path: Path) -> None:
    """What the user writes after a note is not marked "after staff's reply", and the
    terminal chat (which reads staff replies from the store) never shows a note."""
    settings = settings_for(bot_api, tmp_path, **staff_overrides())
    service = await open_services(settings)
    try:
        asker = Asker(TERMINAL_CHAT_ID, TERMINAL_CHAT_ID, "Ana")
        ref = (await service.users.ask_staff(asker, "is there a visa fee")).ref
        await service.staff.note(ref, 500, "Kenji", "check with Tokyo")
        await service.users.follow_up(ref, asker, "any news?")
        assert await service.users.staff_replies_after(asker.user_id, 0) == []
        await service.staff.reply(ref, 500, "Kenji", "  Yes, 3,000 yen. ")
        await service.users.follow_up(ref, asker, "thanks")
        [(replied, _, reply)] = await service.users.staff_replies_after(asker.user_id, 0)
        assert (replied, reply.text) == (ref, "Yes, 3,000 yen.")
        items = await service.storage.outbox.items(ref)
        # Nothing is queued for the terminal chat: it shows its acknowledgements itself.
        assert [i for i in items if i.chat_id == TERMINAL_CHAT_ID] == []
        notices = [i.text for i in items if i.kind is Kind.FOLLOW_UP]
        assert len(notices) == 2
        assert "wrote again:" in notices[0] and "after staff's reply" not in notices[0]
        assert "wrote again after staff's reply:" in notices[1]
    finally:
        await service.close()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLAIRBOT_STAFF_LANGUAGE", "fr", "staff.language: must be ja or en (from"),
        ("CLAIRBOT_STAFF_AUTOCLOSE_DAYS", "-1", "staff.autoclose_days: must be at least 0"),
        ("CLAIRBOT_STAFF_SAVED_REPLIES", "", "staff.saved_replies: expected a path, got ''"),
    ],
)
def test_the_staff_settings_are_checked(variable: str, value: str, message: str) -> None:
    from bot.config import ConfigError, load_settings

    with pytest.raises(ConfigError) as caught:
        load_settings(environ={variable: value})
    assert str(caught.value).startswith(message)
