"""The replica run of issue 15: escalations and staff replies through webhook replicas, one
replica SIGKILLed mid-burst and started again, then the checks.

Each user sends a question the knowledge base cannot answer and, straight after, a second
message about it (which joins the enquiry as a follow-up only if it is handled after the
first: each chat's order). A member of staff replies to each announcement in the staff
group once its follow-up is there too; every `hold_every`-th enquiry is left unanswered
until its reminder comes (the jobs' leader sends it), then answered. Meanwhile one replica
is SIGKILLed after `kill_after` users and started again `down_s` later; half of the
remaining users write while it is down, the other half once it is back. When every user
has their answer (or the deadline passes), the replicas get SIGTERM and `checks` reads the
fake's messages and the database:

- nothing lost: an enquiry, its follow-up and its staff reply stored for every user; the
  announcement, the follow-up, the acknowledgements and the answer each sent; nothing left
  in the outbox;
- nothing handled twice: one enquiry a user, each message stored once, each message sent
  once (a copy either side of the SIGKILL is counted apart: the replica may die between
  Telegram taking a message and recording it, and then another sends it again);
- each chat's order: the enquiry's text is the first message, the follow-up joined it; the
  user is acknowledged before they are answered; the announcement precedes the follow-up;
- the staff group never above telegram.group_messages_per_minute in any 60 s window;
- reminders: at most one per enquiry, exactly one for each enquiry left unanswered;
- every replica stops on SIGTERM with status 0, and the token is in no log.

Each failure's text starts with its category (CATEGORIES), so that a test can take them one
check at a time (`failed`).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fakebotapi import JSON, FakeBotApi, SentMessage
from replicas import TOKEN, Cluster
from sqlalchemy import func, select

from bot import texts
from bot.storage.database import Database
from bot.storage.schema import enquiries as enquiries_table
from bot.storage.schema import messages, outbox

STAFF_CHAT = -1005151515151
STAFF_USER = 5151
FIRST_USER = 300_000
GROUP_LIMIT = 20  # telegram.group_messages_per_minute, as shipped
QUESTION = "what is the application deadline for lgotp? (asked by user {user})"
FOLLOW_UP = "what is the application deadline for lgotp? more details please (user {user})"
ANSWER = "answer {ref}"
_ANNOUNCEMENT = re.compile(r"^#(\d+) new enquiry")
_REMINDER = re.compile(r"Still waiting: #(\d+)")
_WROTE_AGAIN = re.compile(r"^#(\d+) .* wrote again:\n(.*)$", re.S)
_ANSWERED = re.compile(r"^CLAIR staff \(about your enquiry #(\d+)\):\n(answer \d+)$")
_PART_OF = re.compile(
    "|".join(re.escape(t.button_same_enquiry).replace(r"\{ref\}", r"\d+") for t in texts.ALL)
)
_FORWARDED = texts.EN.escalated.split("{ref}")[0][:40]
_JOINED = texts.EN.followed_up.split("{ref}")[0][:30]


class RecordingBotApi(FakeBotApi):
    """The fake Bot API, noting when (time.monotonic()) it took each message of the bot."""

    def __init__(self, **options: Any) -> None:
        super().__init__(token=TOKEN, **options)
        self.sent_at: dict[tuple[int, int], float] = {}

    def _send(self, params: JSON, content: JSON, entities: list[JSON], **extra: Any) -> JSON:
        payload = super()._send(params, content, entities, **extra)
        self.sent_at[(payload["chat"]["id"], payload["message_id"])] = time.monotonic()
        return payload


@dataclass(frozen=True)
class Plan:
    """How big a run, and when the replica dies."""

    escalations: int
    kill_after: int  # users whose questions are sent before the SIGKILL
    down_s: float = 2.0
    gap_s: float = 0.05  # between users
    hold_every: int = 0  # every n-th enquiry waits for its reminder (0: none)
    deadline_s: float = 120.0
    killed: int = 1  # which replica

    @property
    def resume_at(self) -> int:
        """The user from whom on questions wait for the killed replica to be back: half of
        those after the kill are sent while it is down, the rest once it is up again."""
        return self.kill_after + (self.escalations - self.kill_after + 1) // 2


def settings(plan: Plan) -> dict[str, str]:
    """The replicas' settings: the staff group in English (the patterns above read it), no
    follow-up window, users' own limits out of the way; office hours all day every day, and
    a reminder after 36 s of waiting when some enquiries wait for theirs."""
    values = {
        "CLAIRBOT_STAFF_CHAT_ID": str(STAFF_CHAT),
        "CLAIRBOT_STAFF_USER_IDS": str(STAFF_USER),
        "CLAIRBOT_STAFF_LANGUAGE": "en",
        "CLAIRBOT_STAFF_FOLLOW_UP_WINDOW_SECONDS": "0",
        "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "100000",
        "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "100000",
        "CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE": str(GROUP_LIMIT),
    }
    if plan.hold_every:
        values |= {
            "CLAIRBOT_STAFF_OFFICE_DAYS": "mon,tue,wed,thu,fri,sat,sun",
            "CLAIRBOT_STAFF_OFFICE_START": "00:00",
            "CLAIRBOT_STAFF_OFFICE_END": "23:59",
            "CLAIRBOT_STAFF_REMIND_AFTER_HOURS": "0.01",
        }
    return values


@dataclass
class EscalationRun:
    """The people of the run, acting on what the bot sent them."""

    api: RecordingBotApi
    plan: Plan
    users: list[int] = field(default_factory=list)
    answered: dict[int, SentMessage] = field(default_factory=dict)  # ref -> its announcement
    followed: set[int] = field(default_factory=set)  # refs whose follow-up staff have seen
    replied: set[int] = field(default_factory=set)  # refs staff answered or hold
    held: set[int] = field(default_factory=set)  # refs waiting for their reminder
    reminded: set[int] = field(default_factory=set)
    pressed: set[tuple[int, int]] = field(default_factory=set)
    seen: int = 0
    started: float = field(default_factory=time.monotonic)
    kill_at: float | None = None
    restarted_at: float | None = None

    def setup(self) -> None:
        """The staff group and its member, and the users."""
        self.api.group(STAFF_CHAT, "CLAIR staff")
        self.api.user(STAFF_USER, "Kenji", username="kenji")
        self.users = [FIRST_USER + n for n in range(self.plan.escalations)]
        for user in self.users:
            self.api.user(user, f"User {user}")

    async def run(self, cluster: Cluster) -> bool:
        """Send everything, kill and restart one replica, wait until done; True if done."""
        people = asyncio.create_task(self.act())
        restart: asyncio.Task[None] | None = None
        try:
            for number, user in enumerate(self.users):
                if number == self.plan.kill_after:
                    cluster.kill(self.plan.killed)
                    self.kill_at = time.monotonic()
                    restart = asyncio.create_task(self._restart(cluster))
                if number == self.plan.resume_at and restart is not None:
                    await restart  # the rest go to all three again
                self.api.send_message(QUESTION.format(user=user), user=user)
                self.api.send_message(FOLLOW_UP.format(user=user), user=user)
                await asyncio.sleep(self.plan.gap_s)
            if restart is not None:
                await restart
            deadline = self.started + self.plan.deadline_s
            database = await Database.open(cluster.database, migrate=False)
            try:
                while not await self.finished(database) and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.25)  # the replicas are other processes: a poll
                return await self.finished(database)
            finally:
                await database.close()
        finally:
            people.cancel()
            if restart is not None:
                restart.cancel()

    async def _restart(self, cluster: Cluster) -> None:
        await asyncio.sleep(self.plan.down_s)
        await cluster.restart(self.plan.killed)
        self.restarted_at = time.monotonic()

    async def act(self) -> None:
        """React to each new message of the bot, as the people would."""
        while True:
            for message in self.api._sent[self.seen :]:
                self.seen += 1
                self.react(message)
            await asyncio.sleep(0.05)

    def react(self, message: SentMessage) -> None:
        if message.chat_id == STAFF_CHAT:
            if (match := _ANNOUNCEMENT.match(message.text)) and int(match[1]) not in self.answered:
                self.answered[int(match[1])] = message
                self.ready(int(match[1]))
            elif match := _WROTE_AGAIN.match(message.text):
                self.followed.add(int(match[1]))
                self.ready(int(match[1]))
            elif (match := _REMINDER.search(message.text)) and int(match[1]) in self.held:
                ref = int(match[1])
                self.held.discard(ref)
                self.reminded.add(ref)
                self.reply(ref)
            return
        part_of = [value for text, value in message.buttons() if _PART_OF.fullmatch(text)]
        if part_of and (message.chat_id, message.message_id) not in self.pressed:
            self.pressed.add((message.chat_id, message.message_id))
            self.api.press(message, part_of[0], user=message.chat_id)

    def ready(self, ref: int) -> None:
        """Staff answer an enquiry once they have its announcement and its follow-up (an
        answer before the follow-up is handled would make the follow-up a new enquiry, as
        the bot means it to); a held one waits for its reminder too."""
        if ref not in self.answered or ref not in self.followed or ref in self.replied:
            return
        self.replied.add(ref)
        if self.plan.hold_every and ref % self.plan.hold_every == 0:
            self.held.add(ref)
        else:
            self.reply(ref)

    def reply(self, ref: int) -> None:
        announcement = self.answered[ref]
        self.api.send_message(
            ANSWER.format(ref=ref), user=STAFF_USER, chat=STAFF_CHAT, reply_to=announcement
        )

    async def finished(self, database: Database) -> bool:
        """Every user answered, every follow-up in the staff group, no update waiting, the
        outbox empty."""
        answered = {
            message.chat_id
            for message in self.api._sent
            if message.chat_id in self.user_set and _ANSWERED.match(message.text)
        }
        followed = {
            int(m[2].rsplit("user ", 1)[-1].rstrip(")"))
            for message in self.api.messages(STAFF_CHAT)
            if (m := _WROTE_AGAIN.match(message.text))
        }
        return (
            len(answered) == len(self.users)
            and followed >= self.user_set
            and not self.api._updates
            and await queued(database) == 0
        )

    @property
    def user_set(self) -> set[int]:
        return set(self.users)


async def queued(database: Database) -> int:
    """Outbox messages not yet sent."""
    waiting = select(func.count()).where(outbox.c.state.in_(("pending", "sending")))
    return int(await database.scalar(waiting))


#: What each failure's text starts with.
CATEGORIES = ("finished", "lost", "twice", "order", "staff group", "reminders", "stop")


def failed(report: dict[str, Any], category: str) -> list[str]:
    """The report's failures of one category."""
    assert category in CATEGORIES
    return [f for f in report["failures"] if f.startswith(f"{category}:")]


