"""`make chaos`: the fault run of issue 10 against the bot as a real process.

The bot runs as `python -m bot run` (a process that can be SIGKILLed) against the tests'
fake Bot API server on 127.0.0.1, which fails a share of sendMessage calls the four ways
Telegram and the network do: 500, 429 with retry_after, a stall before delivery, and a
stall after delivery (the message arrives, the bot never hears so; its retry sends a second
copy). Meanwhile:

- distinct users each send a question the knowledge base cannot answer;
- a member of staff replies to the first copy of every announcement, and each user replies
  to the first copy of their acknowledgement (a follow-up);
- the bot is SIGKILLed at random moments and started again;
- where a small tmpfs can be mounted, the database's disk is filled for a minute;
- people act as people do: a user with no answer to a question after a while sends it
  again, and so does a member of staff whose reply was never confirmed, if the database
  shows it did not arrive.

It waits as long as the staff group's 20 messages a minute needs, then stops the bot with
SIGTERM, counts what was lost and what was duplicated, and why (a copy before it stalled
after delivery; the bot was killed between Telegram taking a message and the write that
records it; an update handled again after a kill), runs PRAGMA integrity_check, keeps the
database and the bot's log, and ends with one JSON line. Exit status 0 when nothing was
lost, every duplicate followed a delivery the bot could not know of (the issue's bar: a
stall after delivery, injected or an answer later than the bot's read timeout, or a SIGKILL
while the send was in flight), the database is intact and the token is nowhere in the log.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import itertools
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT
from bot import references, texts

if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
from aiohttp import web
from fakebotapi import JSON, ApiError, FakeBotApi, SentMessage

TOKEN = "424242:CHAOS-token-never-printed"
STAFF_CHAT = -1004242424242
STAFF_USER = 4242
FIRST_USER = 100_000
STALL_S = 6.0  # longer than the bot's 5 s read timeout
FULL_DISK_S = 60.0
PATIENCE_S = 90.0  # how long a person waits for an answer before sending again
QUESTION = "what is the application deadline for lgotp? (asked by user {user})"
_ANNOUNCEMENT = re.compile(r"^#(\d+) new enquiry")
_ANSWER = re.compile(r"^CLAIR staff \(about your enquiry #(\d+)\):\n(answer \d+)$")
_FOLLOW_UP_TEXT = "follow-up from user {user}"
_PART_OF = re.compile(
    "|".join(re.escape(t.button_same_enquiry).replace(r"\{ref\}", r"\d+") for t in texts.ALL)
)


READ_TIMEOUT_S = 5.0  # python-telegram-bot's default read timeout, which the bot keeps
# The messages a request of the fake delivered, for the answer's timing (one list per request).
_DELIVERED: contextvars.ContextVar[list[tuple[int, int]]] = contextvars.ContextVar("delivered")


class FaultyBotApi(FakeBotApi):
    """The fake Bot API, failing `rate` of sendMessage calls in one of four ways.

    It also times every answer: a message delivered by a request whose answer took longer than
    the bot's read timeout, or whose client had gone by then, is one the bot never heard of,
    as after an injected stall (`late`); and it records when its own event loop fell behind
    (`lags`), which is what makes an answer late.
    """

    def __init__(self, rng: random.Random, rate: float, **options: Any) -> None:
        super().__init__(**options)
        self.rng = rng
        self.rate = rate
        self.faults: Counter[str] = Counter()
        self.stalled: set[tuple[int, int]] = set()  # delivered copies whose answer stalled
        self.late: dict[tuple[int, int], float] = {}  # delivered, answered after the timeout
        self.answered_in: dict[tuple[int, int], float] = {}  # every delivery's answer time
        self.lags: list[tuple[float, float]] = []  # (wall clock, seconds) the loop fell behind

    async def _handle(self, request: web.Request) -> web.Response:
        began = time.monotonic()
        delivered: list[tuple[int, int]] = []
        context = _DELIVERED.set(delivered)
        try:
            return await super()._handle(request)
        finally:
            _DELIVERED.reset(context)
            took = time.monotonic() - began
            gone = request.transport is None or request.transport.is_closing()
            for key in delivered:
                self.answered_in[key] = took
                if key not in self.stalled and (gone or took >= READ_TIMEOUT_S):
                    self.late[key] = took

    async def _deliver(self, params: JSON) -> JSON:
        result = await super()._api_sendMessage(params)
        with contextlib.suppress(LookupError):
            _DELIVERED.get().append((int(result["chat"]["id"]), int(result["message_id"])))
        return result

    async def _api_sendMessage(self, params: JSON) -> JSON:
        if self.rng.random() >= self.rate:
            return await self._deliver(params)
        kind = self.rng.choice(("500", "429", "stall before", "stall after"))
        self.faults[kind] += 1
        if kind == "500":
            raise ApiError(500, "Internal Server Error")
        if kind == "429":
            raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
        if kind == "stall before":
            await asyncio.sleep(STALL_S)  # the bot gives up first; nothing is delivered
            raise ApiError(500, "Internal Server Error")
        result = await self._deliver(params)
        self.stalled.add((int(result["chat"]["id"]), int(result["message_id"])))
        await asyncio.sleep(STALL_S)  # delivered; the bot times out before it hears so
        return result

    async def watch_the_loop(self, every: float = 0.25) -> None:
        """Record each time this event loop woke more than a second late."""
        while True:
            began = time.monotonic()
            await asyncio.sleep(every)
            lag = time.monotonic() - began - every
            if lag > 1.0:
                self.lags.append((time.time(), lag))


@dataclass
class Disk:
    """Where the database lives: a small tmpfs that can be filled, or a plain folder."""

    path: Path
    mounted: bool
    why_not: str = ""
    filler: Path | None = None

    @classmethod
    def make(cls, base: Path) -> Disk:
        folder = base / "disk"
        folder.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(folder)]
        try:
            subprocess.run(mount, check=True, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            return cls(folder, False, detail.strip().splitlines()[-1] if detail else str(exc))
        return cls(folder, True)

    def fill(self) -> None:
        self.filler = self.path / "filler"
        with contextlib.suppress(OSError), self.filler.open("wb") as out:
            while True:
                out.write(b"\0" * (1 << 20))
                out.flush()

    def free(self) -> None:
        if self.filler is not None:
            self.filler.unlink(missing_ok=True)
            self.filler = None

    def release(self) -> None:
        self.free()
        if self.mounted:
            subprocess.run(["umount", str(self.path)], check=False, timeout=30)


@dataclass
class Person:
    """A user of the run and what they have done and seen."""

    user: int
    asked_at: float = 0.0
    asks: int = 0
    ref: int | None = None
    followed_up_at: float = 0.0
    follow_ups: int = 0
    told_to_retry: int = 0


@dataclass
class Run:
    """The bot process, the fake server, the people, and the figures."""

    args: argparse.Namespace
    api: FaultyBotApi
    disk: Disk
    log_path: Path
    rng: random.Random
    people: dict[int, Person] = field(default_factory=dict)
    replied: dict[int, float] = field(default_factory=dict)  # enquiry -> staff reply sent at
    staff_replies: Counter[int] = field(default_factory=Counter)
    process: subprocess.Popen[bytes] | None = None
    kills: list[float] = field(default_factory=list)  # seconds into the run
    kill_times: list[float] = field(default_factory=list)  # wall clock, as Telegram dates
    starts: int = 0
    failed_starts: int = 0
    seen: int = 0  # messages of the fake already looked at
    started_at: float = field(default_factory=time.monotonic)

    @property
    def database(self) -> Path:
        return self.disk.path / "clair-bot.sqlite3"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIRBOT_")}
        return env | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "CLAIRBOT_TELEGRAM_BASE_URL": self.api.base_url,
            "CLAIRBOT_TELEGRAM_BASE_FILE_URL": self.api.base_file_url,
            "CLAIRBOT_TELEGRAM_POLL_TIMEOUT": "1",
            "CLAIRBOT_STORAGE_PATH": str(self.database),
            "CLAIRBOT_KNOWLEDGE_PATH": str(ROOT / "tests" / "fixtures" / "knowledge"),
            "CLAIRBOT_STAFF_CHAT_ID": str(STAFF_CHAT),
            "CLAIRBOT_STAFF_USER_IDS": str(STAFF_USER),
            "CLAIRBOT_STAFF_LANGUAGE": "en",  # the announcements _ANNOUNCEMENT reads
            "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "1000",
            "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "1000",
            "CLAIRBOT_CONSOLE_PORT": "0",  # beside other bots and tests on this machine
        }

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def keep_running(self) -> None:
        """Start the bot again whenever it is not running (after a kill, a failed start)."""
        while True:
            if self.process is None or self.process.poll() is not None:
                if self.process is not None and self.process.returncode not in (0, -9):
                    self.failed_starts += 1
                self.start()
            await asyncio.sleep(1.0)

    def kill(self) -> bool:
        """SIGKILL the bot if it runs (not while it is being started again)."""
        if self.process is None or self.process.poll() is not None:
            return False
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills.append(time.monotonic() - self.started_at)
        self.kill_times.append(time.time())
        return True

    async def stop(self) -> int | None:
        """SIGTERM, and the time it takes; the wait is in a thread, so the fake Bot API keeps
        answering the bot while it finishes."""
        if self.process is None or self.process.poll() is not None:
            return None
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.process.wait, 30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        print(f"SIGTERM: exited in {time.monotonic() - began:.1f} s", flush=True)
        return self.process.returncode

    # -- reading the database (read-only, as any other reader) --------------------------------
    async def aquery(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """`query` in a thread, for use while the bot runs: the fake Bot API shares this
        event loop, and a read waiting on SQLite's lock (up to 5 s, as while the bot
        recovers the WAL after a kill) would hold up its answers until the bot's 5 s read
        timeout took a delivered message for a stall and sent it again."""
        return await asyncio.to_thread(self.query, sql, params)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if not self.database.exists():
            return []
        try:
            with contextlib.closing(
                sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)
            ) as db:
                return list(db.execute(sql, params))
        except sqlite3.Error:
            return []


async def people_act(run: Run) -> None:
    """Everyone reacts to what the bot sent them since the last look, like people would."""
    api = run.api
    while True:
        sent = api._sent[run.seen :]
        run.seen += len(sent)
        now = time.monotonic()
        for message in sent:
            react(run, message, now)
        await retry_the_unanswered(run, now)
        await asyncio.sleep(0.2)


def react(run: Run, message: SentMessage, now: float) -> None:
    api = run.api
    if message.chat_id == STAFF_CHAT:
        match = _ANNOUNCEMENT.match(message.text)
        if match and int(match[1]) not in run.replied:  # the first copy of each
            ref = int(match[1])
            run.replied[ref] = now
            run.staff_replies[ref] += 1
            api.send_message(f"answer {ref}", user=STAFF_USER, chat=STAFF_CHAT, reply_to=message)
        return
    person = run.people.get(message.chat_id)
    if person is None:
        return
    part_of = [value for text, value in message.buttons() if _PART_OF.fullmatch(text)]
    if part_of:  # "New question / Part of #N": it is part of their enquiry
        api.press(message, part_of[0], user=person.user)
        return
    if message.text in (texts.EN.cannot_forward, texts.JA.cannot_forward):
        person.told_to_retry += 1
        person.asked_at = now - PATIENCE_S + 20  # "try again in a few minutes"
        return
    ack = references.in_user_message(message.text)
    if ack is not None and person.ref is None and not _ANSWER.match(message.text):
        person.ref = ack  # the first copy of the acknowledgement
        person.followed_up_at = now
        person.follow_ups += 1
        text = _FOLLOW_UP_TEXT.format(user=person.user)
        api.send_message(text, user=person.user, reply_to=message)


async def retry_the_unanswered(run: Run, now: float) -> None:
    """A user whose question is not stored after a while sends it again; a member of staff
    whose reply is not stored sends it again; a user whose follow-up is not stored too."""
    stored_users = {row[0] for row in await run.aquery("SELECT DISTINCT user_id FROM enquiries")}
    staff_done = {
        row[0] for row in await run.aquery("SELECT ref FROM messages WHERE author='staff'")
    }
    follow_ups = {
        row[0] for row in await run.aquery("SELECT text FROM messages WHERE author='user'")
    }
    for person in run.people.values():
        if person.asks and person.user not in stored_users and now - person.asked_at > PATIENCE_S:
            send_question(run, person, now)
        if person.ref is not None and now - person.followed_up_at > PATIENCE_S:
            text = _FOLLOW_UP_TEXT.format(user=person.user)
            if text not in follow_ups:
                person.followed_up_at = now
                person.follow_ups += 1
                run.api.send_message(text, user=person.user)  # not a reply: it joins anyway
    for ref, at in list(run.replied.items()):
        if ref not in staff_done and now - at > PATIENCE_S:
            run.replied[ref] = now
            run.staff_replies[ref] += 1
            run.api.send_message(f"/reply {ref} answer {ref}", user=STAFF_USER, chat=STAFF_CHAT)


def send_question(run: Run, person: Person, now: float) -> None:
    person.asks += 1
    person.asked_at = now
    run.api.send_message(QUESTION.format(user=person.user), user=person.user)


async def finished(run: Run) -> bool:
    """Every user's enquiry stored, answered and the answer delivered; every follow-up
    stored and in the staff chat; nothing left in the outbox."""
    if len(run.people) < run.args.escalations:
        return False
    refs = dict(await run.aquery("SELECT user_id, MIN(ref) FROM enquiries GROUP BY user_id"))
    if len(refs) < run.args.escalations:
        return False
    undelivered = await run.aquery(
        "SELECT COUNT(*) FROM outbox WHERE state IN ('pending','sending')"
    )
    if not undelivered or undelivered[0][0]:
        return False
    got = answers_received(run)
    if any((ref, f"answer {ref}") not in got for ref in refs.values()):
        return False
    staff_text = "\n".join(m.text for m in run.api.messages(STAFF_CHAT))
    return all(
        _FOLLOW_UP_TEXT.format(user=user) in staff_text
        for user, person in run.people.items()
        if person.ref is not None
    )


def answers_received(run: Run) -> Counter[tuple[int, str]]:
    got: Counter[tuple[int, str]] = Counter()
    for message in run.api._sent:
        if message.chat_id in run.people and (match := _ANSWER.match(message.text)):
            got[(int(match[1]), match[2])] += 1
    return got


async def chaos(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="clair-bot-chaos-"))
    disk = Disk.make(base)
    if disk.mounted:
        print(f"database on a 32 MB tmpfs at {disk.path}; it is filled for a minute midway")
    else:
        print(f"full disk: skipped (cannot mount a tmpfs here: {disk.why_not})")
    api = FaultyBotApi(rng, args.fault_rate, token=TOKEN, max_poll_timeout=1.0)
    api.group(STAFF_CHAT, "CLAIR staff")
    api.user(STAFF_USER, "Kenji", username="kenji")
    run = Run(args, api, disk, base / "bot.log", rng)
    tasks: list[asyncio.Task[None]] = []
    try:
        async with api:
            tasks.append(asyncio.create_task(run.keep_running()))
            tasks.append(asyncio.create_task(people_act(run)))
            tasks.append(asyncio.create_task(api.watch_the_loop()))
            # Escalations arrive over the first part of the run; kills and the full disk
            # fall at random moments within it.
            spread = args.escalations * args.gap
            kill_at = sorted(rng.uniform(5, spread + 60) for _ in range(args.kills))
            disk_at = rng.uniform(spread * 0.3, spread * 0.6) if disk.mounted else None
            tasks.append(asyncio.create_task(kills(run, kill_at)))
            if disk_at is not None:
                tasks.append(asyncio.create_task(full_disk(run, disk_at)))
            for n in range(args.escalations):
                user = FIRST_USER + n
                api.user(user, f"User {n}", language_code=rng.choice(("en", "ja", None)))
                run.people[user] = person = Person(user)
                send_question(run, person, time.monotonic())
                await asyncio.sleep(args.gap)
            deadline = time.monotonic() + args.deadline
            last_report = 0.0
            while not await finished(run) and time.monotonic() < deadline:
                if time.monotonic() - last_report > 60:
                    last_report = time.monotonic()
                    await progress_line(run)
                await asyncio.sleep(2)
            complete = await finished(run)
            for task in tasks[2:]:
                task.cancel()
            tasks[0].cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tasks[0]
            exit_code = await run.stop()
            tasks[1].cancel()
            result = report(run, complete, exit_code)
            keep(run, base)
            return result
    finally:
        for task in tasks:
            task.cancel()
        if run.process is not None and run.process.poll() is None:
            run.process.kill()
        disk.release()


def keep(run: Run, base: Path) -> None:
    """Copy the database off the tmpfs (which goes), beside the bot's log."""
    if run.database.exists():
        with (
            contextlib.closing(sqlite3.connect(run.database)) as source,
            contextlib.closing(sqlite3.connect(base / run.database.name)) as copy,
        ):
            source.backup(copy)
    print(f"the database and the bot's log are kept in {base}", flush=True)


