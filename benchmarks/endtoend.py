"""End to end: the real Application long-polling a Bot API server on 127.0.0.1.

`handlers.app.build_application` is started by hand the way the end-to-end tests do it
(tests/conftest.py `running_bot`): post_init, start, ``start_polling(poll_interval=0,
timeout=1)``, then stop and post_shutdown. The Bot API server is the tests' fake
(tests/fakebotapi.py), in the same process and event loop as the bot, so its own work
(HTTP, HTML validation) is part of what is measured.

N users each ask in a closed loop: send a question, wait for the bot's answer to reach the
server, send the next. The latency of a message runs from queueing the update on the server
(where the bot's long poll picks it up) to the server storing the bot's sendMessage. Each
level runs for a fixed time or a fixed number of messages, whichever ends first.

The bot is built as it ships, with Telegram's limits (telegram.max_messages_per_second 30,
group_messages_per_minute 20), and again with both set to 0 (off), to show what the bot
itself can do. Escalations: distinct users each send one question the knowledge base does
not answer; each is stored and acknowledged, and the stored enquiries are counted afterwards.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

from benchmarks.common import ROOT, Context, SectionResult, ms, percentile, progress
from bot import texts
from bot.config import TOKEN_VARIABLE, Settings, load_settings
from bot.decision import Action
from bot.evaluation import ESCALATE, SMALLTALK, EvalItem
from bot.knowledge import load_knowledge
from bot.matcher import Matcher
from handlers.app import ClairApplication, build_application, polling
from handlers.views import escaped_parts

# The tests import the fake as a top-level module (pytest puts tests/ on sys.path, mypy's
# mypy_path does the same); so does the benchmark.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))
from fakebotapi import JSON, FakeBotApi

TOKEN = "123456:BENCH-token"
FIRST_USER = 200_000
FIRST_ESCALATING_USER = 900_000
ESCALATION_TASKS = 10
# Far above any wait the rate limiter imposes at 100 users (100 / 30 per second).
REPLY_TIMEOUT = 30.0
# The headline level, quoted in the JSON's top-level keys and the targets.
HEADLINE_USERS = 10
# Added to every Bot API call in the third build, as on the way to api.telegram.org.
NETWORK_DELAY_S = 0.05


@dataclass(frozen=True)
class Build:
    """How the bot is built and reached: with or without its rate limiter, network delay."""

    name: str
    key: str  # in the JSON
    rate_limited: bool
    delay_s: float = 0.0
    escalations: bool = True


SHIPPED = Build("as shipped (AIORateLimiter)", "as_shipped", rate_limited=True)
UNLIMITED = Build("rate limiter off", "rate_limiter_off", rate_limited=False)
DELAYED = Build(
    f"rate limiter off, +{NETWORK_DELAY_S * 1000:g} ms a call",
    "rate_limiter_off_delayed",
    rate_limited=False,
    delay_s=NETWORK_DELAY_S,
    escalations=False,
)
BUILDS = (SHIPPED, UNLIMITED, DELAYED)


class TimedBotApi(FakeBotApi):
    """The fake server, also noting when each bot message arrives, in a queue per chat.

    Waiting on a queue per chat instead of `next_message` keeps the benchmark's own cost
    flat: `next_message` rescans every message sent so far on each server event, which at
    100 waiting users would cost more than the bot being measured.
    """

    def __init__(self, delay_s: float = 0.0, token: str = TOKEN, **options: Any) -> None:
        super().__init__(token=token, max_poll_timeout=1.0, **options)
        self.delay_s = delay_s
        self.arrivals: dict[int, asyncio.Queue[tuple[int, str]]] = {}

    async def _apply_fault(self, method: str, params: JSON) -> None:
        if self.delay_s:  # every call reaches the server `delay_s` late, as over a network
            await asyncio.sleep(self.delay_s)
        await super()._apply_fault(method, params)

    def _send(self, params: JSON, content: JSON, entities: list[JSON], **extra: Any) -> JSON:
        payload = super()._send(params, content, entities, **extra)
        arrived = time.perf_counter_ns()
        chat_id = payload["chat"]["id"]
        self.arrivals.setdefault(chat_id, asyncio.Queue()).put_nowait(
            (arrived, str(payload.get("text", "")))
        )
        return payload

    async def reply(self, chat_id: int) -> tuple[int, str]:
        """The next bot message to `chat_id`: when it arrived (perf_counter_ns), its text."""
        queue = self.arrivals.setdefault(chat_id, asyncio.Queue())
        async with asyncio.timeout(REPLY_TIMEOUT):
            return await queue.get()


class ProblemLog(logging.Handler):
    """Counts warnings and errors logged by the bot and the library during a run."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def summary(self) -> list[str]:
        """Distinct problems, each with how often it was logged (first 3)."""
        counts: dict[str, int] = {}
        for record in self.records:
            key = f"{record.name}: {record.getMessage()[:120]}"
            counts[key] = counts.get(key, 0) + 1
        return [f"{n}x {key}" for key, n in list(counts.items())[:3]]


