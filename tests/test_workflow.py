"""The staff workflow in the core, without Telegram: states, threads, outbox, reminders, limits."""

import asyncio
import csv
import html
import io
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import limits.aio.storage.memory
import pytest
import yaml
from conftest import FIXTURE_KNOWLEDGE, FIXTURE_REPLIES, fixture_matcher

from bot import texts
from bot.config import Settings, load_settings
from bot.core import UnknownEnquiry
from bot.flood import FloodGuard, Verdict
from bot.outbox import Backoff, RetryLater, Undeliverable, deliver_due
from bot.service import Services
from bot.storage import Storage
from bot.storage.database import StorageUnavailable
from bot.storage.outbox import Lane
from bot.storage.records import Asker, Draft, Enquiry, Kind, OutboxItem, OutboxState, State
from bot.users import DailyLimitReached
from bot.workhours import OfficeHours

ROOT = Path(__file__).resolve().parent.parent
STAFF_CHAT = -1001234
ANA = Asker(user_id=7, chat_id=7, name="Ana <Cruz>", username="ana", language="en")


class Clock:
    """A settable clock for the store."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


def settings_for(tmp_path: Path, **env: str) -> Settings:
    knowledge = tmp_path / "knowledge"
    if not knowledge.exists():  # a copy: "Add to knowledge base" writes into it
        shutil.copytree(FIXTURE_KNOWLEDGE, knowledge)
    config = tmp_path / "config.yaml"
    config.write_text(f"knowledge:\n  path: {knowledge}\n")
    environ = {
        "CLAIRBOT_STORAGE_PATH": str(tmp_path / "db.sqlite3"),
        "CLAIRBOT_STAFF_CHAT_ID": str(STAFF_CHAT),
        "CLAIRBOT_STAFF_USER_IDS": "500,501",
        "CLAIRBOT_STAFF_SAVED_REPLIES": str(FIXTURE_REPLIES),
        "CLAIRBOT_STAFF_LANGUAGE": "en",
        **env,
    }
    return load_settings(config, environ=environ)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 1, 0, tzinfo=UTC))  # Friday 10:00 in Tokyo


@pytest.fixture
async def service(tmp_path: Path, clock: Clock) -> AsyncIterator[Services]:
    settings = settings_for(tmp_path)
    service = await services_on_the_fixture(settings, clock)
    yield service
    await service.close()


async def services_on_the_fixture(settings: Settings, clock: Clock) -> Services:
    """Services on a fresh database, with the fixture knowledge base's shared matcher (the
    folder in the settings is a copy of it)."""
    matcher = fixture_matcher(settings.matcher)
    return Services(settings, matcher.kb, await Storage.open(settings.storage.url, clock), matcher)


class RecordingSender:
    """Plays Telegram: records what it was given, and fails as told."""

    def __init__(self) -> None:
        self.sent: list[OutboxItem] = []
        self.failures: list[Exception] = []
        self.next_id = 100

    async def send(self, item: OutboxItem) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(item)
        self.next_id += 1
        return self.next_id


async def test_escalation_is_stored_with_its_announcement_in_the_outbox(service: Services) -> None:
    reply = await service.users.ask(ANA, "what is the visa fee for trainees?")
    assert reply.enquiry is not None and reply.enquiry.ref == 1
    items = await service.storage.outbox.items(1)
    # The user's acknowledgement is queued with it, after it, for the user's chat.
    assert [(i.kind, i.chat_id, i.ref, i.state) for i in items] == [
        (Kind.ANNOUNCE, STAFF_CHAT, 1, OutboxState.PENDING),
        (Kind.TO_USER, 7, 1, OutboxState.PENDING),
    ]
    acknowledgement = items[1]
    assert "#1" in acknowledgement.text and acknowledgement.text.startswith("I don&#x27;t have")
    assert acknowledgement.text == html.escape(service.users.acknowledgement(reply.enquiry, "en"))
    assert reply.queued  # so the handler does not send it too
    text = items[0].text
    assert "<b>#1</b>" in text and "Ana &lt;Cruz&gt;" in text and "@ana" in text
    assert "id 7" in text and "visa fee" in text
    assert [[label for label, _ in row] for row in items[0].markup] == [
        ["Claim", "Resolve"],
        ["Saved replies", "Add to knowledge base"],
    ]


async def test_announcement_is_threaded_and_replies_reach_the_user(
    service: Services, clock: Clock
) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    sender = RecordingSender()
    assert await deliver_due(service.storage.outbox, sender) == 2
    assert [(i.kind, i.chat_id) for i in sender.sent] == [
        (Kind.ANNOUNCE, STAFF_CHAT),
        (Kind.TO_USER, 7),
    ]
    enquiry = await service.storage.enquiries.get(1)
    assert enquiry is not None and enquiry.staff_message_id == 101
    assert await service.storage.enquiries.ref_for_message(STAFF_CHAT, 101) == 1
    # The acknowledgement is part of the thread too: a reply to it joins #1.
    assert await service.storage.enquiries.ref_for_message(7, 102) == 1

    # The user writes about something else: asked whether it is new, they say it is part of
    # #1, so it joins the thread, replying to the announcement.
    reply = await service.users.ask(ANA, "and do I need insurance?")
    assert reply.belongs is not None and reply.belongs.ref == 1 and reply.enquiry is None
    reply = await service.users.join(ANA, 1, "and do I need insurance?")
    assert reply.follow_up and reply.enquiry is not None and reply.enquiry.ref == 1
    clock.moment += timedelta(seconds=10)  # staff.follow_up_window_seconds
    await deliver_due(service.storage.outbox, sender)
    acknowledged, follow_up = sender.sent[-2:]  # the user's acknowledgement goes first
    assert (acknowledged.kind, acknowledged.chat_id, acknowledged.ref) == (Kind.TO_USER, 7, 1)
    assert acknowledged.text == html.escape(texts.EN.followed_up.format(ref=1))
    assert follow_up.kind is Kind.FOLLOW_UP
    assert follow_up.reply_to_message_id == 101

    answered = await service.staff.reply(1, 500, "Ken", "No visa fee <b>applies</b>.")
    assert answered.state is State.PENDING and answered.first_reply_at is not None
    sent = len(sender.sent)
    await deliver_due(service.storage.outbox, sender)
    relay, buttons = sender.sent[sent:]  # the user's answer before the staff chat's update
    assert (relay.kind, relay.chat_id) == (Kind.REPLY, 7)
    assert (buttons.kind, buttons.chat_id) == (Kind.KEYBOARD, STAFF_CHAT)  # "claimed by Ken"
    assert "CLAIR staff" in relay.text and "No visa fee &lt;b&gt;applies&lt;/b&gt;." in relay.text
    messages = await service.storage.enquiries.messages(1)
    assert [(m.author, m.text) for m in messages] == [
        ("user", "what is the visa fee for trainees?"),
        ("user", "and do I need insurance?"),
        ("staff", "No visa fee <b>applies</b>."),
    ]


async def test_user_writing_again_reopens_an_answered_enquiry(service: Services) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    await service.staff.claim(1, 500, "Ken")
    await service.staff.reply(1, 500, "Ken", "None.")
    reply = await service.users.join(ANA, 1, "are you sure? what about the deadline")
    assert reply.enquiry is not None and reply.enquiry.state is State.CLAIMED  # back with Ken


async def test_states_claim_resolve_reopen(service: Services) -> None:
    await service.users.ask_staff(ANA, "please call me")
    assert (await service.staff.claim(1, 501, "Mai")).assignee == 501
    resolved = await service.staff.resolve(1, 501, "Mai")
    assert resolved.state is State.RESOLVED and resolved.resolved_at is not None
    assert (await service.staff.reopen(1, 501, "Mai")).state is State.CLAIMED
    with pytest.raises(UnknownEnquiry):
        await service.staff.resolve(99, 501, "Mai")


async def test_outbox_retries_429_and_errors_then_delivers_once(
    service: Services, clock: Clock
) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    sender = RecordingSender()
    # The user's acknowledgement goes first (it does not wait for the staff chat)...
    assert await deliver_due(service.storage.outbox, sender, lane=Lane.USERS) == 1
    # ...then the announcement meets a 429 and a timeout.
    sender.failures = [RetryLater("429 Too Many Requests", retry_after=7), RetryLater("timeout")]
    assert await deliver_due(service.storage.outbox, sender, Backoff(base_s=2)) == 0
    item, acknowledgement = await service.storage.outbox.items(1)
    assert item.kind is Kind.ANNOUNCE and acknowledgement.kind is Kind.TO_USER
    assert item.state is OutboxState.PENDING and item.attempts == 1
    clock.moment += timedelta(seconds=6)
    assert await deliver_due(service.storage.outbox, sender) == 0  # retry_after not over yet
    clock.moment += timedelta(seconds=2)
    assert await deliver_due(service.storage.outbox, sender, Backoff(base_s=2)) == 0  # the timeout
    clock.moment += timedelta(seconds=3)  # backoff after a 2nd failure: 2 * 2 = 4 s
    assert await deliver_due(service.storage.outbox, sender) == 0
    clock.moment += timedelta(seconds=1)
    assert await deliver_due(service.storage.outbox, sender) == 1
    assert await deliver_due(service.storage.outbox, sender) == 0
    assert [i.kind for i in sender.sent] == [Kind.TO_USER, Kind.ANNOUNCE]
    item, acknowledgement = await service.storage.outbox.items(1)
    assert (item.state, item.attempts, item.telegram_message_id) == (OutboxState.SENT, 3, 102)
    assert (acknowledgement.state, acknowledgement.attempts) == (OutboxState.SENT, 1)


async def test_blocked_user_is_reported_in_the_staff_thread(service: Services) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    sender = RecordingSender()
    await deliver_due(service.storage.outbox, sender)
    await service.staff.reply(1, 500, "Ken", "Hello")
    # The answer goes first (the users' lane before the staff chat's), and fails.
    sender.failures = [Undeliverable("Forbidden: bot was blocked by the user")]
    await deliver_due(service.storage.outbox, sender, on_failure=service.notices.failure_notice)
    notice = sender.sent[-1]
    assert notice.kind is Kind.NOTICE and notice.chat_id == STAFF_CHAT
    assert "could not be delivered" in notice.text and "blocked" in notice.text
    assert notice.reply_to_message_id == 101
    states = [(i.kind, i.state) for i in await service.storage.outbox.items(1)]
    assert states == [
        (Kind.ANNOUNCE, OutboxState.SENT),
        (Kind.TO_USER, OutboxState.SENT),  # the acknowledgement, before the user blocked the bot
        (Kind.KEYBOARD, OutboxState.SENT),  # "claimed by Ken" on the announcement
        (Kind.REPLY, OutboxState.FAILED),
        (Kind.NOTICE, OutboxState.SENT),
    ]


async def test_a_crash_mid_send_sends_again_after_restart(service: Services) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    due = await service.storage.outbox.due()  # the announcement and the acknowledgement
    assert [i.kind for i in due] == [Kind.ANNOUNCE, Kind.TO_USER]
    for item in due:  # each lane takes its own...
        assert await service.storage.outbox.mark_sending(item.id)  # ...and the process dies here
    assert await service.storage.outbox.due() == []
    assert await service.storage.outbox.recover() == 2
    sender = RecordingSender()
    assert await deliver_due(service.storage.outbox, sender) == 2
    assert [i.kind for i in sender.sent] == [Kind.ANNOUNCE, Kind.TO_USER]


async def test_reminder_after_working_hours_once(service: Services, clock: Clock) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")  # Friday 10:00 Tokyo
    clock.moment += timedelta(hours=7)  # Friday 17:00: 7 working hours
    assert await service.maintenance.send_reminders() == []
    clock.moment += timedelta(days=2, hours=17)  # Monday 10:00: 8.75 working hours
    assert await service.maintenance.send_reminders() == [1]
    assert await service.maintenance.send_reminders() == []  # only once
    kinds = [i.kind for i in await service.storage.outbox.items(1)]
    assert kinds == [Kind.ANNOUNCE, Kind.TO_USER, Kind.REMINDER]


async def test_no_reminder_for_an_enquiry_answered_or_reminded_since_it_was_read(
    service: Services, clock: Clock
) -> None:
    """The jobs read the enquiries to remind, then mark each: staff may answer one in
    between, and after a change of jobs' leader two replicas may both run the jobs."""
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    await service.users.ask(Asker(8, 8, "Ben"), "what is the visa fee for trainees?")
    clock.moment += timedelta(days=3)
    enquiries = service.storage.enquiries

    def remind(enquiry: Enquiry) -> list[Draft]:
        return [Draft(Kind.REMINDER, -100, f"#{enquiry.ref} is waiting")]

    first, second = await enquiries.unreminded_waiting()  # read...
    await service.staff.reply(first.ref, 500, "Ken", "None.")  # ...answered meanwhile
    assert await enquiries.mark_reminded(first.ref, remind) is False
    assert await service.maintenance.send_reminders() == [second.ref]
    assert await enquiries.mark_reminded(second.ref, remind) is False  # another replica's
    assert await service.maintenance.send_reminders() == []
    reminders = [i.ref for i in await service.storage.outbox.items() if i.kind is Kind.REMINDER]
    assert reminders == [second.ref]