async def kills(run: Run, moments: list[float]) -> None:
    for moment in moments:
        await asyncio.sleep(max(0.0, moment - (time.monotonic() - run.started_at)))
        while not run.kill():  # noqa: ASYNC110 - a poll of another process: it may be restarting
            await asyncio.sleep(1)
        print(f"SIGKILL at {time.monotonic() - run.started_at:.0f} s", flush=True)


async def full_disk(run: Run, moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - (time.monotonic() - run.started_at)))
    print(f"disk full at {moment:.0f} s, for {FULL_DISK_S:.0f} s", flush=True)
    run.disk.fill()
    try:
        await asyncio.sleep(FULL_DISK_S)
    finally:
        run.disk.free()
        print("disk free again", flush=True)


async def progress_line(run: Run) -> None:
    stored = await run.aquery("SELECT COUNT(*) FROM enquiries")
    queued = await run.aquery("SELECT COUNT(*) FROM outbox WHERE state IN ('pending','sending')")
    elapsed = time.monotonic() - run.started_at
    print(
        f"{elapsed / 60:.1f} min: {stored[0][0] if stored else 0} enquiries stored, "
        f"{queued[0][0] if queued else '?'} outbox messages queued, "
        f"{len(run.api.messages(STAFF_CHAT))} staff-chat messages",
        flush=True,
    )


