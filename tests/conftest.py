"""Shared fixtures: the real clair-bot Application polling a FakeBotApi on 127.0.0.1."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fakebotapi import ApiCall, FakeBotApi, SentMessage
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from postgres import PostgresServer, unavailable

from bot import texts
from bot.config import Settings, load_settings
from bot.decision import MatcherSettings
from bot.knowledge import load_knowledge
from bot.matcher import Matcher
from bot.outbox import Backoff, OutboxWorker, Sender
from bot.savedreplies import load_saved_replies
from bot.service import Services
from bot.storage import Storage
from bot.storage.database import now
from bot.storage.outbox import OutboxStore
from handlers.app import ClairApplication, build_application, polling, serve

# The tests speak plain HTTP to 127.0.0.1 only. Otherwise every Bot API client httpx
# builds loads a whole CA bundle (certifi's, or SSL_CERT_FILE's) into a fresh SSL context:
# 50 ms of CPU each, a sixth of the suite's time. A certificate directory (here an empty
# one) is read lazily, only when a TLS connection needs it, and none does.
os.environ.pop("SSL_CERT_FILE", None)
os.environ["SSL_CERT_DIR"] = tempfile.mkdtemp(prefix="clair-bot-no-certs-")

# Property tests (test_properties.py): fifty examples each in `make test` (it stays near 30 s
# on two cores), 10,000 in `make chaos` (HYPOTHESIS_PROFILE=chaos). One bot serves every
# example of a test, and an example may wait on the network: neither is a health problem here.
_PROPERTY_CHECKS = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)
hypothesis_settings.register_profile("ci", max_examples=50, **_PROPERTY_CHECKS)  # type: ignore[arg-type]
hypothesis_settings.register_profile("chaos", max_examples=10_000, **_PROPERTY_CHECKS)  # type: ignore[arg-type]
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

TOKEN = "123456:TEST-token"
#: A small copy of some of knowledge/, so that editing the content cannot break these tests
#: (and a small knowledge base is quick to load for every test).
FIXTURE_KNOWLEDGE = Path(__file__).resolve().parent / "fixtures" / "knowledge"
#: The tests' own saved replies, for the same reason.
FIXTURE_REPLIES = Path(__file__).resolve().parent / "fixtures" / "saved-replies.yaml"
USER_ID = 42


def config_file(
    tmp_path: Path,
    knowledge: Path = FIXTURE_KNOWLEDGE,
    saved_replies: Path = FIXTURE_REPLIES,
    staff: str = "",
    more: str = "",
) -> Path:
    """A config.yaml in `tmp_path` for the command line: the knowledge base, a database of
    the test's own and the saved replies; `staff` adds lines to the staff section (such as
    "language: en"), `more` adds whole sections."""
    path = tmp_path / "config.yaml"
    staff_lines = "".join(f"  {line}\n" for line in staff.splitlines())
    path.write_text(
        f"knowledge:\n  path: {knowledge}\nstorage:\n  path: {tmp_path / 'db.sqlite3'}\n"
        f"staff:\n  saved_replies: {saved_replies}\n{staff_lines}{more}"
    )
    return path


def is_escalated(text: str, ref: int, language: str = "en") -> bool:
    """Whether `text` is the acknowledgement of enquiry #ref (its reply time aside)."""
    template = texts.get(language).escalated
    before, after = template.split("{when}")
    return text.startswith(before.format(ref=ref)) and text.endswith(after)


def settings_for(api: FakeBotApi, tmp_path: Path, **overrides: str) -> Settings:
    """Project settings, with the Bot API, the database and the knowledge base pointed at
    test resources.

    `overrides` are more environment overrides, e.g. ``CLAIRBOT_LIMITS_ENQUIRIES_PER_DAY``.
    """
    environ = {
        "CLAIRBOT_TELEGRAM_BASE_URL": api.base_url,
        "CLAIRBOT_TELEGRAM_BASE_FILE_URL": api.base_file_url,
        "CLAIRBOT_TELEGRAM_POLL_TIMEOUT": "1",
        "CLAIRBOT_STORAGE_PATH": str(tmp_path / "clair-bot.sqlite3"),
        "CLAIRBOT_KNOWLEDGE_PATH": str(FIXTURE_KNOWLEDGE),
        # Follow-ups go at once unless a test sets a window (they still join queued ones).
        "CLAIRBOT_STAFF_FOLLOW_UP_WINDOW_SECONDS": "0",
        "CLAIRBOT_STAFF_SAVED_REPLIES": str(FIXTURE_REPLIES),
        # The console has its own tests (test_console*.py), which turn it on, on a free port.
        "CLAIRBOT_CONSOLE_ENABLED": "false",
    }
    return load_settings(environ=environ | overrides)