@dataclass
class Run:
    """One level: how many answers, how long, each answer's latency, what went wrong."""

    users: int
    latencies: list[int] = field(default_factory=list)
    seconds: float = 0.0
    lost: int = 0
    failed_calls: int = 0
    problems: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        answered = len(self.latencies)
        return {
            "users": self.users,
            "answered": answered,
            "seconds": round(self.seconds, 2),
            "per_s": round(answered / self.seconds, 1) if self.seconds else None,
            "p50_ms": ms(percentile(self.latencies, 50)),
            "p99_ms": ms(percentile(self.latencies, 99)),
            "max_ms": ms(max(self.latencies, default=0)),
            "lost": self.lost,
            "failed_api_calls": self.failed_calls,
            "log_problems": len(self.problems),
        }


def _settings(api: FakeBotApi, context: Context, name: str, rate_limited: bool) -> Settings:
    environ = {
        "CLAIRBOT_KNOWLEDGE_PATH": str(context.shipped),
        "CLAIRBOT_TELEGRAM_BASE_URL": api.base_url,
        "CLAIRBOT_TELEGRAM_BASE_FILE_URL": api.base_file_url,
        "CLAIRBOT_TELEGRAM_POLL_TIMEOUT": "1",
        "CLAIRBOT_STORAGE_PATH": str(context.workdir / "e2e" / f"{name}.sqlite3"),
        # The per-user flood limits would otherwise throttle the benchmark's users.
        "CLAIRBOT_LIMITS_MESSAGES_PER_MINUTE": "1000000",
        "CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY": "1000000",
    }
    if not rate_limited:  # Telegram's limits off, as for a self-hosted Bot API server
        environ["CLAIRBOT_TELEGRAM_MAX_MESSAGES_PER_SECOND"] = "0"
        environ["CLAIRBOT_TELEGRAM_GROUP_MESSAGES_PER_MINUTE"] = "0"
    return load_settings(environ=environ)


@contextmanager
def _token() -> Iterator[None]:
    previous = os.environ.get(TOKEN_VARIABLE)
    os.environ[TOKEN_VARIABLE] = TOKEN
    try:
        yield
    finally:
        if previous is None:
            del os.environ[TOKEN_VARIABLE]
        else:
            os.environ[TOKEN_VARIABLE] = previous


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[ClairApplication]:
    """`build_application(settings)` long-polling, as tests/conftest.py `running_bot` runs it."""
    with _token():
        application = build_application(settings)
    async with polling(application):
        yield application


def answerable_questions(context: Context, settings: Settings) -> list[str]:
    """Evaluation-set questions the shipped bot answers, each in one message.

    Clarifications and answers split over several messages are left out, so that one
    question is one reply and the closed loop stays in step.
    """
    matcher = Matcher(load_knowledge(context.shipped), settings.matcher)
    picked = []
    for item in context.eval_sets["en"]:
        if item.expect in (ESCALATE, SMALLTALK):
            continue
        decision = matcher.decide(item.question)
        if decision.action is Action.ANSWER and len(escaped_parts(decision.answer)) == 1:
            picked.append(item.question)
    return picked