CAUSES = (
    "stall after delivery",
    "answer late after delivery",
    "kill before the write",
    "update handled twice",
    "unknown",
)
# The bot cannot know that Telegram has a message it never heard back about: a stall, an
# answer too late, or a SIGKILL while the send was in flight leave it the same choice,
# "better twice than never".
ALLOWED = CAUSES[:3]


def duplicates(
    run: Run,
    copies: dict[Any, list[SentMessage]],
    stored: Counter[Any] | None = None,
    unexplained: list[dict[str, Any]] | None = None,
) -> Counter[str]:
    """Extra copies by cause: the copy before stalled after delivery (injected), or was
    delivered but answered after the bot's read timeout (the fake fell behind: the same thing
    to the bot); the bot was killed between the copy before and this one (Telegram had it, the
    write had not happened); the database holds the message as many times (an update handled
    again after a kill); or none of these, each described in `unexplained`."""
    causes: Counter[str] = Counter()
    api = run.api
    for key, messages in copies.items():
        ordered = sorted(messages, key=lambda m: m.message_id)
        for number, (before, copy) in enumerate(itertools.pairwise(ordered), start=2):
            was = (before.chat_id, before.message_id)
            if stored is not None and stored[key] >= number:
                causes["update handled twice"] += 1
            elif was in api.stalled:
                causes["stall after delivery"] += 1
            elif was in api.late:
                causes["answer late after delivery"] += 1
            elif any(
                before.payload["date"] - 1 <= moment <= copy.payload["date"] + 1
                for moment in run.kill_times
            ):
                causes["kill before the write"] += 1
            else:
                causes["unknown"] += 1
                if unexplained is not None:
                    unexplained.append(_describe(run, key, before, copy))
    return causes


