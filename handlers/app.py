"""The Telegram application factory and runner: what `clair-bot run` starts.

`build_application` wires settings, the typed shared state and the handlers; start-up
(open the service, start the outbox worker and the periodic jobs, register the command
menu) and shutdown (in reverse) hang off post_init and post_shutdown. `run_telegram` is
what `clair-bot run` calls; `serve` is its runner: the database's lock, start-up that
waits for the network, a stop on SIGTERM that takes seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    ExtBot,
    JobQueue,
)
from telegram.request import HTTPXRequest

from bot import inbound, stafftexts, texts
from bot.config import TOKEN_VARIABLE, Settings, TelegramSettings
from bot.knowledge import KnowledgeError, check_knowledge
from bot.language import JAPANESE
from bot.savedreplies import SavedRepliesError, check_saved_replies
from bot.service import Services
from bot.storage.database import StorageUnavailable
from bot.storage.lock import AlreadyRunning, InstanceLock, ServerLock
from bot.storage.replicas import SharedLimits
from handlers import console, delivery
from handlers import webhook as webhooks
from handlers.limits import SharedRateLimiter
from handlers.registry import register
from handlers.state import CONTEXT_TYPES, BotData, Context, UserData

# Opt in to python-telegram-bot's coming behaviour: RetryAfter.retry_after as a timedelta.
# Without it every 429 logs a deprecation warning; handlers.delivery reads either form.
os.environ.setdefault("PTB_TIMEDELTA", "1")

logger = logging.getLogger(__name__)

ClairApplication: TypeAlias = Application[
    ExtBot[Any], Context, UserData, dict[Any, Any], BotData, JobQueue[Any]
]

# python-telegram-bot's own pool size for the bot's requests (getUpdates has a client of its own).
REQUEST_POOL = 256
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

# python-telegram-bot's own bound on updates in progress; PerChatUpdates applies the real one.
_UNBOUNDED = 1_000_000

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
CONNECT_FIRST_RETRY_S = 1.0
CONNECT_MAX_RETRY_S = 60.0
TOKEN_REJECTED = (
    f"Telegram rejected the bot token in {TOKEN_VARIABLE} (401 Unauthorized): copy the "
    "current token from @BotFather (/mybots, API Token) into it and start again"
)


class PerChatUpdates(BaseUpdateProcessor):
    """Updates from different chats in parallel, one chat's updates one at a time, in order.

    One at a time overall, a bot waits for each reply's round trip to Telegram before it
    reads the next update; in parallel per chat, a user's second message could overtake
    their first (and open a second enquiry instead of joining the first).

    An update waits for its chat's turn before it takes one of the `max_concurrent_updates`
    slots, so a chat that sends a burst queues behind its own lock holding no slot, and
    cannot hold up every other chat. python-telegram-bot takes its own semaphore before
    `do_process_update` (in a final method), so that one is given no real bound and the
    slots are counted here instead.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be at least 1")
        self._slots_total = _UNBOUNDED  # what the base class checks and sizes its semaphore by
        super().__init__(_UNBOUNDED)
        self._slots_total = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    @property
    def max_concurrent_updates(self) -> int:
        """How many updates run at once (python-telegram-bot reads this)."""
        return self._slots_total

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's earlier updates, then for a slot, then run this one."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._waiting[chat.id] = self._waiting.get(chat.id, 0) + 1
        try:
            async with lock, self._slots:  # asyncio.Lock is first come, first served
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:  # keep no lock for chats that went quiet
                del self._waiting[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


class InboundRequest(HTTPXRequest):
    """python-telegram-bot's HTTP client, with lone surrogates replaced in every response.

    JSON may carry a lone UTF-16 surrogate (``"\\ud800"``); in a message text it would
    raise UnicodeEncodeError wherever the text is stored, encoded or sent back. Only a
    ``\\uD800``-``\\uDFFF`` escape can produce one, so other responses are not walked.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """Telegram's JSON, decoded as python-telegram-bot does, then cleaned."""
        data = HTTPXRequest.parse_json_payload(payload)
        return inbound.clean(data) if _SURROGATE_ESCAPE.search(payload) else data


def rate_limiter(telegram: TelegramSettings) -> AIORateLimiter:
    """Telegram's limits from the settings; python-telegram-bot's limiter takes 0 as "off"."""
    return AIORateLimiter(
        overall_max_rate=telegram.max_messages_per_second,
        overall_time_period=1,
        group_max_rate=telegram.group_messages_per_minute,
        group_time_period=60,
    )


def build_application(settings: Settings, service: Services | None = None) -> ClairApplication:
    """The bot, ready to run; post_init opens a Service from `settings` unless one is given.

    A service passed in belongs to the caller, who closes it; one opened here is closed in
    post_shutdown.
    """
    token = settings.token
    if token is None:
        raise ValueError(f"{TOKEN_VARIABLE} is not set")
    application: ClairApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .request(InboundRequest(connection_pool_size=REQUEST_POOL))
        .get_updates_request(InboundRequest(connection_pool_size=1))
        .rate_limiter(SharedRateLimiter(rate_limiter(settings.telegram), settings.telegram))
        .concurrent_updates(PerChatUpdates(settings.telegram.concurrent_updates))
        .context_types(CONTEXT_TYPES)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data.settings = settings
    application.bot_data.service = service
    register(application)
    return application


async def _post_init(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Open the service (knowledge base, store), start delivery, register the command menu."""
    data = application.bot_data
    if data.service is None:
        if data.settings is None:
            raise RuntimeError("build_application did not store the settings")
        data.service = await Services.open(data.settings)
        data.owns_service = True
    kb = data.service.kb
    logger.info("knowledge base loaded: %d entries", len(kb.entries))
    database = data.service.storage.database
    limiter = application.bot.rate_limiter
    if isinstance(limiter, SharedRateLimiter) and database.dialect == "postgresql":
        limiter.limits = SharedLimits(database)  # Telegram's limits for all replicas together
    await delivery.start(application)
    # The menu in English for everyone, in Japanese for clients set to Japanese.
    for language, menu in ((None, texts.EN.commands), (JAPANESE, texts.JA.commands)):
        commands = [BotCommand(name, description) for name, description in menu]
        try:
            await application.bot.set_my_commands(commands, language_code=language)
        except TelegramError as exc:  # the menu is cosmetic: the bot works without it
            logger.warning("could not register the command menu: %s", exc)
    # In the staff chat, staff's own commands, in staff.language.
    if staff_chat := data.service.settings.staff.chat_id:
        words = stafftexts.get(data.service.settings.staff.language)
        staff_menu = [BotCommand(name, description) for name, description in words.commands]
        try:
            await application.bot.set_my_commands(
                staff_menu, scope=BotCommandScopeChat(staff_chat)
            )
        except TelegramError as exc:
            logger.warning("could not register the staff chat's command menu: %s", exc)
    await console.start(application)  # the staff console, when console.enabled


async def _post_stop(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """run_polling calls this while the bot can still send: the message in hand goes out."""
    await delivery.stop(application)


async def _post_shutdown(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Stop delivery, then close the service if post_init opened it."""
    data = application.bot_data
    await console.stop(application)  # it acts on the services: before they close
    if data.turns is not None:  # the chats' locks, once no update is being handled
        await data.turns.close()
        data.turns = None
    await delivery.stop(application)  # before the store it writes to closes
    if data.service is not None and data.owns_service:
        await data.service.close()
        data.service = None
        data.owns_service = False


@asynccontextmanager
async def polling(application: ClairApplication) -> AsyncIterator[ClairApplication]:
    """Long-poll inside an event loop the caller owns (tests, benchmarks): what run_polling
    does, without taking over the loop and the signals. post_init and post_shutdown are
    called by hand, as python-telegram-bot documents for that case."""
    assert application.post_init is not None and application.post_shutdown is not None
    try:
        async with application:
            await application.post_init(application)
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
            )
            try:
                yield application
            finally:
                await application.updater.stop()
                await application.stop()
    finally:
        await application.post_shutdown(application)


def run_telegram(settings: Settings, webhook: bool = False, once: bool = False) -> int:
    """Run the bot until SIGTERM or SIGINT: long polling, or a webhook server.

    Returns an exit code; every failure at start-up is one line on stderr. With `once` (or
    telegram.wait_for_network off) an unreachable Bot API ends the run instead of being
    waited for.
    """
    if webhook and (problem := webhooks.missing_setting(settings)):
        print(f"clair-bot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    report = check_knowledge(settings.knowledge.path)  # fail before touching the network
    if report.kb is None:
        _print_problems(KnowledgeError(report.errors))
        return EXIT_FAILED
    replies, problems = check_saved_replies(settings.staff.saved_replies)
    if replies is None:
        _print_problems(SavedRepliesError(problems))
        return EXIT_FAILED
    if settings.token is None:
        print(f"clair-bot: {TOKEN_VARIABLE} is not set", file=sys.stderr)
        return EXIT_USAGE
    wait = settings.telegram.wait_for_network and not once
    return asyncio.run(_main(settings, webhook, wait))


async def _main(settings: Settings, webhook: bool, wait_for_network: bool) -> int:
    """`serve` with SIGTERM and SIGINT as its stop signals."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        return await serve(settings, stop, webhook=webhook, wait_for_network=wait_for_network)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    webhook: bool = False,
    wait_for_network: bool = True,
    services: Services | None = None,
) -> int:
    """Take the database's lock, open the services, reach Telegram, run until `stop` is set.

    Services passed in belong to the caller (tests share a matcher); otherwise they are
    opened here and closed on the way out. Returns an exit code.
    """
    quiet_library_logs()
    if webhook and (problem := webhooks.missing_setting(settings)):
        print(f"clair-bot: {problem}", file=sys.stderr)
        return EXIT_USAGE
    lock = InstanceLock(settings.storage.path) if settings.storage.path else None
    try:
        if lock is not None:
            lock.acquire()
    except (AlreadyRunning, StorageUnavailable) as exc:
        print(f"clair-bot: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        owned = services is None
        try:
            services = services or await Services.open(settings)
        except StorageUnavailable as exc:
            print(f"clair-bot: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except (KnowledgeError, SavedRepliesError) as exc:  # changed since run_telegram's check
            _print_problems(exc)
            return EXIT_FAILED
        # PostgreSQL: one bot per database when it long-polls (Telegram allows one getUpdates);
        # in webhook mode any number of replicas share it (bot.storage.replicas).
        replicas = webhook and lock is None
        server_lock = (
            None if lock is not None or replicas else ServerLock(services.storage.database)
        )
        try:
            if server_lock is not None:  # PostgreSQL: the server holds the lock
                try:
                    await server_lock.acquire()
                except (AlreadyRunning, StorageUnavailable) as exc:
                    print(f"clair-bot: {exc}", file=sys.stderr)
                    return EXIT_FAILED
            application = build_application(settings, services)
            return await _run(application, settings, stop, webhook, wait_for_network)
        except StorageUnavailable as exc:  # a write at start-up: the outbox's recovery
            print(f"clair-bot: {exc}", file=sys.stderr)
            return EXIT_FAILED
        finally:
            if server_lock is not None:
                await server_lock.release()
            if owned:
                await services.close()
    finally:
        if lock is not None:
            lock.release()


def quiet_library_logs() -> None:
    """python-telegram-bot's rate limiter logs every 429 with a traceback (the outbox and the
    error handler report it in one line each), and APScheduler its every job at INFO."""
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def _run(
    application: ClairApplication,
    settings: Settings,
    stop: asyncio.Event,
    webhook: bool,
    wait_for_network: bool,
) -> int:
    """Start, run until `stop`, and stop in the order that loses nothing."""
    connected = await _connect(application, settings, stop, wait_for_network)
    if connected is not None:
        return connected
    try:
        assert application.post_init is not None and application.updater is not None
        if webhook:  # the bot's own server takes the updates: before post_init starts it
            webhooks.take_updates(application)
        await application.post_init(application)
        await application.start()
        if webhook:
            try:
                await webhooks.set_webhook(application)
            except webhooks.NoWebhookServer as exc:
                print(f"clair-bot: {exc}", file=sys.stderr)
                return EXIT_FAILED
        else:
            await application.updater.start_polling(
                poll_interval=0,
                timeout=settings.telegram.poll_timeout,
                allowed_updates=Update.ALL_TYPES,
                bootstrap_retries=-1,
                error_callback=_polling_error,
            )
        logger.info("running as @%s", application.bot.username)
        await stop.wait()
        logger.info("stopping: no new updates; finishing the ones in hand")
    finally:
        await _stop(application)
    logger.info("stopped")
    return EXIT_OK


async def _connect(
    application: ClairApplication, settings: Settings, stop: asyncio.Event, wait: bool
) -> int | None:
    """Reach the Bot API (getMe); None once connected, else the exit code.

    An unreachable server is tried again with backoff, one log line per attempt, until it
    answers or `stop` is set; without `wait` the first failure ends the run. A rejected
    token ends it at once, with one line saying what to do.
    """
    delay, attempt = CONNECT_FIRST_RETRY_S, 0
    while True:
        attempt += 1
        try:
            await application.initialize()
            return None
        except InvalidToken:
            print(f"clair-bot: {TOKEN_REJECTED}", file=sys.stderr)
            return EXIT_FAILED
        except (NetworkError, RetryAfter) as exc:
            reason = exc.message or type(exc).__name__
            if isinstance(exc, RetryAfter):
                delay = max(delay, delivery.retry_after_seconds(exc))
            if not wait:
                where = settings.telegram.base_url
                print(f"clair-bot: cannot reach the Bot API ({where}): {reason}", file=sys.stderr)
                return EXIT_FAILED
            logger.warning(
                "cannot reach the Bot API (attempt %d): %s; trying again in %g s",
                attempt,
                reason,
                delay,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            return EXIT_OK
        delay = min(delay * 2, CONNECT_MAX_RETRY_S)


def _polling_error(error: TelegramError) -> None:
    """One line per failed getUpdates (python-telegram-bot backs off between them)."""
    if isinstance(error, Conflict):
        logger.warning(
            "another bot is polling with this token (409 Conflict); waiting before trying again"
        )
    else:
        logger.warning("cannot fetch updates: %s; trying again", error.message)


async def _stop(application: ClairApplication) -> None:
    """Stop fetching, let the handlers in progress finish, send the message in hand, close."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        await _post_stop(application)
    await _post_shutdown(application)
    await application.shutdown()


def _print_problems(error: KnowledgeError | SavedRepliesError) -> None:
    print(f"clair-bot: {error}", file=sys.stderr)