def escalating_questions(context: Context, settings: Settings) -> list[str]:
    """Evaluation-set questions labelled `escalate` that the shipped matcher escalates."""
    matcher = Matcher(load_knowledge(context.shipped), settings.matcher)
    items: list[EvalItem] = context.eval_sets["en"]
    return [
        item.question
        for item in items
        if item.expect == ESCALATE and matcher.decide(item.question).action is Action.ESCALATE
    ]


async def _ask(api: TimedBotApi, user_id: int, text: str) -> tuple[int, str]:
    """Send `text` as `user_id`; the time until the reply reached the server, and its text."""
    start = time.perf_counter_ns()
    api.send_message(text, user=user_id)
    arrived, reply = await api.reply(user_id)
    return arrived - start, reply


async def measure_level(context: Context, users: int, build: Build, questions: list[str]) -> Run:
    """`users` users asking in a closed loop until the time or message budget runs out."""
    log = ProblemLog()
    logging.getLogger().addHandler(log)
    name = f"{build.key}-{users}"
    try:
        async with TimedBotApi(build.delay_s) as api:
            settings = _settings(api, context, name, build.rate_limited)
            async with running_bot(settings):
                run = await closed_loop(api, context, users, questions)
            run.failed_calls = sum(1 for call in api.calls if call.status != 200)  # all along
    finally:
        logging.getLogger().removeHandler(log)
    run.problems = log.summary()
    return run


async def closed_loop(
    api: TimedBotApi, context: Context, users: int, questions: list[str], first_user: int = 0
) -> Run:
    """`users` users (ids from `first_user`, else FIRST_USER) asking the running bot in a
    closed loop until the time or message budget runs out, after one untimed question each.
    Also what the replica benchmark (benchmarks/replicas.py) drives its replicas with."""
    options = context.options
    run = Run(users)
    calls_before = len(api.calls)
    ids = [(first_user or FIRST_USER) + n for n in range(users)]
    for user_id in ids:
        api.user(user_id, f"Bench {user_id}", username=f"bench{user_id}")
    # Warm-up: one untimed question per user (first-message costs, lazy imports).
    async with asyncio.TaskGroup() as group:
        for n, user_id in enumerate(ids):
            group.create_task(_ask(api, user_id, questions[n % len(questions)]))
    budget = itertools.count()
    deadline = time.perf_counter() + options.e2e_seconds

    async def user(user_id: int, first: int) -> None:
        turn = first
        while time.perf_counter() < deadline and next(budget) < options.e2e_messages:
            try:
                latency, _ = await _ask(api, user_id, questions[turn % len(questions)])
            except TimeoutError:
                run.lost += 1
                return  # its replies may now be out of step: stop this user
            run.latencies.append(latency)
            turn += 1

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for n, user_id in enumerate(ids):
            group.create_task(user(user_id, n * 7))
    run.seconds = time.perf_counter() - started
    run.failed_calls = sum(1 for call in api.calls[calls_before:] if call.status != 200)
    return run