def _describe(run: Run, key: Any, before: SentMessage, copy: SentMessage) -> dict[str, Any]:
    """What the run knows about a duplicate it cannot explain, for reading beside the log."""
    first, second = before.payload["date"], copy.payload["date"]
    return {
        "key": str(key),
        "chat": before.chat_id,
        "message_ids": [before.message_id, copy.message_id],
        "dates": [time.strftime("%H:%M:%S", time.gmtime(d)) for d in (first, second)],
        "first_answered_in_s": round(
            run.api.answered_in.get((before.chat_id, before.message_id), -1), 2
        ),
        "outbox_rows": [  # the bot's own record of sending that text to that chat
            dict(
                zip(
                    ("id", "state", "attempts", "last_error", "telegram_message_id"),
                    row,
                    strict=True,
                )
            )
            for row in run.query(
                "SELECT id, state, attempts, last_error, telegram_message_id FROM outbox"
                " WHERE chat_id = ? AND text = ?",
                (before.chat_id, before.raw_text),
            )
        ],
        "loop_lags_between": [
            round(lag, 1) for at, lag in run.api.lags if first - 10 <= at <= second + 1
        ],
    }


def report(run: Run, complete: bool, exit_code: int | None) -> dict[str, Any]:
    api = run.api
    refs = dict(run.query("SELECT user_id, ref FROM enquiries ORDER BY ref DESC"))
    per_user = Counter(row[0] for row in run.query("SELECT user_id FROM enquiries"))
    announcements: dict[int, list[SentMessage]] = {}
    follow_ups: dict[int, list[SentMessage]] = {}
    for message in api.messages(STAFF_CHAT):
        if match := _ANNOUNCEMENT.match(message.text):
            announcements.setdefault(int(match[1]), []).append(message)
        for user in re.findall(r"follow-up from user (\d+)", message.text):
            follow_ups.setdefault(int(user), []).append(message)
    answers: dict[tuple[int, int], list[SentMessage]] = {}
    for message in api._sent:
        if message.chat_id in run.people and (match := _ANSWER.match(message.text)):
            answers.setdefault((message.chat_id, int(match[1])), []).append(message)
    all_refs = {row[0] for row in run.query("SELECT ref FROM enquiries")}
    staff_stored = {row[0] for row in run.query("SELECT ref FROM messages WHERE author='staff'")}
    user_texts = {row[0] for row in run.query("SELECT text FROM messages WHERE author='user'")}
    lost = {
        "escalations": sum(1 for user in run.people if user not in refs),
        "announcements": sum(1 for ref in all_refs if ref not in announcements),
        "staff_replies": sum(1 for ref in staff_stored if not any(r == ref for (_, r) in answers)),
        "follow_ups": sum(
            1
            for user in run.people
            if _FOLLOW_UP_TEXT.format(user=user) in user_texts and user not in follow_ups
        ),
    }
    staff_replies = Counter(
        (row[0], row[1])
        for row in run.query(
            "SELECT e.chat_id, e.ref FROM messages m JOIN enquiries e ON e.ref = m.ref"
            " WHERE m.author = 'staff'"
        )
    )
    unexplained: list[dict[str, Any]] = []
    dup_announce = duplicates(run, announcements, unexplained=unexplained)
    dup_answers = duplicates(run, answers, staff_replies, unexplained)
    dup_follow = duplicates(run, follow_ups, unexplained=unexplained)
    dup_all = dup_announce + dup_answers + dup_follow
    integrity = run.query("PRAGMA integrity_check")
    people = run.people.values()
    result = {
        "escalations": len(run.people),
        "enquiries": len(all_refs),
        "users_with_two_enquiries": sum(1 for n in per_user.values() if n > 1),
        "kills": len(run.kills),
        "restarts": run.starts - 1,
        "failed_starts": run.failed_starts,
        "full_disk": run.disk.mounted,
        "told_to_try_again": sum(p.told_to_retry for p in people),
        "questions_sent_again": sum(max(0, p.asks - 1) for p in people),
        "staff_replies_sent_again": sum(max(0, n - 1) for n in run.staff_replies.values()),
        "faults": dict(api.faults),
        "send_calls": len(api.calls_to("sendMessage")),
        "lost": lost,
        "duplicates_allowed": sum(dup_all[cause] for cause in ALLOWED),
        "duplicates_other": sum(n for cause, n in dup_all.items() if cause not in ALLOWED),
        "duplicates": {
            "announcements": {c: dup_announce[c] for c in CAUSES},
            "answers": {c: dup_answers[c] for c in CAUSES},
            "follow_ups": {c: dup_follow[c] for c in CAUSES},
        },
        "unexplained": unexplained,
        "answers_late": len(api.late),
        "loop_lags_over_1s": len(api.lags),
        "longest_loop_lag_s": round(max((lag for _, lag in api.lags), default=0.0), 1),
        "integrity_check": integrity[0][0] if integrity else "no database",
        "sigterm_exit": exit_code,
        "complete": complete,
        "minutes": round((time.monotonic() - run.started_at) / 60, 1),
    }
    result["passed"] = bool(
        complete
        and not any(lost.values())
        and result["duplicates_other"] == 0
        and result["integrity_check"] == "ok"
    )
    token_leaks = TOKEN in run.log_path.read_text(errors="replace")
    result["token_in_log"] = token_leaks
    result["passed"] = result["passed"] and not token_leaks
    return result


async def interruptible(run: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """`run`, cancelled (so that it stops the bot and unmounts its disk) on SIGTERM or
    SIGINT, even where a shell started it in the background with SIGINT ignored."""
    task = asyncio.ensure_future(run)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    return await task


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.chaos", description=__doc__)
    parser.add_argument("--escalations", type=int, default=300, help="distinct users (300)")
    parser.add_argument("--kills", type=int, default=5, help="SIGKILLs at random moments (5)")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="failing sends (0.3)")
    parser.add_argument("--gap", type=float, default=1.0, help="seconds between users (1)")
    parser.add_argument("--seed", type=int, default=10, help="random seed (10)")
    parser.add_argument(
        "--deadline", type=float, default=3 * 3600, help="seconds to wait for the end (3 h)"
    )
    args = parser.parse_args()
    try:
        result = asyncio.run(interruptible(chaos(args)))
    except asyncio.CancelledError:
        print("interrupted: the bot was stopped and the disk unmounted", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