async def test_expected_reply_follows_office_hours(service: Services, clock: Clock) -> None:
    clock.moment = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # Friday 17:00 Tokyo
    expected = service.users.expected_reply().astimezone(service.hours.timezone)
    assert (expected.weekday(), expected.hour, expected.minute) == (0, 16, 15)


class LimitsClock:
    """Stands in for the `time` module inside limits' memory storage: a clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


async def test_flood_limit_warns_once_then_drops_and_forgets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = LimitsClock()
    monkeypatch.setattr(limits.aio.storage.memory, "time", clock)
    guard = FloodGuard(3)  # a minute's window, on the test's clock
    verdicts = [await guard.check(7) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN] + [Verdict.DROP] * 2
    assert await guard.check(8) is Verdict.ALLOW  # another user has their own window
    clock.now += 59
    assert await guard.check(7) is Verdict.DROP  # still within the minute
    clock.now += 2
    assert await guard.check(7) is Verdict.ALLOW  # the window moved on
    async with asyncio.timeout(3):  # expired windows leave memory: nothing grows per user
        while guard.tracked() != 1:  # noqa: ASYNC110 - limits expires them on its own task
            await asyncio.sleep(0.05)


class CountedTogether:
    """A shared window (replicas' flood limit) in a dict, that can stop answering."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.down = False

    async def hit(self, key: str, limit: int, window_s: float) -> bool:
        if self.down:
            raise StorageUnavailable("postgresql://db", "the server does not answer")
        counted = self.hits.get(key, 0) < limit
        self.hits[key] = self.hits.get(key, 0) + counted
        return counted


async def test_replicas_count_a_users_updates_together_and_alone_while_the_database_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shared = CountedTogether()
    replicas = [FloodGuard(3), FloodGuard(3)]
    for guard in replicas:
        guard.shared = shared
    verdicts = [await replicas[n % 2].check(7) for n in range(5)]  # updates land on either
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]
    shared.down = True
    assert [await replicas[0].check(7) for _ in range(4)] == [Verdict.ALLOW] * 3 + [Verdict.WARN]
    assert caplog.text.count("flood limit: the database does not answer") == 1
    shared.down = False
    assert await replicas[0].check(8) is Verdict.ALLOW and shared.hits["update:8"] == 1