async def measure_escalations(
    context: Context, build: Build, questions: list[str]
) -> dict[str, Any]:
    """Distinct users each send one unanswerable question; each must be stored and acknowledged.

    One question per user: a user's second unanswerable message would join their open
    enquiry instead of opening one.
    """
    options = context.options
    count = options.e2e_escalations
    latencies: list[int] = []
    acknowledged = lost = 0
    acknowledgement = texts.get("en").escalated.split("{ref}")[0]
    log = ProblemLog()
    logging.getLogger().addHandler(log)
    name = f"{build.key}-escalations"
    try:
        async with TimedBotApi(build.delay_s) as api:
            settings = _settings(api, context, name, build.rate_limited)
            numbers = itertools.count()
            deadline = time.perf_counter() + options.e2e_seconds

            async def worker() -> None:
                nonlocal acknowledged, lost
                while time.perf_counter() < deadline and (number := next(numbers)) < count:
                    user_id = FIRST_ESCALATING_USER + number
                    api.user(user_id, f"Asker {number}", username=f"asker{number}")
                    try:
                        latency, text = await _ask(
                            api, user_id, questions[number % len(questions)]
                        )
                    except TimeoutError:
                        lost += 1
                        continue
                    latencies.append(latency)
                    acknowledged += text.startswith(acknowledgement)

            async with running_bot(settings):
                started = time.perf_counter()
                async with asyncio.TaskGroup() as group:
                    for _ in range(ESCALATION_TASKS):
                        group.create_task(worker())
                elapsed = time.perf_counter() - started
            failed = sum(1 for call in api.calls if call.status != 200)
    finally:
        logging.getLogger().removeHandler(log)
    with sqlite3.connect(settings.storage.url) as db:
        stored = int(db.execute("SELECT count(*) FROM enquiries").fetchone()[0])
    sent = len(latencies) + lost
    return {
        "users": sent,
        "concurrent": ESCALATION_TASKS,
        "stored": stored,
        "acknowledged": acknowledged,
        "lost": lost,
        "seconds": round(elapsed, 2),
        "per_s": round(min(stored, acknowledged) / elapsed, 1) if elapsed else None,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "failed_api_calls": failed,
        "log_problems": len(log.records),
        "problems": log.summary(),
    }


async def _measure_all(context: Context) -> dict[str, Any]:
    probe = load_settings(environ={})
    questions = answerable_questions(context, probe)
    unanswerable = escalating_questions(context, probe)
    builds: dict[str, dict[str, Any]] = {}
    problems: dict[str, list[str]] = {}
    for build in BUILDS:
        levels: dict[str, Any] = {}
        for users in context.options.e2e_users:
            progress(f"end to end, {build.name}: {users} concurrent user(s)")
            run = await measure_level(context, users, build, questions)
            levels[str(users)] = run.figures()
            for problem in run.problems:
                problems.setdefault(f"{build.name}, {users} users", []).append(problem)
        if build.escalations:
            count = context.options.e2e_escalations
            progress(f"end to end, {build.name}: {count:,} escalations")
            levels["escalations"] = await measure_escalations(context, build, unanswerable)
        builds[build.key] = levels
    return {
        "questions": len(questions),
        "unanswerable": len(unanswerable),
        "builds": builds,
        "problems": problems,
    }


def level_row(build: Build, f: dict[str, Any]) -> tuple[str, ...]:
    return (
        build.name,
        str(f["users"]),
        f"{f['answered']:,}",
        f"{f['seconds']:.1f}",
        f"{f['per_s']:,.0f}",
        f"{f['p50_ms']:.1f}",
        f"{f['p99_ms']:.1f}",
        f"{f['max_ms']:.1f}",
        f"{f['lost']}/{f['failed_api_calls']}/{f['log_problems']}",
    )


def _escalation_row(build: Build, e: dict[str, Any]) -> tuple[str, ...]:
    return (
        build.name,
        f"{e['users']:,}",
        str(e["concurrent"]),
        f"{e['stored']:,}",
        f"{e['acknowledged']:,}",
        f"{e['seconds']:.1f}",
        f"{e['per_s']:,.0f}",
        f"{e['p50_ms']:.1f}",
        f"{e['p99_ms']:.1f}",
        f"{e['lost']}/{e['failed_api_calls']}/{e['log_problems']}",
    )