def max_in_window(times: list[float], window: float = 60.0) -> int:
    """The most of `times` within any `window` seconds."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


async def checks(
    run: EscalationRun, cluster: Cluster, complete: bool, group_limit: int = GROUP_LIMIT
) -> dict[str, Any]:
    """The run's figures and the list of what failed (empty: passed)."""
    api, users = run.api, run.user_set
    database = await Database.open(cluster.database, migrate=False)
    try:
        e = enquiries_table.c
        enquiries = await database.all(select(e.ref, e.user_id, e.text).order_by(e.ref))
        stored = await database.all(
            select(messages.c.ref, messages.c.author, messages.c.text).order_by(messages.c.id)
        )
        unsent = await queued(database)
    finally:
        await database.close()
    failures: list[str] = []
    ref_of = {row.user_id: row.ref for row in enquiries}
    per_user = Counter(row.user_id for row in enquiries)
    thread: dict[int, list[tuple[str, str]]] = {}
    for row in stored:
        thread.setdefault(row.ref, []).append((row.author, row.text))

    def sent(chat: int, pattern: re.Pattern[str] | str) -> list[SentMessage]:
        found = [
            m
            for m in api.messages(chat)
            if (pattern.search(m.text) if isinstance(pattern, re.Pattern) else pattern in m.text)
        ]
        return found

    resent: list[str] = []  # copies either side of the SIGKILL

    def once(what: str, copies: list[SentMessage]) -> None:
        if not copies:
            failures.append(f"lost: {what} never sent")
        for before, copy in itertools.pairwise(copies):
            at = api.sent_at[(before.chat_id, before.message_id)]
            then = api.sent_at[(copy.chat_id, copy.message_id)]
            if any(at <= kill <= then for kill in cluster.kill_times):
                resent.append(what)
            else:
                failures.append(f"twice: {what} sent twice")

    for user in sorted(users):
        if per_user[user] == 0:
            failures.append(f"lost: user {user}'s enquiry")
            continue
        if per_user[user] > 1:
            failures.append(f"twice: user {user} has {per_user[user]} enquiries")
        ref = ref_of[user]
        text = next(row.text for row in enquiries if row.ref == ref)
        if text != QUESTION.format(user=user):
            failures.append(f"order: #{ref} opened by {text!r}, not user {user}'s first message")
        follow_up = FOLLOW_UP.format(user=user)
        thread_of = thread.get(ref, [])
        joined = [m for m in thread_of if m == ("user", follow_up)]
        staff = [m for m in thread_of if m == ("staff", ANSWER.format(ref=ref))]
        for what, found in (("follow-up", joined), ("staff reply", staff)):
            if not found:
                failures.append(f"lost: #{ref}'s {what} is not stored")
            elif len(found) > 1:
                failures.append(f"twice: #{ref}'s {what} is stored {len(found)} times")
        acks = sent(user, _FORWARDED)
        joins = sent(user, _JOINED)
        answers = [m for m in api.messages(user) if _ANSWERED.match(m.text)]
        once(f"#{ref}'s acknowledgement", acks)
        once(f"#{ref}'s follow-up acknowledgement", joins)
        once(f"#{ref}'s answer", answers)
        if acks and answers and acks[0].message_id > answers[0].message_id:
            failures.append(f"order: #{ref} answered before it was acknowledged")
        announcements = [
            m
            for m in api.messages(STAFF_CHAT)
            if (a := _ANNOUNCEMENT.match(m.text)) and int(a[1]) == ref
        ]
        again = [
            m
            for m in api.messages(STAFF_CHAT)
            if (w := _WROTE_AGAIN.match(m.text)) and int(w[1]) == ref
        ]
        once(f"#{ref}'s announcement", announcements)
        once(f"#{ref}'s follow-up in the staff group", again)
        if announcements and again and announcements[0].message_id > again[0].message_id:
            failures.append(f"order: #{ref}'s follow-up reached staff before its announcement")
    if unsent:
        failures.append(f"lost: {unsent} outbox messages never sent")
    staff_times = [api.sent_at[(m.chat_id, m.message_id)] for m in api.messages(STAFF_CHAT)]
    busiest = max_in_window(staff_times)
    if busiest > group_limit:
        failures.append(f"staff group: {busiest} messages within 60 s (limit {group_limit})")
    reminders = Counter(
        int(m[1]) for message in api.messages(STAFF_CHAT) if (m := _REMINDER.search(message.text))
    )
    failures += [f"reminders: #{ref} reminded {n} times" for ref, n in reminders.items() if n > 1]
    held = {ref for ref in run.answered if run.plan.hold_every and ref % run.plan.hold_every == 0}
    failures += [f"reminders: #{ref} never reminded" for ref in sorted(held - set(reminders))]
    if any(code != 0 for code in cluster.exit_codes):
        failures.append(f"stop: exit statuses after SIGTERM: {cluster.exit_codes}")
    if TOKEN in cluster.logs():
        failures.append("stop: the token is in a replica's log")
    if not complete:
        failures.insert(0, f"finished: not within {run.plan.deadline_s:.0f} s")
    deliveries = api.deliveries
    killed = cluster.replicas[run.plan.killed].port
    answered_after_restart = sum(
        1
        for port, at in (cluster.proxy.answers if cluster.proxy else [])
        if port == killed and run.restarted_at is not None and at >= run.restarted_at
    )
    return {
        "escalations": len(users),
        "replicas": cluster.count,
        "enquiries": len(enquiries),
        "updates": len({d.update_id for d in deliveries}),
        "webhook_posts": len(deliveries),
        "webhook_failures": Counter(str(d.status or "no answer") for d in deliveries if not d.ok),
        "proxy": {
            "answered": sorted(cluster.proxy.answered.values()) if cluster.proxy else [],
            "refused": sum(cluster.proxy.refused.values()) if cluster.proxy else 0,
            "failed_mid_request": sum(cluster.proxy.failed.values()) if cluster.proxy else 0,
        },
        "staff_group_messages": len(staff_times),
        "staff_group_busiest_minute": busiest,
        "reminders": sum(reminders.values()),
        "resent_across_the_kill": resent,
        "answered_after_restart": answered_after_restart,
        "kills": len(cluster.kill_times),
        "seconds": round(time.monotonic() - run.started, 1),
        "sigterm_exit": cluster.exit_codes,
        "complete": complete,
        "failures": failures,
        "passed": not failures,
    }


def log_path(workdir: Path) -> Path:
    """Where the replicas' logs are gathered after a run."""
    return workdir / "replicas.log"