async def test_daily_cap(tmp_path: Path, clock: Clock) -> None:
    settings = settings_for(tmp_path, CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY="2")
    service = await services_on_the_fixture(settings, clock)
    try:
        for index in range(2):
            await service.users.ask_staff(Asker(7, 7), f"question {index}")
            await service.staff.resolve(index + 1, 500, "Ken")
        reply = await service.users.ask(Asker(7, 7), "what is the visa fee")
        assert reply.limited and reply.enquiry is None
        with pytest.raises(DailyLimitReached):
            await service.users.ask_staff(Asker(7, 7), "one more")
        clock.moment += timedelta(days=1, seconds=1)
        assert (await service.users.ask(Asker(7, 7), "what is the visa fee")).enquiry is not None
    finally:
        await service.close()


async def test_queue_stats_and_export(service: Services, clock: Clock) -> None:
    for text in ("visa fee?", "deadline for lgotp?", "salary of ALTs?"):
        await service.users.ask_staff(Asker(len(text), len(text)), text)
    clock.moment += timedelta(hours=2)
    await service.staff.reply(1, 500, "Ken", "No fee.")
    await service.staff.resolve(3, 500, "Ken")
    page, total = await service.staff.queue(0, 10)
    assert [e.ref for e in page] == [1, 2] and total == 2
    figures = await service.maintenance.stats()
    assert figures.open == 2
    assert figures.first_reply_median_h == pytest.approx(2.0, abs=0.01)  # office hours
    assert figures.answered_today == 1 and figures.answered_this_week == 1
    rows = list(csv.DictReader(io.StringIO(await service.staff.export_csv())))
    assert [r["ref"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["question"] == "visa fee?" and "staff: No fee." in rows[0]["messages"]


async def test_forget_and_retention(service: Services, clock: Clock) -> None:
    await service.users.ask_staff(ANA, "one")
    await service.users.ask_staff(Asker(8, 8), "two")
    await service.staff.resolve(2, 500, "Ken")
    result = await service.storage.users.forget(7)
    assert result.enquiries == 1
    assert await service.storage.outbox.items(1) == []  # nothing left to send about them
    clock.moment += timedelta(days=service.settings.storage.retention_days + 1)
    assert await service.maintenance.purge() == 1
    assert await service.storage.enquiries.get(2) is None


async def test_add_to_knowledge_base_and_grouped_suggestions(service: Services) -> None:
    await service.users.ask_staff(ANA, "What is the visa fee for LGOTP?")
    with pytest.raises(ValueError, match="not resolved"):
        await service.staff.add_to_knowledge_base(1)
    await service.staff.reply(1, 500, "Ken", "There is no fee.")
    await service.staff.resolve(1, 500, "Ken")
    path = await service.staff.add_to_knowledge_base(1)
    assert path is not None
    assert path == service.settings.knowledge.path / "suggestions" / "suggestions.yaml"
    saved = yaml.safe_load(path.read_text())
    assert saved[0]["question"] == "What is the visa fee for LGOTP?"
    assert saved[0]["staff_answers"] == ["There is no fee."]
    assert await service.staff.add_to_knowledge_base(1) is None  # once only
    path.unlink()
    path.parent.rmdir()
    await service.users.ask_staff(Asker(8, 8), "what's the LGOTP visa fee")
    await service.users.ask_staff(Asker(9, 9), "where is jiam")
    groups = await service.maintenance.suggestion_groups()
    assert [(g.count, g.refs) for g in groups] == [(2, [1, 2]), (1, [3])]


def test_office_hours_arithmetic() -> None:
    hours = OfficeHours.parse("Asia/Tokyo", ("mon", "tue", "wed", "thu", "fri"), "09:00", "17:45")
    friday_5pm = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    monday_10am = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert hours.between(friday_5pm, monday_10am) == pytest.approx(1.75)
    assert hours.add(friday_5pm, 0.75).astimezone(hours.timezone).hour == 17
    with pytest.raises(ValueError, match="unknown day"):
        OfficeHours.parse("Asia/Tokyo", ("funday",), "09:00", "17:00")


async def test_a_retried_message_holds_back_later_ones_of_its_enquiry_only(
    service: Services, clock: Clock
) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    await service.users.follow_up(1, ANA, "and the insurance?")
    await service.users.ask(Asker(8, 8, "Ben"), "what is the fee for JIAM?")
    clock.moment += timedelta(seconds=10)  # past the follow-up window
    sender = RecordingSender()
    sender.failures = [RetryLater("500 Internal Server Error")]
    await deliver_due(service.storage.outbox, sender, Backoff(base_s=10))
    # #1's follow-up waits for #1's announcement; Ben's enquiry need not wait for Ana's, nor
    # do the users' acknowledgements (Ana's two, then Ben's) wait for the staff chat.
    assert [(item.ref, item.kind, item.chat_id) for item in sender.sent] == [
        (1, Kind.TO_USER, 7),
        (1, Kind.TO_USER, 7),
        (2, Kind.ANNOUNCE, STAFF_CHAT),
        (2, Kind.TO_USER, 8),
    ]
    # ...and the worker sleeps until the first may be retried, not in a busy loop.
    assert await service.storage.outbox.next_attempt_at() == clock.moment + timedelta(seconds=10)
    clock.moment += timedelta(seconds=10)
    await deliver_due(service.storage.outbox, sender)
    assert [(item.ref, item.kind) for item in sender.sent[4:]] == [
        (1, Kind.ANNOUNCE),
        (1, Kind.FOLLOW_UP),
    ]


async def test_new_enquiries_and_answers_go_before_follow_ups(
    service: Services, clock: Clock
) -> None:
    for user in (7, 8, 9):
        await service.users.ask(Asker(user, user, f"user {user}"), "what is the visa fee?")
    sender = RecordingSender()
    await deliver_due(service.storage.outbox, sender)
    for ref in (1, 2, 3):  # a burst of follow-ups, each to its own enquiry
        await service.users.follow_up(ref, Asker(ref + 6, ref + 6), "and the insurance?")
    clock.moment += timedelta(seconds=10)
    await service.users.ask(Asker(10, 10, "late"), "what is the visa fee?")
    await service.staff.reply(1, 500, "Ken", "None.")
    sent = len(sender.sent)
    await deliver_due(service.storage.outbox, sender)
    assert [(i.ref, i.kind) for i in sender.sent[sent:]] == [
        (1, Kind.TO_USER),  # the users' acknowledgements of their follow-ups, oldest first
        (2, Kind.TO_USER),
        (3, Kind.TO_USER),
        (4, Kind.ANNOUNCE),  # the newest enquiry first
        (4, Kind.TO_USER),  # and its user's acknowledgement
        (1, Kind.REPLY),  # then the answer a user waits for
        (1, Kind.FOLLOW_UP),
        (2, Kind.FOLLOW_UP),
        (3, Kind.FOLLOW_UP),
        (1, Kind.KEYBOARD),  # "claimed by Ken", after #1's follow-up (its thread's order)
    ]


async def test_follow_ups_in_the_window_or_still_queued_are_one_message(
    service: Services, clock: Clock
) -> None:
    await service.users.ask(ANA, "what is the visa fee for trainees?")
    sender = RecordingSender()

    def to_staff() -> list[OutboxItem]:
        return [i for i in sender.sent if i.chat_id == STAFF_CHAT]

    await deliver_due(service.storage.outbox, sender)
    for n, later in ((1, 0), (2, 3), (3, 3)):
        clock.moment += timedelta(seconds=later)
        await service.users.follow_up(1, ANA, f"detail {n} <i>")
    # Each message is acknowledged to the user at once; the staff chat's is held for the window.
    assert await deliver_due(service.storage.outbox, sender) == 3
    assert [(i.kind, i.chat_id) for i in sender.sent[-3:]] == [(Kind.TO_USER, 7)] * 3
    assert len(to_staff()) == 1
    clock.moment += timedelta(seconds=4)  # 10 s after the first
    await deliver_due(service.storage.outbox, sender)
    follow_up = sender.sent[-1]
    assert follow_up.kind is Kind.FOLLOW_UP and len(to_staff()) == 2
    assert follow_up.text.count("<blockquote>") == 3
    assert "detail 1 &lt;i&gt;" in follow_up.text
    assert follow_up.text.index("detail 2") < follow_up.text.index("detail 3")
    # A follow-up still queued (here: retried after a failure) gathers the next one too,
    # rather than the user's words being announced again.
    await service.users.follow_up(1, ANA, "detail 4")
    assert await deliver_due(service.storage.outbox, sender, lane=Lane.USERS) == 1  # its ack
    clock.moment += timedelta(seconds=10)
    sender.failures = [RetryLater("flood control", retry_after=60)]
    await deliver_due(service.storage.outbox, sender)
    clock.moment += timedelta(seconds=30)
    await service.users.follow_up(1, ANA, "detail 5")
    clock.moment += timedelta(seconds=30)
    await deliver_due(service.storage.outbox, sender)
    assert len(to_staff()) == 3 and "detail 4" in to_staff()[-1].text
    assert "detail 5" in to_staff()[-1].text
    items = await service.storage.outbox.items(1)
    staff_kinds = [i.kind for i in items if i.chat_id == STAFF_CHAT]
    assert staff_kinds == [Kind.ANNOUNCE, Kind.FOLLOW_UP, Kind.FOLLOW_UP]
    # The user's acknowledgements are not gathered: one for the question and each detail.
    acknowledgements = [(i.kind, i.state) for i in items if i.chat_id == 7]
    assert acknowledgements == [(Kind.TO_USER, OutboxState.SENT)] * 6
    assert len(items) == len(staff_kinds) + len(acknowledgements)
    # The staff thread has every message, one by one.
    texts = [m.text for m in await service.storage.enquiries.messages(1)]
    assert texts[1:] == [f"detail {n} <i>" for n in (1, 2, 3)] + ["detail 4", "detail 5"]