@dataclass
class Harness:
    """The running bot and the fake server it talks to, with helpers for conversations."""

    api: FakeBotApi
    application: ClairApplication
    settings: Settings
    user_id: int = USER_ID
    #: Bot API methods a test makes fail on purpose (their failures are not reported).
    expected_failures: set[str] = field(default_factory=set)

    @property
    def service(self) -> Services:
        """The service post_init opened."""
        return self.application.bot_data.core

    async def say(self, text: str) -> SentMessage:
        """Send `text` from the test user and return the bot's next message to them."""
        self.api.send_message(text, user=self.user_id)
        return await self.api.next_message(self.user_id)

    def failed_calls(self) -> list[ApiCall]:
        """API calls the fake rejected, apart from the expected ones."""
        return [
            call
            for call in self.api.calls
            if call.status != 200 and call.method not in self.expected_failures
        ]


@pytest.fixture
async def bot_api() -> AsyncIterator[FakeBotApi]:
    """A running fake Bot API server with the test user registered."""
    async with FakeBotApi(token=TOKEN, max_poll_timeout=0.5) as api:
        api.user(USER_ID, "Ana <Test>", username="ana", language_code="en")
        yield api


@asynccontextmanager
async def running_bot(api: FakeBotApi, tmp_path: Path, **overrides: str) -> AsyncIterator[Harness]:
    """The real Application from build_application, long-polling `api`.

    The services are opened here and handed to build_application: on the fixture knowledge
    base, its matcher is built once per run rather than once per test. post_init and
    post_shutdown are called by hand, as PTB documents for applications that are not
    started with run_polling. On exit, no Bot API call may have failed unexpectedly (the
    fake rejects bad HTML and overlong messages, so this checks escaping and splitting).
    TELEGRAM_BOT_TOKEN must be set to ``api.token``.
    """
    async with running_bot_at(api, tmp_path, now, overrides) as harness:
        yield harness


@asynccontextmanager
async def running_bot_at(
    api: FakeBotApi, tmp_path: Path, clock: Callable[[], datetime], overrides: dict[str, str]
) -> AsyncIterator[Harness]:
    """`running_bot` with `clock` as the store's clock."""
    settings = settings_for(api, tmp_path, **overrides)
    services = await open_services(settings, clock)
    application = build_application(settings, services)
    harness = Harness(api, application, settings)
    try:
        async with polling(application):
            yield harness
    finally:
        await services.close()
    assert harness.failed_calls() == []


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server started later)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Serving:
    """`handlers.app.serve` running in the background, as `clair-bot run` runs it."""

    services: Services
    stop: asyncio.Event
    task: asyncio.Task[int]

    async def stopped(self, timeout: float = 10) -> int:  # noqa: ASYNC109
        """Set the stop event (what SIGTERM does) and return serve's exit code."""
        self.stop.set()
        return await asyncio.wait_for(self.task, timeout)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Serving]:
    """Run serve on fresh services; on the way out stop it (it must exit 0) and close them."""
    services = await open_services(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, services=services))
    running = Serving(services, stop, task)
    try:
        yield running
        if not task.done():
            assert await running.stopped() == 0
    finally:
        stop.set()
        if not task.done():
            await asyncio.wait_for(task, 10)
        await services.close()


@functools.cache
def fixture_matcher(settings: MatcherSettings) -> Matcher:
    """The fixture knowledge base's matcher, built once per test run (it is immutable)."""
    return Matcher(load_knowledge(FIXTURE_KNOWLEDGE), settings)


async def open_services(settings: Settings, clock: Callable[[], datetime] = now) -> Services:
    """Services on a fresh database; on the fixture knowledge base, with its shared matcher."""
    if settings.knowledge.path.resolve() != FIXTURE_KNOWLEDGE:
        return await Services.open(settings, clock)
    matcher = fixture_matcher(settings.matcher)
    storage = await Storage.open(settings.storage.url, clock)
    return Services(settings, matcher.kb, storage, matcher, load_saved_replies(FIXTURE_REPLIES))


@pytest.fixture
async def clair(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Harness]:
    """The bot running against the fake server, talking to the test user; everything real
    and fresh per test (application, service, knowledge base, database)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    async with running_bot(bot_api, tmp_path) as harness:
        yield harness


class Clock:
    """The store's clock: real time plus an offset a test moves (past an automatic close, a
    sign-in link's expiry)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


# ------------------------------------------------------------------ delivery without waits
class FastClock:
    """The store's clock: real time, plus the waits the test skipped (see `skip_waits`)."""

    def __init__(self) -> None:
        self.skipped = timedelta()
        self.jumps: list[float] = []  # each skipped wait, in seconds

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