def run(context: Context) -> SectionResult:
    """Answers per second and latency at each number of users, and escalations per second."""
    (context.workdir / "e2e").mkdir(exist_ok=True)
    measured = asyncio.run(_measure_all(context))
    builds: dict[str, dict[str, Any]] = measured["builds"]
    options = context.options
    rows = [
        level_row(build, builds[build.key][str(users)])
        for build in BUILDS
        for users in options.e2e_users
    ]
    escalation_rows = [
        _escalation_row(build, builds[build.key]["escalations"])
        for build in BUILDS
        if build.escalations
    ]
    notes = [
        f"closed loop: each user sends one of {measured['questions']} evaluation-set "
        "questions the bot answers in one message, waits for the answer, sends the next; "
        f"each level stops after {options.e2e_seconds:g} s or {options.e2e_messages:,} "
        "messages, whichever comes first (questions in flight finish), after one untimed "
        "question per user.",
        "latency = update queued on the fake Bot API server -> the bot's sendMessage stored "
        "there. It includes the long-poll round trip (getUpdates returns as soon as an update "
        "is queued, but one queued while the bot's previous getUpdates is being answered "
        "waits for the next) and the fake server's own work, which runs in the same process "
        "and event loop as the bot.",
        f"{SHIPPED.name} = the shipped settings: telegram.max_messages_per_second 30 and "
        "group_messages_per_minute 20, which AIORateLimiter enforces (private chats have no "
        f"per-chat limit in it), and in a closed loop even 1 user meets that cap. "
        f"{UNLIMITED.name} = the same with both settings 0 (off): the bot's own "
        f"capacity. {DELAYED.name} = that, with every Bot API call reaching the fake "
        f"server {NETWORK_DELAY_S * 1000:g} ms after the bot makes it, as over the internet "
        "to api.telegram.org.",
        "errors = replies lost (none within 30 s) / Bot API calls the fake rejected / "
        "warnings and errors logged.",
        f"escalations: one question per new user ({measured['unanswerable']} evaluation-set "
        f"`escalate` questions the matcher escalates, cycled), {ESCALATION_TASKS} users at a "
        f"time, up to {options.e2e_escalations:,} or {options.e2e_seconds:g} s; stored = "
        "enquiries rows counted afterwards; per s = min(stored, acknowledged) / seconds. No "
        "staff chat is configured, so no announcement is sent.",
    ]
    for where, found in measured["problems"].items():
        notes.append(f"logged under load ({where}): " + "; ".join(found))
    for build in BUILDS:
        for problem in builds[build.key].get("escalations", {}).get("problems", []):
            notes.append(f"logged during escalations ({build.name}): {problem}")
    shipped = builds[SHIPPED.key]
    unlimited = builds[UNLIMITED.key]
    headline = shipped.get(str(HEADLINE_USERS), {})
    headline_off = unlimited.get(str(HEADLINE_USERS), {})
    return SectionResult(
        title="End to end: the real Application polling a loopback Bot API server",
        header=(
            "build",
            "users",
            "answered",
            "seconds",
            "per s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "errors",
        ),
        rows=rows,
        tables=[
            (
                (
                    "escalations",
                    "users",
                    "at once",
                    "stored",
                    "acknowledged",
                    "seconds",
                    "per s",
                    "p50 ms",
                    "p99 ms",
                    "errors",
                ),
                escalation_rows,
            )
        ],
        notes=notes,
        figures={
            "e2e_msgs_per_s": headline.get("per_s"),
            "e2e_p50_ms": headline.get("p50_ms"),
            "e2e_p99_ms": headline.get("p99_ms"),
            "e2e_escalations_per_s": shipped["escalations"]["per_s"],
            "e2e_unlimited_msgs_per_s": headline_off.get("per_s"),
            "e2e_unlimited_p50_ms": headline_off.get("p50_ms"),
            "e2e_unlimited_p99_ms": headline_off.get("p99_ms"),
            "e2e_unlimited_escalations_per_s": unlimited["escalations"]["per_s"],
            "e2e": {
                "headline_users": HEADLINE_USERS,
                "questions": measured["questions"],
                "network_delay_ms": NETWORK_DELAY_S * 1000,
                **builds,
            },
        },
    )
