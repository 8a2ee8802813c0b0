"""Webhook mode: the secret token on every update, updates handled before they are answered,
and the health checks a load balancer asks, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import (
    STAFF_CHAT_ID,
    USER_ID,
    Serving,
    free_port,
    is_escalated,
    open_services,
    settings_for,
    staff_overrides,
)
from fakebotapi import ApiCall, FakeBotApi
from postgres import PostgresServer
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

import handlers.app
from bot import texts
from bot.config import Settings
from bot.service import Services
from bot.storage.database import engine_url
from bot.storage.lock import SPACE
from bot.storage.schema import enquiries
from handlers.app import EXIT_USAGE, ClairApplication, run_telegram, serve
from handlers.limits import SharedRateLimiter

SECRET = "s3cret-Token_1"


def webhook_settings(api: FakeBotApi, tmp_path: Path, port: int, **more: str) -> Settings:
    """Webhook mode with the console's pages off: the updates' own server on `port`."""
    overrides = {
        "CLAIRBOT_WEBHOOK_PORT": str(port),
        "CLAIRBOT_WEBHOOK_URL": "https://bot.example/telegram",
        "CLAIRBOT_WEBHOOK_SECRET_TOKEN": SECRET,
    }
    return settings_for(api, tmp_path, **(staff_overrides() | overrides | more))


def on_postgres(settings: Settings, url: str) -> Settings:
    """`settings` with storage.url the PostgreSQL database `url`."""
    storage = settings.storage.model_copy(update={"url": url, "path": None})
    return settings.model_copy(update={"storage": storage})


def help_update(update_id: int, chat: int = USER_ID) -> dict[str, Any]:
    """A user's /help, as Telegram posts it."""
    update = question_update(update_id, "/help", chat)
    update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
    return update


def question_update(update_id: int, text_: str, chat: int = USER_ID) -> dict[str, Any]:
    """A user's typed message, as Telegram posts it."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat, "type": "private", "first_name": "Ana"},
            "from": {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "en"},
            "text": text_,
        },
    }


@asynccontextmanager
async def webhook_bot(settings: Settings, api: FakeBotApi) -> AsyncIterator[httpx.AsyncClient]:
    """serve --webhook in the background; a client of its server once Telegram was told."""
    services = await open_services(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, webhook=True, services=services))
    running = Serving(services, stop, task)
    try:
        await api.wait_for(lambda: api.calls_to("setWebhook"))
        url = f"http://127.0.0.1:{settings.webhook.port}"
        async with httpx.AsyncClient(base_url=url) as client:
            yield client
        assert await running.stopped() == 0
    finally:
        running.stop.set()
        if not running.task.done():
            await asyncio.wait_for(running.task, 10)
        await services.close()


def test_webhook_mode_refuses_to_start_without_a_secret_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:ABC")
    api = FakeBotApi(token="123:ABC")  # never started: nothing is called
    settings = settings_for(api, tmp_path, CLAIRBOT_WEBHOOK_URL="https://bot.example/t")
    assert run_telegram(settings, webhook=True) == EXIT_USAGE
    out = capsys.readouterr()
    assert "webhook.secret_token is not set" in out.err
    assert len((out.out + out.err).strip().splitlines()) == 1


async def test_serve_refuses_webhook_mode_without_a_secret_token(
    bot_api: FakeBotApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bot_api.token)
    settings = settings_for(bot_api, tmp_path, CLAIRBOT_WEBHOOK_URL="https://bot.example/t")
    assert await serve(settings, asyncio.Event(), webhook=True) == EXIT_USAGE
    assert "webhook.secret_token" in capsys.readouterr().err
    assert bot_api.calls == []


async def test_with_the_console_off_the_updates_server_checks_the_secret_and_answers_health(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    settings = webhook_settings(staff_api, tmp_path, free_port())
    assert not settings.console.enabled
    async with webhook_bot(settings, staff_api) as client:
        [hook] = staff_api.calls_to("setWebhook")
        assert hook.params["secret_token"] == SECRET
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            refused = await client.post("/telegram", json=help_update(1), headers=headers)
            assert refused.status_code == 401
        assert staff_api.calls_to("sendMessage") == []  # nothing of the forged update ran
        live = await client.get("/healthz")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        for path in ("/readyz", "/healthz?ready=1"):
            ready = await client.get(path)
            assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        assert (await client.get("/queue")).status_code == 404  # no console pages
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        taken = await client.post("/telegram", json=help_update(2), headers=headers)
        assert taken.status_code == 200
        # Handled before it was answered: the reply is already at Telegram.
        [reply] = staff_api.calls_to("sendMessage")
        assert reply.params["chat_id"] == USER_ID and "/topics" in reply.params["text"]
        bad = await client.post("/telegram", content=b"[1]", headers=headers)
        assert bad.status_code == 400


@pytest.fixture
def pg_url(
    staff_api: FakeBotApi, monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer
) -> str:
    """A new PostgreSQL database for bots on `staff_api` (whose token is set)."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", staff_api.token)
    return postgres_server.database()