async def skip_waits(outbox: OutboxStore, clock: FastClock) -> None:
    """Whenever the next outbox retry lies in the future, move the clock there and wake the
    worker: a 429's retry_after of 1 s costs the test no real second."""
    while True:
        # A poll: the worker's waits are on the store's clock, which nothing else moves.
        await asyncio.sleep(0.01)
        upcoming = await outbox.next_attempt_at()
        if upcoming is not None and (gap := upcoming - clock()) > timedelta():
            clock.skipped += gap
            clock.jumps.append(gap.total_seconds())
            outbox.changed.set()


# ---------------------------------------------------------------------------- staff side
STAFF_CHAT_ID = -1009876543
STAFF_USER_ID = 500


def staff_overrides(forum: bool = False, language: str = "en") -> dict[str, str]:
    """Environment overrides that make STAFF_CHAT_ID the staff chat and STAFF_USER_ID staff,
    speaking `language` (the tests read English unless they test Japanese, the default)."""
    return {
        "CLAIRBOT_STAFF_CHAT_ID": str(STAFF_CHAT_ID),
        "CLAIRBOT_STAFF_USER_IDS": str(STAFF_USER_ID),
        "CLAIRBOT_STAFF_FORUM_TOPICS": "true" if forum else "false",
        "CLAIRBOT_STAFF_LANGUAGE": language,
    }


@pytest.fixture
def staff_api(bot_api: FakeBotApi) -> FakeBotApi:
    """The fake server with the staff group and one staff member registered."""
    bot_api.group(STAFF_CHAT_ID, "CLAIR staff")
    bot_api.user(STAFF_USER_ID, "Kenji", username="kenji")
    return bot_api


@pytest.fixture
async def staff_bot(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    """The bot running with a staff chat and one staff member (see staff_overrides)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    async with running_bot(staff_api, tmp_path, **staff_overrides()) as harness:
        yield harness


async def recorded(bot: Harness, ref: int) -> None:
    """Wait until the worker has recorded the announcement's id (just after Telegram's reply).

    Staff cannot answer faster than that in real life; a test can, so it waits.
    """

    async def poll() -> None:
        # A poll with a deadline: the store has no event for outbox writes.
        while (enquiry := await bot.service.storage.enquiries.get(ref)) is None or (  # noqa: ASYNC110
            enquiry.staff_message_id is None
        ):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout=5)


async def in_thread_of(bot: Harness, chat_id: int, message_id: int) -> None:
    """Wait until the worker has recorded a delivered message as part of an enquiry's thread."""

    async def poll() -> None:
        enquiries = bot.service.storage.enquiries
        while await enquiries.ref_for_message(chat_id, message_id) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout=5)


async def staff_command(bot: Harness, text: str, chat: int = STAFF_USER_ID) -> SentMessage:
    """A staff member sends a command (in their private chat by default); return the reply."""
    bot.api.send_message(text, user=STAFF_USER_ID, chat=chat)
    return await bot.api.next_message(chat)


async def answers(bot: Harness, query_id: str) -> str | None:
    [answer] = await bot.api.wait_for(
        lambda: [a for a in bot.api.callback_answers if a.callback_query_id == query_id]
    )
    return answer.text


def fast_worker(service: Services, sender: Sender, idle_s: float = 0.5) -> OutboxWorker:
    """An outbox worker that retries after 50 ms (200 ms at most), for delivery tests."""
    return OutboxWorker(
        service.storage.outbox,
        sender,
        Backoff(base_s=0.05, cap_s=0.2),
        on_failure=service.notices.failure_notice,
        idle_s=idle_s,
    )


# ------------------------------------------------------------------ the two storage engines
@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server per test worker, started when a test first needs it."""
    why = unavailable()
    if why is not None:
        pytest.skip(f"PostgreSQL: {why}")
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """A new, empty database on each engine: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "db.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.database()


# --------------------------------------------------------------------------- the console
def console_overrides(tmp_path: Path, **more: str) -> dict[str, str]:
    """The staff setup with the console on (a free port) and a copy of the fixture knowledge
    base of the test's own, which the console may change."""
    knowledge = tmp_path / "knowledge"
    if not knowledge.exists():
        shutil.copytree(FIXTURE_KNOWLEDGE, knowledge)
    return (
        staff_overrides()
        | {
            "CLAIRBOT_CONSOLE_ENABLED": "true",
            "CLAIRBOT_CONSOLE_PORT": "0",
            "CLAIRBOT_KNOWLEDGE_PATH": str(knowledge),
        }
        | more
    )


def console_url(bot: Harness) -> str:
    """Where the running bot's console listens."""
    server = bot.application.bot_data.console
    assert server is not None, "the console did not start"
    return server.url


async def sign_in_link(bot: Harness) -> str:
    """A staff member sends /console in their private chat; return the link it gives."""
    reply = await staff_command(bot, "/console")
    [link] = [word for word in reply.text.split() if "/signin/" in word]
    return link