async def test_readiness_fails_while_the_database_does_not_answer(
    staff_api: FakeBotApi, tmp_path: Path, postgres_server: PostgresServer, pg_url: str
) -> None:
    url = pg_url
    name = url.rsplit("/", 1)[1]
    settings = on_postgres(webhook_settings(staff_api, tmp_path, free_port()), url)
    admin = create_async_engine(engine_url(postgres_server.url()), isolation_level="AUTOCOMMIT")
    try:
        async with webhook_bot(settings, staff_api) as client:
            assert (await client.get("/readyz")).status_code == 200
            async with admin.connect() as db:
                await db.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
                await db.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        f" WHERE datname = '{name}'"
                    )
                )
            down = await client.get("/readyz")
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "unavailable" and "database" in body["reason"]
            assert "postgres@" not in down.text and str(postgres_server.port) not in down.text
            assert (await client.get("/healthz")).status_code == 200  # alive all the same
            async with admin.connect() as db:
                await db.execute(text(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
            assert (await client.get("/readyz")).status_code == 200
    finally:
        await admin.dispose()


# ------------------------------------------------------------------------------ replicas
@asynccontextmanager
async def replicas(
    api: FakeBotApi,
    tmp_path: Path,
    url: str,
    monkeypatch: pytest.MonkeyPatch,
    more: dict[str, str],
    count: int = 2,
) -> AsyncIterator[list[Replica]]:
    """`count` bots in webhook mode on the PostgreSQL database `url` (`more`: settings for
    all), each on a port of its own, started one after the other; stopped (each must exit 0)
    on the way out."""
    built: list[ClairApplication] = []
    original = handlers.app.build_application

    def build(settings: Settings, service: Services | None = None) -> ClairApplication:
        built.append(original(settings, service))
        return built[-1]

    monkeypatch.setattr(handlers.app, "build_application", build)
    started: list[Replica] = []
    try:
        for number in range(count):
            folder = tmp_path / f"replica{number}"
            folder.mkdir()
            settings = on_postgres(webhook_settings(api, folder, free_port(), **more), url)
            services = await open_services(settings)
            stop = asyncio.Event()
            task = asyncio.create_task(serve(settings, stop, webhook=True, services=services))
            await api.wait_for(lambda n=number: len(api.calls_to("setWebhook")) > n)  # type: ignore[misc]
            client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.webhook.port}")
            started.append(Replica(Serving(services, stop, task), built[-1], client))
        yield started
        for replica in started:
            if not replica.serving.task.done():
                assert await replica.serving.stopped() == 0
    finally:
        for replica in started:
            replica.serving.stop.set()
            if not replica.serving.task.done():
                await asyncio.wait_for(replica.serving.task, 10)
            await replica.client.aclose()
            await replica.serving.services.close()


@dataclass
class Replica:
    """One bot of several: serve running, its application, a client of its server."""

    serving: Serving
    application: ClairApplication
    client: httpx.AsyncClient

    @property
    def leads(self) -> bool:
        """Whether it runs the periodic jobs."""
        leader = self.application.bot_data.leader
        return leader is not None and leader.held


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> float:  # noqa: ASYNC109
    """Poll `condition` until it holds (AssertionError after `timeout`); seconds it took."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "the condition never held"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def test_the_jobs_run_in_one_replica_and_another_takes_over_when_it_dies(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> None:
    url = pg_url
    admin = create_async_engine(engine_url(url), isolation_level="AUTOCOMMIT")
    poll = {"CLAIRBOT_STORAGE_JOBS_LEADER_POLL_SECONDS": "0.2"}
    try:
        async with replicas(staff_api, tmp_path, url, monkeypatch, poll) as (one, two):
            # Two bots on one database in webhook mode: no "another clair-bot is running".
            assert one.leads and not two.leads
            for replica in (one, two):  # Telegram's limits are kept in the database
                limiter = replica.application.bot.rate_limiter
                assert isinstance(limiter, SharedRateLimiter) and limiter.limits is not None
            # The leader dies: it polls no more, and the server ends its session.
            assert one.application.job_queue is not None
            one.application.job_queue.scheduler.pause()
            async with admin.connect() as db:
                killed = await db.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND classid = :space AND objid = 3"
                    ),
                    {"space": SPACE},
                )
            assert killed == 1
            took = await until(lambda: two.leads)
            assert took < 2.0  # within seconds: one poll
            one.application.job_queue.scheduler.resume()  # it comes back: it finds its lock
            await until(lambda: not one.leads)  # gone, and another holding it
            assert two.leads
            assert await two.serving.stopped() == 0  # stopping lets the lead go at once
            await until(lambda: one.leads)
    finally:
        await admin.dispose()


async def enquiry_count(replica: Replica) -> int:
    """How many enquiries the shared database holds."""
    database = replica.serving.services.storage.database
    return int(await database.scalar(select(func.count()).select_from(enquiries)))


def sent_to(api: FakeBotApi, chat: int) -> list[ApiCall]:
    """The messages sent to `chat`."""
    return [c for c in api.calls_to("sendMessage") if c.params["chat_id"] == chat]


async def post_at_once(pairs: list[tuple[Replica, dict[str, Any]]]) -> list[int]:
    """Post each update to its replica, all at once, as Telegram would; their statuses."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    answers = await asyncio.gather(
        *(
            replica.client.post("/telegram", json=update, headers=headers)
            for replica, update in pairs
        )
    )
    return [answer.status_code for answer in answers]


@pytest.fixture
async def two_replicas(
    staff_api: FakeBotApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_url: str
) -> AsyncIterator[list[Replica]]:
    """Two bots in webhook mode on one new PostgreSQL database."""
    async with replicas(staff_api, tmp_path, pg_url, monkeypatch, {}) as started:
        yield started


async def test_an_update_sent_again_is_handled_once_across_replicas(
    staff_api: FakeBotApi, two_replicas: list[Replica]
) -> None:
    one, two = two_replicas
    update = question_update(7001, "what is the application deadline for lgotp")
    # Telegram's retry reaches the other replica while the first is still handling it.
    assert await post_at_once([(one, update), (two, update)]) == [200, 200]
    assert await post_at_once([(two, update)]) == [200]  # handled before: not again
    assert await enquiry_count(one) == 1
    await staff_api.wait_for(lambda: sent_to(staff_api, STAFF_CHAT_ID))
    await asyncio.sleep(0.3)  # a second copy, if there were one, would go meanwhile
    [acknowledged] = sent_to(staff_api, USER_ID)
    assert is_escalated(html.unescape(acknowledged.params["text"]), 1)
    assert len(sent_to(staff_api, STAFF_CHAT_ID)) == 1  # one announcement


async def test_a_chats_updates_reaching_two_replicas_are_handled_one_at_a_time(
    two_replicas: list[Replica],
) -> None:
    one, two = two_replicas
    first = question_update(7101, "what is the application deadline for lgotp")
    second = question_update(7102, "how much is the monthly allowance for lgotp trainees")
    assert await post_at_once([(one, first), (two, second)]) == [200, 200]
    # Handled side by side, each would find no open enquiry and open one: the second to be
    # handled sees the first's enquiry (and joins it, or asks).
    assert await enquiry_count(one) == 1


async def test_a_button_pressed_on_another_replica_finds_the_question_asked_on_the_first(
    staff_api: FakeBotApi, two_replicas: list[Replica]
) -> None:
    one, two = two_replicas
    assert await post_at_once([(one, question_update(7201, "fax"))]) == [200]
    choices = staff_api.messages(USER_ID)[-1]
    assert choices.text == texts.EN.did_you_mean
    none_of_these = choices.button(texts.EN.none_of_these)  # refers to question 1: "fax"
    # The other replica never saw "fax": it reads the user's recent questions first.
    press = staff_api.button_update(7202, choices, none_of_these, USER_ID)
    assert await post_at_once([(two, press)]) == [200]
    [enquiry] = await one.serving.services.storage.enquiries.for_user(USER_ID)
    assert enquiry.text == "fax" and enquiry.reason == "none of the suggestions"
    await until(lambda: "#1" in staff_api.messages(USER_ID)[-1].text)
    # Pressed again on the first, which still holds its own copy from before: sent once.
    again = staff_api.button_update(7203, choices, none_of_these, USER_ID)
    assert await post_at_once([(one, again)]) == [200]
    already = texts.EN.already_forwarded.format(ref=enquiry.ref)
    await until(lambda: staff_api.messages(USER_ID)[-1].text == already)
    assert await enquiry_count(one) == 1
